/**
 * Page faults (mm/memory.c): `handle_mm_fault`, `handle_pte_fault`,
 * `do_anonymous_page`, `do_pte_missing`, `do_fault`, `do_read_fault`, `do_cow_fault`,
 * `do_shared_fault`, `__do_fault`, `finish_fault`, `set_pte_range`,
 * `fault_dirty_shared_page`, `do_wp_page` (`wp_page_reuse`, `wp_page_shared`,
 * `wp_page_copy`), the migration-entry, device-private and device-exclusive branches
 * of `do_swap_page` (`migration_entry_wait` from mm/migrate.c,
 * `remove_device_exclusive_entry`, `restore_exclusive_pte`), and `follow_page_pte`'s page-table read
 * from mm/gup.c. `touch` is the user access that faults: the arch fault handler
 * (`do_user_addr_fault` / `do_page_fault`) taking mmap_lock for reading.
 *
 * Reference flow (reference §1.5): an anonymous fault's allocation reference and a
 * file fault's lookup reference ("transient") become the mapping's reference ("map")
 * in the rmap step; LRU and mlock batch references are taken by @foliosim/lru.
 *
 * Simplifications:
 * - No shared zero page: a read fault on anonymous memory allocates a folio as a
 *   write fault does (as with `mm_forbids_zeropage`); the PTE is then read-only
 *   unless the vma is writable. `do_wp_page` reuses an anonymous folio that is
 *   PageAnonExclusive or that `wp_can_reuse_anon_folio` finds unshared (after fork,
 *   ./fork.ts), and copies it otherwise.
 * - No page_mkwrite, no fault-around, no NUMA hinting, no userfaultfd, no swap-in
 *   (the swap branch of `do_swap_page` only knows migration, device-private and
 *   device-exclusive entries).
 * - `remove_device_exclusive_entry`'s `folio_lock_or_retry` sleeps on the folio lock
 *   with mmap_lock held (the kernel drops mmap_lock, waits and returns
 *   VM_FAULT_RETRY); the fault then returns 0 and the access is retried, as after
 *   VM_FAULT_RETRY.
 * - mTHP: an anonymous fault allocates a folio of the vma's `folioOrder` when the
 *   aligned range lies in the vma and is all `pte_none`, else order 0
 *   (`alloc_anon_folio` with one enabled size).
 * - The TLB is not modelled: a write to a read-only PTE always faults; the dirty bit
 *   the MMU sets is set by `touch` in the same step as the access.
 */

