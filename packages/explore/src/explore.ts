/**
 * `explore(target, options)`: run a target under a strategy within budgets and
 * report what happened.
 *
 * Strategies (shuttle's vocabulary): `random`, `pct`, `dpor`, `replay`. Budgets:
 * executions, steps and virtual time per execution (passed to the machine as
 * `maxSteps`/`maxVirtualNs`), and wall time (the only wall-clock read; a run cut by it
 * says so, since its counts then depend on the machine it ran on). The explorer either
 * stops at the first failure or keeps counting.
 *
 * Everything in the result except `timing` is a pure function of (target, options):
 * the pool, shards and golden tests rely on that.
 */

import type { RunResult } from "@foliosim/sim";
import { DeepeningDpor } from "./deepen.js";
import { Dpor } from "./dpor.js";
import { executionConfig, runExecution, type Execution, type ExecutionPlan } from "./execution.js";
import { replay as replayToken, verifyToken } from "./replay.js";
import { executionSeed, PctCampaign, PctPlan, pctGuarantee, RandomPlan, type PctPoints } from "./samplers.js";
import { shrink } from "./shrink.js";
import { MetricCollector, wilsonInterval, type Distribution, type RateEstimate } from "./stats.js";
import { classify, isFailure, type ExploreTarget, type FailureExplanation, type FailureKind, type LimitKind, type Outcome } from "./target.js";
import { encodeToken, type TargetIdentity } from "./token.js";

export type StrategySpec =
  | { kind: "random"; seed?: number }
  | { kind: "pct"; seed?: number; depth?: number; points?: PctPoints }
  /**
   * DPOR; `plain` turns its reductions (commutative updates, `Op.commutes`) off.
   * `deepen` explores every schedule with at most 0, 1, 2, … preemptions in turn
   * (deepen.ts), so a budget too small for the whole space still proves a bound;
   * it ignores `preemptionBound`.
   */
  | { kind: "dpor"; preemptionBound?: number; plain?: boolean; deepen?: boolean }
  | { kind: "replay"; token: string };

export interface ExploreOptions {
  strategy: StrategySpec;
  /** Default 1,000 for samplers, 100,000 for DPOR. */
  maxExecutions?: number;
  /** Steps per execution (MachineConfig.maxSteps). */
  maxSteps?: number;
  /** Virtual time per execution in ns (MachineConfig.maxVirtualNs). */
  maxVirtualNs?: number;
  /** Wall-clock budget for the whole exploration. */
  maxWallMs?: number;
  /** Default true. */
  stopAtFirstFailure?: boolean;
  /** Shrink the first failing schedule (default true); a number caps the runs spent. */
  shrink?: boolean | number;
  /** Other targets, so a foreign replay token's error can name its owner. */
  known?: readonly TargetIdentity[];
  /** Called every `progressEvery` executions (default 1,000). */
  onProgress?: (progress: ExploreProgress) => void;
  progressEvery?: number;
  /** DPOR only, in-process: drive this explorer (a split run's subtree, see dpor-split.ts) instead of a new one. */
  dpor?: Dpor;
}

export interface ExploreProgress {
  executions: number;
  failures: number;
  /** DPOR only: Knuth-style estimate of the executions left, and executions / (executions + left). */
  estimatedRemaining?: number;
  progress?: number;
}

export type Verdict = "holds" | "fails" | "inconclusive";
export type StopReason = "exhausted" | "executions" | "wall-time" | "first-failure";

export interface DistinctFailure {
  kind: FailureKind;
  /** Kind plus the normalised message: what makes two failures "the same". */
  signature: string;
  /** The first occurrence's message, verbatim. */
  message: string;
  count: number;
  /** 1-based index of the first execution that failed this way. */
  firstExecution: number;
  /** That execution's schedule (replayed twice before being reported). */
  token: string;
  /**
   * The fewest preemptions (`isPreemption`) among the executions that failed this way:
   * a run that proves preemption bound k must find every failure with at most k.
   */
  fewestPreemptions: number;
}

export interface ReportedSchedule {
  token: string;
  steps: number;
  preemptions: number;
  traceHash: string;
}

export interface FirstFailure extends ReportedSchedule {
  execution: number;
  kind: FailureKind;
  signature: string;
  message: string;
  /** The machine's own account: hang report (tasks, what each waits for, stalled counters) or invariant failure (object, step). */
  explanation: FailureExplanation;
  /** Fewest preemptions, then fewest steps; fails the same way. */
  shrunk: ReportedSchedule & { attempts: number };
}

