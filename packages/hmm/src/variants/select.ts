/**
 * The `hmm` kernel option (`m.kernel.hmm`): which device-private fault path,
 * `hmm_range_fault` re-walk and device-migration drain policy the machine runs (hook
 * type `HmmHook`, ./points.ts). One file per variant sits beside this one; each names
 * its thread or commit:
 *
 * | id                       | fault          | re-walk       | drain             |
 * |--------------------------|----------------|---------------|-------------------|
 * | `hmm-pre-6.15`           | get-page       | —             | in-unmap          |
 * | `hmm-trylock-return`     | trylock-return | —             | in-unmap          |
 * | `hmm-cond-resched`       | trylock-return | cond_resched  | in-unmap          |
 * | `hmm-msleep`             | trylock-return | msleep(1)     | in-unmap          |
 * | `hmm-sleeping-wait`      | sleeping-wait  | —             | in-unmap          |
 * | `hmm-lru-cache-disable`  | trylock-return | —             | lru-cache-disable |
 * | `hmm-drain-outside-lock` | trylock-return | —             | outside-lock      |
 *
 * Unset means the newest release (`hmm-sleeping-wait`); an unknown value is an error
 * naming the valid ones.
 */

import { defineVariationPoint, resolveHook, resolveVariant, type Machine, type TaskGen } from "@foliosim/sim";
import { hmmCondResched } from "./hmm-cond-resched.js";
import { hmmDrainOutsideLock as drainOutsideLock } from "./hmm-drain-outside-lock.js";
import { hmmLruCacheDisable as lruCacheDisable } from "./hmm-lru-cache-disable.js";
import { hmmMsleep } from "./hmm-msleep.js";
import { hmmPre615 } from "./hmm-pre-6.15.js";
import { hmmSleepingWait } from "./hmm-sleeping-wait.js";
import { hmmTrylockReturn } from "./hmm-trylock-return.js";
import type { HmmHook } from "./points.js";

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

export const HMM_POINT = defineVariationPoint({
  name: "hmm",
  owner: "@foliosim/hmm",
  models: "mm/memory.c do_swap_page (device-private), mm/hmm.c hmm_range_fault, mm/migrate_device.c migrate_vma_setup",
  shape: { fault: ["get-page", "trylock-return", "sleeping-wait"], rewalk: "function?", drain: ["in-unmap", "lru-cache-disable", "outside-lock"] },
  builtins: [hmmPre615, hmmTrylockReturn, hmmCondResched, hmmMsleep, hmmSleepingWait, lruCacheDisable, drainOutsideLock],
  defaultId: "hmm-sleeping-wait",
});

/** The id of the variant the machine runs (a built-in `HmmVariant` or a user variant's id). */
export function hmmVariant(m: Machine): HmmVariant | (string & {}) {
  return resolveVariant(m, HMM_POINT).id;
}

export function hmmPolicy(m: Machine): HmmHook {
  return resolveHook(m, HMM_POINT);
}

/** Whether the caller of `migrate_vma_setup` holds the fault page's lock (6.15+). */
export function faultPageLockedByCaller(m: Machine): boolean {
  return hmmPolicy(m).fault !== "get-page";
}

/** Whether a failed trylock in `do_swap_page` returns 0 at once (every 6.15+ variant but the merged fix). */
export function trylockReturnsAtOnce(m: Machine): boolean {
  return hmmPolicy(m).fault === "trylock-return";
}

/** Whether a failed trylock in `do_swap_page` sleeps on the folio lock (b570f37a2ce4). */
export function sleepsOnLockedFolio(m: Machine): boolean {
  return hmmPolicy(m).fault === "sleeping-wait";
}

export function hmmLruCacheDisable(m: Machine): boolean {
  return hmmPolicy(m).drain === "lru-cache-disable";
}

export function hmmDrainOutsideLock(m: Machine): boolean {
  return hmmPolicy(m).drain === "outside-lock";
}

/** `hmm_range_fault`: after an -EBUSY re-walk. */
export function* hmmRewalk(m: Machine): TaskGen<void> {
  const rewalk = hmmPolicy(m).rewalk;
  if (rewalk) yield* rewalk();
}
