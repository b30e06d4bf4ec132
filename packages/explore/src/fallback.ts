/**
 * The deepening fallback of an unbounded DPOR run: when the budget ends before DPOR
 * explored the whole space (and no failure was found, which would settle the verdict),
 * the same target is explored again with iterative preemption bounding (deepen.ts)
 * within a budget of its own, so the run still ends with the strongest claim at hand:
 * every schedule class with at most k preemptions, rather than a sample.
 *
 * The result reports one of the two runs whole (its verdict, failures, metrics and
 * coverage): the deepening run when it proved something (the whole space, a bound, or a
 * failure), else the unbounded run. `fallback` records both runs' coverage, so what the
 * unbounded attempt covered (its executions, its estimate of what remains) is never lost.
 *
 * Nothing here changes what either DPOR run explores or claims: each is a plain
 * `explore` call, and the claims are those explore.ts makes of each.
 */

import { explore, type ExploreOptions, type ExploreResult, type StopReason, type Verdict } from "./explore.js";
import type { ExploreTarget } from "./target.js";

/** Re-run an incomplete unbounded DPOR run deepening the preemption bound, within this budget. */
export interface FallbackSpec {
  kind: "deepen";
  /** Executions of the deepening run (default: the first run's budget). */
  maxExecutions?: number;
  /** Wall time of the deepening run (none when absent). */
  maxWallMs?: number;
}

/** One run behind a fallback result. */
export interface FallbackRun {
  executions: number;
  /** The run's budget of executions. */
  budget: number;
  verdict: Verdict;
  stopReason: StopReason;
  complete: boolean;
  /** DPOR's estimate of the executions left (of the level being explored, for the deepening run). */
  estimatedRemaining: number;
  /** The most preemptions in one of its executions. */
  maxPreemptions: number;
}

export interface DporFallback {
  /** The run whose verdict, failures, metrics and coverage the result reports. */
  reported: "unbounded" | "deepen";
  /** The unbounded DPOR run its budget cut. */
  unbounded: FallbackRun;
  /**
   * The deepening re-run: the largest bound it exhausted (absent when it exhausted none,
   * or explored the whole space: `complete`), and the bound it was exploring when its
   * budget ended (absent when it finished).
   */
  deepen: FallbackRun & { provenBound?: number; exploringBound?: number };
}

/** An exploration's result, with the fallback's account when one ran. */
export type FallbackResult = ExploreResult & { fallback?: DporFallback };

export interface FallbackHooks {
  /** Called when the unbounded run ends incomplete and the deepening run starts. */
  onFallback?(first: ExploreResult, spec: Required<Pick<FallbackSpec, "maxExecutions">> & FallbackSpec): void;
}

const DPOR_DEFAULT_EXECUTIONS = 100_000;

/** Does this unbounded DPOR result call for the fallback? Only a budget cut without a failure does. */
export function needsFallback(options: ExploreOptions, result: ExploreResult): boolean {
  const s = options.strategy;
  if (s.kind !== "dpor" || s.deepen === true || s.preemptionBound !== undefined) return false;
  if (result.dpor === undefined || result.dpor.complete || result.verdict === "fails") return false;
  return result.stopReason === "executions" || result.stopReason === "wall-time";
}

/** `explore`, then the deepening fallback when `fallback` asks for it and the run needs it. */
export function exploreWithFallback(target: ExploreTarget, options: ExploreOptions & { fallback?: FallbackSpec }, hooks: FallbackHooks = {}): FallbackResult {
  const { fallback, ...exploreOptions } = options;
  const first = explore(target, exploreOptions);
  if (fallback === undefined || !needsFallback(exploreOptions, first)) return first;
  const strategy = exploreOptions.strategy as Extract<ExploreOptions["strategy"], { kind: "dpor" }>;
  const spec = { ...fallback, maxExecutions: fallback.maxExecutions ?? exploreOptions.maxExecutions ?? DPOR_DEFAULT_EXECUTIONS };
  const { maxWallMs: _firstWall, ...rest } = exploreOptions;
  const maxWallMs = fallback.maxWallMs;
  hooks.onFallback?.(first, spec);
  const second = explore(target, {
    ...rest,
    strategy: { kind: "dpor", deepen: true, ...(strategy.plain === true ? { plain: true } : {}) },
    maxExecutions: spec.maxExecutions,
    ...(maxWallMs !== undefined ? { maxWallMs } : {}),
  });
  return combine(first, second, exploreOptions.maxExecutions ?? DPOR_DEFAULT_EXECUTIONS, spec.maxExecutions);
}

/** The deepening run is reported when it proved something or found a failure; else the unbounded run is. */
function combine(first: ExploreResult, second: ExploreResult, firstBudget: number, secondBudget: number): FallbackResult {
  const d = second.dpor!;
  const provedSomething = d.complete || d.boundedComplete || second.verdict === "fails";
  const reported = provedSomething ? second : first;
  const fallback: DporFallback = {
    reported: provedSomething ? "deepen" : "unbounded",
    unbounded: runOf(first, firstBudget),
    deepen: { ...runOf(second, secondBudget), ...(d.boundedComplete && !d.complete && d.preemptionBound !== undefined ? { provenBound: d.preemptionBound } : {}), ...(d.deepening ? { exploringBound: d.deepening.exploring } : {}) },
  };
  return { ...reported, fallback, timing: { wallMs: first.timing.wallMs + second.timing.wallMs } };
}

function runOf(result: ExploreResult, budget: number): FallbackRun {
  return {
    executions: result.executions,
    budget,
    verdict: result.verdict,
    stopReason: result.stopReason,
    complete: result.dpor?.complete ?? false,
    estimatedRemaining: result.dpor?.estimatedRemaining ?? 0,
    maxPreemptions: result.metrics.preemptions?.max ?? 0,
  };
}
