/**
 * Locks (kernel/locking/spinlock.c, mutex.c, include/linux/local_lock.h,
 * include/linux/wait_bit.h bit locks as used by the folio lock in mm/filemap.c).
 *
 * - `SpinLock`: acquiring disables preemption; a contended acquire spins holding the CPU.
 * - `Mutex`: a contended acquire sleeps; `mutex_lock` is a `might_sleep()` point.
 * - `BitLock`: a lock bit with a waiters bit (PG_locked / PG_waiters). A contended
 *   `bitLock` first queues itself as a waiter (setting the waiters bit, which others
 *   can test) and then sleeps until the bit clears.
 * - `LocalLock`: the non-PREEMPT_RT `local_lock`: preemption off on this CPU.
 * - `RwSemaphore`: kernel/locking/rwsem.c's reader/writer semaphore, sleeping when
 *   contended. Readers add to a reader count without looking at it, a commutative
 *   update (`Op.commutes`): two readers never order each other, a writer orders both.
 *   Simplified: no writer preference (a reader is let in whenever no writer holds it),
 *   no optimistic spinning.
 *
 * Misuse (unlocking a lock one does not hold) raises a `ModelError`.
 */

import { ModelError } from "./errors.js";
import type { Task } from "./machine.js";
import { Block, op, Shared, type Op, type TaskGen } from "./op.js";
import { preemptCountDec } from "./sched.js";

export class SpinLock extends Shared {
  owner: Task | null = null;
  override stateDigest(): number {
    return this.owner?.id ?? -1;
  }
}

/** Options of a lock operation. */
export interface LockOptions {
  /**
   * Count the operation as progress for livelock detection (default true). A lock
   * taken only to check something and released unchanged is not progress: a busy
   * retry loop made of such checks must still be recognised as a livelock.
   */
  progress?: boolean;
}

export function spinLock(l: SpinLock, opts: LockOptions = {}): Op<void> {
  return op({
    kind: "spin_lock",
    label: l.label("spin_lock"),
    writes: [l],
    cost: "lock",
    block: Block.Spin,
    enabled: () => l.owner === null,
    waitFor: l.label("spin_lock"),
    run: (m, t) => {
      l.owner = t;
      t.preemptCount++;
      m.markWrite(l, opts.progress ?? true);
    },
  });
}

export function spinTrylock(l: SpinLock): Op<boolean> {
  return op({
    kind: "spin_trylock",
    label: l.label("spin_trylock"),
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (l.owner !== null) {
        m.noteSpin(`spin_trylock(${l.name}) held by ${l.owner.name}`);
        return false;
      }
      l.owner = t;
      t.preemptCount++;
      m.markWrite(l);
      return true;
    },
  });
}

export function spinUnlock(l: SpinLock, opts: LockOptions = {}): Op<void> {
  return op({
    kind: "spin_unlock",
    label: l.label("spin_unlock"),
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (l.owner !== t) throw new ModelError("spin_unlock", l.name, l.owner ? `held by ${l.owner.name}, not ${t.name}` : "not locked");
      l.owner = null;
      m.markWrite(l, opts.progress ?? true);
      preemptCountDec(m, t, "spin_unlock");
    },
  });
}

export class Mutex extends Shared {
  owner: Task | null = null;
  override stateDigest(): number {
    return this.owner?.id ?? -1;
  }
}

export function mutexLock(l: Mutex): Op<void> {
  return op({
    kind: "mutex_lock",
    label: l.label("mutex_lock"),
    writes: [l],
    cost: "lock",
    block: Block.Sleep,
    mightSleep: true,
    enabled: () => l.owner === null,
    waitFor: l.label("mutex_lock"),
    run: (m, t) => {
      l.owner = t;
      m.markWrite(l);
    },
  });
}

export function mutexTrylock(l: Mutex): Op<boolean> {
  return op({
    kind: "mutex_trylock",
    label: l.label("mutex_trylock"),
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (l.owner !== null) {
        m.noteSpin(`mutex_trylock(${l.name}) held by ${l.owner.name}`);
        return false;
      }
      l.owner = t;
      m.markWrite(l);
      return true;
    },
  });
}

