/**
 * mremap(2) (mm/mremap.c `SYSCALL_DEFINE5(mremap)` → `do_mremap`, `mremap_to`,
 * `vma_to_resize` / `resize_is_valid`, `vma_expandable`, `move_vma`,
 * `move_page_tables` → `move_ptes`).
 *
 * Under mmap_lock for writing:
 * - shrinking unmaps the tail (`do_vmi_munmap`) and returns the old address;
 * - growing in place extends the vma when the pages after it are free
 *   (`vma_expandable`); a VM_LOCKED vma's new pages are populated afterwards;
 * - otherwise, with MREMAP_MAYMOVE (or at MREMAP_FIXED's `new_addr`, whose range is
 *   unmapped first), `move_vma` creates the new vma (same flags, file and page offset,
 *   so anonymous folios keep their index) and `move_page_tables` moves every entry,
 *   inside one MMU_NOTIFY_UNMAP invalidation of the old range, holding both PTE locks:
 *   the entry is cleared at the old address and set at the new one in one step. The
 *   folios do not change: their references, mapcounts, pins (a pinned page stays
 *   pinned and readable through the pin; the process now reaches it at the new
 *   address), mlock state and LRU batch membership are untouched; device mirrors drop
 *   the old range on the invalidation. The old vma is then unmapped, or, with
 *   MREMAP_DONTUNMAP, kept empty (VM_LOCKED cleared) so a later access faults afresh
 *   (a zero-filled page for private anonymous memory; the same page-cache or shmem
 *   page for a file or shared mapping).
 *
 * Return values as the kernel's: the (new) address; -EINVAL for an unaligned address,
 * zero `new_len`, unknown flags, MREMAP_FIXED or MREMAP_DONTUNMAP without
 * MREMAP_MAYMOVE, MREMAP_DONTUNMAP on a VM_DONTEXPAND/VM_PFNMAP vma or with a size change,
 * overlapping old and new ranges; -EFAULT when the old range is not inside one vma;
 * -ENOMEM when the vma cannot grow in place and may not move.
 *
 * Simplifications: no vma merging, no accounting limits (RLIMIT_MEMLOCK, overcommit),
 * `old_len == 0` (a second mapping of a shared vma) is -EINVAL for every mapping; the
 * PTEs move one at a time (no PMD moves).
 */

import { VM_DONTEXPAND, VM_LOCKED, VM_PFNMAP } from "@foliosim/folio";
import { noteRead, op, traced, type Op, type TaskGen } from "@foliosim/sim";
import { MmModelError, PAGE_SIZE, Vma, findVma, hexAddr, mmapWriteLock, mmapWriteUnlock, type MmStruct, type PteSlot } from "./mm-types.js";
import { VM_LOCKED_MASK } from "./mlock.js";
import { doVmiMunmap, freeRange, mmPopulate, splitRange, vmaTreeOp } from "./mmap.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { pteLock, pteUnlock } from "./rmap.js";

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

const EINVAL = -22;
const EFAULT = -14;
const ENOMEM = -12;

const pageAlign = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** `mremap(addr, old_len, new_len, flags, new_addr)`: the new address or a negative errno. */
export function mremap(mm: MmStruct, addr: number, oldLen: number, newLen: number, flags: number, newAddr?: number): TaskGen<number> {
  return traced("do_mremap", mremapBody(mm, addr, pageAlign(oldLen), pageAlign(newLen), flags, newAddr));
}

/** The checks `do_mremap` makes before taking mmap_lock (`check_mremap_params`). */
function checkParams(addr: number, oldLen: number, newLen: number, flags: number, newAddr: number | undefined): number {
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return EINVAL;
  if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) && !(flags & MREMAP_MAYMOVE)) return EINVAL;
  if (flags & MREMAP_DONTUNMAP && oldLen !== newLen) return EINVAL;
  if (addr % PAGE_SIZE !== 0 || newLen === 0 || oldLen === 0) return EINVAL;
  if (flags & MREMAP_FIXED) {
    if (newAddr === undefined || newAddr % PAGE_SIZE !== 0) return EINVAL;
    if (newAddr < addr + oldLen && addr < newAddr + newLen) return EINVAL; // the ranges overlap
  }
  return 0;
}

function* mremapBody(mm: MmStruct, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number | undefined): TaskGen<number> {
  const bad = checkParams(addr, oldLen, newLen, flags, newAddr);
  if (bad) return bad;
  yield* mmapWriteLock(mm);
  const r = yield* mremapLocked(mm, addr, oldLen, newLen, flags, newAddr);
  mm.machine.event("mremap").arg("mm", mm.name).arg("addr", hexAddr(addr)).arg("oldLen", oldLen).arg("newLen", newLen).arg("ret", r.ret >= 0 ? hexAddr(r.ret) : r.ret);
  yield* mmapWriteUnlock(mm);
  if (r.populate) yield* mmPopulate(mm, r.populate.start, r.populate.len);
  return r.ret;
}

interface Outcome {
  ret: number;
  /** A VM_LOCKED vma grew: populate its new pages once mmap_lock is dropped. */
  populate?: { start: number; len: number };
}

