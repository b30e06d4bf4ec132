// lru_add_drain_all, lru_cache_disable and lru_cache_drain_for_folio (mm/swap.c).
import { describe, expect, it } from "vitest";
import { folioRefAdd, type Folio } from "@foliosim/folio";
import { Completion, complete, completeAll, cpuRelax, waitForCompletion, type Candidate, type Chooser, type RunResult } from "@foliosim/sim";
import {
  cpuNeedsDrain,
  folioActivate,
  folioAddLru,
  folioIsolateLru,
  getLru,
  lruAddDrain,
  lruAddDrainAll,
  lruCacheDisable,
  lruCacheDisabled,
  lruCacheDrainForFolio,
  lruCacheEnable,
  lruInvariants,
  mlockFolio,
  whereIs,
  type LruCacheDrained,
} from "./index.js";
import { FolioBatch, batchWrites, checkBatchStep } from "./lruvec.js";
import { env, st } from "./testing.js";

/** Trace spans (func_entry) of the task named `task`. */
function spans(r: RunResult, task: string): string[] {
  const id = r.taskTable.find((t) => t.name === task)!.id;
  return r.trace.filter((t) => t.type === "func_entry" && t.task === id).map((t) => t.name!);
}

describe("lru_add_drain_all", () => {
  it("drains a remote CPU's batches only through that CPU's kworker, and queues work only where batches are pending", () => {
    const e = env({ cpus: 3 });
    const ready = new Completion("batched");
    const out: unknown[] = [];
    let f!: Folio;
    let g!: Folio;
    e.m.spawn({
      name: "adder",
      cpu: 1,
      *body() {
        f = yield* e.alloc();
        g = yield* e.alloc();
        yield* folioAddLru(f);
        yield* folioAddLru(g);
        yield* lruAddDrain();
        yield* mlockFolio(g); // only the mlock batch of CPU1 is pending for g
        yield* folioAddLru((yield* e.alloc()) as Folio);
        yield* complete(ready);
      },
    });
    e.m.spawn({
      name: "drainer",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        out.push(cpuNeedsDrain(e.m, 0), cpuNeedsDrain(e.m, 1), cpuNeedsDrain(e.m, 2));
        yield* lruAddDrain(); // the local drain does not touch CPU1's batches
        out.push(whereIs(e.m, g));
        yield* lruAddDrainAll();
        out.push(whereIs(e.m, g), st(g), cpuNeedsDrain(e.m, 1));
      },
    });
    const r = e.run();
    expect(r.status).toBe("done");
    expect(out).toEqual([
      false,
      true,
      false,
      ["cpu1 mlock_fbatch (LRU_FOLIO)", "inactive_file"],
      ["unevictable"],
      { ref: 1, flags: "lru|unevictable|mlocked", lru: "unevictable", mlock_count: 1 },
      false,
    ]);
    expect(r.counters.work_queued).toBe(1);
    expect(r.counters.work_run).toBe(1);
    const works = r.trace.filter((t) => t.type === "work_queue").map((t) => [t.name, t.args!.cpu]);
    expect(works).toEqual([["lru_add_drain_work/1", 1]]);
    // The drain ran in kworker/1:1, not in the caller.
    expect(spans(r, "kworker/1:1")).toEqual(["lru_add_drain_per_cpu", "lru_add_drain_cpu", "folio_batch_move_lru", "mlock_drain_local", "mlock_folio_batch"]);
    expect(spans(r, "drainer")).toEqual(["lru_add_drain", "lru_add_drain_cpu", "mlock_drain_local", "lru_add_drain_all"]);
    expect(getLru(e.m).lruDrainGen.value).toBe(1);
  });

  it("does not return while a FIFO spinner holds the remote CPU: the machine reports a livelock with the caller in flush_work", () => {
    const e = env({ cpus: 2, livelock: { steps: 500, ns: 50_000 } });
    const ready = new Completion("batched");
    let returned = false;
    e.m.spawn({
      name: "spinner",
      cpu: 1,
      policy: "fifo",
      priority: 50,
      *body() {
        yield* folioAddLru(yield* e.alloc());
        yield* complete(ready);
        for (;;) yield* cpuRelax();
      },
    });
    e.m.spawn({
      name: "drainer",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        yield* lruAddDrainAll();
        returned = true;
      },
    });
    const r = e.run();
    expect(returned).toBe(false);
    expect(r.status).toBe("livelock");
    const drainer = r.hang!.tasks.find((t) => t.task === "drainer")!;
    expect(drainer).toMatchObject({ state: "blocked", waitsFor: "flush_work(lru_add_drain_work/1) on CPU1" });
    expect(drainer.stack).toEqual(["lru_add_drain_all"]);
    expect(r.hang!.tasks.find((t) => t.task === "kworker/1:1")).toMatchObject({ state: "runnable", waitsFor: "CPU1, held by spinner" });
    expect(r.counters.work_run ?? 0).toBe(0);
  });

  it("returns only after a bounded FIFO spinner lets the kworker run", () => {
    const e = env({ cpus: 2 });
    const ready = new Completion("batched");
    let spinEnd = 0;
    let drainEnd = 0;
    e.m.spawn({
      name: "spinner",
      cpu: 1,
      policy: "fifo",
      priority: 50,
      *body() {
        yield* folioAddLru(yield* e.alloc());
        yield* complete(ready);
        for (let i = 0; i < 200; i++) yield* cpuRelax();
        spinEnd = e.m.cpuClock(1);
      },
    });
    e.m.spawn({
      name: "drainer",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        yield* lruAddDrainAll();
        drainEnd = e.m.cpuClock(0);
      },
    });
    const r = e.run();
    expect(r.status).toBe("done");
    expect(spinEnd).toBeGreaterThan(200 * 40);
    expect(drainEnd).toBeGreaterThan(spinEnd);
    expect(r.counters.work_run).toBe(1);
  });

  const SNAPSHOT = "smp_load_acquire(lru_drain_gen)";

  /** Lets every task in `tasks` take its lru_drain_gen snapshot before any of them goes further. */
  function snapshotsFirst(tasks: string[]): Chooser {
    const snapped = new Set<string>();
    return {
      choose(cands: readonly Candidate[]) {
        let k = cands.findIndex((c) => c.op.label === SNAPSHOT);
        if (k >= 0) {
          snapped.add(cands[k].task.name);
          return k;
        }
        k = cands.findIndex((c) => tasks.includes(c.task.name) && !snapped.has(c.task.name));
        return k >= 0 ? k : 0;
      },
    };
  }

  function twoCallers(chooser: Chooser | undefined, sequential: boolean, kernel: Record<string, boolean> = {}) {
    const e = env({ cpus: 3, kernel });
    const ready = new Completion("batched");
    const aDone = new Completion("a done");
    let f!: Folio;
    e.m.spawn({
      name: "adder",
      cpu: 2,
      *body() {
        f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* completeAll(ready);
      },
    });
    e.m.spawn({
      name: "A",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        yield* lruAddDrainAll();
        yield* complete(aDone);
      },
    });
    e.m.spawn({
      name: "B",
      cpu: 1,
      *body() {
        yield* waitForCompletion(ready);
        if (sequential) yield* waitForCompletion(aDone);
        yield* lruAddDrainAll();
      },
    });
    const r = e.run(chooser);
    return { r, e, f };
  }

  it("a second caller whose generation snapshot predates the first's increment skips the full drain", () => {
    // Both take their snapshot (the first operation of lru_add_drain_all) before either holds the mutex.
    const { r, e, f } = twoCallers(snapshotsFirst(["A", "B"]), false);
    expect(r.status).toBe("done");
    const snaps = r.trace.filter((t) => t.type === "op" && t.name === "smp_load_acquire(lru_drain_gen)");
    expect(snaps.length).toBe(2);
    const stores = r.trace.findIndex((t) => t.type === "op" && t.name!.startsWith("WRITE_ONCE(lru_drain_gen"));
    expect(r.trace.indexOf(snaps[1])).toBeLessThan(stores);
    expect(r.counters.lru_add_drain_all).toBe(2);
    expect(r.counters.lru_add_drain_all_skipped).toBe(1);
    expect(r.trace.find((t) => t.type === "lru_add_drain_all_skip")!.args).toEqual({ this_gen: 0, lru_drain_gen: 1 });
    expect(getLru(e.m).lruDrainGen.value).toBe(1);
    expect(r.counters.work_queued).toBe(1);
    expect(st(f)).toEqual({ ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 });
  });

  it("a caller arriving after the previous drain bumped the generation does its own full drain", () => {
    const { r, e } = twoCallers(undefined, true);
    expect(r.status).toBe("done");
    expect(r.counters.lru_add_drain_all_skipped).toBeUndefined();
    expect(getLru(e.m).lruDrainGen.value).toBe(2);
    // The second full drain found nothing pending.
    expect(r.counters.work_queued).toBe(1);
  });

  it("without local-first, the caller's own CPU gets a work item; with Hugh's 6.18 change it drains locally first", () => {
    const run = (kernel: Record<string, boolean>) => {
      const e = env({ cpus: 2, kernel });
      e.m.spawn({
        name: "caller",
        cpu: 0,
        *body() {
          yield* folioAddLru(yield* e.alloc());
          yield* lruAddDrainAll();
          expect(cpuNeedsDrain(e.m, 0)).toBe(false);
        },
      });
      const r = e.run();
      return { queued: r.trace.filter((t) => t.type === "work_queue").map((t) => t.name), spans: spans(r, "caller") };
    };
    expect(run({})).toEqual({ queued: ["lru_add_drain_work/0"], spans: ["folio_add_lru", "lru_add_drain_all"] });
    expect(run({ "lru-drain-all-local-first": true })).toEqual({
      queued: [],
      spans: ["folio_add_lru", "lru_add_drain_all", "lru_add_drain", "lru_add_drain_cpu", "folio_batch_move_lru", "mlock_drain_local"],
    });
  });
});

