/**
 * Drain rule `2026` of `collect_longterm_unpinnable_folios` (mm/gup.c), mainline since
 * 7.3 — 078e1a0fc41a ("mm/gup: fix always draining LRU caches in
 * collect_longterm_unpinnable_folios()") and fc6415a384f0 ("mm/gup: factor out LRU cache
 * draining for folio into lru_cache_drain_for_folio()"), merged with
 * mm-stable-2026-08-26-15-22 in the 7.3 merge window (v7.0–7.2 run ./6.17.ts).
 *
 * The 6.17 ladder (./6.17.ts), moved into `lru_cache_drain_for_folio(folio, pin_refs,
 * &drained)` (@foliosim/lru) with the pin references as the target: `pin_refs` is 1 for
 * a folio with `_pincount`, GUP_PIN_COUNTING_BIAS (1024) otherwise. A pinned folio
 * whose other references are all explained drains nothing (reference §2.7, §4.4, §10.1).
 */

import type { Folio } from "@foliosim/folio";
import { lruCacheDrainForFolio } from "@foliosim/lru";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";

/** `lru_cache_drain_for_folio(folio, pin_refs, &drained)`. */
function* drain(f: Folio, pinRefs: number, s: DrainState): TaskGen<void> {
  yield* lruCacheDrainForFolio(f, pinRefs, s.drained);
}

export const rule2026 = defineVariant({
  id: "2026",
  point: "collect",
  source: "2026 mainline: \"mm/gup: factor out LRU cache draining for folio into lru_cache_drain_for_folio()\" and \"mm/gup: fix always draining LRU caches in collect_longterm_unpinnable_folios()\"",
  hook: { drain },
});
