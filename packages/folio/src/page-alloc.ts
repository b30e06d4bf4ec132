/**
 * Physical memory (mm/page_alloc.c: `get_page_from_freelist` → `rmqueue`,
 * `rmqueue_pcplist`/`__rmqueue_pcplist`, `nr_pcp_alloc`, `rmqueue_bulk`, `rmqueue_buddy`;
 * `free_frozen_pages` (`free_unref_page` up to 6.13) and `free_unref_folios` →
 * `free_frozen_page_commit` (`free_unref_page_commit`), `nr_pcp_free`,
 * `free_pcppages_bulk`, `free_one_page`; `drain_all_pages`/`drain_pages_zone`;
 * `pcp_allowed_order`, `order_to_pindex`, `zone_batchsize`, `zone_highsize`; and
 * include/linux/sched/mm.h `memalloc_pin_save`, `current_gfp_context`).
 *
 * Memory is a few regions, each the free pages of one pageblock migratetype of a zone:
 * ordinary `Normal`/`DMA32` memory, `Movable` (ZONE_MOVABLE) and `CMA` (MIGRATE_CMA
 * pageblocks inside ZONE_NORMAL, so CMA and Normal share one zone). A movable
 * allocation (GFP_HIGHUSER_MOVABLE: user faults) walks ZONE_MOVABLE, then ZONE_NORMAL
 * (its CMA pageblocks first, then the others), then DMA32; an unmovable one (GFP_USER,
 * or any allocation of a task with PF_MEMALLOC_PIN, whose `__GFP_MOVABLE` is stripped)
 * uses the non-CMA pageblocks of ZONE_NORMAL and DMA32 only. From the buddy lists the
 * lowest free, naturally aligned pfn is taken: deterministic.
 *
 * Per-CPU page lists (pcp): every zone has a `struct per_cpu_pages` per CPU, with a
 * list per (pcp migratetype, order) for the orders `pcp_allowed_order` admits (0 to
 * PAGE_ALLOC_COSTLY_ORDER, and the THP order). A free of such an order goes to the head
 * of the freeing CPU's list of its pageblock's migratetype (`get_pfnblock_migratetype`;
 * CMA and HIGHATOMIC pages on the MOVABLE list; a page of an isolated pageblock straight
 * to the buddy lists, `free_one_page`); once the pcp holds `high` pages,
 * `free_pcppages_bulk` moves `nr_pcp_free` of them (the oldest, round-robin from the
 * list just freed to) back to the buddy lists. An allocation of such an order takes
 * the head of its CPU's list for the zone (its migratetype and order), refilling an
 * empty list with `batch` blocks from the buddy lists first (`rmqueue_bulk`, in the
 * order taken). So a page freed on a CPU is the next one that CPU hands out for that
 * migratetype, and another CPU does not see it until it spills or is drained. A refill
 * takes `batch` blocks, doubled at each order-0 refill without a free in between
 * (`alloc_factor`, 6.7 on) but never so many that the list would pass `high - batch`.
 * `drain_all_pages` drains every CPU's lists remotely (6.0 on, 443c2accd1b6), one
 * `drain_pages_zone` step per CPU.
 *
 * batch and high: the kernel's own formulas applied to the miniature's zones, with the
 * kernel configured as by vm.percpu_pagelist_high_fraction (high_min == high_max: no
 * auto-tuning). `batch = max(1, zone_batchsize(zone))` (~0.1% of the zone, 1 for any
 * zone under 4096 pages) and `high = max(managed / fraction / CPUs, batch << 2)`,
 * taken as `batch << 2` (no watermarks, so the fraction term is dropped): for every
 * catalog machine, batch 1 and high 4, as a real kernel would set for zones that small.
 *
 * Footprints: a free that stays on the pcp writes only that CPU's pcp object for the
 * zone (reported through `freeFootprint`/`Machine.noteWrite`) and reads the zone's
 * pageblock flags (`Machine.noteRead`), which only isolation writes; a spill or drain
 * also writes the buddy regions it returns pages to. An allocation declares what it will
 * touch from the state when its op is made: a CPU's pcp object alone when that list
 * can serve it, with the zone's buddy regions when it must refill (or the pcp is
 * bypassed). Whatever could change that choice writes one of those objects.
 *
 * NUMA: with `nodes: N` every node has the same regions (node k's at pfn bases
 * k × 0x1000000 above node 0's). An allocation prefers a node — the one asked for
 * (`__folio_alloc(gfp, order, nid)`), else the allocating CPU's (`numa_node_id()`: CPUs
 * are split evenly across nodes, `cpu_to_node`) — and falls back to the other nodes in
 * order (the node-ordered zonelist) unless `thisNode` (__GFP_THISNODE).
 *
 * Simplifications: no watermarks, no buddy splitting/merging beyond taking
 * `1 << order` consecutive free pfns; no `high` auto-tuning (fixed, see above; no
 * `free_high` for high-order frees, no `decay_pcp_high`/vmstat drains), no pcp trylock failure (an op is atomic), no
 * `pcpu_drain_mutex`, no `zone_pcp_disable`; pageblocks never change migratetype except
 * by isolation (page-isolation.ts); the THP order has a list per movability (6.12 on;
 * 6.10/6.11 had one — no catalog zone holds a THP); one folio object per head pfn; no
 * mempolicies or cpusets (every node is allowed). `only` (restricting an allocation to
 * regions) is a model device with no kernel counterpart: it takes from the buddy lists
 * of those regions and bypasses the pcp.
 */

