/**
 * `struct folio` (include/linux/mm_types.h) and the pure predicates of include/linux/mm.h
 * the migration and GUP paths depend on: `folio_expected_ref_count`,
 * `folio_maybe_dma_pinned`, `folio_is_longterm_pinnable`, `folio_has_pincount`.
 *
 * Shared state is split into four objects so the explorer sees real independence:
 * `ref` (`_refcount`, `_pincount`), `flagsWord` (page flags), `map` (mapcount, mapping,
 * index) and `lock` (the PG_locked bit lock with its waiters).
 *
 * Simplifications: 64-bit only (every large folio has `_pincount`); mapcount is one
 * total (PTE mappings, plus one per PMD mapping of a large folio); `mapping` points to
 * a `Mapping` description rather than an address_space; the page content is a value.
 * `holders` is a ledger of who holds each reference (reference §1.5's accounting
 * table), so invariants can check `_refcount` against structure.
 */

import { BitLock, checkedState, noteRead, Shared, type Machine } from "@foliosim/sim";
import { PG } from "./page-flags.js";

export const GUP_PIN_COUNTING_BIAS = 1024;

export type MappingKind = "anon" | "shmem" | "file";

/** What `folio->mapping` points to, reduced to what the paths here need. */
export interface Mapping {
  readonly name: string;
  readonly kind: MappingKind;
  /** `mapping_unevictable` (ramfs, SHM_LOCK): makes folios unevictable. */
  unevictable?: boolean;
  /** The page-cache lock (`xa_lock` of `i_pages`), for footprints of ops that change the cache. */
  readonly xaLock?: Shared;
  /** Replace the cache entry of `old` by `nu` (`xas_store` in `__folio_migrate_mapping`). */
  replaceFolio?(old: Folio, nu: Folio): void;
}

export type ZoneName = "DMA32" | "Normal" | "Movable" | "Device";

/** Pageblock migratetypes (include/linux/mmzone.h) with CONFIG_CMA and memory isolation. */
export const MIGRATETYPE = { UNMOVABLE: 0, MOVABLE: 1, RECLAIMABLE: 2, HIGHATOMIC: 3, CMA: 4, ISOLATE: 5 } as const;
export type Migratetype = keyof typeof MIGRATETYPE;

/** ZONE_DEVICE page types (include/linux/memremap.h). */
export type DeviceType = "private" | "coherent" | "fsdax" | "p2pdma" | "generic";

/** Where a folio goes when its last reference is dropped (a zone's free list, or a pgmap's page_free). */
export interface FolioFreeTarget {
  /** Take back a folio whose last reference went, in the step (on the machine `m`) that dropped it. */
  freeFolio(folio: Folio, m: Machine): void;
  /**
   * The object a free of `folio` changes (a zone's free list, a pgmap's): the step
   * that drops the last reference writes it, though its footprint cannot say so in
   * advance (`Machine.noteWrite`), so exploration orders it against allocations.
   */
  freeFootprint?(folio: Folio): Shared | undefined;
}

export type FolioState = "free" | "allocated";

export class Folio {
  readonly ref: Shared;
  readonly flagsWord: Shared;
  readonly map: Shared;
  readonly lock: BitLock;
  /** `_refcount`. */
  refcount = 0;
  /** The count a `folio_ref_freeze` replaced by 0, while frozen. */
  frozenAt: number | undefined = undefined;
  /** `_pincount` (large folios). */
  pincount = 0;
  /** Page-table mappings (`folio_mapcount`). */
  mapcount = 0;
  /** Page flags other than PG_locked/PG_waiters, which live in `lock`. */
  private flagBits = 0;
  mapping: Mapping | null = null;
  index = 0;
  /** `mlock_count`, meaningful only while unevictable on the LRU. */
  mlockCount = 0;
  /** Contents of the page (a value, so copies can be checked). */
  data: unknown = undefined;
  state: FolioState = "free";
  /** Which lruvec list holds it (set by @foliosim/lru), or null. */
  lruList: string | null = null;
  /** Who holds references: holder → count (reference §1.5). */
  readonly holders = new Map<string, number>();
  /** The shared zero folio. */
  zero = false;
  /** ZONE_DEVICE type, when `zone === "Device"`. */
  deviceType: DeviceType | undefined;
  /** Opaque owner of a device folio (its dev_pagemap). */
  pgmap: unknown = undefined;
  /** `folio_nid`: the NUMA node of its memory (0 on a one-node machine and for device memory). */
  nid = 0;

