/**
 * shmem/tmpfs objects and memfd (mm/shmem.c `shmem_file_setup`, `shmem_get_folio_gfp`,
 * `shmem_alloc_and_add_folio`, `shmem_add_to_page_cache`, `shmem_fault`,
 * `shmem_zero_setup`; mm/memfd.c `memfd_create`).
 *
 * A shmem object is an `AddressSpace` of kind "shmem". A fault on a missing index
 * allocates an order-0 folio with the mapping's gfp mask (GFP_HIGHUSER_MOVABLE, so it
 * may land in ZONE_MOVABLE or CMA, unless the task runs under PF_MEMALLOC_PIN, whose
 * allocations avoid both), sets it locked and swapbacked, adds it to the page cache
 * (one cache reference), `folio_add_lru`, zeroes it and marks it uptodate. The fault
 * returns it locked with the allocation reference ("transient"), which `finish_fault`
 * turns into the mapping's reference.
 *
 * Simplifications: no swap (no swap entries in the xarray), no huge pages, no
 * fallocate, no seals, no size limits beyond `sizePages`; `memfd_create` returns the
 * object itself (no fd table) and sizes it with its argument (the `ftruncate`).
 */

import { PG, folioNrPages, folioPut, getNow, putNow, type Folio, type PhysicalMemory } from "@foliosim/folio";
import { op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import { MmModelError } from "./mm-types.js";
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

/** `shmem_file_setup`: a shmem object of `sizePages` pages with an empty page cache. */
export function shmemFileSetup(m: Machine, options: { memory: PhysicalMemory; name: string; sizePages: number }): AddressSpace {
  return createAddressSpace(m, options.memory, options.name, "shmem", options.sizePages);
}

/** `memfd_create(name)` + `ftruncate(fd, sizePages * PAGE_SIZE)`. */
export function memfdCreate(m: Machine, options: { memory: PhysicalMemory; name: string; sizePages: number }): AddressSpace {
  return shmemFileSetup(m, { ...options, name: `memfd:${options.name}` });
}

/** `sgp_type` values this model distinguishes. */
export type SgpType = "SGP_READ" | "SGP_CACHE";

/**
 * `shmem_get_folio_gfp(inode, index, &folio, sgp)`: the folio at `index`, locked, with a
 * reference held by "transient", allocating it if missing (SGP_CACHE). Null when
 * SGP_READ finds a hole, or when memory is exhausted.
 */
export function shmemGetFolio(mapping: AddressSpace, index: number, sgp: SgpType = "SGP_CACHE"): TaskGen<{ folio: Folio | null; ret: number }> {
  return traced("shmem_get_folio_gfp", getFolio(mapping, index, sgp));
}

function* getFolio(mapping: AddressSpace, index: number, sgp: SgpType): TaskGen<{ folio: Folio | null; ret: number }> {
  if (index >= mapping.sizePages) return { folio: null, ret: VM_FAULT_SIGBUS };
  for (;;) {
    const found = yield* filemapGetFolioLocked(mapping, index);
    if (found !== null) return { folio: found, ret: 0 };
    if (sgp === "SGP_READ") return { folio: null, ret: 0 };
    // shmem_alloc_and_add_folio
    const folio = yield* traced("shmem_alloc_folio", once(mapping.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER)));
    if (folio === null) return { folio: null, ret: VM_FAULT_OOM };
    yield* folioSetFlagsNow(folio, PG.swapbacked, "__folio_set_swapbacked");
    const err = yield* filemapAddFolio(mapping, folio, index);
    if (err !== 0) {
      // Someone else added it first: drop ours and look again.
      yield* folioPut(folio, TRANSIENT_HOLDER);
      continue;
    }
    // clear_highpage + folio_mark_uptodate (the folio is still locked and new).
    yield* op({
      kind: "clear_highpage",
      label: "clear_highpage",
      writes: [folio.flagsWord],
      cost: "mmClearPage",
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
export function shmemFault(mapping: AddressSpace, index: number): TaskGen<FaultResult> {
  return traced("shmem_fault", shmemFaultBody(mapping, index));
}

function* shmemFaultBody(mapping: AddressSpace, index: number): TaskGen<FaultResult> {
  const { folio, ret } = yield* shmemGetFolio(mapping, index, "SGP_CACHE");
  if (folio === null) return { ret: ret || VM_FAULT_SIGBUS, folio: null };
  return { ret: VM_FAULT_LOCKED, folio };
}

/** `shmem_zero_setup`: the shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping. */
export function shmemZeroSetup(m: Machine, memory: PhysicalMemory, mmName: string, sizePages: number): AddressSpace {
  const existing = allZero(m);
  const n = existing.length;
  const as = shmemFileSetup(m, { memory, name: `dev/zero(${mmName}#${n})`, sizePages });
  existing.push(as);
  return as;
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
      mapping.pages.delete(folio.index);
      folio.mapping = null;
      m.markWrite(mapping.iPages);
      m.markWrite(folio.map);
      m.markWrite(folio.flagsWord);
      putNow(m, folio, nr, "pagecache", "shmem_delete_from_page_cache");
    },
  });
}
