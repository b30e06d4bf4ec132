/**
 * mprotect(2) (mm/mprotect.c `do_mprotect_pkey`, `mprotect_fixup`, `change_protection`
 * → `change_pte_range`, `can_change_pte_writable`; mm/vma.c `vma_modify_flags`).
 *
 * Under mmap_lock for writing, every vma of the range is split at the range's edges and
 * gets the new VM_READ/VM_WRITE/VM_EXEC bits; `change_protection` then rewrites its
 * page-table entries inside one MMU_NOTIFY_PROTECTION_VMA invalidation (device mirrors
 * drop what they mirrored), one page-table page (PTE lock) at a time:
 * - present: `pte_modify` to the new protection. PROT_NONE makes the entry
 *   `pte_protnone` (still mapped, mapcount and reference kept; no user access, GUP-fast
 *   backs off, and the slow path's `check_vma_flags` refuses the vma with -EFAULT unless
 *   FOLL_FORCE). A writable vma's entries are read-only after `pte_modify` except where
 *   MM_CP_TRY_CHANGE_WRITABLE may upgrade them (`can_change_pte_writable`): an exclusive
 *   anonymous page of a private mapping, or a dirty entry of a shared one; shmem (no
 *   write-notify) maps writable directly;
 * - a writable migration or device-private entry losing VM_WRITE becomes readable
 *   (`make_readable_migration_entry`, `make_readable_device_private_entry`).
 *
 * Return values as the kernel's: -EINVAL for an unaligned start or unknown prot bits
 * (`arch_validate_prot`), -ENOMEM when the start is not mapped or the range has a hole
 * (vmas before the hole keep their new protection, as in the kernel), else 0.
 *
 * Simplifications: no VM_MAY* bits (so no -EACCES: every mapping may get every
 * permission), no pkeys, no PROT_GROWSDOWN/UP, no vma merging; the populate of a
 * private VM_LOCKED vma that becomes writable (`populate_vma_page_range`) is not done
 * (its pages fault in on the next write).
 */

import { PG, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE, folioTestAnon } from "@foliosim/folio";
import { noteRead, op, traced, type Op, type TaskGen } from "@foliosim/sim";
import { PAGE_SIZE, PTRS_PER_PTE, hexAddr, mmapWriteLock, mmapWriteUnlock, type MmStruct, type Pte, type PteSlot, type Vma } from "./mm-types.js";
import { PROT_EXEC, PROT_READ, PROT_WRITE, splitVma } from "./mmap.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { pteLock, pteUnlock } from "./rmap.js";

const EINVAL = -22;
const ENOMEM = -12;

/** `VM_ACCESS_FLAGS`. */
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;

/** `calc_vm_prot_bits(prot, 0)`. */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0);
}

/** `vma_is_accessible`: some access flag is set (PROT_NONE vmas are not). */
export function vmaIsAccessible(vma: Vma): boolean {
  return (vma.flags & VM_ACCESS_FLAGS) !== 0;
}

/** `mprotect(start, len, prot)`. */
export function mprotect(mm: MmStruct, start: number, len: number, prot: number): TaskGen<number> {
  return traced("do_mprotect_pkey", mprotectBody(mm, start, len, prot));
}

/** The lowest vma ending after `addr` and starting before `end` (`vma_find`). */
function vmaFind(mm: MmStruct, addr: number, end: number): Vma | undefined {
  return mm.vmas.filter((v) => v.end > addr && v.start < end).sort((a, b) => a.start - b.start)[0];
}

function* mprotectBody(mm: MmStruct, start: number, len: number, prot: number): TaskGen<number> {
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return EINVAL;
  if (start % PAGE_SIZE !== 0) return EINVAL;
  if (len === 0) return 0;
  const end = start + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  yield* mmapWriteLock(mm);
  const first = vmaFind(mm, start, end);
  let error = 0;
  if (!first || first.start > start) error = ENOMEM;
  else {
    let tmp = first.start;
    let nstart = start;
    for (let vma = vmaFind(mm, nstart, end); vma; vma = vmaFind(mm, nstart, end)) {
      if (vma.start !== tmp) {
        error = ENOMEM;
        break;
      }
      const newflags = calcVmProtBits(prot) | (vma.flags & ~VM_ACCESS_FLAGS);
      tmp = Math.min(vma.end, end);
      yield* mprotectFixup(vma, nstart, tmp, newflags);
      nstart = tmp;
    }
    if (!error && tmp < end) error = ENOMEM;
  }
  mm.machine.event("mprotect").arg("mm", mm.name).arg("addr", hexAddr(start)).arg("len", end - start).arg("prot", prot).arg("ret", error);
  yield* mmapWriteUnlock(mm);
  return error;
}

