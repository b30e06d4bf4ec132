/**
 * Structural invariants of the memory model (model checks, no kernel counterpart), for
 * `m.addInvariant` in tests and scenarios. They check reference §1.5's accounting
 * table against the structures that hold each reference.
 */

import { GUP_PIN_COUNTING_BIAS, PG, folioNrPages, folioOfWord, folioTestLarge, type Folio } from "@foliosim/folio";
import { LruPlaces, lruInvariants } from "@foliosim/lru";
import type { Machine, Shared } from "@foliosim/sim";
import { AddressSpace, PAGECACHE_HOLDER, PRIVATE_HOLDER } from "./filemap.js";
import { SWAPCACHE_HOLDER } from "./swap-state.js";
import { PteSlot, allMms, type Pte } from "./mm-types.js";
import { MAP_HOLDER, countLockedMappings } from "./rmap.js";
import { DEVICE_EXCLUSIVE_HOLDER } from "./memory.js";

export interface MmInvariantOptions {
  /** Also run @foliosim/lru's `lruInvariants` (default true). */
  lru?: boolean;
}

/**
 * Present, device-private and mapped device-exclusive entries per folio, over every mm;
 * and the up-to-6.14 (unmapped) device-exclusive entries per folio.
 */
function mappingPteCounts(m: Machine): PteCounts {
  const counts: PteCounts = { mapping: new Map(), exclusive: new Map() };
  for (const mm of allMms(m)) for (const slot of mm.ptes.values()) countPte(counts, slot.pte, 1);
  return counts;
}

/** Entries per folio: those that count in its mapcount, and the unmapped device-exclusive ones. */
interface PteCounts {
  mapping: Map<Folio, number>;
  exclusive: Map<Folio, number>;
}

/** Add `d` for the entry `p` to the count it belongs to, if any. */
function countPte(counts: PteCounts, p: Pte, d: number): Folio | undefined {
  let to: Map<Folio, number>;
  if (p.kind === "present" || p.kind === "device-private" || (p.kind === "device-exclusive" && p.mapped)) to = counts.mapping;
  else if (p.kind === "device-exclusive") to = counts.exclusive;
  else return undefined;
  const n = (to.get(p.folio) ?? 0) + d;
  if (n === 0) to.delete(p.folio);
  else to.set(p.folio, n);
  return p.folio;
}

/** True when no task holds any PTE lock: page tables and mapcounts must then agree. */
function noPtlHeld(m: Machine): boolean {
  for (const mm of allMms(m)) for (const l of mm.ptls.values()) if (l.owner !== null) return false;
  return true;
}

/**
 * For each allocated folio of `folios`:
 * - `_refcount` (unless frozen) equals the sum of the holders ledger; no count negative;
 * - "pagecache" holds one reference per page exactly while the folio is in its
 *   mapping's xarray;
 * - "map" equals the mapcount; with no PTE lock held anywhere, the mapcount equals the
 *   number of present, device-private and (since 6.15) device-exclusive entries
 *   mapping the folio in all mms, and "device-exclusive" the number of up-to-6.14
 *   device-exclusive entries (which hold a reference outside the mapcount);
 * - "pin" is a whole number of pins (a multiple of 1024 for a small folio, `_pincount`
 *   for a large one);
 * - (with `lru`) `lruInvariants`: batch slots, isolation and list membership match.
 * A free folio holds nothing and is in no page cache or page table.
 */
export function mmInvariants(m: Machine, folios: readonly Folio[], options: MmInvariantOptions = {}): string | null {
  const ptlFree = noPtlHeld(m);
  const ptes = ptlFree ? mappingPteCounts(m) : { mapping: new Map<Folio, number>(), exclusive: new Map<Folio, number>() };
  for (const f of folios) {
    const msg = folioMmProblem(f, ptlFree, ptes);
    if (msg !== null) return `${f.name}: ${msg}`;
  }
  if (options.lru ?? true) return lruInvariants(m, folios);
  return null;
}

/** Scratch for `MmInvariantChecker.check` (checks never nest). */
const CHANGED: Folio[] = [];
const ORDERED: Folio[] = [];

