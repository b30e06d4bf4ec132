/**
 * The trace buffer (the simulated counterpart of kernel/trace's ring buffer).
 *
 * Events are typed records in step order. The machine emits scheduling events
 * (`op`, `switch`, `block`, `wake`, `timer`, `spawn`, `exit`); the primitives emit
 * `work_queue`, `work_start`, `work_end`, `ipi`, `rcu_gp_start`, `rcu_gp_end`,
 * `static_key`, `func_entry`, `func_exit`; upper layers add their own (`page_ref_mod`).
 *
 * A rolling FNV-1a hash covers every event, recorded or not, so two runs can be
 * compared bit for bit without keeping their traces.
 */

export interface TraceEvent {
  /** Steps completed when the event was emitted. */
  step: number;
  /** Virtual time in nanoseconds on the event's CPU. */
  t: number;
  cpu: number;
  /** Task id (-1 for none). */
  task: number;
  type: string;
  name?: string;
  args?: Record<string, unknown>;
}

/**
 * The args of an event begun with `Trace.begin`, given one at a time in the order the
 * event's args record lists them. Each goes straight into the hash; only a trace that
 * records events builds the record. So an emitter that is not recorded allocates nothing.
 */
export interface EventArgs {
  arg(key: string, value: unknown): EventArgs;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * String interning, shared by the traces of a process. A trace numbers strings in its
 * own order of first sighting (the hash depends on that order), but building a table
 * per run cost more than the run itself on short executions. So one process-wide table
 * maps each string to an entry that remembers the id the current owner trace gave it;
 * `stamp` says which trace that was. A trace owns the table from its first intern
 * until a newer trace claims it; from then on it uses a table of its own, rebuilt from
 * its strings (machines stepped in alternation stay correct, only slower).
 *
 * A trace that adopts another's strings (a machine restored from a set-up snapshot)
 * would have to stamp every one of them again, at every execution. Instead an entry
 * also remembers the id the latest adopted trace (`baseSource`) gave it: an adopting
 * trace reads its inherited ids there, and only a new source is stamped in full.
 */
class Interned {
  stamp = 0;
  id = 0;
  /** The id `baseStamp`'s trace gave the string, if it is one of that trace's strings when adopted. */
  baseStamp = 0;
  baseId = 0;
}

const SHARED_TABLE = new Map<string, Interned>();
/** Beyond this many strings a claim starts the shared table afresh (bounds memory in long-lived processes). */
const SHARED_TABLE_LIMIT = 1 << 16;
/** Stamp of the trace that owns the shared table (a number, so a finished trace is not kept alive). */
let sharedOwner = 0;
let nextStamp = 1;
/** The adopted trace whose first `baseCount` strings carry their ids in the entries' base fields (0: none). */
let baseSource = 0;
let baseCount = 0;

export class Trace {
  readonly events: TraceEvent[] = [];
  private h = FNV_OFFSET;
  /** Interned strings in id order (id = index + 1). */
  private texts: string[] = [];
  /** The stamp of the trace whose strings this one adopted (0: none): entries with that base stamp give their ids. */
  private base = 0;
  /** This trace's own table, once another trace has claimed the shared one. */
  private own: Map<string, number> | undefined = undefined;
  private readonly stamp = nextStamp++;
  /** The last op name and its id: a task's consecutive steps often repeat a label. */
  private lastOpName: string | undefined = undefined;
  private lastOpId = 0;
  /** The recorded event whose args `arg` fills (recording traces only). */
  private open: TraceEvent | undefined = undefined;

  constructor(readonly record: boolean) {}

  /** Fast path for the one event every step emits. */
  op(step: number, t: number, cpu: number, task: number, name: string): void {
    this.mixInt(task);
    let id = this.lastOpId;
    if (name !== this.lastOpName) {
      id = this.intern(name);
      this.lastOpName = name;
      this.lastOpId = id;
    }
    this.mixInt(id);
    this.mixInt(t);
    if (this.record) this.events.push({ step, t, cpu, task, type: "op", name });
  }

  /**
   * `emit(step, t, cpu, task, type, name, args)` with the args given afterwards through
   * the answer's `arg(key, value)`, in the args record's key order (same hash, same
   * event). The answer is this trace: give every arg before anything else is emitted.
   */
  begin(step: number, t: number, cpu: number, task: number, type: string, name?: string): EventArgs {
    this.mixInt(this.intern(type));
    this.mixInt(task);
    this.mixInt(t);
    if (name !== undefined) this.mixInt(this.intern(name));
    if (this.record) {
      const e: TraceEvent = { step, t, cpu, task, type };
      if (name !== undefined) e.name = name;
      this.events.push(e);
      this.open = e;
    }
    return this;
  }

  /** One arg of the event `begin` started (see `EventArgs`). */
  arg(key: string, value: unknown): EventArgs {
    this.mixInt(this.intern(key));
    this.mixValue(value);
    if (this.open !== undefined) (this.open.args ??= {})[key] = value;
    return this;
  }

  emit(step: number, t: number, cpu: number, task: number, type: string, name?: string, args?: Record<string, unknown>): void {
    this.mixInt(this.intern(type));
    this.mixInt(task);
    this.mixInt(t);
    if (name !== undefined) this.mixInt(this.intern(name));
    if (args !== undefined) this.mixArgs(args);
    if (this.record) {
      const e: TraceEvent = { step, t, cpu, task, type };
      if (name !== undefined) e.name = name;
      if (args !== undefined) e.args = args;
      this.events.push(e);
    }
  }

