/**
 * What the explorer explores, and how one execution is judged.
 *
 * The explorer knows nothing of memory: a target is a sim `Program` on a
 * `MachineConfig`, named by a scenario id and a kernel id (the token hash covers
 * both), with an optional promise check and optional metrics.
 *
 * Outcomes of one execution:
 * - `holds`: the run ended (`done`) and the promise check returned null;
 * - a failure: `promise` (the check's message), `deadlock` and `livelock` (the
 *   machine's hang report), `invariant` (a model error or an invariant violation);
 * - `inconclusive`: the run hit its step budget (`step-limit`) or virtual-time budget
 *   (`time-limit`). Such a run proves nothing either way, so it is never counted as
 *   holding: it is counted apart, makes the verdict "inconclusive" unless a real
 *   failure was found, and stops DPOR from claiming `complete`.
 */

import type { HangReport, InvariantFailure, MachineConfig, Program, RunResult } from "@foliosim/sim";

export interface ExploreTarget {
  /** The scenario's id; hashed into every token. */
  scenarioId: string;
  /** The kernel (preset or variant set) id; hashed into every token. */
  kernelId: string;
  program: Program;
  config: MachineConfig;
  /** The scenario's promise: null when it holds, else what broke. Called only on `done` runs. */
  check?(result: RunResult): string | null;
  /** Figures to summarise over executions (min, median, max). */
  metrics?(result: RunResult): Record<string, number>;
}

/**
 * How an execution fails. "scenario": the program running on the model misused it (a
 * `ModelError` with `usage`, e.g. touching an address nothing maps), an error in the
 * scenario rather than a broken kernel invariant.
 */
export type FailureKind = "promise" | "deadlock" | "livelock" | "invariant" | "scenario";
export type LimitKind = "step-limit" | "time-limit";

export type Outcome =
  | { kind: "holds" }
  | { kind: FailureKind; message: string; signature: string; explanation: FailureExplanation }
  | { kind: LimitKind; message: string; signature: string };

/** What the machine said about a failure, carried through unchanged. */
export interface FailureExplanation {
  hang?: HangReport;
  failure?: InvariantFailure;
}

export function isFailure(outcome: Outcome): outcome is Extract<Outcome, { kind: FailureKind }> {
  return outcome.kind === "promise" || outcome.kind === "deadlock" || outcome.kind === "livelock" || outcome.kind === "invariant" || outcome.kind === "scenario";
}

/** Judge one finished run. */
export function classify(target: ExploreTarget, result: RunResult): Outcome {
  switch (result.status) {
    case "done": {
      const broken = target.check ? target.check(result) : null;
      if (broken === null) return { kind: "holds" };
      return failure("promise", broken, {});
    }
    case "deadlock":
    case "livelock":
      return failure(result.status, result.hang?.message ?? result.status, { hang: result.hang });
    case "invariant":
      return failure(result.failure?.usage ? "scenario" : "invariant", describeInvariant(result.failure), { failure: result.failure });
    case "step-limit":
      return { kind: "step-limit", message: `step budget reached after ${result.steps} steps`, signature: "step-limit" };
    case "time-limit":
      return { kind: "time-limit", message: `virtual-time budget reached at ${result.virtualNs} ns`, signature: "time-limit" };
    case "running":
      throw new Error("classify: the run has not ended");
  }
}

function failure(kind: FailureKind, message: string, explanation: FailureExplanation): Outcome {
  // Hang messages already start with their kind ("livelock: ..."): say it once.
  const body = message.startsWith(`${kind}: `) ? message.slice(kind.length + 2) : message;
  return { kind, message, signature: `${kind}: ${normaliseMessage(body)}`, explanation };
}

function describeInvariant(f: InvariantFailure | undefined): string {
  if (!f) return "invariant violated";
  const where = [f.task ? `in ${f.task}` : "", f.operation ? `at ${f.operation}` : "", `step ${f.step}`].filter(Boolean).join(" ");
  return `${f.message} (${where})`;
}

/**
 * The part of a failure message that identifies "the same failure": numbers (step
 * counts, times, counter values) are replaced by `#`, so two schedules that break the
 * same promise the same way are one distinct failure.
 */
export function normaliseMessage(message: string): string {
  return message.replace(/0x[0-9a-f]+/gi, "#").replace(/\d+(\.\d+)?/g, "#").replace(/\s+/g, " ").trim();
}
