/**
 * The memory side of a scenario's world: physical memory from the scenario's machine
 * spec, one address space per process, named files and memfds, the memory model's
 * invariants after every step, and the end-of-run leak check (nothing pinned,
 * isolated, locked or transiently referenced once the tasks have finished).
 */

import { PhysicalMemory, describeHolders, type Folio } from "@foliosim/folio";
import { LRU_BATCHES, MLOCK_HOLDER } from "@foliosim/lru";
import { createMm, DEVICE_EXCLUSIVE_HOLDER, MAP_HOLDER, mmInvariants, PAGECACHE_HOLDER, PRIVATE_HOLDER, SWAPCACHE_HOLDER, type AddressSpace, type MmStruct } from "@foliosim/mm";
import { allPagemaps, DEVICE_ALLOC_HOLDER, hmmInit } from "@foliosim/hmm";
import { defineWorldHooks } from "./runner.js";
import { World } from "./calls.js";
import type { Machine } from "@foliosim/sim";

export interface MemoryWorld {
  memory: PhysicalMemory;
  mms: Map<string, MmStruct>;
  files: Map<string, AddressSpace>;
  /** `allFolios` as the invariants last saw it, while memory and device pagemaps have not changed. */
  checked?: { generation: number; pagemaps: number; folios: readonly Folio[] };
}

const KEY = "memory";

/** References a finished scenario may legitimately leave: owners that outlive the tasks. */
const STRUCTURAL_HOLDERS = new Set<string>([PAGECACHE_HOLDER, MAP_HOLDER, DEVICE_EXCLUSIVE_HOLDER, SWAPCACHE_HOLDER, PRIVATE_HOLDER, ...LRU_BATCHES, MLOCK_HOLDER]);

/** Every folio of the run: system memory and device memory. */
export function allFolios(world: World): Folio[] {
  const mw = memoryWorld(world);
  return [...mw.memory.allFolios(), ...allPagemaps(world.m).flatMap((p) => p.folios)];
}

export function memoryWorld(world: World): MemoryWorld {
  const mw = world.peek<MemoryWorld>(KEY);
  if (!mw) throw new Error("the scenario world has no memory (defineWorldHooks not installed)");
  return mw;
}

/** The address space of `process`, created on first use. */
export function processMm(world: World, process: string): MmStruct {
  const mw = memoryWorld(world);
  let mm = mw.mms.get(process);
  if (!mm) {
    mm = createMm(world.m, { memory: mw.memory, name: process });
    mw.mms.set(process, mm);
  }
  return mm;
}

/** Leaks of one folio, as messages. */
export function folioLeaks(f: Folio): string[] {
  const out: string[] = [];
  if (f.state !== "allocated") return out;
  // A device page the device allocated keeps that reference while it backs memory.
  const owned = (h: string) => STRUCTURAL_HOLDERS.has(h) || (f.zone === "Device" && h === DEVICE_ALLOC_HOLDER);
  const odd = [...f.holders].filter(([h, n]) => n !== 0 && !owned(h));
  if (odd.length > 0) out.push(`${f.name} still holds ${odd.map(([h, n]) => `${h}=${n}`).join(", ")} (holders: ${describeHolders(f)})`);
  if (f.pincount > 0) out.push(`${f.name} still has _pincount ${f.pincount}`);
  if (f.lock.locked) out.push(`${f.name} is still locked by ${f.lock.owner?.name ?? "?"}`);
  return out;
}

/** One function for every run (not a closure over the run's world), so a snapshot of the machine can keep it. */
function memoryModelInvariants(m: Machine): string | null {
  return mmInvariants(m, checkedFolios(m.ext.get(World) as World));
}

/** `allFolios`, rebuilt only when a folio was created (the invariants run after every step). */
function checkedFolios(world: World): readonly Folio[] {
  const mw = memoryWorld(world);
  const pagemaps = allPagemaps(world.m).length;
  const generation = mw.memory.folioGeneration;
  const c = mw.checked;
  if (c !== undefined && c.generation === generation && c.pagemaps === pagemaps) return c.folios;
  const folios = allFolios(world);
  mw.checked = { generation, pagemaps, folios };
  return folios;
}

defineWorldHooks({
  init(world, scenario) {
    const memory = new PhysicalMemory({ ...scenario.machine.memory, nodes: scenario.machine.nodes ?? 1 });
    const mw: MemoryWorld = { memory, mms: new Map(), files: new Map() };
    world.slot(KEY, () => mw);
    hmmInit(world.m); // the device-private branch of do_swap_page
    if (scenario.promise.invariants) {
      world.m.addInvariant("memory model", memoryModelInvariants);
    }
  },
  leaks(world) {
    const mw = world.peek<MemoryWorld>(KEY);
    if (!mw) return [];
    return allFolios(world).flatMap(folioLeaks);
  },
});
