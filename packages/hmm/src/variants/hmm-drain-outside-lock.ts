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

import type { Machine } from "@foliosim/sim";
import { hmmVariant } from "./select.js";

export function hmmDrainOutsideLock(m: Machine): boolean {
  return hmmVariant(m) === "hmm-drain-outside-lock";
}
