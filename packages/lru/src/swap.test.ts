import { describe, expect, it } from "vitest";
import { folioClearFlag, folioPut, folioRefAdd, transferHolder, type Folio } from "@foliosim/folio";
import { currentMachine, op } from "@foliosim/sim";
import {
  FOLIO_BATCH_SIZE,
  cpuNeedsDrain,
  deactivateFileFolio,
  folioActivate,
  folioAddLru,
  folioDeactivate,
  folioIsolateLru,
  folioMarkLazyfree,
  folioRotateReclaimable,
  getLru,
  lruAddDrain,
  lruInvariants,
  whereIs,
} from "./index.js";
import { env, st } from "./testing.js";

describe("lru_add batch", () => {
  it("holds one reference per slot with PG_lru clear until lru_add_drain moves the folio (E11 → E12)", () => {
    const e = env({ cpus: 1 });
    const seen: unknown[] = [];
    e.m.spawn({
      name: "fault",
      cpu: 0,
      *body() {
        // The allocation reference becomes the mapping's (E11: anonymous, just faulted).
        const f = yield* e.alloc();
        yield* op({ kind: "map", label: "set_pte (test)", writes: [f.ref], run: () => transferHolder(f, "alloc", "map") });
        yield* folioAddLru(f);
        seen.push(st(f), whereIs(e.m, f), Object.fromEntries(f.holders));
        expect(yield* folioIsolateLru(f)).toBe(false);
        seen.push(f.refcount);
        yield* lruAddDrain();
        seen.push(st(f), whereIs(e.m, f), Object.fromEntries(f.holders));
      },
    });
    const r = e.run();
    expect(r.status).toBe("done");
    expect(seen).toEqual([
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
      ["cpu0 lru_add"],
      { map: 1, lru_add: 1 },
      2,
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      ["inactive_file"],
      { map: 1 },
    ]);
    const refs = r.trace.filter((t) => t.type.startsWith("page_ref")).map((t) => [t.type, t.args!.count, t.args!.val]);
    expect(refs).toEqual([
      ["page_ref_mod", 2, 1],
      ["page_ref_mod_and_test", 1, -1],
    ]);
    const ins = r.trace.find((t) => t.type === "mm_lru_insertion")!;
    // As in the kernel, lru_add traces before folio_batch_move_lru sets PG_lru.
    expect(ins.args).toMatchObject({ lru: "inactive_file", flags: "" });
    const spans = r.trace.filter((t) => t.type === "func_entry").map((t) => t.name);
    expect(spans).toEqual(["folio_add_lru", "folio_isolate_lru", "lru_add_drain", "lru_add_drain_cpu", "folio_batch_move_lru", "mlock_drain_local"]);
    expect(r.counters.lru_batch_flush).toBe(1);
  });

  it(`flushes when the ${FOLIO_BATCH_SIZE}st folio fills the batch, not before`, () => {
    const e = env({ cpus: 1 });
    const counts: number[] = [];
    e.m.spawn({
      name: "readahead",
      cpu: 0,
      *body() {
        const fs: Folio[] = [];
        for (let i = 0; i < FOLIO_BATCH_SIZE; i++) fs.push(yield* e.alloc());
        for (let i = 0; i < FOLIO_BATCH_SIZE - 1; i++) yield* folioAddLru(fs[i]);
        counts.push(getLru(e.m).cpuFbatches.get(0).batches.lru_add.count, fs[0].refcount, e.m.counters.lru_batch_flush ?? 0);
        yield* folioAddLru(fs[FOLIO_BATCH_SIZE - 1]);
        counts.push(getLru(e.m).cpuFbatches.get(0).batches.lru_add.count, e.m.counters.lru_batch_flush);
        counts.push(fs.filter((f) => f.refcount === 1 && f.lruList === "inactive_file").length);
        // The list is in insertion order from the head: the last one added is first.
        counts.push(getLru(e.m).lruvec.lists.inactive_file.indexOf(fs[FOLIO_BATCH_SIZE - 1]));
      },
    });
    e.run();
    expect(counts).toEqual([30, 2, 0, 0, 1, 31, 0]);
  });

  it("lets a large folio pass through: it is on the LRU with its batch reference dropped before folio_add_lru returns", () => {
    const e = env({ cpus: 1 });
    const seen: unknown[] = [];
    e.m.spawn({
      name: "thp",
      cpu: 0,
      *body() {
        const f = yield* e.alloc(2);
        yield* folioAddLru(f);
        seen.push(st(f), whereIs(e.m, f), cpuNeedsDrain(e.m, 0));
      },
    });
    const r = e.run();
    expect(seen).toEqual([{ ref: 1, flags: "lru|head", lru: "inactive_file", mlock_count: 0 }, ["inactive_file"], false]);
    // +1 and -1 both inside the folio_add_lru span.
    const idx = (type: string, name?: string) => r.trace.findIndex((t) => t.type === type && (name === undefined || t.name === name));
    expect(idx("page_ref_mod")).toBeGreaterThan(idx("func_entry", "folio_add_lru"));
    expect(idx("page_ref_mod_and_test")).toBeLessThan(idx("func_exit", "folio_add_lru"));
  });

  it("frees a folio whose only reference left is its lru_add slot instead of adding it", () => {
    const e = env({ cpus: 1 });
    let f!: Folio;
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* folioPut(f, "alloc"); // truncated before the batch drained
        expect(f.refcount).toBe(1);
        yield* lruAddDrain();
      },
    });
    const r = e.run();
    expect(f.state).toBe("free");
    expect(f.lruList).toBeNull();
    expect(getLru(e.m).lruvec.lists.inactive_file).toEqual([]);
    expect(r.counters.lru_add_freed).toBe(1);
    expect(r.trace.some((t) => t.type === "folio_batch_move_lru_free")).toBe(true);
    expect(r.trace.some((t) => t.type === "mm_lru_insertion")).toBe(false);
    expect(e.mem.freePages().Normal).toBe(128);
  });

  it("a folio freed while on an LRU list leaves the list", () => {
    const e = env({ cpus: 1 });
    let f!: Folio;
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        expect(whereIs(e.m, f)).toEqual(["inactive_file"]);
        yield* folioPut(f, "alloc");
      },
    });
    e.run();
    expect(f.state).toBe("free");
    expect(whereIs(e.m, f)).toEqual([]);
    expect(getLru(e.m).lruvec.lists.inactive_file).toEqual([]);
  });
});

