/**
 * `hmm-msleep`: Andrew Morton's suggestion in the same thread (seed 002): sleep in the
 * `hmm_range_fault` re-walk loop instead of `cond_resched()`, so any task, FIFO
 * included, leaves the CPU to the kworker. Matthew Brost: millisecond sleeps are far
 * too slow when a GPU fault should take 10–15 us. Modelled as `msleep(1)` after every
 * -EBUSY re-walk (HZ=250: two jiffies, 8 ms). Not merged.
 */

import { msleep, type Machine, type TaskGen } from "@foliosim/sim";
import { hmmVariant } from "./select.js";

export const HMM_MSLEEP_MS = 1;

export function* hmmMsleepRewalk(m: Machine): TaskGen<void> {
  if (hmmVariant(m) === "hmm-msleep") yield* msleep(HMM_MSLEEP_MS, m);
}
