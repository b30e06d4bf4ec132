/**
 * Structural invariants of the LRU layer (model checks, no kernel counterpart), for
 * `m.addInvariant` in tests and scenarios.
 */

import { PG, folioExpectedRefCount, type Folio } from "@foliosim/folio";
import type { Machine, Shared } from "@foliosim/sim";
import { FolioBatch, ISOLATED_HOLDER, LRU_BATCHES, LRU_LISTS, MLOCK_HOLDER, MlockBatch, folioLruList, getLru, pendingHolder, type LruListName, type LruState } from "./lruvec.js";
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
    const msg = folioLruCheck(s, f, where.get(f) ?? NOWHERE, variant);
    if (msg !== null) {
      where.clear();
      return msg;
    }
  }
  where.clear(); // keep no folio of this run alive
  return null;
}

/** `lruInvariants` for one folio, given where the lists and batches hold it: the first violation (with the folio's name), or null. */
function folioLruCheck(s: LruState, f: Folio, p: Places, variant: boolean): string | null {
  if (f.refcount < 0) return `${f.name}: negative refcount ${f.refcount}`;
  for (const [h, n] of f.holders) if (n < 0) return `${f.name}: holder "${h}" is negative (${n})`;
  if (f.mlockCount < 0) return `${f.name}: negative mlock_count ${f.mlockCount}`;
  const msg = folioLruProblem(s, f, p, variant);
  return msg === null ? null : `${f.name}: ${msg}`;
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

/** Per folio, how many entries each container has of it: the five lists (LRU_LISTS order), the six batches (LRU_BATCHES order), the mlock batches. */
const MLOCK_SLOT = LRU_LISTS.length + LRU_BATCHES.length;
const COUNTS = MLOCK_SLOT + 1;

/** Scratch for `LruPlaces.sync` (checks never nest). */
const DELTA = new Map<Folio, number>();
const VIEW: Places = { lists: 0, onList: null, slots: LRU_BATCHES.map(() => 0), mlock: 0 };

/**
 * `lruInvariants` run after every step, incrementally (a model check, like it). Where
 * the lists and batches hold each folio is kept up to date from the containers written
 * since the last check — the lruvec, a folio batch, an mlock batch, each compared with
 * its content then — instead of rebuilt from all of them, and only the folios whose
 * places changed, or that are or were in a PG_lru window, need checking again
 * (`sync`); `check` then checks one folio exactly as `lruInvariants` does.
 * Plain data, so a machine snapshot copies it with the run.
 */
export class LruPlaces {
  /** Per folio with an entry anywhere: its counts (see COUNTS). */
  private readonly counts = new Map<Folio, number[]>();
  /** Each container's folios at the last sync. */
  private readonly seenLists: Folio[][] = LRU_LISTS.map(() => []);
  private readonly seenBatches = new Map<FolioBatch, Folio[]>();
  private readonly seenMlock = new Map<MlockBatch, Folio[]>();
  /** Folios in a PG_lru window (`lruClearedOnList`) at the last sync. */
  private windows: Folio[] = [];
  private synced = false;

  /**
   * Bring the places up to date after `written`, adding to `changed` (duplicates allowed) every folio whose
   * places changed and every folio in a PG_lru window now or at the last sync (whether
   * it may stay there depends on its task, which can finish without a write). False on
   * the first call: the places were built from scratch, every folio needs checking.
   */
  sync(m: Machine, written: ReadonlySet<Shared>, changed: Folio[]): boolean {
    const s = getLru(m);
    const first = !this.synced;
    this.synced = true;
    if (first || written.has(s.lruvec)) {
      for (let l = 0; l < LRU_LISTS.length; l++) this.diff(this.seenLists[l], s.lruvec.lists[LRU_LISTS[l]], l, changed);
    }
    if (first) {
      for (const fb of s.cpuFbatches) for (const b of LRU_BATCHES) this.syncBatch(fb.batches[b], changed);
      for (const mb of s.mlockFbatch) this.syncMlock(mb.fbatch, changed);
    } else {
      for (const w of written) {
        if (w instanceof FolioBatch) this.syncBatch(w, changed);
        else if (w instanceof MlockBatch) this.syncMlock(w, changed);
      }
    }
    if (this.windows.length > 0 || s.lruClearedOnList.size > 0) {
      for (const f of this.windows) changed.push(f);
      this.windows = [...s.lruClearedOnList.keys()];
      for (const f of this.windows) changed.push(f);
    }
    return !first;
  }

  /** `lruInvariants` for one folio: the first violation (with its name), or null. */
  check(m: Machine, f: Folio): string | null {
    const c = this.counts.get(f);
    if (c === undefined) return folioLruCheck(getLru(m), f, NOWHERE, lruBatchClearsLru(m));
    // `wherePlaces` counts list entries in LRU_LISTS order: the last list holding the folio is its `onList`.
    VIEW.lists = 0;
    VIEW.onList = null;
    for (let l = 0; l < LRU_LISTS.length; l++) {
      VIEW.lists += c[l];
      if (c[l] > 0) VIEW.onList = LRU_LISTS[l];
    }
    for (let b = 0; b < LRU_BATCHES.length; b++) VIEW.slots[b] = c[LRU_LISTS.length + b];
    VIEW.mlock = c[MLOCK_SLOT];
    return folioLruCheck(getLru(m), f, VIEW, lruBatchClearsLru(m));
  }

  private syncBatch(batch: FolioBatch, changed: Folio[]): void {
    let seen = this.seenBatches.get(batch);
    if (seen === undefined) this.seenBatches.set(batch, (seen = []));
    this.diff(seen, batch.folios, LRU_LISTS.length + LRU_BATCHES.indexOf(batch.batch), changed);
  }

  private syncMlock(batch: MlockBatch, changed: Folio[]): void {
    let seen = this.seenMlock.get(batch);
    if (seen === undefined) this.seenMlock.set(batch, (seen = []));
    this.diff(seen, batch.entries.map((e) => e.folio), MLOCK_SLOT, changed);
  }

  /** Count what changed between a container's `seen` folios and its `now` ones into slot `k`; `seen` becomes `now`. */
  private diff(seen: Folio[], now: readonly Folio[], k: number, changed: Folio[]): void {
    // Entries the two have in common at the front and at the back cancel out: a step
    // adds at the head or the tail, or removes one entry, so the rest is a small window.
    let head = 0;
    while (head < seen.length && head < now.length && seen[head] === now[head]) head++;
    if (head === seen.length && head === now.length) return;
    let tail = 0;
    while (tail < seen.length - head && tail < now.length - head && seen[seen.length - 1 - tail] === now[now.length - 1 - tail]) tail++;
    for (let i = head; i < seen.length - tail; i++) DELTA.set(seen[i], (DELTA.get(seen[i]) ?? 0) - 1);
    for (let i = head; i < now.length - tail; i++) DELTA.set(now[i], (DELTA.get(now[i]) ?? 0) + 1);
    for (const [f, d] of DELTA) {
      if (d === 0) continue;
      let c = this.counts.get(f);
      if (c === undefined) this.counts.set(f, (c = new Array<number>(COUNTS).fill(0)));
      c[k] += d;
      if (c.every((n) => n === 0)) this.counts.delete(f);
      changed.push(f);
    }
    DELTA.clear();
    seen.length = 0;
    for (const f of now) seen.push(f);
  }
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
