import { describe, expect, it } from "vitest";
import { VM_IO, VM_LOCKED, VM_READ, folioPut, folioRefAdd, memallocPinRestore, memallocPinSave, type Folio } from "@foliosim/folio";
import { Completion, complete, waitForCompletion } from "@foliosim/sim";
import {
  FOLIO_BATCH_SIZE,
  cpuNeedsDrain,
  folioActivate,
  folioAddLru,
  folioAddLruVma,
  folioIsolateLru,
  folioPutbackLru,
  lruAddDrain,
  lruCacheDisable,
  lruCacheEnable,
  mlockDrainLocal,
  mlockFolio,
  mlockNewFolio,
  munlockFolio,
  needMlockDrain,
  whereIs,
} from "./index.js";
import { env, st } from "./testing.js";

const LOCKED = { flags: VM_READ | VM_LOCKED };

describe("mlock_new_folio (E14)", () => {
  it("holds the folio in the mlock batch with PG_mlocked and no PG_lru; PG_unevictable only once the batch runs", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "fault",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLruVma(f, LOCKED);
        out.push(st(f), whereIs(e.m, f), Object.fromEntries(f.holders), needMlockDrain(e.m, 0));
        out.push(yield* folioIsolateLru(f));
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f), Object.fromEntries(f.holders));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      { ref: 2, flags: "mlocked", lru: null, mlock_count: 0 },
      ["cpu0 mlock_fbatch (NEW_FOLIO)"],
      { alloc: 1, mlock: 1 },
      true,
      false,
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      ["unevictable"],
      { alloc: 1 },
    ]);
    expect(r.counters).toMatchObject({ nr_mlock: 1, unevictable_pgs_mlocked: 1, unevictable_pgs_culled: 1, mlock_folio_batch: 1 });
    expect(r.trace.find((t) => t.type === "mlock_folio_batch")!.args).toMatchObject({ op: "__mlock_new_folio", lru: "unevictable", mlock_count: 1 });
  });

  it("goes through lru_add instead when the vma is VM_SPECIAL or not locked", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "fault",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        const g = yield* e.alloc();
        yield* folioAddLruVma(f, { flags: VM_LOCKED | VM_IO });
        yield* folioAddLruVma(g, { flags: VM_READ });
        out.push(whereIs(e.m, f), st(f).flags, whereIs(e.m, g));
      },
    });
    e.run();
    expect(out).toEqual([["cpu0 lru_add"], "", ["cpu0 lru_add"]]);
  });
});

describe("mlock_folio on a folio already on an LRU", () => {
  it("sets PG_mlocked at once; PG_unevictable and the unevictable list wait for the mlock batch", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        yield* mlockFolio(f);
        out.push(st(f), whereIs(e.m, f));
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      { ref: 2, flags: "lru|mlocked", lru: "inactive_file", mlock_count: 0 },
      ["cpu0 mlock_fbatch (LRU_FOLIO)", "inactive_file"],
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      ["unevictable"],
    ]);
    expect(r.counters.unevictable_pgs_culled).toBe(1);
  });

  it("Will's mechanism: lru_add places the mlocked folio on the unevictable list with PG_lru while its mlock entry is still batched (E5 → E6 → E7)", () => {
    const e = env({ cpus: 2 });
    const out: unknown[] = [];
    const flushed = new Completion("cpu7 flushed");
    const pinned = new Completion("pinned");
    let f!: Folio;
    e.m.spawn({
      name: "cpu7-fault",
      cpu: 0,
      *body() {
        f = yield* e.alloc(); // stands in for the page-cache reference
        yield* folioAddLru(f); // readahead: filemap_add_folio → folio_add_lru
        yield* mlockFolio(f); // finish_fault → ... → mlock_vma_folio → mlock_folio
        out.push(st(f), whereIs(e.m, f));
        // More readahead fills the lru_add batch: folio_batch_move_lru runs, not the mlock batch.
        for (let i = 1; i < FOLIO_BATCH_SIZE; i++) yield* folioAddLru(yield* e.alloc());
        out.push(st(f), whereIs(e.m, f));
        yield* complete(flushed);
        yield* waitForCompletion(pinned);
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f));
      },
    });
    e.m.spawn({
      name: "cpu3-pin",
      cpu: 1,
      *body() {
        yield* waitForCompletion(flushed);
        yield* folioRefAdd(f, 1024, "pin", "try_grab_folio");
        out.push(f.refcount);
        yield* complete(pinned);
      },
    });
    e.run();
    expect(out).toEqual([
      { ref: 3, flags: "mlocked", lru: null, mlock_count: 0 },
      ["cpu0 lru_add", "cpu0 mlock_fbatch (LRU_FOLIO)"],
      { ref: 2, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 0 },
      ["cpu0 mlock_fbatch (LRU_FOLIO)", "unevictable"],
      1026,
      { ref: 1025, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      ["unevictable"],
    ]);
  });

  it("an mlock entry for an isolated folio does nothing but drop its reference; putback lands it unevictable", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        yield* mlockFolio(f);
        out.push(yield* folioIsolateLru(f));
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f));
        yield* folioPutbackLru(f);
        out.push(st(f), Object.fromEntries(f.holders));
        yield* lruAddDrain();
        out.push(st(f));
      },
    });
    e.run();
    expect(out).toEqual([
      true,
      { ref: 2, flags: "mlocked", lru: null, mlock_count: 0 },
      ["isolated"],
      { ref: 2, flags: "mlocked", lru: null, mlock_count: 0 },
      { alloc: 1, lru_add: 1 },
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 0 },
    ]);
  });
});