export function mutexUnlock(l: Mutex): Op<void> {
  return op({
    kind: "mutex_unlock",
    label: l.label("mutex_unlock"),
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (l.owner !== t) throw new ModelError("mutex_unlock", l.name, l.owner ? `held by ${l.owner.name}, not ${t.name}` : "not locked");
      l.owner = null;
      m.markWrite(l);
    },
  });
}

export class BitLock extends Shared {
  locked = false;
  owner: Task | null = null;
  /** Tasks queued on the lock's wait queue, in arrival order. */
  readonly waiterTasks: Task[] = [];
  /** Which queued tasks wait to take the lock (exclusive) rather than for its release. */
  readonly exclusive = new Set<Task>();
  /** Shared waiters woken by the last unlock. */
  readonly released = new Set<Task>();
  /** The waiters bit (PG_waiters): someone sleeps on this lock. */
  get waiters(): boolean {
    return this.waiterTasks.length > 0;
  }
  override stateDigest(): string {
    const ids = (ts: Iterable<Task>) => [...ts].map((t) => t.id).join(",");
    return `${this.locked ? (this.owner?.id ?? "?") : "-"}|${ids(this.waiterTasks)}|${ids(this.exclusive)}|${ids(this.released)}`;
  }
}

export function bitTrylock(l: BitLock, label = l.label("trylock")): Op<boolean> {
  return op({
    kind: "bit_trylock",
    label,
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (l.locked) {
        m.noteSpin(`${label} held by ${l.owner?.name ?? "?"}`);
        return false;
      }
      l.locked = true;
      l.owner = t;
      m.markWrite(l);
      return true;
    },
  });
}

function queueWaiter(l: BitLock, label: string, exclusive: boolean): Op<boolean> {
  return op({
    kind: "bit_lock_wait_prepare",
    label,
    writes: [l],
    cost: "lock",
    run: (m, t) => {
      if (!l.locked) return false;
      if (!l.waiterTasks.includes(t)) {
        l.waiterTasks.push(t);
        if (exclusive) l.exclusive.add(t);
        m.markWrite(l); // the waiters bit is now visible to others
      }
      return true;
    },
  });
}

/**
 * Sleep on the lock's queue. An exclusive waiter wakes owning the lock (the unlocker
 * handed it over, as `wake_page_function` does for folio-lock waiters since 5.9); a
 * shared waiter wakes when the lock is released.
 */
function sleepOnBit(l: BitLock, exclusive: boolean, label: string): Op<void> {
  return op({
    kind: exclusive ? "bit_lock_sleep" : "bit_wait_sleep",
    label,
    writes: [l],
    cost: "schedule",
    block: Block.Sleep,
    mightSleep: true,
    enabled: (_m, t) => (exclusive ? l.owner === t || !l.locked : l.released.has(t) || !l.locked),
    waitFor: label,
    run: (m, t) => {
      const i = l.waiterTasks.indexOf(t);
      if (i >= 0) l.waiterTasks.splice(i, 1);
      l.exclusive.delete(t);
      l.released.delete(t);
      if (exclusive && !l.locked) {
        l.locked = true;
        l.owner = t;
      }
      m.markWrite(l);
    },
  });
}

/** Acquire, sleeping (as a waiter, with the waiters bit set) while it is held. */
export function* bitLock(l: BitLock, label = l.label("lock")): TaskGen<void> {
  if (yield* bitTrylock(l, label)) return;
  for (;;) {
    if (!(yield* queueWaiter(l, label, true))) {
      if (yield* bitTrylock(l, label)) return;
      continue;
    }
    yield* sleepOnBit(l, true, label);
    return;
  }
}

/** Sleep until the lock is released, without taking it (`folio_wait_locked`). */
export function* bitWaitUnlocked(l: BitLock, label = l.label("wait_on_locked")): TaskGen<void> {
  if (!(yield* queueWaiter(l, label, false))) return;
  yield* sleepOnBit(l, false, label);
}