describe("the other batches", () => {
  function onLru(body: (f: Folio, g: Folio, out: unknown[]) => Generator<any, void, any>, kernel = {}) {
    const e = env({ cpus: 1, kernel });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        const g = yield* e.alloc();
        yield* folioAddLru(f);
        yield* folioAddLru(g);
        yield* lruAddDrain();
        yield* body(f, g, out);
      },
    });
    const r = e.run();
    return { r, out, e };
  }

  it("folio_activate queues with PG_lru still set, then moves to the active list on drain", () => {
    const { r, out } = onLru(function* (f, _g, out) {
      yield* folioActivate(f);
      out.push(st(f), whereIs(getLruM(), f));
      yield* folioActivate(f); // queued twice: two slots, two references
      out.push(f.refcount, Object.fromEntries(f.holders));
      yield* lruAddDrain();
      out.push(st(f));
      yield* folioActivate(f); // already active: nothing
      out.push(f.refcount, whereIs(getLruM(), f));
    });
    expect(out).toEqual([
      { ref: 2, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      ["cpu0 lru_activate", "inactive_file"],
      3,
      { alloc: 1, lru_activate: 2 },
      { ref: 1, flags: "lru|active", lru: "active_file", mlock_count: 0 },
      1,
      ["active_file"],
    ]);
    expect(r.counters.pgactivate).toBe(1);
    expect(r.trace.filter((t) => t.type === "mm_lru_activate").length).toBe(1);
  });

  it("does not queue a folio that is not on an LRU (still in lru_add)", () => {
    const e = env({ cpus: 1 });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* folioActivate(f);
        yield* folioDeactivate(f);
        yield* folioRotateReclaimable(f);
        yield* deactivateFileFolio(f);
        out.push(whereIs(e.m, f), f.refcount);
      },
    });
    e.run();
    expect(out).toEqual([["cpu0 lru_add"], 2]);
  });

  it("a flush skips a folio isolated after queueing, but still drops its batch reference", () => {
    const { r, out } = onLru(function* (f, _g, out) {
      yield* folioActivate(f);
      expect(yield* folioIsolateLru(f)).toBe(true);
      out.push(st(f), whereIs(getLruM(), f));
      yield* lruAddDrain();
      out.push(st(f), whereIs(getLruM(), f));
    });
    expect(out).toEqual([
      { ref: 3, flags: "", lru: null, mlock_count: 0 },
      ["cpu0 lru_activate", "isolated"],
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
      ["isolated"],
    ]);
    expect(r.counters.pgactivate).toBeUndefined();
  });

  it("folio_deactivate, folio_rotate_reclaimable and deactivate_file_folio move to the inactive list's head or tail", () => {
    const { r, out } = onLru(function* (f, g, out) {
      const inactive = () => getLru(getLruM()).lruvec.lists.inactive_file.map((x) => x.name);
      out.push(inactive()); // g added last: at the head
      yield* folioRotateReclaimable(g);
      yield* lruAddDrain();
      out.push(inactive()); // g rotated to the tail
      yield* folioActivate(f);
      yield* lruAddDrain();
      yield* folioDeactivate(f);
      out.push(f.refcount);
      yield* lruAddDrain();
      out.push(st(f), inactive());
      yield* deactivateFileFolio(f);
      yield* lruAddDrain();
      out.push(inactive());
      yield* folioDeactivate(f); // inactive already: not queued
      out.push(whereIs(getLruM(), f));
    });
    expect(out).toEqual([
      ["folio 0x10001", "folio 0x10000"],
      ["folio 0x10000", "folio 0x10001"],
      2,
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      ["folio 0x10000", "folio 0x10001"],
      ["folio 0x10001", "folio 0x10000"],
      ["inactive_file"],
    ]);
    expect(r.counters.pgrotated).toBe(2);
    expect(r.counters.pgdeactivate).toBe(1);
    // lru_move_tail is the batch written from interrupt context: it takes lock_irq.
    const locks = r.trace.filter((t) => t.type === "op" && t.name!.startsWith("local_lock(")).map((t) => t.name);
    expect(locks.filter((l) => l === "local_lock(cpu0 cpu_fbatches.lock_irq)").length).toBe(2); // queue + drain
  });

  it("folio_mark_lazyfree leaves a folio that is not anonymous alone", () => {
    const { out } = onLru(function* (f, _g, out) {
      yield* folioMarkLazyfree(f);
      out.push(whereIs(getLruM(), f), f.refcount);
    });
    expect(out).toEqual([["inactive_file"], 1]);
  });
});