import {
  PG,
  VM_EXEC,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  folioGet,
  folioLock,
  folioPut,
  folioPutRefs,
  folioRefAdd,
  folioTestAnon,
  folioNrPages,
  folioTestLarge,
  folioTrylock,
  folioTryGet,
  folioUnlock,
  folioWaitLocked,
  type Folio,
} from "@foliosim/folio";
import { folioAddLruVma, lruAddDrain } from "@foliosim/lru";
import { noteRead, op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import {
  TRANSIENT_HOLDER,
  VM_FAULT_ERROR,
  VM_FAULT_LOCKED,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_RETRY,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  filemapFault,
  once,
  type FaultResult,
} from "./filemap.js";
import {
  MmModelError,
  PAGE_SIZE,
  PTRS_PER_PTE,
  addrObject,
  findVma,
  hexAddr,
  mmapReadLock,
  mmapReadUnlock,
  type MmStruct,
  type Pte,
  type PteDeviceExclusive,
  type PteDevicePrivate,
  type PteMigration,
  type PtePresent,
  type PteSlot,
  type Vma,
} from "./mm-types.js";
import { folioAddAnonRmapPtes, folioAddFileRmapPtes, folioAddNewAnonRmap, folioRemoveRmapPte, pteLock, pteUnlock, readPte, setPte } from "./rmap.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { shmemFault, vmaIsAnonShmem } from "./shmem.js";
import { finishFaultPolicy } from "./variants/finish-fault.js";

// FAULT_FLAG_* (include/linux/mm_types.h `enum fault_flag`).
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_RETRY_NOWAIT = 1 << 3;
export const FAULT_FLAG_KILLABLE = 1 << 4;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;

/** `struct vm_fault`. */
export interface VmFault {
  readonly mm: MmStruct;
  readonly vma: Vma;
  /** Page-aligned faulting address. */
  readonly address: number;
  /** `vmf->pgoff`: the file (or anonymous linear) page index. */
  readonly pgoff: number;
  readonly flags: number;
  /** The page-table entry of `address`. */
  readonly slot: PteSlot;
  /** `vmf->orig_pte`: the entry as the fault first read it. */
  readonly origPte: Pte;
}

// ------------------------------------------------------------------------ device-private hook

/** The `dev_pagemap_ops->migrate_to_ram` dispatch of `do_swap_page`, registered by @foliosim/hmm. */
export type DevicePrivateFaultHandler = (vmf: VmFault & { origPte: PteDevicePrivate }) => TaskGen<number>;

const DEVICE_PRIVATE_HANDLER = Symbol("mm-device-private-fault-handler");

/** Register the handler a fault on a device-private entry calls (`pgmap->ops->migrate_to_ram`). */
export function setDevicePrivateFaultHandler(m: Machine, handler: DevicePrivateFaultHandler | null): void {
  if (handler === null) m.ext.delete(DEVICE_PRIVATE_HANDLER);
  else m.ext.set(DEVICE_PRIVATE_HANDLER, handler);
}

// ------------------------------------------------------------------------ entry points

/**
 * `handle_mm_fault(vma, address, flags, regs)`: the caller holds mmap_lock for reading
 * (`touch`, or GUP's `faultin_page`). Finds the vma itself (the arch handler's
 * `lock_mm_and_find_vma` + `access_error`): none, or a write to a vma without
 * VM_WRITE, is VM_FAULT_SIGSEGV. Returns VM_FAULT_* bits; 0 means "retry the access".
 */
export function handleMmFault(mm: MmStruct, address: number, flags: number): TaskGen<number> {
  return traced("handle_mm_fault", handleMmFaultBody(mm, address, flags));
}

function* handleMmFaultBody(mm: MmStruct, address: number, flags: number): TaskGen<number> {
  const addr = Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
  const vma = findVma(mm, addr);
  if (!vma) return VM_FAULT_SIGSEGV;
  if (flags & FAULT_FLAG_WRITE && !(vma.flags & VM_WRITE)) return VM_FAULT_SIGSEGV;
  if (!(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) return VM_FAULT_SIGSEGV; // PROT_NONE
  const slot = mm.slot(addr);
  const origPte = yield* readPte(slot, "handle_pte_fault");
  const vmf: VmFault = { mm, vma, address: addr, pgoff: vma.linearPageIndex(addr), flags, slot, origPte };
  return yield* handlePteFault(vmf);
}

function* handlePteFault(vmf: VmFault): TaskGen<number> {
  const p = vmf.origPte;
  switch (p.kind) {
    case "none":
      return yield* traced("do_pte_missing", vmf.vma.isAnonymous ? doAnonymousPage(vmf) : doFault(vmf));
    case "migration":
      yield* migrationEntryWait(vmf, p);
      return 0;
    case "device-private": {
      const handler = vmf.mm.machine.ext.get(DEVICE_PRIVATE_HANDLER) as DevicePrivateFaultHandler | undefined;
      if (!handler) {
        throw new MmModelError("do_swap_page", p.folio.name, `fault at ${hexAddr(vmf.address)} on a device-private entry, but no device-private fault handler is registered (setDevicePrivateFaultHandler)`);
      }
      return yield* traced("do_swap_page", handler({ ...vmf, origPte: p }));
    }
    case "device-exclusive":
      return yield* traced("do_swap_page", removeDeviceExclusiveEntry({ ...vmf, origPte: p }));
    case "present":
      if (vmf.flags & FAULT_FLAG_WRITE && !p.writable) return yield* doWpPage(vmf, p);
      // Spurious fault (another thread mapped it) or a dirty/young update.
      yield* pteLock(vmf.mm, vmf.address);
      const now = yield* readPte(vmf.slot);
      if (now.kind === "present" && vmf.flags & FAULT_FLAG_WRITE && now.writable && !now.dirty) {
        yield* setPte(vmf.slot, { ...now, dirty: true }, "pte_mkdirty");
      }
      yield* pteUnlock(vmf.mm, vmf.address);
      return 0;
  }
}

// ------------------------------------------------------------------------ anonymous faults

/** Whether every entry in `[start, start + nr pages)` is `pte_none` (one step reading them). */
function ptesNone(mm: MmStruct, start: number, nr: number, label: string): Op<boolean> {
  const slots: PteSlot[] = [];
  for (let i = 0; i < nr; i++) slots.push(mm.slot(start + i * PAGE_SIZE));
  return op({ kind: "pte_range_none", label, reads: slots, cost: "plain", run: () => slots.every((s) => s.pte.kind === "none") });
}

/**
 * `do_anonymous_page`: allocate (movable: ZONE_MOVABLE or CMA, unless PF_MEMALLOC_PIN),
 * zero it, take the PTE lock, check the entry is still none, `folio_add_new_anon_rmap`
 * (the allocation reference becomes "map"), `folio_add_lru_vma` (the `lru_add` batch,
 * or `mlock_new_folio` in a VM_LOCKED vma), `set_ptes`.
 */
export function doAnonymousPage(vmf: VmFault): TaskGen<number> {
  return traced("do_anonymous_page", doAnonymousPageBody(vmf));
}

function* doAnonymousPageBody(vmf: VmFault): TaskGen<number> {
  const { mm, vma } = vmf;
  // alloc_anon_folio: the vma's mTHP order if the aligned range fits and is empty.
  let order = vma.folioOrder;
  let start = vmf.address;
  if (order > 0) {
    const size = PAGE_SIZE << order;
    start = Math.floor(vmf.address / size) * size;
    if (start < vma.start || start + size > vma.end || !(yield* ptesNone(mm, start, 1 << order, "pte_range_none"))) {
      order = 0;
      start = vmf.address;
    }
  }
  const nr = 1 << order;
  const folio = yield* mm.memory.allocFolio({ movable: true, order }, TRANSIENT_HOLDER);
  if (folio === null) return VM_FAULT_OOM;
  if (nr > 1) yield* folioRefAdd(folio, nr - 1, TRANSIENT_HOLDER, "folio_ref_add");
  yield* op({
    kind: "clear_highpage",
    label: "folio_zero_user",
    writes: [folio.flagsWord],
    cost: nr === 1 ? "mmClearPage" : mm.machine.cost("mmClearPage") * nr,
    run: (m) => {
      folio.data = 0;
      folio.setBits(PG.uptodate); // __folio_mark_uptodate
      m.markWrite(folio.flagsWord);
    },
  });
  yield* pteLock(mm, start);
  if (!(yield* ptesNone(mm, start, nr, "pte_none"))) {
    // Another thread mapped it first: release ours.
    yield* pteUnlock(mm, start);
    yield* folioPutRefs(folio, nr, TRANSIENT_HOLDER, "folio_put");
    return 0;
  }
  yield* folioAddNewAnonRmap(folio, vma, start);
  yield* folioAddLruVma(folio, vma);
  const writable = (vma.flags & VM_WRITE) !== 0;
  for (let i = 0; i < nr; i++) {
    yield* setPte(mm.slot(start + i * PAGE_SIZE), { kind: "present", folio, page: i, writable, dirty: writable }, "set_ptes");
  }
  yield* pteUnlock(mm, start);
  return 0;
}

// ------------------------------------------------------------------------ file faults

/** `__do_fault`: the vma's `->fault` (`filemap_fault` or `shmem_fault`). */
function doFaultHandler(vmf: VmFault): TaskGen<FaultResult> {
  const mapping = vmf.vma.file!;
  return mapping.kind === "shmem" ? shmemFault(mapping, vmf.pgoff, { vma: vmf.vma, address: vmf.address }) : filemapFault(mapping, vmf.pgoff);
}

/** `do_fault`: read, COW (private write) or shared-write fault. */
export function doFault(vmf: VmFault): TaskGen<number> {
  if (!(vmf.flags & FAULT_FLAG_WRITE)) return traced("do_read_fault", doReadFault(vmf));
  if (!(vmf.vma.flags & VM_SHARED)) return traced("do_cow_fault", doCowFault(vmf));
  return traced("do_shared_fault", doSharedFault(vmf));
}

function* doReadFault(vmf: VmFault): TaskGen<number> {
  const { ret, folio } = yield* traced("__do_fault", doFaultHandler(vmf));
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY) || folio === null) return ret;
  const r = yield* finishFault(vmf, folio);
  yield* folioUnlock(folio);
  if (r & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) yield* folioPut(folio, TRANSIENT_HOLDER);
  return (ret & ~VM_FAULT_LOCKED) | r;
}