import { current, currentMachine, defineCosts, ModelError, op, Shared, traced, uncheckedReadsBegin, uncheckedReadsEnd, type Machine, type Op, type TaskGen } from "@foliosim/sim";
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

/** include/linux/mmzone.h. */
export const PAGE_ALLOC_COSTLY_ORDER = 3;
/** `pageblock_order` (x86-64 with THP: HPAGE_PMD_ORDER), also the THP order. */
export const PAGEBLOCK_ORDER = 9;
/** Pcp migratetypes: UNMOVABLE, MOVABLE, RECLAIMABLE (`MIGRATE_PCPTYPES`). */
const MIGRATE_PCPTYPES = 3;
const NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
/** Low orders, then the THP lists (non-movable, movable). */
const NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + 2;
const CONFIG_PCP_BATCH_SCALE_MAX = 5;

/** `cpu_to_node`: CPUs split evenly across the nodes, in order. */
export function cpuToNode(cpu: number, cpus: number, nodes: number): number {
  return nodes <= 1 ? 0 : Math.min(nodes - 1, Math.floor((cpu * nodes) / Math.max(cpus, 1)));
}

/** `pcp_allowed_order`: orders freed to and allocated from the per-CPU lists. */
export function pcpAllowedOrder(order: number): boolean {
  return order <= PAGE_ALLOC_COSTLY_ORDER || order === PAGEBLOCK_ORDER;
}

/** `order_to_pindex`; `mt` is a pcp migratetype (MIGRATE_UNMOVABLE 0, MIGRATE_MOVABLE 1). */
function orderToPindex(mt: number, order: number): number {
  if (order > PAGE_ALLOC_COSTLY_ORDER) return NR_LOWORDER_PCP_LISTS + (mt === 1 ? 1 : 0);
  return MIGRATE_PCPTYPES * order + mt;
}

/** `pindex_to_order`. */
function pindexToOrder(pindex: number): number {
  return pindex >= NR_LOWORDER_PCP_LISTS ? PAGEBLOCK_ORDER : Math.floor(pindex / MIGRATE_PCPTYPES);
}

/** `zone_batchsize`, with `zone_set_pageset_high_and_batch`'s `max(1, …)`. */
export function zoneBatchsize(managedPages: number): number {
  let batch = Math.min(managedPages >> 10, (1 << 20) / 4096);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  const n = batch + (batch >> 1);
  batch = 2 ** Math.floor(Math.log2(n)) - 1; // rounddown_pow_of_two(batch + batch/2) - 1
  return Math.max(1, batch);
}

