/**
 * `hmm-drain-outside-lock`: Thomas Hellström's proposal in seed 002 (31 Jan 2026):
 * "if we hit a system folio not on the LRU, we'd unlock all folios, call
 * lru_add_drain_all() and retry from start". After `migrate_vma_collect`, a collected
 * system folio without PG_lru makes `migrate_vma_setup` restore everything it
 * collected (migration entries back to PTEs, unlock, put), drain every CPU with no
 * folio lock held, and collect again; `migrate_device_unmap` then never drains
 * remotely. One retry only: a folio re-batched meanwhile is simply not migrated
 * (migration is best effort). Discussed as future work; not in mainline.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmDrainOutsideLock = defineVariant({
  id: "hmm-drain-outside-lock",
  point: "hmm",
  source: "Thomas Hellström's proposal in the hmm_range_fault() livelock thread (31 Jan 2026): unlock, drain, collect again",
  hook: { fault: "trylock-return", drain: "outside-lock" },
});