/**
 * `mmInvariants` run after every step, incrementally (a model check, like it): given
 * the objects written since the last check (`Machine.addInvariant`), it checks only the
 * folios they reach — a folio's own words, the folios a written page-table entry
 * referred to before or refers to now, the folios whose list or batch places changed
 * (`LruPlaces`), folios new since the last check — in the order of `folios`, so it
 * reports the failure, and the message, `mmInvariants` reports. The page-table counts
 * per folio are kept up to date from the written entries, and the folios changed while
 * a PTE lock is held are checked against them again once every PTE lock is free.
 * Plain data, so a machine snapshot copies it with the run.
 */
export class MmInvariantChecker {
  private readonly lru: LruPlaces | null;
  /** Each written entry as the last check saw it, and the counts per folio of all entries. */
  private readonly ptes = new Map<PteSlot, Pte>();
  private readonly pteCounts: PteCounts = { mapping: new Map(), exclusive: new Map() };
  /** `folios` at the last check, and each one's place in it. */
  private folios: readonly Folio[] = [];
  private readonly position = new Map<Folio, number>();
  /** Folios changed while a PTE lock was held: their page-table count is checked once none is. */
  private readonly unsettled = new Set<Folio>();
  private synced = false;

  constructor(options: MmInvariantOptions = {}) {
    this.lru = (options.lru ?? true) ? new LruPlaces() : null;
  }

  /**
   * What `mmInvariants(m, folios)` answers, given the objects written since the last call
   * (all of them before the first). `checked`, if given, receives the folios it looked at.
   */
  check(m: Machine, folios: readonly Folio[], written: ReadonlySet<Shared>, checked?: Set<Folio>): string | null {
    const changed = CHANGED;
    const all = !this.synced;
    this.synced = true;
    if (all) this.countPtes(m);
    else {
      for (const w of written) {
        if (w instanceof PteSlot) this.syncPte(w, changed);
        else {
          const f = folioOfWord(w);
          if (f !== undefined) changed.push(f);
        }
      }
    }
    if (this.lru !== null) this.lru.sync(m, written, changed);
    if (folios !== this.folios) this.reindex(folios, changed);
    const ptlFree = noPtlHeld(m);
    if (!ptlFree) for (const f of changed) this.unsettled.add(f);
    else if (this.unsettled.size > 0) {
      for (const f of this.unsettled) changed.push(f);
      this.unsettled.clear();
    }
    const ordered = all ? folios : this.inOrder(changed);
    changed.length = 0;
    if (checked !== undefined) for (const f of ordered) checked.add(f);
    try {
      for (const f of ordered) {
        const msg = folioMmProblem(f, ptlFree, this.pteCounts);
        if (msg !== null) return `${f.name}: ${msg}`;
      }
      if (this.lru !== null) {
        for (const f of ordered) {
          const msg = this.lru.check(m, f);
          if (msg !== null) return msg;
        }
      }
      return null;
    } finally {
      ORDERED.length = 0;
    }
  }

  /** The folios of `changed` that are among `folios`, once each, in its order. */
  private inOrder(changed: readonly Folio[]): Folio[] {
    const out = ORDERED;
    const position = this.position;
    for (const f of changed) {
      const at = position.get(f);
      if (at === undefined) continue;
      // Insertion sort: a step changes a handful of folios.
      let i = out.length;
      while (i > 0 && position.get(out[i - 1])! > at) i--;
      if (i > 0 && out[i - 1] === f) continue;
      // By hand, not `splice`: splice allocates the (empty) array of what it removed.
      out.push(f);
      for (let j = out.length - 1; j > i; j--) out[j] = out[j - 1];
      out[i] = f;
    }
    return out;
  }

  /** A new list of folios: every folio not in the last one is new, and checked. */
  private reindex(folios: readonly Folio[], changed: Folio[]): void {
    const known = this.position;
    for (let i = 0; i < folios.length; i++) if (!known.has(folios[i])) changed.push(folios[i]);
    known.clear();
    for (let i = 0; i < folios.length; i++) known.set(folios[i], i);
    this.folios = folios;
  }

  private countPtes(m: Machine): void {
    for (const mm of allMms(m)) {
      for (const slot of mm.ptes.values()) {
        if (countPte(this.pteCounts, slot.pte, 1) !== undefined) this.ptes.set(slot, slot.pte);
      }
    }
  }

