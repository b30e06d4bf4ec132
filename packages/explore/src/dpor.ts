/**
 * Exhaustive stateless exploration with dynamic partial-order reduction.
 *
 * Source-DPOR with sleep sets (Abdulla, Aronis, Jonsson, Sagonas, POPL 2014,
 * Algorithm 1), run statelessly: every execution re-runs the program from scratch,
 * replaying the chosen tasks of a prefix of the previous execution and then choosing
 * afresh. Two events are dependent when their footprints share an object and one of
 * them writes it (`op.reads`/`op.writes`, compared by identity), or when they run on
 * the same CPU (they compete for it; a step that starts a task on another CPU, or
 * charges it an IPI, competes with that CPU's tasks too). Happens-before is tracked with vector clocks
 * indexed by task id.
 *
 * The machine's candidate set already encodes scheduling (FIFO, preemption points,
 * timers), so a task may be unable to run at the point where a race reversal wants it
 * (a non-preemptible holder keeps its CPU). The textbook answer is to add every
 * candidate there; here the reversal also walks back to the latest earlier frame where
 * one of the wanted tasks was a candidate, which is where the machine could really
 * have run it first (the soundness tests check this against naive enumeration).
 *
 * Blocking operations (locks, waits: an `enabled` predicate) are never reversed only
 * against the event that let them through: an unlock and the lock waiting for it are
 * never co-enabled, so the waiter cannot overtake it. As in Flanagan and Godefroid's
 * DPOR, such a race is also reversed against the latest earlier dependent event that
 * may be co-enabled with it (the acquisition behind the unlock); where the waiter was
 * seen blocked at the unlock, only there. "Blocked" means the operation's own
 * condition was false (`Machine.opEnabled`): a task that only waited for its CPU, or
 * for its turn in virtual time, may run there in another schedule.
 *
 * Virtual time couples the CPUs beyond footprints: under the skew bound a CPU that ran
 * ahead waits for the others, and a pending timer holds back every later step. Such
 * waits never disable a task that already could run, except a new timer: a step that
 * holds back another CPU's candidate that way (`Machine.timeHeld`) is never kept in a
 * sleep set. The property test (dpor.property.test.ts) checks all of this against
 * naive enumeration on generated programs with tight skew bounds and timers.
 *
 * Preemption bounding (optional): a choice that would exceed the bound is not
 * explored, and the run is then never `complete`, only `boundedComplete`: every
 * schedule with at most that many preemptions (`isPreemption`) was explored up to
 * equivalence. Two things keep that claim true. Sleep sets are off under a bound (an
 * explored sibling may stand for schedules that need more preemptions than the bound
 * allows). And, after Coons, Musuvathi and McKinley's bounded POR (OOPSLA 2013), a race
 * is also reversed at the start of the raced task's block of consecutive steps, where
 * switching need not be a preemption; virtual time decides some switches here (a task
 * held back by the skew bound), so every candidate is tried at that block start, and at
 * earlier ones until one where a wanted task can run within the bound. The property
 * test checks this against bounded naive enumeration.
 *
 * Progress: a Knuth-style estimate of the remaining tree, taking the current path's
 * backtrack-set sizes as the branching factors of the unexplored subtrees.
 */

import type { Candidate, Machine, Op, Shared } from "@foliosim/sim";
import type { Execution, ExecutionPlan } from "./execution.js";

export interface DporOptions {
  /** At most this many preemptions per execution (unbounded when absent). */
  preemptionBound?: number;
  /**
   * Split runs (dpor-split.ts): explore only the subtree below these choices (task ids
   * at steps 0..k-1). Backtrack points a race asks for at a step < k are not explored
   * here but recorded in `outsideRequests`, for the run that owns that step.
   */
  prefix?: readonly number[];
  /**
   * Plain DPOR with sleep sets: every write is a conflict, commutative updates
   * (`Op.commutes`) included. The reference the reductions are checked against.
   */
  plain?: boolean;
}