function* doCowFault(vmf: VmFault): TaskGen<number> {
  const cow = yield* vmf.mm.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
  if (cow === null) return VM_FAULT_OOM;
  const { ret, folio } = yield* traced("__do_fault", doFaultHandler(vmf));
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY) || folio === null) {
    yield* folioPut(cow, TRANSIENT_HOLDER);
    return ret;
  }
  yield* copyFolio(folio, cow);
  const r = yield* finishFault(vmf, cow);
  yield* folioUnlock(folio);
  yield* folioPut(folio, TRANSIENT_HOLDER);
  if (r & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) yield* folioPut(cow, TRANSIENT_HOLDER);
  return (ret & ~VM_FAULT_LOCKED) | r;
}

function* doSharedFault(vmf: VmFault): TaskGen<number> {
  const { ret, folio } = yield* traced("__do_fault", doFaultHandler(vmf));
  if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY) || folio === null) return ret;
  const r = yield* finishFault(vmf, folio);
  if (r & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
    yield* folioUnlock(folio);
    yield* folioPut(folio, TRANSIENT_HOLDER);
    return r;
  }
  yield* faultDirtySharedPage(folio);
  return (ret & ~VM_FAULT_LOCKED) | r;
}

/** `copy_mc_user_highpage` + `__folio_mark_uptodate` of the copy. */
export function copyFolio(src: Folio, dst: Folio): Op<void> {
  return op({
    kind: "copy_highpage",
    label: "copy_user_highpage",
    reads: [src.flagsWord],
    writes: [dst.flagsWord],
    cost: "mmCopyPage",
    run: (m) => {
      dst.data = src.data;
      dst.setBits(PG.uptodate);
      m.markWrite(dst.flagsWord);
    },
  });
}