export interface ExploreResult {
  scenarioId: string;
  kernelId: string;
  strategy: StrategySpec;
  verdict: Verdict;
  stopReason: StopReason;
  executions: number;
  /** Steps over all executions. */
  steps: number;
  failures: DistinctFailure[];
  failureCounts: Record<FailureKind, number>;
  /** Executions cut by their own step or virtual-time budget: neither hold nor fail. */
  inconclusive: { kind: LimitKind; count: number; firstExecution: number; token: string }[];
  firstFailure?: FirstFailure;
  /** Samplers: failing executions over judged executions, Wilson 95% interval. */
  failureRate?: RateEstimate;
  pct?: { depth: number; points: PctPoints; tasks: number; steps: number; guarantee: number };
  dpor?: {
    /** The whole space was explored: no budget, bound or per-execution limit cut it. */
    complete: boolean;
    /** Explored to exhaustion, but the preemption bound pruned choices. */
    boundedComplete: boolean;
    preemptionBound?: number;
    sleepBlocked: number;
    estimatedRemaining: number;
    /**
     * A deepening run (`deepen`) the budget cut: the largest preemption bound it
     * exhausted (-1: none), and the bound it was exploring when it stopped
     * (`estimatedRemaining` is what was left of that one).
     */
    deepening?: { provenBound: number; exploring: number };
  };
  replay?: { traceHash: string; status: RunResult["status"] };
  metrics: Record<string, Distribution>;
  /** Wall-clock figures: not deterministic, left out of matrix documents. */
  timing: { wallMs: number };
}

interface Recorded {
  execution: number;
  decisions: number[];
  traceHash: string;
}