/** A backtrack point a subtree run found inside its prefix (see DporOptions.prefix). */
export interface BacktrackRequest {
  /** Explore `task` at step `depth` of the prefix… */
  depth: number;
  task: number;
  /** …unless one of `initials` is already in the backtrack set at step `depth` of `check` (the race's own step). */
  check?: { depth: number; initials: number[] };
}

/** A candidate as DPOR sees it: its task and footprint. */
interface EventInfo {
  task: number;
  cpu: number;
  /** The operation itself: identity tells whether a blocked task was already waiting at it. */
  op: Op<unknown>;
  reads: readonly Shared[];
  writes: readonly Shared[];
  /** Objects of `writes` updated commutatively (`Op.commutes`). */
  commutes: readonly Shared[];
  preempts: boolean;
  /** Other CPUs whose clock or run queue the step changed (`Machine.cpusTouched`): it competes with their tasks too. */
  cpus: readonly number[];
}

interface Frame {
  /** Candidates at this state, in machine order (this execution's objects). */
  candidates: EventInfo[];
  /** Each task's pending operation at this state (this execution's objects), by task id. */
  pending: (Op<unknown> | null)[];
  /** By task id: its pending operation's own condition is false here (a held lock, an unmet wait). */
  disabled: boolean[];
  chosen: number;
  backtrack: Set<number>;
  done: Set<number>;
  /** Sleepers: tasks whose step here is covered by an explored sibling (never one that went on to block). */
  sleep: Set<number>;
  /** Tasks explored here whose step went on to a blocking operation (`includeNextBlock`) or held another CPU's task back in time: never kept asleep. */
  wakeful: Set<number>;
  lastTask: number;
  preemptionsBefore: number;
}

export interface DporProgress {
  estimatedRemaining: number;
  progress: number;
}

export class Dpor {
  private readonly stack: Frame[] = [];
  /** Frames below this index replay the stack; the frame at it takes its new choice. */
  private replayDepth = 0;
  private started = false;
  private finished = false;
  /** A choice was skipped because of the preemption bound. */
  boundCut = false;
  sleepBlocked = 0;
  private estimate = 0;
  /** Split runs: backtrack points found inside the prefix, for another run to explore. */
  readonly outsideRequests: BacktrackRequest[] = [];
  private readonly prefixDepth: number;
  /** `options.plain`: commutative updates are plain writes. */
  private readonly plain: boolean;

  constructor(readonly options: DporOptions = {}) {
    this.prefixDepth = options.prefix?.length ?? 0;
    this.plain = options.plain === true;
  }

  /** Plan for the next execution, or null when the space is exhausted. */
  next(): ExecutionPlan | null {
    if (!this.started) {
      this.started = true;
      return new DporPlan(this);
    }
    if (this.finished || !this.selectNextBranch()) {
      this.finished = true;
      return null;
    }
    return new DporPlan(this);
  }

  get exhausted(): boolean {
    return this.finished;
  }

  /** Learn the races of the finished (or abandoned) execution. */
  finish(plan: ExecutionPlan, execution: Execution): void {
    const dporPlan = plan as DporPlan;
    if (execution.result === undefined) this.sleepBlocked++;
    this.stack.length = dporPlan.depth;
    const last = dporPlan.depth - 1;
    if (last >= 0 && dporPlan.machine !== undefined) noteUndeclaredAccesses(dporPlan.events[last], this.stack[last], dporPlan.machine);
    this.analyseRaces(dporPlan.events, dporPlan.firstNew);
    this.estimate = this.estimateRemaining();
  }

  progress(executions: number): DporProgress {
    const remaining = this.finished ? 0 : this.estimate;
    return { estimatedRemaining: remaining, progress: executions / (executions + remaining) };
  }

  // ------------------------------------------------------------ choosing

