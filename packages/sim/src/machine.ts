/**
 * The simulated machine: CPUs with one runqueue each, tasks bound to CPUs, the
 * scheduling rules of kernel/sched (SCHED_NORMAL and SCHED_FIFO, preemption models),
 * virtual time, timers, and hang detection.
 *
 * Models: kernel/sched/core.c (`__schedule`, `preempt_schedule`, `cond_resched`,
 * `try_to_wake_up`), kernel/sched/rt.c (FIFO runs until it sleeps), kernel/sched/fair.c
 * (the base slice bounds how long a runnable normal task waits at a preemption point).
 *
 * Simplifications, on purpose:
 * - The machine is a pure step function: `candidates()` lists what may run now, a
 *   chooser picks one, `step(i)` runs it atomically. Nothing here reads a wall clock
 *   or `Math.random`.
 * - Time is per CPU. Operations on different CPUs interleave freely (their costs are
 *   estimates), but timers are anchored: a sleeping task's deadline fires only when no
 *   runnable operation could start earlier, and no operation starts later than a
 *   pending deadline before that timer has fired.
 * - `none`: preemption only at `cond_resched()`, the explicit point a PREEMPT_NONE
 *   kernel has; `voluntary`: also at `might_sleep()` annotations; `full`: at any
 *   operation boundary outside preempt-disabled sections. A strictly higher-priority
 *   runnable task always takes the CPU at the next preemption point.
 * - Spinning on a lock that is not free (`Block.Spin`) holds the CPU without steps;
 *   an explicit trylock + `cpu_relax()` loop is made of steps and is what livelock
 *   detection watches.
 */

import { DEFAULT_JUMP_LABEL, machineCosts, type CostModel, type JumpLabelModel } from "./costs.js";
import { ModelError, SimConfigError } from "./errors.js";
import { Block, type Op, type Shared, type TaskGen } from "./op.js";
import { setRunningSource } from "./footprint-check.js";
import { CycleDetector, type LivelockCycle } from "./livelock.js";
import { MachineTrace } from "./machine-trace.js";
import type { EventArgs, Trace, TraceEvent } from "./trace.js";

export type Policy = "normal" | "fifo";
export type PreemptionModel = "none" | "voluntary" | "full";

export interface MachineConfig {
  cpus: number;
  /** Default "voluntary", the usual distribution kernel. */
  preemption?: PreemptionModel;
  costs?: Partial<CostModel>;
  jumpLabel?: Partial<JumpLabelModel>;
  /** A livelock is declared after this many steps AND this much virtual time without a state change. */
  livelock?: { steps?: number; ns?: number };
  /** Budgets for one execution. */
  maxSteps?: number;
  maxVirtualNs?: number;
  /** Record trace events (the hash is always computed). Default true. */
  trace?: boolean;
  /**
   * CPUs run in parallel: an operation may not start more than this far (ns) ahead of
   * the earliest runnable operation on another CPU. Default 50 us. Without it a chooser
   * could starve a CPU forever, which no real machine does.
   */
  maxSkewNs?: number;
  /**
   * Kernel variant choices, read by the modelled layers through their variation points
   * (see ./variant.ts): a built-in or registered variant id, a `Variant` object, or a
   * boolean for an on/off point. The machine itself never looks at them.
   */
  kernel?: Record<string, KernelOptionValue>;
}

/** One kernel option's value: an id, a boolean (on/off points), a number, or a variant object. */
export type KernelOptionValue = string | boolean | number | object;

export interface TaskSpec<R = unknown> {
  name: string;
  cpu: number;
  policy?: Policy;
  /** SCHED_FIFO priority, 1..99. */
  priority?: number;
  body: (task: Task) => TaskGen<R>;
  /** Daemons (kworkers) never finish and do not keep a run alive. */
  daemon?: boolean;
  /**
   * The body is a loop that keeps nothing from one pass to the next but what it finds
   * through the machine (`currentMachine()`, `task`): a task waiting at its
   * `restartPoint` op may be restarted from `body` (a machine snapshot does so).
   */
  restartable?: boolean;
}

export type TaskState = "ready" | "blocked" | "done";

export class Task {
  readonly id: number;
  readonly name: string;
  readonly cpu: number;
  readonly policy: Policy;
  readonly priority: number;
  readonly daemon: boolean;
  /** The body, for a restartable task (TaskSpec.restartable). */
  readonly restartBody: ((task: Task) => TaskGen<unknown>) | undefined;
  gen!: TaskGen<unknown>;
  pending: Op<unknown> | null = null;
  state: TaskState = "ready";
  result: unknown = undefined;
  /** preempt_count: >0 inside preempt_disable, local_lock and spinlock sections. */
  preemptCount = 0;
  /** RCU read-side nesting (rcu_read_lock). */
  rcuReadDepth = 0;
  /** Task flags (`current->flags`: PF_MEMALLOC_PIN, ...). Task-local. */
  flags = 0;
  /** Set by `wake_up` on a wait queue this task sleeps on. */
  woken = false;
  /** Virtual time at which the pending op became runnable after a block. */
  readyAt = 0;
  /** Since when the task has been runnable but not running (-1: not waiting). */
  runnableSince = -1;
  /** What the task was last seen spinning on (a failed trylock), for livelock reports. */
  spinningOn: string | undefined = undefined;
  /** The last failed trylock and its step, kept across progress (a cycle's report names it). */
  lastSpin: { what: string; step: number } | undefined = undefined;
  /** Open modelled kernel functions (`traced`), innermost last. */
  readonly frames: string[] = [];
  constructor(id: number, spec: TaskSpec<unknown>) {
    this.id = id;
    this.name = spec.name;
    this.cpu = spec.cpu;
    this.policy = spec.policy ?? "normal";
    this.priority = this.policy === "fifo" ? (spec.priority ?? 50) : 0;
    this.daemon = spec.daemon ?? false;
    this.restartBody = spec.restartable ? spec.body : undefined;
  }
  /** Scheduling rank: every FIFO task outranks every normal task. */
  get rank(): number {
    return this.policy === "fifo" ? 100 + this.priority : 0;
  }
}

