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
 * The third hunk. Every copy of the posting the search tools hold (lkml.iu.edu
 * 2604.1/04128.html, and Alistair Popple's reply quoting it, 2604.2/06505.html) stops
 * at its header, `@@ -1941,6 +1954,17 @@ static int migrate_pa…`, so its body was not
 * read. What the header and the diffstat do show:
 * - it adds 11 lines with 6 lines of context, exactly like the move-stage hunk above
 *   (3 context lines `*retry += 1; *thp_retry += is_thp; *nr_retry_pages += nr_pages;`
 *   before, `break; case 0:` after);
 * - it sits in a static function whose name starts `migrate_pa` about 200 lines after
 *   `migrate_folios_move`: `migrate_pages_batch` (`migrate_pages` is not static), whose
 *   only other -EAGAIN case is the unmap stage's `retry++; thp_retry += is_thp;
 *   nr_retry_pages += nr_pages; break;`;
 * - the offsets add up: +2 (includes) +11 (move stage) +11 (this hunk) leaves 6 of the
 *   30 insertions for the static key's enable/disable around `migrate_pages`;
 * - the cover letter says the series "adds wait_var_event_timeout() at the retry
 *   points" (plural).
 * The model therefore reads the third hunk as the same wait at the unmap-stage -EAGAIN
 * (`unmapAgain`): after `migrate_folio_unmap` failed and undid the source (a trylock
 * that failed under MIGRATE_ASYNC, a busy destination), MR_LONGTERM_PIN waits up to HZ
 * for `folio_ref_count(folio) <= folio_expected_ref_count(folio) + 1` — the source is
 * mapped again there, so the mappings count as expected — then the next unmap pass
 * runs. An inference from the header, not the text: if the text ever shows otherwise,
 * drop `unmapAgain`.
 *
 * Wake-ups. Patch 1/2's text (include/linux/mm.h +8, mm/swap.c +9 -1) could not be read
 * either; the cover letter puts `wake_up_var(&folio->_refcount)` in `folio_put()`
 * ("paired with wake_up_var() in folio_put()"), and mm/swap.c is where `folios_put_refs`
 * and `__folio_put` live. The model wakes from every reference drop that goes through
 * `putNow`: `folio_put`, `folio_put_refs` (and `unpin_user_page(s)` built on
 * `gup_put_folio` → `folio_put_refs`), and the batched `folios_put` of the LRU and
 * mlock batches — possibly more paths than the patch (a bare `folio_ref_dec` or
 * `folio_ref_sub` never wakes).
 * Hooks: `begin`/`end` (the key), `unmapAgain` and `moveAgain` (the wait, then retry).
 */

import { folioExpectedRefCount, onFolioPut, type Folio } from "@foliosim/folio";
import {
  currentMachine,
  defineVariant,
  op,
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

/**
 * Wait (up to HZ) for the unexplained references of the source to go (`folio_expected_ref_count`
 * counts its mappings, if any). `expected` is read in a step of its own, before the wait, as the
 * patch computes it: the flags (swapcache, private) and the mapping word (mapping, mapcount).
 */
export function* jhubbardWaitForRefcount(folio: Folio): TaskGen<number> {
  const expected = yield* op({
    kind: "read",
    label: "folio_expected_ref_count",
    reads: [folio.flagsWord, folio.map],
    cost: "plain",
    run: () => folioExpectedRefCount(folio) + 1,
  });
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
    *unmapAgain(src: Folio, call: MigrateCall): TaskGen<void> {
      if (call.reason === "MR_LONGTERM_PIN") yield* jhubbardWaitForRefcount(src);
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