  /** Called by the plan at each step: pick a task index, or -1 to abandon. */
  choose(plan: DporPlan, candidates: readonly Candidate[], machine: Machine): number {
    const depth = plan.depth;
    plan.machine = machine;
    if (depth > 0) noteUndeclaredAccesses(plan.events[depth - 1], this.stack[depth - 1], machine);
    if (depth > 0 && includeNextBlock(plan.events[depth - 1], machine, this.plain)) this.stack[depth - 1].wakeful.add(plan.events[depth - 1].task);
    const infos = candidates.map((c) => eventInfo(c.task.id, c.cpu, c.op, c.preempts, this.plain));
    const pending = pendingOps(machine);
    const disabled = disabledOps(machine, infos);
    if (depth > 0) noteTimeDisabling(machine, this.stack[depth - 1]);
    let frame: Frame;
    if (depth < this.stack.length) {
      frame = this.stack[depth];
      frame.candidates = infos;
      frame.pending = pending;
      frame.disabled = disabled;
      if (depth >= this.replayDepth) plan.firstNew = Math.min(plan.firstNew, depth);
    } else {
      const sleep = depth === 0 ? new Set<number>() : this.sleepAfter(this.stack[depth - 1]);
      if (sleep.size > 0) wakeSleepersOfBlocked(sleep, infos, machine, this.plain);
      const lastTask = depth === 0 ? -1 : this.stack[depth - 1].chosen;
      const preemptionsBefore = depth === 0 ? 0 : this.stack[depth - 1].preemptionsBefore + this.preemptionCost(this.stack[depth - 1], this.stack[depth - 1].chosen);
      frame = { candidates: infos, pending, disabled, chosen: -1, backtrack: new Set(), done: new Set(), sleep, wakeful: new Set(), lastTask, preemptionsBefore };
      const pick = depth < this.prefixDepth ? this.prefixChoice(frame, depth) : this.freshChoice(frame);
      if (pick < 0) return -1;
      frame.chosen = pick;
      frame.backtrack.add(pick);
      frame.done.add(pick);
      this.stack.push(frame);
      plan.firstNew = Math.min(plan.firstNew, depth);
    }
    const index = infos.findIndex((c) => c.task === frame.chosen);
    if (index < 0) throw new Error(`dpor: task ${frame.chosen} is not a candidate at step ${depth} on replay: the program is not deterministic`);
    plan.events.push(infos[index]);
    plan.depth++;
    return index;
  }

  /** A new frame's choice: keep the last task running if possible, else the first awake candidate. */
  private freshChoice(frame: Frame): number {
    let blockedByBound = false;
    const order = [...frame.candidates].sort((a, b) => Number(a.task !== frame.lastTask) - Number(b.task !== frame.lastTask));
    for (const candidate of order) {
      if (frame.sleep.has(candidate.task)) continue;
      if (!this.withinBound(frame, candidate.task)) {
        blockedByBound = true;
        continue;
      }
      return candidate.task;
    }
    if (blockedByBound) this.boundCut = true;
    return -1;
  }

  /** 1 when choosing `task` at `frame` is a preemption (same rule as `isPreemption`). */
  private preemptionCost(frame: Frame, task: number): number {
    const infos = frame.candidates;
    if (infos.length < 2) return 0;
    if (infos.some((c) => c.task === task && c.preempts)) return 1;
    if (frame.lastTask < 0 || task === frame.lastTask) return 0;
    return infos.some((c) => c.task === frame.lastTask) ? 1 : 0;
  }

  private withinBound(frame: Frame, task: number): boolean {
    const bound = this.options.preemptionBound;
    if (bound === undefined) return true;
    return frame.preemptionsBefore + this.preemptionCost(frame, task) <= bound;
  }

  /** Sleep set on arrival at the frame after `frame`: sleepers and explored siblings independent of the choice. */
  private sleepAfter(frame: Frame): Set<number> {
    // Under a preemption bound, an execution a sleeper stands for may need more
    // preemptions than the bound allows (the explored sibling ran first and was then
    // preempted): sleep sets are off.
    if (this.options.preemptionBound !== undefined) return new Set();
    const chosen = frame.candidates.find((c) => c.task === frame.chosen)!;
    const next = new Set<number>();
    for (const task of frame.sleep) keepAsleep(frame, task, chosen, next);
    // What a blocking operation after an explored step depends on is known only for the
    // execution that ran it (objects are per execution): such a sibling is not put to sleep.
    for (const task of frame.done) if (task !== frame.chosen && !frame.wakeful.has(task)) keepAsleep(frame, task, chosen, next);
    return next;
  }

