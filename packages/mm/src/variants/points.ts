/**
 * The variation points of the mm package, as public hook types (see `defineVariant` in
 * @foliosim/sim):
 *
 * - `ra-order` — mm/readahead.c `page_cache_ra_order(ractl, ra, new_order)`: whether
 *   it treats `new_order` as the previous request's order and adds 2 (≤ 6.16: a cold
 *   mmap read-around on a large-folio mapping starts with order-2 folios) or honours it
 *   (Ryan Roberts, "mm/readahead: honour new_order in page_cache_ra_order()",
 *   v5 9 Jun 2025, merged in the 6.17 merge window: the read-around starts with order-0 folios and only
 *   the async readahead ramps up, which the model does not run). Built-ins:
 *   ./ra-order.ts.
 */

declare module "@foliosim/sim" {
  interface VariationPoints {
    "ra-order": RaOrderHook;
  }
}

/** The `ra-order` point's hook. */
export interface RaOrderHook {
  /** `if (new_order < mapping_max_folio_order(mapping)) new_order += 2;` on entry. */
  plusTwo: boolean;
}
