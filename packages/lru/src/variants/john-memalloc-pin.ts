/**
 * Variant `john-memalloc-pin` (a value of the `collect` kernel choice): John Hubbard's
 * suggestion in the thread on Will Deacon's "[PATCH] mm/gup: Drain batched mlock folio
 * processing before attempting migration" (linux-mm, 16 Aug 2025; seed 004): in
 * `mlock_new_folio`, when `current->flags & PF_MEMALLOC_PIN`, run `mlock_folio_batch`
 * at once instead of leaving the folio batched ("Allowing the mlock operation to batch
 * would break the ability to migrate the folio. Instead, force immediate processing.").
 *
 * Not merged. Hugh Dickins objected that `mlock_folio`, not `mlock_new_folio`, was the
 * function involved, and Will noted the mlock happens on the user fault path, before
 * the pin sets PF_MEMALLOC_PIN — which this variant lets scenarios demonstrate.
 *
 * Active when `m.kernel["collect"] === "john-memalloc-pin"`.
 */

import type { Machine } from "@foliosim/sim";

export function johnMemallocPin(m: Machine): boolean {
  return m.kernel["collect"] === "john-memalloc-pin";
}
