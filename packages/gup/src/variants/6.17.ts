/**
 * Drain rule `6.17` of `collect_longterm_unpinnable_folios` (mm/gup.c) — Hugh
 * Dickins, "mm: better GUP pin lru_add_drain_all()" v2, merged in 6.17-rc (Sep 2025,
 * stable back to 6.1): "mm/gup: check ref_count instead of lru before migration"
 * (98c6d259319e) and "mm/gup: local lru_add_drain() to avoid lru_add_drain_all()"
 * (a09a8a1fbb37), with "mm: folio_may_be_lru_cached() unless folio_test_large()".
 *
 * A per-call ladder `drained` 0/1/2: a folio whose count is not `expected + 1` gets a
 * local `lru_add_drain()` first; if it is still not, one `lru_add_drain_all()`. The
 * literal "+1" meant the GUP reference, so a FOLL_PIN small folio (+1024) always
 * mismatches and every call drains twice (reference §4.4, §10.1; fixed in ./2026.ts).
 */

import { folioExpectedRefCount, folioMayBeLruCached, type Folio } from "@foliosim/folio";
import { lruAddDrain, lruAddDrainAll } from "@foliosim/lru";
import { defineVariant, op, type Op, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";

/** `folio_ref_count(folio)` against `folio_expected_ref_count(folio)`. */
function readRef(f: Folio): Op<{ ref: number; expected: number }> {
  return op({
    kind: "folio_ref_count",
    label: "folio_ref_count",
    // folio_expected_ref_count: the mapping and mapcount, PG_swapcache and PG_private.
    reads: [f.ref, f.map, f.flagsWord],
    cost: "plain",
    run: () => ({ ref: f.refcount, expected: folioExpectedRefCount(f) }),
  });
}

/** `ref != expected + 1`: local drain (`drained` 0 → 1), then global drain (1 → 2). */
function* drain(f: Folio, _pinRefs: number, s: DrainState): TaskGen<void> {
  if (!folioMayBeLruCached(f)) return;
  if (s.ladder === 0) {
    const { ref, expected } = yield* readRef(f);
    if (ref !== expected + 1) {
      yield* lruAddDrain();
      s.ladder = 1;
    }
  }
  if (s.ladder === 1) {
    const { ref, expected } = yield* readRef(f);
    if (ref !== expected + 1) {
      yield* lruAddDrainAll();
      s.ladder = 2;
    }
  }
}

export const rule617 = defineVariant({
  id: "6.17",
  point: "collect",
  source: "Hugh Dickins, \"mm: better GUP pin lru_add_drain_all()\" v2, merged in 6.17-rc (Sep 2025): 98c6d259319e, a09a8a1fbb37",
  hook: { drain },
});