/** `folio_mark_dirty` as a step. */
export function folioMarkDirty(folio: Folio): Op<boolean> {
  return op({
    kind: "folio_mark_dirty",
    label: "folio_mark_dirty",
    writes: [folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (folio.test(PG.dirty)) return false;
      folio.setBits(PG.dirty);
      m.markWrite(folio.flagsWord);
      return true;
    },
  });
}

/** `fault_dirty_shared_page`: mark the folio dirty, then unlock it. */
function* faultDirtySharedPage(folio: Folio): TaskGen<void> {
  yield* traced("fault_dirty_shared_page", once(folioMarkDirty(folio)));
  yield* folioUnlock(folio);
}

/**
 * `finish_fault`: under the PTE lock, if the entry is still none, `set_pte_range`; else
 * VM_FAULT_NOPAGE (someone else mapped it; the caller drops its reference). A large
 * folio that lies wholly inside the vma and one page table is mapped whole when all
 * its entries are none and the release maps that vma's folios whole (option
 * `finish-fault`, ./variants/finish-fault.ts: nothing ≤ 6.10, anonymous shmem
 * 6.11–6.16, any shmem in 6.17, any file folio from 6.18): `folio_ref_add(folio,
 * nr - 1)` and `set_pte_range` of every page. Any other fault maps the faulting page
 * alone (and a COW copy is a new small folio), as does a large folio whose range is
 * partly mapped already (`needs_fallback`). There is no fault-around (`map_pages`).
 */
export function finishFault(vmf: VmFault, folio: Folio): TaskGen<number> {
  return traced("finish_fault", finishFaultBody(vmf, folio));
}

/** The page index of `vmf->address` in `folio`, and how many pages `finish_fault` maps from `start`. */
function finishFaultRange(vmf: VmFault, folio: Folio): { page: number; nr: number; start: number } {
  const page = folioTestAnon(folio) ? 0 : vmf.pgoff - folio.index;
  const nr = folioNrPages(folio);
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  if (nr === 1 || (write && !(vmf.vma.flags & VM_SHARED)) || !mapsWhole(vmf.vma)) return { page, nr: 1, start: vmf.address };
  const vmaOff = vmf.pgoff - vmf.vma.pgoff;
  const pteOff = (vmf.address / PAGE_SIZE) % PTRS_PER_PTE;
  if (vmaOff < page || vmaOff + (nr - page) > vmf.vma.pages || pteOff < page || pteOff + (nr - page) > PTRS_PER_PTE) return { page, nr: 1, start: vmf.address };
  return { page: 0, nr, start: vmf.address - page * PAGE_SIZE };
}

/** Whether the release's `finish_fault` maps a large folio of `vma` whole (option `finish-fault`). */
function mapsWhole(vma: Vma): boolean {
  const policy = finishFaultPolicy(vma.mm.machine);
  if (vma.file === null) return false;
  if (vma.file.kind !== "shmem") return policy.file;
  return policy.shmem || (policy.anonShmem && vmaIsAnonShmem(vma));
}

