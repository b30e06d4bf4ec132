/**
 * The swap cache (mm/swap_state.c `add_to_swap_cache`, `__delete_from_swap_cache`,
 * `delete_from_swap_cache`; mm/vmscan.c's `add_to_swap` step of `shrink_folio_list`).
 *
 * Just enough for reference §11's E16/E17: a folio in the swap cache carries
 * PG_swapcache and one reference per page held by "swapcache" (reference §1.5).
 *
 * Simplifications: no swap devices, slots or I/O: a "swap entry" is not allocated,
 * nothing is written out, and swap-in is not modelled.
 */

import { PG, folioNrPages, getNow, putNow, type Folio } from "@foliosim/folio";
import { op, type Op } from "@foliosim/sim";
import { MmModelError } from "./mm-types.js";

/** Holder of the swap cache's references (1 per page). */
export const SWAPCACHE_HOLDER = "swapcache";

/**
 * `add_to_swap` (folio_alloc_swap + `add_to_swap_cache`) on a locked folio: PG_swapcache,
 * one reference per page, and the folio is dirtied so it would be written out.
 */
export function addToSwapCache(folio: Folio): Op<void> {
  const label = "add_to_swap_cache";
  return op({
    kind: "add_to_swap_cache",
    label,
    writes: [folio.ref, folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (!folio.lock.locked) throw new MmModelError(label, folio.name, "folio is not locked");
      if (folio.test(PG.swapcache)) throw new MmModelError(label, folio.name, "already in the swap cache");
      getNow(m, folio, folioNrPages(folio), SWAPCACHE_HOLDER, label);
      folio.setBits(PG.swapcache | PG.dirty);
      m.markWrite(folio.flagsWord);
    },
  });
}

/** `delete_from_swap_cache` on a locked folio: the swap cache's references go. */
export function deleteFromSwapCache(folio: Folio): Op<void> {
  const label = "delete_from_swap_cache";
  return op({
    kind: "delete_from_swap_cache",
    label,
    writes: [folio.ref, folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (!folio.lock.locked) throw new MmModelError(label, folio.name, "folio is not locked");
      if (!folio.test(PG.swapcache)) throw new MmModelError(label, folio.name, "not in the swap cache");
      folio.clearBits(PG.swapcache);
      m.markWrite(folio.flagsWord);
      putNow(m, folio, folioNrPages(folio), SWAPCACHE_HOLDER, label);
    },
  });
}
