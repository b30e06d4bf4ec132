/**
 * The `gup-loop` variation point: how `collect_longterm_unpinnable_folios` (mm/gup.c)
 * counts for `__gup_longterm_locked`'s loop. One file per variant beside this one:
 *
 * | id                | file                 | source                                   |
 * |-------------------|----------------------|------------------------------------------|
 * | `count-collected` | ./count-collected.ts | mainline: every unpinnable folio counts  |
 * | `count-isolated`  | ./count-isolated.ts  | 1aaf8c122918, reverted by 517f496e1e61   |
 *
 * An unset option runs `count-collected` (the newest release); an unknown one is an
 * error naming these values.
 */

import { defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import { countCollected } from "./count-collected.js";
import { countIsolated } from "./count-isolated.js";

export const GUP_LOOP_POINT = defineVariationPoint({
  name: "gup-loop",
  owner: "@foliosim/gup",
  models: "mm/gup.c __gup_longterm_locked / collect_longterm_unpinnable_folios counting",
  shape: { counts: ["collected", "isolated"] },
  builtins: [countCollected, countIsolated],
  defaultId: "count-collected",
});

/** Whether the machine counts a folio only once it was isolated. */
export function gupCountIsolated(m: Machine): boolean {
  return resolveHook(m, GUP_LOOP_POINT).counts === "isolated";
}
