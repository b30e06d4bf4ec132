/**
 * Variant `jhubbard-refcount-wait` — John Hubbard, "[RFC PATCH 0/2] mm/migrate: wait
 * for folio refcount during longterm pin migration" (linux-mm, Apr 2026; seed 000).
 * Not merged.
 *
 * - Patch 1/2: `folio_put` calls `wake_up_var(&folio->_refcount)` behind the static
 *   key `folio_put_wakeup_key` (about 500 inlined patch sites).
 * - Patch 2/2: in `migrate_folios_move`, each -EAGAIN with MR_LONGTERM_PIN waits
 *   `wait_var_event_timeout(&folio->_refcount, folio_ref_count(folio) <= expected, HZ)`
 *   with expected = `folio_expected_ref_count(folio) + 1`, before the next pass;
 *   `migrate_pages` enables the key on entry for MR_LONGTERM_PIN and disables it on
 *   exit (counted users: only the first enable and the last disable patch code).
 * Selected by `m.kernel.migrate === "jhubbard-refcount-wait"`.
 */

import { folioExpectedRefCount, onFolioPut, type Folio } from "@foliosim/folio";
import {
  currentMachine,
  StaticKey,
  staticKeyEnabled,
  staticKeySlowDec,
  staticKeySlowInc,
  varWaitQueue,
  waitVarEventTimeout,
  wakeUpNow,
  type Machine,
  type TaskGen,
} from "@foliosim/sim";

/** HZ jiffies: one second. */
export const REFCOUNT_WAIT_TIMEOUT_NS = 1_000_000_000;

const KEY = Symbol("folio_put_wakeup_key");

export function jhubbardRefcountWait(m: Machine): boolean {
  return m.kernel.migrate === "jhubbard-refcount-wait";
}

/** The machine's `folio_put_wakeup_key`, with the `folio_put` wake-up hooked in. */
export function folioPutWakeupKey(m: Machine): StaticKey {
  let key = m.ext.get(KEY) as StaticKey | undefined;
  if (!key) {
    const k = new StaticKey("folio_put_wakeup_key");
    key = k;
    m.ext.set(KEY, k);
    onFolioPut(m, (mm, f) => {
      if (staticKeyEnabled(k)) wakeUpNow(mm, varWaitQueue(mm, f.ref));
    });
  }
  return key;
}

export function* jhubbardKeyEnable(): TaskGen<void> {
  yield* staticKeySlowInc(folioPutWakeupKey(currentMachine()));
}

export function* jhubbardKeyDisable(): TaskGen<void> {
  yield* staticKeySlowDec(folioPutWakeupKey(currentMachine()));
}

/** Wait (up to HZ) for the unexplained references of a locked, unmapped source to go. */
export function* jhubbardWaitForRefcount(folio: Folio): TaskGen<number> {
  const expected = folioExpectedRefCount(folio) + 1;
  return yield* waitVarEventTimeout(folio.ref, () => folio.refcount <= expected, REFCOUNT_WAIT_TIMEOUT_NS, [folio.ref]);
}