/** Release: shared waiters are woken; the first exclusive waiter is handed the lock. */
export function bitUnlock(l: BitLock, label = l.label("unlock")): Op<void> {
  return op({
    kind: "bit_unlock",
    label,
    writes: [l],
    cost: "lock",
    run: (m) => {
      if (!l.locked) throw new ModelError(label.replace(/\(.*$/, ""), l.name, "unlocking a lock that is not locked");
      l.locked = false;
      l.owner = null;
      for (const w of l.waiterTasks) {
        if (l.exclusive.has(w)) {
          if (!l.locked) {
            l.locked = true; // handoff
            l.owner = w;
          }
        } else l.released.add(w);
      }
      m.markWrite(l);
    },
  });
}

/** A reader/writer semaphore: the object stands for the writer side, `readerCount` for the readers. */
export class RwSemaphore extends Shared {
  /** Footprint checking (./footprint-check.ts): `readers` is the state of `readerCount`. */
  static readonly fieldOwners: Readonly<Record<string, string>> = { readers: "readerCount" };
  readers = 0;
  writer: Task | null = null;
  /** The reader part of `sem->count`, an object of its own: readers update it commutatively. */
  readonly readerCount: Shared;
  constructor(name: string) {
    super(name);
    this.readerCount = new RwSemReaders(this);
  }
  override stateDigest(): string {
    return `${this.readers}|${this.writer?.id ?? -1}`;
  }
}

class RwSemReaders extends Shared {
  constructor(readonly sem: RwSemaphore) {
    super(`${sem.name} readers`);
  }
  override stateDigest(): number {
    return this.sem.readers;
  }
}

/** How an rwsem operation is named in traces (mm's `mmap_read_lock` is `down_read` on `mmap_lock`). */
export interface RwSemNames {
  kind?: string;
  label?: string;
  waitFor?: string;
}

/** `down_read` / `down_write`: sleeps while a writer (or, for a writer, anyone) holds it. */
export function downRwSem(l: RwSemaphore, write: boolean, names: RwSemNames = {}): Op<void> {
  const kind = names.kind ?? (write ? "down_write" : "down_read");
  const label = names.label ?? l.label(kind);
  const footprint = write ? { writes: [l, l.readerCount] } : { reads: [l], writes: [l.readerCount], commutes: [l.readerCount] };
  return op({
    kind,
    label,
    ...footprint,
    cost: "lock",
    block: Block.Sleep,
    mightSleep: true,
    waitFor: names.waitFor ?? label,
    enabled: () => l.writer === null && (!write || l.readers === 0),
    run: (m, t) => {
      if (write) {
        l.writer = t;
        m.markWrite(l);
      } else {
        l.readers++;
        m.markCommutingWrite(l.readerCount);
      }
    },
  });
}

/** `up_read` / `up_write`. */
export function upRwSem(l: RwSemaphore, write: boolean, names: RwSemNames = {}): Op<void> {
  const kind = names.kind ?? (write ? "up_write" : "up_read");
  const footprint = write ? { writes: [l] } : { writes: [l.readerCount], commutes: [l.readerCount] };
  return op({
    kind,
    label: names.label ?? l.label(kind),
    ...footprint,
    cost: "lock",
    run: (m, t) => {
      if (write ? l.writer !== t : l.readers === 0) throw new ModelError(kind, l.name, "not held");
      if (write) {
        l.writer = null;
        m.markWrite(l);
      } else {
        l.readers--;
        m.markCommutingWrite(l.readerCount);
      }
    },
  });
}

export class LocalLock extends Shared {}

export function localLock(l: LocalLock): Op<void> {
  return op({
    kind: "local_lock",
    label: l.label("local_lock"),
    writes: [l],
    cost: 1,
    run: (_m, t) => {
      t.preemptCount++;
    },
  });
}

export function localUnlock(l: LocalLock): Op<void> {
  return op({
    kind: "local_unlock",
    label: l.label("local_unlock"),
    writes: [l],
    cost: 1,
    run: (m, t) => preemptCountDec(m, t, `local_unlock(${l.name})`),
  });
}