export interface GfpRequest {
  /** `__GFP_MOVABLE` (user pages); stripped under PF_MEMALLOC_PIN. */
  movable: boolean;
  order?: number;
  /** Restrict to these regions (a model device: bypasses the per-CPU lists). */
  only?: RegionName[];
  /** The preferred node (default: the allocating CPU's). */
  nid?: number;
  /** `__GFP_THISNODE`: the preferred node only, no fallback. */
  thisNode?: boolean;
}

/** The buddy free pages of one pageblock migratetype of a zone. */
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

/** `struct per_cpu_pages`: one zone's pages cached on one CPU. */
class PerCpuPages extends Shared {
  /** Pages on the lists (`count`). */
  count = 0;
  /** Pages freed since allocations last halved it (`free_count`). */
  freeCount = 0;
  /** Log2 of how much the next order-0 refill takes beyond `batch`; halved by every free (`alloc_factor`). */
  allocFactor = 0;
  /** By pindex: head pfns, list head first. */
  readonly lists: number[][] = [];
  constructor(
    name: string,
    readonly cpu: number,
  ) {
    super(name);
    for (let i = 0; i < NR_PCP_LISTS; i++) this.lists.push([]);
  }
}

/** `struct zone` of one node: its buddy regions and per-CPU lists. */
class Zone {
  readonly regions: Region[] = [];
  readonly pcps = new Map<number, PerCpuPages>();
  batch = 1;
  high = 4;
  /** The zone's pageblock migratetypes (`pageblock_flags`): read by every free and buddy allocation, written by isolation. */
  readonly pageblocks: Shared;
  constructor(
    readonly name: ZoneName,
    readonly nid: number,
  ) {
    this.pageblocks = new Shared(`${nid === 0 ? "" : `node${nid} `}pageblock flags ${name}`);
  }

  /** `per_cpu_ptr(zone->per_cpu_pageset, cpu)`. */
  pcp(cpu: number): PerCpuPages {
    let p = this.pcps.get(cpu);
    if (!p) this.pcps.set(cpu, (p = new PerCpuPages(`${this.nid === 0 ? "" : `node${this.nid} `}pcp cpu${cpu} ${this.name}`, cpu)));
    return p;
  }
}

/** The zones a movable / unmovable allocation walks, and the regions of each it takes from. */
const ZONELIST_MOVABLE: [ZoneName, RegionName[]][] = [
  ["Movable", ["Movable"]],
  ["Normal", ["CMA", "Normal"]],
  ["DMA32", ["DMA32"]],
];
const ZONELIST_UNMOVABLE: [ZoneName, RegionName[]][] = [
  ["Normal", ["Normal"]],
  ["DMA32", ["DMA32"]],
];

/** What an allocation touches (its footprint). */
interface Touched {
  reads: Shared[];
  writes: Shared[];
}

function touch(t: Touched, s: Shared): void {
  if (!t.writes.includes(s)) t.writes.push(s);
}

function touchRead(t: Touched, s: Shared): void {
  if (!t.reads.includes(s)) t.reads.push(s);
}

/** The CPU of the running task, or undefined outside a task. */
function currentCpu(): number | undefined {
  try {
    return current().cpu;
  } catch {
    return undefined;
  }
}

export class PhysicalMemory implements FolioFreeTarget {
  private readonly regions: Region[] = [];
  private readonly zones: Zone[] = [];
  private readonly folios = new Map<number, Folio>();
  /** Bumped whenever `folios` gains or replaces a folio (callers cache `allFolios` by it). */
  private foliosVersion = 0;
  /** Pageblocks (pfn >> PAGEBLOCK_ORDER) set to MIGRATE_ISOLATE (page-isolation.ts). */
  private readonly isolated = new Set<number>();