describe("lru_cache_disable", () => {
  it("costs an expedited grace period, force-drains every CPU, and makes every batch add flush at once until enabled", () => {
    const e = env({ cpus: 2 });
    const ready = new Completion("batched");
    const disabled = new Completion("disabled");
    const remoteDone = new Completion("remote done");
    const out: unknown[] = [];
    e.m.spawn({
      name: "remote",
      cpu: 1,
      *body() {
        yield* folioAddLru(yield* e.alloc());
        yield* complete(ready);
        yield* waitForCompletion(disabled);
        const g = yield* e.alloc();
        yield* folioAddLru(g); // remote CPU, cache disabled: flushed at once
        out.push(st(g));
        yield* folioActivate(g);
        out.push(st(g), whereIs(e.m, g));
        yield* complete(remoteDone);
      },
    });
    e.m.spawn({
      name: "cma",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        out.push(lruCacheDisabled(e.m));
        yield* lruCacheDisable();
        out.push(lruCacheDisabled(e.m), cpuNeedsDrain(e.m, 1));
        yield* complete(disabled);
        yield* waitForCompletion(remoteDone);
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        out.push(whereIs(e.m, f));
        yield* lruCacheEnable();
        const h = yield* e.alloc();
        yield* folioAddLru(h);
        out.push(lruCacheDisabled(e.m), whereIs(e.m, h));
      },
    });
    const r = e.run();
    expect(out).toEqual([
      false,
      true,
      false,
      { ref: 1, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      { ref: 1, flags: "lru|active", lru: "active_file", mlock_count: 0 },
      ["active_file"],
      ["inactive_file"],
      false,
      ["cpu0 lru_add"],
    ]);
    expect(r.counters.rcu_expedited_gp).toBe(1);
    expect(r.counters.lru_add_drain_all_forced).toBe(1);
    expect(r.counters.work_queued).toBe(1);
    expect(spans(r, "cma").slice(0, 2)).toEqual(["lru_cache_disable", "__lru_add_drain_all"]);
  });

  it("ignores the generation short-circuit (force)", () => {
    const e = env({ cpus: 2 });
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        yield* lruAddDrainAll();
        yield* lruCacheDisable();
        yield* lruCacheEnable();
      },
    });
    const r = e.run();
    expect(getLru(e.m).lruDrainGen.value).toBe(2);
    expect(r.counters.lru_add_drain_all_skipped).toBeUndefined();
  });

  it("an unbalanced lru_cache_enable is a model error", () => {
    const e = env({ cpus: 1 });
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        yield* lruCacheEnable();
      },
    });
    const r = e.runRaw();
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "lru_cache_enable", object: "lru_disable_count" });
  });
});

