/**
 * Footprint checking (a model-checking device; no kernel counterpart): finds the reads
 * and writes of shared state that a step makes beyond its operation's declared
 * footprint, which would make a DPOR `complete` claim unsound.
 *
 * When enabled (`setFootprintCheck(true)`, or `FOLIOSIM_CHECK_FOOTPRINTS=1` in the
 * environment when this module loads), every `Shared` object and every object that
 * keeps a `Shared` object's state elsewhere (a folio's fields, `checkedState`) is built
 * behind a Proxy that reports each access of its fields, and of the Arrays, Maps and Sets
 * they hold, as an access of the owning `Shared` object. Every `Op` built while enabled
 * has its `run` and `enabled` wrapped, so the checker knows which operation an access
 * belongs to. Then:
 * - inside an operation's `run` (the step): a read must be of its `reads`, `writes` or
 *   `commutes`, or noted (`Machine.noteRead`, `noteWrite`, `markWrite`); a write of its
 *   `writes` or `commutes`, or noted as a write;
 * - inside an `enabled` predicate: a read of its operation's `reads` or `writes`; never
 *   a write;
 * - in a task's own code between two of its steps: no access at all;
 * - outside any task (set-up code, invariant checks, reports): anything.
 * An object created in the current step, by the task running it, may be touched freely
 * in that step (no other task can know it yet). A field that no step ever writes (an
 * identity, a constant) is not state: reads of it are reported only once some step in
 * the session has written it (so a report is complete after the whole catalog ran).
 *
 * Limitations: plain objects are followed only when they hold containers (a record of
 * lists), never when they are values (a PTE, a batch entry): a plain object changed in
 * place is not seen. `Task` fields (`woken`, `flags`) are not tracked.
 *
 * Disabled (the default), the machine pays one test of a module variable per `Op` and
 * per `Shared` built, and nothing per step.
 */

import type { Machine, Task } from "./machine.js";
import type { Op, Shared } from "./op.js";

export interface FootprintViolation {
  /** Where the access happened: an operation's step, an `enabled` predicate, or a task's code between steps. */
  where: "op" | "predicate" | "task";
  access: "read" | "write";
  task: string;
  /** The operation's label (for task code: the operation the task had just run). */
  op: string;
  /** The owning shared object (the first one seen). */
  object: string;
  /** The field, as `Class.field` (`[]` for the elements of a container). */
  field: string;
  /** How many accesses of this kind were seen. */
  count: number;
}

/** Whether objects and ops built now are instrumented. Read by `Shared` and `Op` constructors. */
export let FOOTPRINT_CHECK = typeof process !== "undefined" && process.env?.FOLIOSIM_CHECK_FOOTPRINTS === "1";

/** Turn footprint checking on or off for objects and operations built from now on. */
export function setFootprintCheck(on: boolean): void {
  FOOTPRINT_CHECK = on;
}

export function footprintCheckEnabled(): boolean {
  return FOOTPRINT_CHECK;
}

// ------------------------------------------------------------------ who is running

type Running = { machine: Machine; task: Task } | null;
let runningSource: () => Running = () => null;

/** Called once by machine.ts: how to find the task whose code runs now. */
export function setRunningSource(source: () => Running): void {
  runningSource = source;
}

interface Context {
  kind: "op" | "predicate";
  op: Op<unknown>;
  machine: Machine;
  task: Task;
  /** What the step touched: object → the field of its first read and of its first write. */
  touched: Map<Shared, { read?: string; write?: string }>;
}

const contexts: Context[] = [];

// ------------------------------------------------------------------ findings

/** A finding, with (for task code) the accesses it stands for, judged when reported. */
interface Finding {
  v: FootprintViolation;
  /** Task-code accesses: per object, the locks held at every access and the CPUs it ran on. */
  occurrences?: Map<Shared, { held: Set<Shared>; cpus: Set<number> }>;
}

const found = new Map<string, Finding>();
/** Fields some step wrote (non-fresh): only their reads are reports. */
const mutable = new Set<string>();

