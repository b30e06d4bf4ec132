/**
 * The drain decision of `collect_longterm_unpinnable_folios` (mm/gup.c), one rule per
 * kernel or proposal, selected by `m.kernel.collect`. Each rule sees one unpinnable
 * folio and the per-call drain state, and may drain before isolation is attempted.
 *
 * - `pre-6.11` (≤ 6.16 mainline): `if (!folio_test_lru(folio) && drain_allow)
 *   { lru_add_drain_all(); drain_allow = false; }`.
 * - `will-v1` — Will Deacon, "mm/gup: Drain batched mlock folio processing before
 *   attempting migration" (Aug 2025): also drain when `folio_test_mlocked`.
 * - `hugh-v1` — Hugh Dickins' first reply in that thread: drain when
 *   `folio_test_mlocked && !folio_test_unevictable`.
 * - `john-memalloc-pin` — John Hubbard's suggestion in that thread: gup.c unchanged
 *   (the `pre-6.11` rule); `mlock_new_folio` flushes at once under PF_MEMALLOC_PIN
 *   (@foliosim/lru's john-memalloc-pin variant).
 * - `6.17` — Hugh Dickins, "mm/gup: check ref_count instead of lru before migration"
 *   and "mm/gup: local lru_add_drain() to avoid lru_add_drain_all()" (6.17-rc, Sep
 *   2025): `ref != expected + 1` → local drain, then once more → global drain.
 * - `2026` — "mm/gup: fix always draining LRU caches in
 *   collect_longterm_unpinnable_folios()": `lru_cache_drain_for_folio(folio,
 *   pin_refs, &drained)`, the same ladder with the pin-reference target.
 */

import { folioExpectedRefCount, folioMayBeLruCached, PG, type Folio } from "@foliosim/folio";
import { lruAddDrain, lruAddDrainAll, lruCacheDrainForFolio, type LruCacheDrained } from "@foliosim/lru";
import { op, type Machine, type Op, type TaskGen } from "@foliosim/sim";

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

/** One read of the folio flags the rule looks at (one atomic test each in the kernel). */
function readFlags(f: Folio, label: string): Op<number> {
  return op({ kind: "folio_test_flag", label, reads: [f.flagsWord], cost: "plain", run: () => f.flags });
}

function readRef(f: Folio): Op<{ ref: number; expected: number }> {
  return op({
    kind: "folio_ref_count",
    label: "folio_ref_count",
    reads: [f.ref, f.map],
    cost: "plain",
    run: () => ({ ref: f.refcount, expected: folioExpectedRefCount(f) }),
  });
}

export function* drainBeforeIsolate(m: Machine, f: Folio, pinRefs: number, s: DrainState): TaskGen<void> {
  const rule = collectRule(m);
  switch (rule) {
    case "pre-6.11":
    case "john-memalloc-pin": {
      if (!s.allow) return;
      const flags = yield* readFlags(f, "folio_test_lru");
      if (!(flags & PG.lru)) {
        yield* lruAddDrainAll();
        s.allow = false;
      }
      return;
    }
    case "will-v1": {
      if (!s.allow) return;
      const flags = yield* readFlags(f, "folio_test_lru || folio_test_mlocked");
      if (!(flags & PG.lru) || flags & PG.mlocked) {
        yield* lruAddDrainAll();
        s.allow = false;
      }
      return;
    }
    case "hugh-v1": {
      if (!s.allow) return;
      const flags = yield* readFlags(f, "folio_test_lru || (mlocked && !unevictable)");
      if (!(flags & PG.lru) || (flags & PG.mlocked && !(flags & PG.unevictable))) {
        yield* lruAddDrainAll();
        s.allow = false;
      }
      return;
    }
    case "6.17": {
      if (!folioMayBeLruCached(f)) return;
      if (s.ladder === 0) {
        const { ref, expected } = yield* readRef(f);
        if (ref !== expected + 1) {
          yield* lruAddDrain();
          s.ladder = 1;
        }
      }
      if (s.ladder === 1) {
        const { ref, expected } = yield* readRef(f);
        if (ref !== expected + 1) {
          yield* lruAddDrainAll();
          s.ladder = 2;
        }
      }
      return;
    }
    case "2026":
      yield* lruCacheDrainForFolio(f, pinRefs, s.drained);
      return;
  }
}