describe("munlock_folio", () => {
  it("decrements mlock_count; the last munlock clears PG_mlocked and rescues the folio to an evictable list", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLruVma(f, LOCKED); // first locked vma
        yield* mlockDrainLocal();
        yield* mlockFolio(f); // second locked vma maps it
        yield* mlockDrainLocal();
        out.push(st(f));
        yield* munlockFolio(f);
        out.push(st(f), whereIs(e.m, f));
        yield* mlockDrainLocal();
        out.push(st(f));
        yield* munlockFolio(f);
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 2 },
      { ref: 2, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 2 },
      ["cpu0 mlock_fbatch (munlock)", "unevictable"],
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      ["inactive_file"],
    ]);
    expect(r.counters).toMatchObject({ nr_mlock: 0, unevictable_pgs_munlocked: 1, unevictable_pgs_rescued: 1 });
    expect(r.counters.unevictable_pgs_stranded).toBeUndefined();
  });

  it("on a folio not on an LRU (still in lru_add) clears PG_mlocked without moving it", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* mlockFolio(f);
        yield* munlockFolio(f);
        yield* mlockDrainLocal();
        out.push(st(f), whereIs(e.m, f));
        yield* lruAddDrain();
        out.push(st(f));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
      ["cpu0 lru_add"],
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
    ]);
    expect(r.counters).toMatchObject({ nr_mlock: 0, unevictable_pgs_munlocked: 1 });
  });
});

describe("mlock batch flushing", () => {
  it(`runs at once for the ${FOLIO_BATCH_SIZE}st entry, a large folio, or while the LRU cache is disabled`, () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const fs: Folio[] = [];
        for (let i = 0; i < FOLIO_BATCH_SIZE; i++) fs.push(yield* e.alloc());
        for (let i = 0; i < FOLIO_BATCH_SIZE - 1; i++) yield* mlockNewFolio(fs[i]);
        out.push(e.m.counters.mlock_folio_batch ?? 0, fs[0].lruList);
        yield* mlockNewFolio(fs[FOLIO_BATCH_SIZE - 1]);
        out.push(e.m.counters.mlock_folio_batch, fs.filter((f) => f.lruList === "unevictable" && f.refcount === 1).length);
        const thp = yield* e.alloc(2);
        yield* mlockNewFolio(thp);
        out.push(st(thp));
        yield* lruCacheDisable();
        const g = yield* e.alloc();
        yield* mlockNewFolio(g);
        out.push(st(g));
        yield* lruCacheEnable();
        const h = yield* e.alloc();
        yield* mlockNewFolio(h);
        out.push(whereIs(e.m, h));
      },
    });
    e.run();
    expect(out).toEqual([
      0,
      null,
      1,
      FOLIO_BATCH_SIZE,
      { ref: 1, flags: "lru|head|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      ["cpu0 mlock_fbatch (NEW_FOLIO)"],
    ]);
  });
});

