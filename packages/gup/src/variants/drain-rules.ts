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
 * A rule may also drain once at the head of the call, before the loop (`hugh-v1`).
 *
 * An unset or unknown `collect` runs `2026`.
 */

import type { Folio } from "@foliosim/folio";
import type { LruCacheDrained } from "@foliosim/lru";
import type { Machine, TaskGen } from "@foliosim/sim";
import { drain2026 } from "./2026.js";
import { drain617 } from "./6.17.js";
import { drainHughV1, drainHughV1Head } from "./hugh-v1.js";
import { drainJohnMemallocPin } from "./john-memalloc-pin.js";
import { drainPre611 } from "./pre-6.11.js";
import { drainWillV1 } from "./will-v1.js";

export const COLLECT_RULES = ["pre-6.11", "will-v1", "hugh-v1", "john-memalloc-pin", "6.17", "2026"] as const;
export type CollectRule = (typeof COLLECT_RULES)[number];

/** Per-call drain state: `drain_allow` (≤ 6.16), `drained` 0/1/2 (6.17), `enum lru_cache_drained` (2026). */
export interface DrainState {
  allow: boolean;
  ladder: 0 | 1 | 2;
  drained: { state: LruCacheDrained };
}

export function newDrainState(): DrainState {
  return { allow: true, ladder: 0, drained: { state: "NOT_DRAINED" } };
}

export function collectRule(m: Machine): CollectRule {
  const v = m.kernel.collect;
  return (COLLECT_RULES as readonly unknown[]).includes(v) ? (v as CollectRule) : "2026";
}

/** One rule: may drain for `f` (pinned with `pinRefs` references) and updates the per-call state. */
type DrainRule = (f: Folio, pinRefs: number, s: DrainState) => TaskGen<void>;

const DRAIN_RULES: Record<CollectRule, DrainRule> = {
  "pre-6.11": drainPre611,
  "will-v1": drainWillV1,
  "hugh-v1": drainHughV1,
  "john-memalloc-pin": drainJohnMemallocPin,
  "6.17": drain617,
  "2026": drain2026,
};

export function* drainBeforeIsolate(m: Machine, f: Folio, pinRefs: number, s: DrainState): TaskGen<void> {
  yield* DRAIN_RULES[collectRule(m)](f, pinRefs, s);
}

/** What a rule does once at the head of `collect_longterm_unpinnable_folios`, before the loop. */
const DRAIN_HEADS: Partial<Record<CollectRule, () => TaskGen<void>>> = {
  "hugh-v1": drainHughV1Head,
};

export function* drainAtCollectHead(m: Machine): TaskGen<void> {
  const head = DRAIN_HEADS[collectRule(m)];
  if (head) yield* head();
}
