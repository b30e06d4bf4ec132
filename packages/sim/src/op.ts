/**
 * Operations and shared objects: the vocabulary between tasks and the machine.
 *
 * A task is a generator that yields `Op`s. Each op declares its footprint (the shared
 * objects it reads and writes) before it runs, so a chooser can see what every
 * candidate would touch. An op is also an iterable that yields itself once and
 * returns the machine's answer, which is what makes `const v = yield* atomicAdd(c, 1)`
 * read like kernel C.
 */

import { checkedPredicate, checkedRun, FOOTPRINT_CHECK, instrumentShared } from "./footprint-check.js";
import type { Machine, Task } from "./machine.js";

let nextSharedId = 1;

/** Anything other tasks can see. Identity is the object itself; `name` is for traces. */
export class Shared {
  readonly id = nextSharedId++;
  /** Virtual time of the last write (used as the wake-up time of tasks blocked on it). */
  lastWriteAt = 0;
  /** How many state-changing writes hit this object (livelock reports name counters that did not move). */
  writes = 0;
  /** Kinds and their labels, alternating: an object sees a handful of kinds, and a scan beats a Map. */
  private labels: string[] | undefined;
  constructor(readonly name: string) {
    // Footprint checking (./footprint-check.ts): the object is built behind a proxy.
    if (FOOTPRINT_CHECK) return instrumentShared(this);
  }
  /**
   * The object's state for the repeated-state livelock detector (./livelock.ts), or
   * undefined: then every write counts as a change. Subclasses, and the layers that
   * keep an object's state elsewhere (a folio's words), override it.
   */
  stateDigest(): string | number | undefined {
    return undefined;
  }
  /** `kind(name)`, built once per object and kind: op labels are hot (trace interning). */
  label(kind: string): string {
    const labels = (this.labels ??= []);
    for (let i = 0; i < labels.length; i += 2) if (labels[i] === kind) return labels[i + 1];
    const l = `${kind}(${this.name})`;
    labels.push(kind, l);
    return l;
  }
}

/** A shared value, accessed only through operations. */
export class Cell<T = number> extends Shared {
  /** A sequence counter: compared for equality only, it digests to a constant. */
  readonly sequence: boolean;
  constructor(
    name: string,
    public value: T,
    options: { sequence?: boolean } = {},
  ) {
    super(name);
    this.sequence = options.sequence ?? false;
  }
  override stateDigest(): string | number | undefined {
    if (this.sequence) return "seq";
    const v = this.value as unknown;
    return typeof v === "number" || typeof v === "string" || typeof v === "boolean" ? String(v) : undefined;
  }
}

/** How an op behaves when its `enabled` predicate is false. */
export const enum Block {
  /** Never blocks. */
  None = 0,
  /** Sleeps: the task leaves its CPU until the op becomes enabled (or its timer fires). */
  Sleep = 1,
  /** Spins: the task keeps its CPU (preemption off) until the op becomes enabled. */
  Spin = 2,
}

export type TaskGen<R = unknown> = Generator<Op<unknown>, R, unknown>;

const NO_OBJECTS: readonly Shared[] = Object.freeze([]) as readonly Shared[];

export interface OpSpec<R> {
  /** Short kind, e.g. "atomic_add"; interned into the trace hash. */
  kind: string;
  /** Kernel-level label for traces, e.g. "folio_put". */
  label?: string;
  reads?: readonly Shared[];
  writes?: readonly Shared[];
  /**
   * Objects of `writes` this op updates commutatively: a counter changed by plain
   * addition whose value the op does not observe (neither its result nor its `enabled`
   * depends on it), such as the reader count of an rwsem taken for reading. Two updates
   * of one object that both list it here leave the same state in either order, so
   * explorers treat them as independent; against any other read or write of the object
   * they are writes. Record them with `Machine.markCommutingWrite`.
   */
  commutes?: readonly Shared[];
  /** Name of an entry of the cost model, or a number of nanoseconds. */
  cost?: string | number;
  /** Executes atomically when the chooser picks this op. */
  run: (m: Machine, task: Task) => R;
  block?: Block;
  enabled?: (m: Machine, task: Task) => boolean;
  /** Relative timeout (ns) for a sleeping op: once reached, the op runs anyway (`timedOut` is set). */
  timeoutNs?: number;
  /** A voluntary preemption point (`cond_resched`). */
  preemptPoint?: boolean;
  /** A `might_sleep()` annotation: a preemption point under the `voluntary` model. */
  mightSleep?: boolean;
  /** What a blocked task waits for, for hang reports, e.g. "flush_work(lru_add_drain_work/1)". */
  waitFor?: string;
  /**
   * When the event that enabled a sleeping op happened, if its footprint cannot tell
   * (default: the latest write to any object of the footprint).
   */
  wakeTime?: (m: Machine) => number;
  /**
   * The wait at the top of a restartable daemon's loop (`TaskSpec.restartable`): a task
   * waiting here is where its body starts, so a machine snapshot (./snapshot.ts) may
   * start the body afresh instead of copying its generator.
   */
  restartPoint?: boolean;
}

