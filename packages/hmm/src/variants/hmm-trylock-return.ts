/**
 * `hmm-trylock-return`: 1afaeb8293c9 (Matthew Brost, "mm/migrate: Trylock device page
 * in do_swap_page", v6.15 … v6.19). `do_swap_page` trylocks the device-private folio
 * under the PTE lock; when the trylock fails it unmaps and unlocks the PTE and returns
 * 0 at once. `hmm_range_fault` turns that into -EBUSY and re-walks with no sleep: a
 * busy retry that never gives the CPU away (seed 002/003, reference §7.2, §12.6).
 *
 * The proposal kernels `hmm-cond-resched`, `hmm-msleep`, `hmm-lru-cache-disable` and
 * `hmm-drain-outside-lock` are linux-6.19 plus one change, so they keep this branch.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmTrylockReturn = defineVariant({
  id: "hmm-trylock-return",
  point: "hmm",
  source: "1afaeb8293c9 (Matthew Brost, \"mm/migrate: Trylock device page in do_swap_page\", 6.15)",
  hook: { fault: "trylock-return", drain: "in-unmap" },
});
