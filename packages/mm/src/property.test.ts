/**
 * Property test: random per-CPU sequences of faults, mlock/mlock2/munlock, readahead,
 * activation, drains (local and global), isolation and putback, and pins, run
 * concurrently under a seeded random schedule on a few CPUs, two processes, a file, a
 * memfd and anonymous memory. After every step (`m.addInvariant`): `_refcount` equals
 * the holders ledger and the structural sum of reference §1.5 (page cache per page,
 * mapcount = PTEs mapping it, batch slots, isolation, pins), nothing negative,
 * `lruInvariants`. At the end, with every batch drained: no reference is left in
 * flight, and `mlock_count` is consistent with the VM_LOCKED mappings.
 */

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PhysicalMemory, folioPut, type Folio } from "@foliosim/folio";
import { ISOLATED_HOLDER, folioActivate, folioIsolateLru, folioPutbackLru, lruAddDrain, lruAddDrainAll } from "@foliosim/lru";
import { Machine, SeededChooser, type TaskGen } from "@foliosim/sim";
import { TRANSIENT_HOLDER, createFile, filemapGetEntry, type AddressSpace } from "./filemap.js";
import { mlockCountProblems, mmInvariants } from "./invariants.js";
import { touch } from "./memory.js";
import { MLOCK_ONFAULT, mlock, mlock2, munlock } from "./mlock.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { createMm, type MmStruct } from "./mm-types.js";
import { forcePageCacheRa } from "./readahead.js";
import { memfdCreate } from "./shmem.js";
import { grabMapped, pinFolio, unpinFolio } from "./testing.js";

const PAGE = 4096;
const CPUS = 3;
const PAGES = 4;
type Region = "anon" | "file" | "memfd";
const REGIONS: Region[] = ["anon", "file", "memfd"];

type Action =
  | { kind: "touch"; proc: number; region: Region; page: number; write: boolean }
  | { kind: "mlock" | "mlock2" | "munlock"; proc: number; region: Region; page: number; pages: number }
  | { kind: "readahead"; index: number; nr: number }
  | { kind: "activate" | "isolate" | "pin"; region: Region; page: number }
  | { kind: "putback" | "unpin" | "drain" | "drainAll" };

const page = fc.integer({ min: 0, max: PAGES - 1 });
const region = fc.constantFrom(...REGIONS);
const proc = fc.integer({ min: 0, max: 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("touch" as const), proc, region, page, write: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom("mlock" as const, "mlock2" as const, "munlock" as const), proc, region, fc.oneof(fc.constant([0, PAGES]), fc.tuple(page, fc.integer({ min: 1, max: PAGES }))))
      .map(([kind, p, r, [pg, n]]) => ({ kind, proc: p, region: r, page: pg, pages: n })),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("readahead" as const), index: page, nr: fc.integer({ min: 1, max: PAGES }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("activate" as const, "pin" as const), region, page }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("isolate" as const), region, page }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("putback" as const, "unpin" as const) }) },
  { weight: 3, arbitrary: fc.constant({ kind: "drain" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "drainAll" as const }) },
);

interface Env {
  m: Machine;
  mem: PhysicalMemory;
  procs: { mm: MmStruct; base: Record<Region, number> }[];
  file: AddressSpace;
  memfd: AddressSpace;
}

