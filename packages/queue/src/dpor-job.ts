/**
 * A DPOR sub-job on a worker: the subtree below the job's prefix, split past its size
 * threshold (see exploreSubtree in @foliosim/explore).
 */

import { exploreSubtree, type ExploreTarget, type SubtreeOutput } from "@foliosim/explore";
import type { DporJobData } from "./jobs.js";

export type DporJobOutput = SubtreeOutput;

export async function runDporJob(loaderModule: string, data: DporJobData): Promise<DporJobOutput> {
  const loader = (await import(loaderModule)) as { default?: (scenarioId: string, kernelId: string) => ExploreTarget | Promise<ExploreTarget> };
  if (typeof loader.default !== "function") throw new Error(`loader module ${loaderModule} has no default export resolving (scenarioId, kernelId) to a target`);
  const target = await loader.default(data.scenarioId, data.kernelId);
  if (target.scenarioId !== data.scenarioId || target.kernelId !== data.kernelId) {
    throw new Error(`loader ${loaderModule} returned scenario "${target.scenarioId}", kernel "${target.kernelId}" for "${data.scenarioId}", "${data.kernelId}"`);
  }
  return exploreSubtree(target, data.options, data.prefix, data.splitAfter);
}

/** Shape check of a sub-job's output against the job it answers. */
export function checkDporOutput(data: DporJobData): (value: DporJobOutput) => string | undefined {
  return (value) => {
    if (value === null || typeof value !== "object") return "the result is not an object";
    if (!Array.isArray(value.prefix) || value.prefix.join(",") !== data.prefix.join(",")) return `the result is for prefix [${String(value.prefix)}], not [${data.prefix.join(",")}]`;
    const r = value.result;
    if (r === null || typeof r !== "object" || r.scenarioId !== data.scenarioId || r.kernelId !== data.kernelId) return `the result is not for scenario "${data.scenarioId}", kernel "${data.kernelId}"`;
    if (!Number.isInteger(r.executions) || r.executions < 0) return `the result's executions is ${JSON.stringify(r.executions)}, expected a count`;
    for (const field of ["branches", "nodes", "requests"] as const) if (!Array.isArray(value[field])) return `the result has no list "${field}"`;
    if (typeof value.explored !== "boolean" || typeof value.boundCut !== "boolean") return "the result has no explored/boundCut flags";
    return undefined;
  };
}
