/**
 * The report objects every view reads (DESIGN.md "Reports"): typed first, then printed
 * as tables, JSON documents (`schemaVersion: 1`), or drawn by the TUI.
 */

import type { CellResult, DporFallback, ExploreResult, FailureKind, FallbackRun } from "@foliosim/explore";
import { METRIC_NAMES } from "@foliosim/scenarios";
import { expectationOf, judge, type Judgement } from "./expected.js";
import type { Versions } from "./version.js";

export const SCHEMA_VERSION = 1 as const;

/** A cell's verdict, finer than holds/fails: the glyph and word the tables show. */
export type Outcome = "holds" | "fails" | "livelock" | "deadlock" | "inconclusive";

export interface FailureRow {
  kind: FailureKind;
  message: string;
  count: number;
  /** The schedule token of the first execution that failed this way. */
  schedule: string;
  /** Its shrunk token (the first distinct failure only; null for the others). */
  shrunk: string | null;
}

export interface MetricSummary {
  min: number;
  median: number;
  max: number;
}

/** One (scenario, kernel, strategy) result: the fixed JSON shape of `explore` and `compare`. */
export interface ResultRow {
  scenario: string;
  kernel: string;
  strategy: string;
  executions: number;
  /** The whole schedule space was explored (DPOR without cuts). */
  complete: boolean;
  /** "inconclusive" when nothing failed but some executions hit their step or time budget: never "holds" then. */
  verdict: "holds" | "fails" | "inconclusive";
  /** holds, fails, livelock, deadlock — or inconclusive (no failure, but runs hit their budgets). */
  outcome: Outcome;
  failures: FailureRow[];
  metrics: Record<string, MetricSummary>;
  /** Failing over judged executions (samplers), with its Wilson 95% interval. */
  failureRate: { estimate: number; low: number; high: number } | null;
  stopReason: string;
  /** Executions cut by their step or virtual-time budget (they neither hold nor fail). */
  inconclusive: number;
  /** What ran out, per kind: `step-limit` (steps per execution) or `time-limit` (virtual time per execution). */
  limits?: { kind: string; count: number }[];
  /** The verdict declared for this cell (catalog scenarios on headline kernels), else "holds". */
  expected?: Outcome;
  /** Where the expectation comes from (null: none declared, a promise is expected to hold). */
  expectedSource?: string | null;
  /** as-expected, unexpected, or inconclusive (no verdict within the budget). */
  judgement?: Judgement;
  /** PCT: depth, and the probability bound of finding a depth-d bug in one execution. */
  pct?: { depth: number; guarantee: number };
  /** DPOR: explored to exhaustion, and the estimate of executions left when cut. */
  dpor?: { complete: boolean; estimatedRemaining: number };
  /** Proven (DPOR complete) or sampled (random, PCT, or DPOR cut by a budget or bound). */
  proof?: Proof;
  /** What the cell's exploration covered (what a sampled cell rests on). */
  coverage?: Coverage;
  /**
   * Unbounded DPOR cut by its budget, re-run deepening the preemption bound (`--fallback
   * deepen`): both runs' coverage. The row's other fields (executions, verdict, failures,
   * metrics, proof, coverage) are those of the `reported` run.
   */
  fallback?: FallbackRow;
}

/** The two runs behind a fallback cell (see DporFallback in @foliosim/explore). */
export interface FallbackRow {
  /** The re-run's strategy: DPOR deepening the preemption bound. */
  strategy: "dpor-deepen";
  /** Which run the row reports: `deepen` when the re-run proved a bound (or the whole space) or found a failure, else `unbounded`. */
  reported: "unbounded" | "deepen";
  /** The unbounded DPOR run its budget cut: executions, budget, DPOR's estimate of the executions left, the most preemptions reached. */
  unbounded: FallbackRun;
  /** The deepening re-run: its executions and budget, `provenBound` (every schedule class with at most that many preemptions explored; absent: none, or `complete`), `exploringBound` and what was left of it. */
  deepen: FallbackRun & { provenBound?: number; exploringBound?: number };
}