  constructor(
    readonly pfn: number,
    readonly order: number,
    readonly zone: ZoneName,
    public migratetype: Migratetype,
    readonly freeTarget: FolioFreeTarget,
  ) {
    const id = `folio ${pfnHex(pfn)}`;
    // Footprint checking (@foliosim/sim): the folio's fields are its words' state.
    const self = checkedState(this, (field) => this.wordOfField(field));
    this.ref = new FolioWord(`${id} _refcount`, self, WORD_REF);
    this.flagsWord = new FolioWord(`${id} flags`, self, WORD_FLAGS);
    this.map = new FolioWord(`${id} mapping`, self, WORD_MAP);
    this.lock = new BitLock(`${id} lock`);
    return self;
  }

  /** The word whose state `field` is (the split of the class comment), for footprint checking. */
  private wordOfField(field: string): Shared | undefined {
    const word = FIELD_WORD[field];
    return word === WORD_REF ? this.ref : word === WORD_FLAGS ? this.flagsWord : word === WORD_MAP ? this.map : undefined;
  }

  /** The repeated-state livelock detector's view of one of the folio's words (@foliosim/sim livelock.ts). */
  wordDigest(word: number): string {
    if (word === WORD_REF) return `${this.refcount}|${this.pincount}|${this.frozenAt ?? ""}|${[...this.holders].map(([h, n]) => `${h}:${n}`).join(",")}`;
    if (word === WORD_FLAGS) return `${this.flagBits}|${this.state}|${this.lruList ?? ""}|${this.mlockCount}|${String(this.data)}|${this.migratetype}`;
    return `${this.mapcount}|${this.mapping?.name ?? ""}|${this.index}`;
  }

  get name(): string {
    return `folio ${pfnHex(this.pfn)}`;
  }

  /** The full flags word, PG_locked and PG_waiters included. */
  get flags(): number {
    let f = this.flagBits;
    if (this.lock.locked) f |= PG.locked;
    if (this.lock.waiters) f |= PG.waiters;
    if (this.order > 0) f |= PG.head;
    return f;
  }

  /** The flags of the flags word alone: all but PG_locked and PG_waiters, which live in `lock`. */
  get wordFlags(): number {
    return this.order > 0 ? this.flagBits | PG.head : this.flagBits;
  }

  test(flag: number): boolean {
    // PG_locked and PG_waiters live in `lock`, PG_head in the order: look there only for them.
    if ((flag & (PG.locked | PG.waiters | PG.head)) !== 0) return (this.flags & flag) !== 0;
    return (this.flagBits & flag) !== 0;
  }

  /** Direct flag write, for modelled ops that already hold the right footprint. */
  setBits(flag: number): void {
    this.flagBits |= flag;
  }

  clearBits(flag: number): void {
    this.flagBits &= ~flag;
  }

  /** Reset on free (page_alloc's `free_pages_prepare`). */
  resetForFree(): void {
    this.flagBits = 0;
    this.mapping = null;
    this.mapcount = 0;
    this.pincount = 0;
    this.mlockCount = 0;
    this.lruList = null;
    this.holders.clear();
    this.frozenAt = undefined;
    this.data = undefined;
    this.state = "free";
  }

  holderCount(holder: string): number {
    return this.holders.get(holder) ?? 0;
  }

  addHolder(holder: string, n: number): void {
    const v = (this.holders.get(holder) ?? 0) + n;
    if (v === 0) this.holders.delete(holder);
    else this.holders.set(holder, v);
  }
}

const PFN_HEX = new Map<number, string>();

/** `0x` and the pfn in hex; remembered per pfn, as trace events name the same pfns over and over. */
export function pfnHex(pfn: number): string {
  let s = PFN_HEX.get(pfn);
  if (s === undefined) {
    if (PFN_HEX.size >= 1 << 16) PFN_HEX.clear();
    s = "0x" + pfn.toString(16);
    PFN_HEX.set(pfn, s);
  }
  return s;
}

export function folioNrPages(f: Folio): number {
  return 1 << f.order;
}

export function folioTestLarge(f: Folio): boolean {
  return f.order > 0;
}

/** `folio_has_pincount`: every large folio on 64-bit. */
export function folioHasPincount(f: Folio): boolean {
  return f.order > 0;
}

/**
 * `folio_test_anon`. Called from a task's own code too (a path that depends on the kind of
 * folio), where the read is the step's: it is noted on it (`noteRead`).
 */
export function folioTestAnon(f: Folio): boolean {
  noteRead(f.map);
  return f.mapping !== null && f.mapping.kind === "anon";
}

export function folioIsZoneDevice(f: Folio): boolean {
  return f.zone === "Device";
}

export function folioIsDevicePrivate(f: Folio): boolean {
  return f.zone === "Device" && f.deviceType === "private";
}