function* finishFaultBody(vmf: VmFault, folio: Folio): TaskGen<number> {
  let { page, nr, start } = finishFaultRange(vmf, folio);
  yield* pteLock(vmf.mm, vmf.address);
  if (nr > 1 && !(yield* ptesNone(vmf.mm, start, nr, "pte_range_none"))) {
    // Some entry of the range is mapped: fall back to the faulting page alone
    // (`needs_fallback`, Brian Geffon's fix of 43e027e41423, Cc stable, 6.14; before it
    // the fault returned VM_FAULT_NOPAGE and was retried for ever).
    yield* pteUnlock(vmf.mm, vmf.address);
    ({ page, nr, start } = { page: vmf.pgoff - folio.index, nr: 1, start: vmf.address });
    yield* pteLock(vmf.mm, vmf.address);
  }
  if (nr === 1 && (yield* readPte(vmf.slot, "pte_none")).kind !== "none") {
    yield* pteUnlock(vmf.mm, vmf.address);
    return VM_FAULT_NOPAGE;
  }
  if (nr > 1) yield* folioRefAdd(folio, nr - 1, TRANSIENT_HOLDER, "folio_ref_add");
  yield* setPteRange(nr === 1 ? vmf : { ...vmf, address: start }, folio, page, nr);
  yield* pteUnlock(vmf.mm, vmf.address);
  return 0;
}

/**
 * `set_pte_range(vmf, folio, page, nr, addr)`: a private write fault's copy gets
 * `folio_add_new_anon_rmap` + `folio_add_lru_vma`; otherwise
 * `folio_add_file_rmap_ptes` (→ `mlock_vma_folio` → `mlock_folio` in a VM_LOCKED vma).
 * Then `set_ptes`, dirty and writable (`maybe_mkwrite`) on a write fault.
 */
export function setPteRange(vmf: VmFault, folio: Folio, page: number, nr: number): TaskGen<void> {
  return traced("set_pte_range", setPteRangeBody(vmf, folio, page, nr));
}

function* setPteRangeBody(vmf: VmFault, folio: Folio, page: number, nr: number): TaskGen<void> {
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  if (write && !(vmf.vma.flags & VM_SHARED)) {
    yield* folioAddNewAnonRmap(folio, vmf.vma, vmf.address);
    yield* folioAddLruVma(folio, vmf.vma);
  } else {
    yield* folioAddFileRmapPtes(folio, nr, vmf.vma);
  }
  const writable = write && (vmf.vma.flags & VM_WRITE) !== 0;
  for (let i = 0; i < nr; i++) {
    yield* setPte(vmf.mm.slot(vmf.address + i * PAGE_SIZE), { kind: "present", folio, page: page + i, writable, dirty: write }, "set_ptes");
  }
}

// ------------------------------------------------------------------------ write-protect faults

/**
 * `do_wp_page`: a write to a read-only present PTE. Shared mappings (`wp_page_shared`):
 * make it writable and dirty, then `fault_dirty_shared_page`. Private: an exclusive
 * (or no longer shared) anonymous folio is reused (`wp_page_reuse`); a shared one or a
 * page-cache folio is copied (`wp_page_copy`: a new anonymous folio replaces it in the
 * PTE, inside an MMU_NOTIFY_CLEAR invalidation).
 */
function doWpPage(vmf: VmFault, orig: PtePresent): TaskGen<number> {
  return traced("do_wp_page", doWpPageBody(vmf, orig));
}

function* doWpPageBody(vmf: VmFault, orig: PtePresent): TaskGen<number> {
  const { mm, slot } = vmf;
  const folio = orig.folio;
  yield* pteLock(mm, vmf.address);
  const p = yield* readPte(slot, "pte_same");
  if (p !== orig) {
    yield* pteUnlock(mm, vmf.address);
    return 0;
  }
  if (vmf.vma.flags & VM_SHARED) {
    // wp_page_shared: folio_get, wp_page_reuse, folio_lock, fault_dirty_shared_page, folio_put.
    yield* folioGet(folio, TRANSIENT_HOLDER);
    yield* setPte(slot, { ...orig, writable: true, dirty: true }, "wp_page_reuse");
    yield* pteUnlock(mm, vmf.address);
    yield* folioLock(folio);
    yield* faultDirtySharedPage(folio);
    yield* folioPut(folio, TRANSIENT_HOLDER);
    return 0;
  }
  // PageAnonExclusive is read under the PTE lock, which keeps it stable (no step): a read of the pte_same step.
  noteRead(folio.flagsWord);
  if (folioTestAnon(folio) && (folio.test(PG.anon_exclusive) || (yield* wpCanReuseAnonFolio(folio, vmf.vma)))) {
    if (!folio.test(PG.anon_exclusive)) yield* setAnonExclusive(folio);
    yield* setPte(slot, { ...orig, writable: true, dirty: true }, "wp_page_reuse");
    yield* pteUnlock(mm, vmf.address);
    return 0;
  }
  yield* folioGet(folio, TRANSIENT_HOLDER);
  yield* pteUnlock(mm, vmf.address);
  return yield* traced("wp_page_copy", wpPageCopy(vmf, orig));
}

