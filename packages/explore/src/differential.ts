/**
 * The differential check behind "a proof must be a proof": every distinct failure a
 * sampler (random, PCT) finds on a target must also be found by a DPOR run of the same
 * target that reports `complete`. A DPOR run that does not complete claims nothing and
 * is not held to it.
 */

import { explore, type ExploreResult, type StrategySpec } from "./explore.js";
import type { ExploreTarget } from "./target.js";

export interface DifferentialOptions {
  /** Sampler seeds: each runs random and PCT (shared-access points, depth 3). Default [1]. */
  seeds?: readonly number[];
  /** Executions per sampler run. Default 200. */
  samplerExecutions?: number;
  /** DPOR's execution budget. Default 5,000. */
  dporExecutions?: number;
  /** Steps per execution, for every strategy. */
  maxSteps?: number;
}

export interface DifferentialResult {
  /** Distinct failure signatures the samplers found, sorted. */
  sampled: string[];
  /** Which strategy first found each sampled signature (`random#seed`, `pct#seed`). */
  foundBy: Record<string, string>;
  dpor: { complete: boolean; executions: number; signatures: string[] };
  /** Sampled failures a complete DPOR run did not find: must be empty. */
  missing: string[];
}

/** Run the samplers and DPOR on `target` and compare what they found. */
export function differential(target: ExploreTarget, options: DifferentialOptions = {}): DifferentialResult {
  const foundBy: Record<string, string> = {};
  const samplers: [string, StrategySpec][] = [];
  for (const seed of options.seeds ?? [1]) samplers.push([`random#${seed}`, { kind: "random", seed }], [`pct#${seed}`, { kind: "pct", seed }]);
  for (const [name, strategy] of samplers) {
    const r = run(target, strategy, options.samplerExecutions ?? 200, options.maxSteps);
    for (const f of r.failures) foundBy[f.signature] ??= name;
  }
  const d = run(target, { kind: "dpor" }, options.dporExecutions ?? 5_000, options.maxSteps);
  const complete = d.dpor?.complete === true;
  const signatures = d.failures.map((f) => f.signature).sort();
  const sampled = Object.keys(foundBy).sort();
  const missing = complete ? sampled.filter((s) => !signatures.includes(s)) : [];
  return { sampled, foundBy, dpor: { complete, executions: d.executions, signatures }, missing };
}

function run(target: ExploreTarget, strategy: StrategySpec, maxExecutions: number, maxSteps: number | undefined): ExploreResult {
  return explore(target, { strategy, maxExecutions, maxSteps, stopAtFirstFailure: false, shrink: false });
}
