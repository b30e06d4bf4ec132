/**
 * The per-CPU batch policy points of mm/swap.c (hook types in ./points.ts):
 *
 * | option                      | value | file                                | source        |
 * |-----------------------------|-------|-------------------------------------|---------------|
 * | `lru-batch-clears-lru`      | `off` | ./lru-batch-flush-clears-lru.ts     | mainline      |
 * | `lru-batch-clears-lru`      | `on`  | ./lru-batch-clears-lru.ts           | 33dfe9204f29  |
 * | `lru-drain-all-local-first` | `off` | ./lru-add-drain-all-mainline.ts     | ≤ 6.17        |
 * | `lru-drain-all-local-first` | `on`  | ./lru-add-drain-all-local-first.ts  | 6.18          |
 *
 * `true`/`false` in `MachineConfig.kernel` mean `on`/`off`. An unset option runs the
 * newest release's value; an unknown one is an error naming the valid values.
 *
 * John Hubbard's mlock flush (./john-memalloc-pin.ts) is the lru half of the `collect`
 * value `john-memalloc-pin` (one proposal touching gup.c and mlock.c), so it is
 * selected by that option rather than being a point of its own.
 */

import { defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import { lruDrainAllLocalFirstOff } from "./lru-add-drain-all-mainline.js";
import { lruDrainAllLocalFirstOn } from "./lru-add-drain-all-local-first.js";
import { lruBatchClearsLruOn } from "./lru-batch-clears-lru.js";
import { lruBatchClearsLruOff } from "./lru-batch-flush-clears-lru.js";
import type { LruBatchHook, LruDrainAllHook } from "./points.js";

export const LRU_BATCH_CLEARS_LRU = "lru-batch-clears-lru";

export const LRU_BATCH_POINT = defineVariationPoint({
  name: "lru-batch-clears-lru",
  owner: "@foliosim/lru",
  models: "mm/swap.c __folio_batch_add_and_move / folio_batch_move_lru: the per-CPU batch policy",
  shape: { clearsLruAtQueue: "boolean", flushAtOnce: "function?" },
  builtins: [lruBatchClearsLruOff, lruBatchClearsLruOn],
  defaultId: "off",
});

export const LRU_DRAIN_ALL_POINT = defineVariationPoint({
  name: "lru-drain-all-local-first",
  owner: "@foliosim/lru",
  models: "mm/swap.c __lru_add_drain_all: before taking lru_drain_mutex",
  shape: { afterSnapshot: "function?" },
  builtins: [lruDrainAllLocalFirstOff, lruDrainAllLocalFirstOn],
  // Every release since 6.18 drains locally first: the newest preset's value.
  defaultId: "on",
});

export function lruBatchPolicy(m: Machine): LruBatchHook {
  return resolveHook(m, LRU_BATCH_POINT);
}

/** Whether queueing clears PG_lru (33dfe9204f29 or a variant that does the same). */
export function lruBatchClearsLru(m: Machine): boolean {
  return resolveHook(m, LRU_BATCH_POINT).clearsLruAtQueue;
}

export function lruDrainAllPolicy(m: Machine): LruDrainAllHook {
  return resolveHook(m, LRU_DRAIN_ALL_POINT);
}

/** Whether `lru_add_drain_all` drains the caller's CPU first (6.18). */
export function lruAddDrainAllLocalFirst(m: Machine): boolean {
  return resolveHook(m, LRU_DRAIN_ALL_POINT).afterSnapshot !== undefined;
}