  /** Pick the deepest frame with an unexplored, awake backtrack entry. */
  private selectNextBranch(): boolean {
    for (let depth = this.stack.length - 1; depth >= this.prefixDepth; depth--) {
      const frame = this.stack[depth];
      for (const candidate of frame.candidates) {
        const task = candidate.task;
        if (!frame.backtrack.has(task) || frame.done.has(task) || frame.sleep.has(task)) continue;
        if (!this.withinBound(frame, task)) {
          frame.done.add(task);
          this.boundCut = true;
          continue;
        }
        this.stack.length = depth + 1;
        frame.chosen = task;
        frame.done.add(task);
        this.replayDepth = depth;
        return true;
      }
    }
    this.stack.length = 0;
    return false;
  }

  // ------------------------------------------------------------ races

  private analyseRaces(events: EventInfo[], firstNew: number): void {
    const clocks: number[][] = [];
    const races: [number, number][] = [];
    const lastOfTask: number[] = [];
    const lastOnCpu: number[] = [];
    const accesses = new Map<Shared, Accesses>();
    for (let j = 0; j < events.length; j++) {
      const event = events[j];
      const predecessors = directPredecessors(event, lastOnCpu, accesses);
      const previous = lastOfTask[event.task];
      const clock = previous === undefined ? [] : clocks[previous].slice();
      for (const i of predecessors) {
        const other = events[i].task;
        if (other === event.task) continue;
        if (!((clock[other] ?? -1) >= i) && j >= firstNew) races.push([i, j]);
        join(clock, clocks[i]);
      }
      clock[event.task] = j;
      clocks.push(clock);
      lastOfTask[event.task] = j;
      record(event, j, lastOnCpu, accesses);
    }
    // Reverse only once every clock is known: the initials test needs j's own clock.
    for (const [i, j] of races) {
      const wanted = events[j];
      // Event i let j through: j was pending and disabled before i, enabled after it.
      const enabling = this.blockedAt(i, wanted) && !this.blockedAt(i + 1, wanted);
      if (!enabling) this.reverseRace(events, clocks, i, j);
      // A blocking operation may be disabled before i even where this execution did not
      // show it (its task was not there yet): the lock behind an unlock. Reverse with the
      // latest earlier dependent event too, where it may be co-enabled.
      if (enabling || wanted.op.enabled !== undefined) {
        const k = this.coEnabledBefore(events, i, wanted);
        if (k >= 0) this.reverseRace(events, clocks, k, j);
      }
    }
  }

  /**
   * Event j can run before event i only if it is not disabled at the state before i:
   * an unlock and the lock it lets through, a wake-up and its waiter, are never
   * co-enabled. Flanagan and Godefroid (POPL 2005) then reverse with the latest earlier
   * dependent event that may be co-enabled with j: the lock acquisition behind the
   * unlock. This finds it: the latest dependent event of another task before i at which
   * j's own operation was not seen pending and disabled (-1 when there is none).
   */
  private coEnabledBefore(events: EventInfo[], i: number, wanted: EventInfo): number {
    for (let k = i - 1; k >= 0; k--) {
      const event = events[k];
      if (event.task === wanted.task || !dependent(event, wanted)) continue;
      if (!this.blockedAt(k, wanted)) return k;
    }
    return -1;
  }

  /**
   * Was `event`'s own operation pending and disabled by its own condition (a held
   * lock, an unmet wait) at the state before frame `depth`? A task that only waits for
   * its CPU or its turn in virtual time is not: another schedule may run it there.
   */
  private blockedAt(depth: number, event: EventInfo): boolean {
    const frame = this.stack[depth];
    if (frame === undefined) return false;
    if (frame.pending[event.task] !== event.op) return false;
    return frame.disabled[event.task] === true;
  }

