/**
 * HMM mirroring (mm/hmm.c): `hmm_range_fault` with its -EBUSY re-walk,
 * `hmm_vma_walk_pmd` → `hmm_vma_handle_pte`, `hmm_pte_need_fault`, `hmm_vma_fault`
 * (→ `handle_mm_fault`, FAULT_FLAG_REMOTE), the migration-entry wait, and the
 * HMM_PFN_* flags (include/linux/hmm.h). The driver-side outer loop with
 * `HMM_RANGE_DEFAULT_TIMEOUT` and the interval-notifier sequence is
 * `hmmRangeFaultRetry` here (every driver — lib/test_hmm.c `dmirror_range_fault`,
 * nouveau, amdgpu, drm_gpusvm — has the same shape).
 *
 * Mainline has no sleep and no `cond_resched()` in the re-walk loop (reference §7.1);
 * the proposals `hmm-cond-resched` and `hmm-msleep` add one at the loop's end.
 *
 * A device-private entry whose pgmap owner is the caller's `dev_private_owner` is
 * always reported with its PFN and the entry's own permission, never faulted — even
 * for a write request on a read-only entry (mm/hmm.c `hmm_vma_handle_pte`); the
 * caller decides what a read-only answer means (lib/test_hmm.c's `dmirror_do_fault`
 * returns -EFAULT).
 *
 * Simplifications: PTE level only (no PMD/PUD leaves, no hugetlb); `hmm_vma_walk_test`
 * reduced to VM_READ; the walk is one step per PTE (`hmmWalkPte`).
 * HMM_PFN_* flags live in the low bits of the model's `hmm_pfns` entries
 * (`pfn << HMM_PFN_SHIFT | flags`) rather than the kernel's top bits, to stay in exact
 * JavaScript integers; the names and meanings are the kernel's.
 */

import { VM_READ, VM_WRITE } from "@foliosim/folio";
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  MmModelError,
  PAGE_SIZE,
  VM_FAULT_ERROR,
  findVma,
  handleMmFault,
  migrationEntryWait,
  mmapReadLock,
  mmapReadUnlock,
  type MmStruct,
  type Pte,
  type PteMigration,
  type PteSlot,
  type VmFault,
} from "@foliosim/mm";
import { current, currentMachine, op, traced, type Op, type TaskGen } from "@foliosim/sim";
import "./costs.js";
import { folioPgmap } from "./memremap.js";
import { mmuIntervalCheckRetry, mmuIntervalReadBegin, type MmuIntervalNotifier } from "@foliosim/mm";
import { hmmRewalk } from "./variants/select.js";

export const HMM_PFN_VALID = 1 << 0;
export const HMM_PFN_WRITE = 1 << 1;
export const HMM_PFN_ERROR = 1 << 2;
export const HMM_PFN_SHIFT = 3;
/** Input flags (`HMM_PFN_REQ_FAULT` = VALID, `HMM_PFN_REQ_WRITE` = WRITE, as in the kernel). */
export const HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
export const HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
export const HMM_PFN_FLAGS = HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_ERROR;

const HMM_NEED_FAULT = 1 << 0;
const HMM_NEED_WRITE_FAULT = 1 << 1;

/** `HMM_RANGE_DEFAULT_TIMEOUT` (include/linux/hmm.h): 1000 ms. */
export const HMM_RANGE_DEFAULT_TIMEOUT = 1000;

export const EBUSY = -16;
export const EFAULT = -14;
export const EPERM = -1;

export function hmmPfnToPfn(v: number): number {
  return Math.floor(v / (1 << HMM_PFN_SHIFT));
}

export function hmmPfnFlags(v: number): number {
  return v % (1 << HMM_PFN_SHIFT);
}

/** `struct hmm_range`. */
export interface HmmRange {
  notifier: MmuIntervalNotifier;
  notifierSeq: number;
  start: number;
  end: number;
  hmmPfns: number[];
  defaultFlags: number;
  pfnFlagsMask: number;
  /** `dev_private_owner`: device-private pages of this owner are reported, not faulted. */
  devPrivateOwner: object | null;
}

