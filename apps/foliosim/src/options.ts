/**
 * Strategies and budgets as the command line names them, and the budgets the main job
 * uses (stated in its output).
 */

import type { CellOptions, MatrixStrategy, PctPoints, StrategySpec } from "@foliosim/explore";
import { UsageError } from "./errors.js";
import { LIMITS } from "./limits.js";

export type StrategyName = "pct" | "random" | "dpor";
export type FallbackName = "deepen" | "none";
export const FALLBACK_NAMES: readonly FallbackName[] = ["deepen", "none"];
export const STRATEGY_NAMES: readonly StrategyName[] = ["pct", "random", "dpor"];

export interface StrategyChoice {
  strategy: StrategyName;
  /** PCT depth (default 3). */
  depth?: number;
  /** PCT scheduling points: shared accesses (default) or every choice point. */
  pctPoints?: PctPoints;
  /** DPOR preemption bound (default none: the whole space). */
  preemptionBound?: number;
  /** DPOR: explore bounds 0, 1, 2, … in turn, claiming the largest exhausted when the budget ends. */
  deepen?: boolean;
  /**
   * Unbounded DPOR cut by its budget without a failure: re-run deepening the preemption
   * bound (`deepen`, the default for unbounded DPOR) or not (`none`). See fallbackOf.
   */
  fallback?: FallbackName;
  /** The deepening re-run's executions (default: the same budget as the first run). */
  fallbackExecutions?: number;
  /** The deepening re-run's wall time (explore only; default: the first run's). */
  fallbackWallMs?: number;
  /** Sampler seed (default 1). */
  seed?: number;
  /** Executions per cell (default 200 for samplers, 2,000 for DPOR). */
  executions?: number;
  /** Wall-clock budget (explore only: it makes counts machine-dependent). */
  wallMs?: number;
  /** Stop at the first failure (default: keep counting, so the failure rate means something). */
  stopAtFirst?: boolean;
  /** Shrink attempts for the first failure (default 200). */
  shrink?: number;
  /** Steps per execution before it counts as inconclusive (default 60,000). */
  maxSteps?: number;
}

export const DEFAULT_EXECUTIONS = { pct: 200, random: 200, dpor: 2_000 } as const;

/**
 * The main job's budget (`compare --all`): 40 PCT executions per cell, each cut at
 * 60,000 steps (an HMM livelock needs about 35,000 to be recognised). Chosen so the whole catalog against the headline kernels finishes well
 * under a minute on 2 cores; the output states it.
 */
export const MAIN_JOB_EXECUTIONS = 40;
/** Shrink runs per counterexample in `compare` (a livelock's schedule is tens of thousands of steps). */
export const MAIN_JOB_SHRINK = 20;
export const DEFAULT_MAX_STEPS = 60_000;

/** `compare`'s budget, for the CLI and the TUI alike, so one cell shows one number wherever it is run. */
export const COMPARE_DEFAULTS = { executions: MAIN_JOB_EXECUTIONS, shrink: MAIN_JOB_SHRINK } as const;

/** Fill in compare's defaults (40 executions per sampler cell, 20 shrink runs). */
export function compareChoice(choice: StrategyChoice): StrategyChoice {
  const out: StrategyChoice = { ...choice };
  if (out.executions === undefined && out.strategy !== "dpor") out.executions = COMPARE_DEFAULTS.executions;
  if (out.shrink === undefined) out.shrink = COMPARE_DEFAULTS.shrink;
  return out;
}

export function parseStrategy(text: string | undefined): StrategyName {
  const s = (text ?? "pct").toLowerCase();
  if (!(STRATEGY_NAMES as readonly string[]).includes(s)) throw new UsageError(`unknown strategy "${text}"; expected one of ${STRATEGY_NAMES.join(", ")}`);
  return s as StrategyName;
}

export function parsePctPoints(text: string | undefined): PctPoints | undefined {
  if (text === undefined) return undefined;
  if (text !== "shared" && text !== "all") throw new UsageError(`--pct-points expects "shared" or "all", found "${text}"`);
  return text;
}

