/**
 * Test support (not exported from the package): a machine with physical memory and
 * the memory-model invariants installed after every step, sequential steps on chosen
 * CPUs (`Machine.settle`), a minimal pin helper (GUP's `try_grab_folio` with FOLL_PIN)
 * and folio snapshots.
 */

import {
  GUP_PIN_COUNTING_BIAS,
  PhysicalMemory,
  folioExpectedRefCount,
  folioHasPincount,
  formatFlags,
  getNow,
  putNow,
  type Folio,
  type MemorySpec,
} from "@foliosim/folio";
import { whereIs } from "@foliosim/lru";
import { Machine, SeededChooser, op, type Chooser, type MachineConfig, type Op, type TaskGen } from "@foliosim/sim";
import { TRANSIENT_HOLDER } from "./filemap.js";
import { mmInvariants } from "./invariants.js";
import { createMm, type MmStruct } from "./mm-types.js";
import { followPagePte } from "./memory.js";
import { pteLock, pteUnlock } from "./rmap.js";
import { Folio as FolioClass, folioGet } from "@foliosim/folio";

export interface World {
  m: Machine;
  mem: PhysicalMemory;
  /** Run `body` as a task on `cpu` to completion (with everything else spawned); throws on a model error. */
  step<R>(cpu: number, body: () => TaskGen<R> | Op<R>, name?: string): R;
  /** Like `step` but returns the run status and failure instead of throwing. */
  tryStep<R>(cpu: number, body: () => TaskGen<R> | Op<R>, name?: string): { status: string; failure?: { message: string; operation?: string; object?: string; usage?: true }; result?: R };
  mm(name?: string): MmStruct;
}

let taskSeq = 0;

/** Build the body lazily, inside the task (kernel code reads `current` / `smp_processor_id()`). */
function* asTask<R>(body: () => TaskGen<R> | Op<R>): TaskGen<R> {
  return (yield* body() as TaskGen<R>) as R;
}

export function world(config: Partial<MachineConfig> = {}, memory: MemorySpec = { Normal: 256 }, chooser: Chooser = new SeededChooser(1)): World {
  const m = new Machine({ cpus: 4, ...config });
  const mem = new PhysicalMemory(memory);
  m.addInvariant("mm", (mm) => mmInvariants(mm, mem.allFolios()));
  const w: World = {
    m,
    mem,
    step(cpu, body, name) {
      const r = w.tryStep(cpu, body, name);
      if (r.status !== "running") throw new Error(`step failed (${r.status}): ${r.failure?.message ?? m.hang?.message ?? ""}`);
      return r.result as never;
    },
    tryStep(cpu, body, name) {
      const t = m.spawn({ name: name ?? `step${taskSeq++}`, cpu, body: () => asTask(body) });
      m.settle(chooser);
      if (m.status !== "running") return { status: m.status, failure: m.failure };
      if (t.state !== "done") return { status: "unfinished" };
      return { status: "running", result: t.result as never };
    },
    mm(name = "proc") {
      return createMm(m, { memory: mem, name });
    },
  };
  return w;
}

/** `try_grab_folio(folio, 1, FOLL_PIN)`: +1024 on a small folio, +1 ref and +1 `_pincount` per page on a large one. */
export function pinFolio(folio: Folio, pages = 1): Op<void> {
  return op({
    kind: "folio_ref_add",
    label: "try_grab_folio",
    writes: [folio.ref],
    cost: "atomic",
    run: (m) => {
      if (folioHasPincount(folio)) {
        folio.pincount += pages;
        getNow(m, folio, pages, "pin", "try_grab_folio");
      } else getNow(m, folio, GUP_PIN_COUNTING_BIAS * pages, "pin", "try_grab_folio");
    },
  });
}

/** `unpin_user_page` (`gup_put_folio` with FOLL_PIN). */
export function unpinFolio(folio: Folio, pages = 1): Op<void> {
  return op({
    kind: "folio_put",
    label: "unpin_user_page",
    writes: [folio.ref],
    cost: "atomic",
    run: (m) => {
      if (folioHasPincount(folio)) {
        folio.pincount -= pages;
        putNow(m, folio, pages, "pin", "unpin_user_page");
      } else putNow(m, folio, GUP_PIN_COUNTING_BIAS * pages, "pin", "unpin_user_page");
    },
  });
}

/** Under the PTE lock, the folio mapped at `addr` with a "transient" reference (`follow_page_pte` + FOLL_GET). */
export function* grabMapped(mm: MmStruct, addr: number): TaskGen<Folio | null> {
  yield* pteLock(mm, addr);
  const p = yield* followPagePte(mm, addr);
  let f: Folio | null = null;
  if (p.kind === "present") {
    f = p.folio;
    yield* folioGet(f, TRANSIENT_HOLDER);
  }
  yield* pteUnlock(mm, addr);
  return f;
}

export interface Snapshot {
  ref: number;
  exp: number;
  flags: string;
  mapcount: number;
  holders: Record<string, number>;
}

export function snap(f: Folio): Snapshot {
  return {
    ref: f.refcount,
    exp: folioExpectedRefCount(f),
    flags: formatFlags(f.flags),
    mapcount: f.mapcount,
    holders: Object.fromEntries([...f.holders].sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function where(m: Machine, f: Folio): string[] {
  return whereIs(m, f);
}

/**
 * A ZONE_DEVICE private folio standing in for @foliosim/hmm's `memremap_pages` +
 * `zone_device_page_init` (refcount 1, held "transient"), already given `mapping` and
 * `index` as `folio_migrate_mapping` would for a migration from `src`. Test fixture only.
 */
export function deviceFolioFor(src: Folio, pfn = 0xd00000): Op<Folio> {
  return op({
    kind: "zone_device_page_init",
    label: "zone_device_page_init",
    reads: [src.map],
    cost: "atomic",
    run: (m) => {
      const dev = new FolioClass(pfn, 0, "Device", "MOVABLE", { freeFolio() {} });
      dev.deviceType = "private";
      dev.state = "allocated";
      dev.refcount = 1;
      dev.addHolder(TRANSIENT_HOLDER, 1);
      dev.mapping = src.mapping;
      dev.index = src.index;
      m.markWrite(dev.ref);
      return dev;
    },
  });
}
