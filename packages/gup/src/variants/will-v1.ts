/**
 * Drain rule `will-v1` of `collect_longterm_unpinnable_folios` (mm/gup.c) — Will
 * Deacon, "[PATCH] mm/gup: Drain batched mlock folio processing before attempting
 * migration" (linux-mm, Aug 2025; seed 004). Not merged.
 *
 * The `pre-6.11` rule (./pre-6.11.ts) also drains when the folio is mlocked, since a
 * folio queued in another CPU's mlock batch keeps PG_lru and holds a batch reference
 * that migration cannot explain:
 *
 *     if (drain_allow && (!folio_test_lru(folio) || folio_test_mlocked(folio))) { ... }
 *
 * Reference §10.1 (proposal 1) and §12.1: on S1 it drains and the pin succeeds.
 */

import { PG, type Folio } from "@foliosim/folio";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";
import { drainIfFlags } from "./pre-6.11.js";

/** `!folio_test_lru(folio) || folio_test_mlocked(folio)` → `lru_add_drain_all()`, once per call. */
function* drain(f: Folio, _pinRefs: number, s: DrainState): TaskGen<void> {
  yield* drainIfFlags(f, s, "folio_test_lru || folio_test_mlocked", (flags) => !(flags & PG.lru) || (flags & PG.mlocked) !== 0);
}

export const willV1 = defineVariant({
  id: "will-v1",
  point: "collect",
  source: "Will Deacon, \"[PATCH] mm/gup: Drain batched mlock folio processing before attempting migration\" (linux-mm, Aug 2025)",
  hook: { drain },
});
