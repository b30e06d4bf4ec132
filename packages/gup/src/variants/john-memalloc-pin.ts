/**
 * Drain rule `john-memalloc-pin` of `collect_longterm_unpinnable_folios` (mm/gup.c) —
 * John Hubbard's suggestion in the thread on Will Deacon's "[PATCH] mm/gup: Drain
 * batched mlock folio processing before attempting migration" (linux-mm, Aug 2025;
 * seed 004). Not merged.
 *
 * gup.c is unchanged: the `pre-6.11` rule (./pre-6.11.ts). The change is in
 * `mlock_new_folio`, which flushes the mlock batch at once under PF_MEMALLOC_PIN
 * (@foliosim/lru's `john-memalloc-pin` variant, selected by the same kernel choice).
 * Hugh Dickins objected that the folio of S1 was mlocked by `mlock_folio` on the user
 * fault, before the pin set PF_MEMALLOC_PIN (reference §10.1, proposal 3; §12.1).
 */

import type { Folio } from "@foliosim/folio";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { DrainState } from "./points.js";
import { drainPre611 } from "./pre-6.11.js";

/** The `pre-6.11` rule: gup.c is untouched by this proposal. */
function* drain(f: Folio, pinRefs: number, s: DrainState): TaskGen<void> {
  yield* drainPre611(f, pinRefs, s);
}

export const johnMemallocPin = defineVariant({
  id: "john-memalloc-pin",
  point: "collect",
  source: "John Hubbard's suggestion in the thread on Will Deacon's \"mm/gup: Drain batched mlock folio processing before attempting migration\" (linux-mm, Aug 2025)",
  hook: { drain },
});
