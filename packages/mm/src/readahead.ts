/**
 * Readahead (mm/readahead.c): `page_cache_ra_unbounded`, `page_cache_ra_order` and
 * `read_pages`, as reached from `do_sync_mmap_readahead` and from a scenario's explicit
 * readahead (`readahead(2)`, `force_page_cache_ra`, which allocates small folios only).
 *
 * For each index not yet cached: allocate an order-0 folio (`filemap_alloc_folio` with
 * the mapping's movable gfp mask, so PF_MEMALLOC_PIN callers get unmovable memory),
 * `filemap_add_folio` (cache references, folio locked, `folio_add_lru`: one `lru_add`
 * batch slot on this CPU, so a long readahead fills the batch and flushes it — the
 * flush Will Deacon's trace shows). An index already cached ends the current batch
 * (`read_pages`) and is skipped. `read_pages` completes each read (uptodate, unlock)
 * and drops readahead's own reference (`readahead_folio`).
 *
 * Large folios (`page_cache_ra_order`, a mapping with `folioOrder` > 0, i.e.
 * `mapping_large_folio_support`): the read-around asks for order 0; up to 6.16 the
 * function adds 2 on entry (so a cold mmap fault reads order-2 folios), from 6.17 it
 * honours the order asked (option `ra-order`, ./variants/ra-order.ts). The order is
 * capped by the mapping's and by `ilog2(ra->size)`; each folio is naturally aligned
 * (`__ffs(index)` for a misaligned index) and shrunk to end at EOF or the window's
 * end. An index already cached (-EEXIST) or a failed allocation ends the large
 * allocations; the rest of the window falls back to `page_cache_ra_unbounded`.
 *
 * Simplifications: no `PG_readahead` marker and no async readahead (so no ramp-up), I/O
 * completes synchronously, and no minimum folio order (`mapping_min_folio_order`).
 */

import { folioNrPages, folioPut, type Folio } from "@foliosim/folio";
import { currentMachine, traced, type TaskGen } from "@foliosim/sim";
import { filemapAddFolio, folioEndRead, TRANSIENT_HOLDER, xaLoad, type AddressSpace } from "./filemap.js";
import { raOrderPolicy } from "./variants/ra-order.js";

/**
 * `page_cache_ra_unbounded(ractl, nr_to_read, lookahead_size)`: read `nrToRead` pages
 * from `index` into the cache. Returns the number of folios added.
 */
export function pageCacheRaUnbounded(mapping: AddressSpace, index: number, nrToRead: number): TaskGen<number> {
  return traced("page_cache_ra_unbounded", raUnbounded(mapping, index, nrToRead));
}

function* raUnbounded(mapping: AddressSpace, index: number, nrToRead: number): TaskGen<number> {
  let batch: Folio[] = [];
  let added = 0;
  const end = Math.min(index + nrToRead, mapping.sizePages);
  for (let i = index; i < end; i++) {
    if ((yield* xaLoad(mapping, i, "xa_load")) !== null) {
      // A folio is already cached here: read what we have batched, skip it. (An RCU
      // xa_load; the add below rechecks under the lock.)
      yield* readPages(mapping, batch);
      batch = [];
      continue;
    }
    const folio = yield* mapping.memory.allocFolio({ movable: true }, TRANSIENT_HOLDER);
    if (folio === null) break; // out of memory: read what we have
    const err = yield* filemapAddFolio(mapping, folio, i);
    if (err !== 0) {
      yield* folioPut(folio, TRANSIENT_HOLDER);
      yield* readPages(mapping, batch);
      batch = [];
      continue;
    }
    batch.push(folio);
    added++;
  }
  yield* readPages(mapping, batch);
  return added;
}

/** `read_pages`: `aops->readahead` completes each folio; `readahead_folio` drops readahead's reference. */
function* readPages(mapping: AddressSpace, batch: Folio[]): TaskGen<void> {
  for (const folio of batch) {
    yield* folioEndRead(folio, mapping);
    yield* folioPut(folio, TRANSIENT_HOLDER);
  }
}

/** `readahead(2)` / `force_page_cache_ra`: the user asks for `nr` pages from `index`. */
export function forcePageCacheRa(mapping: AddressSpace, index: number, nr: number): TaskGen<number> {
  return traced("force_page_cache_ra", pageCacheRaUnbounded(mapping, index, nr));
}

/** The order `page_cache_ra_order` allocates with, before alignment and EOF shrink the folio at `index`. */
function raNewOrder(mapping: AddressSpace, raSize: number, newOrder: number): number {
  let order = newOrder;
  if (raOrderPolicy(currentMachine()).plusTwo && order < mapping.folioOrder) order += 2;
  return Math.min(order, mapping.folioOrder, Math.floor(Math.log2(raSize)));
}

/**
 * `page_cache_ra_order(ractl, ra, new_order)` for a window of `raSize` pages from
 * `index` on a large-folio mapping: large folios first, then (on -EEXIST or no memory)
 * `page_cache_ra_unbounded` for the rest. Returns the number of folios added.
 */
export function pageCacheRaOrder(mapping: AddressSpace, index: number, raSize: number, newOrder: number): TaskGen<number> {
  return traced("page_cache_ra_order", raOrder(mapping, index, raSize, newOrder));
}

function* raOrder(mapping: AddressSpace, start: number, raSize: number, newOrder: number): TaskGen<number> {
  if (mapping.folioOrder === 0 || (raOrderPolicy(currentMachine()).plusTwo && raSize < 4)) return yield* pageCacheRaUnbounded(mapping, start, raSize);
  const limit = Math.min(mapping.sizePages - 1, start + raSize - 1);
  const want = raNewOrder(mapping, raSize, newOrder);
  const batch: Folio[] = [];
  let index = start;
  let err = false;
  while (index <= limit) {
    let order = want;
    if (index % (1 << order) !== 0) order = Math.min(order, ffs(index)); // align with smaller folios
    while (order > 0 && index + (1 << order) - 1 > limit) order--; // nothing past EOF or the window
    const folio = yield* mapping.memory.allocFolio({ movable: true, order }, TRANSIENT_HOLDER); // ra_alloc_folio
    if (folio === null || (yield* filemapAddFolio(mapping, folio, index)) !== 0) {
      if (folio !== null) yield* folioPut(folio, TRANSIENT_HOLDER);
      err = true;
      break;
    }
    batch.push(folio);
    index += folioNrPages(folio);
  }
  yield* readPages(mapping, batch);
  if (!err) return batch.length;
  return batch.length + (yield* pageCacheRaUnbounded(mapping, index, raSize - (index - start)));
}

/** `__ffs(index)`: the lowest set bit (index > 0). */
function ffs(index: number): number {
  let n = 0;
  while (index % 2 === 0) {
    index /= 2;
    n++;
  }
  return n;
}