describe("variant john-memalloc-pin", () => {
  function run(kernel: Record<string, string>) {
    const e = env({ cpus: 1, kernel });
    const out: unknown[] = [];
    e.m.spawn({
      name: "pin",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        const g = yield* e.alloc();
        yield* folioAddLru(g);
        yield* lruAddDrain();
        const saved = memallocPinSave();
        yield* mlockNewFolio(f);
        yield* mlockFolio(g);
        memallocPinRestore(saved);
        out.push(whereIs(e.m, f), whereIs(e.m, g));
      },
    });
    e.run();
    return out;
  }

  it("flushes mlock_new_folio at once under PF_MEMALLOC_PIN, and leaves mlock_folio (Hugh's objection) batched", () => {
    expect(run({ collect: "john-memalloc-pin" })).toEqual([["unevictable"], ["cpu0 mlock_fbatch (LRU_FOLIO)", "inactive_file"]]);
  });

  it("is off by default: both stay batched", () => {
    expect(run({})).toEqual([["cpu0 mlock_fbatch (NEW_FOLIO)"], ["cpu0 mlock_fbatch (LRU_FOLIO)", "inactive_file"]]);
  });
});

describe("freeing an mlocked folio", () => {
  it("takes it off the unevictable list and gives its pages back to NR_MLOCK (UNEVICTABLE_PGCLEARED)", () => {
    const e = env({ cpus: 1 });
    let f!: Folio;
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        f = yield* e.alloc();
        yield* folioAddLruVma(f, LOCKED);
        yield* mlockDrainLocal();
        expect(whereIs(e.m, f)).toEqual(["unevictable"]);
        yield* folioPut(f, "alloc");
      },
    });
    const r = e.run();
    expect(f.state).toBe("free");
    expect(whereIs(e.m, f)).toEqual([]);
    expect(r.counters).toMatchObject({ nr_mlock: 0, unevictable_pgs_cleared: 1 });
    expect(r.trace.find((t) => t.type === "lru_release")!.args).toMatchObject({ lru: "unevictable" });
  });
});

describe("a large folio never stays in a per-CPU batch (folio_test_large, folio_may_be_lru_cached() since 2da6de30e60d)", () => {
  it("folio_add_lru, folio_activate, mlock_folio and munlock_folio each flush their batch before returning: the order-2 folio's count is 1 after every call", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc(2);
        yield* folioAddLru(f);
        out.push(["folio_add_lru", st(f), whereIs(e.m, f)]);
        yield* folioActivate(f);
        out.push(["folio_activate", st(f), whereIs(e.m, f)]);
        yield* mlockFolio(f);
        out.push(["mlock_folio", st(f), whereIs(e.m, f)]);
        yield* munlockFolio(f);
        out.push(["munlock_folio", st(f), whereIs(e.m, f), cpuNeedsDrain(e.m, 0), needMlockDrain(e.m, 0)]);
      },
    });
    const r = e.run();
    expect(out).toEqual([
      ["folio_add_lru", { ref: 1, flags: "lru|head", lru: "inactive_file", mlock_count: 0 }, ["inactive_file"]],
      ["folio_activate", { ref: 1, flags: "lru|active|head", lru: "active_file", mlock_count: 0 }, ["active_file"]],
      ["mlock_folio", { ref: 1, flags: "lru|head|unevictable|mlocked", lru: "unevictable", mlock_count: 1 }, ["unevictable"]],
      ["munlock_folio", { ref: 1, flags: "lru|head", lru: "inactive_file", mlock_count: 0 }, ["inactive_file"], false, false],
    ]);
    // Four pages each time: the statistics count folio_nr_pages.
    expect(r.counters).toMatchObject({ pgactivate: 4, nr_mlock: 0, unevictable_pgs_mlocked: 4, unevictable_pgs_munlocked: 4 });
  });
});