/**
 * The final iterator result of every op, reused: `yield*` reads it at once, and an op
 * is stepped once per machine step, so a result per op was garbage at once.
 */
const DONE: { value: unknown; done: true } = { value: undefined, done: true };

export class Op<R = unknown> implements Iterator<Op<unknown>, R, unknown>, Iterable<Op<unknown>> {
  readonly kind: string;
  readonly label: string | undefined;
  readonly reads: readonly Shared[];
  readonly writes: readonly Shared[];
  readonly commutes: readonly Shared[];
  readonly cost: string | number;
  readonly run: (m: Machine, task: Task) => R;
  readonly block: Block;
  readonly enabled: ((m: Machine, task: Task) => boolean) | undefined;
  readonly timeoutNs: number | undefined;
  readonly preemptPoint: boolean;
  readonly mightSleep: boolean;
  readonly waitFor: string | undefined;
  readonly wakeTime: ((m: Machine) => number) | undefined;
  readonly restartPoint: boolean;
  /** Set by the machine when a timed sleep ran because its deadline passed. */
  timedOut = false;
  /** Absolute deadline, set by the machine when the op becomes pending. */
  deadline = Infinity;
  /**
   * The op is its own first iterator result (`{ value: op, done: false }`): `yield* op`
   * allocates nothing for the op it yields. Read only by that protocol.
   */
  readonly value: Op<unknown> = this as Op<unknown>;
  done = false;
  private yielded = false;

  constructor(spec: OpSpec<R>) {
    this.kind = spec.kind;
    this.label = spec.label;
    this.reads = spec.reads ?? NO_OBJECTS;
    this.writes = spec.writes ?? NO_OBJECTS;
    this.commutes = spec.commutes ?? NO_OBJECTS;
    this.cost = spec.cost ?? "plain";
    this.run = spec.run;
    this.block = spec.block ?? Block.None;
    this.enabled = spec.enabled;
    this.timeoutNs = spec.timeoutNs;
    this.preemptPoint = spec.preemptPoint ?? false;
    this.mightSleep = spec.mightSleep ?? false;
    this.waitFor = spec.waitFor;
    this.wakeTime = spec.wakeTime;
    this.restartPoint = spec.restartPoint ?? false;
    if (FOOTPRINT_CHECK) {
      this.run = checkedRun(this, spec.run);
      if (spec.enabled !== undefined) this.enabled = checkedPredicate(this as Op<unknown>, spec.enabled);
    }
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<Op<unknown>, R> {
    if (!this.yielded) {
      this.yielded = true;
      return this as IteratorYieldResult<Op<unknown>>;
    }
    DONE.value = value;
    return DONE as IteratorReturnResult<R>;
  }

  /** True when this op touches `obj` (read or write). */
  touches(obj: Shared): boolean {
    return this.reads.includes(obj) || this.writes.includes(obj);
  }
}

/** Build an operation. The building block for every layer above the machine. */
export function op<R>(spec: OpSpec<R>): Op<R> {
  return new Op(spec);
}

/** Objects named in an op's footprint, for reports. */
export function footprintNames(o: Op<unknown>): string[] {
  const names: string[] = [];
  for (const s of o.reads) names.push(s.name);
  for (const s of o.writes) if (!names.includes(s.name)) names.push(s.name);
  return names;
}
