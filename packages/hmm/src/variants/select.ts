/**
 * The `hmm` kernel option (`m.kernel.hmm`): which device-private fault path and
 * device-migration drain policy the machine runs. One file per variant sits beside
 * this one; each names its thread or commit. Unset means current mainline (7.0,
 * `hmm-sleeping-wait`).
 */

import { SimConfigError, type Machine } from "@foliosim/sim";

export const HMM_VARIANTS = [
  "hmm-pre-6.15",
  "hmm-trylock-return",
  "hmm-cond-resched",
  "hmm-msleep",
  "hmm-sleeping-wait",
  "hmm-lru-cache-disable",
  "hmm-drain-outside-lock",
] as const;

export type HmmVariant = (typeof HMM_VARIANTS)[number];

export function hmmVariant(m: Machine): HmmVariant {
  const v = m.kernel.hmm ?? "hmm-sleeping-wait";
  if (!(HMM_VARIANTS as readonly unknown[]).includes(v)) throw new SimConfigError("kernel.hmm", HMM_VARIANTS.join(" | "), v);
  return v as HmmVariant;
}