  /** Make sure some initial of notdep(i).j is explored at the state before event i. */
  private reverseRace(events: EventInfo[], clocks: number[][], i: number, j: number): void {
    const raced = events[i].task;
    const initials: number[] = [];
    const firstInV: number[] = [];
    const consider = (k: number) => {
      const task = events[k].task;
      if (firstInV[task] !== undefined) return;
      const clock = clocks[k];
      let isInitial = true;
      for (let t = 0; t < firstInV.length; t++) {
        if (firstInV[t] !== undefined && (clock[t] ?? -1) >= firstInV[t]) {
          isInitial = false;
          break;
        }
      }
      firstInV[task] = k;
      if (isInitial) initials.push(task);
    };
    for (let k = i + 1; k < j; k++) if ((clocks[k][raced] ?? -1) < i) consider(k);
    consider(j);
    const frame = this.stack[i];
    // Time couples the CPUs (the skew bound, timers) and a task keeps its CPU until it
    // reaches a preemption point: an initial of v may be unable to run v to its end
    // without the very event it was meant to overtake. So the racing task itself is
    // also tried, at i or, where it cannot run at i, at the latest point before where it
    // could (before the other task took its CPU).
    const racer = events[j].task;
    for (let depth = i; depth >= 0; depth--) {
      if (!this.stack[depth].candidates.some((c) => c.task === racer)) continue;
      this.addBacktrack(depth, racer, i, initials);
      break;
    }
    if (this.options.preemptionBound !== undefined) this.reverseAtBlockStart(i, [racer, ...initials], initials);
    if (initials.some((task) => frame.backtrack.has(task))) return;
    // The wanted task may not be runnable there (its CPU is held): walk back to where it was.
    for (let depth = i; depth >= 0; depth--) {
      const here = this.stack[depth];
      const runnable = initials.find((task) => here.candidates.some((c) => c.task === task));
      if (runnable === undefined) continue;
      this.addBacktrack(depth, runnable, i, initials);
      return;
    }
    for (const candidate of frame.candidates) this.addBacktrack(i, candidate.task, i, initials);
  }

  /**
   * Preemption bounding (Coons, Musuvathi and McKinley, "Bounded partial-order
   * reduction", OOPSLA 2013): running a task at the race point may be a preemption the
   * bound forbids, while running it where the raced task's block of consecutive steps
   * began is not (the raced task had not started yet, or its predecessor had stopped).
   * So every candidate is tried at that block start, and at the block starts before it
   * until one where a wanted task can run within the bound (virtual time decides some
   * switches: which tasks are candidates there is not only a matter of preemption).
   */
  private reverseAtBlockStart(i: number, tasks: readonly number[], initials: number[]): void {
    const wanted = new Set(tasks);
    for (let depth = this.blockStart(i); depth >= 0; depth = this.blockStart(depth - 1)) {
      const here = this.stack[depth];
      for (const c of here.candidates) this.addBacktrack(depth, c.task, i, initials);
      if (here.candidates.some((c) => wanted.has(c.task) && this.withinBound(here, c.task))) return;
    }
  }

  /** The first step of the run of consecutive steps by the task chosen at `depth` (-1 below 0). */
  private blockStart(depth: number): number {
    if (depth < 0) return -1;
    const task = this.stack[depth].chosen;
    while (depth > 0 && this.stack[depth - 1].chosen === task) depth--;
    return depth;
  }

  // ------------------------------------------------------------ split runs (dpor-split.ts)

  /** The prefix's task at a step below prefix.length. */
  private prefixChoice(frame: Frame, depth: number): number {
    const task = this.options.prefix![depth];
    if (!frame.candidates.some((c) => c.task === task)) throw new Error(`dpor: the prefix's task ${task} is not a candidate at step ${depth}: the prefix does not belong to this program`);
    return task;
  }

