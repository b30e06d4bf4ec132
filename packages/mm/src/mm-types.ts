/**
 * Address spaces (include/linux/mm_types.h `struct mm_struct`, `struct vm_area_struct`;
 * include/linux/pgtable.h and include/linux/swapops.h for the PTE kinds; the
 * `mmap_lock` rwsem of include/linux/mmap_lock.h; the split page-table lock of
 * include/linux/mm.h `pte_offset_map_lock`).
 *
 * Simplifications:
 * - A page table is a map from virtual page number to one `PteSlot` per page (each a
 *   shared object of its own, so the explorer sees independent PTEs as independent).
 *   Entries are `none`, `present`, `migration`, `device-private` or
 *   `device-exclusive`; no PMD mappings, no swap entries other than those three, no
 *   zero page.
 * - The PTE lock is split per page-table page (one spinlock per 2 MiB of address
 *   space), as with `USE_SPLIT_PTE_PTLOCKS`.
 * - `mmap_lock` is a reader/writer semaphore without writer priority; there are no
 *   per-VMA locks (faults take `mmap_lock` for reading, as with
 *   CONFIG_PER_VMA_LOCK=n).
 * - VMAs are split by mlock/munmap but never merged back.
 * - Every mm of a machine is kept in a registry on the machine: the rmap walk
 *   (`anon_vma` / `i_mmap`) is a scan of every mm's page table.
 */