/** `--budget 500` (executions) or `--budget 30s` / `2m` (wall time); `name` is the option's. */
export function parseBudget(text: string | undefined, allowWall = true, name = "--budget"): { executions?: number; wallMs?: number } {
  if (text === undefined) return {};
  const m = /^(\d+)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${name} expects a number of executions (500)${allowWall ? " or a time (30s, 2m)" : ""}, found "${text}"`);
  const n = Number(m[1]);
  if (!m[2]) {
    if (n < 1) throw new UsageError(`${name} must be at least 1 execution`);
    if (n > LIMITS.executions) throw new UsageError(`${name} ${text}: at most ${LIMITS.executions} executions`);
    return { executions: n };
  }
  if (!allowWall) throw new UsageError(`${name} ${text}: compare takes a number of executions, so shards and merges give the same matrix`);
  const wallMs = m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
  if (wallMs < 1 || wallMs > LIMITS.wallMs) throw new UsageError(`${name} ${text}: a time from 1ms to 24 hours`);
  return { wallMs };
}

export function parseIntOption(name: string, text: string | undefined, min = 0, max: number = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new UsageError(`${name} expects an integer ≥ ${min}, found "${text}"`);
  if (Number(text) > max) throw new UsageError(`${name} ${text}: at most ${max}`);
  return Number(text);
}

export function strategySpec(choice: StrategyChoice): StrategySpec {
  switch (choice.strategy) {
    case "pct":
      return { kind: "pct", seed: choice.seed ?? 1, depth: choice.depth ?? 3, ...(choice.pctPoints === "all" ? { points: "all" as const } : {}) };
    case "random":
      return { kind: "random", seed: choice.seed ?? 1 };
    case "dpor":
      if (choice.deepen === true) return { kind: "dpor", deepen: true };
      return choice.preemptionBound === undefined ? { kind: "dpor" } : { kind: "dpor", preemptionBound: choice.preemptionBound };
  }
}

/** Column label: "pct-d3", "random", "dpor". */
export function strategyLabel(choice: StrategyChoice): string {
  if (choice.strategy === "pct") return `pct-d${choice.depth ?? 3}${choice.pctPoints === "all" ? "-all" : ""}`;
  if (choice.strategy === "dpor" && choice.deepen === true) return "dpor-deepen";
  if (choice.strategy === "dpor" && choice.preemptionBound !== undefined) return `dpor-pb${choice.preemptionBound}`;
  return choice.strategy;
}

/**
 * The fallback a choice runs with: unbounded DPOR (no --preemption-bound, no --deepen)
 * falls back to deepening unless told `none`; every other strategy has none.
 */
export function fallbackOf(choice: StrategyChoice): FallbackName {
  if (choice.strategy !== "dpor" || choice.deepen === true || choice.preemptionBound !== undefined) return "none";
  return choice.fallback ?? "deepen";
}

export function cellOptions(choice: StrategyChoice): CellOptions {
  const maxExecutions = choice.executions ?? DEFAULT_EXECUTIONS[choice.strategy];
  const options: CellOptions = {
    strategy: strategySpec(choice),
    maxExecutions,
    stopAtFirstFailure: choice.stopAtFirst ?? false,
    shrink: choice.shrink ?? 200,
    maxSteps: choice.maxSteps ?? DEFAULT_MAX_STEPS,
  };
  if (choice.wallMs !== undefined) options.maxWallMs = choice.wallMs;
  if (fallbackOf(choice) === "deepen") {
    const wallMs = choice.fallbackWallMs ?? (choice.fallbackExecutions === undefined ? choice.wallMs : undefined);
    options.fallback = { kind: "deepen", maxExecutions: choice.fallbackExecutions ?? maxExecutions, ...(wallMs !== undefined ? { maxWallMs: wallMs } : {}) };
  }
  return capBudget(options);
}

/** The environment variable that caps every budget (the documented-commands test's). */
export const BUDGET_CAP_ENV = "FOLIOSIM_BUDGET_CAP";

/**
 * `FOLIOSIM_BUDGET_CAP=N` caps the executions and the shrink runs of every exploration
 * or matrix cell at N, so a test can run each documented command exactly as printed and
 * stay fast. The budget lines of the output state the capped figures, as they state
 * any budget; a malformed value is a usage error.
 */
export function capBudget<T extends { maxExecutions?: number; shrink?: number | boolean; fallback?: { maxExecutions?: number } }>(options: T): T {
  const raw = process.env[BUDGET_CAP_ENV];
  if (raw === undefined || raw === "") return options;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`${BUDGET_CAP_ENV} expects an integer ≥ 1, found "${raw}"`);
  const cap = Number(raw);
  const out = { ...options };
  if (out.maxExecutions !== undefined) out.maxExecutions = Math.min(out.maxExecutions, cap);
  if (typeof out.shrink === "number") out.shrink = Math.min(out.shrink, cap);
  if (out.fallback?.maxExecutions !== undefined) out.fallback = { ...out.fallback, maxExecutions: Math.min(out.fallback.maxExecutions, cap) };
  return out;
}

export function matrixStrategy(choice: StrategyChoice): MatrixStrategy {
  return { name: strategyLabel(choice), options: cellOptions(choice) };
}

/** One line saying what a budget was, for the output. */
export function describeBudget(choice: StrategyChoice): string {
  return describeOptions(cellOptions(choice));
}

/** The same line from the options a matrix document records (so merge can say it too). */
export function describeOptions(o: CellOptions): string {
  const st = o.strategy;
  const what = st.kind === "pct" ? `PCT depth ${st.depth ?? 3}${st.points === "all" ? " at every choice point" : ""}, seed ${st.seed ?? 1}` : st.kind === "random" ? `random, seed ${st.seed ?? 1}` : st.kind === "dpor" ? (st.deepen === true ? "DPOR, deepening the preemption bound" : st.preemptionBound === undefined ? "DPOR" : `DPOR, at most ${st.preemptionBound} preemptions`) : "replay";
  const wall = o.maxWallMs !== undefined ? ` or ${o.maxWallMs / 1000} s` : "";
  const fallback = o.fallback ? `; a cell DPOR does not complete is re-run deepening the preemption bound within ${o.fallback.maxExecutions} executions${o.fallback.maxWallMs !== undefined ? ` or ${o.fallback.maxWallMs / 1000} s` : ""}` : "";
  return `${what}; budget ${o.maxExecutions} executions${wall} per cell, ${o.maxSteps} steps per execution${o.stopAtFirstFailure ? ", stop at the first failure" : ""}${fallback}; first failure shrunk with up to ${String(o.shrink)} runs`;
}
