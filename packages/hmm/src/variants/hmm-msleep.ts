/**
 * `hmm-msleep`: Andrew Morton's suggestion in the same thread (seed 002): sleep in the
 * `hmm_range_fault` re-walk loop instead of `cond_resched()`, so any task, FIFO
 * included, leaves the CPU to the kworker. Matthew Brost: millisecond sleeps are far
 * too slow when a GPU fault should take 10–15 us. Modelled as `msleep(1)` after every
 * -EBUSY re-walk (HZ=250: two jiffies, 8 ms). Not merged.
 */

import { currentMachine, defineVariant, msleep } from "@foliosim/sim";
import type {} from "./points.js";

export const HMM_MSLEEP_MS = 1;

export const hmmMsleep = defineVariant({
  id: "hmm-msleep",
  point: "hmm",
  source: "Andrew Morton's suggestion in the hmm_range_fault() livelock thread (Jan 2026): sleep in the loop",
  hook: {
    fault: "trylock-return",
    *rewalk() {
      yield* msleep(HMM_MSLEEP_MS, currentMachine());
    },
    drain: "in-unmap",
  },
});
