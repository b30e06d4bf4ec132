/**
 * Mappings (mm/mmap.c `do_mmap`, `mmap_region`, `__mm_populate` from mm/gup.c,
 * `do_munmap`; mm/vma.c `__split_vma`, `vms_complete_munmap_vmas`; mm/memory.c
 * `unmap_vmas` / `zap_pte_range`).
 *
 * `mmap` creates a vma: private anonymous memory, shared anonymous memory (a shmem
 * object, `shmem_zero_setup`), or a file / shmem / memfd object, private or shared;
 * MAP_LOCKED (or `mlockall(MCL_FUTURE)`'s `def_flags`) makes it VM_LOCKED and
 * populates it unless VM_LOCKONFAULT. `munmap` splits vmas at the range's edges, zaps
 * every entry (rmap removal, which munlocks in VM_LOCKED vmas; the mapping's
 * reference is dropped after the PTE lock, as the mmu_gather frees pages) inside one
 * MMU_NOTIFY_UNMAP invalidation (`unmap_vmas`), and removes the vmas.
 *
 * A fixed address: MAP_FIXED maps exactly there, first unmapping whatever the range
 * held (as `mmap_region` does, inside one MMU_NOTIFY_UNMAP invalidation);
 * MAP_FIXED_NOREPLACE maps there or fails with -EEXIST when any vma overlaps; a plain
 * hint is used when the range is free, else the next free range is taken.
 *
 * Simplifications: no vma merging; `__mm_populate` faults pages directly instead
 * of going through GUP's `populate_vma_page_range` (same faults, no FOLL_* flags).
 * Unmapping a range no vma covers returns 0 and changes nothing, as the kernel does
 * (mm/vma.c `do_vmi_munmap`: `vma_find()` finds nothing, unlock, return 0).
 */

import { VM_EXEC, VM_LOCKED, VM_LOCKONFAULT, VM_READ, VM_SHARED, VM_WRITE, VM_IO, VM_PFNMAP, folioPut, folioTestAnon, transferHolder, type Folio } from "@foliosim/folio";
import { op, traced, type Op, type TaskGen } from "@foliosim/sim";
import { TRANSIENT_HOLDER, VM_FAULT_ERROR, type AddressSpace } from "./filemap.js";
import { DEVICE_EXCLUSIVE_HOLDER, FAULT_FLAG_WRITE, folioMarkDirty, handleMmFault } from "./memory.js";
import {
  MmModelError,
  PAGE_SIZE,
  PTRS_PER_PTE,
  Vma,
  addrObject,
  hexAddr,
  mmapReadLock,
  mmapReadUnlock,
  mmapWriteLock,
  mmapWriteUnlock,
  type MmStruct,
} from "./mm-types.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { folioRemoveRmapPte, pteLock, pteUnlock, readPte, setPte } from "./rmap.js";
import { shmemZeroSetup } from "./shmem.js";

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_LOCKED = 0x2000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;

export const EINVAL = 22;
const EEXIST = 17;

export interface MmapArgs {
  /** A hint (or, with MAP_FIXED, the address); default: the next free range. */
  addr?: number;
  /** Bytes; rounded up to pages. */
  length: number;
  prot: number;
  flags: number;
  /** The file, shmem or memfd object to map (not with MAP_ANONYMOUS). */
  file?: AddressSpace;
  /** File page offset of the first page (`offset >> PAGE_SHIFT`). */
  pgoff?: number;
  /**
   * mTHP order (0: small folios only). Private anonymous: the vma's fault order.
   * Shared anonymous: the order of the shmem object behind it (the per-size
   * `shmem_enabled` control). A file, shmem or memfd mapping takes its folio sizes from
   * the object (`memfdCreate` / `createFile` `folioOrder`): an order here is a ModelError.
   */
  folioOrder?: number;
}