  /** A written entry: move its count from what it was to what it is. */
  private syncPte(slot: PteSlot, changed: Folio[]): void {
    const now = slot.pte;
    const was = this.ptes.get(slot);
    if (now === was) return;
    if (was !== undefined) {
      const f = countPte(this.pteCounts, was, -1);
      if (f !== undefined) changed.push(f);
    }
    const f = countPte(this.pteCounts, now, 1);
    if (f === undefined) this.ptes.delete(slot);
    else {
      this.ptes.set(slot, now);
      changed.push(f);
    }
  }
}

/** The first problem `mmInvariants` finds with one folio (without its name), or null. */
function folioMmProblem(f: Folio, ptlFree: boolean, counts: PteCounts): string | null {
  const ptes = counts.mapping;
  if (f.refcount < 0) return `negative refcount ${f.refcount}`;
  let total = 0;
  for (const [h, n] of f.holders) {
    if (n < 0) return `holder "${h}" is negative (${n})`;
    total += n;
  }
  if (f.mapcount < 0) return `negative mapcount ${f.mapcount}`;
  if (f.frozenAt === undefined && total !== f.refcount) return `refcount ${f.refcount} but holders sum to ${total} (${[...f.holders].map(([h, n]) => `${h}=${n}`).join(", ")})`;
  if (f.state === "free") {
    if (f.refcount !== 0) return `free with refcount ${f.refcount}`;
    if (ptlFree && (ptes.get(f) ?? 0) > 0) return "free but still mapped by a page table";
    return null;
  }
  const nr = folioNrPages(f);
  const mapping = f.mapping;
  const cached = mapping instanceof AddressSpace && mapping.pages.get(f.index) === f;
  if (f.holderCount(PAGECACHE_HOLDER) !== (cached ? nr : 0)) {
    return `"pagecache" holds ${f.holderCount(PAGECACHE_HOLDER)} but the folio is ${cached ? "" : "not "}in a page cache (${nr} page(s))`;
  }
  if (f.holderCount(MAP_HOLDER) !== f.mapcount) return `"map" holds ${f.holderCount(MAP_HOLDER)} but mapcount is ${f.mapcount}`;
  if (ptlFree) {
    const n = ptes.get(f) ?? 0;
    if (n !== f.mapcount) return `mapcount ${f.mapcount} but ${n} page-table entr(y/ies) map it`;
    const x = counts.exclusive.get(f) ?? 0;
    if (f.holderCount(DEVICE_EXCLUSIVE_HOLDER) !== x) return `"device-exclusive" holds ${f.holderCount(DEVICE_EXCLUSIVE_HOLDER)} but ${x} unmapped device-exclusive entr(y/ies) refer to it`;
  }
  if (f.holderCount(PRIVATE_HOLDER) !== (f.test(PG.private) ? 1 : 0)) return `"private" holds ${f.holderCount(PRIVATE_HOLDER)} with PG_private ${f.test(PG.private) ? "set" : "clear"}`;
  if (f.holderCount(SWAPCACHE_HOLDER) !== (f.test(PG.swapcache) ? nr : 0)) return `"swapcache" holds ${f.holderCount(SWAPCACHE_HOLDER)} with PG_swapcache ${f.test(PG.swapcache) ? "set" : "clear"}`;
  const pins = f.holderCount("pin");
  if (folioTestLarge(f) ? pins !== f.pincount : pins % GUP_PIN_COUNTING_BIAS !== 0) return `"pin" holds ${pins} with _pincount ${f.pincount}`;
  return null;
}

/**
 * Once every CPU's LRU and mlock batches are drained and no task is running: an
 * mlocked folio is mapped by at least one VM_LOCKED vma, and an mlocked folio on the
 * unevictable list has `mlock_count` at most the number of its VM_LOCKED mappings
 * (the kernel's count may undercount — `__mlock_folio` skips a folio off the LRU and
 * `lru_add` restarts the count at 0 — but never overcounts).
 */
export function mlockCountProblems(m: Machine, folios: readonly Folio[]): string | null {
  for (const f of folios) {
    if (f.state === "free") continue;
    const locked = countLockedMappings(m, f);
    if (f.test(PG.mlocked) && locked === 0) return `${f.name}: PG_mlocked but no VM_LOCKED vma maps it`;
    if (f.test(PG.mlocked) && f.lruList === "unevictable" && f.mlockCount > locked) {
      return `${f.name}: mlock_count ${f.mlockCount} but only ${locked} VM_LOCKED mapping(s)`;
    }
  }
  return null;
}
