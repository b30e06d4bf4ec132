import { callReference, HEADLINE_SCENARIOS, KERNEL_PRESETS, type CallReference } from "@foliosim/scenarios";
import { builtinCatalog } from "../catalog.js";
import { SCHEMA_VERSION } from "../report.js";

export interface ListReport {
  schemaVersion: typeof SCHEMA_VERSION;
  /** `headline`: compared by `compare --all` (a seed race's concurrent form replaces it there). */
  scenarios: { id: string; title: string; source: string; promise: string; description: string; origin: string; headline: boolean }[];
  kernels: { id: string; base: string; variants: Record<string, string>; source: string; headline: boolean }[];
  /** With --calls: the call vocabulary of scenario scripts, with arguments and results (generated from the schema). */
  calls?: CallReference[];
}

/** `foliosim list`: the scenarios and kernels (and, with `calls`, the script calls). */
export function listCommand(options: { calls?: boolean } = {}): ListReport {
  const headline = new Set(HEADLINE_SCENARIOS.map((s) => s.id));
  const report: ListReport = {
    schemaVersion: SCHEMA_VERSION,
    scenarios: builtinCatalog().map(({ scenario: s, origin }) => ({
      id: s.id,
      title: s.title,
      source: s.source.reference ?? (s.source.seeds.join("; ") || s.source.note || "—"),
      promise: s.promise.summary,
      description: s.description,
      origin,
      headline: headline.has(s.id),
    })),
    kernels: KERNEL_PRESETS.map((k) => ({ id: k.id, base: k.base, variants: { ...k.variants } as Record<string, string>, source: k.source, headline: k.headline === true })),
  };
  if (options.calls) report.calls = callReference();
  return report;
}
