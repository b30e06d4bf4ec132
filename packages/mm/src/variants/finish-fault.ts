/**
 * The `finish-fault` option (mm/memory.c `finish_fault`; hook type in ./points.ts):
 * which vmas get a large folio mapped whole (`folio_ref_add(folio, nr - 1)` and
 * `set_pte_range` of every page) when it lies inside the vma and one page table, and
 * every entry is still none. Any other fault maps the faulting page alone.
 *
 * | value        | mapped whole                                  | releases   |
 * |--------------|-----------------------------------------------|------------|
 * | `per-page`   | nothing (`set_pte_range(vmf, folio, page, 1)`) | ≤ 6.10     |
 * | `anon-shmem` | anonymous shmem (`vma_is_anon_shmem`)          | 6.11–6.16  |
 * | `shmem`      | any shmem: tmpfs, memfd too (`vma_is_shmem`)   | 6.17       |
 * | `file`       | any file folio (the shmem test is gone)        | 6.18 on    |
 *
 * Sources: 43e027e41423 (Baolin Wang, "mm: memory: extend finish_fault() to support large folio"
 * (anonymous shmem mTHP, 6.11 merge window); e89d5bf3a4f9 (Baolin Wang, "mm: fault in complete folios
 * instead of individual pages for tmpfs", in Andrew Morton's "[GIT PULL] MM updates for
 * 6.17-rc1", 30 Jul 2025, tags/mm-stable-2025-07-30-15-25); 19773df031bc (Kiryl
 * Shutsemau, "mm/fault: try to map the entire file folio in finish_fault()", patch 4
 * of "mm: Improve mlock tracking for large folios" v3, in "[GIT PULL] MM updates for
 * 6.18-rc1", 1 Oct 2025, tags/mm-stable-2025-10-01-19-00). A COW copy (private write)
 * is a new small folio on every release. The model has no fault-around (`map_pages`),
 * so 357b92761d94 ("mm/filemap: map entire large folio faultaround", same series) is
 * not modelled. An unset option runs the newest release's value (`file`).
 */

import { defineVariant, defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import type { FinishFaultHook } from "./points.js";

export const finishFaultPerPage = defineVariant({
  id: "per-page",
  point: "finish-fault",
  source: "mainline ≤ 6.10 mm/memory.c finish_fault: set_pte_range(vmf, folio, page, 1, vmf->address) for every folio",
  hook: { anonShmem: false, shmem: false, file: false },
});

export const finishFaultAnonShmem = defineVariant({
  id: "anon-shmem",
  point: "finish-fault",
  source: "43e027e41423 (Baolin Wang, \"mm: memory: extend finish_fault() to support large folio\", 6.11): if (!vma_is_anon_shmem(vma) || userfaultfd_armed(vma)) nr_pages = 1",
  hook: { anonShmem: true, shmem: false, file: false },
});

export const finishFaultShmem = defineVariant({
  id: "shmem",
  point: "finish-fault",
  source: "e89d5bf3a4f9 (Baolin Wang, \"mm: fault in complete folios instead of individual pages for tmpfs\", 6.17): vma_is_anon_shmem() became vma_is_shmem()",
  hook: { anonShmem: true, shmem: true, file: false },
});

export const finishFaultFile = defineVariant({
  id: "file",
  point: "finish-fault",
  source: "19773df031bc (Kiryl Shutsemau, \"mm/fault: try to map the entire file folio in finish_fault()\", 6.18): only userfaultfd or a folio outside the vma/page table fall back to one page",
  hook: { anonShmem: true, shmem: true, file: true },
});

export const FINISH_FAULT_POINT = defineVariationPoint({
  name: "finish-fault",
  owner: "@foliosim/mm",
  models: "mm/memory.c finish_fault: which vmas map a large folio whole in one fault",
  shape: { anonShmem: "boolean", shmem: "boolean", file: "boolean" },
  builtins: [finishFaultPerPage, finishFaultAnonShmem, finishFaultShmem, finishFaultFile],
  // 6.18 and every later release map any file folio whole: the newest preset's value.
  defaultId: "file",
});

export function finishFaultPolicy(m: Machine): FinishFaultHook {
  return resolveHook(m, FINISH_FAULT_POINT);
}
