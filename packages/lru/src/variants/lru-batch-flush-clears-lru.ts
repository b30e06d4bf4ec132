/**
 * Value `off` of the `lru-batch-clears-lru` option: mainline mm/swap.c before 6.11 and
 * again since 6.17. Queueing takes a batch reference and leaves PG_lru alone;
 * `folio_batch_move_lru` clears PG_lru (`folio_test_clear_lru`) as it moves each folio,
 * skipping one someone isolated meanwhile.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const lruBatchClearsLruOff = defineVariant({
  id: "off",
  point: "lru-batch-clears-lru",
  source: "mainline mm/swap.c (≤ 6.10, and 6.17+ after the revert of 33dfe9204f29)",
  hook: { clearsLruAtQueue: false },
});