function folioRefCount(folio: Folio, label: string): Op<number> {
  return op({ kind: "folio_ref_count", label, reads: [folio.ref], cost: "plain", run: () => folio.refcount });
}

/**
 * `wp_can_reuse_anon_folio(folio, vma)` for a small folio (a shared one, after fork):
 * reusable only when the faulting mapping holds the last reference — at most 3 at a
 * glance, a local `lru_add_drain()` if the folio is off the LRU (its batch holds one),
 * then exactly 1 under the folio lock; `folio_move_anon_rmap` makes it this vma's.
 * Large folios are never reused here (the kernel's `__wp_can_reuse_large_anon_folio`
 * is not modelled): they are copied.
 */
function* wpCanReuseAnonFolio(folio: Folio, vma: Vma): TaskGen<boolean> {
  if (folioTestLarge(folio)) return false;
  if ((yield* folioRefCount(folio, "folio_ref_count")) > 3) return false;
  if (!(yield* op({ kind: "folio_test_flag", label: "folio_test_lru", reads: [folio.flagsWord], cost: "plain", run: () => folio.test(PG.lru) }))) yield* lruAddDrain();
  const refs = yield* folioRefCount(folio, "folio_ref_count");
  noteRead(folio.flagsWord); // PG_swapcache, read with folio_ref_count
  if (refs > 1 + (folio.test(PG.swapcache) ? 1 : 0)) return false;
  if (!(yield* folioTrylock(folio))) return false;
  if ((yield* folioRefCount(folio, "folio_ref_count")) !== 1) {
    yield* folioUnlock(folio);
    return false;
  }
  yield* op({
    kind: "folio_move_anon_rmap",
    label: "folio_move_anon_rmap",
    writes: [folio.map],
    cost: "plain",
    run: (m) => {
      folio.mapping = vma.mm.anon;
      m.markWrite(folio.map);
    },
  });
  yield* folioUnlock(folio);
  return true;
}

/** `SetPageAnonExclusive` (under the PTE lock, on a folio this mapping now owns alone). */
function setAnonExclusive(folio: Folio): Op<void> {
  return op({
    kind: "set_page_flag",
    label: "SetPageAnonExclusive",
    writes: [folio.flagsWord],
    cost: "plain",
    run: (m) => {
      folio.setBits(PG.anon_exclusive);
      m.markWrite(folio.flagsWord);
    },
  });
}

function* wpPageCopy(vmf: VmFault, orig: PtePresent): TaskGen<number> {
  const { mm, vma, slot } = vmf;
  const old = orig.folio;
  const fresh = yield* mm.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
  if (fresh === null) {
    yield* folioPut(old, TRANSIENT_HOLDER);
    return VM_FAULT_OOM;
  }
  yield* copyFolio(old, fresh);
  const notified = yield* mmuNotifierInvalidateStart(mm, vmf.address, vmf.address + PAGE_SIZE, "MMU_NOTIFY_CLEAR");
  yield* pteLock(mm, vmf.address);
  const p = yield* readPte(slot, "pte_same");
  let toFree: Folio = fresh;
  if (p === orig) {
    yield* setPte(slot, { kind: "none" }, "ptep_clear_flush");
    yield* folioAddNewAnonRmap(fresh, vma, vmf.address);
    yield* folioAddLruVma(fresh, vma);
    yield* setPte(slot, { kind: "present", folio: fresh, page: 0, writable: true, dirty: true }, "set_pte_at_notify");
    yield* folioRemoveRmapPte(old, vma);
    toFree = old; // the old PTE's reference
  }
  yield* pteUnlock(mm, vmf.address);
  yield* mmuNotifierInvalidateEnd(mm, notified);
  yield* folioPut(toFree, TRANSIENT_HOLDER);
  yield* folioPut(old, TRANSIENT_HOLDER); // do_wp_page's reference
  return 0;
}

