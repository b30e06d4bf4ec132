/**
 * The drain decision of `collect_longterm_unpinnable_folios` (mm/gup.c): which rule
 * the machine runs (`m.kernel.collect`), the per-call drain state the rules share, and
 * the dispatch. Each rule sees one unpinnable folio and may drain before isolation is
 * attempted; each lives in its own file beside this one, citing its proposal:
 *
 * | rule                | file                   | source                                        |
 * |---------------------|------------------------|-----------------------------------------------|
 * | `pre-6.11`          | ./pre-6.11.ts          | mainline ≤ 6.16: `!lru` → drain all, once     |
 * | `will-v1`           | ./will-v1.ts           | Will Deacon, Aug 2025: also when mlocked      |
 * | `hugh-v1`           | ./hugh-v1.ts           | Hugh Dickins' first reply: local drain first; mlocked, !unevictable |
 * | `john-memalloc-pin` | ./john-memalloc-pin.ts | John Hubbard: gup.c unchanged, mlock flush    |
 * | `6.17`              | ./6.17.ts              | Hugh Dickins, 6.17–7.2: ref ladder, +1 target |
 * | `2026`              | ./2026.ts              | mainline since 7.3: ladder, pin-reference target |
 *
 * An unset `collect` runs `2026` (the newest release); an unknown value is an error
 * naming the valid ones. The hook type (`CollectHook`) and the per-call state
 * (`DrainState`) are in ./points.ts; a user variant is `defineVariant({ point:
 * "collect", hook: { drain } })` (see @foliosim/sim).
 */

import type { Folio } from "@foliosim/folio";
import { defineVariationPoint, resolveHook, resolveVariant, type Machine, type TaskGen } from "@foliosim/sim";
import { rule2026 } from "./2026.js";
import { rule617 } from "./6.17.js";
import { hughV1 } from "./hugh-v1.js";
import { johnMemallocPin } from "./john-memalloc-pin.js";
import type { DrainState } from "./points.js";
import { rulePre611 } from "./pre-6.11.js";
import { willV1 } from "./will-v1.js";

export { newDrainState, type CollectHook, type DrainState } from "./points.js";

export const COLLECT_RULES = ["pre-6.11", "will-v1", "hugh-v1", "john-memalloc-pin", "6.17", "2026"] as const;
export type CollectRule = (typeof COLLECT_RULES)[number];

export const COLLECT_POINT = defineVariationPoint({
  name: "collect",
  owner: "@foliosim/gup",
  models: "mm/gup.c collect_longterm_unpinnable_folios: the drain before folio_isolate_lru",
  shape: { begin: "function?", drain: "function" },
  builtins: [rulePre611, willV1, hughV1, johnMemallocPin, rule617, rule2026],
  defaultId: "2026",
});

/** The id of the rule the machine runs (a built-in `CollectRule` or a user variant's id). */
export function collectRule(m: Machine): CollectRule | (string & {}) {
  return resolveVariant(m, COLLECT_POINT).id;
}

/** At the head of the call: the rule's `begin`, if it has one. */
export function* drainAtCollectStart(m: Machine, s: DrainState): TaskGen<void> {
  const begin = resolveHook(m, COLLECT_POINT).begin;
  if (begin) yield* begin(s);
}

export function* drainBeforeIsolate(m: Machine, f: Folio, pinRefs: number, s: DrainState): TaskGen<void> {
  yield* resolveHook(m, COLLECT_POINT).drain(f, pinRefs, s);
}