function setup(seed: number): Env {
  const m = new Machine({ cpus: CPUS });
  const mem = new PhysicalMemory({ Normal: 96, CMA: 32 });
  const file = createFile(m, { memory: mem, name: "file", sizePages: PAGES, raPages: 2 });
  const memfd = memfdCreate(m, { memory: mem, name: "shm", sizePages: PAGES });
  const procs = [0, 1].map((i) => ({ mm: createMm(m, { memory: mem, name: `p${i}` }), base: {} as Record<Region, number> }));
  m.spawn({
    name: "setup",
    cpu: 0,
    body: function* () {
      for (const p of procs) {
        p.base.anon = yield* mmap(p.mm, { length: PAGES * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
        p.base.file = yield* mmap(p.mm, { length: PAGES * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file });
        p.base.memfd = yield* mmap(p.mm, { length: PAGES * PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: memfd });
      }
    },
  });
  m.settle(new SeededChooser(seed));
  m.addInvariant("mm", (mm) => mmInvariants(mm, mem.allFolios()));
  return { m, mem, procs, file, memfd };
}

/** A reference ("transient") on the folio behind `region`/`page` of process 0, if there is one. */
function* lookup(env: Env, r: Region, pg: number): TaskGen<Folio | null> {
  if (r === "file") return yield* filemapGetEntry(env.file, pg);
  if (r === "memfd") return yield* filemapGetEntry(env.memfd, pg);
  return yield* grabMapped(env.procs[0].mm, env.procs[0].base.anon + pg * PAGE);
}

function* runActions(env: Env, actions: Action[]): TaskGen<void> {
  const isolated: Folio[] = [];
  const pinned: Folio[] = [];
  for (const a of actions) {
    switch (a.kind) {
      case "touch": {
        const p = env.procs[a.proc];
        yield* touch(p.mm, p.base[a.region] + a.page * PAGE, a.write);
        break;
      }
      case "mlock":
      case "mlock2":
      case "munlock": {
        const p = env.procs[a.proc];
        const start = p.base[a.region] + a.page * PAGE;
        const len = Math.min(a.pages, PAGES - a.page) * PAGE;
        if (a.kind === "mlock") yield* mlock(p.mm, start, len);
        else if (a.kind === "mlock2") yield* mlock2(p.mm, start, len, MLOCK_ONFAULT);
        else yield* munlock(p.mm, start, len);
        break;
      }
      case "readahead":
        yield* forcePageCacheRa(env.file, a.index, a.nr);
        break;
      case "activate":
      case "isolate":
      case "pin": {
        const f = yield* lookup(env, a.region, a.page);
        if (f === null) break;
        if (a.kind === "activate") yield* folioActivate(f);
        else if (a.kind === "pin") {
          yield* pinFolio(f);
          pinned.push(f);
        } else if (yield* folioIsolateLru(f)) isolated.push(f);
        yield* folioPut(f, TRANSIENT_HOLDER);
        break;
      }
      case "putback": {
        const f = isolated.pop();
        if (f) yield* folioPutbackLru(f);
        break;
      }
      case "unpin": {
        const f = pinned.pop();
        if (f) yield* unpinFolio(f);
        break;
      }
      case "drain":
        yield* lruAddDrain();
        break;
      case "drainAll":
        yield* lruAddDrainAll();
        break;
    }
  }
  while (isolated.length) yield* folioPutbackLru(isolated.pop()!);
  while (pinned.length) yield* unpinFolio(pinned.pop()!);
}

function check(plans: Action[][], seed: number): void {
  const env = setup(seed);
  const { m, mem } = env;
  plans.forEach((plan, cpu) => m.spawn({ name: `cpu${cpu}-actions`, cpu, body: () => runActions(env, plan) }));
  m.settle(new SeededChooser(seed));
  if (m.status !== "running") throw new Error(`run ended ${m.status}: ${m.failure?.message ?? m.hang?.message}`);
  // Drain every CPU's batches on that CPU, one after the other.
  for (let cpu = 0; cpu < CPUS; cpu++) m.spawn({ name: `drain${cpu}`, cpu, body: () => lruAddDrain() });
  m.settle(new SeededChooser(seed));
  if (m.status !== "running") throw new Error(`drain ended ${m.status}: ${m.failure?.message ?? m.hang?.message}`);
  for (const f of mem.allFolios()) {
    if (f.holderCount(TRANSIENT_HOLDER) !== 0) throw new Error(`${f.name}: ${f.holderCount(TRANSIENT_HOLDER)} transient reference(s) leaked`);
    if (f.holderCount(ISOLATED_HOLDER) !== 0) throw new Error(`${f.name}: still isolated`);
    if (f.holderCount("pin") !== 0) throw new Error(`${f.name}: still pinned`);
  }
  const problem = mlockCountProblems(m, mem.allFolios()) ?? mmInvariants(m, mem.allFolios());
  if (problem) throw new Error(problem);
}

describe("property: faults, mlock, readahead, activation, drains, isolation and pins keep the accounting", () => {
  it("holds under random concurrent sequences (seeded)", () => {
    fc.assert(
      fc.property(fc.array(fc.array(action, { maxLength: 14 }), { minLength: CPUS, maxLength: CPUS }), fc.integer({ min: 1, max: 1_000_000 }), (plans, seed) => {
        check(plans, seed);
      }),
      { seed: 20251121, numRuns: 200 },
    );
  });

  it("a sequence that mlocks, faults, reads ahead and pins across CPUs", () => {
    check(
      [
        [
          { kind: "mlock2", proc: 0, region: "memfd", page: 0, pages: 4 },
          { kind: "touch", proc: 0, region: "memfd", page: 1, write: true },
          { kind: "readahead", index: 0, nr: 4 },
          { kind: "isolate", region: "memfd", page: 1 },
          { kind: "touch", proc: 1, region: "memfd", page: 1, write: false },
        ],
        [
          { kind: "pin", region: "memfd", page: 1 },
          { kind: "mlock", proc: 1, region: "memfd", page: 0, pages: 2 },
          { kind: "drainAll" },
        ],
        [
          { kind: "touch", proc: 0, region: "anon", page: 2, write: true },
          { kind: "activate", region: "file", page: 0 },
          { kind: "munlock", proc: 0, region: "memfd", page: 0, pages: 4 },
        ],
      ],
      7,
    );
  });
});