class Cpu {
  clock = 0;
  current: Task | null = null;
  lastRan: Task | null = null;
  readonly tasks: Task[] = [];
  /** Quiescent states passed (context switches, cond_resched, idle). */
  qs = 0;
  qsAt = 0;
  kworker: Task | null = null;
  /**
   * This CPU's candidates as last worked out, before the timer cut. They are reused
   * while nothing they depend on can have changed: the CPU is not `dirty` (no step,
   * spawn, charge or timer touched it since) and no task here waits on an `enabled`
   * predicate, which may read any shared state. This relies on a task's scheduling
   * fields (pending op, state, preempt count) changing only in the machine or in that
   * task's own steps, never in another CPU's.
   */
  readonly listed: Candidate[] = [];
  listedCount = 0;
  dirty = true;
  /** Tasks here whose pending op asks an `enabled` predicate (see `asksPredicate`). */
  predicateTasks = 0;
  constructor(readonly id: number) {}
}

export interface Candidate {
  task: Task;
  op: Op<unknown>;
  cpu: number;
  /** Virtual time at which the op would start. */
  time: number;
  /** Choosing it switches its CPU away from a task that could have gone on running. */
  preempts: boolean;
}

export interface Chooser {
  /** Pick one of `candidates` (never empty); return its index. */
  choose(candidates: readonly Candidate[], machine: Machine): number;
}

export type RunStatus = "running" | "done" | "deadlock" | "livelock" | "invariant" | "step-limit" | "time-limit";

export interface HangTask {
  task: string;
  cpu: number;
  /** blocked (sleeping), spinning (holds its CPU), looping (runs without changing state), runnable (wants its CPU). */
  state: "blocked" | "spinning" | "looping" | "runnable";
  /** What it waits for or spins on, in kernel terms. */
  waitsFor: string;
  /** Modelled kernel functions open on its stack, outermost first. */
  stack: string[];
}

export interface HangReport {
  kind: "deadlock" | "livelock";
  message: string;
  tasks: HangTask[];
  /** Objects the blocked tasks wait on whose write counters did not move. */
  stalled: { object: string; writes: number }[];
  step: number;
  virtualNs: number;
  /** A livelock found as a repeated global state (./livelock.ts): the cycle. */
  cycle?: LivelockCycle;
}

export interface InvariantFailure {
  message: string;
  task: string | undefined;
  step: number;
  operation?: string;
  object?: string;
  /** The program misused the model (a `ModelError` with `usage`), not a kernel invariant. */
  usage?: true;
}

export interface RunResult {
  status: RunStatus;
  steps: number;
  virtualNs: number;
  hang?: HangReport;
  failure?: InvariantFailure;
  tasks: { name: string; cpu: number; state: TaskState; result: unknown }[];
  /** Every task of the run, daemons included, indexed by task id (trace events name tasks by id). */
  taskTable: { id: number; name: string; cpu: number; policy: Policy; priority: number; daemon: boolean }[];
  cpus: number;
  counters: Record<string, number>;
  trace: readonly TraceEvent[];
  traceHash: string;
  /** Candidate index chosen at each step that had more than one candidate. */
  decisions: number[];
  /** What upper layers recorded about the run (call results, final states): plain data. */
  annotations: Record<string, unknown>;
}

// Module variables live in a long-lived object: storing a young task or machine there
// costs a write barrier, so the machine stores only when the value changes.
let CURRENT: Task | null = null;
let CURRENT_MACHINE: Machine | null = null;

// Footprint checking (./footprint-check.ts) asks who runs; it is not called otherwise.
setRunningSource(() => (CURRENT !== null && CURRENT_MACHINE !== null ? { machine: CURRENT_MACHINE, task: CURRENT } : null));

/** `current`: the task whose code is running (inside an op or between two yields). */
export function current(): Task {
  if (!CURRENT) throw new Error("current() called outside a task");
  return CURRENT;
}

/** The machine the current task runs on. */
export function currentMachine(): Machine {
  if (!CURRENT_MACHINE) throw new Error("currentMachine() called outside a task");
  return CURRENT_MACHINE;
}

/**
 * A check run after every step that changed state. `written` holds the shared objects
 * written since the last check (every `markWrite`, and the declared `writes` of every
 * op run): a check may look only at what they reach (see `addInvariant`).
 */
/**
 * Model bookkeeping that changed outside an op, in a task's own code between two of its
 * steps (a reference changing hands in a folio's holders ledger): the invariant checks
 * of the machine running that task look at `obj` again, and its livelock detector digests
 * `obj`'s state (`Machine.noteChange`). Outside a task it does nothing.
 */
export function noteChange(obj: Shared): void {
  if (CURRENT !== null) CURRENT_MACHINE?.noteChange(obj);
}

/**
 * The running task read `obj`, which the step it is part of may not declare (a predicate
 * of the model called from a task's own code, whose reads count as the step's):
 * `Machine.noteRead` on the machine running that task. Outside a task it does nothing.
 */
export function noteRead(obj: Shared): void {
  if (CURRENT !== null) CURRENT_MACHINE?.noteRead(obj);
}

export type Invariant = (m: Machine, written: ReadonlySet<Shared>) => string | null;