  /** Add a backtrack point; inside the prefix it becomes a request for the run that owns that step. */
  private addBacktrack(depth: number, task: number, raceDepth: number, initials: number[]): void {
    const frame = this.stack[depth];
    if (depth >= this.prefixDepth) {
      frame.backtrack.add(task);
      return;
    }
    if (frame.backtrack.has(task)) return;
    if (!this.withinBound(frame, task)) {
      this.boundCut = true;
      return;
    }
    const request: BacktrackRequest = { depth, task };
    if (raceDepth < this.prefixDepth) request.check = { depth: raceDepth, initials: [...initials] };
    this.outsideRequests.push(request);
  }

  /**
   * Stop here and hand every open branch below the prefix out as a prefix of its own
   * (sleep sets are dropped at that boundary: the new runs only explore more). Also
   * returns each step's backtrack and done sets on the current path, which decide
   * whether a later request for that step is already covered.
   */
  handOut(): { branches: number[][]; nodes: { path: number[]; backtrack: number[]; done: number[] }[] } {
    const path = this.stack.map((frame) => frame.chosen);
    const branches: number[][] = [];
    const nodes: { path: number[]; backtrack: number[]; done: number[] }[] = [];
    for (let depth = this.prefixDepth; depth < this.stack.length; depth++) {
      const frame = this.stack[depth];
      nodes.push({ path: path.slice(0, depth), backtrack: [...frame.backtrack].sort((a, b) => a - b), done: [...frame.done].sort((a, b) => a - b) });
      for (const candidate of frame.candidates) {
        const task = candidate.task;
        if (!frame.backtrack.has(task) || frame.done.has(task) || frame.sleep.has(task)) continue;
        frame.done.add(task);
        if (!this.withinBound(frame, task)) this.boundCut = true;
        else branches.push([...path.slice(0, depth), task]);
      }
    }
    this.finished = true;
    this.stack.length = 0;
    this.estimate = 0;
    return { branches, nodes };
  }

  // ------------------------------------------------------------ progress

  private estimateRemaining(): number {
    let below = 1;
    let remaining = 0;
    for (let depth = this.stack.length - 1; depth >= 0; depth--) {
      const frame = this.stack[depth];
      let open = 0;
      for (const task of frame.backtrack) if (!frame.done.has(task) && !frame.sleep.has(task)) open++;
      remaining += open * below;
      below *= Math.max(1, frame.backtrack.size);
      if (remaining > 1e15) return 1e15;
    }
    return Math.round(remaining);
  }
}

class DporPlan implements ExecutionPlan {
  readonly everyStep = true;
  depth = 0;
  firstNew = Infinity;
  readonly events: EventInfo[] = [];
  /** The execution's machine, to read what its last step wrote beyond its footprint. */
  machine: Machine | undefined;
  constructor(private readonly dpor: Dpor) {}
  choose(candidates: readonly Candidate[], machine: Machine): number {
    return this.dpor.choose(this, candidates, machine);
  }
}

/**
 * The step that brings a task to a blocking operation also decides whether it blocks
 * there: the machine checks the operation's condition right after the step, without
 * a step of its own (a mutex_unlock followed by a mutex_lock of a mutex another task
 * holds puts the task to sleep, and its wake-up latency shapes the rest of the run).
 * So that step also reads what the blocking operation depends on.
 */
function includeNextBlock(event: EventInfo, machine: Machine, plain: boolean): boolean {
  const task = machine.tasks[event.task];
  const next = task?.pending;
  if (task === undefined || task.state === "done" || next === null || next === undefined || next.enabled === undefined) return false;
  // A commutative update is never what a condition reads (Op.commutes).
  const conditionWrites = plain ? next.writes : next.writes.filter((s) => !next.commutes.includes(s));
  event.reads = union(union(event.reads, next.reads), conditionWrites);
  return true;
}

/** `base` and then the objects of `extra` it lacks, as a new list. */
function union(base: readonly Shared[], extra: readonly Shared[]): Shared[] {
  const out = [...base];
  for (const s of extra) if (!out.includes(s)) out.push(s);
  return out;
}

