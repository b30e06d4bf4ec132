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
 * scheduling points estimated from previous executions (the largest count seen; the
 * first execution has none). At each choice point the highest-priority candidate runs;
 * at the j-th change point the task about to run drops to priority j (below every
 * initial one) first. Steps with a single candidate are forced and never count.
 *
 * Scheduling points: as in the PCT paper's implementation, only steps that can order
 * something against another task are scheduling points: a shared access (an object
 * another task also touches, one of them writing, learned from this and earlier
 * executions) or a choice between two tasks of one CPU. A task's private steps (its
 * own counters, its own stack) neither spend change points nor inflate k, which is
 * what makes late-window bugs behind long private prefixes cheap to hit
 * (`points: "all"` restores classic PCT, every choice point counted). For n tasks the
 * run finds any bug of depth d with probability at least 1/(n·k^(d−1)).
 */

import { Rng, type Candidate, type Machine, type Shared } from "@foliosim/sim";
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
  /** Estimated number of scheduling points k. */
  steps: number;
  /**
   * Which choice points are PCT scheduling points: `shared` (the default) only those
   * where the task about to run touches an object another task touches too, or shares
   * a CPU with another candidate; `all` every choice point.
   */
  points?: PctPoints;
  /** Names of objects earlier executions saw touched by two tasks, one writing (see `PctCampaign`). */
  shared?: ReadonlySet<string>;
}

export type PctPoints = "shared" | "all";

/** Who touched an object during one execution. */
interface Touch {
  task: number;
  byOthers: boolean;
  written: boolean;
}

export class PctPlan implements ExecutionPlan {
  /** Every step is observed: forced steps also show which task touches which object. */
  readonly everyStep = true;
  private readonly rng: Rng;
  /** Priority per task id; higher runs first. */
  private readonly priorities: number[] = [];
  /** Scheduling-point indices at which the running task is demoted, in order. */
  private readonly changePoints: number[];
  private readonly points: PctPoints;
  private readonly shared: ReadonlySet<string>;
  /** Objects touched in this execution, and by whom. */
  readonly touched = new Map<Shared, Touch>();
  /** Scheduling points passed in this execution (what k estimates). */
  schedulingPoints = 0;
  /** Tasks seen in this execution (n). */
  tasksSeen = 0;

  constructor(seed: number, readonly parameters: PctParameters) {
    this.rng = new Rng(seed);
    this.points = parameters.points ?? "shared";
    this.shared = parameters.shared ?? new Set();
    this.changePoints = [];
    if (parameters.steps > 0) {
      for (let j = 0; j < parameters.depth - 1; j++) this.changePoints.push(this.rng.int(parameters.steps));
    }
  }

  choose(candidates: readonly Candidate[], _machine: Machine): number {
    if (candidates.length === 1) {
      this.observe(candidates[0]);
      return 0;
    }
    for (const candidate of candidates) this.priorityOf(candidate.task.id);
    let best = this.highest(candidates);
    if (this.isSchedulingPoint(candidates, best)) {
      // Several change points may fall on the same scheduling point: apply each in turn.
      for (let j = 0; j < this.changePoints.length; j++) {
        if (this.changePoints[j] !== this.schedulingPoints) continue;
        this.priorities[candidates[best].task.id] = j + 1;
        best = this.highest(candidates);
      }
      this.schedulingPoints++;
    }
    this.observe(candidates[best]);
    return best;
  }

  /**
   * A task-local step (its own variables, nobody else's CPU) cannot order anything
   * against another task, so a priority change there only wastes a change point; PCT
   * places its scheduling points at shared accesses (Burckhardt et al., §4).
   */
  private isSchedulingPoint(candidates: readonly Candidate[], best: number): boolean {
    if (this.points === "all") return true;
    const chosen = candidates[best];
    for (let i = 0; i < candidates.length; i++) {
      if (i !== best && candidates[i].cpu === chosen.cpu) return true;
    }
    return this.touchesShared(chosen, chosen.op.reads, false) || this.touchesShared(chosen, chosen.op.writes, true);
  }

  private touchesShared(chosen: Candidate, objects: readonly Shared[], writing: boolean): boolean {
    for (const object of objects) {
      if (this.shared.has(object.name)) return true;
      const touch = this.touched.get(object);
      if (touch !== undefined && (touch.byOthers || touch.task !== chosen.task.id) && (writing || touch.written)) return true;
    }
    return false;
  }

  private observe(candidate: Candidate): void {
    if (this.points === "all") return;
    const task = candidate.task.id;
    for (const object of candidate.op.reads) this.touch(object, task, false);
    for (const object of candidate.op.writes) this.touch(object, task, true);
  }

  private touch(object: Shared, task: number, writing: boolean): void {
    const touch = this.touched.get(object);
    if (touch === undefined) this.touched.set(object, { task, byOthers: false, written: writing });
    else {
      if (touch.task !== task) touch.byOthers = true;
      if (writing) touch.written = true;
    }
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

/**
 * What a PCT campaign learns from its executions: k, the most scheduling points one
 * execution passed, and the objects seen shared (touched by two tasks, one of them
 * writing), so the next execution knows a step is a shared access even before the
 * second task has touched the object. Objects are named per execution, so they are
 * remembered by name; two objects with one name only make more scheduling points.
 */
export class PctCampaign {
  steps = 0;
  readonly shared = new Set<string>();
  constructor(
    readonly depth: number,
    readonly points: PctPoints = "shared",
  ) {}

  plan(seed: number): PctPlan {
    return new PctPlan(seed, { depth: this.depth, steps: this.steps, points: this.points, shared: this.shared });
  }

  learn(plan: PctPlan): void {
    this.steps = Math.max(this.steps, plan.schedulingPoints);
    for (const [object, touch] of plan.touched) if (touch.byOthers && touch.written) this.shared.add(object.name);
  }
}

/** PCT's probability bound for a bug of depth d: 1/(n·k^(d−1)). */
export function pctGuarantee(tasks: number, steps: number, depth: number): number {
  const n = Math.max(1, tasks);
  const k = Math.max(1, steps);
  return 1 / (n * Math.pow(k, depth - 1));
}
