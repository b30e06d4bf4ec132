/**
 * `hmm-cond-resched`: v1 of Thomas Hellström's fix (Jan 2026, "mm/hmm: ... livelock"
 * thread of seeds 002/003): a `cond_resched()` in `hmm_range_fault`'s -EBUSY re-walk
 * loop, on top of linux-6.19. Andrew Morton's objection: a SCHED_FIFO/RR faulter does
 * not yield to the SCHED_NORMAL kworker at `cond_resched()`, so the livelock stays for
 * real-time threads. Dropped for v2.
 */

import { condResched, type Machine, type TaskGen } from "@foliosim/sim";
import { hmmVariant } from "./select.js";

export function* hmmCondReschedRewalk(m: Machine): TaskGen<void> {
  if (hmmVariant(m) === "hmm-cond-resched") yield* condResched();
}