export class Machine {
  /** The configuration the machine was built from (as given). */
  readonly config: MachineConfig;
  readonly cpuCount: number;
  readonly preemption: PreemptionModel;
  readonly costs: CostModel;
  /** Kernel variant choices (see MachineConfig.kernel). */
  readonly kernel: Readonly<Record<string, KernelOptionValue>>;
  readonly jumpLabel: JumpLabelModel;
  readonly livelockSteps: number;
  readonly livelockNs: number;
  readonly maxSteps: number;
  readonly maxVirtualNs: number;
  readonly maxSkewNs: number;
  readonly trace: Trace;
  /** The same trace, with the fast paths for the machine's own events. */
  private readonly tracer: MachineTrace;
  readonly counters: Record<string, number> = Object.create(null);
  readonly tasks: Task[] = [];
  readonly decisions: number[] = [];
  status: RunStatus = "running";
  hang: HangReport | undefined;
  failure: InvariantFailure | undefined;
  stepCount = 0;
  /** The latest virtual time any CPU has reached. */
  now = 0;
  private readonly cpus: Cpu[];
  /** The current candidates; only the first `candCount` entries are meaningful while collecting. */
  private readonly cands: Candidate[] = [];
  private candCount = 0;
  /** Ids of the tasks the last candidate work-out held back by time (see `timeHeld`). */
  private readonly holds: number[] = [];
  private candsValid = false;
  /** One reusable candidate per task id: a task is listed at most once per step. */
  private readonly candOf: Candidate[] = [];
  /** Tasks whose pending op carries a timeout deadline (the timer scan is skipped without any). */
  private timedPending = 0;
  private progressed = false;
  private lastProgressStep = 0;
  private lastProgressNs = 0;
  private readonly cycles: CycleDetector;
  private readonly invariants: { name: string; check: Invariant }[] = [];
  /** Objects written since the invariants last ran (kept only while there are invariants). */
  private readonly written = new Set<Shared>();
  /** The operation of the step running now (null between steps), and what the last step wrote beyond its footprint. */
  private stepOp: Op<unknown> | null = null;
  private readonly stepUndeclared: Shared[] = [];
  private readonly stepUndeclaredReads: Shared[] = [];
  /** CPUs other than its own whose clock or run queue the running step changed (see `cpusTouched`). */
  private readonly stepCpus: number[] = [];
  /** Free-form state that upper layers hang on the machine (per-run singletons). */
  readonly ext = new Map<unknown, unknown>();
  /** Plain data upper layers record about the run; part of the result. */
  readonly annotations: Record<string, unknown> = {};
  private readonly finishHooks: ((m: Machine) => void)[] = [];
  private finishedHooksRan = false;

