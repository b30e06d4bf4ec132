/**
 * The page cache (mm/filemap.c): `filemap_get_entry`, `filemap_get_folio`,
 * `__filemap_add_folio`, `filemap_add_folio`, `__filemap_remove_folio` /
 * `filemap_remove_folio`, `filemap_fault`, `filemap_read_folio`; and the
 * `address_space` of include/linux/fs.h reduced to its `i_pages` xarray.
 *
 * Simplifications:
 * - The xarray is a `Map` from index to folio; a large folio is a multi-index entry: it
 *   is stored at each of its `folio_nr_pages` indices (naturally aligned, as
 *   `__filemap_add_folio` requires), so a lookup of any of them finds it. Its lock
 *   (`xa_lock` / `i_pages`) is one shared object. Readers (`filemap_get_entry`) take no
 *   lock, as under RCU, but declare a read of it in their footprint.
 * - Reading a folio from storage (`aops->read_folio`, readahead I/O) completes
 *   synchronously in the task that started it: mark uptodate, then unlock, charged
 *   `mmReadFolio`. There are no I/O errors and no writeback.
 * - `filemap_fault` never drops mmap_lock (no VM_FAULT_RETRY), and there is no
 *   fault-around (`fault_around_bytes` = PAGE_SIZE): `map_pages` is not modelled.
 * - Readahead on a miss is the mmap read-around: `ra_pages` pages from
 *   `max(0, index - ra_pages / 2)` (`do_sync_mmap_readahead` with the
 *   VM_RAND_READ/VM_SEQ_READ hints absent and the mmap_miss heuristics ignored); hits
 *   do no async readahead.
 */

