/**
 * Device memory (include/linux/memremap.h `struct dev_pagemap`, `struct
 * dev_pagemap_ops`; mm/memremap.c `memremap_pages`, `zone_device_page_init`,
 * `free_zone_device_folio`).
 *
 * A `DevPagemap` is one device's ZONE_DEVICE range: folios of zone "Device" with
 * `deviceType` "private" (MEMORY_DEVICE_PRIVATE: not CPU-addressable, mapped only by
 * device-private swap entries) or "coherent" (MEMORY_DEVICE_COHERENT: CPU-addressable,
 * mapped by present PTEs). Device folios are never on an LRU.
 *
 * Reference rule (mainline since v6.2, ef233450898f "mm: free device private pages
 * have zero refcount"): a free device folio has `_refcount` 0; the driver's allocation
 * (`zone_device_folio_init`) sets it to 1 and locks the folio; when the last reference
 * goes, `free_zone_device_folio` calls `pgmap->ops->page_free` and the page returns to
 * the driver. The pgmap itself holds a reference per page in use on *itself*
 * (`pgmap->ref`, a percpu_ref), not on the folio; `migrate_vma_check_page` still adds
 * one "ZONE_DEVICE extra reference" of slack (reference §6.4), which with this rule
 * is never consumed.
 *
 * Simplifications: order-0 device folios only; no `memory_failure` or folio-split
 * callbacks; the pfn range is fixed per pgmap (bases above every system region).
 */

import { Folio, type FolioFreeTarget } from "@foliosim/folio";
import { ModelError, Shared, op, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import type { VmFault } from "@foliosim/mm";
import "./costs.js";

export type MemoryType = "MEMORY_DEVICE_PRIVATE" | "MEMORY_DEVICE_COHERENT";

/** `struct dev_pagemap_ops`. */
export interface DevPagemapOps {
  /** `page_free(page)`: the folio's last reference went; the driver takes the page back. */
  pageFree(m: Machine, folio: Folio): void;
  /** `migrate_to_ram(vmf)`: a CPU fault on a device-private entry; returns VM_FAULT_* bits. */
  migrateToRam(vmf: VmFault, folio: Folio): TaskGen<number>;
}

/** Holder of the reference `zone_device_folio_init` gives the allocating driver. */
export const DEVICE_ALLOC_HOLDER = "alloc";

/** Device memory sits above system memory: pgmap i of a machine starts at 0xc00000 + i × 0x10000. */
const DEVICE_PFN_BASE = 0xc00000;
const DEVICE_PFN_STRIDE = 0x10000;

/** `struct dev_pagemap` with the driver's free list of its pages. */
export class DevPagemap extends Shared implements FolioFreeTarget {
  readonly type: MemoryType;
  /** `pgmap->owner`: compared with `migrate_vma.pgmap_owner` and `hmm_range.dev_private_owner`. */
  readonly owner: object;
  readonly basePfn: number;
  readonly nr: number;
  readonly folios: Folio[] = [];
  /** The driver's free pages, lowest pfn first (dmirror's `mdevice->free_folios`). */
  readonly free: Folio[] = [];
  /** `pgmap->ref`: pages in use (allocated and not yet freed). */
  inUse = 0;
  ops: DevPagemapOps | null = null;

  /** `index`: this pgmap's place among the machine's (allPagemaps(m).length): its pfns depend on nothing else. */
  constructor(name: string, type: MemoryType, nr: number, owner: object, index: number) {
    super(`pgmap ${name}`);
    this.type = type;
    this.owner = owner;
    this.nr = nr;
    this.basePfn = DEVICE_PFN_BASE + index * DEVICE_PFN_STRIDE;
    const deviceType = type === "MEMORY_DEVICE_PRIVATE" ? "private" : "coherent";
    for (let i = 0; i < nr; i++) {
      const f = new Folio(this.basePfn + i, 0, "Device", "MOVABLE", this);
      f.deviceType = deviceType;
      f.pgmap = this;
      this.folios.push(f);
      this.free.push(f);
    }
  }

  contains(pfn: number): boolean {
    return pfn >= this.basePfn && pfn < this.basePfn + this.nr;
  }

  folioAt(pfn: number): Folio | undefined {
    return this.contains(pfn) ? this.folios[pfn - this.basePfn] : undefined;
  }

  freeFootprint(): Shared {
    return this;
  }

  /** `free_zone_device_folio` → `pgmap->ops->page_free` (FolioFreeTarget for the folio layer). */
  freeFolio(f: Folio): void {
    const m = this.machine;
    if (!m) throw new ModelError("free_zone_device_folio", f.name, "pgmap not registered with a machine");
    this.inUse--;
    m.count("device_page_free");
    if (this.ops) this.ops.pageFree(m, f);
    this.free.push(f);
    this.free.sort((a, b) => a.pfn - b.pfn);
  }

  /** Set by `memremapPages`. */
  machine: Machine | null = null;
}

const PGMAPS = Symbol("hmm-pgmaps");

/** Every pgmap of a machine (for `pfn_to_page`). */
export function allPagemaps(m: Machine): DevPagemap[] {
  let l = m.ext.get(PGMAPS) as DevPagemap[] | undefined;
  if (!l) m.ext.set(PGMAPS, (l = []));
  return l;
}

/** `memremap_pages(pgmap, nid)`: make the device range's struct pages exist. */
export function memremapPages(m: Machine, pgmap: DevPagemap, ops: DevPagemapOps): DevPagemap {
  pgmap.ops = ops;
  pgmap.machine = m;
  allPagemaps(m).push(pgmap);
  return pgmap;
}

/** The pgmap a device folio belongs to. */
export function folioPgmap(f: Folio): DevPagemap | undefined {
  return f.pgmap instanceof DevPagemap ? f.pgmap : undefined;
}

/**
 * Allocate one device page and `zone_device_folio_init` it: refcount 1 (held by
 * `holder`), locked by the current task. Null when the device is full.
 */
export function devicePageAlloc(pgmap: DevPagemap, holder = DEVICE_ALLOC_HOLDER): Op<Folio | null> {
  return op({
    kind: "device_page_alloc",
    label: "dmirror_devmem_alloc_page",
    writes: [pgmap],
    cost: "hmmDeviceAllocPage",
    run: (m, t) => {
      const f = pgmap.free.shift();
      if (!f) {
        m.emit("device_page_alloc_fail", pgmap.name);
        return null;
      }
      if (f.refcount !== 0) throw new ModelError("zone_device_folio_init", f.name, `free device folio has refcount ${f.refcount}`);
      f.resetForFree();
      f.state = "allocated";
      f.refcount = 1;
      f.addHolder(holder, 1);
      f.lock.locked = true; // zone_device_page_init: lock_page()
      f.lock.owner = t;
      pgmap.inUse++;
      m.markWrite(pgmap);
      m.markWrite(f.ref);
      m.markWrite(f.lock);
      m.noteWrite(f.flagsWord); // zone_device_folio_init: flags, mapping
      m.noteWrite(f.map);
      m.count("device_page_alloc");
      m.event("device_page_alloc", f.name).arg("pgmap", pgmap.name);
      return f;
    },
  });
}
