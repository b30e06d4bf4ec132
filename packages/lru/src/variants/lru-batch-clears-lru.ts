/**
 * Variant `lru-batch-clears-lru`: commit 33dfe9204f29 ("mm/gup: clear the LRU flag of
 * a page before adding to LRU batch", Ge Yang, merged for 6.11, 2024), reverted by
 * Hugh Dickins' 6.17 hotfix series ("mm: revert "mm/gup: clear the LRU flag of a page
 * before adding to LRU batch"", in "mm: better GUP pin lru_add_drain_all()", v2,
 * September 2025).
 *
 * What it changes (mm/swap.c `__folio_batch_add_and_move` and `folio_batch_move_lru`):
 * - queueing a folio in a non-`lru_add` batch (`lru_move_tail`, `lru_deactivate_file`,
 *   `lru_deactivate`, `lru_lazyfree`, `lru_activate`) first does
 *   `folio_test_clear_lru`; if that fails (not on an LRU, or isolated) the folio is not
 *   queued at all and no batch reference is taken;
 * - the flush skips its own `folio_test_clear_lru`, moves the folio and sets PG_lru again.
 * So between queueing and flush such a folio is on a list with PG_lru clear: it looks
 * isolated to everyone, and `folio_isolate_lru` fails on it.
 *
 * The value `on` of the `lru-batch-clears-lru` option (`true` in `MachineConfig.kernel`).
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const lruBatchClearsLruOn = defineVariant({
  id: "on",
  point: "lru-batch-clears-lru",
  source: "33dfe9204f29 (Ge Yang, \"mm/gup: clear the LRU flag of a page before adding to LRU batch\", 6.11), reverted in 6.17 (Hugh Dickins)",
  hook: { clearsLruAtQueue: true },
});