  constructor(config: MachineConfig) {
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > 256) {
      throw new SimConfigError("cpus", "an integer from 1 to 256", config.cpus);
    }
    this.config = config;
    const preemption = config.preemption ?? "voluntary";
    if (preemption !== "none" && preemption !== "voluntary" && preemption !== "full") {
      throw new SimConfigError("preemption", '"none", "voluntary" or "full"', preemption);
    }
    this.cpuCount = config.cpus;
    this.preemption = preemption;
    this.costs = machineCosts(config.costs);
    this.kernel = { ...config.kernel };
    this.jumpLabel = jumpLabelModel(config.jumpLabel);
    this.livelockSteps = positive(config.livelock?.steps ?? 10_000, "livelock.steps");
    this.livelockNs = positive(config.livelock?.ns ?? 2_000_000, "livelock.ns");
    this.cycles = new CycleDetector({ steps: this.livelockSteps, ns: this.livelockNs });
    this.maxSteps = positive(config.maxSteps ?? 2_000_000, "maxSteps");
    this.maxVirtualNs = positive(config.maxVirtualNs ?? 60e9, "maxVirtualNs");
    this.maxSkewNs = positive(config.maxSkewNs ?? 50_000, "maxSkewNs");
    this.trace = this.tracer = new MachineTrace(config.trace ?? true);
    this.cpus = [];
    for (let i = 0; i < this.cpuCount; i++) this.cpus.push(new Cpu(i));
  }

  // ---------------------------------------------------------------- set-up

  spawn<R>(spec: TaskSpec<R>): Task {
    if (typeof spec.name !== "string" || spec.name.length === 0) {
      throw new SimConfigError("task.name", "a non-empty string", spec.name);
    }
    if (!Number.isInteger(spec.cpu) || spec.cpu < 0 || spec.cpu >= this.cpuCount) {
      throw new SimConfigError(`task ${spec.name}.cpu`, `a CPU from 0 to ${this.cpuCount - 1}`, spec.cpu);
    }
    if (spec.policy !== undefined && spec.policy !== "normal" && spec.policy !== "fifo") {
      throw new SimConfigError(`task ${spec.name}.policy`, '"normal" or "fifo"', spec.policy);
    }
    if (spec.policy === "fifo" && spec.priority !== undefined && (!Number.isInteger(spec.priority) || spec.priority < 1 || spec.priority > 99)) {
      throw new SimConfigError(`task ${spec.name}.priority`, "a SCHED_FIFO priority from 1 to 99", spec.priority);
    }
    const task = new Task(this.tasks.length, spec as TaskSpec<unknown>);
    this.tasks.push(task);
    const cpu = this.cpus[task.cpu];
    if (this.stepOp !== null) this.touchCpu(task.cpu);
    // An idle CPU's clock has kept up with the rest of the machine: a task spawned now starts now.
    if (cpu.current === null && cpu.clock < this.now) cpu.clock = this.now;
    cpu.tasks.push(task);
    cpu.dirty = true;
    task.gen = spec.body(task) as TaskGen<unknown>;
    this.tracer.taskEvent(this.stepCount, cpu.clock, "spawn", task);
    this.advance(task, undefined);
    this.candsValid = false;
    return task;
  }

  /**
   * Start a restartable task's body afresh, up to its restart point, in place of the
   * generator it waits in there (for a copy of a machine, ./snapshot.ts). Its
   * scheduling state stays: it waits at the same kind of op as before.
   */
  restartAtIdle(task: Task): void {
    const prevTask = CURRENT;
    const prevMachine = CURRENT_MACHINE;
    CURRENT = task;
    CURRENT_MACHINE = this;
    let r: IteratorResult<Op<unknown>, unknown>;
    try {
      task.gen = task.restartBody!(task);
      r = task.gen.next();
    } finally {
      restoreCurrent(prevTask, prevMachine);
    }
    if (r.done || !r.value.restartPoint || r.value.timeoutNs !== undefined) throw new Error(`restartAtIdle: task ${task.name} did not stop at an untimed restart point`);
    task.pending = r.value;
  }

  /** Run `hook` once when the run ends, whatever the outcome (to record final states in `annotations`). */
  onFinish(hook: (m: Machine) => void): void {
    this.finishHooks.push(hook);
  }

  /**
   * Check `check` after every step that changed state; a non-null answer ends the run as
   * an invariant failure. The check is given the objects written since it last ran (a
   * step that changed nothing is not checked, so its writes carry over): an incremental
   * check looks only at what they reach, and must then find every failure a check of
   * the whole state finds, as long as each change of state is a write of an object
   * that reaches it (the rule footprints and livelock detection rely on too).
   */
  addInvariant(name: string, check: Invariant): void {
    this.invariants.push({ name, check });
  }

  // ---------------------------------------------------------------- queries

  cpuClock(cpu: number): number {
    return this.cpus[cpu].clock;
  }

  /** Charge `ns` to a CPU's clock (work done there on behalf of someone else, e.g. an IPI handler). */
  chargeCpu(cpu: number, ns: number): void {
    if (this.stepOp !== null) this.touchCpu(cpu);
    const c = this.cpus[cpu];
    c.clock += ns;
    c.dirty = true;
    if (c.clock > this.now) this.now = c.clock;
  }

  currentOn(cpu: number): Task | null {
    return this.cpus[cpu].current;
  }

  cost(name: string): number {
    const v = this.costs[name];
    if (v === undefined) throw new SimConfigError(`costs.${name}`, "a cost-model entry", undefined);
    return v;
  }

  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }

  /** Emit a trace event from inside an op or task-local code. */
  emit(type: string, name?: string, args?: Record<string, unknown>): void {
    const t = CURRENT;
    const cpu = t ? t.cpu : -1;
    this.trace.emit(this.stepCount, cpu >= 0 ? this.cpus[cpu].clock : this.now, cpu, t ? t.id : -1, type, name, args);
  }

  /**
   * Emit a trace event whose args follow, one `arg(key, value)` call each, in the order
   * `emit`'s args record would list them: `m.event("mm_page_free", f.name).arg("pfn", p).arg("order", o)`
   * hashes and records exactly as `m.emit("mm_page_free", f.name, { pfn: p, order: o })`, but
   * builds no args record when events are not recorded (exploration). Give every arg
   * before anything else emits.
   */
  event(type: string, name?: string): EventArgs {
    const t = CURRENT;
    const cpu = t ? t.cpu : -1;
    return this.trace.begin(this.stepCount, cpu >= 0 ? this.cpus[cpu].clock : this.now, cpu, t ? t.id : -1, type, name);
  }

  /**
   * `emit("func_entry" | "func_exit", name)`, for `traced` spans (the event types' ids are
   * remembered). Answers the trace's id of `name`: the span's closing passes it back as
   * `nameId`, saving the look-up (0: look it up).
   */
  emitSpan(entry: boolean, name: string, nameId = 0): number {
    const t = CURRENT;
    const cpu = t ? t.cpu : -1;
    return this.tracer.spanEvent(this.stepCount, cpu >= 0 ? this.cpus[cpu].clock : this.now, cpu, t ? t.id : -1, entry, name, nameId);
  }

  /**
   * Record a write of `obj` (its time wakes tasks blocked on it). With `progress`
   * (the default) it is a state change for livelock detection; pass false for a write
   * that a later one undoes, such as a lock taken only to look at something.
   */
  markWrite(obj: Shared, progress = true): void {
    obj.writes++;
    if (this.invariants.length > 0) this.written.add(obj);
    obj.lastWriteAt = CURRENT ? this.cpus[CURRENT.cpu].clock : this.now;
    if (progress) this.progressed = true;
    this.cycles.wrote(obj);
    this.noteWrite(obj);
  }

  /**
   * The running step wrote `obj`, which its operation's footprint may not name: a
   * write it could not know in advance (the free list a freed folio returns to, the
   * folio an allocation hands out). `markWrite` calls it too. Nothing wakes and no
   * progress is recorded; exploration reads `undeclaredWrites()` after the step and
   * counts them as writes of that step.
   */
  noteWrite(obj: Shared): void {
    const op = this.stepOp;
    if (op === null || op.writes.includes(obj) || this.stepUndeclared.includes(obj)) return;
    this.stepUndeclared.push(obj);
  }

  /** What the last step wrote beyond its operation's `writes` (valid until the next step). */
  undeclaredWrites(): readonly Shared[] {
    return this.stepUndeclared;
  }

  /**
   * The running step read `obj`, which its operation's footprint may not name: a read
   * of an object it found only while running (the folio a page-table entry maps, whose
   * contents a user load reads in the same step). Exploration reads `undeclaredReads()`
   * after the step and counts them as reads of that step, as it does for `noteWrite`.
   */
  noteRead(obj: Shared): void {
    const op = this.stepOp;
    if (op === null || op.reads.includes(obj) || op.writes.includes(obj) || this.stepUndeclaredReads.includes(obj)) return;
    this.stepUndeclaredReads.push(obj);
  }

  /** What the last step read beyond its operation's `reads` and `writes` (valid until the next step). */
  undeclaredReads(): readonly Shared[] {
    return this.stepUndeclaredReads;
  }

  /**
   * CPUs whose clock or run queue the last step changed, besides running on its own
   * (valid until the next step): a task it spawned there (the first work queued on a
   * CPU starts its kworker; an idle CPU's clock jumps to now), or work it charged there
   * (an IPI handler). No footprint names a CPU, so exploration reads this after the step:
   * the step competes with that CPU's tasks as if it ran there.
   */
  cpusTouched(): readonly number[] {
    return this.stepCpus;
  }

  private touchCpu(cpu: number): void {
    // The step's own CPU is its running task's (CURRENT is set for the whole step).
    if (cpu !== CURRENT?.cpu && !this.stepCpus.includes(cpu)) this.stepCpus.push(cpu);
  }

  /**
   * Record a commutative update of `obj` (an object of the op's `commutes`): like
   * `markWrite`, but the time of the latest write only moves forward, so two such
   * updates on CPUs whose clocks differ leave the same time in either order (a task
   * blocked on the object wakes when the later of them happened).
   */
  markCommutingWrite(obj: Shared): void {
    const before = obj.lastWriteAt;
    this.markWrite(obj);
    if (before > obj.lastWriteAt) obj.lastWriteAt = before;
  }

  /**
   * Tell the invariant checks and the repeated-state livelock detector that `obj`
   * changed without a write: nothing wakes and no progress is recorded (for model
   * bookkeeping that is no kernel state, such as who holds which reference). An
   * incremental check then looks at what `obj` reaches, and `obj`'s state is part of
   * the detector's digest (./livelock.ts).
   */
  noteChange(obj: Shared): void {
    if (this.invariants.length > 0) this.written.add(obj);
    this.cycles.noted(obj);
  }

  /** Note that the current task failed to get `what` and will retry (a trylock loop). */
  noteSpin(what: string): void {
    if (CURRENT) {
      CURRENT.spinningOn = what;
      CURRENT.lastSpin = { what, step: this.stepCount };
    }
    this.count("spins");
  }

  /** Quiescent-state bookkeeping for RCU (see rcu.ts). */
  cpuQs(cpu: number): { qs: number; at: number; idle: boolean; quiescentNow: boolean } {
    const c = this.cpus[cpu];
    const cur = c.current;
    const idle = cur === null;
    const quiescentNow =
      idle || (this.preemption === "full" && cur.preemptCount === 0 && cur.rcuReadDepth === 0 && cur !== CURRENT);
    return { qs: c.qs, at: c.qsAt, idle, quiescentNow };
  }

  reportQs(cpu: number): void {
    const c = this.cpus[cpu];
    c.qs++;
    c.qsAt = c.clock;
  }

  kworkerOf(cpu: number): Task | null {
    return this.cpus[cpu].kworker;
  }

  setKworker(cpu: number, task: Task): void {
    this.cpus[cpu].kworker = task;
  }

  get finished(): boolean {
    return this.status !== "running";
  }

  // ---------------------------------------------------------------- scheduling

  /**
   * The operations that may run now. Empty only when the run has ended. The array and
   * its candidate objects are the machine's own and are updated in place by the next
   * `step()`: a chooser that keeps one past that copies what it needs.
   */
  candidates(): readonly Candidate[] {
    if (this.candsValid) return this.cands;
    for (;;) {
      if (this.status !== "running") {
        this.candCount = 0;
        this.cands.length = 0;
        break;
      }
      const timer = this.collect();
      if (this.cands.length > 0) break;
      if (timer < Infinity) {
        this.fireTimers(timer);
        continue;
      }
      this.endWithoutCandidates();
    }
    this.candsValid = true;
    return this.cands;
  }

  private collect(): number {
    this.candCount = 0;
    if (this.holds.length !== 0) this.holds.length = 0;
    const timer = this.timedPending > 0 ? this.earliestTimer() : Infinity;
    const cands = this.cands;
    for (const cpu of this.cpus) {
      // In CPU order, as predicates may see what an earlier CPU's work-out changed.
      if (cpu.dirty || cpu.predicateTasks > 0) this.collectCpu(cpu);
      for (let i = 0; i < cpu.listedCount; i++) {
        const c = cpu.listed[i];
        if (c.time <= timer) cands[this.candCount++] = c; // later ones wait for the earlier timer to fire first
        else this.holds.push(c.task.id);
      }
    }
    this.boundSkew();
    // Truncating to zero would drop the array's storage, and every step would grow it again.
    if (this.cands.length !== this.candCount) this.cands.length = this.candCount;
    return timer;
  }

  /** Earliest pending timer among blocked tasks. */
  private earliestTimer(): number {
    let timer = Infinity;
    for (const t of this.tasks) {
      const op = t.pending;
      if (t.state === "done" || !op || op.deadline === Infinity || op.timedOut) continue;
      if (op.deadline < timer && !this.enabled(t)) timer = op.deadline;
    }
    return timer;
  }

  /**
   * Ids of the tasks whose operation could run now but that virtual time alone holds
   * back: their CPU ran more than `maxSkewNs` ahead of the earliest runnable one, or an
   * earlier timer must fire first. Whether such a task may run depends on what other
   * CPUs do, even where footprints are disjoint (exploration needs to know). Like
   * `candidates()`, the array is the machine's own, valid until the next `step()`.
   */
  timeHeld(): readonly number[] {
    this.candidates();
    return this.holds;
  }

  /** Drop candidates that would run too far ahead of the earliest runnable CPU. */
  private boundSkew(): void {
    const cands = this.cands;
    const n = this.candCount;
    if (n < 2) return;
    let earliest = Infinity;
    for (let i = 0; i < n; i++) if (cands[i].time < earliest) earliest = cands[i].time;
    const limit = earliest + this.maxSkewNs;
    let j = 0;
    for (let i = 0; i < n; i++) {
      if (cands[i].time <= limit) cands[j++] = cands[i];
      else this.holds.push(cands[i].task.id);
    }
    this.candCount = j;
  }

  /** Work out the candidates of one CPU into `cpu.listed`, waking and putting to sleep its tasks on the way. */
  private collectCpu(cpu: Cpu): void {
    cpu.dirty = false;
    cpu.listedCount = 0;
    let cur = cpu.current;
    if (cur !== null) {
      if (cur.state === "done") {
        cpu.current = cur = null;
      } else if (!this.enabled(cur)) {
        if (cur.pending!.block === Block.Spin) return; // spins holding its CPU
        this.sleep(cpu, cur);
        cur = null;
      }
    }
    // The highest rank among the other runnable tasks of this CPU.
    let best = -1;
    for (const t of cpu.tasks) {
      if (t === cur || t.state === "done") continue;
      if (!this.enabled(t)) {
        t.state = "blocked";
        continue;
      }
      if (t.state === "blocked") this.wake(t);
      if (t.runnableSince < 0) t.runnableSince = Math.max(t.readyAt, cpu.clock);
      if (t.rank > best) best = t.rank;
    }
    if (cur === null) {
      for (const t of cpu.tasks) if (t.state === "ready" && t !== cur && t.rank === best) this.push(cpu, t, false);
      return;
    }
    const op = cur.pending!;
    const atPoint =
      cur.preemptCount === 0 &&
      (this.preemption === "full" || op.preemptPoint || (this.preemption === "voluntary" && op.mightSleep));
    if (!atPoint || best < 0) {
      this.push(cpu, cur, false);
      return;
    }
    if (best > cur.rank) {
      // A higher-priority task is runnable: the preemption point must switch to it.
      for (const t of cpu.tasks) if (t !== cur && t.state === "ready" && t.rank === best) this.push(cpu, t, true);
      return;
    }
    if (cur.policy === "fifo" || best < cur.rank) {
      this.push(cpu, cur, false);
      return;
    }
    // Equal-rank normal tasks: preempting is the chooser's call until one has waited a full slice.
    const slice = this.costs.schedSlice;
    let starving = false;
    for (const t of cpu.tasks) {
      if (t !== cur && t.state === "ready" && t.rank === best && cpu.clock - t.runnableSince >= slice) starving = true;
    }
    if (!starving) this.push(cpu, cur, false);
    for (const t of cpu.tasks) {
      if (t === cur || t.state !== "ready" || t.rank !== best) continue;
      if (!starving || cpu.clock - t.runnableSince >= slice) this.push(cpu, t, true);
    }
  }

  private push(cpu: Cpu, task: Task, preempts: boolean): void {
    const time = cpu.current === task ? cpu.clock : Math.max(cpu.clock, task.readyAt);
    let c = this.candOf[task.id];
    if (c === undefined) {
      c = { task, op: task.pending!, cpu: cpu.id, time, preempts };
      this.candOf[task.id] = c;
    } else {
      c.op = task.pending!;
      c.time = time;
      c.preempts = preempts;
    }
    cpu.listed[cpu.listedCount++] = c;
  }

  /**
   * Whether `t`'s pending operation may run as far as its own condition goes (a free
   * lock, a met wait condition, an expired timer), whatever its CPU or virtual time
   * allow. Exploration uses it to tell an operation that cannot run from one that
   * only waits for its turn.
   */
  opEnabled(t: Task): boolean {
    return t.state !== "done" && this.enabled(t);
  }

  private enabled(t: Task): boolean {
    const op = t.pending;
    if (op === null) return false;
    if (op.block === Block.None || op.timedOut) return true;
    return op.enabled === undefined || op.enabled(this, t);
  }

  private sleep(cpu: Cpu, t: Task): void {
    t.state = "blocked";
    t.runnableSince = -1;
    cpu.current = null;
    this.tracer.waitEvent(this.stepCount, cpu.clock, cpu.id, t.id, "block", t.pending!.waitFor ?? t.pending!.label ?? t.pending!.kind);
  }

  private wake(t: Task): void {
    const op = t.pending!;
    let at = 0;
    if (op.timedOut) {
      // A timer expiry resumes the sleeper exactly at its deadline.
      at = op.deadline;
      t.readyAt = at;
    } else {
      if (op.wakeTime) at = op.wakeTime(this);
      for (const s of op.reads) if (s.lastWriteAt > at) at = s.lastWriteAt;
      for (const s of op.writes) if (s.lastWriteAt > at) at = s.lastWriteAt;
      t.readyAt = at + this.costs.wakeup;
    }
    t.state = "ready";
    t.runnableSince = -1;
    this.tracer.waitEvent(this.stepCount, at, t.cpu, t.id, "wake", op.waitFor ?? op.label ?? op.kind);
  }

  private fireTimers(at: number): void {
    for (const t of this.tasks) {
      const op = t.pending;
      if (t.state === "done" || !op || op.timedOut || op.deadline !== at) continue;
      if (this.enabled(t)) continue;
      const cpu = this.cpus[t.cpu];
      if (asksPredicate(op)) cpu.predicateTasks--;
      op.timedOut = true;
      cpu.dirty = true;
      this.tracer.waitEvent(this.stepCount, at, t.cpu, t.id, "timer", op.waitFor ?? op.label ?? op.kind);
    }
    if (at > this.now) this.now = at;
  }

  private endWithoutCandidates(): void {
    const unfinished = this.tasks.filter((t) => t.state !== "done" && !t.daemon);
    if (unfinished.length === 0) {
      this.status = "done";
      return;
    }
    this.status = "deadlock";
    this.hang = this.hangReport("deadlock");
  }

  // ---------------------------------------------------------------- stepping

  /** Run candidate `index` of `candidates()`. */
  step(index: number): void {
    const cands = this.candidates();
    const c = cands[index];
    if (c === undefined) throw new RangeError(`step(${index}): only ${cands.length} candidates`);
    if (cands.length > 1) this.decisions.push(index); // only real choices are recorded
    const task = c.task;
    const cpu = this.cpus[c.cpu];
    cpu.dirty = true;
    if (cpu.current !== task) this.switchTo(cpu, task, c.time);
    else if (c.time > cpu.clock) cpu.clock = c.time;
    task.runnableSince = -1;
    const op = c.op;
    this.stepCount++;
    this.progressed = false;
    this.stepOp = op;
    if (this.stepUndeclared.length > 0) this.stepUndeclared.length = 0;
    if (this.stepUndeclaredReads.length > 0) this.stepUndeclaredReads.length = 0;
    if (this.stepCpus.length > 0) this.stepCpus.length = 0;
    if (this.invariants.length > 0) {
      for (const w of op.writes) this.written.add(w);
      for (const w of op.commutes) this.written.add(w);
    }
    CURRENT = task;
    if (CURRENT_MACHINE !== this) CURRENT_MACHINE = this;
    let result: unknown;
    try {
      result = op.run(this, task);
    } catch (e) {
      CURRENT = null;
      this.stepOp = null;
      this.fail(e, task, op);
      return;
    }
    const cost = typeof op.cost === "number" ? op.cost : this.costs[op.cost];
    if (cost === undefined) throw new SimConfigError(`costs.${op.cost}`, `a cost-model entry (used by ${op.label ?? op.kind})`, undefined);
    cpu.clock += cost;
    if (cpu.clock > this.now) this.now = cpu.clock;
    if (op.preemptPoint) this.reportQs(cpu.id);
    this.trace.op(this.stepCount, cpu.clock, cpu.id, task.id, op.label ?? op.kind);
    this.advance(task, result);
    this.stepOp = null;
    CURRENT = null;
    this.candsValid = false;
    if (this.status !== "running") return;
    this.checkAfterStep(task, op);
  }

  private switchTo(cpu: Cpu, next: Task, at: number): void {
    const prev = cpu.current ?? cpu.lastRan;
    if (at > cpu.clock) cpu.clock = at;
    if (cpu.current !== null) {
      cpu.current.runnableSince = cpu.clock; // preempted while runnable
    }
    if (prev !== next) {
      cpu.clock += this.costs.contextSwitch;
      this.count("context_switch");
      this.reportQs(cpu.id);
      const prevState = prev === null ? "R" : prev.state === "done" ? "X" : prev.state === "blocked" ? "S" : "R";
      this.tracer.switchEvent(this.stepCount, cpu.clock, cpu.id, next, prev, prevState);
    }
    cpu.current = next;
    cpu.lastRan = next;
  }

  /** Resume a task's generator with `value`, running its task-local code up to the next op. */
  private advance(task: Task, value: unknown): void {
    const prevTask = CURRENT;
    const prevMachine = CURRENT_MACHINE;
    if (prevTask !== task) CURRENT = task;
    if (prevMachine !== this) CURRENT_MACHINE = this;
    let r: IteratorResult<Op<unknown>, unknown>;
    try {
      r = task.gen.next(value);
    } catch (e) {
      restoreCurrent(prevTask, prevMachine);
      this.fail(e, task, task.pending ?? undefined);
      return;
    }
    restoreCurrent(prevTask, prevMachine);
    const cpu = this.cpus[task.cpu];
    cpu.dirty = true;
    if (asksPredicate(task.pending)) cpu.predicateTasks--;
    if (task.pending !== null && task.pending.deadline !== Infinity) this.timedPending--;
    if (r.done) {
      task.state = "done";
      task.pending = null;
      task.result = r.value;
      // An exiting task leaves its CPU at once (do_exit → schedule): the CPU is idle now
      // for everyone who looks, e.g. an RCU grace period waiting for it.
      if (cpu.current === task) cpu.current = null;
      this.tracer.taskEvent(this.stepCount, cpu.clock, "exit", task);
      this.cycles.reset(this.stepCount);
      return;
    }
    const op = r.value;
    task.pending = op;
    task.state = "ready";
    if (op.timeoutNs !== undefined) op.deadline = cpu.clock + op.timeoutNs;
    if (op.deadline !== Infinity) this.timedPending++;
    if (asksPredicate(op)) cpu.predicateTasks++;
  }

  private fail(e: unknown, task: Task, op: Op<unknown> | undefined): void {
    if (!(e instanceof ModelError)) throw e;
    this.status = "invariant";
    this.failure = {
      message: e.message,
      task: task.name,
      step: this.stepCount,
      operation: e.operation,
      object: e.object,
      ...(e.usage ? { usage: true as const } : {}),
    };
    if (op) this.trace.emit(this.stepCount, this.cpus[task.cpu].clock, task.cpu, task.id, "model_error", e.operation, { object: e.object, detail: e.detail });
    this.candsValid = false;
    for (const cpu of this.cpus) cpu.dirty = true;
  }

  private checkAfterStep(task: Task, op: Op<unknown>): void {
    // Invariants are functions of shared state: a step that changed nothing cannot
    // break one (and a spinning task's steps, the bulk of a livelock, change nothing).
    if (this.progressed) this.checkInvariants(task, op);
    if (this.status !== "running") return;
    if (this.progressed) {
      this.lastProgressStep = this.stepCount;
      this.lastProgressNs = this.now;
      task.spinningOn = undefined;
      const cycle = this.cycles.check(this.stepCount, this.now, this.tasks, this.timedPending > 0);
      if (cycle !== null) {
        this.status = "livelock";
        this.hang = this.hangReport("livelock", cycle);
        return;
      }
    } else if (
      this.stepCount - this.lastProgressStep >= this.livelockSteps &&
      this.now - this.lastProgressNs >= this.livelockNs
    ) {
      this.status = "livelock";
      this.hang = this.hangReport("livelock");
      return;
    }
    if (this.stepCount >= this.maxSteps) this.status = "step-limit";
    else if (this.now >= this.maxVirtualNs) this.status = "time-limit";
  }

  private checkInvariants(task: Task, op: Op<unknown>): void {
    for (const inv of this.invariants) {
      const msg = inv.check(this, this.written);
      if (msg !== null) {
        this.status = "invariant";
        this.failure = { message: `${inv.name}: ${msg}`, task: task.name, step: this.stepCount, operation: op.label ?? op.kind };
        break;
      }
    }
    this.written.clear();
  }

  // ---------------------------------------------------------------- running

  /**
   * Run everything spawned so far to quiescence with `chooser`, outside the explored
   * schedule: a scenario's sequential set-up. Its decisions are not recorded, and the
   * machine is ready for the concurrent part afterwards; counters restart from zero. A set-up that hangs or breaks
   * an invariant leaves that status in place.
   */
  settle(chooser: Chooser): void {
    for (;;) {
      const cands = this.candidates();
      if (cands.length === 0) break;
      this.step(cands.length === 1 ? 0 : chooser.choose(cands, this));
    }
    if (this.status === "done") {
      this.status = "running";
      this.candsValid = false;
    }
    this.decisions.length = 0;
    this.dropCandidateCaches();
    // The run's counters measure what comes after the set-up.
    for (const k of Object.keys(this.counters)) delete this.counters[k];
    this.lastProgressStep = this.stepCount;
    this.lastProgressNs = this.now;
    this.cycles.reset(this.stepCount);
  }

  /**
   * Forget the candidates worked out so far (they are recomputed, the same, on the next
   * step): after a set-up they hold the finished set-up tasks' last operations, which a
   * snapshot of the machine (./snapshot.ts) must not carry.
   */
  private dropCandidateCaches(): void {
    for (const cpu of this.cpus) {
      cpu.listed.length = 0;
      cpu.listedCount = 0;
      cpu.dirty = true;
    }
    this.candOf.length = 0;
    this.cands.length = 0;
    this.candCount = 0;
    this.candsValid = false;
  }

  /** Run to the end with `chooser`. */
  run(chooser: Chooser): RunResult {
    for (;;) {
      const cands = this.candidates();
      if (cands.length === 0) break;
      this.step(cands.length === 1 ? 0 : chooser.choose(cands, this));
    }
    return this.result();
  }

  result(): RunResult {
    if (this.status !== "running" && !this.finishedHooksRan) {
      this.finishedHooksRan = true;
      for (const h of this.finishHooks) h(this);
    }
    const tasks: RunResult["tasks"] = [];
    const taskTable: RunResult["taskTable"] = [];
    for (const t of this.tasks) {
      if (!t.daemon) tasks.push({ name: t.name, cpu: t.cpu, state: t.state, result: t.result });
      taskTable.push({ id: t.id, name: t.name, cpu: t.cpu, policy: t.policy, priority: t.priority, daemon: t.daemon });
    }
    // A copy loop, not a spread: spreading the prototype-less counters object is several times slower.
    const counters: Record<string, number> = {};
    for (const name in this.counters) counters[name] = this.counters[name];
    counters.virtual_ns = this.now;
    counters.steps = this.stepCount;
    return {
      status: this.status,
      steps: this.stepCount,
      virtualNs: this.now,
      hang: this.hang,
      failure: this.failure,
      tasks,
      taskTable,
      cpus: this.cpuCount,
      counters,
      trace: this.trace.events,
      traceHash: this.trace.hash(),
      decisions: this.decisions,
      annotations: this.annotations,
    };
  }

  // ---------------------------------------------------------------- reports

  private hangReport(kind: "deadlock" | "livelock", cycle?: LivelockCycle): HangReport {
    const tasks: HangTask[] = [];
    const stalled: { object: string; writes: number }[] = [];
    for (const t of this.tasks) {
      if (t.state === "done" || t.pending === null) continue;
      const op = t.pending;
      const cpu = this.cpus[t.cpu];
      let state: HangTask["state"];
      let waitsFor: string;
      const en = this.enabled(t);
      if (!en && op.block === Block.Spin && cpu.current === t) {
        state = "spinning";
        waitsFor = op.waitFor ?? op.label ?? op.kind;
      } else if (!en) {
        state = "blocked";
        waitsFor = op.waitFor ?? op.label ?? op.kind;
        for (const s of [...op.reads, ...op.writes]) {
          if (!stalled.some((x) => x.object === s.name)) stalled.push({ object: s.name, writes: s.writes });
        }
      } else if (t.spinningOn !== undefined && kind === "livelock") {
        state = "looping";
        waitsFor = t.spinningOn;
      } else if (cycle?.tasks.includes(t.name) && !t.daemon) {
        state = "looping";
        const spin = t.lastSpin && t.lastSpin.step > this.stepCount - cycle.steps ? t.lastSpin.what : undefined;
        waitsFor = spin ?? `${op.label ?? op.kind} in ${t.frames.join(" > ")}`;
      } else {
        if (t.daemon && cpu.current !== t && kind === "deadlock") continue;
        state = "runnable";
        const holder = cpu.current && cpu.current !== t ? cpu.current.name : undefined;
        waitsFor = holder ? `CPU${t.cpu}, held by ${holder}` : op.label ?? op.kind;
      }
      if (t.daemon && state === "blocked") continue; // an idle kworker is not part of a hang
      tasks.push({ task: t.name, cpu: t.cpu, state, waitsFor, stack: [...t.frames] });
    }
    const parts = tasks.map((h) => `${h.task} (CPU${h.cpu}) ${describeState(h.state)} ${h.waitsFor}`);
    const why = cycle
      ? `a cycle of ${cycle.steps} steps (${fmtNs(cycle.ns)}) by ${cycle.tasks.join(", ")} returned to the same state ${cycle.repeats} times`
      : `no state change for ${this.stepCount - this.lastProgressStep} steps and ${fmtNs(this.now - this.lastProgressNs)}`;
    const msg = kind === "deadlock" ? `deadlock: nothing can run: ${parts.join("; ")}` : `livelock: ${why}: ${parts.join("; ")}`;
    return cycle ? { kind, message: msg, tasks, stalled, step: this.stepCount, virtualNs: this.now, cycle } : { kind, message: msg, tasks, stalled, step: this.stepCount, virtualNs: this.now };
  }
}

