/**
 * fork's copy of an address space (kernel/fork.c `dup_mmap`; mm/memory.c
 * `copy_page_range`, `copy_pte_range`, `copy_present_pte`, `copy_present_page`,
 * `copy_nonpresent_pte`).
 *
 * `forkMm` takes the parent's mmap_lock for writing, gives the child a copy of every
 * vma (VM_LOCKED and VM_LOCKONFAULT cleared: mlock is not inherited) and copies the
 * page tables of every vma that holds anonymous memory (`vma_needs_copy`). A COW
 * mapping (`is_cow_mapping`) is copied inside one MMU_NOTIFY_PROTECTION_PAGE
 * invalidation of the parent's range, so device mirrors drop what they mirrored, and
 * its writable entries become read-only in both processes:
 * - present: `folio_get` + `folio_try_dup_anon_rmap_ptes` (the page stops being
 *   PageAnonExclusive; the next write in either process goes through `do_wp_page`,
 *   which copies while the folio is shared) or `folio_dup_file_rmap_ptes`; an
 *   exclusive anonymous folio that may be DMA-pinned is copied for the child at once
 *   (`copy_present_page`) and the parent keeps its writable entry;
 * - device-private: `folio_get`, the rmap duplication, and a writable entry made
 *   readable in the parent (`make_readable_device_private_entry`); the child gets the
 *   same entry. A later CPU write in either process migrates the folio back
 *   (`do_swap_page` → `migrate_to_ram`) and then copies it in `do_wp_page`; a device
 *   write through `hmm_range_fault` sees a read-only entry;
 * - migration: no reference; a writable entry becomes readable in both;
 * - device-exclusive (`copy_nonpresent_pte` → `try_restore_exclusive_pte`): the parent's
 *   entry is restored to a present PTE under the folio lock, then copied as one; a
 *   locked folio makes `copy_pte_range` drop its locks and start again.
 *
 * Simplifications: `is_cow_mapping` is `!VM_SHARED` (every private mapping is
 * VM_MAYWRITE in the model); `vma_needs_copy` is "some entry of the vma maps an
 * anonymous folio" (the model has no per-vma anon_vma); one PTE at a time (no batching
 * of large folios); the child's anonymous folios keep the parent's anon_vma; a fork
 * that runs out of memory for `copy_present_page` (-ENOMEM in the kernel, which unwinds
 * the half-built mm) is reported as the caller's error, the machine being too small; on
 * a locked device-exclusive folio the copy sleeps until it is unlocked before starting
 * again (the kernel retries at once).
 */

import { VM_SHARED, VM_WRITE, folioGet, folioPut, folioTestAnon, folioTrylock, folioUnlock, folioWaitLocked, type Folio } from "@foliosim/folio";
import { folioAddLruVma } from "@foliosim/lru";
import { noteRead, op, spinLock, spinUnlock, traced, type Op, type TaskGen } from "@foliosim/sim";
import { TRANSIENT_HOLDER } from "./filemap.js";
import { VM_LOCKED_MASK } from "./mlock.js";
import { MmModelError, PAGE_SIZE, PTRS_PER_PTE, Vma, createMm, findVma, formatPte, hexAddr, mmapWriteLock, mmapWriteUnlock, type MmStruct, type Pte, type PteSlot } from "./mm-types.js";
import { copyFolio, restoreExclusivePte } from "./memory.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { folioAddNewAnonRmap, folioDupRmapPte, readPte, setPte } from "./rmap.js";

/** `is_cow_mapping(vm_flags)`: a private mapping. */
export function isCowMapping(vma: Vma): boolean {
  return (vma.flags & VM_SHARED) === 0;
}

/** `copy_present_page`: a copy of an exclusive, maybe-pinned anonymous page for the child. */
function* copyPresentPage(dstVma: Vma, addr: number, src: Folio): TaskGen<Pte | null> {
  const fresh = yield* dstVma.mm.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
  if (fresh === null) return null;
  yield* copyFolio(src, fresh);
  yield* folioAddNewAnonRmap(fresh, dstVma, addr);
  yield* folioAddLruVma(fresh, dstVma);
  const writable = (dstVma.flags & VM_WRITE) !== 0;
  return { kind: "present", folio: fresh, page: 0, writable, dirty: true };
}

/**
 * One entry of `copy_pte_range` (both PTE locks held): the child's entry, after the
 * parent's was write-protected if needed. Null: nothing to copy.
 */
