/**
 * Variant `count-isolated` of the `__gup_longterm_locked` loop — 1aaf8c122918 ("mm:
 * gup: fix infinite loop within __get_longterm_locked", 2025), reverted by David
 * Hildenbrand in 517f496e1e61 (June 2025).
 *
 * `collect_longterm_unpinnable_folios` counts a folio as collected only once it was
 * isolated. An unpinnable folio that cannot be isolated then leaves `collected` at 0,
 * and the pin returns success with an unpinnable folio longterm-pinned: the broken
 * guarantee that got it reverted.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const countIsolated = defineVariant({
  id: "count-isolated",
  point: "gup-loop",
  source: "1aaf8c122918 (\"mm: gup: fix infinite loop within __get_longterm_locked\", 2025), reverted by 517f496e1e61",
  hook: { counts: "isolated" },
});
