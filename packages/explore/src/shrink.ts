/**
 * Shrinking a failing schedule: fewest preemptions first, then fewest steps.
 *
 * A schedule is edited as the list of tasks chosen at its choice points. A candidate
 * edit is run leniently: at each choice point the wanted task runs if it can, and
 * otherwise (or past the end of the list) the last task keeps its CPU if it can, else
 * the first candidate runs. The run's own decisions then become the new schedule, so
 * every schedule shrinking returns is one the machine really ran.
 *
 * Edits tried, greedily, until none improves or the budget runs out: drop a
 * preemption (run the continuing task there instead), cut the list short (the rest
 * runs without preemptions), and delete one choice. An edit is kept only if the run
 * fails the same way (same kind, same normalised message) and is strictly smaller by
 * (preemptions, steps). Shrinking therefore never returns a passing schedule.
 */

import type { Candidate } from "@foliosim/sim";
import { continuingIndex, runExecution, type Execution, type ExecutionPlan } from "./execution.js";
import type { MachineConfig } from "@foliosim/sim";
import { classify, isFailure, type ExploreTarget } from "./target.js";

export interface ShrinkResult {
  decisions: number[];
  choiceTasks: number[];
  preemptions: number;
  steps: number;
  traceHash: string;
  /** Runs spent shrinking. */
  attempts: number;
}

class LenientPlan implements ExecutionPlan {
  private index = 0;
  private lastTask = -1;
  readonly everyStep = true;
  constructor(private readonly wanted: readonly number[]) {}
  choose(candidates: readonly Candidate[]): number {
    let chosen = 0;
    if (candidates.length > 1) {
      const want = this.index < this.wanted.length ? this.wanted[this.index] : -1;
      this.index++;
      const found = want < 0 ? -1 : candidates.findIndex((c) => c.task.id === want);
      chosen = found >= 0 ? found : Math.max(0, continuingIndex(candidates, this.lastTask));
    }
    this.lastTask = candidates[chosen].task.id;
    return chosen;
  }
}

function better(a: Execution, b: Execution): boolean {
  return a.preemptions < b.preemptions || (a.preemptions === b.preemptions && a.steps < b.steps);
}

/** Shrink `failing` (a run of `target` with failure signature `signature`). */
export function shrink(target: ExploreTarget, config: MachineConfig, failing: Execution, signature: string, maxAttempts = 400): ShrinkResult {
  let best = failing;
  let attempts = 0;
  const tryEdit = (wanted: number[]): boolean => {
    if (attempts >= maxAttempts) return false;
    attempts++;
    const execution = runExecution(target, config, new LenientPlan(wanted));
    const outcome = classify(target, execution.result!);
    if (!isFailure(outcome) || outcome.signature !== signature || !better(execution, best)) return false;
    best = execution;
    return true;
  };
  let improved = true;
  while (improved && attempts < maxAttempts) {
    improved = dropPreemptions(best, tryEdit) || cutShort(best, tryEdit) || deleteChoices(best, tryEdit);
  }
  return {
    decisions: best.decisions.slice(),
    choiceTasks: best.choiceTasks.slice(),
    preemptions: best.preemptions,
    steps: best.steps,
    traceHash: best.result!.traceHash,
    attempts,
  };
}

type Edit = (wanted: number[]) => boolean;

/** Replace one chosen task by -1 ("continue the last task"), latest first. */
function dropPreemptions(best: Execution, tryEdit: Edit): boolean {
  const tasks = best.choiceTasks;
  for (let i = tasks.length - 1; i >= 0; i--) {
    if (i > 0 && tasks[i] === tasks[i - 1]) continue; // not a switch
    const wanted = tasks.slice();
    wanted[i] = -1;
    if (tryEdit(wanted)) return true;
  }
  return false;
}

/** Keep only a prefix of the choices, shortest first by halving. */
function cutShort(best: Execution, tryEdit: Edit): boolean {
  const tasks = best.choiceTasks;
  for (let keep = 0; keep < tasks.length; keep = keep === 0 ? 1 : keep * 2) {
    if (tryEdit(tasks.slice(0, keep))) return true;
  }
  return false;
}

function deleteChoices(best: Execution, tryEdit: Edit): boolean {
  const tasks = best.choiceTasks;
  for (let i = tasks.length - 1; i >= 0; i--) {
    if (tryEdit([...tasks.slice(0, i), ...tasks.slice(i + 1)])) return true;
  }
  return false;
}
