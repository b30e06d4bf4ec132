/**
 * Where scenarios come from: the built-in catalog of `@foliosim/scenarios` (its
 * `CATALOG`) and user files (YAML/JSON, such as the annotated `examples/`). Also turns (scenario, kernel, parameters) into the
 * `ExploreTarget` the explorer runs, with ids that worker loaders can resolve again.
 */

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ExploreTarget } from "@foliosim/explore";
import { CATALOG, scenarioTarget, suggest, type ParamValues, type ResolvedKernel, type Scenario } from "@foliosim/scenarios";
import { UsageError } from "./errors.js";
import { parseKernelSpec } from "./kernel-spec.js";
import { loadScenarioFile, looksLikeFile, type LoadedScenario } from "./scenario-files.js";

/** The app's examples directory (next to src/ and dist/). */
export const EXAMPLES_DIR = fileURLToPath(new URL("../examples/", import.meta.url));

/** Environment variable naming user scenario files (path-delimited) for worker loaders. */
export const FILES_ENV = "FOLIOSIM_SCENARIO_FILES";

export interface CatalogEntry {
  scenario: Scenario;
  /** "catalog", "example" or the file it came from. */
  origin: string;
  /** Kernels the entry names (files' `kernels:`). */
  kernels: string[];
}

let cached: CatalogEntry[] | undefined;

/** Example files in examples/, sorted by name. */
export function exampleFiles(): string[] {
  try {
    return readdirSync(EXAMPLES_DIR)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .map((f) => EXAMPLES_DIR + f);
  } catch {
    return [];
  }
}

/** The built-in scenarios: the catalog of @foliosim/scenarios. */
export function builtinCatalog(): CatalogEntry[] {
  cached ??= CATALOG.map((scenario) => ({ scenario, origin: "catalog", kernels: [] }));
  return cached;
}

/** A scenario by catalog id or file path; user files are loaded and checked. */
export function resolveScenario(arg: string): CatalogEntry {
  if (looksLikeFile(arg)) {
    const loaded: LoadedScenario = loadScenarioFile(arg);
    return { scenario: loaded.scenario, origin: arg, kernels: loaded.kernels };
  }
  const all = builtinCatalog();
  const entry = all.find((e) => e.scenario.id === arg);
  if (!entry) {
    const ids = all.map((e) => e.scenario.id);
    throw new UsageError(`unknown scenario "${arg}"${suggest(arg, ids)}; scenarios: ${ids.join(", ") || "(none)"} (or give a .yaml/.json file)`);
  }
  return entry;
}

/** `--set key=value` items → parameter values (strings; the runner coerces them). */
export function parseSets(items: readonly string[]): ParamValues {
  const out: ParamValues = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set expects key=value, found "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** The scenario id a target carries: the id, plus `[k=v,…]` when parameters were set. */
export function targetScenarioId(id: string, params: ParamValues): string {
  const keys = Object.keys(params).sort();
  return keys.length === 0 ? id : `${id}[${keys.map((k) => `${k}=${String(params[k])}`).join(",")}]`;
}

/** Split a target scenario id back into the id and its parameters. */
export function splitScenarioId(targetId: string): { id: string; params: ParamValues } {
  const m = /^([^[]+)\[(.*)\]$/.exec(targetId);
  if (!m) return { id: targetId, params: {} };
  const params: ParamValues = {};
  for (const kv of m[2].split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    params[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { id: m[1], params };
}

/** The explorer's target for a scenario on a kernel. */
export function targetFor(scenario: Scenario, kernel: ResolvedKernel | string, params: ParamValues = {}): ExploreTarget {
  const resolved = typeof kernel === "string" ? parseKernelSpec(kernel) : kernel;
  const t = scenarioTarget(scenario, resolved, params) as ReturnType<typeof scenarioTarget> & { scenarioId?: string; kernelId?: string };
  const target: ExploreTarget = {
    scenarioId: t.scenarioId ?? targetScenarioId(scenario.id, params),
    kernelId: t.kernelId ?? t.kernel,
    program: t.program,
    config: t.config,
    check: (r) => t.check(r),
    metrics: (r) => t.metrics(r),
  };
  return target;
}

/** Scenarios a worker can resolve: the catalog plus the user files named in FILES_ENV. */
export function workerScenario(id: string): Scenario {
  const builtin = builtinCatalog().find((e) => e.scenario.id === id);
  if (builtin) return builtin.scenario;
  for (const file of (process.env[FILES_ENV] ?? "").split(":").filter(Boolean)) {
    const loaded = loadScenarioFile(file);
    if (loaded.scenario.id === id) return loaded.scenario;
  }
  throw new UsageError(`unknown scenario "${id}"`);
}
