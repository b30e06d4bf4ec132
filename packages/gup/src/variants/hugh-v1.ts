/**
 * Drain rule `hugh-v1` of `collect_longterm_unpinnable_folios` (mm/gup.c) — Hugh
 * Dickins' first reply to Will Deacon's "[PATCH] mm/gup: Drain batched mlock folio
 * processing before attempting migration" (linux-mm, Aug 2025; seed 004). Not merged.
 *
 * The `pre-6.11` rule (./pre-6.11.ts) also drains when the folio is mlocked but not
 * yet unevictable, i.e. still waiting in an mlock batch:
 *
 *     if (drain_allow && (!folio_test_lru(folio) ||
 *                         (folio_test_mlocked(folio) && !folio_test_unevictable(folio)))) { ... }
 *
 * Will reported that it still fails: his folio was already unevictable from `lru_add`
 * (reference §10.1, proposal 2; §12.1).
 */

import { PG, type Folio } from "@foliosim/folio";
import type { TaskGen } from "@foliosim/sim";
import type { DrainState } from "./drain-rules.js";
import { drainIfFlags } from "./pre-6.11.js";

/** `!folio_test_lru(folio) || (mlocked && !unevictable)` → `lru_add_drain_all()`, once per call. */
export function* drainHughV1(f: Folio, _pinRefs: number, s: DrainState): TaskGen<void> {
  yield* drainIfFlags(
    f,
    s,
    "folio_test_lru || (mlocked && !unevictable)",
    (flags) => !(flags & PG.lru) || ((flags & PG.mlocked) !== 0 && !(flags & PG.unevictable)),
  );
}
