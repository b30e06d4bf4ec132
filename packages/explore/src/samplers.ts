/**
 * Sampling strategies: `random` (seeded uniform choice, the baseline) and `pct`
 * (probabilistic concurrency testing, Burckhardt, Kothari, Musuvathi, Nagarakatte,
 * ASPLOS 2010).
 *
 * Every execution gets its own seed derived from (base seed, execution index), so an
 * execution's schedule does not depend on how many executions ran before it. That is
 * what lets a worker pool or a shard run any slice of a sampling campaign and still
 * produce the executions a single process would.
 *
 * PCT, adapted to the machine: each task gets a random priority when first seen
 * (initial priorities rank above d); d−1 change points are drawn uniformly over the k
 * choice points estimated from previous executions (the largest count seen; the first
 * execution has none). At each choice point the highest-priority candidate runs; at
 * the j-th change point the task about to run drops to priority j (below every initial
 * one) first. Steps with a single candidate are forced, so only choice points count
 * toward k. For n tasks the run finds any bug of depth d with probability at least
 * 1/(n·k^(d−1)).
 */

import { Rng, type Candidate, type Machine } from "@foliosim/sim";
import type { ExecutionPlan } from "./execution.js";

/** splitmix32 of (seed, index): independent, reproducible per-execution seeds. */
export function executionSeed(seed: number, index: number): number {
  let z = (Math.imul(seed | 0, 0x9e3779b9) + Math.imul(index + 1, 0x85ebca6b)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

export class RandomPlan implements ExecutionPlan {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  choose(candidates: readonly Candidate[]): number {
    return this.rng.int(candidates.length);
  }
}

export interface PctParameters {
  /** Bug depth d (default 3). */
  depth: number;
  /** Estimated number of choice points k. */
  steps: number;
}

export class PctPlan implements ExecutionPlan {
  private readonly rng: Rng;
  /** Priority per task id; higher runs first. */
  private readonly priorities: number[] = [];
  /** Choice-point indices at which the running task is demoted, in order. */
  private readonly changePoints: number[];
  private choicePoint = 0;
  /** Tasks seen in this execution (n). */
  tasksSeen = 0;

  constructor(seed: number, readonly parameters: PctParameters) {
    this.rng = new Rng(seed);
    this.changePoints = [];
    if (parameters.steps > 0) {
      for (let j = 0; j < parameters.depth - 1; j++) this.changePoints.push(this.rng.int(parameters.steps));
    }
  }

  choose(candidates: readonly Candidate[], _machine: Machine): number {
    for (const candidate of candidates) this.priorityOf(candidate.task.id);
    let best = this.highest(candidates);
    // Several change points may fall on the same choice point: apply each in turn.
    for (let j = 0; j < this.changePoints.length; j++) {
      if (this.changePoints[j] !== this.choicePoint) continue;
      this.priorities[candidates[best].task.id] = j + 1;
      best = this.highest(candidates);
    }
    this.choicePoint++;
    return best;
  }

  private priorityOf(taskId: number): number {
    let priority = this.priorities[taskId];
    if (priority === undefined) {
      // Above every change-point priority (1..d-1); random order among tasks.
      priority = this.parameters.depth + 1 + this.rng.next();
      this.priorities[taskId] = priority;
      this.tasksSeen++;
    }
    return priority;
  }

  private highest(candidates: readonly Candidate[]): number {
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      if (this.priorities[candidates[i].task.id] > this.priorities[candidates[best].task.id]) best = i;
    }
    return best;
  }
}

/** PCT's probability bound for a bug of depth d: 1/(n·k^(d−1)). */
export function pctGuarantee(tasks: number, steps: number, depth: number): number {
  const n = Math.max(1, tasks);
  const k = Math.max(1, steps);
  return 1 / (n * Math.pow(k, depth - 1));
}