/** Run `target` under `options.strategy`. */
export function explore(target: ExploreTarget, options: ExploreOptions): ExploreResult {
  const started = performance.now();
  if (options.strategy.kind === "replay") return replayReport(target, options, started);
  const budget = { maxSteps: options.maxSteps, maxVirtualNs: options.maxVirtualNs };
  // Trace events are recorded only when a reported schedule is replayed; the trace
  // hash every execution is judged and verified by is computed either way.
  const config = { ...executionConfig(target, budget), trace: false };
  const strategy = options.strategy;
  const maxExecutions = options.maxExecutions ?? (strategy.kind === "dpor" ? 100_000 : 1_000);
  const stopAtFirst = options.stopAtFirstFailure ?? true;
  const progressEvery = options.progressEvery ?? 1_000;
  const dpor = strategy.kind === "dpor" ? (options.dpor ?? dporFor(strategy)) : undefined;
  const seed = strategy.kind === "dpor" ? 0 : (strategy.seed ?? 1);
  const depth = strategy.kind === "pct" ? (strategy.depth ?? 3) : 0;
  const campaign = strategy.kind === "pct" ? new PctCampaign(depth, strategy.points ?? "shared") : undefined;
  let pctTasks = 0;

  const metrics = new MetricCollector();
  const distinct = new Map<string, DistinctFailure & { recorded: Recorded }>();
  const limits = new Map<LimitKind, { kind: LimitKind; count: number; firstExecution: number; recorded: Recorded }>();
  const failureCounts: Record<FailureKind, number> = { promise: 0, deadlock: 0, livelock: 0, invariant: 0, scenario: 0 };
  let first: { execution: Execution; outcome: Extract<Outcome, { kind: FailureKind }>; index: number } | undefined;
  let executions = 0;
  let judged = 0;
  let failing = 0;
  let steps = 0;
  let stopReason: StopReason = "executions";

  for (;;) {
    if (executions >= maxExecutions) break;
    if (options.maxWallMs !== undefined && performance.now() - started >= options.maxWallMs) {
      stopReason = "wall-time";
      break;
    }
    let plan: ExecutionPlan | null;
    let pctPlan: PctPlan | undefined;
    if (dpor) plan = dpor.next();
    else if (campaign) plan = pctPlan = campaign.plan(executionSeed(seed, executions));
    else plan = new RandomPlan(executionSeed(seed, executions));
    if (plan === null) {
      stopReason = "exhausted";
      break;
    }
    const execution = runExecution(target, config, plan);
    executions++;
    steps += execution.steps;
    dpor?.finish(plan, execution);
    const result = execution.result;
    if (result !== undefined) {
      judged++;
      if (campaign && pctPlan) campaign.learn(pctPlan);
      pctTasks = Math.max(pctTasks, result.tasks.length);
      const outcome = classify(target, result);
      addExecutionMetrics(metrics, target, result, execution);
      if (isFailure(outcome)) {
        failing++;
        failureCounts[outcome.kind]++;
        const seen = distinct.get(outcome.signature);
        if (seen) {
          seen.count++;
          seen.fewestPreemptions = Math.min(seen.fewestPreemptions, execution.preemptions);
        } else distinct.set(outcome.signature, { kind: outcome.kind, signature: outcome.signature, message: outcome.message, count: 1, firstExecution: executions, token: "", fewestPreemptions: execution.preemptions, recorded: record(executions, execution, result) });
        if (!first) first = { execution, outcome, index: executions };
      } else if (outcome.kind !== "holds") {
        const seen = limits.get(outcome.kind);
        if (seen) seen.count++;
        else limits.set(outcome.kind, { kind: outcome.kind, count: 1, firstExecution: executions, recorded: record(executions, execution, result) });
      }
    }
    if (options.onProgress && executions % progressEvery === 0) {
      options.onProgress({ executions, failures: failing, ...(dpor ? dpor.progress(executions) : {}) });
    }
    if (first && stopAtFirst) {
      stopReason = "first-failure";
      break;
    }
  }

  const report: ExploreResult = {
    scenarioId: target.scenarioId,
    kernelId: target.kernelId,
    strategy,
    verdict: failing > 0 ? "fails" : limits.size > 0 ? "inconclusive" : "holds",
    stopReason,
    executions,
    steps,
    failures: [],
    failureCounts,
    inconclusive: [],
    metrics: metrics.summary(),
    timing: { wallMs: 0 },
  };
  // Every reported token is replayed twice and its trace hash compared first.
  for (const failure of distinct.values()) {
    const { recorded, ...rest } = failure;
    verifyToken(target, recorded.decisions, recorded.traceHash, budget);
    report.failures.push({ ...rest, token: encodeToken(target, recorded.decisions) });
  }
  for (const limit of limits.values()) {
    verifyToken(target, limit.recorded.decisions, limit.recorded.traceHash, budget);
    report.inconclusive.push({ kind: limit.kind, count: limit.count, firstExecution: limit.firstExecution, token: encodeToken(target, limit.recorded.decisions) });
  }
  if (first) report.firstFailure = firstFailureReport(target, config, budget, first, options.shrink ?? true);
  if (!dpor) report.failureRate = wilsonInterval(failing, judged);
  if (campaign) report.pct = { depth, points: campaign.points, tasks: pctTasks, steps: campaign.steps, guarantee: pctGuarantee(pctTasks, campaign.steps, depth) };
  if (dpor) report.dpor = dporCoverage(strategy, dpor, stopReason === "exhausted", limits.size === 0, executions);
  report.timing.wallMs = performance.now() - started;
  return report;
}

function dporFor(strategy: Extract<StrategySpec, { kind: "dpor" }>): Dpor | DeepeningDpor {
  if (strategy.deepen === true) return new DeepeningDpor({ plain: strategy.plain });
  return new Dpor({ preemptionBound: strategy.preemptionBound, plain: strategy.plain });
}

/**
 * What a DPOR run covered. Nothing is claimed where an execution hit its own limit. A
 * deepening run cut by its budget claims the largest bound it exhausted.
 */
function dporCoverage(strategy: StrategySpec, dpor: Dpor | DeepeningDpor, exhausted: boolean, unlimited: boolean, executions: number): NonNullable<ExploreResult["dpor"]> {
  const coverage: NonNullable<ExploreResult["dpor"]> = {
    complete: exhausted && !dpor.boundCut && unlimited,
    boundedComplete: exhausted && unlimited,
    sleepBlocked: dpor.sleepBlocked,
    estimatedRemaining: dpor.progress(executions).estimatedRemaining,
  };
  if (dpor instanceof DeepeningDpor) {
    if (coverage.complete) return coverage;
    coverage.boundedComplete = dpor.provenBound !== undefined && unlimited;
    if (coverage.boundedComplete) coverage.preemptionBound = dpor.provenBound;
    coverage.deepening = { provenBound: unlimited ? (dpor.provenBound ?? -1) : -1, exploring: dpor.currentBound };
    return coverage;
  }
  if (strategy.kind === "dpor" && strategy.preemptionBound !== undefined) coverage.preemptionBound = strategy.preemptionBound;
  return coverage;
}

