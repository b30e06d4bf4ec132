/**
 * Physical memory (mm/page_alloc.c, include/linux/sched/mm.h `memalloc_pin_save`,
 * `current_gfp_context`).
 *
 * Memory is a few regions, each a zone with one pageblock migratetype: ordinary
 * `Normal`/`DMA32` memory, `Movable` (ZONE_MOVABLE) and `CMA` (MIGRATE_CMA pageblocks
 * inside ZONE_NORMAL). A movable allocation (GFP_HIGHUSER_MOVABLE: user faults) tries
 * ZONE_MOVABLE, then CMA, then normal memory; an unmovable one (GFP_USER, or any
 * allocation of a task with PF_MEMALLOC_PIN, whose `__GFP_MOVABLE` is stripped) uses
 * normal memory only. Within a region the lowest free pfn is taken: deterministic.
 *
 * Simplifications: no watermarks, no per-CPU page lists, no buddy splitting beyond
 * taking `1 << order` consecutive free pfns; one folio object per head pfn.
 */

import { current, defineCosts, ModelError, op, Shared, type Machine, type Op } from "@foliosim/sim";
import { Folio, type FolioFreeTarget, type Migratetype, type ZoneName } from "./folio.js";

/** Task flags (include/linux/sched.h). */
export const PF_MEMALLOC = 0x00000800;
export const PF_MEMALLOC_PIN = 0x10000000;

/** `memalloc_pin_save`: set PF_MEMALLOC_PIN on `current`, return the old flags to restore. */
export function memallocPinSave(): number {
  const t = current();
  const old = t.flags & PF_MEMALLOC_PIN;
  t.flags |= PF_MEMALLOC_PIN;
  return old;
}

/** `memalloc_pin_restore`. */
export function memallocPinRestore(saved: number): void {
  const t = current();
  t.flags = (t.flags & ~PF_MEMALLOC_PIN) | saved;
}

export type RegionName = "Normal" | "DMA32" | "Movable" | "CMA";

export interface MemorySpec {
  /** Pages of ordinary ZONE_NORMAL memory (MIGRATE_MOVABLE pageblocks: pinnable). */
  Normal?: number;
  DMA32?: number;
  /** Pages of ZONE_MOVABLE. */
  Movable?: number;
  /** Pages of MIGRATE_CMA pageblocks in ZONE_NORMAL. */
  CMA?: number;
}

export interface GfpRequest {
  /** `__GFP_MOVABLE` (user pages); stripped under PF_MEMALLOC_PIN. */
  movable: boolean;
  order?: number;
  /** Restrict to these regions (a scenario pinning a fault into CMA, say). */
  only?: RegionName[];
}

class Region extends Shared {
  readonly free: number[] = [];
  constructor(
    readonly region: RegionName,
    readonly zone: ZoneName,
    readonly migratetype: Migratetype,
    readonly basePfn: number,
    readonly pages: number,
  ) {
    super(`zone ${region}`);
    for (let i = 0; i < pages; i++) this.free.push(basePfn + i);
  }
}

const ORDER_MOVABLE: RegionName[] = ["Movable", "CMA", "Normal", "DMA32"];
const ORDER_UNMOVABLE: RegionName[] = ["Normal", "DMA32"];

export class PhysicalMemory implements FolioFreeTarget {
  private readonly regions: Region[] = [];
  private readonly folios = new Map<number, Folio>();

  constructor(spec: MemorySpec) {
    // Regions at fixed, recognisable pfn bases.
    const layout: [RegionName, ZoneName, Migratetype, number][] = [
      ["DMA32", "DMA32", "MOVABLE", 0x1000],
      ["Normal", "Normal", "MOVABLE", 0x10000],
      ["CMA", "Normal", "CMA", 0x9f8000],
      ["Movable", "Movable", "MOVABLE", 0x200000],
    ];
    for (const [name, zone, mt, base] of layout) {
      const pages = spec[name] ?? 0;
      if (!Number.isInteger(pages) || pages < 0) throw new ModelError("memory", name, `expected a non-negative page count, found ${pages}`);
      if (pages > 0) this.regions.push(new Region(name, zone, mt, base, pages));
    }
  }

  /** Free pages per region. */
  freePages(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.regions) out[r.region] = r.free.length;
    return out;
  }

  /** The folio whose head is `pfn`, if it was ever allocated. */
  folioAt(pfn: number): Folio | undefined {
    return this.folios.get(pfn);
  }

  allFolios(): Folio[] {
    return [...this.folios.values()];
  }

  /** Allocate a folio now (inside an op): refcount 1, held by `holder`. Null when no region can serve it. */
  allocNow(m: Machine, req: GfpRequest, holder: string): Folio | null {
    const pin = (current().flags & PF_MEMALLOC_PIN) !== 0;
    const movable = req.movable && !pin; // current_gfp_context() strips __GFP_MOVABLE
    let order = movable ? ORDER_MOVABLE : ORDER_UNMOVABLE;
    if (req.only) order = order.filter((r) => req.only!.includes(r));
    const nr = 1 << (req.order ?? 0);
    for (const name of order) {
      const region = this.regions.find((r) => r.region === name);
      if (!region) continue;
      const pfn = takeRun(region.free, nr);
      if (pfn === undefined) continue;
      let f = this.folios.get(pfn);
      if (!f || f.order !== (req.order ?? 0)) {
        f = new Folio(pfn, req.order ?? 0, region.zone, region.migratetype, this);
        this.folios.set(pfn, f);
      }
      f.state = "allocated";
      f.refcount = 1;
      f.addHolder(holder, 1);
      m.markWrite(region);
      m.markWrite(f.ref);
      m.count("folio_alloc");
      m.emit("mm_page_alloc", f.name, { pfn: "0x" + pfn.toString(16), order: f.order, zone: region.region, migratetype: region.migratetype });
      return f;
    }
    m.emit("mm_page_alloc_fail", undefined, { movable, order: req.order ?? 0 });
    return null;
  }

  /** `folio_alloc` as an operation. */
  allocFolio(req: GfpRequest, holder = "alloc"): Op<Folio | null> {
    return op({
      kind: "folio_alloc",
      label: req.movable ? "folio_alloc(GFP_HIGHUSER_MOVABLE)" : "folio_alloc(GFP_USER)",
      writes: this.regions,
      cost: "folioAlloc",
      run: (m) => this.allocNow(m, req, holder),
    });
  }

  freeFolio(f: Folio): void {
    const region = this.regions.find((r) => f.pfn >= r.basePfn && f.pfn < r.basePfn + r.pages);
    if (!region) throw new ModelError("free_pages", f.name, "pfn belongs to no zone");
    for (let i = 0; i < 1 << f.order; i++) region.free.push(f.pfn + i);
    region.free.sort((a, b) => a - b);
  }
}

function takeRun(free: number[], nr: number): number | undefined {
  for (let i = 0; i + nr <= free.length; i++) {
    const start = free[i];
    if (start % nr !== 0) continue; // natural alignment of a buddy block
    let ok = true;
    for (let k = 1; k < nr; k++) if (free[i + k] !== start + k) ok = false;
    if (ok) {
      free.splice(i, nr);
      return start;
    }
  }
  return undefined;
}

export const FOLIO_COSTS = {
  /** One page allocation from the free lists: a few hundred ns (per-CPU list miss). */
  folioAlloc: 250,
} as const;
defineCosts(FOLIO_COSTS);
