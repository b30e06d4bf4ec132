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
  onFallback?(first: Omit<ExploreResult, "timing">, spec: Required<Pick<FallbackSpec, "maxExecutions">> & FallbackSpec): void;
}

const DPOR_DEFAULT_EXECUTIONS = 100_000;

/** Does this unbounded DPOR result call for the fallback? Only a budget cut without a failure does. */
export function needsFallback(options: ExploreOptions, result: Omit<ExploreResult, "timing">): boolean {
  const s = options.strategy;
  if (s.kind !== "dpor" || s.deepen === true || s.preemptionBound !== undefined) return false;
  if (result.dpor === undefined || result.dpor.complete || result.verdict === "fails") return false;
  return result.stopReason === "executions" || result.stopReason === "wall-time";
}

/** `explore`, then the deepening fallback when `fallback` asks for it and the run needs it. */
export function exploreWithFallback(target: ExploreTarget, options: ExploreOptions & { fallback?: FallbackSpec }, hooks: FallbackHooks = {}): FallbackResult {
  const { fallback, ...exploreOptions } = options;
  const first = explore(target, exploreOptions);
  return fallback === undefined ? first : applyFallback(target, exploreOptions, fallback, first, hooks);
}

/**
 * The fallback of a first run made elsewhere (a DPOR proof split over a queue): the
 * deepening run, here, when `first` needs it; `first` unchanged when it does not.
 */
export function applyFallback<R extends Omit<ExploreResult, "timing"> & { timing?: ExploreResult["timing"] }>(
  target: ExploreTarget,
  options: ExploreOptions,
  fallback: FallbackSpec,
  first: R,
  hooks: FallbackHooks = {},
): R & { fallback?: DporFallback } {
  if (!needsFallback(options, first)) return first;
  const strategy = options.strategy as Extract<ExploreOptions["strategy"], { kind: "dpor" }>;
  const spec = { ...fallback, maxExecutions: fallback.maxExecutions ?? options.maxExecutions ?? DPOR_DEFAULT_EXECUTIONS };
  const { maxWallMs: _firstWall, dpor: _dpor, ...rest } = options;
  hooks.onFallback?.(first, spec);
  const second = explore(target, {
    ...rest,
    strategy: { kind: "dpor", deepen: true, ...(strategy.plain === true ? { plain: true } : {}) },
    maxExecutions: spec.maxExecutions,
    ...(spec.maxWallMs !== undefined ? { maxWallMs: spec.maxWallMs } : {}),
  });
  return combine(first, second, options.maxExecutions ?? DPOR_DEFAULT_EXECUTIONS, spec.maxExecutions);
}

/** The deepening run is reported when it proved something or found a failure; else the unbounded run is. */
function combine<R extends Omit<ExploreResult, "timing"> & { timing?: ExploreResult["timing"] }>(first: R, second: ExploreResult, firstBudget: number, secondBudget: number): R & { fallback: DporFallback } {
  const d = second.dpor!;
  const provedSomething = d.complete || d.boundedComplete || second.verdict === "fails";
  const fallback: DporFallback = {
    reported: provedSomething ? "deepen" : "unbounded",
    unbounded: runOf(first, firstBudget),
    deepen: { ...runOf(second, secondBudget), ...(d.boundedComplete && !d.complete && d.preemptionBound !== undefined ? { provenBound: d.preemptionBound } : {}), ...(d.deepening ? { exploringBound: d.deepening.exploring } : {}) },
  };
  const { timing: secondTiming, ...secondRest } = second;
  const reported: R = provedSomething ? ({ ...secondRest } as unknown as R) : { ...first };
  if (first.timing !== undefined) reported.timing = { wallMs: first.timing.wallMs + secondTiming.wallMs };
  return { ...reported, fallback };
}

function runOf(result: Omit<ExploreResult, "timing">, budget: number): FallbackRun {
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
