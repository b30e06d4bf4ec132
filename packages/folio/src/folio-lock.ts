/**
 * The folio lock (mm/filemap.c `folio_lock`, `__folio_lock`, `folio_trylock`,
 * `folio_unlock`, `folio_wait_locked`), built on the machine's bit lock: a contended
 * locker queues itself (setting PG_waiters, which migration variants can test) and sleeps.
 */

import { bitLock, bitTrylock, bitUnlock, bitWaitUnlocked, type Op, type TaskGen } from "@foliosim/sim";
import type { Folio } from "./folio.js";

export function folioLock(f: Folio): TaskGen<void> {
  return bitLock(f.lock, `folio_lock(${f.name})`);
}

export function folioTrylock(f: Folio): Op<boolean> {
  return bitTrylock(f.lock, `folio_trylock(${f.name})`);
}

export function folioUnlock(f: Folio): Op<void> {
  return bitUnlock(f.lock, `folio_unlock(${f.name})`);
}

/** `folio_wait_locked`: sleep until the folio is unlocked, without taking the lock. */
export function folioWaitLocked(f: Folio): TaskGen<void> {
  return bitWaitUnlocked(f.lock, `folio_wait_locked(${f.name})`);
}

/** `folio_test_locked` as seen by the current holder (task-local check, no step). */
export function folioLocked(f: Folio): boolean {
  return f.lock.locked;
}