/** The undeclared accesses seen since the last `resetFootprintViolations()`, most frequent first. */
export function footprintViolations(): FootprintViolation[] {
  const out: FootprintViolation[] = [];
  for (const f of found.values()) {
    if (f.v.access === "read" && !mutable.has(f.v.field)) continue;
    if (f.occurrences !== undefined && [...f.occurrences].every(([obj, o]) => ordered(obj, f.v.field, o.held, o.cpus, f.v.access === "write"))) continue;
    out.push(f.v);
  }
  return out.sort((a, b) => b.count - a.count);
}

export function resetFootprintViolations(): void {
  found.clear();
}

function report(where: FootprintViolation["where"], access: FootprintViolation["access"], task: Task, op: string, object: Shared, field: string): Finding {
  const key = `${where}|${access}|${task.name}|${op}|${field}`;
  let f = found.get(key);
  if (f !== undefined) f.v.count++;
  else found.set(key, (f = { v: { where, access, task: task.name, op, object: object.name, field, count: 1 } }));
  return f;
}

// ------------------------------------------------------------------ locks and CPUs

/**
 * A task's own code between steps is part of the step before it, for exploration: its
 * accesses are unseen, but ordered all the same when (Eraser's lockset argument) every
 * conflicting access of the object holds a lock the task holds too — lock operations
 * are dependent, so exploration orders the critical sections — or when every
 * conflicting access runs on the task's CPU (steps of one CPU are always dependent).
 */
const held = new WeakMap<Task, Set<Shared>>();
/** The locks a task holds exclusively (not an rwsem taken for reading). */
const heldExcl = new WeakMap<Task, Set<Shared>>();
interface AccessSets {
  /** Locks held at every write (undefined: no write yet), and at every access. */
  writeLocks?: Set<Shared>;
  accessLocks?: Set<Shared>;
  writeCpus: Set<number>;
  accessCpus: Set<number>;
}
/** Per object and field (a field never written is no state, whoever reads it). */
const accessSets = new WeakMap<Shared, Map<string, AccessSets>>();

function heldBy(task: Task, exclusive = false): Set<Shared> {
  const map = exclusive ? heldExcl : held;
  let h = map.get(task);
  if (h === undefined) map.set(task, (h = new Set()));
  return h;
}

function intersect(into: Set<Shared> | undefined, h: Set<Shared>): Set<Shared> {
  if (into === undefined) return new Set(h);
  for (const l of into) if (!h.has(l)) into.delete(l);
  return into;
}

function noteAccess(owner: Shared, field: string, task: Task, write: boolean): void {
  let byField = accessSets.get(owner);
  if (byField === undefined) accessSets.set(owner, (byField = new Map()));
  let a = byField.get(field);
  if (a === undefined) byField.set(field, (a = { writeCpus: new Set(), accessCpus: new Set() }));
  a.accessLocks = intersect(a.accessLocks, heldBy(task));
  a.accessCpus.add(task.cpu);
  if (write) {
    a.writeLocks = intersect(a.writeLocks, heldBy(task, true));
    a.writeCpus.add(task.cpu);
  }
}

/** Whether task-code accesses of `obj` (made holding `locks`, on `cpus`) are ordered with every conflicting access. */
function ordered(obj: Shared, field: string, locks: Set<Shared>, cpus: Set<number>, write: boolean): boolean {
  const a = accessSets.get(obj)?.get(field);
  if (a === undefined) return true;
  const others = write ? a.accessLocks : a.writeLocks;
  if (others === undefined) return true; // never written by a step
  for (const l of locks) if (others.has(l)) return true;
  const otherCpus = write ? a.accessCpus : a.writeCpus;
  return cpus.size === 1 && otherCpus.size === 1 && [...cpus][0] === [...otherCpus][0];
}

/**
 * A lock's owner field changed (`owner`; an rwsem's `writer`, or its `readers`, whose
 * owner is the reader count): who holds what. An rwsem taken for writing holds the
 * semaphore and its reader count exclusively; taken for reading, only the reader count,
 * shared (readers do not exclude one another).
 */