function restoreCurrent(task: Task | null, machine: Machine | null): void {
  if (CURRENT !== task) CURRENT = task;
  if (CURRENT_MACHINE !== machine) CURRENT_MACHINE = machine;
}

/** Whether `enabled()` would run the op's predicate: a blocking op that has not timed out. */
function asksPredicate(op: Op<unknown> | null): boolean {
  return op !== null && op.block !== Block.None && !op.timedOut && op.enabled !== undefined;
}

function describeState(s: HangTask["state"]): string {
  switch (s) {
    case "blocked":
      return "sleeps in";
    case "spinning":
      return "spins in";
    case "looping":
      return "keeps retrying";
    case "runnable":
      return "is runnable but never runs: waits for";
  }
}

export function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} us`;
  return `${ns} ns`;
}

/** The defaults are valid: only a machine's own overrides need checking. */
function jumpLabelModel(overrides: Partial<JumpLabelModel> | undefined): JumpLabelModel {
  const model = { ...DEFAULT_JUMP_LABEL, ...overrides };
  if (overrides === undefined) return model;
  for (const [k, v] of Object.entries(model)) {
    if (!Number.isInteger(v) || v < (k === "sites" ? 0 : 1)) {
      throw new SimConfigError(`jumpLabel.${k}`, "a positive integer", v);
    }
  }
  return model;
}

function positive(v: number, field: string): number {
  if (typeof v !== "number" || !(v > 0)) throw new SimConfigError(field, "a positive number", v);
  return v;
}