function* copyOnePte(srcSlot: PteSlot, srcVma: Vma, dstVma: Vma, dstAddr: number): TaskGen<Pte | null | Busy> {
  let p = yield* readPte(srcSlot);
  if (p.kind === "none") return null;
  if (p.kind === "device-exclusive") {
    // try_restore_exclusive_pte: -EBUSY when the folio is locked; else the entry is
    // restored and copied as the present PTE it now is (-ENOENT).
    const folio = p.folio;
    if (!(yield* folioTrylock(folio))) return { kind: "busy", folio };
    yield* restoreExclusivePte(srcVma, srcSlot, p);
    yield* folioUnlock(folio);
    p = yield* readPte(srcSlot);
    if (p.kind !== "present") throw new MmModelError("copy_pte_range", folio.name, `a restored device-exclusive entry at ${hexAddr(srcSlot.addr)} is not present`);
  }
  const cow = isCowMapping(srcVma);
  if (p.kind === "migration") {
    if (p.writable && cow) yield* setPte(srcSlot, { ...p, writable: false }, "make_readable_migration_entry");
    return { ...p, writable: p.writable && !cow };
  }
  yield* folioGet(p.folio, TRANSIENT_HOLDER);
  if (!(yield* folioDupRmapPte(p.folio, dstVma))) {
    // copy_present_pte → -EAGAIN → copy_present_page; the parent keeps its entry.
    yield* folioPut(p.folio, TRANSIENT_HOLDER);
    const copy = yield* copyPresentPage(dstVma, dstAddr, p.folio);
    // The kernel's fork fails with -ENOMEM here; the model has no unwinding of a half-copied mm, so a scenario whose machine is this small is the scenario's error.
    if (copy === null) throw new MmModelError("copy_present_page", dstVma.describe(), "no memory for the child's copy (fork fails with -ENOMEM): the scenario's machine has run out of memory: give machine.memory more pages", true);
    return copy;
  }
  if (p.kind === "device-private") {
    if (p.writable && cow) yield* setPte(srcSlot, { ...p, writable: false }, "make_readable_device_private_entry");
    return { ...p, writable: p.writable && !cow };
  }
  if (p.writable && cow) yield* setPte(srcSlot, { ...p, writable: false }, "ptep_set_wrprotect");
  return { ...p, writable: p.writable && !cow, dirty: (srcVma.flags & VM_SHARED) !== 0 ? false : p.dirty };
}

/** `copy_pte_range` of `[start, end)` (one page-table page): src and dst PTE locks held. */
function* copyPteRange(srcVma: Vma, dstVma: Vma, start: number, end: number): TaskGen<void> {
  const src = srcVma.mm;
  const dst = dstVma.mm;
  const slots: PteSlot[] = [];
  for (let a = start; a < end; a += PAGE_SIZE) {
    const s = src.ptes.get(a / PAGE_SIZE);
    if (s) noteRead(s); // read with the step before (mmap_lock held for writing)
    if (s && s.pte.kind !== "none") slots.push(s);
  }
  let i = 0;
  while (i < slots.length) {
    yield* spinLock(dst.ptl(start));
    yield* spinLock(src.ptl(start));
    let busy: Folio | null = null;
    for (; i < slots.length; i++) {
      const pte = yield* copyOnePte(slots[i], srcVma, dstVma, slots[i].addr);
      if (pte !== null && pte.kind === "busy") {
        busy = pte.folio;
        break;
      }
      if (pte !== null) yield* setPte(dst.slot(slots[i].addr), pte, "set_ptes");
    }
    yield* spinUnlock(src.ptl(start));
    yield* spinUnlock(dst.ptl(start));
    // -EBUSY from try_restore_exclusive_pte: drop the locks and `goto again`.
    if (busy !== null) yield* folioWaitLocked(busy);
  }
}

/** copy_nonpresent_pte's -EBUSY: a device-exclusive entry whose folio is locked. */
interface Busy {
  readonly kind: "busy";
  readonly folio: Folio;
}

/** `vma_needs_copy`: the vma holds anonymous memory (the model's stand-in for `anon_vma`). */
function vmaNeedsCopy(vma: Vma): boolean {
  for (let a = vma.start; a < vma.end; a += PAGE_SIZE) {
    const s = vma.mm.ptes.get(a / PAGE_SIZE);
    if (s) noteRead(s);
    const p = s?.pte;
    if (p && p.kind !== "none" && folioTestAnon(p.folio)) return true;
  }
  return false;
}

/** `copy_page_range(dst_vma, src_vma)`: inside an MMU_NOTIFY_PROTECTION_PAGE invalidation for a COW mapping. */
export function copyPageRange(dstVma: Vma, srcVma: Vma): TaskGen<void> {
  return traced("copy_page_range", copyPageRangeBody(dstVma, srcVma));
}

function* copyPageRangeBody(dstVma: Vma, srcVma: Vma): TaskGen<void> {
  if (!vmaNeedsCopy(srcVma)) return;
  const src = srcVma.mm;
  const notified = isCowMapping(srcVma) ? yield* mmuNotifierInvalidateStart(src, srcVma.start, srcVma.end, "MMU_NOTIFY_PROTECTION_PAGE") : false;
  const span = PAGE_SIZE * PTRS_PER_PTE;
  for (let table = Math.floor(srcVma.start / span) * span; table < srcVma.end; table += span) {
    yield* copyPteRange(srcVma, dstVma, Math.max(srcVma.start, table), Math.min(srcVma.end, table + span));
  }
  yield* mmuNotifierInvalidateEnd(src, notified);
}