function trackLock(lock: Shared, owner: Shared, prop: string, before: unknown, after: unknown, task: Task | undefined): void {
  if (prop === "readers") {
    if (task === undefined || typeof before !== "number" || typeof after !== "number") return;
    if (after > before) heldBy(task).add(owner);
    else heldBy(task).delete(owner);
    return;
  }
  const keys = prop === "writer" ? [lock, (lock as unknown as { readerCount: Shared }).readerCount] : [lock];
  const isTask = (x: unknown): x is Task => x !== null && typeof x === "object" && "gen" in x && "cpu" in x;
  for (const k of keys) {
    if (isTask(before)) {
      heldBy(before).delete(k);
      heldBy(before, true).delete(k);
    }
    if (isTask(after)) {
      heldBy(after).add(k);
      heldBy(after, true).add(k);
    }
  }
}

// ------------------------------------------------------------------ freshness

interface Birth {
  machine: Machine;
  step: number;
  task: Task;
}
const births = new WeakMap<object, Birth>();

function noteBirth(obj: object): void {
  const r = runningSource();
  const ctx = contexts.length > 0 ? contexts[contexts.length - 1] : undefined;
  if (r !== null) births.set(obj, { machine: r.machine, step: r.machine.stepCount, task: r.task });
  else if (ctx !== undefined) births.set(obj, { machine: ctx.machine, step: ctx.machine.stepCount, task: ctx.task });
}

function fresh(owner: object, machine: Machine, task: Task): boolean {
  const b = births.get(owner);
  return b !== undefined && b.machine === machine && b.task === task && b.step === machine.stepCount;
}

// ------------------------------------------------------------------ recording

/** Reads the checker does not look at (see `uncheckedReadsBegin`). */
let quiet = false;

/**
 * Reads until `uncheckedReadsEnd` are not checked: reads that decide nothing the step
 * does (a tracepoint's fields), or that a model's shortcut makes of more than the
 * kernel reads, where the footprint names the object the kernel reads instead (a scan
 * of every page table standing for a folio's rmap). Returns what to pass to
 * `uncheckedReadsEnd`. Writes are still checked.
 */
export function uncheckedReadsBegin(): boolean {
  const was = quiet;
  if (FOOTPRINT_CHECK) quiet = true;
  return was;
}

export function uncheckedReadsEnd(was: boolean): void {
  quiet = was;
}

function access(owner: Shared, field: string, write: boolean): void {
  if (quiet && !write) return;
  const r = runningSource();
  const ctx = contexts.length > 0 ? contexts[contexts.length - 1] : undefined;
  if (ctx !== undefined && (ctx.kind === "predicate" || r === null || r.task === ctx.task)) {
    if (fresh(owner, ctx.machine, ctx.task)) return;
    if (write) mutable.add(field);
    noteAccess(owner, field, ctx.task, write);
    if (ctx.kind === "predicate") {
      if (write) report("predicate", "write", ctx.task, ctx.op.label ?? ctx.op.kind, owner, field);
      else if (!ctx.op.reads.includes(owner) && !ctx.op.writes.includes(owner)) report("predicate", "read", ctx.task, ctx.op.label ?? ctx.op.kind, owner, field);
      return;
    }
    let t = ctx.touched.get(owner);
    if (t === undefined) ctx.touched.set(owner, (t = {}));
    if (write) t.write ??= field;
    else t.read ??= field;
    return;
  }
  if (r === null || fresh(owner, r.machine, r.task)) return;
  if (write) mutable.add(field);
  noteAccess(owner, field, r.task, write);
  // Part of the step just run: covered by its footprint, or noted on it before the access.
  const last = r.task.pending;
  if (last !== null && coveredBy(last, r.machine, owner, write)) return;
  const f = report("task", write ? "write" : "read", r.task, last === null ? "(start)" : `after ${last.label ?? last.kind}`, owner, field);
  const occ = (f.occurrences ??= new Map());
  const o = occ.get(owner);
  const h = heldBy(r.task, write);
  if (o === undefined) occ.set(owner, { held: new Set(h), cpus: new Set([r.task.cpu]) });
  else {
    intersect(o.held, h);
    o.cpus.add(r.task.cpu);
  }
}