/**
 * How far a verdict reaches: `proven` when DPOR explored every schedule class the
 * scenario allows (`complete`); `bounded` when DPOR explored every schedule class with
 * at most `coverage.preemptionBound` preemptions (a bounded or deepening run that
 * exhausted that bound); `sampled` otherwise: random or PCT executions, or a DPOR run
 * that its execution budget or its wall time cut before any bound was exhausted.
 */
export type Proof = "proven" | "bounded" | "sampled";

export interface Coverage {
  executions: number;
  /** DPOR cut by its budget: the estimate of executions left. */
  estimatedRemaining?: number;
  /** DPOR: the preemption bound it was given (absent: unbounded). */
  preemptionBound?: number;
  /** DPOR with a bound: every schedule within the bound was explored. */
  boundedComplete?: boolean;
  /** A deepening DPOR run cut by its budget: the bound it was exploring (`estimatedRemaining` is what was left of it). */
  exploringBound?: number;
  /** The most preemptions in one explored execution (how deep the exploration reached). */
  maxPreemptions?: number;
}

export interface ResultsDocument extends Partial<Versions> {
  schemaVersion: typeof SCHEMA_VERSION;
  results: ResultRow[];
  /** Present when Ctrl-C stopped the command: the results are those finished before it. */
  interrupted?: boolean;
  /** With `interrupted`: the distinct failures found in cells that did not finish, with their tokens. */
  found?: FoundCounterexample[];
  budget?: string;
}

/** A counterexample found before Ctrl-C, in a cell (or exploration) that did not finish. */
export interface FoundCounterexample {
  scenario: string;
  kernel: string;
  kind: string;
  message: string;
  /** 1-based execution that found it. */
  execution: number;
  /** The schedule token that replays it. */
  schedule: string;
}

export function outcomeOf(result: Pick<CellResult, "verdict" | "failureCounts">): Outcome {
  if (result.verdict === "fails") {
    if (result.failureCounts.livelock > 0) return "livelock";
    if (result.failureCounts.deadlock > 0) return "deadlock";
    return "fails";
  }
  return result.verdict === "inconclusive" ? "inconclusive" : "holds";
}

export function resultRow(result: (CellResult | ExploreResult) & { fallback?: DporFallback }, strategy: string): ResultRow {
  const metrics: Record<string, MetricSummary> = {};
  for (const name of METRIC_NAMES) {
    const d = result.metrics[name];
    metrics[name] = d ? { min: d.min, median: d.median, max: d.max } : { min: 0, median: 0, max: 0 };
  }
  const first = result.firstFailure;
  const outcome = outcomeOf(result);
  const expectation = expectationOf(result.scenarioId, result.kernelId);
  return {
    scenario: result.scenarioId,
    kernel: result.kernelId,
    strategy,
    executions: result.executions,
    complete: result.dpor?.complete ?? false,
    verdict: result.verdict,
    outcome,
    failures: result.failures.map((f) => ({
      kind: f.kind,
      message: f.message,
      count: f.count,
      schedule: f.token,
      shrunk: first && first.signature === f.signature ? first.shrunk.token : null,
    })),
    metrics,
    failureRate: result.failureRate ? { estimate: result.failureRate.estimate, low: result.failureRate.low, high: result.failureRate.high } : null,
    stopReason: result.stopReason,
    inconclusive: result.inconclusive.reduce((n, i) => n + i.count, 0),
    limits: result.inconclusive.map((i) => ({ kind: i.kind, count: i.count })),
    expected: expectation?.outcome ?? "holds",
    expectedSource: expectation?.source ?? null,
    judgement: judge(outcome, result.scenarioId, result.kernelId),
    ...(result.pct ? { pct: { depth: result.pct.depth, guarantee: result.pct.guarantee } } : {}),
    ...(result.dpor ? { dpor: { complete: result.dpor.complete, estimatedRemaining: result.dpor.estimatedRemaining } } : {}),
    proof: proofOf(result),
    coverage: coverageOf(result),
    ...(result.fallback ? { fallback: { strategy: "dpor-deepen" as const, ...result.fallback } } : {}),
  };
}