// ------------------------------------------------------------------------ migration entries

/**
 * `migration_entry_wait` → `migration_entry_wait_on_locked`: under the PTE lock check the
 * entry is still a migration entry, then sleep until its folio is unlocked (the
 * migration finished or was undone) without taking a reference; the fault returns 0
 * and the access is retried.
 */
export function migrationEntryWait(vmf: VmFault, entry: PteMigration): TaskGen<void> {
  return traced("migration_entry_wait", migrationEntryWaitBody(vmf, entry));
}

function* migrationEntryWaitBody(vmf: VmFault, entry: PteMigration): TaskGen<void> {
  yield* pteLock(vmf.mm, vmf.address);
  const p = yield* readPte(vmf.slot, "is_migration_entry");
  yield* pteUnlock(vmf.mm, vmf.address);
  if (p.kind !== "migration" || p.folio !== entry.folio) return;
  yield* folioWaitLocked(entry.folio);
}

// ------------------------------------------------------------------------ device-exclusive entries

/**
 * Holder of the reference an up-to-6.14 device-exclusive entry holds: the PTE's
 * reference, no longer counted as a mapping (`page_make_device_exclusive_one` removed
 * the rmap and kept the reference "for the swap entry").
 */
export const DEVICE_EXCLUSIVE_HOLDER = "device-exclusive";

/**
 * `restore_exclusive_pte(vma, folio, page, address, ptep, orig_pte)` (folio locked, PTE
 * lock held): the device-exclusive entry becomes an old present PTE of the same page.
 * Since 6.15 it is writable when the vma is and `can_change_pte_writable` allows it
 * (a private anonymous page: PageAnonExclusive), dirty if the folio is; up to 6.14 a
 * writable entry becomes `maybe_mkwrite(pte_mkdirty(pte))` and the mapping is added back
 * (`folio_add_anon_rmap_pte`, the entry's reference becoming "map" again).
 */
export function* restoreExclusivePte(vma: Vma, slot: PteSlot, orig: PteDeviceExclusive): TaskGen<void> {
  const folio = orig.folio;
  noteRead(folio.lock); // read with the step before (the caller holds the folio lock)
  noteRead(folio.flagsWord);
  if (!folio.lock.locked) throw new MmModelError("restore_exclusive_pte", folio.name, "folio is not locked");
  let writable: boolean;
  let dirty: boolean;
  if (orig.mapped) {
    writable = (vma.flags & VM_WRITE) !== 0 && folioTestAnon(folio) && folio.test(PG.anon_exclusive);
    dirty = writable && folio.test(PG.dirty);
  } else {
    writable = orig.writable && (vma.flags & VM_WRITE) !== 0;
    dirty = orig.writable;
    yield* folioAddAnonRmapPtes(folio, 1, vma, DEVICE_EXCLUSIVE_HOLDER);
  }
  yield* setPte(slot, { kind: "present", folio, page: orig.page, writable, dirty }, "restore_exclusive_pte");
}

/**
 * `remove_device_exclusive_entry(vmf)`, do_swap_page's device-exclusive branch: a CPU
 * access revokes the device's exclusive access. `folio_try_get`, `folio_lock_or_retry`,
 * an MMU_NOTIFY_EXCLUSIVE invalidation of the page (owner NULL: every mirror drops
 * it), then under the PTE lock, if the entry is unchanged, `restore_exclusive_pte`;
 * unlock, put, end the invalidation. Returns 0: the access is retried.
 */
export function removeDeviceExclusiveEntry(vmf: VmFault & { origPte: PteDeviceExclusive }): TaskGen<number> {
  return traced("remove_device_exclusive_entry", removeDeviceExclusiveEntryBody(vmf));
}

function* removeDeviceExclusiveEntryBody(vmf: VmFault & { origPte: PteDeviceExclusive }): TaskGen<number> {
  const { mm, slot } = vmf;
  const folio = vmf.origPte.folio;
  if (!(yield* folioTryGet(folio, TRANSIENT_HOLDER))) return 0;
  if (!(yield* folioTrylock(folio))) {
    // folio_lock_or_retry: wait for the lock holder, then VM_FAULT_RETRY.
    yield* folioWaitLocked(folio);
    yield* folioPut(folio, TRANSIENT_HOLDER);
    return 0;
  }
  const notified = yield* mmuNotifierInvalidateStart(mm, vmf.address, vmf.address + PAGE_SIZE, "MMU_NOTIFY_EXCLUSIVE");
  yield* pteLock(mm, vmf.address);
  const p = yield* readPte(slot, "pte_same");
  if (p === vmf.origPte) yield* restoreExclusivePte(vmf.vma, slot, vmf.origPte);
  yield* pteUnlock(mm, vmf.address);
  yield* folioUnlock(folio);
  yield* folioPut(folio, TRANSIENT_HOLDER);
  yield* mmuNotifierInvalidateEnd(mm, notified);
  return 0;
}

