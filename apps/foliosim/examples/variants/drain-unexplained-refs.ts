/**
 * A drain rule for collect_longterm_unpinnable_folios (mm/gup.c), written from
 * scratch: drain every CPU's batches once per call when the folio holds a reference
 * that neither its mappings, its page cache nor our pin explain.
 *
 *   if (drain_allow &&
 *       folio_ref_count(folio) != folio_expected_ref_count(folio) + pin_refs) {
 *           lru_add_drain_all();
 *           drain_allow = false;
 *   }
 *
 * It fixes S1 (pkvm-mlock-cma): CPU7's mlock batch holds the extra reference, and
 * the folio keeps PG_lru, so the pre-6.17 "!folio_test_lru" test never drains.
 *
 *   foliosim evaluate --kernel linux-6.11 --variant ./drain-unexplained-refs.ts pkvm-mlock-cma
 */

import { folioExpectedRefCount } from "@foliosim/folio";
import type { CollectHook } from "@foliosim/gup";
import { lruAddDrainAll } from "@foliosim/lru";
import { defineVariant, op } from "@foliosim/sim";

const drain: CollectHook["drain"] = function* (folio, pinRefs, s) {
  if (!s.allow) return;
  // One read of _refcount and of what explains it: an op, so the explorer sees it.
  const unexplained = yield* op({
    kind: "folio_ref_count",
    label: "folio_ref_count != folio_expected_ref_count + pin_refs",
    reads: [folio.ref, folio.map],
    cost: "plain",
    run: () => folio.refcount - (folioExpectedRefCount(folio) + pinRefs),
  });
  if (unexplained !== 0) {
    yield* lruAddDrainAll();
    s.allow = false;
  }
};

export default defineVariant({
  id: "drain-unexplained-refs",
  point: "collect",
  source: "example: drain all CPUs once per call when _refcount has references nobody explains",
  hook: { drain },
});
