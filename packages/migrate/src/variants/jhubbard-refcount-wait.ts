/**
 * Variant `jhubbard-refcount-wait` — John Hubbard, "[RFC PATCH 0/2] mm/migrate: wait
 * for folio refcount during longterm pin migration" (linux-mm, Apr 2026; seed 000).
 * Not merged.
 *
 * - Patch 1/2: `folio_put` calls `wake_up_var(&folio->_refcount)` behind the static
 *   key `folio_put_wakeup_key` (about 500 inlined patch sites).
 * - Patch 2/2 (lkml.iu.edu/2604.1/04128.html, 9 Apr 2026): in `migrate_folios_move`,
 *   each -EAGAIN with MR_LONGTERM_PIN waits
 *   `wait_var_event_timeout(&folio->_refcount, folio_ref_count(folio) <= expected, HZ)`
 *   with expected = `folio_expected_ref_count(folio) + 1`, before the next pass — once
 *   per -EAGAIN pass, so up to about 10 s over the ten passes (3 async + 7 sync);
 *   `migrate_pages` enables the key on entry for MR_LONGTERM_PIN and disables it on
 *   exit (counted users: only the first enable and the last disable patch code).
 *
 * What the posting shows of the third hunk: only its header, `@@ -1941,6 +1954,17 @@
 * static int migrate_pa…`, which adds 11 lines — as many as the move-stage wait above —
 * inside a static `migrate_pa…` function (`migrate_pages` itself is not static), and
 * the cover letter says the series "adds wait_var_event_timeout() at the retry points".
 * That points at the same wait in `migrate_pages_batch`'s unmap-stage -EAGAIN case, but
 * its text could not be read (every copy of the posting available here stops at the
 * header), so the model does not add an unmap-stage wait: it waits only where the patch
 * text shows it, in the move stage. Likewise patch 1/2's text (include/linux/mm.h +8,
 * mm/swap.c +9 -1) could not be read; the cover letter puts the `wake_up_var()` in
 * `folio_put()`, and the model wakes from every reference drop that goes through
 * `putNow` (`folio_put`, `folio_put_refs` and the GUP unpin built on it, and the batched
 * `folios_put` of the LRU and mlock batches), which may be more paths than the patch.
 * Hooks: `begin`/`end` (the key), `moveAgain` (the wait, then retry).
 */

import { folioExpectedRefCount, onFolioPut, type Folio } from "@foliosim/folio";
import {
  currentMachine,
  defineVariant,
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
import type { MigrateCall, MoveAgain } from "./points.js";

/** HZ jiffies: one second. */
export const REFCOUNT_WAIT_TIMEOUT_NS = 1_000_000_000;

const KEY = Symbol("folio_put_wakeup_key");

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

export const jhubbardRefcountWaitVariant = defineVariant({
  id: "jhubbard-refcount-wait",
  point: "migrate",
  source: "John Hubbard, \"[RFC PATCH 0/2] mm/migrate: wait for folio refcount during longterm pin migration\" (linux-mm, Apr 2026)",
  hook: {
    *begin(call: MigrateCall) {
      if (call.reason === "MR_LONGTERM_PIN") yield* jhubbardKeyEnable();
    },
    *moveAgain(src: Folio, call: MigrateCall): TaskGen<MoveAgain> {
      if (call.reason === "MR_LONGTERM_PIN") yield* jhubbardWaitForRefcount(src);
      return "retry";
    },
    *end(call: MigrateCall) {
      if (call.reason === "MR_LONGTERM_PIN") yield* jhubbardKeyDisable();
    },
  },
});
