/**
 * `hmm-cond-resched`: v1 of Thomas Hellström's fix (Jan 2026, "mm/hmm: ... livelock"
 * thread of seeds 002/003): a `cond_resched()` in `hmm_range_fault`'s -EBUSY re-walk
 * loop, on top of linux-6.19. Andrew Morton's objection: a SCHED_FIFO/RR faulter does
 * not yield to the SCHED_NORMAL kworker at `cond_resched()`, so the livelock stays for
 * real-time threads. Dropped for v2.
 */

import { condResched, defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmCondResched = defineVariant({
  id: "hmm-cond-resched",
  point: "hmm",
  source: "Thomas Hellström, v1 of the hmm_range_fault() livelock fix (Jan 2026): cond_resched() in the re-walk",
  hook: {
    fault: "trylock-return",
    *rewalk() {
      yield* condResched();
    },
    drain: "in-unmap",
  },
});
