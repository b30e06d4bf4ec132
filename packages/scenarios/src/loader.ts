/**
 * The catalog as a target loader for the explorer's worker pool: the default export
 * maps (scenario id, kernel id) to an ExploreTarget. A scenario id may carry parameter
 * values (`transient-ref[hold_ns=2000000000]`) and a kernel id overrides
 * (`linux-6.11+collect=will-v1`). Workers import the built file (`catalogLoaderUrl`).
 */

import { getScenario } from "./catalog/index.js";
import { resolveKernel } from "./kernels.js";
import { scenarioTarget, type ParamValues, type ScenarioTarget } from "./runner.js";

/** Split `id[k=v,...]` into the id and its parameter values. */
export function parseScenarioRef(ref: string): { id: string; params: ParamValues } {
  const m = /^([a-z0-9-]+)(?:\[(.*)\])?$/.exec(ref);
  if (!m) throw new Error(`invalid scenario reference "${ref}": expected id or id[param=value,...]`);
  const params: ParamValues = {};
  for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new Error(`invalid parameter "${pair}" in "${ref}": expected name=value`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { id: m[1], params };
}

/** Split `preset+opt=v,opt=v` into the preset and its overrides. */
export function parseKernelRef(ref: string): { id: string; overrides: string[] } {
  const plus = ref.indexOf("+");
  return plus < 0 ? { id: ref, overrides: [] } : { id: ref.slice(0, plus), overrides: ref.slice(plus + 1).split(",").filter(Boolean) };
}

export default function loadTarget(scenarioRef: string, kernelRef: string): ScenarioTarget {
  const { id, params } = parseScenarioRef(scenarioRef);
  const k = parseKernelRef(kernelRef);
  return scenarioTarget(getScenario(id), resolveKernel(k.id, k.overrides), params);
}
