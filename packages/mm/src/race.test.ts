/**
 * Small races, explored over the first schedules of sim's exhaustive enumerator and over seeded random schedules: a user
 * fault against try_to_migrate + remove_migration_ptes on the same page, and two
 * faults on the same file page. Every step checks the memory-model invariants.
 */

import { describe, expect, it } from "vitest";
import { PhysicalMemory, folioLock, folioPut, folioUnlock, type Folio } from "@foliosim/folio";
import { folioIsolateLru, folioPutbackLru, lruAddDrain } from "@foliosim/lru";
import { Machine, SeededChooser } from "@foliosim/sim";
import { enumerateSchedules } from "@foliosim/sim/test";
import { TRANSIENT_HOLDER, createFile } from "./filemap.js";
import { mmInvariants } from "./invariants.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { createMm, getPte, type MmStruct } from "./mm-types.js";
import { removeMigrationPtes, tryToMigrate } from "./rmap.js";
import { grabMapped } from "./testing.js";

const PAGE = 4096;

describe("races over enumerated and random schedules", () => {
  it("a user fault against a migration of the same anonymous page: the access always completes on the folio", () => {
    let mm!: MmStruct;
    let addr = 0;
    let folio!: Folio;
    const program = (m: Machine) => {
      const mem = new PhysicalMemory({ Normal: 8 });
      mm = createMm(m, { memory: mem, name: "p" });
      m.spawn({
        name: "setup",
        cpu: 0,
        body: function* () {
          addr = yield* mmap(mm, { length: PAGE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
          folio = yield* touch(mm, addr, true);
          yield* lruAddDrain();
        },
      });
      m.settle(new SeededChooser(1));
      m.addInvariant("mm", (mm2) => mmInvariants(mm2, mem.allFolios()));
      m.spawn({
        name: "migrate",
        cpu: 0,
        body: function* () {
          const f = (yield* grabMapped(mm, addr))!;
          if (!(yield* folioIsolateLru(f))) return yield* folioPut(f, TRANSIENT_HOLDER);
          yield* folioPut(f, TRANSIENT_HOLDER);
          yield* folioLock(f);
          yield* tryToMigrate(f);
          yield* removeMigrationPtes(f, f); // the move failed: undo
          yield* folioUnlock(f);
          yield* folioPutbackLru(f);
        },
      });
      m.spawn({
        name: "user",
        cpu: 1,
        body: function* () {
          // Repeated reads: some land while the PTE is a migration entry.
          const seen = new Set<Folio>();
          for (let i = 0; i < 12; i++) seen.add(yield* touch(mm, addr, false));
          return seen.size === 1 ? [...seen][0] : null;
        },
      });
    };
    const { runs } = enumerateSchedules(
      program,
      { cpus: 2, trace: false },
      (r) => {
        expect(r.status, r.failure?.message ?? r.hang?.message).toBe("done");
        expect(r.tasks.find((t) => t.name === "user")!.result).toBe(folio);
        expect(getPte(mm, addr)).toMatchObject({ kind: "present", folio });
      },
      200,
    );
    expect(runs).toBeGreaterThan(50);
    // Random schedules reach the interesting one: the user fault sleeping on the migration entry.
    let waited = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const m = new Machine({ cpus: 2 });
      program(m);
      const r = m.run(new SeededChooser(seed));
      expect(r.status, r.failure?.message ?? r.hang?.message).toBe("done");
      expect(r.tasks.find((t) => t.name === "user")!.result).toBe(folio);
      if (r.trace.some((e) => e.type === "func_entry" && e.name === "migration_entry_wait")) waited++;
    }
    expect(waited).toBeGreaterThan(0);
  });

  it("two processes faulting the same file page: one page-cache folio, mapped twice", () => {
    let mms!: MmStruct[];
    const addrs: number[] = [];
    let mem!: PhysicalMemory;
    const program = (m: Machine) => {
      mem = new PhysicalMemory({ Normal: 8 });
      const file = createFile(m, { memory: mem, name: "f", sizePages: 1 });
      mms = [createMm(m, { memory: mem, name: "p0" }), createMm(m, { memory: mem, name: "p1" })];
      m.spawn({
        name: "setup",
        cpu: 0,
        body: function* () {
          for (const mm of mms) addrs.push(yield* mmap(mm, { length: PAGE, prot: PROT_READ, flags: MAP_SHARED, file }));
        },
      });
      m.settle(new SeededChooser(1));
      m.addInvariant("mm", (mm2) => mmInvariants(mm2, mem.allFolios()));
      mms.forEach((mm, i) => m.spawn({ name: `t${i}`, cpu: i, body: () => touch(mm, addrs[i], false) }));
    };
    const { runs } = enumerateSchedules(
      program,
      { cpus: 2, trace: false },
      (r) => {
        expect(r.status, r.failure?.message ?? r.hang?.message).toBe("done");
        const [a, b] = r.tasks.filter((t) => t.name !== "setup").map((t) => t.result as Folio);
        expect(a).toBe(b);
        expect(a.mapcount).toBe(2);
        expect(mem.allFolios().filter((f) => f.state === "allocated")).toHaveLength(1);
      },
      400,
    );
    expect(runs).toBeGreaterThan(50);
  });
});