function pageAlignUp(n: number): number {
  return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

function overlaps(mm: MmStruct, start: number, end: number): Vma[] {
  return mm.vmas.filter((v) => v.start < end && v.end > start).sort((a, b) => a.start - b.start);
}

/** Insert or remove vmas (the maple tree write), one step under mmap_lock for writing. */
export function vmaTreeOp(mm: MmStruct, label: string, fn: () => void, extra: Vma[] = []): Op<void> {
  return op({
    kind: "vma_tree",
    label,
    writes: [mm, ...extra],
    cost: "lock",
    run: (m) => {
      fn();
      mm.vmas.sort((a, b) => a.start - b.start);
      m.markWrite(mm);
      for (const v of extra) m.markWrite(v);
    },
  });
}

/** `__split_vma(vmi, vma, addr, new_below=0)`: `vma` keeps `[start, addr)`, the new vma gets `[addr, end)`. */
export function* splitVma(vma: Vma, addr: number): TaskGen<Vma> {
  if (addr <= vma.start || addr >= vma.end || addr % PAGE_SIZE !== 0) throw new MmModelError("__split_vma", vma.describe(), `cannot split at ${hexAddr(addr)}`);
  const mm = vma.mm;
  const upper = new Vma(mm, addr, vma.end, vma.flags, vma.file, vma.pgoff + ((addr - vma.start) >> 12), vma.folioOrder);
  yield* vmaTreeOp(
    mm,
    "__split_vma",
    () => {
      vma.end = addr;
      mm.vmas.push(upper);
    },
    [vma, upper],
  );
  return upper;
}

/** Split vmas so that `[start, end)` is covered by whole vmas; returns them in address order. */
export function* splitRange(mm: MmStruct, start: number, end: number): TaskGen<Vma[]> {
  for (const v of overlaps(mm, start, end)) {
    if (v.start < start) yield* splitVma(v, start);
  }
  for (const v of overlaps(mm, start, end)) {
    if (v.end > end) yield* splitVma(v, end);
  }
  return overlaps(mm, start, end);
}

/**
 * `mmap(addr, length, prot, flags, fd, offset)`: returns the mapped address, -EEXIST
 * (MAP_FIXED_NOREPLACE over a mapping) or -EINVAL (an unaligned fixed address; a hint is
 * rounded up to a page). Misuse
 * (no or both of MAP_SHARED/MAP_PRIVATE, a file with MAP_ANONYMOUS or none without,
 * zero length) is a ModelError.
 */
export function mmap(mm: MmStruct, args: MmapArgs): TaskGen<number> {
  return traced("do_mmap", mmapBody(mm, args));
}

function* mmapBody(mm: MmStruct, args: MmapArgs): TaskGen<number> {
  const len = pageAlignUp(args.length);
  const shared = (args.flags & MAP_SHARED) !== 0;
  const anon = (args.flags & MAP_ANONYMOUS) !== 0;
  const where = `${mm.name} mmap(${args.addr !== undefined ? hexAddr(args.addr) : "NULL"}, ${args.length})`;
  if (len <= 0) throw new MmModelError("mmap", where, "zero length");
  if (shared === ((args.flags & MAP_PRIVATE) !== 0)) throw new MmModelError("mmap", where, "exactly one of MAP_SHARED and MAP_PRIVATE is required");
  if (anon && args.file) throw new MmModelError("mmap", where, "MAP_ANONYMOUS with a file");
  if (!anon && !args.file) throw new MmModelError("mmap", where, "a file mapping needs a file");
  if ((args.folioOrder ?? 0) > 0 && !anon) {
    // The object decides a file mapping's folio sizes; an order here would be ignored.
    throw new MmModelError("mmap", where, `folio order ${args.folioOrder} on a mapping of ${args.file?.name}: a file, shmem or memfd mapping's folio sizes come from the object (give the order to memfd_create or the file instead)`);
  }
  const fixed = (args.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  if (fixed && args.addr !== undefined && args.addr % PAGE_SIZE !== 0) return -EINVAL;
  if (fixed && args.addr === undefined) throw new MmModelError("mmap", where, "MAP_FIXED needs an address");
  // A hint is rounded up to a page boundary (generic_mmap_hint / generic_get_unmapped_area: addr = PAGE_ALIGN(addr)).
  const hint = args.addr === undefined || fixed ? args.addr : pageAlignUp(args.addr);
  yield* mmapWriteLock(mm);
  let addr: number;
  if (hint !== undefined && overlaps(mm, hint, hint + len).length > 0) {
    if (args.flags & MAP_FIXED_NOREPLACE) {
      yield* mmapWriteUnlock(mm);
      return -EEXIST;
    }
    if (args.flags & MAP_FIXED) {
      yield* doVmiMunmap(mm, hint, hint + len);
      addr = hint;
    } else addr = freeRange(mm, len);
  } else addr = hint ?? freeRange(mm, len);
  let flags = mm.defFlags;
  if (args.prot & PROT_READ) flags |= VM_READ;
  if (args.prot & PROT_WRITE) flags |= VM_WRITE;
  if (args.prot & PROT_EXEC) flags |= VM_EXEC;
  if (shared) flags |= VM_SHARED;
  if (args.flags & MAP_LOCKED) flags |= VM_LOCKED;
  let file = args.file ?? null;
  let pgoff = args.pgoff ?? 0;
  if (anon && shared) {
    file = shmemZeroSetup(mm.machine, mm.memory, mm.name, len / PAGE_SIZE, args.folioOrder ?? 0);
    pgoff = 0;
  } else if (anon) pgoff = addr / PAGE_SIZE;
  const vma = new Vma(mm, addr, addr + len, flags, file, pgoff, anon && !shared ? (args.folioOrder ?? 0) : 0);
  yield* vmaTreeOp(
    mm,
    "mmap_region",
    () => {
      mm.vmas.push(vma);
      if (flags & VM_LOCKED) mm.lockedVm += len / PAGE_SIZE;
    },
    [vma],
  );
  mm.machine.event("mmap").arg("mm", mm.name).arg("addr", hexAddr(addr)).arg("len", len).arg("flags", "0x" + flags.toString(16)).arg("file", file?.name ?? "anon");
  yield* mmapWriteUnlock(mm);
  if ((flags & VM_LOCKED && !(flags & VM_LOCKONFAULT)) || args.flags & MAP_POPULATE) yield* mmPopulate(mm, addr, len);
  return addr;
}

export function freeRange(mm: MmStruct, len: number): number {
  let addr = mm.mmapBase;
  for (;;) {
    const clash = overlaps(mm, addr, addr + len);
    if (clash.length === 0) break;
    addr = Math.max(...clash.map((v) => v.end)) + PAGE_SIZE; // leave a guard gap
  }
  mm.mmapBase = addr + len + PAGE_SIZE;
  return addr;
}

/**
 * `__mm_populate(start, len, ignore_errors)`: fault in every page of the range's vmas,
 * under mmap_lock for reading, skipping VM_IO/VM_PFNMAP, VM_LOCKONFAULT and PROT_NONE vmas
 * (`populate_vma_page_range`); a write fault for private writable vmas (to break
 * COW), a read fault otherwise. Returns 0, or -ENOMEM if a fault failed.
 */
export function mmPopulate(mm: MmStruct, start: number, len: number): TaskGen<number> {
  return traced("__mm_populate", mmPopulateBody(mm, start, len));
}

function* mmPopulateBody(mm: MmStruct, start: number, len: number): TaskGen<number> {
  const end = start + len;
  yield* mmapReadLock(mm);
  let err = 0;
  for (const vma of overlaps(mm, start, end)) {
    if (vma.flags & (VM_IO | VM_PFNMAP) || vma.flags & VM_LOCKONFAULT) continue;
    // populate_vma_page_range: a PROT_NONE vma fails check_vma_flags (-EFAULT), which
    // __mm_populate's callers (mlock, MAP_POPULATE) ignore.
    if (!(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) continue;
    const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    for (let a = Math.max(start, vma.start); a < Math.min(end, vma.end); a += PAGE_SIZE) {
      for (let tries = 0; tries < 100; tries++) {
        const p = yield* readPte(mm.slot(a), "follow_page_pte");
        if (p.kind === "present" && (!write || p.writable)) break;
        const ret = yield* handleMmFault(mm, a, write ? FAULT_FLAG_WRITE : 0);
        if (ret & VM_FAULT_ERROR) {
          err = -12;
          break;
        }
      }
    }
  }
  yield* mmapReadUnlock(mm);
  return err;
}

/**
 * `munmap(addr, length)`: returns 0; -EINVAL for an unaligned address or an empty
 * range. A range no vma covers returns 0 with nothing unmapped (`do_vmi_munmap`).
 */
export function munmap(mm: MmStruct, addr: number, length: number): TaskGen<number> {
  return traced("do_munmap", munmapBody(mm, addr, length));
}

function* munmapBody(mm: MmStruct, addr: number, length: number): TaskGen<number> {
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  const end = addr + pageAlignUp(length);
  if (end === addr) return -EINVAL;
  yield* mmapWriteLock(mm);
  if (overlaps(mm, addr, end).length === 0) {
    // do_vmi_munmap: no vma overlaps [start, end): mmap_write_unlock(), return 0.
    yield* mmapWriteUnlock(mm);
    return 0;
  }
  yield* doVmiMunmap(mm, addr, end);
  mm.machine.event("munmap").arg("mm", mm.name).arg("addr", hexAddr(addr)).arg("len", end - addr);
  yield* mmapWriteUnlock(mm);
  return 0;
}

/**
 * `do_vmi_munmap` (mmap_lock held for writing): split the vmas at the range's edges,
 * zap them inside one MMU_NOTIFY_UNMAP invalidation (`unmap_vmas`), remove them.
 */
export function* doVmiMunmap(mm: MmStruct, addr: number, end: number): TaskGen<void> {
  const vmas = yield* splitRange(mm, addr, end);
  // unmap_vmas: one MMU_NOTIFY_UNMAP invalidation around the zap of every vma.
  const notified = yield* mmuNotifierInvalidateStart(mm, addr, end, "MMU_NOTIFY_UNMAP");
  for (const vma of vmas) yield* zapVmaRange(vma, vma.start, vma.end);
  yield* mmuNotifierInvalidateEnd(mm, notified);
  yield* vmaTreeOp(mm, "vms_complete_munmap_vmas", () => {
    for (const v of vmas) {
      const i = mm.vmas.indexOf(v);
      if (i >= 0) mm.vmas.splice(i, 1);
      if (v.flags & VM_LOCKED) mm.lockedVm -= v.pages;
    }
  }, vmas);
}

/** The reference an up-to-6.14 device-exclusive entry held, handed to the zap's put (model bookkeeping, no count change). */
function dropExclusiveEntryRef(folio: Folio): Op<void> {
  return op({
    kind: "rmap_remove",
    label: "zap_nonpresent_ptes",
    writes: [folio.map],
    cost: "plain",
    run: (m) => {
      transferHolder(folio, DEVICE_EXCLUSIVE_HOLDER, TRANSIENT_HOLDER, 1);
      m.markWrite(folio.map);
    },
  });
}

/**
 * `zap_pte_range` over `[start, end)` of `vma`, one page-table page (PTE lock) at a
 * time: clear each entry; a present, device-private or device-exclusive entry loses its
 * rmap (munlock in a VM_LOCKED vma; a dirty PTE dirties a file folio) and its reference
 * is put once the lock is dropped (`tlb_finish_mmu`); an up-to-6.14 device-exclusive
 * entry has no rmap, only its reference. Migration entries hold nothing and are cleared.
 */
export function zapVmaRange(vma: Vma, start: number, end: number): TaskGen<void> {
  return traced("unmap_vmas", zapBody(vma, start, end));
}

function* zapBody(vma: Vma, start: number, end: number): TaskGen<void> {
  const mm = vma.mm;
  const span = PAGE_SIZE * PTRS_PER_PTE;
  for (let table = Math.floor(start / span) * span; table < end; table += span) {
    const lo = Math.max(start, table);
    const hi = Math.min(end, table + span);
    const slots = [];
    for (let a = lo; a < hi; a += PAGE_SIZE) {
      const s = mm.ptes.get(a / PAGE_SIZE);
      if (s && s.pte.kind !== "none") slots.push(s);
    }
    if (slots.length === 0) continue;
    const toPut: Folio[] = [];
    yield* pteLock(mm, lo);
    for (const slot of slots) {
      const p = yield* readPte(slot, "ptep_get_and_clear_full");
      if (p.kind === "none") continue;
      yield* setPte(slot, { kind: "none" }, "ptep_get_and_clear_full");
      if (p.kind === "migration") continue;
      if (p.kind === "present" && p.dirty && !folioTestAnon(p.folio)) yield* folioMarkDirty(p.folio);
      if (p.kind === "device-exclusive" && !p.mapped) {
        // ≤ 6.14 zap_nonpresent_ptes: no rmap to remove, only the entry's reference.
        yield* dropExclusiveEntryRef(p.folio);
        toPut.push(p.folio);
        continue;
      }
      yield* folioRemoveRmapPte(p.folio, vma);
      toPut.push(p.folio);
    }
    yield* pteUnlock(mm, lo);
    for (const f of toPut) yield* folioPut(f, TRANSIENT_HOLDER, "tlb_finish_mmu");
  }
}
