/**
 * Default costs of the LRU layer (virtual nanoseconds), registered with the machine's
 * cost model at module load. Each is an order-of-magnitude assumption; scenarios may
 * override any of them through `MachineConfig.costs`.
 */

import { defineCosts } from "@foliosim/sim";

export const LRU_COSTS = {
  /** `folio_lruvec_lock_irqsave` / `unlock_page_lruvec_irqrestore`: one atomic on the
   *  lru_lock cache line, which bounces between CPUs under reclaim or drain load
   *  (40-100 cycles of line transfer), plus local_irq_save/restore (a few cycles). */
  lruvecLock: 60,
  /** One folio moved by a batch move function under the lruvec lock: `list_del` and
   *  `list_add` touch the folio and two neighbours (a few cache misses, ~10-20 ns each)
   *  plus the per-CPU lruvec/zone statistics update (`update_lru_size`). */
  lruMoveFolio: 50,
  /** `folio_batch_add`: a store into the per-CPU batch array and a count update, an L1 hit. */
  folioBatchAdd: 5,
  /** One batch reference dropped by `folios_put`: an atomic decrement on the folio's
   *  refcount line, usually cold after the list move (the `atomic` figure). */
  foliosPutOne: 20,
  /** `cpu_needs_drain(cpu)`: racy reads of seven batch counts (plus the bh LRU) in
   *  another CPU's per-CPU area: two or three remote cache lines, ~100 ns each at worst. */
  cpuNeedsDrain: 200,
  /** Flag and state tests at the entry of `folio_activate` and friends: loads of the
   *  folio's flags word, usually hot because the caller just touched the folio. */
  lruEntryCheck: 3,
} as const;

defineCosts(LRU_COSTS);
