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
 * NUMA: with `nodes: N` every node has the same regions (node k's at pfn bases
 * k × 0x1000000 above node 0's). An allocation prefers a node — the one asked for
 * (`__folio_alloc(gfp, order, nid)`), else the allocating CPU's (`numa_node_id()`: CPUs
 * are split evenly across nodes, `cpu_to_node`) — and falls back to the other nodes in
 * order (the node-ordered zonelist) unless `thisNode` (__GFP_THISNODE).
 *
 * Simplifications: no watermarks, no per-CPU page lists, no buddy splitting beyond
 * taking `1 << order` consecutive free pfns; one folio object per head pfn; no
 * mempolicies or cpusets (every node is allowed).
 */

import { current, defineCosts, ModelError, op, Shared, type Machine, type Op } from "@foliosim/sim";
import { Folio, pfnHex, type FolioFreeTarget, type Migratetype, type ZoneName } from "./folio.js";

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
  /** NUMA nodes (default 1), each with the amounts above. */
  nodes?: number;
}

/** Pfn distance between nodes' regions. */
export const NODE_PFN_STRIDE = 0x1000000;

/** `cpu_to_node`: CPUs split evenly across the nodes, in order. */
export function cpuToNode(cpu: number, cpus: number, nodes: number): number {
  return nodes <= 1 ? 0 : Math.min(nodes - 1, Math.floor((cpu * nodes) / Math.max(cpus, 1)));
}

export interface GfpRequest {
  /** `__GFP_MOVABLE` (user pages); stripped under PF_MEMALLOC_PIN. */
  movable: boolean;
  order?: number;
  /** Restrict to these regions (a scenario pinning a fault into CMA, say). */
  only?: RegionName[];
  /** The preferred node (default: the allocating CPU's). */
  nid?: number;
  /** `__GFP_THISNODE`: the preferred node only, no fallback. */
  thisNode?: boolean;
}

class Region extends Shared {
  readonly free: number[] = [];
  constructor(
    readonly region: RegionName,
    readonly zone: ZoneName,
    readonly migratetype: Migratetype,
    readonly basePfn: number,
    readonly pages: number,
    readonly nid: number,
  ) {
    super(nid === 0 ? `zone ${region}` : `node${nid} zone ${region}`);
    for (let i = 0; i < pages; i++) this.free.push(basePfn + i);
  }
}

const ORDER_MOVABLE: RegionName[] = ["Movable", "CMA", "Normal", "DMA32"];
const ORDER_UNMOVABLE: RegionName[] = ["Normal", "DMA32"];

export class PhysicalMemory implements FolioFreeTarget {
  private readonly regions: Region[] = [];
  private readonly folios = new Map<number, Folio>();
  /** Bumped whenever `folios` gains or replaces a folio (callers cache `allFolios` by it). */
  private foliosVersion = 0;

  /** NUMA nodes with memory (`num_node_state(N_MEMORY)`). */
  readonly nodes: number;

  constructor(spec: MemorySpec) {
    // Regions at fixed, recognisable pfn bases.
    const layout: [RegionName, ZoneName, Migratetype, number][] = [
      ["DMA32", "DMA32", "MOVABLE", 0x1000],
      ["Normal", "Normal", "MOVABLE", 0x10000],
      ["CMA", "Normal", "CMA", 0x9f8000],
      ["Movable", "Movable", "MOVABLE", 0x200000],
    ];
    this.nodes = spec.nodes ?? 1;
    if (!Number.isInteger(this.nodes) || this.nodes < 1 || this.nodes > 8) throw new ModelError("memory", "nodes", `expected 1 to 8 NUMA nodes, found ${this.nodes}`);
    for (let nid = 0; nid < this.nodes; nid++) {
      for (const [name, zone, mt, base] of layout) {
        const pages = spec[name] ?? 0;
        if (!Number.isInteger(pages) || pages < 0) throw new ModelError("memory", name, `expected a non-negative page count, found ${pages}`);
        if (pages > 0) this.regions.push(new Region(name, zone, mt, base + nid * NODE_PFN_STRIDE, pages, nid));
      }
    }
  }

  /** Free pages per region (node 0's by region name, others' as "node1 Normal"). */
  freePages(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.regions) out[r.nid === 0 ? r.region : `node${r.nid} ${r.region}`] = r.free.length;
    return out;
  }

  /** The nodes an allocation tries, preferred first (the node-ordered zonelist). */
  private nodeOrder(m: Machine, req: GfpRequest): number[] {
    const preferred = req.nid ?? cpuToNode(current().cpu, m.cpuCount, this.nodes);
    if (req.thisNode) return [preferred];
    return [preferred, ...Array.from({ length: this.nodes }, (_, i) => i).filter((n) => n !== preferred)];
  }

  /** The folio whose head is `pfn`, if it was ever allocated. */
  folioAt(pfn: number): Folio | undefined {
    return this.folios.get(pfn);
  }

  allFolios(): Folio[] {
    return [...this.folios.values()];
  }

  /** Changes whenever `allFolios()` would return something else. */
  get folioGeneration(): number {
    return this.foliosVersion;
  }

  /** Allocate a folio now (inside an op): refcount 1, held by `holder`. Null when no region can serve it. */
  allocNow(m: Machine, req: GfpRequest, holder: string): Folio | null {
    const pin = (current().flags & PF_MEMALLOC_PIN) !== 0;
    const movable = req.movable && !pin; // current_gfp_context() strips __GFP_MOVABLE
    let order = movable ? ORDER_MOVABLE : ORDER_UNMOVABLE;
    if (req.only) order = order.filter((r) => req.only!.includes(r));
    const nr = 1 << (req.order ?? 0);
    const regions = this.nodeOrder(m, req).flatMap((nid) => order.map((name) => this.regions.find((r) => r.region === name && r.nid === nid)));
    for (const region of regions) {
      if (!region) continue;
      const pfn = takeRun(region.free, nr);
      if (pfn === undefined) continue;
      let f = this.folios.get(pfn);
      if (!f || f.order !== (req.order ?? 0)) {
        f = new Folio(pfn, req.order ?? 0, region.zone, region.migratetype, this);
        f.nid = region.nid;
        this.folios.set(pfn, f);
        this.foliosVersion++;
      }
      f.state = "allocated";
      f.refcount = 1;
      f.addHolder(holder, 1);
      m.markWrite(region);
      m.markWrite(f.ref);
      m.noteWrite(f.flagsWord); // the folio's state: allocated
      m.count("folio_alloc");
      const e = m.event("mm_page_alloc", f.name).arg("pfn", pfnHex(pfn)).arg("order", f.order).arg("zone", region.region).arg("migratetype", region.migratetype);
      if (this.nodes > 1) e.arg("nid", region.nid);
      return f;
    }
    m.event("mm_page_alloc_fail").arg("movable", movable).arg("order", req.order ?? 0);
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

  /** The zone region whose free list `pfn` belongs to. */
  private regionOf(pfn: number): Region | undefined {
    return this.regions.find((r) => pfn >= r.basePfn && pfn < r.basePfn + r.pages);
  }

  freeFootprint(f: Folio): Shared | undefined {
    return this.regionOf(f.pfn);
  }

  freeFolio(f: Folio): void {
    const region = this.regionOf(f.pfn);
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
