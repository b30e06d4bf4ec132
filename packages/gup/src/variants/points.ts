/**
 * The variation points of mm/gup.c, as public hook types (see `defineVariant` in
 * @foliosim/sim):
 *
 * - `collect` — the drain decision of `collect_longterm_unpinnable_folios`: what the
 *   kernel does for one unpinnable folio before `folio_isolate_lru`, with the per-call
 *   state the rules share (`drain_allow` ≤ 6.16, the `drained` ladder of 6.17, `enum
 *   lru_cache_drained` of 2026). Built-ins: ./drain-rules.ts.
 * - `gup-loop` — how `__gup_longterm_locked`'s collection counts a folio: when it is
 *   found unpinnable (mainline) or only once it was isolated (1aaf8c122918, reverted).
 *   Built-ins: ./gup-loop.ts.
 * - `longterm-migrate-error` — what `migrate_longterm_unpinnable_folios` makes of a
 *   `migrate_pages()` failure: -ENOMEM always (mainline), or -ENOMEM unless it was
 *   -EAGAIN (John Hubbard's RFC, 2024). Built-ins: ./longterm-migrate-error.ts.
 *
 * A hook yields machine operations (`yield* lruAddDrainAll()`, `yield* op({...})`);
 * reading a folio's flags or reference count is an op with the folio's objects in its
 * footprint, never a direct field read.
 */

import type { Folio } from "@foliosim/folio";
import type { LruCacheDrained } from "@foliosim/lru";
import type { TaskGen } from "@foliosim/sim";

/** Per-call drain state of `collect_longterm_unpinnable_folios`, shared by the rules. */
export interface DrainState {
  /** `drain_allow` (≤ 6.16): one `lru_add_drain_all()` per call. */
  allow: boolean;
  /** `drained` 0/1/2 (6.17): local drain done, global drain done. */
  ladder: 0 | 1 | 2;
  /** `enum lru_cache_drained` (2026), passed to `lru_cache_drain_for_folio`. */
  drained: { state: LruCacheDrained };
  /** Scratch space for a variant's own per-call state (fresh for every call). */
  local: Record<string, unknown>;
}

export function newDrainState(): DrainState {
  return { allow: true, ladder: 0, drained: { state: "NOT_DRAINED" }, local: {} };
}

/** The `collect` point: the drain rule of `collect_longterm_unpinnable_folios`. */
export interface CollectHook {
  /** Once per call, at the head of the function, before the first folio (optional). */
  begin?(s: DrainState): TaskGen<void>;
  /**
   * For each unpinnable folio that is not device-coherent, before `folio_isolate_lru`:
   * `f` is pinned by this call with `pinRefs` references (1 with `_pincount`,
   * GUP_PIN_COUNTING_BIAS otherwise). May drain; updates `s`.
   */
  drain(f: Folio, pinRefs: number, s: DrainState): TaskGen<void>;
}

/** The `gup-loop` point: when `collect_longterm_unpinnable_folios` counts a folio as collected. */
export interface GupLoopHook {
  /** `"collected"`: every unpinnable folio (mainline); `"isolated"`: only one it isolated. */
  counts: "collected" | "isolated";
}

/** The `longterm-migrate-error` point: the errno of a failed `migrate_pages()` in `migrate_longterm_unpinnable_folios`. */
export interface LongtermMigrateErrorHook {
  /** false: every failure is -ENOMEM (mainline); true: a -EAGAIN from `migrate_pages()` is not turned into -ENOMEM. */
  keepEagain: boolean;
}

declare module "@foliosim/sim" {
  interface VariationPoints {
    collect: CollectHook;
    "gup-loop": GupLoopHook;
    "longterm-migrate-error": LongtermMigrateErrorHook;
  }
}