import type { Folio, Mapping, PhysicalMemory, VmaFlags } from "@foliosim/folio";
import { ModelError, RwSemaphore, Shared, SpinLock, downRwSem, upRwSem, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import type { AddressSpace } from "./filemap.js";

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Pages per page-table page (one split PTE lock each): 512 with 4 KiB pages. */
export const PTRS_PER_PTE = 512;

/** `hexAddr` by address: trace events and op labels name the same few addresses over and over. */
const HEX_ADDR = new Map<number, string>();

export function hexAddr(addr: number): string {
  let s = HEX_ADDR.get(addr);
  if (s === undefined) {
    if (HEX_ADDR.size >= 1 << 14) HEX_ADDR.clear();
    s = "0x" + addr.toString(16);
    HEX_ADDR.set(addr, s);
  }
  return s;
}

// ------------------------------------------------------------------------ PTEs

export interface PteNone {
  readonly kind: "none";
}

/** A present PTE mapping page `page` (0-based, within the folio) of `folio`. */
export interface PtePresent {
  readonly kind: "present";
  readonly folio: Folio;
  readonly page: number;
  readonly writable: boolean;
  readonly dirty: boolean;
  /**
   * A PROT_NONE entry (`pte_protnone`, after `mprotect(PROT_NONE)`): still mapped
   * (mapcount and reference held), but no user access, no GUP-fast, no hardware walk.
   */
  readonly protnone?: boolean;
}

/** A migration entry (include/linux/swapops.h `make_*_migration_entry`): holds no reference. */
export interface PteMigration {
  readonly kind: "migration";
  readonly folio: Folio;
  readonly page: number;
  readonly writable: boolean;
}

/** A device-private entry (`make_*_device_private_entry`): counts in mapcount and holds a reference. */
export interface PteDevicePrivate {
  readonly kind: "device-private";
  readonly folio: Folio;
  readonly page: number;
  readonly writable: boolean;
}

/**
 * A device-exclusive entry (include/linux/swapops.h `make_device_exclusive_entry`, set by
 * mm/rmap.c `make_device_exclusive`): the page stays in memory but no CPU access goes
 * through this PTE until a fault restores it (mm/memory.c
 * `remove_device_exclusive_entry`). It holds the reference the present PTE held.
 * `mapped`: whether it still counts in the folio's mapcount ("map" holder) — since
 * 6.15 (David Hildenbrand, "mm/rmap: keep mapcount untouched for device-exclusive
 * entries") it does; up to 6.14 `page_make_device_exclusive_one` removed the rmap and
 * the entry's reference is held by "device-exclusive". Up to 6.14 there are readable
 * and writable entries; since 6.15 one type, always `writable` (restoring it asks the
 * vma).
 */
export interface PteDeviceExclusive {
  readonly kind: "device-exclusive";
  readonly folio: Folio;
  readonly page: number;
  readonly writable: boolean;
  readonly mapped: boolean;
}

export type Pte = PteNone | PtePresent | PteMigration | PteDevicePrivate | PteDeviceExclusive;
export type PteKind = Pte["kind"];

export const PTE_NONE: PteNone = Object.freeze({ kind: "none" });

/** One page-table entry: a shared object of its own. */
export class PteSlot extends Shared {
  pte: Pte = PTE_NONE;
  constructor(
    readonly mm: MmStruct,
    readonly addr: number,
  ) {
    super(`${mm.name} pte ${hexAddr(addr)}`);
  }
  override stateDigest(): string {
    return formatPte(this.pte);
  }
}

/** `pte_t` text for traces and reports. */
export function formatPte(p: Pte): string {
  switch (p.kind) {
    case "none":
      return "none";
    case "present":
      return `present(${p.folio.name}+${p.page}${p.writable ? " w" : ""}${p.dirty ? " d" : ""}${p.protnone ? " protnone" : ""})`;
    case "device-exclusive":
      return `${p.kind}(${p.folio.name}+${p.page}${p.writable ? " w" : ""}${p.mapped ? "" : " unmapped"})`;
    default:
      return `${p.kind}(${p.folio.name}+${p.page}${p.writable ? " w" : ""})`;
  }
}

// ------------------------------------------------------------------------ VMAs

/** `struct vm_area_struct`. A shared object: rmap walks read `vm_flags` without mmap_lock. */
export class Vma extends Shared implements VmaFlags {
  /** `vm_flags`. */
  flags: number;
  /** `vm_pgoff`: file page offset of `start` (for anonymous VMAs, `start >> PAGE_SHIFT`). */
  pgoff: number;
  /** Order of the folios anonymous faults allocate (mTHP: `/sys/kernel/mm/transparent_hugepage/hugepages-*`). */
  folioOrder: number;
  constructor(
    readonly mm: MmStruct,
    public start: number,
    public end: number,
    flags: number,
    /** `vm_file->f_mapping`, or null for private anonymous memory. */
    readonly file: AddressSpace | null,
    pgoff: number,
    folioOrder = 0,
  ) {
    super(`${mm.name} vma ${hexAddr(start)}-${hexAddr(end)}`);
    this.flags = flags;
    this.pgoff = pgoff;
    this.folioOrder = folioOrder;
  }
  get pages(): number {
    return (this.end - this.start) >> PAGE_SHIFT;
  }
  contains(addr: number): boolean {
    return addr >= this.start && addr < this.end;
  }
  /** `linear_page_index`: the file (or anonymous) page index of `addr`. */
  linearPageIndex(addr: number): number {
    return ((addr - this.start) >> PAGE_SHIFT) + this.pgoff;
  }
  /** `vma_is_anonymous`. */
  get isAnonymous(): boolean {
    return this.file === null;
  }
  describe(): string {
    return `vma ${hexAddr(this.start)}-${hexAddr(this.end)} of ${this.mm.name}`;
  }
}

// ------------------------------------------------------------------------ mm_struct

/**
 * `mmap_lock`: a reader/writer semaphore (kernel/locking/rwsem.c, the sim's
 * `RwSemaphore`), sleeping when contended. Readers update their count commutatively,
 * so two faults or pins taking it for reading never order each other.
 */
export class MmapLock extends RwSemaphore {}

export class MmStruct extends Shared {
  /**
   * Footprint checking (@foliosim/sim): the page-table slots and locks, made on first
   * use, and the model's cursor for new mappings' addresses are the model's bookkeeping.
   */
  static readonly untrackedState: readonly string[] = ["ptes", "ptls", "mmapBase"];
  readonly vmas: Vma[] = [];
  /** Page table: virtual page number → entry. */
  readonly ptes = new Map<number, PteSlot>();
  /** Split PTE locks: page-table page index → lock. */
  readonly ptls = new Map<number, SpinLock>();
  readonly mmapLock: MmapLock;
  /** `mm->def_flags` (VM_LOCKED | VM_LOCKONFAULT after `mlockall(MCL_FUTURE)`). */
  defFlags = 0;
  /** `mm->locked_vm`, in pages. */
  lockedVm = 0;
  /** The anon_vma every anonymous folio of this mm points to (`folio->mapping`). */
  readonly anon: Mapping;
  /** Next address `mmap` hands out when none is asked for (bottom-up). */
  mmapBase = 0x10000000;
  constructor(
    readonly machine: Machine,
    readonly memory: PhysicalMemory,
    name: string,
  ) {
    super(name);
    this.mmapLock = new MmapLock(`${name} mmap_lock`);
    this.anon = { name: `anon_vma ${name}`, kind: "anon" };
  }

  /** The entry for `addr` (created empty on first use: an unpopulated page-table slot). */
  slot(addr: number): PteSlot {
    const vpn = Math.floor(addr / PAGE_SIZE);
    let s = this.ptes.get(vpn);
    if (!s) {
      s = new PteSlot(this, vpn * PAGE_SIZE);
      this.ptes.set(vpn, s);
    }
    return s;
  }

  /** The split PTE lock covering `addr` (`pte_lockptr`). */
  ptl(addr: number): SpinLock {
    const idx = Math.floor(addr / (PAGE_SIZE * PTRS_PER_PTE));
    let l = this.ptls.get(idx);
    if (!l) {
      l = new SpinLock(`${this.name} ptl ${hexAddr(idx * PAGE_SIZE * PTRS_PER_PTE)}`);
      this.ptls.set(idx, l);
    }
    return l;
  }
}

const MM_REGISTRY = Symbol("mm-registry");

/** Every mm of the machine (the rmap walk scans them). */
export function allMms(m: Machine): MmStruct[] {
  let list = m.ext.get(MM_REGISTRY) as MmStruct[] | undefined;
  if (!list) m.ext.set(MM_REGISTRY, (list = []));
  return list;
}

/** `mm_alloc`: a new, empty address space registered with the machine. */
export function createMm(m: Machine, options: { memory: PhysicalMemory; name: string }): MmStruct {
  const mm = new MmStruct(m, options.memory, options.name);
  allMms(m).push(mm);
  return mm;
}

// ------------------------------------------------------------------------ queries

/** `find_vma` restricted to VMAs containing `addr` (`vma_lookup`). Task-local: caller holds mmap_lock. */
export function findVma(mm: MmStruct, addr: number): Vma | undefined {
  for (const v of mm.vmas) if (v.contains(addr)) return v;
  return undefined;
}

/** The current entry for `addr` (a query for tests and reports; no step). */
export function getPte(mm: MmStruct, addr: number): Pte {
  return mm.ptes.get(Math.floor(addr / PAGE_SIZE))?.pte ?? PTE_NONE;
}

// ------------------------------------------------------------------------ errors

/**
 * A scenario or a model layer used the memory model wrongly (touching an address no
 * VMA covers, a page-table state the kernel would BUG on). It is the sim's
 * `ModelError`: raised inside a task it ends the run with status "invariant", naming
 * the operation and the address or folio. `usage` marks the program's own mistakes
 * (an access the kernel answers with SIGSEGV or SIGBUS), which scenarios report as the
 * scenario's error rather than a kernel invariant.
 */
export class MmModelError extends ModelError {
  constructor(operation: string, object: string, detail: string, usage = false) {
    super(operation, object, detail, usage);
  }
}

export function addrObject(mm: MmStruct, addr: number): string {
  return `${mm.name} address ${hexAddr(addr)}`;
}

// ------------------------------------------------------------------------ mmap_lock

function mmapLockOp(mm: MmStruct, write: boolean): Op<void> {
  const label = write ? "mmap_write_lock" : "mmap_read_lock";
  return downRwSem(mm.mmapLock, write, { kind: label, label, waitFor: `${label}(${mm.name})` });
}

function mmapUnlockOp(mm: MmStruct, write: boolean): Op<void> {
  const label = write ? "mmap_write_unlock" : "mmap_read_unlock";
  return upRwSem(mm.mmapLock, write, { kind: label, label });
}

export const mmapReadLock = (mm: MmStruct): Op<void> => mmapLockOp(mm, false);
export const mmapReadUnlock = (mm: MmStruct): Op<void> => mmapUnlockOp(mm, false);
export const mmapWriteLock = (mm: MmStruct): Op<void> => mmapLockOp(mm, true);
export const mmapWriteUnlock = (mm: MmStruct): Op<void> => mmapUnlockOp(mm, true);

/**
 * Run `body` with mmap_lock held for reading. (No try/finally: a generator's finally
 * that yields would swallow a ModelError; a failed run ends anyway.)
 */
export function* withMmapReadLock<R>(mm: MmStruct, body: TaskGen<R>): TaskGen<R> {
  yield* mmapReadLock(mm);
  const r = yield* body;
  yield* mmapReadUnlock(mm);
  return r;
}

/** Run `body` with mmap_lock held for writing. */
export function* withMmapWriteLock<R>(mm: MmStruct, body: TaskGen<R>): TaskGen<R> {
  yield* mmapWriteLock(mm);
  const r = yield* body;
  yield* mmapWriteUnlock(mm);
  return r;
}
