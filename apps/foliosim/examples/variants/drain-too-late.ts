/**
 * A deliberately broken drain rule, to show what `evaluate` says about one: it means
 * to drain like ./drain-unexplained-refs.ts but counts folios off by one, so the
 * drain comes one folio too late — never for the first (often only) unpinnable folio.
 *
 *   if (drain_allow && nr_seen++ &&            <- the bug: nr_seen++ is 0 the first time
 *       folio_ref_count(folio) != folio_expected_ref_count(folio) + pin_refs) { ... }
 *
 * On S1 (pkvm-mlock-cma) the only folio is never drained for, and the pin fails with
 * -ENOMEM as on the base kernel.
 */

import { folioExpectedRefCount } from "@foliosim/folio";
import type { CollectHook } from "@foliosim/gup";
import { lruAddDrainAll } from "@foliosim/lru";
import { defineVariant, op } from "@foliosim/sim";

const drain: CollectHook["drain"] = function* (folio, pinRefs, s) {
  const seen = (s.local.seen as number | undefined) ?? 0;
  s.local.seen = seen + 1;
  if (!s.allow || seen === 0) return;
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
  id: "drain-too-late",
  point: "collect",
  source: "example: an off-by-one that drains one folio too late",
  hook: { drain },
});