/** What a report keeps of the first execution of a kind: its schedule, to replay and to token. */
function record(index: number, execution: Execution, result: RunResult): Recorded {
  return { execution: index, decisions: execution.decisions.slice(), traceHash: result.traceHash };
}

/** An execution's metrics: the machine's counters, its preemptions, the target's own (which win on a clash). */
function addExecutionMetrics(metrics: MetricCollector, target: ExploreTarget, result: RunResult, execution: Execution): void {
  const own = target.metrics ? target.metrics(result) : undefined;
  for (const name in result.counters) if (own === undefined || !(name in own)) metrics.addValue(name, result.counters[name]);
  if (own === undefined || !("preemptions" in own)) metrics.addValue("preemptions", execution.preemptions);
  if (own !== undefined) metrics.add(own);
}

function firstFailureReport(
  target: ExploreTarget,
  config: ReturnType<typeof executionConfig>,
  budget: { maxSteps?: number; maxVirtualNs?: number },
  first: { execution: Execution; outcome: Extract<Outcome, { kind: FailureKind }>; index: number },
  shrinkOption: boolean | number,
): FirstFailure {
  const { execution, outcome } = first;
  const result = execution.result!;
  verifyToken(target, execution.decisions, result.traceHash, budget);
  const attempts = shrinkOption === false ? 0 : shrinkOption === true ? 400 : shrinkOption;
  const shrunk = shrink(target, config, execution, outcome.signature, attempts);
  verifyToken(target, shrunk.decisions, shrunk.traceHash, budget);
  return {
    execution: first.index,
    kind: outcome.kind,
    signature: outcome.signature,
    message: outcome.message,
    explanation: outcome.explanation,
    token: encodeToken(target, execution.decisions),
    steps: execution.steps,
    preemptions: execution.preemptions,
    traceHash: result.traceHash,
    shrunk: {
      token: encodeToken(target, shrunk.decisions),
      steps: shrunk.steps,
      preemptions: shrunk.preemptions,
      traceHash: shrunk.traceHash,
      attempts: shrunk.attempts,
    },
  };
}

/** The `replay` strategy: one execution under a token, reported like any other. */
function replayReport(target: ExploreTarget, options: ExploreOptions, started: number): ExploreResult {
  const strategy = options.strategy as Extract<StrategySpec, { kind: "replay" }>;
  const budget = { maxSteps: options.maxSteps, maxVirtualNs: options.maxVirtualNs };
  const replayed = replayToken(target, strategy.token, { ...budget, known: options.known });
  verifyToken(target, replayed.execution.decisions, replayed.result.traceHash, budget);
  const outcome = replayed.outcome;
  const metrics = new MetricCollector();
  addExecutionMetrics(metrics, target, replayed.result, replayed.execution);
  const failureCounts: Record<FailureKind, number> = { promise: 0, deadlock: 0, livelock: 0, invariant: 0, scenario: 0 };
  const report: ExploreResult = {
    scenarioId: target.scenarioId,
    kernelId: target.kernelId,
    strategy,
    verdict: isFailure(outcome) ? "fails" : outcome.kind === "holds" ? "holds" : "inconclusive",
    stopReason: "exhausted",
    executions: 1,
    steps: replayed.result.steps,
    failures: [],
    failureCounts,
    inconclusive: [],
    replay: { traceHash: replayed.result.traceHash, status: replayed.result.status },
    metrics: metrics.summary(),
    timing: { wallMs: 0 },
  };
  if (isFailure(outcome)) {
    failureCounts[outcome.kind] = 1;
    report.failures.push({ kind: outcome.kind, signature: outcome.signature, message: outcome.message, count: 1, firstExecution: 1, token: replayed.token, fewestPreemptions: replayed.execution.preemptions });
    report.firstFailure = {
      execution: 1,
      kind: outcome.kind,
      signature: outcome.signature,
      message: outcome.message,
      explanation: outcome.explanation,
      token: replayed.token,
      steps: replayed.result.steps,
      preemptions: replayed.execution.preemptions,
      traceHash: replayed.result.traceHash,
      shrunk: { token: replayed.token, steps: replayed.result.steps, preemptions: replayed.execution.preemptions, traceHash: replayed.result.traceHash, attempts: 0 },
    };
  } else if (outcome.kind !== "holds") {
    report.inconclusive.push({ kind: outcome.kind, count: 1, firstExecution: 1, token: replayed.token });
  }
  report.timing.wallMs = performance.now() - started;
  return report;
}