/**
 * What the step just run wrote or read beyond its operation's footprint
 * (`Machine.noteWrite`: the free list a freed folio went back to; `Machine.noteRead`:
 * the contents of the folio a user load found mapped) is a write or read of that event,
 * and the other CPUs it changed (`Machine.cpusTouched`: a kworker it started there, an
 * IPI it charged there) are CPUs it runs on, for its races and for the sleepers it
 * wakes. Its task is never kept asleep as an explored sibling of the frame: its
 * footprint, all a sleeper is judged by, does not say what it touched.
 */
function noteUndeclaredAccesses(event: EventInfo, frame: Frame, machine: Machine): void {
  const extra = machine.undeclaredWrites();
  const extraReads = machine.undeclaredReads();
  const cpus = machine.cpusTouched();
  if (extra.length === 0 && extraReads.length === 0 && cpus.length === 0) return;
  if (cpus.length > 0) event.cpus = [...cpus];
  if (extra.length > 0) event.writes = union(event.writes, extra);
  if (extraReads.length > 0) event.reads = union(event.reads, extraReads);
  frame.wakeful.add(event.task);
}

/**
 * A sleeper stays asleep past `chosen` when it is still a candidate and independent of
 * `chosen`. A sleeper that is no longer a candidate is dropped: waking it only adds work.
 */
function keepAsleep(frame: Frame, task: number, chosen: EventInfo, into: Set<number>): void {
  const info = frame.candidates.find((c) => c.task === task);
  if (info !== undefined && !dependent(info, chosen)) into.add(task);
}

/**
 * A task that goes to sleep on a blocking operation (a held mutex, an unmet wait
 * condition) does so while candidates are worked out, without a step of its own: a
 * hidden event that reads what its operation reads. Whether it blocks decides its
 * wake-up latency and so the rest of the run, so a sleeper dependent with that hidden
 * event is woken: the execution where the sleeper runs after the block is not the one
 * explored when it ran before it.
 */
function wakeSleepersOfBlocked(sleep: Set<number>, candidates: readonly EventInfo[], machine: Machine, plain: boolean): void {
  for (const task of machine.tasks) {
    const op = task.pending;
    if (task.state === "done" || op === null || op.enabled === undefined) continue;
    if (candidates.some((c) => c.task === task.id)) continue;
    const blocked = eventInfo(task.id, task.cpu, op, false, plain);
    for (const c of candidates) if (sleep.has(c.task) && dependent(c, blocked)) sleep.delete(c.task);
  }
}

/**
 * A step that holds back, in virtual time, a task of another CPU that was a candidate
 * before it (it started a timed wait whose timer now comes first) disables that task
 * without sharing an object with it. Like a step that goes on to a blocking operation,
 * it is never kept asleep: the execution where the other task ran first is not the
 * one explored when this step ran first. (Running ahead holds back only the task
 * itself and the others of its CPU, with which it is dependent anyway.)
 */
function noteTimeDisabling(machine: Machine, previous: Frame): void {
  const holds = machine.timeHeld();
  if (holds.length === 0) return;
  const cpu = machine.tasks[previous.chosen].cpu;
  for (const task of holds) {
    if (machine.tasks[task].cpu === cpu) continue;
    if (previous.candidates.some((c) => c.task === task)) previous.wakeful.add(previous.chosen);
  }
}

/** By task id: its pending operation's own condition is false (candidates never are). */
function disabledOps(machine: Machine, candidates: readonly EventInfo[]): boolean[] {
  const out: boolean[] = [];
  for (const task of machine.tasks) {
    const op = task.pending;
    out[task.id] = task.state !== "done" && op !== null && op.enabled !== undefined && !candidates.some((c) => c.task === task.id) && !machine.opEnabled(task);
  }
  return out;
}