describe("variant lru-batch-clears-lru (33dfe9204f29, reverted in 6.17)", () => {
  function run(kernel: Record<string, boolean>) {
    const e = env({ cpus: 1, kernel });
    const out: unknown[] = [];
    e.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const f = yield* e.alloc();
        yield* folioAddLru(f);
        yield* lruAddDrain();
        yield* folioActivate(f);
        out.push(st(f), whereIs(e.m, f), lruInvariants(e.m, [f]));
        yield* folioActivate(f); // a second queueing
        out.push(f.refcount);
        const iso = yield* folioIsolateLru(f);
        out.push(iso);
        yield* lruAddDrain();
        out.push(st(f));
      },
    });
    e.run();
    return out;
  }

  it("clears PG_lru at queue time: the folio looks isolated, cannot be isolated or queued again, and gets PG_lru back at the flush", () => {
    expect(run({ "lru-batch-clears-lru": true })).toEqual([
      { ref: 2, flags: "", lru: "inactive_file", mlock_count: 0 },
      ["cpu0 lru_activate", "inactive_file"],
      null,
      2,
      false,
      { ref: 1, flags: "lru|active", lru: "active_file", mlock_count: 0 },
    ]);
  });

  it("mainline (reverted): PG_lru stays set while queued, so isolation succeeds and the flush skips the folio", () => {
    expect(run({})).toEqual([
      { ref: 2, flags: "lru", lru: "inactive_file", mlock_count: 0 },
      ["cpu0 lru_activate", "inactive_file"],
      null,
      3,
      true,
      { ref: 2, flags: "", lru: null, mlock_count: 0 },
    ]);
  });
});

