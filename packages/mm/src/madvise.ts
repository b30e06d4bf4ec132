/**
 * madvise(2)'s MADV_DONTNEED (mm/madvise.c `do_madvise`, `madvise_walk_vmas`,
 * `madvise_dontneed_single_vma`, `can_madv_lru_vma`): under mmap_lock for reading,
 * every vma of the range is zapped (`zap_page_range_single` inside an
 * MMU_NOTIFY_CLEAR invalidation): its PTEs cleared, rmaps removed, references put. A
 * later touch of private anonymous memory faults in a fresh zero-filled page; a file or
 * shmem page comes back from the page cache.
 *
 * Return values as the kernel's: -EINVAL for an unaligned start or a VM_LOCKED or
 * VM_PFNMAP vma (`can_madv_lru_vma`), -ENOMEM when part of the range is not mapped
 * (the mapped parts are still advised), else 0.
 *
 * Simplifications: MADV_DONTNEED only (no MADV_FREE, MADV_COLD, …); no hugetlb.
 */

import { VM_LOCKED, VM_PFNMAP } from "@foliosim/folio";
import { traced, type TaskGen } from "@foliosim/sim";
import { findVma, mmapReadLock, mmapReadUnlock, PAGE_SIZE, type MmStruct, type Vma } from "./mm-types.js";
import { zapVmaRange } from "./mmap.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";

export const MADV_DONTNEED = 4;

const EINVAL = -22;
const ENOMEM = -12;

/** `can_madv_lru_vma`. */
function canMadvLruVma(vma: Vma): boolean {
  return (vma.flags & (VM_LOCKED | VM_PFNMAP)) === 0;
}

/** `madvise(start, len, MADV_DONTNEED)`. */
export function madviseDontneed(mm: MmStruct, start: number, len: number): TaskGen<number> {
  return traced("do_madvise", madviseBody(mm, start, len));
}

function* madviseBody(mm: MmStruct, start: number, len: number): TaskGen<number> {
  if (start % PAGE_SIZE !== 0) return EINVAL;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (end === start) return 0;
  yield* mmapReadLock(mm);
  let unmapped = 0;
  let ret = 0;
  for (let addr = start; addr < end; ) {
    const vma = findVma(mm, addr);
    if (!vma) {
      unmapped = ENOMEM;
      addr += PAGE_SIZE;
      continue;
    }
    const hi = Math.min(end, vma.end);
    if (!canMadvLruVma(vma)) {
      ret = EINVAL;
      break;
    }
    const notified = yield* mmuNotifierInvalidateStart(mm, addr, hi, "MMU_NOTIFY_CLEAR");
    yield* traced("zap_page_range_single", zapVmaRange(vma, addr, hi));
    yield* mmuNotifierInvalidateEnd(mm, notified);
    addr = hi;
  }
  yield* mmapReadUnlock(mm);
  return ret || unmapped;
}
