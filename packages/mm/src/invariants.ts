/**
 * Structural invariants of the memory model (model checks, no kernel counterpart), for
 * `m.addInvariant` in tests and scenarios. They check reference §1.5's accounting
 * table against the structures that hold each reference.
 */

import { GUP_PIN_COUNTING_BIAS, PG, folioNrPages, folioTestLarge, type Folio } from "@foliosim/folio";
import { lruInvariants } from "@foliosim/lru";
import type { Machine } from "@foliosim/sim";
import { AddressSpace, PAGECACHE_HOLDER, PRIVATE_HOLDER } from "./filemap.js";
import { SWAPCACHE_HOLDER } from "./swap-state.js";
import { allMms } from "./mm-types.js";
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
function mappingPteCounts(m: Machine): { mapping: Map<Folio, number>; exclusive: Map<Folio, number> } {
  const mapping = new Map<Folio, number>();
  const exclusive = new Map<Folio, number>();
  for (const mm of allMms(m)) {
    for (const slot of mm.ptes.values()) {
      const p = slot.pte;
      if (p.kind === "present" || p.kind === "device-private" || (p.kind === "device-exclusive" && p.mapped)) mapping.set(p.folio, (mapping.get(p.folio) ?? 0) + 1);
      else if (p.kind === "device-exclusive") exclusive.set(p.folio, (exclusive.get(p.folio) ?? 0) + 1);
    }
  }
  return { mapping, exclusive };
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

/** The first problem `mmInvariants` finds with one folio (without its name), or null. */
function folioMmProblem(f: Folio, ptlFree: boolean, counts: { mapping: Map<Folio, number>; exclusive: Map<Folio, number> }): string | null {
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
