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
 * In the same reply Hugh also asked for "an unconditional lru_add_drain() (the local CPU
 * one, not the inter-CPU _all) at the head of collect_longterm_unpinnable_folios()",
 * and Will accepted ("Sure, that's straightforward enough"): the `begin` hook runs once
 * per call, before the loop, whatever the folios are.
 *
 * Will reported that the flag test still fails: his folio was already unevictable from
 * `lru_add` (reference §10.1, proposal 2; §12.1). The local drain helps only when the
 * batch holding the reference is the pinning CPU's own (the same-CPU scenario).
 */

import { PG, type Folio } from "@foliosim/folio";
import { lruAddDrain } from "@foliosim/lru";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";
import { drainIfFlags } from "./pre-6.11.js";

/** `!folio_test_lru(folio) || (mlocked && !unevictable)` → `lru_add_drain_all()`, once per call. */
function* drain(f: Folio, _pinRefs: number, s: DrainState): TaskGen<void> {
  yield* drainIfFlags(
    f,
    s,
    "folio_test_lru || (mlocked && !unevictable)",
    (flags) => !(flags & PG.lru) || ((flags & PG.mlocked) !== 0 && !(flags & PG.unevictable)),
  );
}

/** The unconditional local `lru_add_drain()` at the head of `collect_longterm_unpinnable_folios()`. */
function* begin(): TaskGen<void> {
  yield* lruAddDrain();
}

export const hughV1 = defineVariant({
  id: "hugh-v1",
  point: "collect",
  source: "Hugh Dickins' first reply to Will Deacon's \"mm/gup: Drain batched mlock folio processing before attempting migration\" (linux-mm, Aug 2025)",
  hook: { begin, drain },
});
