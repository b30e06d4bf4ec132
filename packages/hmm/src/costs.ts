/**
 * Default costs of the HMM layer (virtual nanoseconds), registered with the machine's
 * cost model at module load. Each is an order-of-magnitude assumption with its source;
 * scenarios may override any of them through `MachineConfig.costs`.
 */

import { defineCosts } from "@foliosim/sim";

export const HMM_COSTS = {
  /** One page copied by the device (lib/test_hmm.c's dmirror "device" is system RAM:
   *  `dmirror_migrate_alloc_and_copy` and `dmirror_devmem_fault_alloc_and_copy` use
   *  `copy_highpage`, a 4 KiB CPU memcpy at ~10 GB/s): about 400 ns. A real GPU's copy
   *  engine adds a job submission of several microseconds per batch (not modelled). */
  hmmDeviceCopyPage: 400,
  /** `dmirror_devmem_alloc_page`: pop a page off the driver's free list under its
   *  spinlock and `zone_device_folio_init` (refcount, lock): a few atomics, ~100 ns. */
  hmmDeviceAllocPage: 100,
  /** Walking one PTE in `walk_page_range` (hmm_vma_walk_pmd / migrate_vma_collect_pmd):
   *  `pte_offset_map`, the entry load, the swap-entry decode: tens of ns. */
  hmmWalkPte: 30,
  /** `walk_page_range` set-up: pgd→pmd descent and the ops dispatch, ~100 ns. */
  hmmWalkRange: 100,
  /** One `mmu_notifier_invalidate_range_start`/`_end` pair: SRCU read lock, the
   *  interval-tree lookup and the subscribers' callbacks (dmirror takes its mutex and
   *  zaps its mirror table): ~500 ns on a quiet system. */
  hmmNotifierInvalidate: 500,
  /** Updating the device's mirror page table for one page (`dmirror_do_fault`:
   *  an xa_store under the mirror mutex): ~100 ns. */
  hmmMirrorUpdate: 100,
  /** A device access (read or write) of one mirrored page through its mirror table. */
  hmmDeviceAccess: 50,
  /** Driver ioctl entry/exit around a migration (`dmirror_fops_unlocked_ioctl`,
   *  copy_from_user of the command): ~1 us. */
  hmmIoctl: 1000,
} as const;

defineCosts(HMM_COSTS);
