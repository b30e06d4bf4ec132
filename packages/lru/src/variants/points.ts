/**
 * The variation points of mm/swap.c, as public hook types (see `defineVariant` in
 * @foliosim/sim):
 *
 * - `lru-batch-clears-lru` — the per-CPU batch policy of `__folio_batch_add_and_move`
 *   and `folio_batch_move_lru`: whether queueing a folio in a non-`lru_add` batch
 *   clears PG_lru (33dfe9204f29, 6.11–6.16) or the flush does (mainline), and whether
 *   a queued folio is flushed at once. Built-ins: ./batch-policy.ts.
 * - `lru-drain-all-local-first` — `__lru_add_drain_all`: what the caller does between
 *   its `lru_drain_gen` snapshot and the mutex (6.18: a local `lru_add_drain()`).
 *   Built-ins: ./drain-all-policy.ts.
 *
 * Both are on/off options of the presets (`on`/`off`, booleans in `MachineConfig.kernel`);
 * a user variant is a third value.
 */

import type { Folio } from "@foliosim/folio";
import type { TaskGen } from "@foliosim/sim";
import type { LruBatchName } from "../lruvec.js";

/** What a batch-policy hook knows when a folio is queued (task-local facts only). */
export interface BatchQueueing {
  folio: Folio;
  /** The `cpu_fbatches` batch it goes to. */
  batch: LruBatchName;
}

/** The `lru-batch-clears-lru` point's hook. */
export interface LruBatchHook {
  /**
   * 33dfe9204f29: queueing in a non-`lru_add` batch first does `folio_test_clear_lru`
   * (a folio that fails it is not queued), and the flush sets PG_lru again. Mainline:
   * false (the flush tests and clears PG_lru).
   */
  clearsLruAtQueue: boolean;
  /**
   * After the kernel's own reasons to flush (batch full, large folio, LRU cache
   * disabled): whether this queueing flushes the batch at once. Pure (no shared state:
   * decide on the batch and the folio's identity). Default: never.
   */
  flushAtOnce?(q: BatchQueueing): boolean;
}

/** The mm/swap.c operations a drain-all hook is handed (a variant inside this package cannot import swap.ts). */
export interface LruDrainOps {
  /** `lru_add_drain()` on the current CPU. */
  lruAddDrain(): TaskGen<void>;
}

/** The `lru-drain-all-local-first` point's hook. */
export interface LruDrainAllHook {
  /** `__lru_add_drain_all`, after `this_gen = smp_load_acquire(&lru_drain_gen)`, before the mutex. */
  afterSnapshot?(ops: LruDrainOps): TaskGen<void>;
}

declare module "@foliosim/sim" {
  interface VariationPoints {
    "lru-batch-clears-lru": LruBatchHook;
    "lru-drain-all-local-first": LruDrainAllHook;
  }
}