describe("lru_cache_drain_for_folio (2026 ladder)", () => {
  function ladder(where: "none" | "local" | "remote", state: LruCacheDrained | null, order = 0, extra = 1025) {
    const e = env({ cpus: 2 });
    const ready = new Completion("ready");
    const out: unknown[] = [];
    let f!: Folio;
    e.m.spawn({
      name: "remote",
      cpu: 1,
      *body() {
        f = yield* e.alloc(order);
        if (where === "remote") yield* folioAddLru(f);
        yield* complete(ready);
      },
    });
    e.m.spawn({
      name: "gup",
      cpu: 0,
      *body() {
        yield* waitForCompletion(ready);
        if (where === "local") yield* folioAddLru(f);
        yield* folioRefAdd(f, 1024, "pin", "try_grab_folio");
        const drained = state === null ? null : { state };
        // No mapping here, so exp is 0: the allocation reference plus the pin (1025) is
        // what the caller knows of; a batch slot is the unexplained extra.
        yield* lruCacheDrainForFolio(f, extra, drained);
        out.push(drained?.state ?? null, f.refcount);
      },
    });
    const r = e.run();
    const s = spans(r, "gup");
    return { out, drains: s.filter((x) => x === "lru_add_drain" || x === "lru_add_drain_all"), r };
  }

  it("returns at once when the count is explained", () => {
    expect(ladder("none", "NOT_DRAINED")).toMatchObject({ out: ["NOT_DRAINED", 1025], drains: [] });
  });

  it("a local batch: one local drain, then the re-check passes", () => {
    expect(ladder("local", "NOT_DRAINED")).toMatchObject({ out: ["DRAINED", 1025], drains: ["lru_add_drain"] });
  });

  it("a remote batch: local drain, then one global drain", () => {
    const { out, drains, r } = ladder("remote", "NOT_DRAINED");
    expect(out).toEqual(["DRAINED_ALL", 1025]);
    expect(drains).toEqual(["lru_add_drain", "lru_add_drain_all"]);
    expect(r.counters.work_queued).toBe(1);
  });

  it("after DRAINED_ALL it never drains again, even with the extra reference still there", () => {
    expect(ladder("remote", "DRAINED_ALL")).toMatchObject({ out: ["DRAINED_ALL", 1026], drains: [] });
  });

  it("with a null state it runs the whole ladder", () => {
    expect(ladder("remote", null)).toMatchObject({ out: [null, 1025], drains: ["lru_add_drain", "lru_add_drain_all"] });
  });

  it("does nothing for a large folio (never left in a batch)", () => {
    // extra 0: a small folio would drain.
    expect(ladder("none", "NOT_DRAINED", 0, 0)).toMatchObject({ out: ["DRAINED_ALL", 1025], drains: ["lru_add_drain", "lru_add_drain_all"] });
    expect(ladder("none", "NOT_DRAINED", 2, 0)).toMatchObject({ out: ["NOT_DRAINED", 1025], drains: [] });
  });
});

