/**
 * The `rmap-mlock-large` option (mm/rmap.c `__folio_add_anon_rmap`,
 * `__folio_add_file_rmap`; hook type in ./points.ts): whether adding mappings of a
 * large folio in a VM_LOCKED vma mlocks it (`mlock_vma_folio`).
 *
 * | value          | rule                                                    | releases |
 * |----------------|---------------------------------------------------------|----------|
 * | `small-only`   | `if (!folio_test_large(folio)) mlock_vma_folio(...)`     | ≤ 6.17   |
 * | `fully-mapped` | `if (folio_nr_pages(folio) == nr_pages) mlock_vma_folio` | 6.18 on  |
 *
 * Sources: 1acbc3f93614 (Yin Fengwei, "mm: handle large folio when large folio in
 * VM_LOCKED VMA range", 2023: a large folio is left to `mlock_pte_range` and reclaim);
 * ab521b4142aa (Kiryl Shutsemau, "mm/rmap: improve mlock tracking for large folios",
 * patch 6 of "mm: Improve mlock tracking for large folios" v3, 23 Sep 2025, in
 * "[GIT PULL] MM updates for 6.18-rc1", tags/mm-stable-2025-10-01-19-00). Under
 * `fully-mapped` a call that maps part of a large folio (one page at a time, as
 * `remove_migration_pte` does) still does not mlock it. The same series' reclaim-side
 * mlocks (8c49fbafedf1 in `try_to_unmap_one`, a2880202767d in `folio_referenced_one`)
 * are not modelled. An unset option runs the newest release's value (`fully-mapped`).
 */

import { defineVariant, defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import type { RmapMlockLargeHook } from "./points.js";

export const rmapMlockSmallOnly = defineVariant({
  id: "small-only",
  point: "rmap-mlock-large",
  source: "1acbc3f93614 (Yin Fengwei, 2023) up to 6.17: __folio_add_{anon,file}_rmap mlock only a small folio",
  hook: { whenFullyMapped: false },
});

export const rmapMlockFullyMapped = defineVariant({
  id: "fully-mapped",
  point: "rmap-mlock-large",
  source: "ab521b4142aa (Kiryl Shutsemau, \"mm/rmap: improve mlock tracking for large folios\", 6.18): mlock when the call maps the whole folio",
  hook: { whenFullyMapped: true },
});

export const RMAP_MLOCK_LARGE_POINT = defineVariationPoint({
  name: "rmap-mlock-large",
  owner: "@foliosim/mm",
  models: "mm/rmap.c __folio_add_anon_rmap / __folio_add_file_rmap: mlock_vma_folio of a large folio",
  shape: { whenFullyMapped: "boolean" },
  builtins: [rmapMlockSmallOnly, rmapMlockFullyMapped],
  // 6.18 and every later release: the newest preset's value.
  defaultId: "fully-mapped",
});

export function rmapMlockLargePolicy(m: Machine): RmapMlockLargeHook {
  return resolveHook(m, RMAP_MLOCK_LARGE_POINT);
}
