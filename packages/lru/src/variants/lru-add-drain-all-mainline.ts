/**
 * Value `off` of the `lru-drain-all-local-first` option: `__lru_add_drain_all` before
 * 6.18 — snapshot `lru_drain_gen`, take the mutex, and leave the caller's own CPU to
 * the kworker like every other CPU.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const lruDrainAllLocalFirstOff = defineVariant({
  id: "off",
  point: "lru-drain-all-local-first",
  source: "mainline mm/swap.c __lru_add_drain_all up to 6.17",
  hook: {},
});
