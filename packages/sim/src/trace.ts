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

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class Trace {
  readonly events: TraceEvent[] = [];
  private h = FNV_OFFSET;
  private readonly interned = new Map<string, number>();

  constructor(readonly record: boolean) {}

  /** Fast path for the one event every step emits. */
  op(step: number, t: number, cpu: number, task: number, name: string): void {
    this.mixInt(task);
    this.mixInt(this.intern(name));
    this.mixInt(t);
    if (this.record) this.events.push({ step, t, cpu, task, type: "op", name });
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

  /** Hex digest of everything emitted so far. */
  hash(): string {
    return (this.h >>> 0).toString(16).padStart(8, "0") + ":" + this.interned.size.toString(16);
  }

  /** Hash an args record without building JSON: emitters use a fixed key order per event type. */
  private mixArgs(args: Record<string, unknown>): void {
    for (const key in args) {
      this.mixInt(this.intern(key));
      const v = args[key];
      if (typeof v === "number") this.mixInt(v);
      else if (typeof v === "string") this.mixInt(this.intern(v));
      else if (typeof v === "boolean") this.mixInt(v ? 1 : 2);
      else this.mixString(stableStringify(v));
    }
  }

  private intern(s: string): number {
    let id = this.interned.get(s);
    if (id === undefined) {
      id = this.interned.size + 1;
      this.interned.set(s, id);
      this.mixString(s); // the first sighting binds the id to the text
    }
    return id;
  }

  private mixInt(v: number): void {
    let h = this.h;
    // Mix the low 32 bits and the high part of a (possibly large) integer.
    const lo = v | 0;
    const hi = Math.floor(v / 4294967296) | 0;
    h = Math.imul(h ^ (lo & 0xff), FNV_PRIME);
    h = Math.imul(h ^ ((lo >>> 8) & 0xff), FNV_PRIME);
    h = Math.imul(h ^ ((lo >>> 16) & 0xff), FNV_PRIME);
    h = Math.imul(h ^ (lo >>> 24), FNV_PRIME);
    if (hi !== 0) h = Math.imul(h ^ (hi & 0xffff), FNV_PRIME);
    this.h = h;
  }

  private mixString(s: string): void {
    let h = this.h;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    this.h = h;
  }
}

/** JSON with sorted keys, so equal objects hash equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(stableStringify).join(",") + "]";
  const keys = Object.keys(v as object).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + stableStringify((v as Record<string, unknown>)[k])).join(",") + "}";
}
