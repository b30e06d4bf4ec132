import { describe, expect, it } from "vitest";
import { folioPut, type Folio } from "@foliosim/folio";
import { folioAddLru, folioIsolateLru, folioPutbackLru, lruAddDrain, whereIs } from "./index.js";
import { env, st } from "./testing.js";

describe("folio_isolate_lru / folio_putback_lru", () => {
  it("isolation succeeds only with PG_lru, takes +1 and clears PG_lru; putback is lru_add +1 then folio_put -1", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "migrate",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        out.push(yield* folioIsolateLru(f), f.refcount); // in lru_add: fails, no reference
        yield* lruAddDrain();
        out.push(yield* folioIsolateLru(f), st(f), whereIs(e.m, f), Object.fromEntries(f.holders));
        out.push(yield* folioIsolateLru(f), f.refcount); // already isolated
        yield* folioPutbackLru(f);
        out.push(st(f), whereIs(e.m, f), Object.fromEntries(f.holders));
        yield* lruAddDrain();
        out.push(st(f));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      false,
      2,
      true,
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
      ["isolated"],
      { alloc: 1, isolated: 1 },
      false,
      2,
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
      ["cpu0 lru_add"],
      { alloc: 1, lru_add: 1 },
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
    ]);
    const iso = r.trace.filter((t) => t.type === "func_entry" && t.name === "folio_isolate_lru").length;
    expect(iso).toBe(3);
    expect(r.trace.filter((t) => t.type === "folio_isolate_lru").map((t) => t.args!.count)).toEqual([2]);
  });

  it("an isolated folio survives its last other reference and is freed by the putback's put only if nothing else holds it", () => {
    const e = env({ cpus: 1 });
    let f!: Folio;
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        expect(yield* folioIsolateLru(f)).toBe(true);
        yield* folioPut(f, "alloc"); // the owner lets go while isolated
        expect(st(f)).toEqual({ ref: 1, flags: "", lru: null, mlock_count: 0 });
        yield* folioPutbackLru(f); // lru_add holds it now
        expect(whereIs(e.m, f)).toEqual(["cpu0 lru_add"]);
        yield* lruAddDrain(); // the lone batch reference: freed, not added
      },
    });
    const r = e.run();
    expect(f.state).toBe("free");
    expect(r.counters.lru_add_freed).toBe(1);
  });

  it("putting back a folio nobody isolated is a model error naming the folio", () => {
    const e = env({ cpus: 1 });
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioPutbackLru(f);
      },
    });
    const r = e.runRaw();
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "folio_putback_lru", object: "folio 0x10000" });
  });

  it("adding a folio that is already on an LRU is a model error (VM_BUG_ON_FOLIO)", () => {
    const e = env({ cpus: 1 });
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        yield* folioAddLru(f);
      },
    });
    const r = e.runRaw();
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "folio_add_lru", object: "folio 0x10000" });
    expect(r.failure!.message).toContain("already on an LRU");
  });
});