function* mremapLocked(mm: MmStruct, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number | undefined): TaskGen<Outcome> {
  const vma = findVma(mm, addr);
  if (!vma || addr + oldLen > vma.end) return { ret: EFAULT }; // resize_is_valid
  if (flags & MREMAP_DONTUNMAP && vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return { ret: EINVAL };
  if (flags & MREMAP_FIXED) return yield* mremapTo(mm, addr, oldLen, newLen, flags, newAddr!);
  if (flags & MREMAP_DONTUNMAP) return yield* moveVma(mm, addr, oldLen, newLen, freeRange(mm, newLen), flags);
  if (oldLen >= newLen) {
    if (oldLen > newLen) yield* doVmiMunmap(mm, addr + newLen, addr + oldLen);
    return { ret: addr };
  }
  if (addr + oldLen === vma.end && vmaExpandable(mm, vma, newLen - oldLen)) {
    yield* vmaTreeOp(mm, "vma_expand", () => {
      vma.end = addr + newLen;
      if (vma.flags & VM_LOCKED) mm.lockedVm += (newLen - oldLen) / PAGE_SIZE;
    }, [vma]);
    return { ret: addr, populate: vma.flags & VM_LOCKED ? { start: addr + oldLen, len: newLen - oldLen } : undefined };
  }
  if (!(flags & MREMAP_MAYMOVE)) return { ret: ENOMEM };
  const target = freeRange(mm, newLen);
  return yield* moveVma(mm, addr, oldLen, newLen, target, flags);
}

/** `vma_expandable`: nothing is mapped in the `delta` bytes after the vma. */
function vmaExpandable(mm: MmStruct, vma: Vma, delta: number): boolean {
  return !mm.vmas.some((v) => v !== vma && v.start < vma.end + delta && v.end > vma.end);
}

/** `mremap_to`: unmap the target range, shrink the source if asked, move. */
function* mremapTo(mm: MmStruct, addr: number, oldLen: number, newLen: number, flags: number, newAddr: number): TaskGen<Outcome> {
  if (mm.vmas.some((v) => v.start < newAddr + newLen && v.end > newAddr)) yield* doVmiMunmap(mm, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    yield* doVmiMunmap(mm, addr + newLen, addr + oldLen);
    oldLen = newLen;
  }
  return yield* moveVma(mm, addr, oldLen, newLen, newAddr, flags);
}

/**
 * `move_vma`: a new vma at `to` (`copy_vma`), the page tables moved
 * (`move_page_tables`), then the old range unmapped — or, with MREMAP_DONTUNMAP, left
 * in place empty and unlocked.
 */
function* moveVma(mm: MmStruct, from: number, oldLen: number, newLen: number, to: number, flags: number): TaskGen<Outcome> {
  const [old] = yield* splitRange(mm, from, from + oldLen);
  if (!old) throw new MmModelError("move_vma", `${mm.name} address ${hexAddr(from)}`, "no vma to move");
  const moved = new Vma(mm, to, to + newLen, old.flags, old.file, old.pgoff, old.folioOrder);
  yield* vmaTreeOp(mm, "copy_vma", () => {
    mm.vmas.push(moved);
    if (moved.flags & VM_LOCKED) mm.lockedVm += newLen / PAGE_SIZE;
  }, [moved]);
  yield* moveLocked(mm, from, from + oldLen, to);
  if (flags & MREMAP_DONTUNMAP) {
    yield* vmaTreeOp(mm, "vm_flags_clear", () => {
      if (old.flags & VM_LOCKED) mm.lockedVm -= old.pages;
      old.flags &= ~VM_LOCKED_MASK;
    }, [old]);
  } else yield* doVmiMunmap(mm, from, from + oldLen);
  const grew = newLen > oldLen && moved.flags & VM_LOCKED;
  return { ret: to, populate: grew ? { start: to + oldLen, len: newLen - oldLen } : undefined };
}

/** `move_page_tables` inside one MMU_NOTIFY_UNMAP invalidation of the old range. */
function* moveLocked(mm: MmStruct, start: number, end: number, to: number): TaskGen<number> {
  const notified = yield* mmuNotifierInvalidateStart(mm, start, end, "MMU_NOTIFY_UNMAP");
  const moved = yield* traced("move_page_tables", movePageTables(mm, start, end, to));
  yield* mmuNotifierInvalidateEnd(mm, notified);
  return moved;
}

/** `move_ptes`, one entry at a time under both PTE locks: the number of entries moved. */
export function* movePageTables(mm: MmStruct, start: number, end: number, to: number): TaskGen<number> {
  let moved = 0;
  for (let a = start; a < end; a += PAGE_SIZE) {
    const src = mm.ptes.get(a / PAGE_SIZE);
    if (src) noteRead(src); // read with the step before (mmap_lock held for writing)
    if (!src || src.pte.kind === "none") continue;
    const dstAddr = to + (a - start);
    const dst = mm.slot(dstAddr);
    const sameTable = mm.ptl(a) === mm.ptl(dstAddr);
    yield* pteLock(mm, a);
    if (!sameTable) yield* pteLock(mm, dstAddr);
    moved += yield* movePte(src, dst);
    if (!sameTable) yield* pteUnlock(mm, dstAddr);
    yield* pteUnlock(mm, a);
  }
  return moved;
}

/** `ptep_get_and_clear` at the old address and `set_pte_at` at the new one (both PTE locks held). */
function movePte(src: PteSlot, dst: PteSlot): Op<number> {
  return op({
    kind: "set_pte",
    label: "move_ptes",
    writes: [src, dst],
    cost: "plain",
    run: (m) => {
      const p = src.pte;
      if (p.kind === "none") return 0;
      if (dst.pte.kind !== "none") throw new MmModelError("move_ptes", dst.name, "the target entry is not empty");
      if (p.kind !== "migration") m.event("move_pte", p.folio.name).arg("from", hexAddr(src.addr)).arg("to", hexAddr(dst.addr));
      dst.pte = p;
      src.pte = { kind: "none" };
      m.markWrite(src);
      m.markWrite(dst);
      return 1;
    },
  });
}
