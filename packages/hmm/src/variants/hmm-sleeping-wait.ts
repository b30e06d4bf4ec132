/**
 * `hmm-sleeping-wait`: b570f37a2ce4 (Thomas Hellström, "mm: Fix a hmm_range_fault()
 * livelock / starvation problem", 10 Feb 2026, Fixes: 1afaeb8293c9, Cc stable 6.15+;
 * mainline 7.0). When `do_swap_page` fails to trylock a device-private folio it calls
 * `softleaf_entry_wait_on_locked(entry, ptl)` (formerly
 * `migration_entry_wait_on_locked`): queue on the folio's lock wait queue while the
 * PTE lock still guarantees the folio, drop the PTE lock, sleep until the folio is
 * unlocked — no reference taken — and return 0 so the fault is retried.
 */

import type { Folio } from "@foliosim/folio";
import { Block, defineVariant, ModelError, op, preemptCountDec, type SpinLock, type TaskGen } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmSleepingWait = defineVariant({
  id: "hmm-sleeping-wait",
  point: "hmm",
  source: "b570f37a2ce4 (Thomas Hellström, \"mm: Fix a hmm_range_fault() livelock / starvation problem\", Feb 2026, mainline 7.0)",
  hook: { fault: "sleeping-wait", drain: "in-unmap" },
});

/**
 * `softleaf_entry_wait_on_locked(entry, ptl)`: called with the PTE lock held. One step
 * queues the task as a (non-exclusive) waiter of the folio lock — setting PG_waiters —
 * and releases the PTE lock; the next sleeps until the lock is released.
 */
export function* softleafEntryWaitOnLocked(folio: Folio, ptl: SpinLock): TaskGen<void> {
  const l = folio.lock;
  const label = `softleaf_entry_wait_on_locked(${folio.name})`;
  const queued = yield* op({
    kind: "bit_wait_prepare_unlock",
    label,
    writes: [l, ptl],
    cost: "lock",
    run: (m, t) => {
      if (ptl.owner !== t) throw new ModelError("softleaf_entry_wait_on_locked", ptl.name, "PTE lock not held");
      ptl.owner = null;
      m.markWrite(ptl);
      preemptCountDec(m, t, "spin_unlock");
      if (!l.locked) return false;
      if (!l.waiterTasks.includes(t)) l.waiterTasks.push(t);
      m.markWrite(l);
      return true;
    },
  });
  if (!queued) return;
  yield* op({
    kind: "bit_wait_sleep",
    label,
    writes: [l],
    cost: "schedule",
    block: Block.Sleep,
    mightSleep: true,
    enabled: (_m, t) => l.released.has(t) || !l.locked,
    waitFor: label,
    run: (m, t) => {
      const i = l.waiterTasks.indexOf(t);
      if (i >= 0) l.waiterTasks.splice(i, 1);
      l.released.delete(t);
      m.markWrite(l);
    },
  });
}