  /** NUMA nodes with memory (`num_node_state(N_MEMORY)`). */
  readonly nodes: number;

  constructor(spec: MemorySpec) {
    // Regions at fixed, recognisable pfn bases (all pageblock-aligned).
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
        if (pages === 0) continue;
        const region = new Region(name, zone, mt, base + nid * NODE_PFN_STRIDE, pages, nid);
        this.regions.push(region);
        this.zoneOf(zone, nid, true)!.regions.push(region);
      }
    }
    for (const z of this.zones) {
      // zone_set_pageset_high_and_batch with high_min == high_max (see the header).
      z.batch = zoneBatchsize(z.regions.reduce((n, r) => n + r.pages, 0));
      z.high = z.batch << 2;
    }
  }

  private zoneOf(name: ZoneName, nid: number, create = false): Zone | undefined {
    let z = this.zones.find((x) => x.name === name && x.nid === nid);
    if (!z && create) this.zones.push((z = new Zone(name, nid)));
    return z;
  }

  /** Free pages per region (node 0's by region name, others' as "node1 Normal"): the buddy lists' and the per-CPU lists'. */
  freePages(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.regions) out[r.nid === 0 ? r.region : `node${r.nid} ${r.region}`] = r.free.length;
    for (const z of this.zones) {
      for (const pcp of z.pcps.values()) {
        pcp.lists.forEach((list, pindex) => {
          for (const pfn of list) {
            const r = this.regionOf(pfn)!;
            out[r.nid === 0 ? r.region : `node${r.nid} ${r.region}`] += 1 << pindexToOrder(pindex);
          }
        });
      }
    }
    return out;
  }

  /** Pages on `cpu`'s per-CPU lists of a zone (`pcp->count`). */
  pcpCount(cpu: number, zone: ZoneName, nid = 0): number {
    return this.zoneOf(zone, nid)?.pcps.get(cpu)?.count ?? 0;
  }

  /** The head pfns on `cpu`'s pcp list of a zone for a pcp migratetype and order, list head first. */
  pcpList(cpu: number, zone: ZoneName, mt: "UNMOVABLE" | "MOVABLE", order = 0, nid = 0): number[] {
    const pcp = this.zoneOf(zone, nid)?.pcps.get(cpu);
    return pcp ? [...pcp.lists[orderToPindex(mt === "MOVABLE" ? 1 : 0, order)]] : [];
  }

  /** `pcp->batch` and `pcp->high` of a zone. */
  pcpLimits(zone: ZoneName, nid = 0): { batch: number; high: number } | undefined {
    const z = this.zoneOf(zone, nid);
    return z ? { batch: z.batch, high: z.high } : undefined;
  }

  /** The nodes an allocation tries, preferred first (the node-ordered zonelist). */
  private nodeOrder(m: Machine, cpu: number, req: GfpRequest): number[] {
    const preferred = req.nid ?? cpuToNode(cpu, m.cpuCount, this.nodes);
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

  /** `get_pfnblock_migratetype`. */
  getPfnblockMigratetype(pfn: number): Migratetype {
    if (this.isolated.has(pfn >> PAGEBLOCK_ORDER)) return "ISOLATE";
    const r = this.regionOf(pfn);
    if (!r) throw new ModelError("get_pfnblock_migratetype", pfnHex(pfn), "pfn belongs to no zone");
    return r.migratetype;
  }

  /** `set_pageblock_migratetype` to or from MIGRATE_ISOLATE (for page-isolation.ts). */
  setPageblockIsolate(pfn: number, on: boolean): void {
    if (!this.regionOf(pfn)) throw new ModelError("set_pageblock_migratetype", pfnHex(pfn), "pfn belongs to no zone");
    if (on) this.isolated.add(pfn >> PAGEBLOCK_ORDER);
    else this.isolated.delete(pfn >> PAGEBLOCK_ORDER);
  }

  /** What isolating `pfn`'s pageblock writes: the zone's pageblock flags and its buddy regions (`move_freepages_block`). */
  pageblockZoneObjects(pfn: number): Shared[] {
    const r = this.regionOf(pfn);
    if (!r) throw new ModelError("set_pageblock_migratetype", pfnHex(pfn), "pfn belongs to no zone");
    const z = this.zoneOf(r.zone, r.nid)!;
    return [z.pageblocks, ...z.regions];
  }

  /** Every object of a zone: its pageblock flags, buddy regions and every CPU's pcp (made for all `cpus`). */
  zoneObjects(zone: ZoneName, nid = 0, cpus = this.cpusOf()): Shared[] {
    const z = this.zoneOf(zone, nid);
    if (!z) return [];
    const out: Shared[] = [z.pageblocks, ...z.regions];
    for (let cpu = 0; cpu < cpus; cpu++) out.push(z.pcp(cpu));
    return out;
  }

  private cpusOf(): number {
    try {
      return currentMachine().cpuCount;
    } catch {
      return Math.max(0, ...[...this.zones].flatMap((z) => [...z.pcps.keys()].map((c) => c + 1)));
    }
  }

  /** The allocation's migratetype once `current_gfp_context` stripped `__GFP_MOVABLE` under PF_MEMALLOC_PIN. */
  private gfpMovable(req: GfpRequest): boolean {
    return req.movable && (current().flags & PF_MEMALLOC_PIN) === 0;
  }

  /**
   * `get_page_from_freelist`'s walk of the zonelist: the head pfn it hands out. With
   * `apply` false nothing changes and `t` collects every object the walk would read or
   * write (the op's footprint); with `apply` it takes the page and `t` collects what changed.
   */
  private walkZonelist(m: Machine, cpu: number, req: GfpRequest, apply: boolean, t: Touched): number | undefined {
    const movable = this.gfpMovable(req);
    const order = req.order ?? 0;
    for (const nid of this.nodeOrder(m, cpu, req)) {
      for (const [name, allowed] of movable ? ZONELIST_MOVABLE : ZONELIST_UNMOVABLE) {
        const zone = this.zoneOf(name, nid);
        if (!zone) continue;
        const regions = allowed.flatMap((a) => zone.regions.filter((r) => r.region === a && (!req.only || req.only.includes(a))));
        if (regions.length === 0) continue;
        const pfn = this.rmqueue(zone, regions, cpu, order, movable ? 1 : 0, req.only === undefined, apply, t);
        if (pfn !== undefined) return pfn;
      }
    }
    return undefined;
  }

  /** `rmqueue`: the CPU's pcp list when the order allows it, else (or when that finds nothing) `rmqueue_buddy`. */
  private rmqueue(zone: Zone, regions: Region[], cpu: number, order: number, mt: number, usePcp: boolean, apply: boolean, t: Touched): number | undefined {
    if (usePcp && pcpAllowedOrder(order)) {
      const pfn = this.rmqueuePcplist(zone, regions, cpu, order, mt, apply, t);
      if (pfn !== undefined) return pfn;
    }
    return this.rmqueueSmallest(zone, regions, order, apply, t);
  }

  /** `rmqueue_pcplist`/`__rmqueue_pcplist`: the head of the list, refilled by `rmqueue_bulk` when empty. */
  private rmqueuePcplist(zone: Zone, regions: Region[], cpu: number, order: number, mt: number, apply: boolean, t: Touched): number | undefined {
    const pcp = zone.pcp(cpu);
    const list = pcp.lists[orderToPindex(mt, order)];
    if (!apply) touch(t, pcp);
    if (list.length === 0) {
      if (!apply) return this.rmqueueSmallest(zone, regions, order, false, t);
      const batch = nrPcpAlloc(zone, pcp, order);
      for (let i = 0; i < batch; i++) {
        const pfn = this.rmqueueSmallest(zone, regions, order, true, t); // rmqueue_bulk: list_add_tail in the order taken
        if (pfn === undefined) break;
        list.push(pfn);
        pcp.count += 1 << order;
      }
      if (list.length === 0) return undefined;
    }
    if (!apply) return list[0];
    pcp.freeCount >>= 1;
    pcp.count -= 1 << order;
    touch(t, pcp);
    return list.shift();
  }

  /** `__rmqueue` from the buddy lists: the lowest free aligned run of the first region that has one. */
  private rmqueueSmallest(zone: Zone, regions: Region[], order: number, apply: boolean, t: Touched): number | undefined {
    touchRead(t, zone.pageblocks); // isolated pageblocks are not handed out
    for (const r of regions) {
      if (!apply) touch(t, r);
      const i = findRun(r.free, 1 << order, (pfn) => !this.isolated.has(pfn >> PAGEBLOCK_ORDER));
      if (i === undefined) continue;
      const pfn = r.free[i];
      if (apply) {
        r.free.splice(i, 1 << order);
        touch(t, r);
      }
      return pfn;
    }
    return undefined;
  }

  /** Allocate a folio now (inside an op): refcount 1, held by `holder`. Null when no zone can serve it. */
  allocNow(m: Machine, req: GfpRequest, holder: string): Folio | null {
    const changed: Touched = { reads: [], writes: [] };
    const pfn = this.walkZonelist(m, current().cpu, req, true, changed);
    for (const s of changed.reads) m.noteRead(s);
    for (const s of changed.writes) m.markWrite(s);
    if (pfn === undefined) {
      m.event("mm_page_alloc_fail").arg("movable", this.gfpMovable(req)).arg("order", req.order ?? 0);
      return null;
    }
    const region = this.regionOf(pfn)!;
    const order = req.order ?? 0;
    let f = this.folios.get(pfn);
    if (!f || f.order !== order) {
      f = new Folio(pfn, order, region.zone, region.migratetype, this);
      f.nid = region.nid;
      this.folios.set(pfn, f);
      this.foliosVersion++;
    }
    f.state = "allocated";
    f.refcount = 1;
    f.addHolder(holder, 1);
    m.markWrite(f.ref);
    m.noteWrite(f.flagsWord); // the folio's state: allocated
    m.count("folio_alloc");
    const e = m.event("mm_page_alloc", f.name).arg("pfn", pfnHex(pfn)).arg("order", f.order).arg("zone", region.region).arg("migratetype", region.migratetype);
    if (this.nodes > 1) e.arg("nid", region.nid);
    return f;
  }

  /**
   * `folio_alloc` as an operation. Its footprint is what the walk would touch now: the
   * CPU's pcp object when its list can serve the allocation, with the zone's buddy
   * regions when it must refill or bypass the pcp (see the header).
   */
  allocFolio(req: GfpRequest, holder = "alloc"): Op<Folio | null> {
    const cpu = currentCpu();
    const t: Touched = { reads: [], writes: [] };
    if (cpu === undefined) t.writes = this.zones.flatMap((z) => this.zoneObjects(z.name, z.nid));
    else {
      // The walk reads the lists in the task's code, before the step, to name what the step
      // will touch. Unchecked, and sound: it reads only objects it then names, so any step
      // that changes its outcome writes one of them and is dependent with this one.
      const quiet = uncheckedReadsBegin();
      this.walkZonelist(currentMachine(), cpu, req, false, t);
      uncheckedReadsEnd(quiet);
    }
    return op({
      kind: "folio_alloc",
      label: req.movable ? "folio_alloc(GFP_HIGHUSER_MOVABLE)" : "folio_alloc(GFP_USER)",
      reads: t.reads,
      writes: t.writes,
      cost: "folioAlloc",
      run: (m) => this.allocNow(m, req, holder),
    });
  }

  /** The zone region whose free list `pfn` belongs to. */
  private regionOf(pfn: number): Region | undefined {
    return this.regions.find((r) => pfn >= r.basePfn && pfn < r.basePfn + r.pages);
  }

  /** The pcp a free of `f` on the current CPU goes to, or null when it goes straight to the buddy lists. */
  private freePcp(f: Folio, region: Region): PerCpuPages | null {
    const cpu = currentCpu();
    if (cpu === undefined || !pcpAllowedOrder(f.order) || this.getPfnblockMigratetype(f.pfn) === "ISOLATE") return null;
    return this.zoneOf(region.zone, region.nid)!.pcp(cpu);
  }

  /** What a free of `f` on the current CPU writes first: that CPU's pcp for the zone, or the buddy region. */
  freeFootprint(f: Folio): Shared | undefined {
    const region = this.regionOf(f.pfn);
    return region && (this.freePcp(f, region) ?? region);
  }

  /**
   * `free_frozen_pages` (`free_unref_page` before 6.14; `free_unref_folios` does the
   * same per folio): to the freeing CPU's pcp list of the pageblock's migratetype (CMA
   * and HIGHATOMIC on the MOVABLE list), or straight to the buddy lists (`free_one_page`)
   * for an isolated pageblock or an order the pcp does not take.
   */
  freeFolio(f: Folio, m: Machine): void {
    const region = this.regionOf(f.pfn);
    if (!region) throw new ModelError("free_pages", f.name, "pfn belongs to no zone");
    m.noteRead(this.zoneOf(region.zone, region.nid)!.pageblocks); // get_pfnblock_migratetype
    const pcp = this.freePcp(f, region);
    if (!pcp) {
      freeOnePage(region, f.pfn, f.order);
      return;
    }
    const mt = this.getPfnblockMigratetype(f.pfn) === "UNMOVABLE" ? 0 : 1;
    this.freeFrozenPageCommit(m, this.zoneOf(region.zone, region.nid)!, pcp, f.pfn, mt, f.order);
  }

  /** `free_frozen_page_commit` (`free_unref_page_commit`): add to the list head; spill once `high` is reached. */
  private freeFrozenPageCommit(m: Machine, zone: Zone, pcp: PerCpuPages, pfn: number, mt: number, order: number): void {
    pcp.allocFactor >>= 1;
    const pindex = orderToPindex(mt, order);
    pcp.lists[pindex].unshift(pfn);
    pcp.count += 1 << order;
    if (pcp.freeCount < zone.batch << CONFIG_PCP_BATCH_SCALE_MAX) pcp.freeCount += 1 << order;
    if (pcp.count >= zone.high) this.freePcppagesBulk(m, zone, pcp, nrPcpFree(pcp, zone.batch, zone.high), pindex);
  }

  /** `free_pcppages_bulk`: `count` pages, oldest first, round-robin over the lists from `pindex`, to the buddy lists. */
  private freePcppagesBulk(m: Machine, zone: Zone, pcp: PerCpuPages, count: number, pindex: number): void {
    count = Math.min(pcp.count, count);
    let p = pindex - 1;
    while (count > 0) {
      let list: number[];
      do {
        if (++p > NR_PCP_LISTS - 1) p = 0;
        list = pcp.lists[p];
      } while (list.length === 0);
      const order = pindexToOrder(p);
      do {
        const pfn = list.pop()!;
        count -= 1 << order;
        pcp.count -= 1 << order;
        const region = this.regionOf(pfn)!;
        freeOnePage(region, pfn, order);
        m.noteWrite(region);
        m.noteRead(zone.pageblocks);
        m.event("mm_page_pcpu_drain").arg("pfn", pfnHex(pfn)).arg("order", order).arg("migratetype", this.getPfnblockMigratetype(pfn));
      } while (count > 0 && list.length > 0);
    }
  }

  /** `drain_pages_zone`: all of `cpu`'s pcp pages of `zone` back to the buddy lists. */
  private drainPagesZoneNow(m: Machine, zone: Zone, cpu: number): void {
    const pcp = zone.pcps.get(cpu);
    if (!pcp || pcp.count === 0) return;
    while (pcp.count > 0) this.freePcppagesBulk(m, zone, pcp, Math.min(pcp.count, zone.batch << CONFIG_PCP_BATCH_SCALE_MAX), 0);
    m.markWrite(pcp);
  }

  /**
   * `drain_all_pages(zone)`: every CPU's pcp lists of the zone (of every zone when
   * omitted) back to the buddy lists, drained remotely by the caller one CPU after
   * another (`drain_pages_zone`): one step per CPU, so allocations and frees on other
   * CPUs interleave with it. Callers: `alloc_contig_range` (CMA) and memory offlining,
   * after isolating the range (page-isolation.ts).
   */
  drainAllPages(zone?: ZoneName, nid?: number): TaskGen<void> {
    return traced("drain_all_pages", this.drainAllPagesBody(zone, nid));
  }

  private *drainAllPagesBody(zone: ZoneName | undefined, nid: number | undefined): TaskGen<void> {
    const zones = this.zones.filter((z) => (zone === undefined || z.name === zone) && (nid === undefined || z.nid === nid));
    const cpus = currentMachine().cpuCount;
    for (let cpu = 0; cpu < cpus; cpu++) {
      yield* op({
        kind: "drain_pages_zone",
        label: `drain_pages_zone(cpu${cpu})`,
        reads: zones.map((z) => z.pageblocks),
        writes: zones.flatMap((z) => [z.pcp(cpu), ...z.regions]),
        cost: "drainPagesZone",
        run: (m) => {
          for (const z of zones) this.drainPagesZoneNow(m, z, cpu);
        },
      });
    }
  }
}