  /**
   * Continue from where `other` (a trace of the same kind, recording alike) stands: its
   * hash, its strings and their ids, its events. For a machine restored from a snapshot
   * (./snapshot.ts); this trace must not have emitted anything yet. It claims the
   * shared string table with `other`'s strings, so later interning stays on the fast path.
   */
  adopt(other: Trace): void {
    if (this.texts.length > 0 || this.events.length > 0) throw new Error("Trace.adopt: the trace has already emitted events");
    if (other.record !== this.record) throw new Error("Trace.adopt: the traces record differently");
    this.h = other.h;
    this.texts = other.texts.slice();
    if (this.record) for (const e of other.events) this.events.push(e);
    this.lastOpName = other.lastOpName;
    this.lastOpId = other.lastOpId;
    if (SHARED_TABLE.size + this.texts.length > SHARED_TABLE_LIMIT) clearShared();
    sharedOwner = this.stamp;
    this.base = other.stamp;
    // The same source again (the usual case): only strings it added since need stamping.
    if (baseSource !== other.stamp) {
      baseSource = other.stamp;
      baseCount = 0;
    }
    for (let i = baseCount; i < this.texts.length; i++) {
      let entry = SHARED_TABLE.get(this.texts[i]);
      if (entry === undefined) {
        entry = new Interned();
        SHARED_TABLE.set(this.texts[i], entry);
      }
      entry.baseStamp = other.stamp;
      entry.baseId = i + 1;
    }
    baseCount = this.texts.length;
  }

  /** Hex digest of everything emitted so far. */
  hash(): string {
    const h = this.h >>> 0;
    return HEX_BYTE[h >>> 24] + HEX_BYTE[(h >>> 16) & 0xff] + HEX_BYTE[(h >>> 8) & 0xff] + HEX_BYTE[h & 0xff] + ":" + hex(this.texts.length);
  }

  /** Hash an args record without building JSON: emitters use a fixed key order per event type. */
  private mixArgs(args: Record<string, unknown>): void {
    for (const key in args) {
      this.mixInt(this.intern(key));
      this.mixValue(args[key]);
    }
  }

  private mixValue(v: unknown): void {
    if (typeof v === "number") this.mixInt(v);
    else if (typeof v === "string") this.mixInt(this.intern(v));
    else if (typeof v === "boolean") this.mixInt(v ? 1 : 2);
    else this.mixString(stableStringify(v));
  }

  /** The id of `s` in this trace, giving it the next one at its first sighting. */
  protected intern(s: string): number {
    if (sharedOwner !== this.stamp && !this.claimShared()) return this.internOwn(s);
    let entry = SHARED_TABLE.get(s);
    if (entry === undefined) {
      entry = new Interned();
      SHARED_TABLE.set(s, entry);
    }
    if (entry.stamp !== this.stamp) {
      if (entry.baseStamp === this.base && this.base !== 0) return entry.baseId;
      entry.stamp = this.stamp;
      entry.id = this.add(s);
    }
    return entry.id;
  }

  /** Take the shared table if this trace has interned nothing yet; else switch to an own table for good. */
  private claimShared(): boolean {
    if (this.own === undefined && this.texts.length === 0) {
      if (SHARED_TABLE.size > SHARED_TABLE_LIMIT) clearShared();
      sharedOwner = this.stamp;
      return true;
    }
    if (this.own === undefined) {
      this.own = new Map();
      for (let i = 0; i < this.texts.length; i++) this.own.set(this.texts[i], i + 1);
    }
    return false;
  }

  private internOwn(s: string): number {
    const own = this.own!;
    let id = own.get(s);
    if (id === undefined) {
      id = this.add(s);
      own.set(s, id);
    }
    return id;
  }

  /** A first sighting: the next id, and the text goes into the hash (binding the id to it). */
  private add(s: string): number {
    this.texts.push(s);
    this.mixString(s);
    return this.texts.length;
  }

  protected mixInt(v: number): void {
    this.h = fnvInt(this.h, v);
  }

  private mixString(s: string): void {
    let h = this.h;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    this.h = h;
  }
}

/** Start the shared string table afresh: its entries' base ids go with it. */
function clearShared(): void {
  SHARED_TABLE.clear();
  baseSource = 0;
  baseCount = 0;
}

/** FNV-1a over the low 32 bits of an integer, then its high part if it has one. Small enough to inline. */
function fnvInt(h: number, v: number): number {
  const lo = v | 0;
  h = Math.imul(h ^ (lo & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((lo >>> 8) & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((lo >>> 16) & 0xff), FNV_PRIME);
  h = Math.imul(h ^ (lo >>> 24), FNV_PRIME);
  return v >>> 0 === v ? h : fnvHigh(h, v);
}

/** The high part of an integer outside 0..2^32-1 (negative, large, or not an integer). */
function fnvHigh(h: number, v: number): number {
  const hi = Math.floor(v / 4294967296) | 0;
  return hi !== 0 ? Math.imul(h ^ (hi & 0xffff), FNV_PRIME) : h;
}

/** Two hex digits per byte value: `Number#toString(16)` is slow enough to show in short runs. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
const HEX_DIGITS = "0123456789abcdef";

/** `n.toString(16)` for a non-negative integer. */
function hex(n: number): string {
  let s = HEX_DIGITS[n % 16];
  for (n = Math.floor(n / 16); n > 0; n = Math.floor(n / 16)) s = HEX_DIGITS[n % 16] + s;
  return s;
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(stableStringify).join(",") + "]";
  const keys = Object.keys(v as object).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + stableStringify((v as Record<string, unknown>)[k])).join(",") + "}";
}