export function folioIsDeviceCoherent(f: Folio): boolean {
  return f.zone === "Device" && f.deviceType === "coherent";
}

/** `folio_mapped`. */
export function folioMapped(f: Folio): boolean {
  noteRead(f.map); // as folioTestAnon
  return f.mapcount > 0;
}

/**
 * `folio_expected_ref_count` (include/linux/mm.h), reference §1.4 exactly: swapcache
 * pages (whatever the mapping), page-cache pages and PG_private for non-anonymous
 * folios, plus one per mapping. Batches, isolation, pins and the caller are not counted.
 */
export function folioExpectedRefCount(f: Folio): number {
  let refs = 0;
  const nr = folioNrPages(f);
  if (f.test(PG.swapcache)) refs += nr;
  if (!folioTestAnon(f)) {
    if (f.mapping !== null) refs += nr;
    if (f.test(PG.private)) refs += 1;
  }
  return refs + f.mapcount;
}

/** `folio_maybe_dma_pinned`: `_pincount > 0` for large folios, else `_refcount >= 1024`. */
export function folioMaybeDmaPinned(f: Folio): boolean {
  if (folioHasPincount(f)) return f.pincount > 0;
  return f.refcount >= GUP_PIN_COUNTING_BIAS;
}

/** `folio_is_longterm_pinnable` with CONFIG_MIGRATION and CONFIG_CMA (reference §4.6, §8). */
export function folioIsLongtermPinnable(f: Folio): boolean {
  if (f.migratetype === "CMA" || f.migratetype === "ISOLATE") return false;
  if (f.zero) return true;
  if (folioIsDeviceCoherent(f)) return false;
  if (f.zone === "Device" && f.deviceType === "fsdax") return false;
  return f.zone !== "Movable";
}

/** `folio_evictable`: neither mlocked nor on an unevictable mapping. */
export function folioEvictable(f: Folio): boolean {
  if (f.mapping?.unevictable) return false;
  return !f.test(PG.mlocked);
}

/** `folio_may_be_lru_cached`: large folios never stay in a per-CPU batch (2da6de30e60d). */
export function folioMayBeLruCached(f: Folio): boolean {
  return !folioTestLarge(f);
}

const WORD_REF = 0;
const WORD_FLAGS = 1;
const WORD_MAP = 2;

/**
 * Which word each mutable field of a folio belongs to (the same split as `wordDigest`).
 * `holders` is the model's ledger, no kernel state: its changes are told with `noteChange`.
 */
const FIELD_WORD: Record<string, number> = {
  refcount: WORD_REF,
  frozenAt: WORD_REF,
  pincount: WORD_REF,
  flagBits: WORD_FLAGS,
  state: WORD_FLAGS,
  lruList: WORD_FLAGS,
  mlockCount: WORD_FLAGS,
  data: WORD_FLAGS,
  migratetype: WORD_FLAGS,
  zero: WORD_FLAGS,
  deviceType: WORD_FLAGS,
  pgmap: WORD_FLAGS,
  nid: WORD_FLAGS,
  mapcount: WORD_MAP,
  mapping: WORD_MAP,
  index: WORD_MAP,
};

/**
 * One of a folio's shared words. Its digest is a method (not a closure per folio), so a
 * snapshot of the machine (@foliosim/sim snapshot.ts) can copy the folio with it.
 */
class FolioWord extends Shared {
  constructor(
    name: string,
    readonly folio: Folio,
    readonly word: number,
  ) {
    super(name);
  }
  override stateDigest(): string {
    return this.folio.wordDigest(this.word);
  }
}

/**
 * The folio whose `ref`, `flagsWord` or `map` word `obj` is, else undefined: what a
 * write of `obj` can have changed, for invariant checks that look only at that.
 */
export function folioOfWord(obj: Shared): Folio | undefined {
  return obj instanceof FolioWord ? obj.folio : undefined;
}

/** `mappingPointer` by mapping name (trace events print it at every reference change). */
const MAPPING_POINTER = new Map<string, string>();

/** A stable 16-hex-digit stand-in for the hashed `mapping=%p` of the page_ref tracepoints. */
export function mappingPointer(m: Mapping | null): string {
  if (m === null) return "0000000000000000";
  let s = MAPPING_POINTER.get(m.name);
  if (s === undefined) {
    if (MAPPING_POINTER.size >= 1 << 12) MAPPING_POINTER.clear();
    s = hashPointer(m.name);
    MAPPING_POINTER.set(m.name, s);
  }
  return s;
}

function hashPointer(name: string): string {
  let h = 0xcbf29ce4;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return "00000000" + (h >>> 0).toString(16).padStart(8, "0");
}
