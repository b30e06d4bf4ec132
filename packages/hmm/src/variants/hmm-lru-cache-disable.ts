/**
 * `hmm-lru-cache-disable`: John Hubbard's diff in seed 002 (30 Jan 2026):
 * `lru_cache_disable()`/`lru_cache_enable()` around `migrate_vma_setup`'s collect +
 * unmap and around `migrate_device_range`/`migrate_device_pfns`, and no
 * `lru_add_drain_all()` inside `migrate_device_unmap`. Per-CPU batches are empty and
 * stay empty while disabled, so no drain happens with folio locks held; each migration
 * pays a `synchronize_rcu_expedited()` (Thomas Hellström: "a huge performance killer";
 * Matthew Brost measured orders-of-magnitude slowdowns and hit a deadlock). Not merged.
 */

import type { Machine } from "@foliosim/sim";
import { hmmVariant } from "./select.js";

export function hmmLruCacheDisable(m: Machine): boolean {
  return hmmVariant(m) === "hmm-lru-cache-disable";
}