/** `mprotect_fixup`: split off `[start, end)` of `vma`, set its flags, change its PTEs. */
export function* mprotectFixup(vma: Vma, start: number, end: number, newflags: number): TaskGen<void> {
  if (newflags === vma.flags) return;
  if (vma.start < start) vma = yield* splitVma(vma, start);
  if (vma.end > end) yield* splitVma(vma, end);
  yield* vmFlagsReset(vma, newflags);
  yield* changeProtection(vma, start, end);
}

/** `vm_flags_reset_once` (mmap_lock held for writing). */
function vmFlagsReset(vma: Vma, flags: number): Op<void> {
  return op({
    kind: "vma_flags",
    label: "vm_flags_reset_once",
    writes: [vma],
    cost: "plain",
    run: (m) => {
      vma.flags = flags;
      m.markWrite(vma);
    },
  });
}

/** `change_protection(tlb, vma, start, end)`: every entry of the range, under MMU_NOTIFY_PROTECTION_VMA. */
export function changeProtection(vma: Vma, start: number, end: number): TaskGen<number> {
  return traced("change_protection", changeProtectionBody(vma, start, end));
}

function* changeProtectionBody(vma: Vma, start: number, end: number): TaskGen<number> {
  const mm = vma.mm;
  const notified = yield* mmuNotifierInvalidateStart(mm, start, end, "MMU_NOTIFY_PROTECTION_VMA");
  const span = PAGE_SIZE * PTRS_PER_PTE;
  let changed = 0;
  for (let table = Math.floor(start / span) * span; table < end; table += span) {
    const slots: PteSlot[] = [];
    for (let a = Math.max(start, table); a < Math.min(end, table + span); a += PAGE_SIZE) {
      const s = mm.ptes.get(a / PAGE_SIZE);
      if (s) noteRead(s); // read with the step before (mmap_lock held for writing)
      if (s && s.pte.kind !== "none") slots.push(s);
    }
    if (slots.length === 0) continue;
    yield* pteLock(mm, slots[0].addr);
    for (const slot of slots) changed += yield* changePte(vma, slot);
    yield* pteUnlock(mm, slots[0].addr);
  }
  yield* mmuNotifierInvalidateEnd(mm, notified);
  return changed;
}

/** `change_pte_range` for one entry (PTE lock held): 1 if it changed. */
function changePte(vma: Vma, slot: PteSlot): Op<number> {
  const p = slot.pte;
  // The vma's (new) flags decide the entry (newPte).
  const reads = p.kind === "present" ? [vma, p.folio.flagsWord] : [vma];
  return op({
    kind: "set_pte",
    label: "change_pte_range",
    reads,
    writes: [slot],
    cost: "plain",
    run: (m) => {
      const next = newPte(vma, slot.pte);
      if (next === slot.pte) return 0;
      slot.pte = next;
      m.markWrite(slot);
      return 1;
    },
  });
}

/** The entry `change_pte_range` leaves for `p` under the vma's (new) flags. */
export function newPte(vma: Vma, p: Pte): Pte {
  const canWrite = (vma.flags & VM_WRITE) !== 0;
  switch (p.kind) {
    case "none":
      return p;
    case "migration":
    case "device-private":
      return p.writable && !canWrite ? { ...p, writable: false } : p;
    case "device-exclusive":
      // ≤ 6.14: make_readable_device_exclusive_entry; since 6.15 the one
      // SWP_DEVICE_EXCLUSIVE type has no write bit (restore_exclusive_pte asks the vma).
      return p.writable && !canWrite && !p.mapped ? { ...p, writable: false } : p;
    case "present": {
      const protnone = (vma.flags & VM_ACCESS_FLAGS) === 0;
      const writable = canWrite && !protnone && canChangePteWritable(vma, p);
      if (p.writable === writable && Boolean(p.protnone) === protnone) return p;
      const next = { kind: p.kind, folio: p.folio, page: p.page, dirty: p.dirty, writable };
      return protnone ? { ...next, protnone: true } : next;
    }
  }
}

/**
 * Whether a present entry of a writable vma ends up writable: `can_change_pte_writable`
 * (private: an exclusive anonymous page; shared: a dirty entry), or directly from
 * `vm_page_prot` for a shared mapping without write-notify (shmem).
 */
function canChangePteWritable(vma: Vma, p: Extract<Pte, { kind: "present" }>): boolean {
  if (!(vma.flags & VM_SHARED)) return folioTestAnon(p.folio) && p.folio.test(PG.anon_exclusive);
  if (vma.file?.kind !== "file") return true;
  return p.dirty;
}