describe("lru invariants", () => {
  it("report a folio left on a list with PG_lru clear by something other than an LRU path", () => {
    const e = env({ cpus: 1 });
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        yield* folioClearFlag(f, "lru");
      },
    });
    const r = e.runRaw();
    expect(r.status).toBe("invariant");
    expect(r.failure!.message).toBe("lru: folio 0x10000: on inactive_file with PG_lru clear and not being moved");
    expect(r.failure!.operation).toBe("folio_clear_lru");
  });

  it("report a batch reference the ledger holds without a slot", () => {
    const e = env({ cpus: 1 });
    let msg: string | null = "unset";
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioRefAdd(f, 1, "lru_add", "bogus_get");
        msg = lruInvariants(e.m, [f]);
        yield* folioPut(f, "lru_add");
      },
    });
    e.runRaw();
    expect(msg).toBe('folio 0x10000: ledger holds 1 "lru_add" reference(s) but 0 slot(s) hold the folio');
  });
});

/** The running machine, for helpers called from inside a task. */
function getLruM() {
  return currentMachine();
}

describe("costs", () => {
  it("registers its cost names, and a flush is charged lruvecLock and lruMoveFolio per folio", () => {
    const run = (costs: Record<string, number>) => {
      const e = env({ cpus: 1, costs });
      let t0 = 0;
      let t1 = 0;
      e.m.spawn({
        name: "t",
        cpu: 0,
        *body() {
          const fs: Folio[] = [];
          for (let i = 0; i < 3; i++) fs.push(yield* e.alloc());
          for (const f of fs) yield* folioAddLru(f);
          t0 = e.m.cpuClock(0);
          yield* lruAddDrain();
          t1 = e.m.cpuClock(0);
        },
      });
      e.run();
      return { costs: e.m.costs, ns: t1 - t0 };
    };
    const base = run({});
    expect(base.costs).toMatchObject({ lruvecLock: 60, lruMoveFolio: 50, folioBatchAdd: 5, foliosPutOne: 20, cpuNeedsDrain: 200 });
    const slow = run({ lruMoveFolio: 1050, lruvecLock: 1060 });
    // 3 moves and one lock/unlock pair.
    expect(slow.ns - base.ns).toBe(3 * 1000 + 2 * 1000);
  });
});