function coveredBy(o: Op<unknown>, m: Machine, owner: Shared, write: boolean): boolean {
  if (o.writes.includes(owner) || o.commutes.includes(owner) || m.undeclaredWrites().includes(owner)) return true;
  return !write && (o.reads.includes(owner) || m.undeclaredReads().includes(owner));
}

/** `op.run`, checked: what the step touched is compared with its footprint when it returns. */
export function checkedRun<R>(o: Op<R>, run: (m: Machine, t: Task) => R): (m: Machine, t: Task) => R {
  return (m, t) => {
    if (contexts.length > 0 && contexts[contexts.length - 1].kind === "op" && contexts[contexts.length - 1].task === t) return run(m, t);
    const ctx: Context = { kind: "op", op: o as Op<unknown>, machine: m, task: t, touched: new Map() };
    contexts.push(ctx);
    try {
      return run(m, t);
    } finally {
      contexts.pop();
      judgeStep(ctx);
    }
  };
}

function judgeStep(ctx: Context): void {
  const o = ctx.op;
  const noteW = ctx.machine.undeclaredWrites();
  const noteR = ctx.machine.undeclaredReads();
  const label = o.label ?? o.kind;
  for (const [s, t] of ctx.touched) {
    const writable = o.writes.includes(s) || o.commutes.includes(s) || noteW.includes(s);
    if (t.write !== undefined && !writable) report("op", "write", ctx.task, label, s, t.write);
    if (t.read !== undefined && !writable && !o.reads.includes(s) && !noteR.includes(s)) report("op", "read", ctx.task, label, s, t.read);
  }
}

/** `op.enabled`, checked: a predicate reads only its operation's footprint and writes nothing. */
export function checkedPredicate(o: Op<unknown>, enabled: (m: Machine, t: Task) => boolean): (m: Machine, t: Task) => boolean {
  return (m, t) => {
    contexts.push({ kind: "predicate", op: o, machine: m, task: t, touched: new Map() });
    try {
      return enabled(m, t);
    } finally {
      contexts.pop();
    }
  };
}

// ------------------------------------------------------------------ instrumentation

const proxies = new WeakSet<object>();
const containerProxies = new WeakMap<object, object>();
/** Bookkeeping of `Shared` itself (ids, write counters, trace labels): never state. */
const SHARED_OWN = new Set<PropertyKey>(["id", "lastWriteAt", "writes", "labels", "name"]);

interface CheckedClass {
  /** Fields the class keeps as model bookkeeping, not kernel state. */
  untrackedState?: readonly string[];
  /** Fields that are the state of another shared object: field → the field holding that object. */
  fieldOwners?: Readonly<Record<string, string>>;
}

function checkedClass(target: object): CheckedClass {
  return ((target as { constructor?: CheckedClass }).constructor ?? {}) as CheckedClass;
}

function untracked(target: object): readonly string[] {
  return checkedClass(target).untrackedState ?? [];
}

function isContainer(v: unknown): v is object {
  if (typeof v !== "object" || v === null || proxies.has(v) || Object.isFrozen(v)) return false;
  if (Array.isArray(v) || v instanceof Map || v instanceof Set) return true;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  // A record of containers (lists by name), not a value (a PTE, an entry).
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (Array.isArray(x) || x instanceof Map || x instanceof Set) return true;
  }
  return false;
}

function wrapValue(v: unknown, owner: Shared, field: string): unknown {
  if (!isContainer(v)) return v;
  let p = containerProxies.get(v);
  if (p === undefined) {
    p = v instanceof Map || v instanceof Set ? collectionProxy(v, owner, `${field}[]`) : objectProxy(v, () => owner, field + (Array.isArray(v) ? "[]" : ""), []);
    containerProxies.set(v, p);
    proxies.add(p);
  }
  return p;
}

/** The fields that say who holds a lock (SpinLock, Mutex and BitLock `owner`; RwSemaphore `writer`, `readers`). */
const LOCK_FIELDS = new Set<PropertyKey>(["owner", "writer", "readers"]);

