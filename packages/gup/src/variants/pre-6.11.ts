/**
 * Drain rule `pre-6.11` of `collect_longterm_unpinnable_folios` (mm/gup.c), mainline
 * up to and including 6.16 (and 6.11–6.16 with 33dfe9204f29, "mm/gup: clear the LRU
 * flag of a page before adding to LRU batch"): at most one global drain per call, and
 * only for a folio without PG_lru:
 *
 *     if (!folio_test_lru(folio) && drain_allow) {
 *             lru_add_drain_all();
 *             drain_allow = false;
 *     }
 *
 * Replaced in 6.17 by Hugh Dickins' "mm/gup: check ref_count instead of lru before
 * migration" (see ./6.17.ts). Reference §4.4, "History of the drain condition".
 *
 * `drainIfFlags` is the shape this rule shares with the proposals that only widened its
 * condition (./will-v1.ts, ./hugh-v1.ts): one read of the flags word, then the
 * `drain_allow`-gated `lru_add_drain_all`.
 */

import { PG, type Folio } from "@foliosim/folio";
import { lruAddDrainAll } from "@foliosim/lru";
import { defineVariant, op, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";

/**
 * `if (drain_allow && <condition on the flags>) { lru_add_drain_all(); drain_allow = false; }`.
 * `label` names the flag tests of the condition (one atomic test each in the kernel,
 * one read of the flags word here).
 */
export function* drainIfFlags(f: Folio, s: DrainState, label: string, condition: (flags: number) => boolean): TaskGen<void> {
  if (!s.allow) return;
  // The conditions test flags of the flags word only (PG_locked lives in the folio's lock).
  const flags = yield* op({ kind: "folio_test_flag", label, reads: [f.flagsWord], cost: "plain", run: () => f.wordFlags });
  if (condition(flags)) {
    yield* lruAddDrainAll();
    s.allow = false;
  }
}

/** `!folio_test_lru(folio)` → `lru_add_drain_all()`, once per call. */
export function* drainPre611(f: Folio, _pinRefs: number, s: DrainState): TaskGen<void> {
  yield* drainIfFlags(f, s, "folio_test_lru", (flags) => !(flags & PG.lru));
}

export const rulePre611 = defineVariant({
  id: "pre-6.11",
  point: "collect",
  source: "mainline mm/gup.c up to 6.16: one lru_add_drain_all() for a folio without PG_lru",
  hook: { drain: drainPre611 },
});