// ------------------------------------------------------------------------ GUP helpers

/**
 * `follow_page_pte`'s read of the page table: the entry mapping `address`, in ONE step.
 * It takes no reference; a caller that must keep the folio mapped while it grabs one
 * holds `pteLock(mm, address)` around this call and its grab, as the kernel does.
 */
export function followPagePte(mm: MmStruct, address: number): Op<Pte> {
  const slot = mm.slot(address);
  return op({ kind: "follow_page_pte", label: "follow_page_pte", reads: [slot], cost: "plain", run: () => slot.pte });
}

// ------------------------------------------------------------------------ user access

function userAccess(slot: PteSlot, write: boolean, access: UserAccessFn | undefined): Op<Folio | null> {
  return op({
    kind: "user_access",
    label: write ? "user_write" : "user_read",
    reads: write ? [] : [slot],
    writes: write ? [slot] : [],
    cost: "plain",
    run: (m) => {
      const p = slot.pte;
      if (p.kind !== "present" || p.protnone || (write && !p.writable)) return null;
      if (write && !p.dirty) {
        slot.pte = { ...p, dirty: true }; // the MMU sets the dirty bit
        m.markWrite(slot);
      }
      if (access !== undefined) access(m, p.folio);
      return p.folio;
    },
  });
}

/**
 * What a user access does with the folio it reached, in the access's own step (a load
 * of the page's contents): it must tell the machine what it reads or writes of the
 * folio, which the step's footprint cannot name in advance (`Machine.noteRead`,
 * `Machine.markWrite`).
 */
export type UserAccessFn = (m: Machine, folio: Folio) => void;

/**
 * A user access to `address` (a read, or a write with `write`): if the PTE allows it
 * the access completes in one step; otherwise a page fault (exception entry,
 * mmap_lock for reading, `handle_mm_fault`) and the access is retried. Returns the
 * folio accessed. An access no vma allows (SIGSEGV), past the end of a file (SIGBUS)
 * or out of memory is a ModelError naming the address: a scenario bug.
 */
export function touch(mm: MmStruct, address: number, write: boolean, access?: UserAccessFn): TaskGen<Folio> {
  return traced("user_access", touchBody(mm, address, write, access));
}

function* touchBody(mm: MmStruct, address: number, write: boolean, access: UserAccessFn | undefined): TaskGen<Folio> {
  const slot = mm.slot(address);
  for (;;) {
    const folio = yield* userAccess(slot, write, access);
    if (folio !== null) return folio;
    yield* op({ kind: "exception", label: "do_page_fault", cost: "mmFaultEntry", run: () => undefined });
    yield* mmapReadLock(mm);
    const ret = yield* handleMmFault(mm, address, (write ? FAULT_FLAG_WRITE : 0) | FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE);
    yield* mmapReadUnlock(mm);
    if (ret & VM_FAULT_SIGSEGV) {
      const vma = findVma(mm, address);
      throw new MmModelError("touch", addrObject(mm, address), vma ? `SIGSEGV: ${write ? "write to" : "access of"} ${vma.describe()} without permission` : "SIGSEGV: no vma maps this address", true);
    }
    if (ret & VM_FAULT_SIGBUS) throw new MmModelError("touch", addrObject(mm, address), "SIGBUS: access past the end of the mapped file", true);
    // The kernel's OOM killer would end the program: the scenario's machine is too small for it.
    if (ret & VM_FAULT_OOM) throw new MmModelError("touch", addrObject(mm, address), "VM_FAULT_OOM: no memory for the fault (the scenario's machine has run out of memory: give machine.memory more pages)", true);
    // The access is retried after the return to user space: a preemption point under
    // every model and an RCU quiescent state (exit_to_user_mode → schedule()).
    yield* op({ kind: "exit_to_user_mode", label: "exit_to_user_mode", cost: "condResched", preemptPoint: true, run: () => undefined });
  }
}