function currentTask(): Task | undefined {
  const r = runningSource();
  if (r !== null) return r.task;
  return contexts.length > 0 ? contexts[contexts.length - 1].task : undefined;
}

const COLLECTION_READS = new Set<PropertyKey>(["get", "has", "forEach", "keys", "values", "entries", "size", Symbol.iterator]);
const COLLECTION_WRITES = new Set<PropertyKey>(["set", "add", "delete", "clear"]);

function collectionProxy(target: Map<unknown, unknown> | Set<unknown>, owner: Shared, field: string): object {
  return new Proxy(target, {
    get(t, prop) {
      if (COLLECTION_READS.has(prop) || COLLECTION_WRITES.has(prop)) {
        access(owner, field, COLLECTION_WRITES.has(prop));
      }
      const v = Reflect.get(t, prop, t);
      if (typeof v !== "function") return v;
      if (prop === "get") return (k: unknown) => wrapValue((t as Map<unknown, unknown>).get(k), owner, field);
      return (v as (...a: unknown[]) => unknown).bind(t);
    },
  });
}

/**
 * A proxy over `target` that reports its own fields' accesses as accesses of
 * `ownerOf(field)` (undefined: not state). `skip`: fields never tracked.
 */
function objectProxy<T extends object>(target: T, ownerOf: (field: string) => Shared | undefined, prefix: string, skip: readonly PropertyKey[]): T {
  const name = (prop: PropertyKey): string => (Array.isArray(target) ? prefix : `${prefix}.${String(prop)}`);
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === "symbol" || skip.includes(prop) || !Object.prototype.hasOwnProperty.call(t, prop)) {
        const v = Reflect.get(t, prop, receiver);
        if (Array.isArray(t) && typeof prop === "string" && prop === "length") track(prop, false);
        return v;
      }
      const owner = track(prop, false);
      const v = Reflect.get(t, prop, receiver);
      if (owner === undefined) return v;
      const d = Object.getOwnPropertyDescriptor(t, prop);
      if (d !== undefined && !d.configurable && !d.writable) return v;
      return wrapValue(v, owner, name(prop));
    },
    set(t, prop, value, receiver) {
      if (typeof prop !== "symbol" && !skip.includes(prop)) {
        const owner = track(prop, true);
        if (owner !== undefined && LOCK_FIELDS.has(prop)) trackLock(receiver as Shared, owner, prop, (t as Record<string, unknown>)[prop], value, currentTask());
      }
      return Reflect.set(t, prop, value, receiver);
    },
    deleteProperty(t, prop) {
      if (typeof prop !== "symbol" && !skip.includes(prop)) track(prop, true);
      return Reflect.deleteProperty(t, prop);
    },
  });
  function track(prop: string, write: boolean): Shared | undefined {
    const owner = ownerOf(prop);
    if (owner === undefined) return undefined;
    access(owner, name(prop), write);
    return owner;
  }
}

/** A `Shared` object behind the checker's proxy (called by its constructor when checking). */
export function instrumentShared<T extends Shared>(target: T): T {
  const cls = target.constructor.name;
  let self: T | undefined;
  const skip = [...SHARED_OWN, ...untracked(target)];
  const owners = checkedClass(target).fieldOwners;
  const ownerOf = owners === undefined ? () => self : (field: string) => (field in owners ? (target as unknown as Record<string, Shared>)[owners[field]] : self);
  self = objectProxy(target, ownerOf, cls, skip);
  proxies.add(self);
  noteBirth(self);
  return self;
}

/**
 * `target`, behind the checker's proxy when checking: its fields are the state of the
 * shared objects `ownerOf` names (undefined: not state, such as an identity). For an
 * object that keeps a `Shared` object's state outside it (a folio's words).
 */
export function checkedState<T extends object>(target: T, ownerOf: (field: string) => Shared | undefined): T {
  if (!FOOTPRINT_CHECK) return target;
  const p = objectProxy(target, ownerOf, target.constructor.name, untracked(target));
  proxies.add(p);
  noteBirth(p);
  return p;
}