function pendingOps(machine: Machine): (Op<unknown> | null)[] {
  const out: (Op<unknown> | null)[] = [];
  for (const task of machine.tasks) out[task.id] = task.state === "done" ? null : task.pending;
  return out;
}

const NONE: readonly Shared[] = [];

/** `task`'s step `op` on `cpu` as DPOR sees it; `plain` drops its commutative updates. */
function eventInfo(task: number, cpu: number, op: Op<unknown>, preempts: boolean, plain: boolean): EventInfo {
  return { task, cpu, op, reads: op.reads, writes: op.writes, commutes: plain ? NONE : op.commutes, preempts, cpus: NO_CPUS };
}

const NO_CPUS: readonly number[] = [];

/** The two events compete for a CPU: they run on one, or one changed the other's (`Machine.cpusTouched`). */
function shareCpu(a: EventInfo, b: EventInfo): boolean {
  if (a.cpu === b.cpu) return true;
  if (a.cpus.length === 0 && b.cpus.length === 0) return false;
  return a.cpus.includes(b.cpu) || b.cpus.includes(a.cpu) || a.cpus.some((c) => b.cpus.includes(c));
}

/**
 * The machine's dependency relation: same CPU, or a shared object written by either
 * (two commutative updates of one object, `Op.commutes`, are not a conflict).
 */
export function dependent(a: EventInfo, b: EventInfo): boolean {
  if (shareCpu(a, b)) return true;
  for (const w of a.writes) {
    if (b.reads.includes(w)) return true;
    if (b.writes.includes(w) && !(a.commutes.includes(w) && b.commutes.includes(w))) return true;
  }
  for (const w of b.writes) if (a.reads.includes(w)) return true;
  return false;
}

/** Per shared object: the last plain write, and the reads and commutative updates since. */
interface Accesses {
  lastWrite: number;
  reads: number[];
  commuting: number[];
}

/**
 * The latest dependent events before `event`, latest first: every other dependent
 * event happens before one of these, so only these can be in a race with it.
 */
function directPredecessors(event: EventInfo, lastOnCpu: number[], accesses: Map<Shared, Accesses>): number[] {
  const found = new Set<number>();
  const onCpu = lastOnCpu[event.cpu];
  if (onCpu !== undefined) found.add(onCpu);
  for (const cpu of event.cpus) if (lastOnCpu[cpu] !== undefined) found.add(lastOnCpu[cpu]);
  for (const object of event.reads) {
    const a = accesses.get(object);
    if (a === undefined) continue;
    if (a.lastWrite >= 0) found.add(a.lastWrite);
    for (const c of a.commuting) found.add(c);
  }
  for (const object of event.writes) {
    const a = accesses.get(object);
    if (a === undefined) continue;
    if (a.lastWrite >= 0) found.add(a.lastWrite);
    for (const r of a.reads) found.add(r);
    // Commutative updates of one object do not order each other.
    if (!event.commutes.includes(object)) for (const c of a.commuting) found.add(c);
  }
  return [...found].sort((a, b) => b - a);
}

function record(event: EventInfo, index: number, lastOnCpu: number[], accesses: Map<Shared, Accesses>): void {
  lastOnCpu[event.cpu] = index;
  for (const cpu of event.cpus) lastOnCpu[cpu] = index;
  for (const object of event.reads) accessesOf(accesses, object).reads.push(index);
  for (const object of event.writes) {
    const a = accessesOf(accesses, object);
    if (event.commutes.includes(object)) {
      a.commuting.push(index);
      continue;
    }
    a.lastWrite = index;
    a.reads = [];
    a.commuting = [];
  }
}

function accessesOf(accesses: Map<Shared, Accesses>, object: Shared): Accesses {
  let a = accesses.get(object);
  if (a === undefined) accesses.set(object, (a = { lastWrite: -1, reads: [], commuting: [] }));
  return a;
}

function join(into: number[], other: number[]): void {
  for (let t = 0; t < other.length; t++) {
    const v = other[t];
    if (v !== undefined && (into[t] === undefined || v > into[t])) into[t] = v;
  }
}
