/**
 * One execution: a fresh machine, the target's program, and a plan that picks a
 * candidate at each step.
 *
 * The loop is `Machine.run` unrolled so a plan can also watch forced steps (DPOR
 * needs every event for its happens-before relation) and abandon a run (a DPOR run
 * that only has sleeping candidates left is redundant). The machine still records
 * only real choices in `decisions`, so the same decisions replay the same run through
 * the plain `Machine.run`.
 *
 * Preemptions are counted as the preemption-bounding literature does: choosing a
 * candidate marked `preempts`, or switching away from the task that ran last while it
 * could have gone on running.
 */

import { Machine, type Candidate, type MachineConfig, type RunResult } from "@foliosim/sim";
import type { ExploreTarget } from "./target.js";

/** What drives one execution. */
export interface ExecutionPlan {
  /**
   * Pick a candidate. Called at every step with more than one candidate, and at every
   * step when `everyStep` is set. Return -1 to abandon the execution.
   */
  choose(candidates: readonly Candidate[], machine: Machine): number;
  readonly everyStep?: boolean;
}

export interface Execution {
  /** Undefined when the plan abandoned the run. */
  result: RunResult | undefined;
  steps: number;
  preemptions: number;
  decisions: number[];
  /** Task id chosen at each real choice point (what shrinking edits). */
  choiceTasks: number[];
}

/** Budgets for one execution override the target's own. */
export interface ExecutionBudget {
  maxSteps?: number;
  maxVirtualNs?: number;
}

export function executionConfig(target: ExploreTarget, budget: ExecutionBudget): MachineConfig {
  const config: MachineConfig = { ...target.config };
  if (budget.maxSteps !== undefined) config.maxSteps = budget.maxSteps;
  if (budget.maxVirtualNs !== undefined) config.maxVirtualNs = budget.maxVirtualNs;
  return config;
}

export function runExecution(target: ExploreTarget, config: MachineConfig, plan: ExecutionPlan): Execution {
  const machine = new Machine(config);
  target.program(machine);
  const everyStep = plan.everyStep === true;
  const choiceTasks: number[] = [];
  let preemptions = 0;
  let lastTask = -1;
  for (;;) {
    const candidates = machine.candidates();
    const count = candidates.length;
    if (count === 0) break;
    let index = 0;
    if (count > 1 || everyStep) {
      index = plan.choose(candidates, machine);
      if (index < 0) return { result: undefined, steps: machine.stepCount, preemptions, decisions: machine.decisions, choiceTasks };
    }
    const chosen = candidates[index];
    if (count > 1) {
      choiceTasks.push(chosen.task.id);
      if (isPreemption(candidates, chosen, lastTask)) preemptions++;
    }
    lastTask = chosen.task.id;
    machine.step(index);
  }
  const result = machine.result();
  return { result, steps: result.steps, preemptions, decisions: result.decisions, choiceTasks };
}

/** Would running `chosen` preempt: is it marked so, or does it switch away from a task that could go on? */
export function isPreemption(candidates: readonly Candidate[], chosen: Candidate, lastTask: number): boolean {
  if (chosen.preempts) return true;
  if (lastTask < 0 || chosen.task.id === lastTask) return false;
  for (const candidate of candidates) if (candidate.task.id === lastTask) return true;
  return false;
}

/** Index of the candidate that keeps the last task running, or -1. */
export function continuingIndex(candidates: readonly Candidate[], lastTask: number): number {
  for (let i = 0; i < candidates.length; i++) if (candidates[i].task.id === lastTask && !candidates[i].preempts) return i;
  return -1;
}
