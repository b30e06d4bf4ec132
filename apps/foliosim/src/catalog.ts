/**
 * Where scenarios come from: the built-in catalog of `@foliosim/scenarios` (its
 * `CATALOG`) and user files (YAML/JSON, such as the annotated `examples/`). Also turns (scenario, kernel, parameters) into the
 * `ExploreTarget` the explorer runs, with ids that worker loaders can resolve again.
 */

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ExploreTarget } from "@foliosim/explore";
import { CATALOG, HEADLINE_SCENARIOS, scenarioTarget, suggest, type ParamValues, type ResolvedKernel, type Scenario } from "@foliosim/scenarios";
import { UsageError } from "./errors.js";
import { parseKernelSpec } from "./kernel-spec.js";
import { loadScenarioFile, looksLikeFile, type LoadedScenario } from "./scenario-files.js";

/** The app's examples directory (next to src/ and dist/). */
export const EXAMPLES_DIR = fileURLToPath(new URL("../examples/", import.meta.url));

/** Environment variable naming user scenario files (a JSON array of paths) for worker loaders. */
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

/** The headline scenarios (`compare --all`, the main job): each seed race's concurrent form where it has one. */
export function headlineCatalog(): CatalogEntry[] {
  const byId = new Map(builtinCatalog().map((e) => [e.scenario.id, e]));
  return HEADLINE_SCENARIOS.map((s) => byId.get(s.id)!);
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

/**
 * Files are identified by their path: a file whose id is a catalog id, or two files
 * with one id, would silently share a row and a token hash, so the clash is an error.
 */
export function checkFileIds(entries: readonly CatalogEntry[]): void {
  const catalogIds = new Set(builtinCatalog().map((e) => e.scenario.id));
  const byId = new Map<string, string>();
  for (const entry of entries) {
    if (entry.origin === "catalog") continue;
    const id = entry.scenario.id;
    if (catalogIds.has(id)) throw new UsageError(`${entry.origin}: scenario id "${id}" is also a catalog scenario's id; give the file its own id`);
    const other = byId.get(id);
    if (other !== undefined && other !== entry.origin) throw new UsageError(`${entry.origin} and ${other} both declare scenario id "${id}"; give each file its own id`);
    byId.set(id, entry.origin);
  }
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

/** The user files named in FILES_ENV (a JSON array of paths, so a path may hold any character). */
export function workerFiles(): string[] {
  const raw = process.env[FILES_ENV];
  if (!raw) return [];
  try {
    const files = JSON.parse(raw) as unknown;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === "string") : [];
  } catch {
    return [];
  }
}

/** Scenarios a worker can resolve: the user files named in FILES_ENV, then the catalog (ids never clash: checkFileIds). */
export function workerScenario(id: string): Scenario {
  for (const file of workerFiles()) {
    const loaded = loadScenarioFile(file);
    if (loaded.scenario.id === id) return loaded.scenario;
  }
  const builtin = builtinCatalog().find((e) => e.scenario.id === id);
  if (builtin) return builtin.scenario;
  throw new UsageError(`unknown scenario "${id}"`);
}
