/**
 * Structural invariants of the LRU layer (model checks, no kernel counterpart), for
 * `m.addInvariant` in tests and scenarios.
 */

import { PG, folioExpectedRefCount, type Folio } from "@foliosim/folio";
import type { Machine } from "@foliosim/sim";
import { ISOLATED_HOLDER, LRU_BATCHES, LRU_LISTS, MLOCK_HOLDER, folioLruList, getLru, pendingHolder } from "./lruvec.js";
import { lruBatchClearsLru } from "./variants/batch-policy.js";

/**
 * Check, for each of `folios`:
 * - it is on at most one lruvec list, and `folio.lruList` names that list;
 * - PG_lru set ⇒ on a list; on a list with PG_lru clear ⇒ inside a recorded window:
 *   a running task's isolation, batch flush or mlock-batch move, or (only with the
 *   lru-batch-clears-lru variant) a folio queued in a non-`lru_add` batch;
 * - a folio holding the "isolated" reference is on no list and has PG_lru clear;
 * - on a list with PG_lru set, the list is the one its flags select (`folio_lru_list`);
 * - each batch's holder count in the ledger equals the number of slots holding the
 *   folio (over all CPUs), and the mlock holder equals its mlock-batch entries;
 * - no count is negative; a free folio is in no list or batch.
 * Returns the first violation, or null.
 */
export function lruInvariants(m: Machine, folios: readonly Folio[]): string | null {
  const s = getLru(m);
  const variant = lruBatchClearsLru(m);
  for (const f of folios) {
    const where = (msg: string) => `${f.name}: ${msg}`;
    if (f.refcount < 0) return where(`negative refcount ${f.refcount}`);
    for (const [h, n] of f.holders) if (n < 0) return where(`holder "${h}" is negative (${n})`);
    if (f.mlockCount < 0) return where(`negative mlock_count ${f.mlockCount}`);

    let lists = 0;
    let onList: string | null = null;
    for (const l of LRU_LISTS) {
      const n = s.lruvec.lists[l].filter((x) => x === f).length;
      if (n > 0) onList = l;
      lists += n;
    }
    if (lists > 1) return where(`on ${lists} lruvec lists`);
    if (onList !== f.lruList) return where(`folio.lruList is ${f.lruList} but the folio is on ${onList ?? "no list"}`);

    const slots: Record<string, number> = {};
    for (const fb of s.cpuFbatches) {
      for (const b of LRU_BATCHES) slots[b] = (slots[b] ?? 0) + fb.batches[b].folios.filter((x) => x === f).length;
    }
    let mlockSlots = 0;
    for (const mb of s.mlockFbatch) mlockSlots += mb.fbatch.entries.filter((e) => e.folio === f).length;

    if (f.state === "free") {
      if (onList !== null) return where(`free but on ${onList}`);
      for (const b of LRU_BATCHES) if (slots[b] > 0) return where(`free but in a ${b} batch`);
      if (mlockSlots > 0) return where("free but in an mlock batch");
      if (s.lruClearedOnList.has(f)) return where("free but recorded as moving on a list");
      continue;
    }

    for (const b of LRU_BATCHES) {
      if (f.holderCount(b) !== slots[b]) return where(`ledger holds ${f.holderCount(b)} "${b}" reference(s) but ${slots[b]} slot(s) hold the folio`);
    }
    if (f.holderCount(MLOCK_HOLDER) !== mlockSlots) {
      return where(`ledger holds ${f.holderCount(MLOCK_HOLDER)} "mlock" reference(s) but ${mlockSlots} mlock-batch entr(y/ies) hold the folio`);
    }

    const lru = f.test(PG.lru);
    const window = s.lruClearedOnList.get(f);
    if (window !== undefined) {
      if (onList === null || lru) return where(`stale PG_lru window "${window.by}" (on ${onList ?? "no list"}, PG_lru ${lru ? "set" : "clear"})`);
      if (window.task !== null) {
        if (window.task.state === "done") return where(`PG_lru left clear on ${onList} by ${window.by} in ${window.task.name}, which has finished`);
      } else {
        if (!variant) return where(`PG_lru clear on ${onList} for a queued folio (${window.by}) without the lru-batch-clears-lru variant`);
        let queued = 0;
        for (const b of LRU_BATCHES) if (b !== "lru_add") queued += slots[b] + f.holderCount(pendingHolder(b));
        if (queued === 0) return where(`PG_lru clear on ${onList} (${window.by}) but the folio is in no non-lru_add batch`);
      }
    }
    if (lru && onList === null) return where("PG_lru set but on no LRU list");
    if (!lru && onList !== null && window === undefined) return where(`on ${onList} with PG_lru clear and not being moved`);
    const isolating = window?.by === "folio_isolate_lru"; // between its folio_get and lruvec_del_folio
    if (f.holderCount(ISOLATED_HOLDER) > 0 && !isolating && (onList !== null || lru)) return where(`holds an "isolated" reference but is on ${onList ?? "no list"} with PG_lru ${lru ? "set" : "clear"}`);
    if (lru && onList !== folioLruList(f)) return where(`on ${onList} but its flags select ${folioLruList(f)}`);
  }
  return null;
}

/** `_refcount` equals the sum of the holders ledger (unless frozen), never negative. */
export function refcountMatchesHolders(folios: readonly Folio[]): string | null {
  for (const f of folios) {
    if (f.frozenAt !== undefined) continue;
    let total = 0;
    for (const n of f.holders.values()) total += n;
    if (total !== f.refcount) return `${f.name}: refcount ${f.refcount} but holders sum to ${total}`;
  }
  return null;
}

/** `ref - exp` for a folio: the references `folio_expected_ref_count` does not explain. */
export function unexplainedRefs(f: Folio): number {
  return f.refcount - folioExpectedRefCount(f);
}
