/**
 * `hmm-lru-cache-disable`: John Hubbard's diff in seed 002 (30 Jan 2026):
 * `lru_cache_disable()`/`lru_cache_enable()` around `migrate_vma_setup`'s collect +
 * unmap and around `migrate_device_range`/`migrate_device_pfns`, and no
 * `lru_add_drain_all()` inside `migrate_device_unmap`. Per-CPU batches are empty and
 * stay empty while disabled, so no drain happens with folio locks held; each migration
 * pays a `synchronize_rcu_expedited()` (Thomas Hellström: "a huge performance killer";
 * Matthew Brost measured orders-of-magnitude slowdowns and hit a deadlock). Not merged.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmLruCacheDisable = defineVariant({
  id: "hmm-lru-cache-disable",
  point: "hmm",
  source: "John Hubbard's diff in the hmm_range_fault() livelock thread (30 Jan 2026): lru_cache_disable()/enable() around migrate_vma_setup()",
  hook: { fault: "trylock-return", drain: "lru-cache-disable" },
});
