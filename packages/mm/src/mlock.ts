/**
 * The system-call half of mm/mlock.c: `mlock`, `mlock2` (MLOCK_ONFAULT), `munlock`,
 * `mlockall` (MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT), `munlockall`, and their
 * helpers `do_mlock`, `apply_vma_lock_flags`, `apply_mlockall_flags`, `mlock_fixup`,
 * `mlock_vma_pages_range` and its page walk `mlock_pte_range`. The batches
 * (`mlock_folio`, `munlock_folio`, `mlock_fbatch`) are @foliosim/lru's.
 *
 * `mlock_vma_pages_range` sets the new flags with VM_IO added while it walks (so a
 * concurrent rmap addition's `mlock_vma_folio` skips the vma and the count is not
 * doubled), drains this CPU's batches before and after the walk (`lru_add_drain`),
 * and calls `mlock_folio` (or `munlock_folio`) once per present folio. A vma that is
 * already VM_LOCKED only gets its flags updated (mlocking twice would double-count).
 * VM_LOCKONFAULT vmas are not populated: only the pages already present, and those
 * faulted later, are mlocked.
 *
 * Simplifications: RLIMIT_MEMLOCK and capabilities are not checked; vmas are not
 * merged after the flags change; the walk takes each PTE lock per page-table page.
 */

import { VM_IO, VM_LOCKED, VM_LOCKONFAULT, VM_SPECIAL, folioNrPages, folioTestLarge, type Folio } from "@foliosim/folio";
import { lruAddDrain, mlockFolio, munlockFolio } from "@foliosim/lru";
import { op, traced, type TaskGen } from "@foliosim/sim";
import { ENOMEM } from "./filemap.js";
import { PAGE_SIZE, PTRS_PER_PTE, mmapWriteLock, mmapWriteUnlock, type MmStruct, type Vma } from "./mm-types.js";
import { EINVAL, mmPopulate, splitRange } from "./mmap.js";
import { pteLock, pteUnlock, readPte } from "./rmap.js";

export const MLOCK_ONFAULT = 0x01;
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;

/** `VM_LOCKED_MASK`. */
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

/** `mlock(start, len)`: 0, or -ENOMEM if part of the range is not mapped. */
export function mlock(mm: MmStruct, start: number, len: number): TaskGen<number> {
  return traced("mlock", doMlock(mm, start, len, VM_LOCKED));
}

/** `mlock2(start, len, flags)`: with MLOCK_ONFAULT the vmas become VM_LOCKED|VM_LOCKONFAULT and are not populated. */
export function mlock2(mm: MmStruct, start: number, len: number, flags: number): TaskGen<number> {
  if (flags & ~MLOCK_ONFAULT) return traced("mlock2", einval());
  return traced("mlock2", doMlock(mm, start, len, flags & MLOCK_ONFAULT ? VM_LOCKED | VM_LOCKONFAULT : VM_LOCKED));
}

// eslint-disable-next-line require-yield
function* einval(): TaskGen<number> {
  return -EINVAL;
}

/** `munlock(start, len)`. */
export function munlock(mm: MmStruct, start: number, len: number): TaskGen<number> {
  return traced("munlock", munlockBody(mm, start, len));
}

function* munlockBody(mm: MmStruct, start: number, len: number): TaskGen<number> {
  const [s, l] = alignRange(start, len);
  yield* mmapWriteLock(mm);
  const ret = yield* applyVmaLockFlags(mm, s, l, 0);
  yield* mmapWriteUnlock(mm);
  return ret;
}

function alignRange(start: number, len: number): [number, number] {
  const s = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
  const e = Math.ceil((start + len) / PAGE_SIZE) * PAGE_SIZE;
  return [s, e - s];
}

/** `do_mlock`: apply the flags under mmap_lock for writing, then `__mm_populate`. */
function* doMlock(mm: MmStruct, start: number, len: number, flags: number): TaskGen<number> {
  const [s, l] = alignRange(start, len);
  yield* mmapWriteLock(mm);
  const err = yield* applyVmaLockFlags(mm, s, l, flags);
  yield* mmapWriteUnlock(mm);
  if (err) return err;
  const populated = yield* mmPopulate(mm, s, l);
  return populated < 0 ? -ENOMEM : 0;
}

/** `apply_vma_lock_flags`: -ENOMEM unless vmas cover the whole range without holes. */
function* applyVmaLockFlags(mm: MmStruct, start: number, len: number, flags: number): TaskGen<number> {
  const end = start + len;
  // The range must be fully mapped (checked before anything changes).
  let cursor = start;
  for (const v of [...mm.vmas].sort((a, b) => a.start - b.start)) {
    if (v.end <= cursor || v.start >= end) continue;
    if (v.start > cursor) return -ENOMEM;
    cursor = v.end;
  }
  if (cursor < end) return -ENOMEM;
  const vmas = [...mm.vmas].filter((v) => v.start < end && v.end > start).sort((a, b) => a.start - b.start);
  for (const vma of vmas) {
    const newflags = (vma.flags & ~VM_LOCKED_MASK) | flags;
    yield* mlockFixup(vma, Math.max(start, vma.start), Math.min(end, vma.end), newflags);
  }
  return 0;
}

/**
 * `mlock_fixup(vmi, vma, &prev, start, end, newflags)`: split the vma to `[start, end)`,
 * account `locked_vm`, and either just update the flags (already VM_LOCKED before and
 * after) or walk the pages (`mlock_vma_pages_range`). VM_SPECIAL vmas are left alone.
 */
