/**
 * shmem/tmpfs objects and memfd (mm/shmem.c `shmem_file_setup`, `shmem_get_folio_gfp`,
 * `shmem_alloc_and_add_folio`, `shmem_add_to_page_cache`, `shmem_fault`,
 * `shmem_zero_setup`; mm/memfd.c `memfd_create`).
 *
 * A shmem object is an `AddressSpace` of kind "shmem". A fault on a missing index
 * allocates a folio (order 0, or the object's mTHP order `folioOrder` when
 * `shmem_suitable_orders` allows it, below) with the mapping's gfp mask (GFP_HIGHUSER_MOVABLE, so it
 * may land in ZONE_MOVABLE or CMA, unless the task runs under PF_MEMALLOC_PIN, whose
 * allocations avoid both), sets it locked and swapbacked, adds it to the page cache
 * (one cache reference), `folio_add_lru`, zeroes it and marks it uptodate. The fault
 * returns it locked with the allocation reference ("transient"), which `finish_fault`
 * turns into the mapping's reference.
 *
 * Large folios (`shmem_allowable_huge_orders` → `shmem_suitable_orders`, 6.14+ for
 * tmpfs/memfd with `huge=`, 6.11+ for anonymous shmem through the per-size
 * `hugepages-<size>kB/shmem_enabled`; PMD size only before): the order is used when
 * the naturally aligned index range lies inside `i_size`, a faulting vma maps it whole
 * at a matching alignment (`thp_vma_suitable_order`), and no index of the range is
 * cached yet (one `xa_find` step); else, or if the allocation fails, order 0
 * (`MTHP_STAT_SHMEM_FALLBACK`). The page cache then holds `folio_nr_pages` references.
 *
 * Simplifications: no swap (no swap entries in the xarray), one enabled mTHP size per
 * object (no descending `next_order` walk), a large folio never extends past `i_size`
 * (as `huge=within_size`), no PMD mappings, no fallocate, no seals; `memfd_create`
 * returns the object itself (no fd table) and sizes it with its argument (the
 * `ftruncate`).
 */