// cpu_needs_drain and need_mlock_drain read another CPU's batch counts racily and test
// them against zero only: they read each batch's `nr != 0` token, which only the steps
// that may fill or empty a batch write, so the explorer does not order them against
// every slot of a flush.
describe("the batch counts other CPUs read", () => {
  const token = (label: string) => `cpu0 ${label} nr != 0`;
  /** Each step's footprint, preferring `prefer`'s steps where there is a choice. */
  function footprints(prefer = "cpu0"): { label: string; reads: string[]; writes: string[] }[] {
    const e = env();
    const seen: { label: string; reads: string[]; writes: string[] }[] = [];
    e.m.spawn({
      name: "cpu0",
      cpu: 0,
      *body() {
        const fs: Folio[] = [];
        for (let i = 0; i < 3; i++) fs.push(yield* e.alloc());
        for (const f of fs) yield* folioAddLru(f);
        for (const f of fs) yield* mlockFolio(f);
        yield* lruAddDrain();
      },
    });
    e.m.spawn({ name: "cpu1", cpu: 1, *body() { yield* lruAddDrainAll(); } });
    const chooser: Chooser = {
      choose(c: readonly Candidate[]) {
        const i = c.findIndex((x) => x.task.name === prefer);
        const pick = i < 0 ? 0 : i;
        const op = c[pick].op;
        seen.push({ label: op.label ?? op.kind, reads: op.reads.map((s) => s.name), writes: op.writes.map((s) => s.name) });
        return pick;
      },
    };
    e.run(chooser);
    return seen;
  }

  it("only the step that fills a batch and the one that empties it write its token", () => {
    const seen = footprints();
    const adds = seen.filter((o) => o.label === "folio_batch_add(lru_add)").map((o) => o.writes.includes(token("lru_add")));
    expect(adds).toEqual([true, false, false]);
    const mlockAdds = seen.filter((o) => o.label.startsWith("folio_batch_add(mlock_fbatch")).map((o) => o.writes.includes(token("mlock_fbatch")));
    expect(mlockAdds).toEqual([true, false, false]);
    const puts = seen.filter((o) => o.label === "folios_put");
    expect(puts.filter((o) => o.writes.includes("cpu0 lru_add")).map((o) => o.writes.includes(token("lru_add")))).toEqual([false, false, true]);
    expect(puts.filter((o) => o.writes.includes("cpu0 mlock_fbatch")).map((o) => o.writes.includes(token("mlock_fbatch")))).toEqual([false, false, true]);
    const moves = seen.filter((o) => o.label === "lru_add").map((o) => o.writes.includes(token("lru_add")));
    // Each move leaves the count at three (its slot empties in folios_put).
    expect(moves).toEqual([false, false, false]);
  });

  it("a move and an mlock batch step read the folio's mapping word (folio_evictable, folio_mapped, folio_test_anon)", () => {
    const seen = footprints();
    for (const label of ["lru_add", "__mlock_folio"]) {
      const steps = seen.filter((o) => o.label === label);
      expect(steps).toHaveLength(3);
      for (const o of steps) expect(o.reads).toEqual([o.writes.find((w) => w.endsWith(" flags"))!.replace(" flags", " mapping")]);
    }
  });

  it("cpu_needs_drain reads the seven tokens and no batch", () => {
    const needs = footprints("cpu1").find((o) => o.label === "cpu_needs_drain(0)")!;
    expect(needs.reads).toEqual(["lru_add", "lru_move_tail", "lru_deactivate_file", "lru_deactivate", "lru_lazyfree", "lru_activate", "mlock_fbatch"].map(token));
    expect(needs.writes).toEqual([]);
  });

  it("a step built for a non-empty batch that finds it empty is a model error, not an unsound footprint", () => {
    const b = new FolioBatch(0, "lru_add");
    expect(batchWrites(b, 1).map((o) => o.name)).toEqual(["cpu0 lru_add", token("lru_add")]);
    expect(() => checkBatchStep("folio_batch_add", b, 1, [b])).toThrow(/cpu0 lru_add.*changed between building the step and running it/);
    expect(() => checkBatchStep("folio_batch_add", b, 1, batchWrites(b, 1))).not.toThrow();
  });
});
