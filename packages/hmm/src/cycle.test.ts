import { describe, expect, it } from "vitest";
import { SeededChooser, firstChooser } from "@foliosim/sim";
import { PAGE_SIZE, getPte } from "@foliosim/mm";
import { LRU_BATCHES } from "@foliosim/lru";
import type { Folio } from "@foliosim/folio";
import { anonMap, device, newMm, setup, userRead, userWrite, world, type World } from "./testing.js";
import { dmirrorMigrateToDevice, dmirrorMigrateToSystem, dmirrorOpen } from "./test-hmm.js";
import { MIGRATE_PFN_MIGRATE, MIGRATE_PFN_VALID, MIGRATE_PFN_WRITE, migratePfnToPfn } from "./migrate-device.js";
import type { MmStruct } from "@foliosim/mm";

const N = 6;
/** Page i holds VALUES[i]; page 3 starts as a hole (anonymous memory reads as 0 once it exists). */
const VALUES: unknown[] = ["v0", "v1", "v2", 0, "v4", "v5"];

/** Holders a folio may keep once every migration is finalized: mappings and LRU batch slots. */
const SETTLED_HOLDERS = new Set<string>(["map", ...LRU_BATCHES, "mlock"]);

function strayReferences(w: World): string[] {
  const out: string[] = [];
  for (const f of w.folios()) {
    if (f.lock.locked) out.push(`${f.name} still locked by ${f.lock.owner?.name}`);
    if (f.state === "free") {
      if (f.refcount !== 0) out.push(`${f.name} free with refcount ${f.refcount}`);
      continue;
    }
    for (const [h, n] of f.holders) if (!SETTLED_HOLDERS.has(h) || (f.zone === "Device" && h !== "map")) out.push(`${f.name} keeps ${n} "${h}" reference(s)`);
  }
  return out;
}

function cycleWorld(variant: "hmm-sleeping-wait" | "hmm-trylock-return" = "hmm-sleeping-wait") {
  const w = world({ variant });
  const mm = newMm(w, "proc");
  const dm = dmirrorOpen(device(w, "dmirror0"), mm);
  let base = 0;
  setup(w, 0, function* () {
    base = yield* anonMap(mm, N);
    for (let i = 0; i < N; i++) if (i !== 3) yield* userWrite(mm, base + i * PAGE_SIZE, VALUES[i]);
    const r = yield* dmirrorMigrateToDevice(dm, base + 4 * PAGE_SIZE, 2);
    if (r.migrated !== 2) throw new Error("set-up migration failed");
  });
  return { w, mm, dm, base };
}

function kinds(mm: MmStruct, base: number): string {
  return Array.from({ length: N }, (_, i) => getPte(mm, base + i * PAGE_SIZE).kind[0]).join("");
}

describe("hmm-migrate-cycle", () => {
  it("sequential round trips: cpages and migrated counts as the kernel reports them, every value survives", () => {
    const { w, mm, dm, base } = cycleWorld();
    const log: unknown[] = [];
    w.m.spawn({
      name: "A",
      cpu: 0,
      *body() {
        log.push(kinds(mm, base));
        for (let round = 0; round < 3; round++) {
          const to = yield* dmirrorMigrateToDevice(dm, base, N);
          log.push({ to: { cpages: to.cpages, migrated: to.migrated }, ptes: kinds(mm, base) });
          const back = yield* dmirrorMigrateToSystem(dm, base, N);
          log.push({ back: { cpages: back.cpages, migrated: back.migrated }, ptes: kinds(mm, base) });
        }
        const vals: unknown[] = [];
        for (let i = 0; i < N; i++) vals.push(yield* userRead(mm, base + i * PAGE_SIZE));
        log.push(vals);
      },
    });
    const r = w.m.run(firstChooser);
    expect(r.status).toBe("done");
    // p = present (system), d = device-private, n = none (a hole).
    expect(log).toEqual([
      "pppndd",
      // SELECT_SYSTEM: three system pages and the hole migrate (own device pages are not
      // selected); the read-back finds all six pages mirrored: cmd->cpages is 6.
      { to: { cpages: 6, migrated: 4 }, ptes: "dddddd" },
      { back: { cpages: 6, migrated: 6 }, ptes: "pppppp" },
      { to: { cpages: 6, migrated: 6 }, ptes: "dddddd" },
      { back: { cpages: 6, migrated: 6 }, ptes: "pppppp" },
      { to: { cpages: 6, migrated: 6 }, ptes: "dddddd" },
      { back: { cpages: 6, migrated: 6 }, ptes: "pppppp" },
      VALUES,
    ]);
    expect(w.check()).toBeNull();
    expect(strayReferences(w)).toEqual([]);
    expect(dm.dev.pgmap.inUse).toBe(0);
  });

  it("src entries carry MIGRATE_PFN_* exactly: pfn << 6 | VALID | MIGRATE | WRITE, a hole is MIGRATE alone", () => {
    const { w, dm, base } = cycleWorld();
    let src: number[] = [];
    w.m.spawn({
      name: "A",
      cpu: 0,
      *body() {
        src = (yield* dmirrorMigrateToDevice(dm, base, N)).src;
      },
    });
    expect(w.m.run(firstChooser).status).toBe("done");
    const flags = src.map((v) => v % 64);
    expect(flags).toEqual([
      MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE,
      MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE,
      MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_WRITE,
      MIGRATE_PFN_MIGRATE,
      0,
      0,
    ]);
    expect(migratePfnToPfn(src[0])).toBe(0x10000);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`concurrent CPU reader on CPU1 while CPU0 cycles the range (seed ${seed}): values survive, nothing leaks`, () => {
      const { w, mm, dm, base } = cycleWorld();
      const seen: unknown[][] = [];
      const counts: { cpages: number; migrated: number }[] = [];
      w.m.spawn({
        name: "A",
        cpu: 0,
        *body() {
          for (let round = 0; round < 3; round++) {
            const to = yield* dmirrorMigrateToDevice(dm, base, N);
            const back = yield* dmirrorMigrateToSystem(dm, base, N);
            counts.push({ cpages: to.cpages, migrated: to.migrated }, { cpages: back.cpages, migrated: back.migrated });
          }
        },
      });
      w.m.spawn({
        name: "reader",
        cpu: 1,
        *body() {
          for (let pass = 0; pass < 3; pass++) {
            const vals: unknown[] = [];
            for (let i = 0; i < N; i++) vals.push(yield* userRead(mm, base + i * PAGE_SIZE));
            seen.push(vals);
          }
        },
      });
      const r = w.m.run(new SeededChooser(seed));
      expect(r.status).toBe("done");
      for (const vals of seen) expect(vals).toEqual(VALUES);
      for (const c of counts) {
        expect(c.migrated).toBeLessThanOrEqual(c.cpages);
        expect(c.cpages).toBeLessThanOrEqual(N);
      }
      expect(w.check()).toBeNull();
      expect(strayReferences(w)).toEqual([]);
      const leftOnDevice = dm.dev.pgmap.folios.filter((f: Folio) => f.state === "allocated");
      expect(dm.dev.pgmap.inUse).toBe(leftOnDevice.length);
    });
  }
});

