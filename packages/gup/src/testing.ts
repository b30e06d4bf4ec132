/**
 * Test support (not exported from the package): the folio states of the seed scenarios
 * (reference §12), built through modelled operations only and settled, with the
 * memory-model invariants checked after every later step.
 *
 * - `s1World`: Will Deacon's pKVM folio (§12.1, E6): a shmem folio in CMA, mapped
 *   locked-on-fault on CPU7, on the unevictable list, still in CPU7's mlock batch.
 * - `cleanWorld`: an unpinnable shmem folio in CMA, mapped once, on the LRU, in no batch
 *   (E2): every reference is explained.
 * - `lruAddWorld`: S2 (§12.2, E11): an anonymous folio in CMA just faulted on CPU0,
 *   still in CPU0's `lru_add` batch (PG_lru clear).
 * - `movableWorld`: anonymous pages in ZONE_MOVABLE, on the LRU.
 * - `largeWorld`: an order-2 anonymous folio in ZONE_MOVABLE (E20).
 * - `pinnableWorld`: anonymous pages in ordinary ZONE_NORMAL memory.
 */

import { PhysicalMemory, type Folio, type MemorySpec } from "@foliosim/folio";
import { lruAddDrainAll } from "@foliosim/lru";
import {
  createFile,
  createMm,
  forcePageCacheRa,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  memfdCreate,
  mlock2,
  MLOCK_ONFAULT,
  mmap,
  mmInvariants,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
  touch,
  type MmStruct,
} from "@foliosim/mm";
import { Machine, TimedChooser, type Chooser, type KernelOptionValue, type RunResult, type TraceEvent } from "@foliosim/sim";

export interface World {
  m: Machine;
  memory: PhysicalMemory;
  mm: MmStruct;
  /** The folios faulted in, page i at `addr + i * PAGE_SIZE`. */
  folios: Folio[];
  folio: Folio;
  addr: number;
  /** A CPU other than the one that faulted the pages in, for the pinning task. */
  pinCpu: number;
  setupEvents: number;
}

type Kernel = Record<string, KernelOptionValue>;

/** Options these worlds pin unless a test overrides them: the drain counts the tests assert are without 6.18's local-first drain. */
const PINNED_DEFAULTS: Kernel = { migrate: "mainline", "lru-drain-all-local-first": false };

/** Run the set-up spawned on `m`; `addr` is read once it has run. */
function finish(m: Machine, memory: PhysicalMemory, mm: MmStruct, folios: Folio[], start: () => number, pinCpu: number): World {
  m.settle(new TimedChooser(0, 0));
  const addr = start();
  m.addInvariant("mm", (mm) => mmInvariants(mm, memory.allFolios()));
  return { m, memory, mm, folios, folio: folios[0], addr, pinCpu, setupEvents: m.trace.events.length };
}

/** Reference §12.1: ref 3, exp 2, lru|unevictable|mlocked, in CPU7's mlock batch; pin from CPU3. */
export function s1World(kernel: Kernel = {}): World {
  const m = new Machine({ cpus: 8, kernel: { ...PINNED_DEFAULTS, ...kernel } });
  const memory = new PhysicalMemory({ CMA: 8, Normal: 128 });
  const mm = createMm(m, { memory, name: "crosvm" });
  const memfd = memfdCreate(m, { memory, name: "crosvm_guest", sizePages: 16 });
  const other = createFile(m, { memory, name: "libfoo.so", sizePages: 64 });
  let addr = 0;
  const folios: Folio[] = [];
  // CPU7: map guest memory locked-on-fault, fault one page in, then readahead of another file fills the lru_add batch.
  m.spawn({
    name: "crosvm_VmRunApp",
    cpu: 7,
    *body() {
      addr = yield* mmap(mm, { length: 16 * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: memfd });
      yield* mlock2(mm, addr, 16 * PAGE_SIZE, MLOCK_ONFAULT);
      folios.push(yield* touch(mm, addr, true));
      yield* forcePageCacheRa(other, 0, 31);
    },
  });
  return finish(m, memory, mm, folios, () => addr, 3);
}

/** Pages of a mapping faulted in on CPU0 (shared memfd or private anonymous), drained unless `keepBatched`. */
function faultedWorld(kernel: Kernel, spec: MemorySpec, shmem: boolean, pages: number, keepBatched: boolean, folioOrder = 0): World {
  const m = new Machine({ cpus: 2, kernel: { ...PINNED_DEFAULTS, ...kernel } });
  const memory = new PhysicalMemory(spec);
  const mm = createMm(m, { memory, name: "p0" });
  const file = shmem ? memfdCreate(m, { memory, name: "memfd", sizePages: Math.max(4, pages) }) : undefined;
  let addr = 0;
  const folios: Folio[] = [];
  m.spawn({
    name: "setup",
    cpu: 0,
    *body() {
      addr = yield* mmap(mm, { length: pages * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: file ? MAP_SHARED : MAP_ANONYMOUS | MAP_PRIVATE, file, folioOrder });
      for (let i = 0; i < pages; i++) folios.push(yield* touch(mm, addr + i * PAGE_SIZE, true));
      if (!keepBatched) yield* lruAddDrainAll();
    },
  });
  return finish(m, memory, mm, folios, () => addr, 1);
}

/** E2 in CMA: ref 2 (page cache + PTE), exp 2, on the LRU, in no batch. */
export function cleanWorld(kernel: Kernel = {}, pages = 1): World {
  return faultedWorld(kernel, { CMA: 8, Normal: 32 }, true, pages, false);
}

/** S2 in CMA: ref 2 (PTE + CPU0's lru_add slot), exp 1, PG_lru clear. */
export function lruAddWorld(kernel: Kernel = {}, pages = 1): World {
  return faultedWorld(kernel, { CMA: 8, Normal: 32 }, false, pages, true);
}

/** Anonymous pages in ZONE_MOVABLE (unpinnable), on the LRU. */
export function movableWorld(kernel: Kernel = {}, pages = 1): World {
  return faultedWorld(kernel, { Movable: 8, Normal: 32 }, false, pages, false);
}

/** One order-2 anonymous folio in ZONE_MOVABLE, its 4 pages mapped (`folios` lists it once per page), on the LRU. */
export function largeWorld(kernel: Kernel = {}): World {
  return faultedWorld(kernel, { Movable: 16, Normal: 32 }, false, 4, false, 2);
}

/** Anonymous pages in ZONE_NORMAL (pinnable), on the LRU. */
export function pinnableWorld(kernel: Kernel = {}, pages = 1): World {
  return faultedWorld(kernel, { Normal: 32 }, false, pages, false);
}

/** Run everything spawned since the set-up; the result's trace starts after the set-up. */
export function run(w: World, chooser: Chooser = new TimedChooser(1)): RunResult {
  const r = w.m.run(chooser);
  return { ...r, trace: r.trace.slice(w.setupEvents) };
}

/** Trace events of `type` (and `name`, if given). */
export function events(r: RunResult, type: string, name?: string): TraceEvent[] {
  return r.trace.filter((e) => e.type === type && (name === undefined || e.name === name));
}

/** A folio's reference holders, sorted, for exact comparisons. */
export function holders(f: Folio): Record<string, number> {
  return Object.fromEntries([...f.holders].sort(([a], [b]) => a.localeCompare(b)));
}