/**
 * `nr_pcp_alloc`: `batch` blocks, doubled (`alloc_factor`) at each order-0 refill
 * without a free in between, up to what leaves `batch` below `high`; fewer for a
 * higher order.
 */
function nrPcpAlloc(zone: Zone, pcp: PerCpuPages, order: number): number {
  const base = zone.batch;
  const high = zone.high;
  if (high < base) return 1;
  let batch = order === 0 ? base << pcp.allocFactor : base;
  if (order === 0) {
    const maxNrAlloc = Math.max(high - pcp.count - base, base);
    if (batch <= maxNrAlloc && pcp.allocFactor < CONFIG_PCP_BATCH_SCALE_MAX) pcp.allocFactor++;
    batch = Math.min(batch, maxNrAlloc);
  }
  if (batch > 1) batch = Math.max(batch >> order, 2);
  return batch;
}

/** `nr_pcp_free` (without `free_high`): at least `batch`, at most `high - batch`, scaled by recent frees. */
function nrPcpFree(pcp: PerCpuPages, batch: number, high: number): number {
  if (high < batch) return 1;
  return Math.min(Math.max(pcp.freeCount, batch), high - batch);
}

/** `free_one_page` / `__free_one_page`: back to the buddy list of the pfn's region. */
function freeOnePage(region: Region, pfn: number, order: number): void {
  for (let i = 0; i < 1 << order; i++) region.free.push(pfn + i);
  region.free.sort((a, b) => a - b);
}

/** The index in `free` (sorted) of the lowest naturally aligned run of `nr` pfns whose start `ok` accepts. */
function findRun(free: number[], nr: number, ok: (pfn: number) => boolean): number | undefined {
  for (let i = 0; i + nr <= free.length; i++) {
    const start = free[i];
    if (start % nr !== 0 || !ok(start)) continue; // natural alignment of a buddy block
    let run = true;
    for (let k = 1; k < nr; k++) if (free[i + k] !== start + k) run = false;
    if (run) return i;
  }
  return undefined;
}

export const FOLIO_COSTS = {
  /** One page allocation from the free lists: a few hundred ns (per-CPU list miss). */
  folioAlloc: 250,
  /** `drain_pages_zone` of one CPU's lists (lock, a few list moves under the zone lock). */
  drainPagesZone: 400,
} as const;
defineCosts(FOLIO_COSTS);
