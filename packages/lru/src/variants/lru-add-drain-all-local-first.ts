/**
 * Variant `lru-drain-all-local-first`: Hugh Dickins, "mm: lru_add_drain_all() do local
 * lru_add_drain() first" (patch 7/7 of v1 of "mm: better GUP pin lru_add_drain_all()",
 * August 2025; merged for 6.18).
 *
 * What it changes: `__lru_add_drain_all` calls `lru_add_drain()` on the calling CPU
 * right after taking its `lru_drain_gen` snapshot, before the mutex. The caller's own
 * CPU is then drained even when the generation short-circuit skips the full drain, and
 * usually needs no work item of its own.
 *
 * The value `on` of the `lru-drain-all-local-first` option (`true` in
 * `MachineConfig.kernel`): the `afterSnapshot` hook.
 */

import { defineVariant } from "@foliosim/sim";
import type { LruDrainOps } from "./points.js";

export const lruDrainAllLocalFirstOn = defineVariant({
  id: "on",
  point: "lru-drain-all-local-first",
  source: "Hugh Dickins, \"mm: lru_add_drain_all() do local lru_add_drain() first\" (Aug 2025, merged for 6.18)",
  hook: {
    *afterSnapshot(ops: LruDrainOps) {
      yield* ops.lruAddDrain();
    },
  },
});
