/**
 * Replay: run a target under a schedule token, strictly.
 *
 * Unlike the machine's lenient `ScriptedChooser`, a replay refuses a decision out of
 * range and a token whose decisions do not match the run's choice points exactly:
 * either means the token was recorded for another program or configuration.
 */

import type { Candidate, RunResult } from "@foliosim/sim";
import { executionConfig, runExecution, type Execution, type ExecutionBudget, type ExecutionPlan } from "./execution.js";
import { classify, type ExploreTarget, type Outcome } from "./target.js";
import { decodeTokenFor, encodeToken, TokenError, type TargetIdentity } from "./token.js";

export class ReplayPlan implements ExecutionPlan {
  private index = 0;
  constructor(private readonly decisions: readonly number[]) {}
  choose(candidates: readonly Candidate[]): number {
    if (this.index >= this.decisions.length) {
      throw new TokenError(`the schedule token has ${this.decisions.length} decisions but the run asks for more: it was recorded for another program or configuration`);
    }
    const decision = this.decisions[this.index++];
    if (decision >= candidates.length) {
      throw new TokenError(`decision ${this.index - 1} of the schedule token picks candidate ${decision}, but only ${candidates.length} can run there`);
    }
    return decision;
  }
  /** Throws when decisions were left over. */
  assertConsumed(): void {
    if (this.index !== this.decisions.length) {
      throw new TokenError(`the run ended after ${this.index} of the token's ${this.decisions.length} decisions: it was recorded for another program or configuration`);
    }
  }
}

export interface Replayed {
  token: string;
  result: RunResult;
  outcome: Outcome;
  execution: Execution;
}

export interface ReplayOptions extends ExecutionBudget {
  /** Other targets, so a mismatch can name the scenario and kernel the token came from. */
  known?: readonly TargetIdentity[];
}

/** Replay `decisions` on `target` (no token check). */
export function replayDecisions(target: ExploreTarget, decisions: readonly number[], budget: ExecutionBudget = {}): Replayed {
  const plan = new ReplayPlan(decisions);
  const execution = runExecution(target, executionConfig(target, budget), plan);
  plan.assertConsumed();
  const result = execution.result!;
  return { token: encodeToken(target, decisions), result, outcome: classify(target, result), execution };
}

/** Replay a token on `target`; a token recorded for another scenario or kernel is refused. */
export function replay(target: ExploreTarget, token: string, options: ReplayOptions = {}): Replayed {
  const decisions = decodeTokenFor(token, target, options.known);
  return replayDecisions(target, decisions, options);
}

/** The run was not reproduced bit for bit: the model is not a pure function of its schedule. */
export class NondeterminismError extends Error {
  override readonly name = "NondeterminismError";
}

/**
 * Replay a token twice and compare both trace hashes with the one it was recorded
 * with; returns the hash. Every token the explorer reports goes through this.
 */
export function verifyToken(target: ExploreTarget, decisions: readonly number[], expectedHash: string, budget: ExecutionBudget): string {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const replayed = replayDecisions(target, decisions, budget);
    if (replayed.result.traceHash !== expectedHash) {
      throw new NondeterminismError(
        `replay ${attempt} of ${encodeToken(target, decisions)} gave trace ${replayed.result.traceHash}, the recorded run gave ${expectedHash}: ` +
          `the model reads something besides its schedule (a wall clock, Math.random, state left from another run)`,
      );
    }
  }
  return expectedHash;
}
