/**
 * Readahead (mm/readahead.c): `page_cache_ra_unbounded` and `read_pages`, as reached
 * from `do_sync_mmap_readahead` (via `page_cache_sync_ra` / `page_cache_ra_order`) and
 * from a scenario's explicit readahead (`readahead(2)`, `force_page_cache_ra`).
 *
 * For each index not yet cached: allocate an order-0 folio (`filemap_alloc_folio` with
 * the mapping's movable gfp mask, so PF_MEMALLOC_PIN callers get unmovable memory),
 * `filemap_add_folio` (cache references, folio locked, `folio_add_lru`: one `lru_add`
 * batch slot on this CPU, so a long readahead fills the batch and flushes it — the
 * flush Will Deacon's trace shows). An index already cached ends the current batch
 * (`read_pages`) and is skipped. `read_pages` completes each read (uptodate, unlock)
 * and drops readahead's own reference (`readahead_folio`).
 *
 * Simplifications: no large folios (`page_cache_ra_order` with order 0), no
 * `PG_readahead` marker and no async readahead, I/O completes synchronously.
 */

import { folioPut, type Folio } from "@foliosim/folio";
import { traced, type TaskGen } from "@foliosim/sim";
import { filemapAddFolio, folioEndRead, TRANSIENT_HOLDER, xaLoad, type AddressSpace } from "./filemap.js";

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