interface HmmVmaWalk {
  range: HmmRange;
  last: number;
}

function walkPte(slot: PteSlot): Op<Pte> {
  return op({ kind: "read_pte", label: "hmm_vma_handle_pte", reads: [slot], cost: "hmmWalkPte", run: () => slot.pte });
}

/** `hmm_pte_need_fault(hmm_vma_walk, pfn_req_flags, cpu_flags)`. */
function hmmPteNeedFault(reqFlags: number, cpuFlags: number): number {
  if (!(reqFlags & HMM_PFN_REQ_FAULT)) return 0;
  let need = 0;
  if (reqFlags & HMM_PFN_REQ_WRITE && !(cpuFlags & HMM_PFN_WRITE)) need |= HMM_NEED_WRITE_FAULT;
  if (!(cpuFlags & HMM_PFN_VALID)) need |= HMM_NEED_FAULT;
  if (need & HMM_NEED_WRITE_FAULT) need |= HMM_NEED_FAULT;
  return need;
}

/**
 * `hmm_vma_fault(addr, end, required_fault, walk)`: fault each page with
 * `handle_mm_fault(FAULT_FLAG_REMOTE [| FAULT_FLAG_WRITE])`, then -EBUSY so the walk
 * restarts at `addr`.
 */
function hmmVmaFault(mm: MmStruct, walk: HmmVmaWalk, addr: number, end: number, required: number): TaskGen<number> {
  return traced("hmm_vma_fault", hmmVmaFaultBody(mm, walk, addr, end, required));
}

function* hmmVmaFaultBody(mm: MmStruct, walk: HmmVmaWalk, addr: number, end: number, required: number): TaskGen<number> {
  walk.last = addr;
  const vma = findVma(mm, addr)!;
  let flags = FAULT_FLAG_REMOTE;
  if (required & HMM_NEED_WRITE_FAULT) {
    if (!(vma.flags & VM_WRITE)) return EPERM;
    flags |= FAULT_FLAG_WRITE;
  }
  for (let a = addr; a < end; a += PAGE_SIZE) {
    const r = yield* handleMmFault(mm, a, flags);
    if (r & VM_FAULT_ERROR) return EFAULT;
  }
  return EBUSY;
}

/** One pass of `walk_page_range(mm, last, end, &hmm_walk_ops, &walk)`. */
function* walkPageRange(mm: MmStruct, walk: HmmVmaWalk): TaskGen<number> {
  const range = walk.range;
  yield* op({ kind: "walk_page_range", label: "walk_page_range(hmm_walk_ops)", cost: "hmmWalkRange", run: () => undefined });
  for (let addr = walk.last; addr < range.end; addr += PAGE_SIZE) {
    const i = (addr - range.start) / PAGE_SIZE;
    const req = (range.hmmPfns[i] & range.pfnFlagsMask) | range.defaultFlags;
    const vma = findVma(mm, addr);
    if (!vma || !(vma.flags & VM_READ)) {
      if (hmmPteNeedFault(req, 0)) return EFAULT;
      range.hmmPfns[i] = HMM_PFN_ERROR;
      continue;
    }
    const slot = mm.slot(addr);
    const pte = yield* walkPte(slot);
    if (pte.kind === "none") {
      const required = hmmPteNeedFault(req, 0);
      if (required) return yield* hmmVmaFault(mm, walk, addr, addr + PAGE_SIZE, required);
      range.hmmPfns[i] = 0;
      continue;
    }
    if (pte.kind === "device-private") {
      const pg = folioPgmap(pte.folio);
      if (pg && pg.owner === range.devPrivateOwner) {
        // "Don't fault in device private pages owned by the caller, just report the
        // PFN" — even when a write is requested and the entry is read-only.
        const cpuFlags = HMM_PFN_VALID | (pte.writable ? HMM_PFN_WRITE : 0);
        range.hmmPfns[i] = (pte.folio.pfn + pte.page) * (1 << HMM_PFN_SHIFT) + cpuFlags;
        continue;
      }
      const required = hmmPteNeedFault(req, 0);
      if (!required) {
        range.hmmPfns[i] = 0;
        continue;
      }
      return yield* hmmVmaFault(mm, walk, addr, addr + PAGE_SIZE, required);
    }
    if (pte.kind === "device-exclusive") {
      // Not present: faulted (do_swap_page → remove_device_exclusive_entry) when needed.
      const required = hmmPteNeedFault(req, 0);
      if (!required) {
        range.hmmPfns[i] = 0;
        continue;
      }
      return yield* hmmVmaFault(mm, walk, addr, addr + PAGE_SIZE, required);
    }
    if (pte.kind === "migration") {
      if (!hmmPteNeedFault(req, 0)) {
        range.hmmPfns[i] = 0;
        continue;
      }
      walk.last = addr;
      const vmf: VmFault = { mm, vma, address: addr, pgoff: vma.linearPageIndex(addr), flags: FAULT_FLAG_REMOTE, slot, origPte: pte };
      yield* migrationEntryWait(vmf, pte as PteMigration);
      return EBUSY;
    }
    const cpuFlags = HMM_PFN_VALID | (pte.writable ? HMM_PFN_WRITE : 0);
    const required = hmmPteNeedFault(req, cpuFlags);
    if (required) return yield* hmmVmaFault(mm, walk, addr, addr + PAGE_SIZE, required);
    range.hmmPfns[i] = (pte.folio.pfn + pte.page) * (1 << HMM_PFN_SHIFT) + cpuFlags;
  }
  return 0;
}