export function* mlockFixup(vma: Vma, start: number, end: number, newflags: number): TaskGen<void> {
  const oldflags = vma.flags;
  if (newflags === oldflags || oldflags & VM_SPECIAL) return;
  const [target] = yield* splitRange(vma.mm, start, end);
  const mm = vma.mm;
  const pages = target.pages;
  if (newflags & VM_LOCKED && !(oldflags & VM_LOCKED)) mm.lockedVm += pages;
  else if (!(newflags & VM_LOCKED) && oldflags & VM_LOCKED) mm.lockedVm -= pages;
  if (newflags & VM_LOCKED && oldflags & VM_LOCKED) {
    yield* vmFlagsReset(target, newflags);
  } else {
    yield* mlockVmaPagesRange(target, start, end, newflags);
  }
}

function vmFlagsReset(vma: Vma, flags: number) {
  return op({
    kind: "vm_flags_reset",
    label: "vm_flags_reset_once",
    writes: [vma],
    cost: "plain",
    run: (m) => {
      vma.flags = flags;
      m.markWrite(vma);
    },
  });
}

/**
 * `mlock_vma_pages_range(vma, start, end, newflags)`: set the flags (with VM_IO while
 * walking, when locking), `lru_add_drain`, walk the present PTEs calling `mlock_folio`
 * (vma now VM_LOCKED) or `munlock_folio` once per folio, `lru_add_drain`, drop VM_IO.
 */
export function mlockVmaPagesRange(vma: Vma, start: number, end: number, newflags: number): TaskGen<void> {
  return traced("mlock_vma_pages_range", mlockVmaPagesRangeBody(vma, start, end, newflags));
}

function* mlockVmaPagesRangeBody(vma: Vma, start: number, end: number, newflags: number): TaskGen<void> {
  let flags = newflags;
  if (flags & VM_LOCKED) flags |= VM_IO;
  yield* vmFlagsReset(vma, flags);
  yield* lruAddDrain();
  yield* traced("walk_page_range", mlockWalk(vma, start, end));
  yield* lruAddDrain();
  if (flags & VM_IO) yield* vmFlagsReset(vma, flags & ~VM_IO);
}

/** `mlock_pte_range` over every page-table page of the range. */
function* mlockWalk(vma: Vma, start: number, end: number): TaskGen<void> {
  const mm = vma.mm;
  const span = PAGE_SIZE * PTRS_PER_PTE;
  const seen = new Set<Folio>();
  for (let table = Math.floor(start / span) * span; table < end; table += span) {
    const lo = Math.max(start, table);
    const hi = Math.min(end, table + span);
    let locked = false;
    for (let a = lo; a < hi; a += PAGE_SIZE) {
      const slot = mm.ptes.get(a / PAGE_SIZE);
      if (!slot) continue;
      if (!locked) {
        yield* pteLock(mm, lo);
        locked = true;
      }
      const p = yield* readPte(slot, "mlock_pte_range");
      if (p.kind !== "present") continue;
      const folio = p.folio;
      if (folioTestLarge(folio)) {
        // Once per large folio, and only if the whole folio lies in the range.
        if (seen.has(folio)) continue;
        seen.add(folio);
        const first = a - p.page * PAGE_SIZE;
        if (first < start || first + folioNrPages(folio) * PAGE_SIZE > end) continue;
      }
      if (vma.flags & VM_LOCKED) yield* mlockFolio(folio);
      else yield* munlockFolio(folio);
    }
    if (locked) yield* pteUnlock(mm, lo);
  }
}

/**
 * `mlockall(flags)`: MCL_FUTURE sets `def_flags` (VM_LOCKED, plus VM_LOCKONFAULT with
 * MCL_ONFAULT) for later mmaps; MCL_CURRENT applies to every vma and populates unless
 * MCL_ONFAULT. -EINVAL for no flags, unknown flags, or MCL_ONFAULT alone.
 */
export function mlockall(mm: MmStruct, flags: number): TaskGen<number> {
  return traced("mlockall", mlockallBody(mm, flags));
}

function* mlockallBody(mm: MmStruct, flags: number): TaskGen<number> {
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) return -EINVAL;
  yield* mmapWriteLock(mm);
  yield* applyMlockallFlags(mm, flags);
  yield* mmapWriteUnlock(mm);
  if (flags & MCL_CURRENT && !(flags & MCL_ONFAULT)) {
    let start = Infinity;
    let end = 0;
    for (const v of mm.vmas) {
      start = Math.min(start, v.start);
      end = Math.max(end, v.end);
    }
    if (end > start) yield* mmPopulate(mm, start, end - start);
  }
  return 0;
}

/** `munlockall()`. */
export function munlockall(mm: MmStruct): TaskGen<number> {
  return traced("munlockall", munlockallBody(mm));
}

function* munlockallBody(mm: MmStruct): TaskGen<number> {
  yield* mmapWriteLock(mm);
  yield* applyMlockallFlags(mm, 0);
  yield* mmapWriteUnlock(mm);
  return 0;
}

/** `apply_mlockall_flags`. */
function* applyMlockallFlags(mm: MmStruct, flags: number): TaskGen<void> {
  mm.defFlags &= ~VM_LOCKED_MASK;
  if (flags & MCL_FUTURE) {
    mm.defFlags |= VM_LOCKED;
    if (flags & MCL_ONFAULT) mm.defFlags |= VM_LOCKONFAULT;
    if (!(flags & MCL_CURRENT)) return;
  }
  let toAdd = 0;
  if (flags & MCL_CURRENT) {
    toAdd |= VM_LOCKED;
    if (flags & MCL_ONFAULT) toAdd |= VM_LOCKONFAULT;
  }
  for (const vma of [...mm.vmas].sort((a, b) => a.start - b.start)) {
    const newflags = (vma.flags & ~VM_LOCKED_MASK) | toAdd;
    yield* mlockFixup(vma, vma.start, vma.end, newflags);
  }
}
