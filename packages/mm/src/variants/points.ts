/**
 * The variation points of the mm package, as public hook types (see `defineVariant` in
 * @foliosim/sim):
 *
 * - `ra-order` — mm/readahead.c `page_cache_ra_order(ractl, ra, new_order)`: whether
 *   it treats `new_order` as the previous request's order and adds 2 (≤ 6.16: a cold
 *   mmap read-around on a large-folio mapping starts with order-2 folios) or honours it
 *   (Ryan Roberts, "mm/readahead: honour new_order in page_cache_ra_order()",
 *   v5 9 Jun 2025, merged in the 6.17 merge window: the read-around starts with order-0 folios and only
 *   the async readahead ramps up, which the model does not run). Built-ins:
 *   ./ra-order.ts.
 * - `finish-fault` — mm/memory.c `finish_fault`: which vmas get a large folio mapped
 *   whole by one fault (none ≤ 6.10; anonymous shmem 6.11–6.16; any shmem/tmpfs/memfd
 *   in 6.17; any file folio from 6.18). Built-ins: ./finish-fault.ts.
 * - `rmap-mlock-large` — mm/rmap.c `__folio_add_anon_rmap` / `__folio_add_file_rmap`:
 *   whether an rmap addition in a VM_LOCKED vma mlocks a large folio (never ≤ 6.17;
 *   when the call maps all of it from 6.18). Built-ins: ./rmap-mlock-large.ts.
 */

declare module "@foliosim/sim" {
  interface VariationPoints {
    "ra-order": RaOrderHook;
    "finish-fault": FinishFaultHook;
    "rmap-mlock-large": RmapMlockLargeHook;
  }
}

/** The `ra-order` point's hook. */
export interface RaOrderHook {
  /** `if (new_order < mapping_max_folio_order(mapping)) new_order += 2;` on entry. */
  plusTwo: boolean;
}

/** The `finish-fault` point's hook: which vmas map a large folio whole in one fault. */
export interface FinishFaultHook {
  /** A large folio of anonymous shmem (`vma_is_anon_shmem`: MAP_SHARED|MAP_ANONYMOUS). */
  anonShmem: boolean;
  /** A large folio of any shmem object (`vma_is_shmem`: tmpfs, memfd, anonymous shmem). */
  shmem: boolean;
  /** A large page-cache folio of any file. */
  file: boolean;
}

/** The `rmap-mlock-large` point's hook. */
export interface RmapMlockLargeHook {
  /** `if (folio_nr_pages(folio) == nr_pages) mlock_vma_folio()`; else `if (!folio_test_large(folio))`. */
  whenFullyMapped: boolean;
}
