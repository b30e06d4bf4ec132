/**
 * Variant `count-collected` of the `__gup_longterm_locked` loop (mm/gup.c), mainline:
 * `collect_longterm_unpinnable_folios` counts every unpinnable folio, isolated or not,
 * so `__gup_longterm_locked` unpins and retries until none is left (517f496e1e61,
 * David Hildenbrand, "Revert "mm: gup: fix infinite loop within
 * __get_longterm_locked"", June 2025).
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const countCollected = defineVariant({
  id: "count-collected",
  point: "gup-loop",
  source: "mainline mm/gup.c; 517f496e1e61 (David Hildenbrand, June 2025) restored it",
  hook: { counts: "collected" },
});