import {
  PG,
  folioLock,
  folioTestFlag,
  folioNrPages,
  folioPut,
  folioPutRefs,
  folioTryGet,
  folioTrylock,
  folioUnlock,
  getNow,
  putNow,
  type Folio,
  type Mapping,
  type PhysicalMemory,
} from "@foliosim/folio";
import { folioAddLru } from "@foliosim/lru";
import { defineCosts, op, Shared, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import { MmModelError } from "./mm-types.js";
import { pageCacheRaOrder, pageCacheRaUnbounded } from "./readahead.js";

/** Holder of the page cache's references (1 per page, reference §1.5). */
export const PAGECACHE_HOLDER = "pagecache";
/** Holder of speculative lookups, in-flight faults and readahead (reference §1.5 "transient"). */
export const TRANSIENT_HOLDER = "transient";

export const EEXIST = 17;
export const ENOMEM = 12;

defineCosts({
  /** One 4 KiB read from storage, `aops->read_folio` or one readahead page: NVMe 4K
   *  reads complete in about 10 us at queue depth 1 (vendor datasheets, fio QD1). */
  mmReadFolio: 10_000,
  /** `clear_highpage`: zeroing 4 KiB with `rep stosb` at ~30 GB/s is about 130 ns. */
  mmClearPage: 130,
  /** `copy_highpage` / `copy_user_highpage`: a 4 KiB memcpy, about 200 ns. */
  mmCopyPage: 200,
  /** Exception entry, `do_page_fault` bookkeeping and return to user space, without
   *  the fault's own work: about 1 us (LWN "page-fault scalability" measurements). */
  mmFaultEntry: 1_000,
  /** A local TLB flush of one page (INVLPG: 100-250 cycles); remote shootdowns are not modelled. */
  mmTlbFlushPage: 80,
});

/** `struct address_space` of a regular file or a shmem/memfd inode. */
export class AddressSpace implements Mapping {
  /** `i_pages` and its xa_lock. */
  readonly iPages: Shared;
  /** index → folio: every index a folio covers (a multi-index entry for a large folio). */
  readonly pages = new Map<number, Folio>();
  /** `mapping_unevictable` (ramfs, SHM_LOCK). */
  unevictable = false;
  /** A block-based filesystem: reads attach buffer heads (`create_empty_buffers` → `folio_attach_private`). */
  bufferHeads = false;
  /** `file->f_ra.ra_pages`: the readahead window, in pages (default 128 KiB). */
  raPages = 32;
  /**
   * Large folios. A regular file: `mapping_set_folio_order_range(mapping, 0, order)`
   * (`mapping_max_folio_order`; 0: `mapping_large_folio_support` is false), the most
   * readahead may allocate. A shmem/memfd inode: the one mTHP order its faults allocate
   * when it fits (tmpfs `huge=always` / the per-size `shmem_enabled` controls, reduced
   * to one enabled size; 0: small folios only).
   */
  folioOrder = 0;
  constructor(
    readonly machine: Machine,
    readonly memory: PhysicalMemory,
    readonly name: string,
    readonly kind: "file" | "shmem",
    /** `i_size` in pages. */
    public sizePages: number,
  ) {
    this.iPages = new Shared(`${name} i_pages`);
  }
  /** `Mapping.xaLock`: the page-cache lock, for footprints of ops that change the cache (migration). */
  get xaLock(): Shared {
    return this.iPages;
  }
  /** `Mapping.replaceFolio`: `xas_store` of `nu` where `old` was (`__folio_migrate_mapping`), under the caller's op. */
  replaceFolio(old: Folio, nu: Folio): void {
    if (this.pages.get(old.index) !== old) throw new MmModelError("__folio_migrate_mapping", old.name, `not in the page cache of ${this.name}`);
    for (let i = 0; i < folioNrPages(old); i++) this.pages.set(old.index + i, nu);
  }
  /** `mapping->nrpages`: every index a folio covers counts once. */
  get nrpages(): number {
    return this.pages.size;
  }
  /** @internal Store `folio` at each index it covers (`xas_store` of a multi-index entry). */
  storeFolio(folio: Folio, index: number): void {
    for (let i = 0; i < folioNrPages(folio); i++) this.pages.set(index + i, folio);
  }
  /** @internal Erase every index `folio` covers. */
  eraseFolio(folio: Folio): void {
    for (let i = 0; i < folioNrPages(folio); i++) if (this.pages.get(folio.index + i) === folio) this.pages.delete(folio.index + i);
  }
  /** The folio caching `index`, if any (a query for tests and reports; no step). */
  peek(index: number): Folio | undefined {
    return this.pages.get(index);
  }
  /** Contents of page `index` of the file on storage (what a read returns). */
  storageData(index: number): unknown {
    return `${this.name}[${index}]`;
  }
}

/** Registry of the address spaces of a machine (for invariants and reports). */
const MAPPINGS = Symbol("mm-address-spaces");
export function allAddressSpaces(m: Machine): AddressSpace[] {
  let list = m.ext.get(MAPPINGS) as AddressSpace[] | undefined;
  if (!list) m.ext.set(MAPPINGS, (list = []));
  return list;
}

/** A regular file of `sizePages` pages on some block device, with an empty page cache. */
export function createFile(m: Machine, options: { memory: PhysicalMemory; name: string; sizePages: number; bufferHeads?: boolean; raPages?: number; folioOrder?: number }): AddressSpace {
  const order = options.folioOrder ?? 0;
  if (!Number.isInteger(order) || order < 0 || order > 9) throw new MmModelError("mapping_set_folio_order_range", options.name, `folio order ${order}: expected an integer from 0 to 9`);
  const as = new AddressSpace(m, options.memory, options.name, "file", options.sizePages);
  as.folioOrder = order;
  as.bufferHeads = options.bufferHeads ?? false;
  if (options.raPages !== undefined) as.raPages = options.raPages;
  allAddressSpaces(m).push(as);
  return as;
}

/** @internal shmem.ts creates shmem inodes through this. */
export function createAddressSpace(m: Machine, memory: PhysicalMemory, name: string, kind: "file" | "shmem", sizePages: number): AddressSpace {
  const as = new AddressSpace(m, memory, name, kind, sizePages);
  allAddressSpaces(m).push(as);
  return as;
}

/** One RCU read of the xarray slot `index` (`xa_load` / `xas_load`). */
export function xaLoad(mapping: AddressSpace, index: number, label: string): Op<Folio | null> {
  return op({
    kind: "xa_load",
    label,
    reads: [mapping.iPages],
    cost: "plain",
    run: () => mapping.pages.get(index) ?? null,
  });
}

/**
 * `filemap_get_entry`: RCU lookup, `folio_try_get`, then `xas_reload` to check the
 * slot still holds the folio (else put and retry). The reference is held by
 * "transient". Returns null on a miss.
 */
export function filemapGetEntry(mapping: AddressSpace, index: number): TaskGen<Folio | null> {
  return traced("filemap_get_entry", getEntry(mapping, index));
}

function* getEntry(mapping: AddressSpace, index: number): TaskGen<Folio | null> {
  for (;;) {
    const folio = yield* xaLoad(mapping, index, "xas_load");
    if (folio === null) return null;
    if (!(yield* folioTryGet(folio, TRANSIENT_HOLDER))) continue; // freed or frozen: repeat
    const again = yield* xaLoad(mapping, index, "xas_reload");
    if (again === folio) return folio;
    yield* folioPut(folio, TRANSIENT_HOLDER);
  }
}

/**
 * `filemap_get_folio` / `__filemap_get_folio` with FGP_LOCK: look up and lock, checking
 * after the lock that the folio was not truncated meanwhile (else unlock, put, retry).
 */
export function* filemapGetFolioLocked(mapping: AddressSpace, index: number): TaskGen<Folio | null> {
  for (;;) {
    const folio = yield* filemapGetEntry(mapping, index);
    if (folio === null) return null;
    yield* folioLock(folio);
    // `folio->mapping == mapping` and `folio_contains(folio, index)` (a large folio covers several indices).
    if ((yield* readFolioMapping(folio)) === mapping && index >= folio.index && index < folio.index + folioNrPages(folio)) return folio;
    yield* folioUnlock(folio);
    yield* folioPut(folio, TRANSIENT_HOLDER);
  }
}

/**
 * `__filemap_add_folio` under the xa_lock: take the cache's references (`folio_ref_add`,
 * one per page), set `mapping` and `index`, store. Fails with -EEXIST if the slot is
 * taken (the references are dropped again). One step: the add and the store.
 */
function addToCache(mapping: AddressSpace, folio: Folio, index: number, label: string): Op<number> {
  return op({
    kind: "filemap_add_folio",
    label,
    reads: [],
    writes: [mapping.iPages, folio.ref, folio.map],
    cost: "atomic",
    run: (m) => {
      if (folio.mapping !== null) throw new MmModelError(label, folio.name, `already in the page cache of ${folio.mapping.name}`);
      if (index >= mapping.sizePages) throw new MmModelError(label, folio.name, `index ${index} is past the end of ${mapping.name} (${mapping.sizePages} pages)`);
      const nr = folioNrPages(folio);
      if (index % nr !== 0) throw new MmModelError(label, folio.name, `index ${index} is not aligned to the folio's ${nr} pages`);
      if (index + nr > mapping.sizePages) throw new MmModelError(label, folio.name, `pages ${index}-${index + nr - 1} run past the end of ${mapping.name} (${mapping.sizePages} pages)`);
      for (let i = 0; i < nr; i++) if (mapping.pages.has(index + i)) return -EEXIST;
      getNow(m, folio, nr, PAGECACHE_HOLDER, label);
      folio.mapping = mapping;
      folio.index = index;
      mapping.storeFolio(folio, index);
      m.markWrite(mapping.iPages);
      m.markWrite(folio.map);
      m.event("mm_filemap_add_to_page_cache", folio.name).arg("mapping", mapping.name).arg("index", index);
      return 0;
    },
  });
}

/** Set flags on a folio nobody else can see yet (`__folio_set_swapbacked`, `__folio_mark_uptodate`). */
/** `folio->mapping` as a step (callers re-check it under the folio lock after a lookup). */
export function readFolioMapping(folio: Folio): Op<Mapping | null> {
  return op({ kind: "read_mapping", label: "folio->mapping", reads: [folio.map], cost: "plain", run: () => folio.mapping });
}

/** An op as a one-step task (for `traced`). */
export function* once<R>(o: Op<R>): TaskGen<R> {
  return yield* o;
}

export function folioSetFlagsNow(folio: Folio, flags: number, label: string): Op<void> {
  return op({
    kind: "folio_set_flag",
    label,
    writes: [folio.flagsWord],
    cost: "plain",
    run: (m) => {
      folio.setBits(flags);
      m.markWrite(folio.flagsWord);
    },
  });
}

/**
 * `filemap_add_folio` (and `shmem_add_to_page_cache` + `folio_add_lru` for shmem): lock
 * the new folio, add it to the cache, then `folio_add_lru`. Returns 0 with the folio
 * locked, or -EEXIST with it unlocked (the caller still holds its own reference).
 */
export function filemapAddFolio(mapping: AddressSpace, folio: Folio, index: number): TaskGen<number> {
  return traced("filemap_add_folio", addFolio(mapping, folio, index));
}

function* addFolio(mapping: AddressSpace, folio: Folio, index: number): TaskGen<number> {
  // __folio_set_locked: nobody else can see the folio yet.
  if (!(yield* folioTrylock(folio))) throw new MmModelError("filemap_add_folio", folio.name, "a new folio is already locked");
  const ret = yield* addToCache(mapping, folio, index, "__filemap_add_folio");
  if (ret !== 0) {
    yield* folioUnlock(folio);
    return ret;
  }
  yield* folioAddLru(folio);
  return 0;
}

/**
 * `filemap_remove_folio` (`__filemap_remove_folio` + `filemap_free_folio`): the folio
 * must be locked and unmapped; its cache references are dropped (possibly freeing it).
 */
export function filemapRemoveFolio(folio: Folio): TaskGen<void> {
  return traced("filemap_remove_folio", removeFolio(folio));
}

function* removeFolio(folio: Folio): TaskGen<void> {
  const mapping = folio.mapping;
  if (!(mapping instanceof AddressSpace)) throw new MmModelError("filemap_remove_folio", folio.name, "not in a page cache");
  yield* op({
    kind: "filemap_remove_folio",
    label: "__filemap_remove_folio",
    writes: [mapping.iPages, folio.map, folio.ref],
    cost: "atomic",
    run: (m) => {
      if (!folio.lock.locked) throw new MmModelError("filemap_remove_folio", folio.name, "folio is not locked");
      if (folio.mapcount > 0) throw new MmModelError("filemap_remove_folio", folio.name, `still mapped ${folio.mapcount} time(s)`);
      if (mapping.pages.get(folio.index) !== folio) throw new MmModelError("filemap_remove_folio", folio.name, "not in its mapping's xarray");
      mapping.eraseFolio(folio);
      folio.mapping = null;
      m.markWrite(mapping.iPages);
      m.markWrite(folio.map);
      m.event("mm_filemap_delete_from_page_cache", folio.name).arg("mapping", mapping.name).arg("index", folio.index);
      // The caller holds a reference, so this never frees the folio here.
      putNow(m, folio, folioNrPages(folio), PAGECACHE_HOLDER, "filemap_free_folio");
    },
  });
}

/** Holder of the reference `folio_attach_private` takes (reference §1.5: PG_private). */
export const PRIVATE_HOLDER = "private";

/** `folio_attach_private` (include/linux/pagemap.h): `folio_get` + PG_private, one step. */
export function folioAttachPrivate(folio: Folio): Op<void> {
  return op({
    kind: "folio_attach_private",
    label: "folio_attach_private",
    writes: [folio.ref, folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (folio.test(PG.private)) throw new MmModelError("folio_attach_private", folio.name, "already has private data");
      getNow(m, folio, 1, PRIVATE_HOLDER, "folio_attach_private");
      folio.setBits(PG.private);
      m.markWrite(folio.flagsWord);
    },
  });
}

/**
 * `folio_mark_uptodate` + `folio_unlock`: a read completed (`folio_end_read`). On a
 * buffer-head filesystem the read first attaches buffers (`block_read_full_folio`).
 */
export function* folioEndRead(folio: Folio, mapping: AddressSpace): TaskGen<void> {
  if (mapping.bufferHeads && !folio.test(PG.private)) yield* folioAttachPrivate(folio);
  const nr = folioNrPages(folio);
  yield* op({
    kind: "folio_end_read",
    label: "folio_end_read",
    // The contents come from the file at folio->index.
    reads: [folio.map],
    writes: [folio.flagsWord],
    cost: nr === 1 ? "mmReadFolio" : mapping.machine.cost("mmReadFolio") * nr,
    run: (m) => {
      folio.data = mapping.storageData(folio.index);
      folio.setBits(PG.uptodate);
      m.markWrite(folio.flagsWord);
    },
  });
  yield* folioUnlock(folio);
}

/** What a `->fault` handler returns: VM_FAULT_* bits and, with VM_FAULT_LOCKED, the locked folio and its reference. */
export interface FaultResult {
  ret: number;
  folio: Folio | null;
}

/**
 * `filemap_fault`: look the folio up (a speculative reference, "transient"); on a miss
 * run synchronous readahead and look again (`__filemap_get_folio(FGP_CREAT)`: if
 * readahead could not add it, allocate and add this one page); lock it, recheck it was
 * not truncated, read it if not uptodate. Returns VM_FAULT_LOCKED with the folio locked
 * and the reference the fault holds, or VM_FAULT_SIGBUS past EOF / VM_FAULT_OOM.
 */
export function filemapFault(mapping: AddressSpace, index: number): TaskGen<FaultResult> {
  return traced("filemap_fault", fault(mapping, index));
}

function* fault(mapping: AddressSpace, index: number): TaskGen<FaultResult> {
  if (index >= mapping.sizePages) return { ret: VM_FAULT_SIGBUS, folio: null };
  let major = 0;
  let folio: Folio | null = yield* filemapGetEntry(mapping, index);
  if (folio === null) {
    major = VM_FAULT_MAJOR;
    // do_sync_mmap_readahead → page_cache_sync_ra → page_cache_ra_order → page_cache_ra_unbounded
    // mmap read-around: ra->start = max(0, pgoff - ra_pages / 2), ra->size = ra_pages.
    // (A small-folio mapping goes straight to page_cache_ra_unbounded, the first check of page_cache_ra_order.)
    const start = Math.max(0, index - Math.floor(mapping.raPages / 2));
    const nr = Math.min(mapping.raPages, mapping.sizePages - start);
    yield* traced("do_sync_mmap_readahead", mapping.folioOrder === 0 ? pageCacheRaUnbounded(mapping, start, nr) : pageCacheRaOrder(mapping, start, mapping.raPages, 0));
    while (folio === null) {
      folio = yield* filemapGetEntry(mapping, index);
      if (folio !== null) break;
      // __filemap_get_folio(FGP_CREAT): readahead raced with truncation or ran out of memory.
      const nf = yield* mapping.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
      if (nf === null) return { ret: VM_FAULT_OOM, folio: null };
      const err = yield* filemapAddFolio(mapping, nf, index);
      if (err === 0) {
        yield* folioEndRead(nf, mapping);
        folio = nf;
        break;
      }
      yield* folioPut(nf, TRANSIENT_HOLDER);
    }
  }
  const found: Folio = folio;
  yield* folioLock(found);
  if ((yield* readFolioMapping(found)) !== mapping) {
    // Truncated while we slept on the lock: start again.
    yield* folioUnlock(found);
    yield* folioPut(found, TRANSIENT_HOLDER);
    return yield* fault(mapping, index);
  }
  if (!(yield* folioTestFlag(found, "uptodate"))) {
    // filemap_read_folio: the read unlocks the folio; lock it again afterwards.
    yield* folioEndRead(found, mapping);
    yield* folioLock(found);
  }
  return { ret: major | VM_FAULT_LOCKED, folio: found };
}

/** Drop the references and lock a failed fault still holds. */
export function* faultRelease(folio: Folio): TaskGen<void> {
  yield* folioUnlock(folio);
  yield* folioPutRefs(folio, 1, TRANSIENT_HOLDER, "folio_put");
}

// VM_FAULT_* (include/linux/mm_types.h `enum vm_fault_reason`).
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_MAJOR = 0x000004;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_LOCKED = 0x000200;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_FALLBACK = 0x000800;
export const VM_FAULT_DONE_COW = 0x001000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON;