/**
 * `hmm_range_fault(range)`: the caller holds mmap_lock for reading. Re-walks from the
 * last faulted address while the walk says -EBUSY — with no sleep in mainline — and
 * returns -EBUSY to the caller only when the interval notifier saw an invalidation.
 */
export function hmmRangeFault(range: HmmRange): TaskGen<number> {
  return traced("hmm_range_fault", hmmRangeFaultBody(range));
}

function* hmmRangeFaultBody(range: HmmRange): TaskGen<number> {
  const m = currentMachine();
  const mm = range.notifier.mm;
  if (!mm.mmapLock.readers && !mm.mmapLock.writer) throw new MmModelError("hmm_range_fault", `${mm.name} mmap_lock`, "mmap_lock not held (mmap_assert_locked)");
  const walk: HmmVmaWalk = { range, last: range.start };
  for (;;) {
    if (yield* mmuIntervalCheckRetry(range.notifier, range.notifierSeq)) return EBUSY;
    const ret = yield* walkPageRange(mm, walk);
    if (ret !== EBUSY) return ret;
    m.count("hmm_range_fault_rewalk");
    yield* hmmRewalk(m);
  }
}

/**
 * The driver's loop around `hmm_range_fault` (lib/test_hmm.c `dmirror_range_fault`):
 * until `HMM_RANGE_DEFAULT_TIMEOUT` passes — `mmu_interval_read_begin`, mmap_read_lock,
 * `hmm_range_fault`, unlock, retry on -EBUSY; then `lock()` the driver's mirror lock
 * and retry if `mmu_interval_read_retry` says the range was invalidated meanwhile.
 * Returns 0 with the driver lock held (`lock`'s caller releases it), or an error
 * (-EBUSY on timeout) without it.
 */
export function* hmmRangeFaultRetry(range: HmmRange, lock: () => TaskGen<void>, unlock: () => TaskGen<void>): TaskGen<number> {
  const m = currentMachine();
  const cpu = current().cpu;
  const timeout = m.cpuClock(cpu) + HMM_RANGE_DEFAULT_TIMEOUT * 1e6;
  const mm = range.notifier.mm;
  for (;;) {
    if (m.cpuClock(cpu) > timeout) return EBUSY;
    range.notifierSeq = yield* mmuIntervalReadBegin(range.notifier);
    yield* mmapReadLock(mm);
    const ret = yield* hmmRangeFault(range);
    yield* mmapReadUnlock(mm);
    if (ret) {
      if (ret === EBUSY) continue;
      return ret;
    }
    yield* lock();
    if (yield* mmuIntervalCheckRetry(range.notifier, range.notifierSeq)) {
      yield* unlock();
      continue;
    }
    return 0;
  }
}
