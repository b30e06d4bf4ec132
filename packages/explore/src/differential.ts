/**
 * The differential check behind "a proof must be a proof": every distinct failure a
 * sampler (random, PCT) finds on a target must also be found by a DPOR run of the same
 * target that reports `complete`. A DPOR run that does not complete claims nothing and
 * is not held to it.
 *
 * A scoped proof is held to its scope: where the unbounded run does not complete, a
 * deepening run (`deepen`) that proves preemption bound k must find every sampled
 * failure that some sampled execution reached with at most k preemptions (the same
 * count, `isPreemption`, that the bound limits).
 */

import { explore, type DistinctFailure, type ExploreResult, type StrategySpec } from "./explore.js";
import type { ExploreTarget } from "./target.js";

export interface DifferentialOptions {
  /** Sampler seeds: each runs random and PCT (shared-access points, depth 3). Default [1]. */
  seeds?: readonly number[];
  /** Executions per sampler run. Default 200. */
  samplerExecutions?: number;
  /** DPOR's execution budget. Default 5,000. */
  dporExecutions?: number;
  /**
   * Where DPOR does not complete: the budget of a deepening run whose proven bound is
   * checked too (0, the default: no deepening run).
   */
  deepenExecutions?: number;
  /** Steps per execution, for every strategy. */
  maxSteps?: number;
}

export interface DifferentialResult {
  /** Distinct failure signatures the samplers found, sorted. */
  sampled: string[];
  /** Which strategy first found each sampled signature (`random#seed`, `pct#seed`). */
  foundBy: Record<string, string>;
  /** Per sampled signature: the fewest preemptions of a sampled execution that failed that way. */
  fewestPreemptions: Record<string, number>;
  dpor: { complete: boolean; executions: number; signatures: string[] };
  /** The deepening run, when one ran: the bound it proved (-1: none), or `complete` (every bound). */
  bounded?: { provenBound: number; complete: boolean; executions: number; signatures: string[] };
  /** Sampled failures a complete DPOR run, or a bounded one within its bound, did not find: must be empty. */
  missing: string[];
}

/** Run the samplers and DPOR on `target` and compare what they found. */
export function differential(target: ExploreTarget, options: DifferentialOptions = {}): DifferentialResult {
  const foundBy: Record<string, string> = {};
  const fewestPreemptions: Record<string, number> = {};
  const samplers: [string, StrategySpec][] = [];
  for (const seed of options.seeds ?? [1]) samplers.push([`random#${seed}`, { kind: "random", seed }], [`pct#${seed}`, { kind: "pct", seed }]);
  for (const [name, strategy] of samplers) {
    const r = run(target, strategy, options.samplerExecutions ?? 200, options.maxSteps);
    for (const f of r.failures) {
      foundBy[f.signature] ??= name;
      fewestPreemptions[f.signature] = Math.min(fewestPreemptions[f.signature] ?? Infinity, f.fewestPreemptions);
    }
  }
  const d = run(target, { kind: "dpor" }, options.dporExecutions ?? 5_000, options.maxSteps);
  const complete = d.dpor?.complete === true;
  const signatures = signaturesOf(d.failures);
  const sampled = Object.keys(foundBy).sort();
  const result: DifferentialResult = { sampled, foundBy, fewestPreemptions, dpor: { complete, executions: d.executions, signatures }, missing: [] };
  if (complete) result.missing = sampled.filter((s) => !signatures.includes(s));
  else if ((options.deepenExecutions ?? 0) > 0) {
    const b = run(target, { kind: "dpor", deepen: true }, options.deepenExecutions!, options.maxSteps);
    const bounded = { provenBound: provenBound(b), complete: b.dpor?.complete === true, executions: b.executions, signatures: signaturesOf(b.failures) };
    result.bounded = bounded;
    const inScope = (s: string) => bounded.complete || fewestPreemptions[s] <= bounded.provenBound;
    result.missing = sampled.filter((s) => inScope(s) && !bounded.signatures.includes(s));
  }
  return result;
}

/** The largest preemption bound a deepening run exhausted short of completing (-1: none, or it completed: no bound is reported then). */
function provenBound(r: ExploreResult): number {
  return r.dpor?.boundedComplete === true ? (r.dpor.preemptionBound ?? -1) : -1;
}

function signaturesOf(failures: readonly DistinctFailure[]): string[] {
  return failures.map((f) => f.signature).sort();
}

function run(target: ExploreTarget, strategy: StrategySpec, maxExecutions: number, maxSteps: number | undefined): ExploreResult {
  return explore(target, { strategy, maxExecutions, maxSteps, stopAtFirstFailure: false, shrink: false });
}

/** One line for a log: what the samplers found and what DPOR, or its deepening run, proved. */
export function differentialSummary(r: DifferentialResult): string {
  const dpor = `DPOR ${r.dpor.complete ? "complete" : "not complete"} after ${r.dpor.executions} with ${r.dpor.signatures.length}`;
  const b = r.bounded;
  const bounded = b === undefined ? "" : `; deepening ${b.complete ? "complete" : b.provenBound >= 0 ? `proved bound ${b.provenBound}` : "proved no bound"} after ${b.executions} with ${b.signatures.length}`;
  const preemptions = r.sampled.map((s) => r.fewestPreemptions[s]).join(",");
  return `samplers found ${r.sampled.length}${r.sampled.length > 0 ? ` (fewest preemptions ${preemptions})` : ""}, ${dpor}${bounded}`;
}
