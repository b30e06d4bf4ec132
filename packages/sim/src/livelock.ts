/**
 * Livelock as a repeated global state (a model check; no kernel counterpart).
 *
 * The machine's first detector (machine.ts) declares a livelock after a long stretch
 * of steps in which nothing changed. A busy retry loop that takes and drops a
 * reference, a lock or a sequence number on every pass changes state all the time and
 * escapes it — yet it goes round in circles just the same. This detector samples a
 * digest of the global state — every task's position (state, pending operation,
 * modelled-function stack) and the state of every shared object written since it was
 * armed — and declares a livelock when one digest recurs, with nothing else in
 * between that could break the circle:
 *
 * - it is armed only once a run has gone `steps` steps without a task finishing (short
 *   runs never pay for it), and re-armed from scratch whenever a task finishes;
 * - a digest is sampled every `stride` steps, never while a task waits for a timer (a
 *   timed sleep makes progress by the clock alone);
 * - the same digest must be seen `repeats` times, spanning at least the no-progress
 *   detector's own window (`steps` steps and `ns` of virtual time).
 *
 * A shared object describes its state through `Shared.stateDigest()`; one without a
 * digest counts each write as a change (its write counter is part of the digest), so
 * it can only hide a cycle, never invent one. Model bookkeeping that changes without a
 * write — a reference changing hands in a folio's holders ledger, between two ops or
 * inside one (`noteChange`) — enters the digest the same way (`noted`): a loop whose
 * passes move references to new holders is not a repeated state, and one whose ledger
 * comes back is. Such a change is never progress for the no-progress detector. Sequence counters — which a kernel loop
 * compares for equality with a copy it took, and which never repeat — digest to a
 * constant (`Cell` with `{ sequence: true }`).
 *
 * The report names the cycle: its length in steps and virtual time, the tasks that
 * stepped in it, and what every task waits for. A cycle bounded only by a task-local
 * clock check (a driver's `HMM_RANGE_DEFAULT_TIMEOUT`) is reported too: for the whole
 * window nothing but the cycle happened, as with the no-progress detector.
 */

import type { Shared } from "./op.js";

/** What the detector needs to know about a task (the machine's `Task`). */
export interface CycleTask {
  readonly id: number;
  readonly name: string;
  readonly state: string;
  readonly daemon: boolean;
  readonly pending: { readonly label?: string; readonly kind: string } | null;
  readonly frames: readonly string[];
}

/** A cycle found: the sample that recurred, and how. */
export interface LivelockCycle {
  /** Steps from one occurrence of the state to the next (a multiple of the loop's period). */
  steps: number;
  /** Virtual time of one cycle. */
  ns: number;
  /** How many times the state was seen. */
  repeats: number;
  /** Tasks that took a step during the last cycle. */
  tasks: string[];
}

interface Sample {
  step: number;
  ns: number;
  count: number;
  firstStep: number;
  firstNs: number;
  /** Each task's pending operation at the sample (identity: a task that stepped has a new one). */
  pending: unknown[];
}

const FNV_OFFSET = 0x811c9dc5;

function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface CycleDetectorConfig {
  steps: number;
  ns: number;
  /** Steps between two samples (default 16). */
  stride?: number;
  /** Occurrences of one digest needed (default 3). */
  repeats?: number;
}

export class CycleDetector {
  private readonly stride: number;
  private readonly repeats: number;
  /** Objects written or noted since the detector was armed (null: not armed). */
  private written: Set<Shared> | null = null;
  /** Changes noted without a write since the detector was armed, per object (for one without a `stateDigest`). */
  private readonly notes = new Map<Shared, number>();
  private readonly samples = new Map<number, Sample>();
  /** Step from which the detector may arm (the last time a task finished). */
  private since = 0;

  constructor(private readonly config: CycleDetectorConfig) {
    this.stride = config.stride ?? 16;
    this.repeats = config.repeats ?? 3;
  }

  /** Record a write of `obj` (called by `Machine.markWrite`). */
  wrote(obj: Shared): void {
    if (this.written !== null) this.written.add(obj);
  }

  /**
   * Record a change of `obj` that is no write (called by `Machine.noteChange`): its
   * state is part of the digest from now on, as if it had been written.
   */
  noted(obj: Shared): void {
    if (this.written === null) return;
    this.written.add(obj);
    this.notes.set(obj, (this.notes.get(obj) ?? 0) + 1);
  }

  /** Start over: a task finished, or the machine settled a set-up. */
  reset(step: number): void {
    this.since = step;
    this.written = null;
    this.samples.clear();
    this.notes.clear();
  }

  /**
   * After a step that changed state: a cycle if the global state now recurs for the
   * `repeats`-th time over the window, else null. `timed` says a task waits for a timer.
   */
  check(step: number, ns: number, tasks: readonly CycleTask[], timed: boolean): LivelockCycle | null {
    if (step - this.since < this.config.steps) return null;
    if (this.written === null) {
      this.written = new Set();
      return null;
    }
    if (step % this.stride !== 0 || timed) return null;
    const key = this.digest(tasks);
    const pending = tasks.map((t) => t.pending);
    const s = this.samples.get(key);
    if (s === undefined) {
      this.samples.set(key, { step, ns, count: 1, firstStep: step, firstNs: ns, pending });
      return null;
    }
    const cycle: LivelockCycle = {
      steps: step - s.step,
      ns: ns - s.ns,
      repeats: s.count + 1,
      tasks: tasks.filter((t, i) => t.pending !== s.pending[i]).map((t) => t.name),
    };
    s.count++;
    s.step = step;
    s.ns = ns;
    s.pending = pending;
    if (s.count < this.repeats || step - s.firstStep < this.config.steps || ns - s.firstNs < this.config.ns) return null;
    return cycle;
  }

  private digest(tasks: readonly CycleTask[]): number {
    let h = FNV_OFFSET;
    for (const t of tasks) {
      if (t.state === "done") continue;
      h = fnv(h, `${t.id}:${t.state}:${t.pending?.label ?? t.pending?.kind ?? ""}:${t.frames.join("/")};`);
    }
    for (const o of this.written!) {
      const d = o.stateDigest();
      h = fnv(h, `${o.id}=${d === undefined ? `w${o.writes}n${this.notes.get(o) ?? 0}` : String(d)};`);
    }
    return h;
  }
}
