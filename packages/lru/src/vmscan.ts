/**
 * Folio isolation from mm/vmscan.c: `folio_isolate_lru`, and `folio_putback_lru`
 * (mm/vmscan.c in older trees, mm/swap.c later: `folio_add_lru` + `folio_put`).
 *
 * Simplifications: one lruvec; no `isolate_lru_folios` (reclaim's bulk isolation) and
 * no NR_ISOLATED statistics. The isolation reference is held as "isolated"; while
 * `folio_putback_lru` runs, the caller's reference is held as "putback" (the folio is
 * already on its way back to an LRU and no longer counts as isolated).
 */

import { PG, folioGet, folioPut, transferHolder, type Folio } from "@foliosim/folio";
import { ModelError, currentMachine, op, traced, uncheckedReadsBegin, uncheckedReadsEnd, type Op, type TaskGen } from "@foliosim/sim";
import { ISOLATED_HOLDER, getLru, lruvecDelFolio, lruvecLock, lruvecUnlock, type LruState } from "./lruvec.js";
import { folioAddLru } from "./swap.js";

/** Holder name of the caller's reference while `folio_putback_lru` runs. */
export const PUTBACK_HOLDER = "putback";

/**
 * `folio_isolate_lru`: take a folio off its LRU list. Succeeds only if this caller
 * cleared PG_lru; then takes the isolation reference (+1). Never waits or retries.
 * The caller must hold a reference.
 */
export function folioIsolateLru(f: Folio): TaskGen<boolean> {
  return traced("folio_isolate_lru", folioIsolateLruBody(f));
}

function* folioIsolateLruBody(f: Folio): TaskGen<boolean> {
  const s = getLru(currentMachine());
  const cleared = yield* op({
    kind: "folio_test_clear_flag",
    label: "folio_test_clear_lru",
    reads: [f.ref],
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m, t) => {
      if (f.refcount === 0) throw new ModelError("folio_isolate_lru", f.name, "VM_BUG_ON_FOLIO(!folio_ref_count(folio))");
      if (!f.test(PG.lru)) return false;
      f.clearBits(PG.lru);
      m.markWrite(f.flagsWord);
      s.lruClearedOnList.set(f, { by: "folio_isolate_lru", task: t });
      return true;
    },
  });
  if (!cleared) return false;
  yield* folioGet(f, ISOLATED_HOLDER);
  yield* lruvecLock(s, "folio_lruvec_lock_irq");
  yield* delOp(s, f);
  yield* lruvecUnlock(s, "unlock_page_lruvec_irq");
  return true;
}

function delOp(s: LruState, f: Folio): Op<void> {
  return op({
    kind: "lru_move",
    label: "lruvec_del_folio",
    writes: [s.lruvec, f.flagsWord],
    cost: "lruMoveFolio",
    run: (m) => {
      lruvecDelFolio(m, s, f);
      s.lruClearedOnList.delete(f);
      const quiet = uncheckedReadsBegin(); // a tracepoint's field
      m.event("folio_isolate_lru", f.name).arg("count", f.refcount);
      uncheckedReadsEnd(quiet);
    },
  });
}

/**
 * `folio_putback_lru`: `folio_add_lru` then `folio_put`. The caller gives up its
 * "isolated" reference; the folio sits in this CPU's `lru_add` batch (PG_lru clear)
 * until that batch is flushed.
 */
export function folioPutbackLru(f: Folio): TaskGen<void> {
  return traced("folio_putback_lru", folioPutbackLruBody(f));
}

function* folioPutbackLruBody(f: Folio): TaskGen<void> {
  if (f.holderCount(ISOLATED_HOLDER) === 0) throw new ModelError("folio_putback_lru", f.name, "putting back a folio nobody isolated");
  transferHolder(f, ISOLATED_HOLDER, PUTBACK_HOLDER);
  yield* folioAddLru(f);
  yield* folioPut(f, PUTBACK_HOLDER);
}
