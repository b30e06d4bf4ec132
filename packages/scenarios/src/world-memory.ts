/**
 * The memory side of a scenario's world: physical memory from the scenario's machine
 * spec, one address space per process, named files and memfds, the memory model's
 * invariants after every step, and the end-of-run leak check (nothing pinned,
 * isolated, locked or transiently referenced once the tasks have finished).
 */

import { PG, PhysicalMemory, describeHolders, type Folio } from "@foliosim/folio";
import { getLru, LRU_BATCHES, LRU_LISTS, MLOCK_HOLDER } from "@foliosim/lru";
import { AddressSpace, allMms, createMm, DEVICE_EXCLUSIVE_HOLDER, MAP_HOLDER, MmInvariantChecker, mmInvariants, PAGECACHE_HOLDER, PRIVATE_HOLDER, SWAPCACHE_HOLDER, type MmStruct } from "@foliosim/mm";
import { allPagemaps, DEVICE_ALLOC_HOLDER, hmmInit } from "@foliosim/hmm";
import { defineWorldHooks } from "./runner.js";
import { World } from "./calls.js";
import type { Machine, Shared } from "@foliosim/sim";

export interface MemoryWorld {
  memory: PhysicalMemory;
  mms: Map<string, MmStruct>;
  files: Map<string, AddressSpace>;
  /** `allFolios` as the invariants last saw it, while memory and device pagemaps have not changed. */
  checked?: { generation: number; pagemaps: number; folios: readonly Folio[] };
  /** The incremental form of the invariants, with what it keeps between steps. */
  checker: MmInvariantChecker;
  /** With "both" checking: what the invariants read of each folio at the last check. */
  inputs?: Map<Folio, string>;
}

/**
 * How the memory model's invariants are checked after each step: `incremental` (the
 * default) checks the folios the writes since the last check reach; `full` checks
 * every folio; `both` runs the two, and throws when they disagree or when a folio
 * changed that the incremental check did not look at (for tests). From the environment
 * variable FOLIOSIM_INVARIANTS, or `setInvariantChecking`.
 */
export type InvariantChecking = "incremental" | "full" | "both";

let CHECKING: InvariantChecking = invariantChecking(process.env.FOLIOSIM_INVARIANTS);

function invariantChecking(v: string | undefined): InvariantChecking {
  if (v === undefined || v === "" || v === "incremental") return "incremental";
  if (v === "full" || v === "both") return v;
  throw new Error(`FOLIOSIM_INVARIANTS is "${v}"; expected incremental, full or both`);
}