function vmaInsert(mm: MmStruct, vma: Vma): Op<void> {
  return op({
    kind: "vma_tree",
    label: "vma_iter_bulk_store",
    writes: [mm, vma],
    cost: "lock",
    run: (m) => {
      mm.vmas.push(vma);
      m.markWrite(mm);
      m.markWrite(vma);
    },
  });
}

/**
 * `fork()`'s `dup_mm` → `dup_mmap(mm, oldmm)`: a new address space named `name` with a
 * copy of every vma of `parent` and of the page tables that need it. Returns the child.
 */
export function forkMm(parent: MmStruct, name: string): TaskGen<MmStruct> {
  return traced("dup_mmap", forkMmBody(parent, name));
}

function* forkMmBody(parent: MmStruct, name: string): TaskGen<MmStruct> {
  const child = createMm(parent.machine, { memory: parent.memory, name });
  child.mmapBase = parent.mmapBase;
  yield* mmapWriteLock(parent);
  for (const vma of [...parent.vmas].sort((a, b) => a.start - b.start)) {
    const copy = new Vma(child, vma.start, vma.end, vma.flags & ~VM_LOCKED_MASK, vma.file, vma.pgoff, vma.folioOrder);
    yield* vmaInsert(child, copy);
    yield* copyPageRange(copy, vma);
  }
  parent.machine.event("fork").arg("parent", parent.name).arg("child", name).arg("vmas", parent.vmas.length);
  yield* mmapWriteUnlock(parent);
  return child;
}

/**
 * `copy_nonpresent_pte` for one device-private entry, outside a whole fork: the entry
 * of `src` at `addr` is copied into `dst` at `dstAddr` (which a vma of `dst` must
 * cover) exactly as `copy_page_range` copies it, inside the same invalidation of the
 * parent's page. (The catalog's `fork_device_entry` maps one shared page this way.)
 */
export function copyNonpresentPte(src: MmStruct, addr: number, dst: MmStruct, dstAddr: number): TaskGen<void> {
  return traced("copy_nonpresent_pte", copyNonpresentPteBody(src, addr, dst, dstAddr));
}

function* copyNonpresentPteBody(src: MmStruct, addr: number, dst: MmStruct, dstAddr: number): TaskGen<void> {
  const srcVma = findVma(src, addr);
  const dstVma = findVma(dst, dstAddr);
  // Fork copies what the parent maps into a child's empty page table: an address that
  // nothing maps, an entry that is not device-private or a target that is already
  // mapped is the caller's misuse (a scenario's fork_device_entry), not kernel state.
  if (!srcVma) throw new MmModelError("copy_nonpresent_pte", src.name, `no vma at ${hexAddr(addr)}`, true);
  if (!dstVma) throw new MmModelError("copy_nonpresent_pte", dst.name, `no vma at ${hexAddr(dstAddr)}`, true);
  const srcSlot = src.slot(addr);
  const notified = isCowMapping(srcVma) ? yield* mmuNotifierInvalidateStart(src, addr, addr + PAGE_SIZE, "MMU_NOTIFY_PROTECTION_PAGE") : false;
  yield* spinLock(src.ptl(addr));
  const pte = yield* copyOnePte(srcSlot, srcVma, dstVma, dstAddr);
  if (pte === null || pte.kind !== "device-private") throw new MmModelError("copy_nonpresent_pte", src.name, `not a device-private entry at ${hexAddr(addr)}`, true);
  const slot = dst.slot(dstAddr);
  if (!(yield* setChildPte(slot, pte))) throw new MmModelError("copy_nonpresent_pte", dst.name, `the target ${hexAddr(dstAddr)} already has a ${slot.pte.kind} entry (fork copies into an empty page table)`, true);
  yield* spinUnlock(src.ptl(addr));
  yield* mmuNotifierInvalidateEnd(src, notified);
}

/** `set_pte_at` of the copied entry into the child's table (the same step as setPte); false, writing nothing, where the table is not empty there. */
function setChildPte(slot: PteSlot, pte: Pte): Op<boolean> {
  return op({
    kind: "set_pte",
    label: "set_pte_at",
    writes: [slot],
    cost: "plain",
    run: (m) => {
      if (slot.pte.kind !== "none") return false;
      slot.pte = pte;
      m.markWrite(slot);
      m.event("set_pte").arg("addr", hexAddr(slot.addr)).arg("mm", slot.mm.name).arg("pte", formatPte(pte));
      return true;
    },
  });
}
