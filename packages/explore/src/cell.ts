/**
 * One cell of a verdict matrix — (scenario, kernel, strategy) → result — as a task a
 * worker can run: plain data in, plain data out.
 *
 * explore cannot import scenarios, so a cell names a loader module (a file URL) whose
 * default export resolves (scenarioId, kernelId) to an `ExploreTarget`. Each worker
 * imports a loader once and keeps it.
 */

import type { Dpor } from "./dpor.js";
import { explore, type ExploreOptions } from "./explore.js";
import { exploreWithFallback, type FallbackResult, type FallbackSpec } from "./fallback.js";
import type { ExploreTarget } from "./target.js";

/** The default export of a loader module. */
export type TargetLoader = (scenarioId: string, kernelId: string) => ExploreTarget | Promise<ExploreTarget>;

/** Exploration options that survive a trip to a worker (no callbacks), with DPOR's deepening fallback (fallback.ts). */
export type CellOptions = Omit<ExploreOptions, "onProgress" | "known" | "dpor"> & { fallback?: FallbackSpec };

export interface CellTask {
  loaderModule: string;
  scenarioId: string;
  kernelId: string;
  /** The strategy's name in the matrix (a column label). */
  strategy: string;
  options: CellOptions;
}

/** A result without its wall-clock figures, so equal inputs give equal bytes. */
export type CellResult = Omit<FallbackResult, "timing">;

const loaders = new Map<string, Promise<TargetLoader>>();

async function loaderFor(moduleUrl: string): Promise<TargetLoader> {
  let loader = loaders.get(moduleUrl);
  if (loader === undefined) {
    loader = import(moduleUrl).then((module: { default?: unknown }) => {
      if (typeof module.default !== "function") throw new TypeError(`loader module ${moduleUrl} has no default export resolving (scenarioId, kernelId) to a target`);
      return module.default as TargetLoader;
    });
    loaders.set(moduleUrl, loader);
  }
  return loader;
}

/** Run one cell; identical inputs give identical results, in any process. */
export async function runCell(task: CellTask): Promise<CellResult> {
  const load = await loaderFor(task.loaderModule);
  const target = await load(task.scenarioId, task.kernelId);
  if (target.scenarioId !== task.scenarioId || target.kernelId !== task.kernelId) {
    throw new Error(`loader ${task.loaderModule} returned scenario "${target.scenarioId}", kernel "${target.kernelId}" for "${task.scenarioId}", "${task.kernelId}"`);
  }
  return runCellTarget(target, task.options);
}

/**
 * Explore a loaded target and drop the wall-clock figures. Given a DPOR explorer (a
 * split run's subtree), drive it and nothing else: the fallback is a whole run's.
 */
export function runCellTarget(target: ExploreTarget, options: CellOptions, dpor?: Dpor): CellResult {
  const { fallback, ...rest } = options;
  const { timing: _timing, ...result } = dpor ? explore(target, { ...rest, dpor }) : exploreWithFallback(target, { ...rest, ...(fallback ? { fallback } : {}) });
  return result;
}
