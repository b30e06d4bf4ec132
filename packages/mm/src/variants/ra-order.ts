/**
 * The `ra-order` option (mm/readahead.c `page_cache_ra_order`; hook type in ./points.ts):
 *
 * | value    | rule                                                        | releases |
 * |----------|-------------------------------------------------------------|----------|
 * | `plus-2` | `new_order += 2` on entry, below the mapping's max order    | ≤ 6.16   |
 * | `honour` | `new_order` as the caller passed it (Ryan Roberts, 2025)     | 6.17 on  |
 *
 * The change is mainline bdb86f6b8763 ("mm/readahead: honour new_order in
 * page_cache_ra_order()", merged with tags/mm-stable-2025-07-30-15-25 as beace86e61e4):
 * at that commit `page_cache_ra_order` has no `new_order += 2` and `page_cache_async_ra`
 * adds the 2 at `readit:`.
 *
 * Either way the order is then capped by `mapping_max_folio_order` and
 * `ilog2(ra->size)`. An unset option runs the newest release's value (`honour`); an
 * unknown one is an error naming the valid values.
 */

import { defineVariant, defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import type { RaOrderHook } from "./points.js";

export const raOrderPlusTwo = defineVariant({
  id: "plus-2",
  point: "ra-order",
  source: "mainline mm/readahead.c page_cache_ra_order from large-folio readahead (5.18) up to 6.16: new_order += 2 on entry",
  hook: { plusTwo: true },
});

export const raOrderHonour = defineVariant({
  id: "honour",
  point: "ra-order",
  source: "bdb86f6b8763 (Ryan Roberts, \"mm/readahead: honour new_order in page_cache_ra_order()\", v5 9 Jun 2025; 6.17 merge window): the caller's order as given; page_cache_async_ra adds the 2",
  hook: { plusTwo: false },
});

export const RA_ORDER_POINT = defineVariationPoint({
  name: "ra-order",
  owner: "@foliosim/mm",
  models: "mm/readahead.c page_cache_ra_order: the order of a readahead's large folios",
  shape: { plusTwo: "boolean" },
  builtins: [raOrderPlusTwo, raOrderHonour],
  // 6.17 and every later release honour new_order: the newest preset's value.
  defaultId: "honour",
});

export function raOrderPolicy(m: Machine): RaOrderHook {
  return resolveHook(m, RA_ORDER_POINT);
}