import { PG, folioNrPages, folioPut, getNow, putNow, type Folio, type PhysicalMemory } from "@foliosim/folio";
import { currentMachine, op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import { MmModelError, PAGE_SIZE, type Vma } from "./mm-types.js";
import { SWAPCACHE_HOLDER } from "./swap-state.js";
import {
  AddressSpace,
  TRANSIENT_HOLDER,
  VM_FAULT_LOCKED,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  createAddressSpace,
  filemapAddFolio,
  filemapGetFolioLocked,
  folioSetFlagsNow,
  once,
  type FaultResult,
} from "./filemap.js";

export interface ShmemOptions {
  memory: PhysicalMemory;
  name: string;
  sizePages: number;
  /** The mTHP order faults allocate when it fits (0: small folios only; at most 9, PMD size). */
  folioOrder?: number;
}

/** `shmem_file_setup`: a shmem object of `sizePages` pages with an empty page cache. */
export function shmemFileSetup(m: Machine, options: ShmemOptions): AddressSpace {
  const order = options.folioOrder ?? 0;
  if (!Number.isInteger(order) || order < 0 || order > 9) throw new MmModelError("shmem_file_setup", options.name, `folio order ${order}: expected an integer from 0 to 9 (PMD size)`);
  const as = createAddressSpace(m, options.memory, options.name, "shmem", options.sizePages);
  as.folioOrder = order;
  return as;
}

/** `memfd_create(name)` + `ftruncate(fd, sizePages * PAGE_SIZE)`. */
export function memfdCreate(m: Machine, options: ShmemOptions): AddressSpace {
  return shmemFileSetup(m, { ...options, name: `memfd:${options.name}` });
}

/** `sgp_type` values this model distinguishes. */
export type SgpType = "SGP_READ" | "SGP_CACHE";

/** The faulting vma and address, when `shmem_get_folio_gfp` is reached from a fault. */
export interface ShmemFaultCtx {
  vma: Vma;
  address: number;
}

/**
 * `shmem_get_folio_gfp(inode, index, &folio, sgp)`: the folio covering `index`, locked,
 * with a reference held by "transient", allocating it if missing (SGP_CACHE). Null when
 * SGP_READ finds a hole, or when memory is exhausted.
 */
export function shmemGetFolio(mapping: AddressSpace, index: number, sgp: SgpType = "SGP_CACHE", fault?: ShmemFaultCtx): TaskGen<{ folio: Folio | null; ret: number }> {
  return traced("shmem_get_folio_gfp", getFolio(mapping, index, sgp, fault));
}

/** `thp_vma_suitable_order(vma, address, order)`: the aligned range is inside the vma at a matching file alignment. */
function vmaSuitableOrder(fault: ShmemFaultCtx, order: number): boolean {
  const nr = 1 << order;
  const size = PAGE_SIZE * nr;
  const haddr = Math.floor(fault.address / size) * size;
  if ((fault.vma.start / PAGE_SIZE - fault.vma.pgoff) % nr !== 0) return false;
  return haddr >= fault.vma.start && haddr + size <= fault.vma.end;
}

/**
 * `shmem_suitable_orders`: the object's mTHP order if its aligned range fits (i_size, the
 * faulting vma) and `xa_find` finds nothing cached in it (one step); else 0.
 */
function* shmemSuitableOrder(mapping: AddressSpace, index: number, fault?: ShmemFaultCtx): TaskGen<number> {
  const order = mapping.folioOrder;
  if (order === 0) return 0;
  const nr = 1 << order;
  const aligned = Math.floor(index / nr) * nr;
  if (aligned + nr > mapping.sizePages) return 0;
  if (fault && !vmaSuitableOrder(fault, order)) return 0;
  const empty = yield* op({
    kind: "xa_load",
    label: "xa_find",
    reads: [mapping.iPages],
    cost: "plain",
    run: () => {
      for (let i = aligned; i < aligned + nr; i++) if (mapping.pages.has(i)) return false;
      return true;
    },
  });
  return empty ? order : 0;
}

/** `shmem_alloc_folio`: the large order first, falling back to order 0 (`MTHP_STAT_SHMEM_FALLBACK`). */
function* shmemAllocFolio(mapping: AddressSpace, order: number): TaskGen<Folio | null> {
  if (order > 0) {
    const large = yield* mapping.memory.allocFolio({ movable: true, order }, TRANSIENT_HOLDER);
    if (large !== null) return large;
    currentMachine().count("shmem_fallback");
  }
  return yield* mapping.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
}

function* getFolio(mapping: AddressSpace, index: number, sgp: SgpType, fault?: ShmemFaultCtx): TaskGen<{ folio: Folio | null; ret: number }> {
  if (index >= mapping.sizePages) return { folio: null, ret: VM_FAULT_SIGBUS };
  for (;;) {
    const found = yield* filemapGetFolioLocked(mapping, index);
    if (found !== null) return { folio: found, ret: 0 };
    if (sgp === "SGP_READ") return { folio: null, ret: 0 };
    // shmem_alloc_and_add_folio
    const order = yield* shmemSuitableOrder(mapping, index, fault);
    const folio = yield* traced("shmem_alloc_folio", shmemAllocFolio(mapping, order));
    if (folio === null) return { folio: null, ret: VM_FAULT_OOM };
    const head = Math.floor(index / folioNrPages(folio)) * folioNrPages(folio);
    yield* folioSetFlagsNow(folio, PG.swapbacked, "__folio_set_swapbacked");
    const err = yield* filemapAddFolio(mapping, folio, head);
    if (err !== 0) {
      // Someone else added it first: drop ours and look again.
      yield* folioPut(folio, TRANSIENT_HOLDER);
      continue;
    }
    // clear_highpage (each page) + folio_mark_uptodate (the folio is still locked and new).
    const nr = folioNrPages(folio);
    yield* op({
      kind: "clear_highpage",
      label: "clear_highpage",
      writes: [folio.flagsWord],
      cost: nr === 1 ? "mmClearPage" : currentMachine().cost("mmClearPage") * nr,
      run: (m) => {
        folio.data = 0;
        folio.setBits(PG.uptodate);
        m.markWrite(folio.flagsWord);
      },
    });
    return { folio, ret: 0 };
  }
}

/** `shmem_fault`: `shmem_get_folio_gfp(SGP_CACHE)`, returning VM_FAULT_LOCKED with the folio. */
export function shmemFault(mapping: AddressSpace, index: number, fault?: ShmemFaultCtx): TaskGen<FaultResult> {
  return traced("shmem_fault", shmemFaultBody(mapping, index, fault));
}

function* shmemFaultBody(mapping: AddressSpace, index: number, fault?: ShmemFaultCtx): TaskGen<FaultResult> {
  const { folio, ret } = yield* shmemGetFolio(mapping, index, "SGP_CACHE", fault);
  if (folio === null) return { ret: ret || VM_FAULT_SIGBUS, folio: null };
  return { ret: VM_FAULT_LOCKED, folio };
}

/** `shmem_zero_setup`: the shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping. */
export function shmemZeroSetup(m: Machine, memory: PhysicalMemory, mmName: string, sizePages: number, folioOrder = 0): AddressSpace {
  const existing = allZero(m);
  const n = existing.length;
  const as = shmemFileSetup(m, { memory, name: `dev/zero(${mmName}#${n})`, sizePages, folioOrder });
  existing.push(as);
  return as;
}

/** `vma_is_anon_shmem(vma)`: the vma maps a `shmem_zero_setup` object (MAP_SHARED|MAP_ANONYMOUS). */
export function vmaIsAnonShmem(vma: Vma): boolean {
  return vma.file !== null && allZero(vma.mm.machine).includes(vma.file);
}

const ZERO = Symbol("shmem-zero");
function allZero(m: Machine): AddressSpace[] {
  let l = m.ext.get(ZERO) as AddressSpace[] | undefined;
  if (!l) m.ext.set(ZERO, (l = []));
  return l;
}

/**
 * `shmem_writeout` up to the write: a locked, unmapped shmem folio moves from the
 * shmem page cache to the swap cache (`add_to_swap_cache`, then
 * `shmem_delete_from_page_cache` storing the swap entry in its place): `mapping`
 * becomes NULL, PG_swapcache is set, the page cache's references become the swap
 * cache's. One step. (Reference §11 E17.)
 */
export function shmemWriteout(folio: Folio): Op<void> {
  const label = "shmem_writeout";
  const mapping = folio.mapping;
  return op({
    kind: "shmem_writeout",
    label,
    writes: [folio.ref, folio.flagsWord, folio.map, ...(mapping instanceof AddressSpace ? [mapping.iPages] : [])],
    cost: "atomic",
    run: (m) => {
      if (!(mapping instanceof AddressSpace) || mapping.kind !== "shmem" || folio.mapping !== mapping) throw new MmModelError(label, folio.name, "not a shmem page-cache folio");
      if (!folio.lock.locked) throw new MmModelError(label, folio.name, "folio is not locked");
      if (folio.mapcount > 0) throw new MmModelError(label, folio.name, `still mapped ${folio.mapcount} time(s)`);
      const nr = folioNrPages(folio);
      getNow(m, folio, nr, SWAPCACHE_HOLDER, "add_to_swap_cache");
      folio.setBits(PG.swapcache);
      mapping.eraseFolio(folio);
      folio.mapping = null;
      m.markWrite(mapping.iPages);
      m.markWrite(folio.map);
      m.markWrite(folio.flagsWord);
      putNow(m, folio, nr, "pagecache", "shmem_delete_from_page_cache");
    },
  });
}