export function proofOf(result: Pick<CellResult, "dpor">): Proof {
  const d = result.dpor;
  if (d?.complete === true) return "proven";
  return d?.boundedComplete === true && d.preemptionBound !== undefined ? "bounded" : "sampled";
}

function coverageOf(result: CellResult | ExploreResult): Coverage {
  const coverage: Coverage = { executions: result.executions };
  const d = result.dpor;
  if (d && !d.complete) {
    coverage.estimatedRemaining = d.estimatedRemaining;
    if (d.preemptionBound !== undefined) {
      coverage.preemptionBound = d.preemptionBound;
      coverage.boundedComplete = d.boundedComplete;
    }
    if (d.deepening) coverage.exploringBound = d.deepening.exploring;
  }
  const preemptions = result.metrics.preemptions;
  if (d && preemptions) coverage.maxPreemptions = preemptions.max;
  return coverage;
}

/** The glyph of a cell's proof: ∎ proven, ≈ sampled. */
export const PROOF_GLYPH: Record<Proof, string> = { proven: "∎", bounded: "◐", sampled: "≈" };

/** Glyph and word: `∎ proven`, `≈ sampled`. */
export function proofLabel(proof: Proof): string {
  return `${PROOF_GLYPH[proof]} ${proof}`;
}

/** A cell's proof with its scope: `∎ proven`, `◐ bounded 2` (at most 2 preemptions), `≈ sampled`. */
export function cellProofLabel(row: Pick<ResultRow, "coverage">, proof: Proof): string {
  const k = row.coverage?.preemptionBound;
  return proof === "bounded" && k !== undefined ? `${proofLabel(proof)} ${k}` : proofLabel(proof);
}

/** What a sampled cell covered, in a few words: "40 executions", "2000 DPOR executions, ~14k left, ≤ 5 preemptions". */
export function coverageText(row: Pick<ResultRow, "executions" | "coverage" | "proof" | "strategy" | "fallback">): string {
  const own = ownCoverageText(row);
  return row.fallback ? `${own}; ${fallbackText(row.fallback)}` : own;
}

/** The run a fallback cell does not report, in a few words. */
function fallbackText(f: FallbackRow): string {
  const u = f.unbounded;
  if (f.reported === "deepen") return `before it, unbounded DPOR: ${u.executions} executions, ~${compactCount(u.estimatedRemaining)} left`;
  const d = f.deepen;
  return `then deepening the preemption bound: ${d.executions} execution${d.executions === 1 ? "" : "s"}, no bound proven${d.verdict === "inconclusive" ? " (some hit their budget)" : ""}`;
}

function ownCoverageText(row: Pick<ResultRow, "executions" | "coverage" | "proof" | "strategy">): string {
  const c = row.coverage ?? { executions: row.executions };
  if (row.proof === "proven") return `all ${c.executions} schedule classes`;
  if (row.proof === "bounded" && c.preemptionBound !== undefined) {
    const beyond = c.exploringBound === undefined ? "" : `; at ${c.exploringBound}: ~${compactCount(c.estimatedRemaining ?? 0)} left`;
    return `every schedule class with at most ${c.preemptionBound} preemption${c.preemptionBound === 1 ? "" : "s"} (${c.executions} DPOR executions${beyond})`;
  }
  if (c.estimatedRemaining === undefined) return `${c.executions} executions`;
  const parts = [`${c.executions} DPOR executions`, `~${compactCount(c.estimatedRemaining)} left`];
  if (c.preemptionBound !== undefined) parts.push(`preemption bound ${c.preemptionBound}${c.boundedComplete ? " exhausted" : ""}`);
  else if (c.maxPreemptions !== undefined) parts.push(`up to ${c.maxPreemptions} preemptions reached`);
  return parts.join(", ");
}

/** 14213 → "14k", 3600000 → "3.6M". */
export function compactCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  return String(Math.round(n));
}

export const GLYPH: Record<Outcome, string> = {
  holds: "✓",
  fails: "✗",
  livelock: "⟳",
  deadlock: "⊘",
  inconclusive: "?",
};

/** Glyph and word: colour is never the only signal. */
export function outcomeLabel(outcome: Outcome): string {
  return `${GLYPH[outcome]} ${outcome}`;
}
