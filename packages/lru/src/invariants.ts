/**
 * Structural invariants of the LRU layer (model checks, no kernel counterpart), for
 * `m.addInvariant` in tests and scenarios.
 */

import { PG, folioExpectedRefCount, type Folio } from "@foliosim/folio";
import type { Machine } from "@foliosim/sim";
import { ISOLATED_HOLDER, LRU_BATCHES, LRU_LISTS, MLOCK_HOLDER, folioLruList, getLru, pendingHolder, type LruListName } from "./lruvec.js";
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
  // One pass over the lists and batches (not one per folio): the checks below then
  // look each folio up, in the order of `folios`, and report the same first violation.
  const where = wherePlaces(s);
  for (const f of folios) {
    if (f.refcount < 0) return `${f.name}: negative refcount ${f.refcount}`;
    for (const [h, n] of f.holders) if (n < 0) return `${f.name}: holder "${h}" is negative (${n})`;
    if (f.mlockCount < 0) return `${f.name}: negative mlock_count ${f.mlockCount}`;
    const msg = folioLruProblem(s, f, where.get(f) ?? NOWHERE, variant);
    if (msg !== null) {
      where.clear();
      return `${f.name}: ${msg}`;
    }
  }
  where.clear(); // keep no folio of this run alive
  return null;
}

/** Where the lists and batches hold one folio: list entries, the last list holding it, batch slots per batch (LRU_BATCHES order), mlock-batch entries. */
interface Places {
  lists: number;
  onList: LruListName | null;
  slots: number[];
  mlock: number;
}

const NOWHERE: Places = { lists: 0, onList: null, slots: LRU_BATCHES.map(() => 0), mlock: 0 };

/** Scratch for `wherePlaces`, reused by every call (invariant checks never nest): a check allocates nothing. */
const PLACES = new Map<Folio, Places>();
const POOL: Places[] = [];

function wherePlaces(s: ReturnType<typeof getLru>): Map<Folio, Places> {
  const out = PLACES;
  out.clear();
  let used = 0;
  const at = (f: Folio): Places => {
    let p = out.get(f);
    if (p === undefined) {
      p = POOL[used];
      if (p === undefined) POOL.push((p = { lists: 0, onList: null, slots: LRU_BATCHES.map(() => 0), mlock: 0 }));
      else {
        p.lists = 0;
        p.onList = null;
        p.slots.fill(0);
        p.mlock = 0;
      }
      used++;
      out.set(f, p);
    }
    return p;
  };
  for (const l of LRU_LISTS) {
    for (const f of s.lruvec.lists[l]) {
      const p = at(f);
      p.lists++;
      p.onList = l;
    }
  }
  for (const fb of s.cpuFbatches) {
    for (let b = 0; b < LRU_BATCHES.length; b++) for (const f of fb.batches[LRU_BATCHES[b]].folios) at(f).slots[b]++;
  }
  for (const mb of s.mlockFbatch) for (const e of mb.fbatch.entries) at(e.folio).mlock++;
  return out;
}

/** The first LRU-layer problem of one folio (without its name), or null. */
function folioLruProblem(s: ReturnType<typeof getLru>, f: Folio, p: Places, variant: boolean): string | null {
  const onList = p.onList;
  if (p.lists > 1) return `on ${p.lists} lruvec lists`;
  if (onList !== f.lruList) return `folio.lruList is ${f.lruList} but the folio is on ${onList ?? "no list"}`;
  if (f.state === "free") {
    if (onList !== null) return `free but on ${onList}`;
    for (let b = 0; b < LRU_BATCHES.length; b++) if (p.slots[b] > 0) return `free but in a ${LRU_BATCHES[b]} batch`;
    if (p.mlock > 0) return "free but in an mlock batch";
    if (s.lruClearedOnList.has(f)) return "free but recorded as moving on a list";
    return null;
  }
  for (let b = 0; b < LRU_BATCHES.length; b++) {
    const held = f.holderCount(LRU_BATCHES[b]);
    if (held !== p.slots[b]) return `ledger holds ${held} "${LRU_BATCHES[b]}" reference(s) but ${p.slots[b]} slot(s) hold the folio`;
  }
  if (f.holderCount(MLOCK_HOLDER) !== p.mlock) {
    return `ledger holds ${f.holderCount(MLOCK_HOLDER)} "mlock" reference(s) but ${p.mlock} mlock-batch entr(y/ies) hold the folio`;
  }
  const lru = f.test(PG.lru);
  const window = s.lruClearedOnList.get(f);
  if (window !== undefined) {
    if (onList === null || lru) return `stale PG_lru window "${window.by}" (on ${onList ?? "no list"}, PG_lru ${lru ? "set" : "clear"})`;
    if (window.task !== null) {
      if (window.task.state === "done") return `PG_lru left clear on ${onList} by ${window.by} in ${window.task.name}, which has finished`;
    } else {
      if (!variant) return `PG_lru clear on ${onList} for a queued folio (${window.by}) without the lru-batch-clears-lru variant`;
      let queued = 0;
      for (let b = 0; b < LRU_BATCHES.length; b++) if (LRU_BATCHES[b] !== "lru_add") queued += p.slots[b] + f.holderCount(pendingHolder(LRU_BATCHES[b]));
      if (queued === 0) return `PG_lru clear on ${onList} (${window.by}) but the folio is in no non-lru_add batch`;
    }
  }
  if (lru && onList === null) return "PG_lru set but on no LRU list";
  if (!lru && onList !== null && window === undefined) return `on ${onList} with PG_lru clear and not being moved`;
  const isolating = window?.by === "folio_isolate_lru"; // between its folio_get and lruvec_del_folio
  if (f.holderCount(ISOLATED_HOLDER) > 0 && !isolating && (onList !== null || lru)) return `holds an "isolated" reference but is on ${onList ?? "no list"} with PG_lru ${lru ? "set" : "clear"}`;
  if (lru && onList !== folioLruList(f)) return `on ${onList} but its flags select ${folioLruList(f)}`;
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