/** Choose how invariants are checked (see `InvariantChecking`); returns the previous choice. */
export function setInvariantChecking(mode: InvariantChecking): InvariantChecking {
  const was = CHECKING;
  CHECKING = mode;
  return was;
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

/** A holder other than the structural ones (and a device page's own) holds references of `f`. */
function holdsOdd(f: Folio): boolean {
  for (const [h, n] of f.holders) if (n !== 0 && !STRUCTURAL_HOLDERS.has(h) && !(f.zone === "Device" && h === DEVICE_ALLOC_HOLDER)) return true;
  return false;
}

/** Leaks of one folio, as messages. */
export function folioLeaks(f: Folio): string[] {
  // Every execution asks this of every folio: the common answer, none, is found without copying its holders.
  if (f.state !== "allocated" || (f.pincount === 0 && !f.lock.locked && !holdsOdd(f))) return [];
  const out: string[] = [];
  // A device page the device allocated keeps that reference while it backs memory.
  const owned = (h: string) => STRUCTURAL_HOLDERS.has(h) || (f.zone === "Device" && h === DEVICE_ALLOC_HOLDER);
  const odd = [...f.holders].filter(([h, n]) => n !== 0 && !owned(h));
  if (odd.length > 0) out.push(`${f.name} still holds ${odd.map(([h, n]) => `${h}=${n}`).join(", ")} (holders: ${describeHolders(f)})`);
  if (f.pincount > 0) out.push(`${f.name} still has _pincount ${f.pincount}`);
  if (f.lock.locked) out.push(`${f.name} is still locked by ${f.lock.owner?.name ?? "?"}`);
  return out;
}

/** One function for every run (not a closure over the run's world), so a snapshot of the machine can keep it. */
function memoryModelInvariants(m: Machine, written: ReadonlySet<Shared>): string | null {
  const world = m.ext.get(World) as World;
  const folios = checkedFolios(world);
  if (CHECKING === "full") return mmInvariants(m, folios);
  const mw = memoryWorld(world);
  const checked = CHECKING === "both" ? new Set<Folio>() : undefined;
  const got = mw.checker.check(m, folios, written, checked);
  if (checked !== undefined) {
    checkedEveryChange(m, mw, folios, checked);
    const want = mmInvariants(m, folios);
    if (got !== want) throw new Error(`the incremental invariant check disagrees with the full one at step ${m.stepCount}: ${got ?? "no failure"} instead of ${want ?? "no failure"}`);
  }
  return got;
}

/**
 * Every folio whose invariant inputs changed since the last check must be one the
 * incremental check looked at: the inputs of each folio, as a text, compared with the
 * last check's (for "both"). The failure names the folio and what changed unseen.
 */
function checkedEveryChange(m: Machine, mw: MemoryWorld, folios: readonly Folio[], checked: ReadonlySet<Folio>): void {
  const last = (mw.inputs ??= new Map());
  const where = placesOfAll(m);
  for (const f of folios) {
    const now = folioInputs(m, f, where.get(f) ?? "");
    const was = last.get(f);
    last.set(f, now);
    if (was !== undefined && was !== now && !checked.has(f)) {
      throw new Error(`step ${m.stepCount} changed ${f.name} without a write that reaches it, and the incremental invariant check did not look at it:\n  was ${was}\n  now ${now}`);
    }
  }
}

/** Per folio, where page tables, lists and batches hold it, as a text. */
function placesOfAll(m: Machine): Map<Folio, string> {
  const places = new Map<Folio, string[]>();
  const at = (f: Folio, place: string) => {
    const l = places.get(f);
    if (l === undefined) places.set(f, [place]);
    else l.push(place);
  };
  for (const mm of allMms(m)) {
    for (const slot of mm.ptes.values()) {
      const p = slot.pte;
      if (p.kind === "present" || p.kind === "device-private") at(p.folio, "pte");
      else if (p.kind === "device-exclusive") at(p.folio, p.mapped ? "pte" : "exclusive-pte");
    }
  }
  const s = getLru(m);
  for (const l of LRU_LISTS) for (const f of s.lruvec.lists[l]) at(f, l);
  for (const fb of s.cpuFbatches) for (const b of LRU_BATCHES) for (const f of fb.batches[b].folios) at(f, b);
  for (const mb of s.mlockFbatch) for (const e of mb.fbatch.entries) at(e.folio, "mlock_fbatch");
  const out = new Map<Folio, string>();
  for (const [f, l] of places) out.set(f, l.sort().join(","));
  return out;
}

/** What the invariants read of one folio: its fields, its ledger, whether the page cache holds it, `places`, its PG_lru window. */
function folioInputs(m: Machine, f: Folio, places: string): string {
  const w = getLru(m).lruClearedOnList.get(f);
  const mapping = f.mapping;
  const cached = mapping instanceof AddressSpace && mapping.pages.get(f.index) === f;
  const flags = f.flags & ~(PG.locked | PG.waiters);
  return [
    `ref ${f.refcount} frozen ${f.frozenAt} pin ${f.pincount} map ${f.mapcount} flags ${flags} ${f.state} lru ${f.lruList} mlock ${f.mlockCount} mapping ${mapping?.name}@${f.index}`,
    `holders ${[...f.holders].join(";")} cached ${cached} places ${places} window ${w ? `${w.by}/${w.task?.state ?? "queued"}` : "-"}`,
  ].join(" ");
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
    const mw: MemoryWorld = { memory, mms: new Map(), files: new Map(), checker: new MmInvariantChecker() };
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
