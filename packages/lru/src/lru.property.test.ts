// Property: random concurrent sequences of LRU and mlock batch operations, drains,
// isolation and putback keep the LRU invariants and `_refcount == Σ holders` after
// every step, never hang, and leave every batch empty and every live folio on an LRU
// list with only its allocation reference once a final lru_add_drain_all has run.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { PG, VM_LOCKED, VM_READ, folioPut, folioTryGet, type Folio } from "@foliosim/folio";
import { Completion, SeededChooser, complete, completeAll, waitForCompletion, type TaskGen } from "@foliosim/sim";
import {
  cpuNeedsDrain,
  deactivateFileFolio,
  folioActivate,
  folioAddLru,
  folioAddLruVma,
  folioDeactivate,
  folioIsolateLru,
  folioMarkLazyfree,
  folioPutbackLru,
  folioRotateReclaimable,
  lruAddDrain,
  lruAddDrainAll,
  lruCacheDisable,
  lruCacheDrainForFolio,
  lruCacheEnable,
  mlockFolio,
  munlockFolio,
  whereIs,
} from "./index.js";
import { env } from "./testing.js";

const KINDS = [
  "activate",
  "deactivate",
  "deactivate_file",
  "rotate",
  "lazyfree",
  "mlock",
  "munlock",
  "drain",
  "drain_all",
  "isolate_putback",
  "disable_enable",
  "drain_for_folio",
] as const;
type Kind = (typeof KINDS)[number];

interface Cmd {
  cpu: number;
  kind: Kind;
  folio: number;
}

interface Case {
  cpus: number;
  folios: { order: number; locked: boolean; release: boolean }[];
  cmds: Cmd[];
  kernel: { clears: boolean; localFirst: boolean; john: boolean };
  preemption: "none" | "voluntary" | "full";
  seed: number;
}

function* perform(kind: Kind, f: Folio): TaskGen<void> {
  switch (kind) {
    case "activate":
      return yield* folioActivate(f);
    case "deactivate":
      return yield* folioDeactivate(f);
    case "deactivate_file":
      return yield* deactivateFileFolio(f);
    case "rotate":
      return yield* folioRotateReclaimable(f);
    case "lazyfree":
      return yield* folioMarkLazyfree(f);
    case "mlock":
      return yield* mlockFolio(f);
    case "munlock":
      return yield* munlockFolio(f);
    case "drain":
      return yield* lruAddDrain();
    case "drain_all":
      return yield* lruAddDrainAll();
    case "isolate_putback":
      if (yield* folioIsolateLru(f)) yield* folioPutbackLru(f);
      return;
    case "disable_enable":
      yield* lruCacheDisable();
      return yield* lruCacheEnable();
    case "drain_for_folio":
      return yield* lruCacheDrainForFolio(f, 2, { state: "NOT_DRAINED" });
  }
}

function runCase(c: Case) {
  const kernel: Record<string, string | boolean> = {};
  if (c.kernel.clears) kernel["lru-batch-clears-lru"] = true;
  if (c.kernel.localFirst) kernel["lru-drain-all-local-first"] = true;
  if (c.kernel.john) kernel["collect"] = "john-memalloc-pin";
  const e = env({ cpus: c.cpus, kernel, preemption: c.preemption, maxSteps: 200_000 });
  const start = new Completion("start");
  const finished = new Completion("workers finished");
  const folios: Folio[] = [];
  e.m.spawn({
    name: "setup",
    cpu: 0,
    *body() {
      for (const spec of c.folios) {
        const f = yield* e.alloc(spec.order);
        folios.push(f);
        if (spec.locked) yield* folioAddLruVma(f, { flags: VM_READ | VM_LOCKED });
        else yield* folioAddLru(f);
      }
      yield* completeAll(start);
      // The owner drops the allocation reference of some folios while the others work.
      for (let i = 0; i < folios.length; i++) if (c.folios[i].release) yield* folioPut(folios[i], "alloc");
      for (let cpu = 0; cpu < c.cpus; cpu++) yield* waitForCompletion(finished);
      yield* lruAddDrainAll();
      if (!c.kernel.localFirst) yield* lruAddDrain();
    },
  });
  for (let cpu = 0; cpu < c.cpus; cpu++) {
    const mine = c.cmds.filter((x) => x.cpu === cpu);
    e.m.spawn({
      name: `worker${cpu}`,
      cpu,
      *body() {
        yield* waitForCompletion(start);
        for (const cmd of mine) {
          const f = folios[cmd.folio % folios.length];
          // A lookup's reference (as a page-cache or GUP path would hold) around every call.
          if (!(yield* folioTryGet(f, "transient"))) continue;
          yield* perform(cmd.kind, f);
          yield* folioPut(f, "transient");
        }
        yield* complete(finished);
      },
    });
  }
  const r = e.run(new SeededChooser(c.seed));
  return { r, e, folios };
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    cpus: fc.integer({ min: 1, max: 3 }),
    folios: fc.array(fc.record({ order: fc.constantFrom(0, 0, 0, 1), locked: fc.boolean(), release: fc.boolean() }), { minLength: 1, maxLength: 3 }),
    cmds: fc.array(fc.record({ cpu: fc.nat(), kind: fc.constantFrom(...KINDS), folio: fc.nat() }), { maxLength: 14 }),
    kernel: fc.record({ clears: fc.boolean(), localFirst: fc.boolean(), john: fc.boolean() }),
    preemption: fc.constantFrom("none" as const, "voluntary" as const, "full" as const),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  })
  .map((c) => ({ ...c, cmds: c.cmds.map((x) => ({ ...x, cpu: x.cpu % c.cpus })) }));

describe("LRU property", () => {
  it("random interleavings keep the invariants and end drained", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { r, e, folios } = runCase(c);
        expect(r.failure?.message ?? null).toBeNull();
        expect(r.status).toBe("done");
        for (let cpu = 0; cpu < c.cpus; cpu++) expect(cpuNeedsDrain(e.m, cpu)).toBe(false);
        folios.forEach((f, i) => {
          if (c.folios[i].release) {
            expect(f.state).toBe("free");
            expect(whereIs(e.m, f)).toEqual([]);
          } else {
            expect(f.refcount).toBe(1);
            expect(Object.fromEntries(f.holders)).toEqual({ alloc: 1 });
            expect(f.test(PG.lru)).toBe(true);
            expect(whereIs(e.m, f)).toEqual([f.lruList]);
          }
        });
      }),
      { numRuns: 300, seed: 0x5eed, endOnFailure: true },
    );
  });
});
