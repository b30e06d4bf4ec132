// Issue 4's catalog checks with seeded schedules of the timed chooser: a "fails" must
// be reached; a "holds" must show no failure in any seed. Every run also checks the
// memory model's invariants after each step and the end-of-run leak check.
import { describe, expect, it, vi } from "vitest";
import { TimedChooser } from "@foliosim/sim";
import { CATALOG, getScenario, runScenario, type ParamValues, type Scenario, type ScenarioRun } from "./index.js";

// The issue asks for 2,000 seeds per "holds"; the default suite runs fewer to stay fast
// (the explorer proves these exhaustively). FOLIOSIM_HOLD_SEEDS=2000 runs the full check.
const HOLD_SEEDS = Number(process.env.FOLIOSIM_HOLD_SEEDS ?? 25);
// S1 runs about 35 ms a seed on 2 cores: give the full check the time it needs.
if (HOLD_SEEDS > 25) vi.setConfig({ testTimeout: Math.max(60_000, HOLD_SEEDS * 100) });

function runs(s: Scenario, kernel: string, seeds: number, params: ParamValues = {}): ScenarioRun[] {
  return Array.from({ length: seeds }, (_, seed) => runScenario(s, kernel, new TimedChooser(seed), params));
}

function expectHolds(id: string, kernel: string, params: ParamValues = {}, seeds = HOLD_SEEDS): ScenarioRun[] {
  const rs = runs(getScenario(id), kernel, seeds, params);
  const bad = rs.find((r) => r.verdict !== "holds");
  expect(bad?.failure ?? null, `${id} on ${kernel} ${JSON.stringify(params)}`).toBeNull();
  return rs;
}

function expectFails(id: string, kernel: string, params: ParamValues = {}, seeds = 50): ScenarioRun {
  const rs = runs(getScenario(id), kernel, seeds, params);
  const bad = rs.find((r) => r.verdict === "fails");
  expect(bad, `${id} on ${kernel} ${JSON.stringify(params)} never failed in ${seeds} seeds`).toBeDefined();
  return bad!;
}

describe("catalog", () => {
  it("has the fixed ids", () => {
    expect(CATALOG.map((s) => s.id)).toEqual([
      "pkvm-mlock-cma",
      "anon-lru-add-batch",
      "activate-batch",
      "transient-ref",
      "lock-waiter-ref",
      "unisolatable-folio",
      "pin-clean-unpinnable",
      "hmm-drain-livelock",
      "hmm-fault-storm",
      "hmm-migrate-cycle",
      "pkvm-same-cpu",
      "pkvm-mlock-cma-concurrent",
      "transient-ref-concurrent",
      "pkvm-same-cpu-concurrent",
      "longterm-pin-enomem",
    ]);
  });

  it("rejects an unknown scenario with the closest id", () => {
    expect(() => getScenario("pkvm-mlock")).toThrow(/unknown scenario "pkvm-mlock" \(did you mean "pkvm-mlock-cma"\?\)/);
  });
});

describe("pkvm-mlock-cma (S1)", () => {
  it.each(["linux-6.10", "linux-6.11", "hugh-v1", "john-memalloc-pin"])("fails on %s: -ENOMEM after the migration retries, the mlock batch holding the reference", (k) => {
    const r = expectFails("pkvm-mlock-cma", k);
    expect(r.failure!.message).toBe("crosvm_vcpu0: pin_user_pages ret returned -12 (ENOMEM); expected 1");
    expect(r.metrics.migrate_retry).toBe(10);
    expect(r.metrics.lru_add_drain_all).toBe(0);
    // The trace explains it: each move pass saw 3 references where 2 were expected.
    const mismatches = r.run.trace.filter((e) => e.type === "migrate_refcount_mismatch");
    expect(mismatches).toHaveLength(10);
    expect(mismatches[0].args).toEqual({ count: 3, expected: 2 });
  });

  it.each(["will-v1", "linux-6.17", "linux-7.0", "linux-7.3"])("holds on %s, after one lru_add_drain_all", (k) => {
    for (const r of expectHolds("pkvm-mlock-cma", k)) expect(r.metrics.lru_add_drain_all).toBe(1);
  });
});

describe("pkvm-same-cpu (S1 with the faulting CPU pinning)", () => {
  // Where the guest folio's mlock batch slot is processed (mlock_folio_batch): during
  // the pin's collection (before folio_isolate_lru) or by try_to_migrate_one()'s
  // mlock_drain_local() in the VM_LOCKED vma, after the folio was isolated.
  function outcome(kernel: string, seed: number): string {
    const r = runScenario(getScenario("pkvm-same-cpu"), kernel, new TimedChooser(seed));
    const t = r.run.trace;
    const batch = t.findIndex((e) => e.type === "mlock_folio_batch");
    const isolate = t.findIndex((e) => e.type === "folio_isolate_lru");
    const where = batch < isolate ? "collect" : "try_to_migrate_one";
    return `${r.verdict} ${where} all=${r.metrics.lru_add_drain_all} local=${r.metrics.lru_add_drain} retry=${r.metrics.migrate_retry}`;
  }

  // Every kernel holds: the reference sits in the pinning CPU's own mlock batch, which
  // a local drain in the collection removes, and which try_to_migrate_one() drains
  // anyway in the VM_LOCKED vma before the move stage counts references. hugh-v1 (which
  // fails pkvm-mlock-cma) holds through its head-of-collection lru_add_drain().
  it.each([
    ["linux-6.10", "holds try_to_migrate_one all=0 local=1 retry=0"],
    ["linux-6.11", "holds try_to_migrate_one all=0 local=1 retry=0"],
    ["linux-6.17", "holds collect all=1 local=2 retry=0"],
    ["linux-7.0", "holds collect all=1 local=3 retry=0"],
    ["linux-7.3", "holds collect all=0 local=2 retry=0"],
    ["will-v1", "holds collect all=1 local=1 retry=0"],
    ["hugh-v1", "holds collect all=0 local=3 retry=0"],
    ["john-memalloc-pin", "holds try_to_migrate_one all=0 local=1 retry=0"],
  ] as const)("%s: %s", (kernel, expected) => {
    for (const seed of [0, 1, 2, 3, 4]) expect(outcome(kernel, seed), `seed ${seed}`).toBe(expected);
  });

  it("the same kernels on pkvm-mlock-cma (the pin on another CPU): only a global drain in the collection saves it", () => {
    const verdicts = ["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3", "will-v1", "hugh-v1", "john-memalloc-pin"].map(
      (k) => `${k} ${runScenario(getScenario("pkvm-mlock-cma"), k, new TimedChooser(1)).verdict}`,
    );
    expect(verdicts).toEqual([
      "linux-6.10 fails", "linux-6.11 fails", "linux-6.17 holds", "linux-7.0 holds", "linux-7.3 holds", "will-v1 holds", "hugh-v1 fails", "john-memalloc-pin fails",
    ]);
  });
});

describe("anon-lru-add-batch (S2) and activate-batch (S3)", () => {
  it.each(["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "will-v1", "hugh-v1", "john-memalloc-pin", "gup-count-isolated"])("anon-lru-add-batch holds on %s", (k) => {
    expectHolds("anon-lru-add-batch", k);
  });

  it("activate-batch fails on linux-6.10: PG_lru is set, nothing is drained, the activate batch's reference fails migration", () => {
    const r = expectFails("activate-batch", "linux-6.10");
    expect(r.failure!.message).toContain("-12 (ENOMEM)");
    expect(r.metrics.lru_add_drain_all).toBe(0);
  });

  it.each(["linux-6.11", "linux-6.17", "linux-7.0"])("activate-batch holds on %s", (k) => {
    expectHolds("activate-batch", k);
  });
});

describe("pin-clean-unpinnable", () => {
  // The 6.17 ladder's "+1" target never matches a FOLL_PIN small folio (+1024): every pin
  // drains locally, then globally. 7.0 still runs it (with 6.18's local drain first inside
  // lru_add_drain_all); 7.3's pin-reference target (078e1a0fc41a) drains nothing.
  const drains = (kernel: string) =>
    [...new Set(expectHolds("pin-clean-unpinnable", kernel, {}, 20).map((r) => `all=${r.metrics.lru_add_drain_all} local=${r.metrics.lru_add_drain}`))];

  it("linux-6.17: one lru_add_drain_all and one local lru_add_drain per pin", () => {
    expect(drains("linux-6.17")).toEqual(["all=1 local=1"]);
  });

  it("linux-7.0: the same ladder, and lru_add_drain_all drains locally first (6.18): one global, two local", () => {
    expect(drains("linux-7.0")).toEqual(["all=1 local=2"]);
  });

  it("linux-7.3: no drain at all", () => {
    expect(drains("linux-7.3")).toEqual(["all=0 local=0"]);
  });
});

describe("transient-ref (S4)", () => {
  // Why: mainline retries 3 async and 7 sync move passes back to back; in the default
  // cost model the ten passes, with the undo and re-lock between the stages, take a
  // few microseconds. A reference released within that span is survived; one held
  // for 500 ms or 2 s outlives every pass.
  it("linux-7.0: 1 us holds; 500 ms and 2 s fail with -ENOMEM after 10 passes", () => {
    expectHolds("transient-ref", "linux-7.0", { hold_ns: 1_000 });
    for (const hold of [500_000_000, 2_000_000_000]) {
      const r = expectFails("transient-ref", "linux-7.0", { hold_ns: hold }, 5);
      expect(r.metrics.migrate_retry).toBe(10);
    }
  });

  it("jhubbard-refcount-wait: 500 ms holds, woken by folio_put; every migrate_pages pays two key patches of 6 IPI broadcasts", () => {
    for (const r of expectHolds("transient-ref", "jhubbard-refcount-wait", { hold_ns: 500_000_000 }, 5)) {
      expect(r.metrics.static_key_patch).toBe(2);
      expect(r.metrics.ipi_broadcast).toBe(12);
      expect(r.metrics.migrate_retry).toBe(1);
      expect(r.metrics.virtual_ns).toBeLessThan(501_000_000);
    }
  });

  it("jhubbard-refcount-wait: a 2 s hold also holds — the RFC waits up to HZ after every -EAGAIN pass, not once per call", () => {
    // RFC patch 2/2 puts wait_var_event_timeout(..., HZ) in migrate_folios_move's
    // -EAGAIN case, so the async stage alone can wait 3 s. (The issue expected this
    // case to fail; the mechanism says otherwise.)
    for (const r of expectHolds("transient-ref", "jhubbard-refcount-wait", { hold_ns: 2_000_000_000 }, 3)) {
      expect(r.metrics.migrate_retry).toBe(2);
    }
  });

  it("jhubbard-refcount-wait: a reference held past every wait (12 s) is effectively longterm and the pin fails", () => {
    // Ten -EAGAIN passes, each waiting HZ for folio_put: about 10 s of waiting, then -ENOMEM.
    const r = expectFails("transient-ref", "jhubbard-refcount-wait", { hold_ns: 12_000_000_000 }, 3);
    expect(r.metrics.migrate_retry).toBe(10);
    const pinner = r.run.taskTable.find((t) => t.name === "pinner")!;
    const gaveUp = r.run.trace.find((e) => e.type === "exit" && e.task === pinner.id)!;
    expect(gaveUp.t).toBeGreaterThan(9_000_000_000);
    expect(gaveUp.t).toBeLessThan(12_000_000_000);
  });
});

describe("lock-waiter-ref (S5)", () => {
  it("async-only migration fails on linux-7.0; sync migration holds", () => {
    const r = expectFails("lock-waiter-ref", "linux-7.0", { mode: "MIGRATE_ASYNC" });
    expect(r.failure!.message).toBe("migrator: migrate_pages returned 1; expected 0");
    expectHolds("lock-waiter-ref", "linux-7.0", { mode: "MIGRATE_SYNC" });
  });

  it.each(["devjain-early-bail", "david-waiters-backoff"])("sync migration holds on %s", (k) => {
    expectHolds("lock-waiter-ref", k, { mode: "MIGRATE_SYNC" });
  });

  it("async-only: devjain-early-bail still fails when the reader takes its reference after the unmap-stage check", () => {
    expectFails("lock-waiter-ref", "devjain-early-bail", { mode: "MIGRATE_ASYNC" });
  });

  it("async-only: where the reader's arrival lands decides each kernel's outcome (the window map)", () => {
    // Outcome (verdict/move passes retried) against when the reader starts, ns after the
    // migrator, timed chooser. With a fast (100 ns) wake-up of the handed-off reader:
    // mainline fails from the moment migration holds the lock until it is done;
    // Dev Jain's check saves the migration only while the reader's reference precedes
    // the unmap-stage check (300-500 ns), not once the move passes run (600 ns on);
    // David Hildenbrand's back-off, as he wrote it, gives the folio up to ret_folios at
    // the first move-stage -EAGAIN with a waiter, and under MIGRATE_ASYNC nobody retries
    // it; the in-batch variation retries it in the same batch and saves it throughout.
    const s = getScenario("lock-waiter-ref");
    const fastWakeup = { ...s, machine: { ...s.machine, costs: { wakeup: 100 } } };
    const map = (scenario: typeof s, kernel: string, delays: number[], mode = "MIGRATE_ASYNC") =>
      delays.map((delay) => {
        const [id, override] = kernel.split("+");
        const r = runScenario(scenario, id, new TimedChooser(1), { mode, reader_delay_ns: delay }, override ? [override] : []);
        return `${r.verdict}/${r.metrics.migrate_retry}`;
      });
    // (The window closes at __folio_migrate_mapping's freeze, after the 1 us copy: a reader
    // arriving at 3.5 us still takes its reference in time, one at 4 us finds the folio
    // migrated.)
    const delays = [100, 200, 400, 1_000, 2_500, 3_500, 4_000];
    const inBatch = "linux-7.3+migrate=david-waiters-backoff-inbatch";
    expect(map(fastWakeup, "linux-7.0", delays)).toEqual(["holds/0", "holds/1", "fails/10", "fails/10", "fails/10", "fails/10", "holds/0"]);
    expect(map(fastWakeup, "devjain-early-bail", delays)).toEqual(["holds/0", "holds/1", "holds/2", "fails/10", "fails/10", "fails/10", "holds/0"]);
    expect(map(fastWakeup, "david-waiters-backoff", delays)).toEqual(["holds/0", "holds/1", "fails/1", "fails/1", "fails/1", "fails/1", "holds/0"]);
    expect(map(fastWakeup, inBatch, delays)).toEqual(["holds/0", "holds/1", "holds/2", "holds/2", "holds/2", "holds/2", "holds/0"]);
    // With the default 3 us wake-up, the async passes (a failed trylock each) are all
    // spent before the handed-off reader runs: the in-batch variation fails wherever
    // mainline does; David's form fails there too, after its single back-off.
    for (const kernel of ["linux-7.0", "devjain-early-bail", inBatch]) {
      expect(map(s, kernel, [200, 400, 1_000])).toEqual(["holds/1", "fails/10", "fails/10"]);
    }
    expect(map(s, "david-waiters-backoff", [200, 400, 1_000])).toEqual(["holds/1", "fails/1", "fails/1"]);
    // MIGRATE_SYNC: David's form leaves the retry to migrate_pages_sync's one-by-one stage,
    // which sleeps for the lock: one -EAGAIN, wherever the reader lands.
    expect(map(fastWakeup, "david-waiters-backoff", delays, "MIGRATE_SYNC")).toEqual(["holds/0", "holds/1", "holds/1", "holds/1", "holds/1", "holds/1", "holds/0"]);
    expect(map(fastWakeup, inBatch, delays, "MIGRATE_SYNC")).toEqual(["holds/0", "holds/1", "holds/2", "holds/2", "holds/2", "holds/2", "holds/0"]);
  });

  it("async-only: david-waiters-backoff gives the folio up at its back-off; the in-batch variation holds when the handed-off reader wakes in time", () => {
    const s = getScenario("lock-waiter-ref");
    const fast = { ...s, machine: { ...s.machine, costs: { wakeup: 100 } } };
    const params = { mode: "MIGRATE_ASYNC", reader_delay_ns: 1000 };
    const literal = runScenario(fast, "david-waiters-backoff", new TimedChooser(1), params);
    expect(literal.verdict).toBe("fails");
    expect(literal.failure!.message).toBe("migrator: migrate_pages returned 1; expected 0");
    expect(literal.run.trace.filter((e) => e.type === "migrate_waiters_backoff")).toHaveLength(1);
    const held = runScenario(fast, "linux-7.3", new TimedChooser(1), params, ["migrate=david-waiters-backoff-inbatch"]);
    expect(held.verdict).toBe("holds");
    expect(held.run.trace.some((e) => e.type === "migrate_waiters_backoff")).toBe(true);
    // With the default 3 us wake-up, the nine remaining unmap passes (a failed trylock each) end first.
    const failed = runScenario(s, "linux-7.3", new TimedChooser(1), params, ["migrate=david-waiters-backoff-inbatch"]);
    expect(failed.verdict).toBe("fails");
  });
});

describe("unisolatable-folio (S7)", () => {
  it("gup-count-isolated returns success with an unpinnable folio pinned", () => {
    const r = expectFails("unisolatable-folio", "gup-count-isolated");
    expect(r.failure!.message).toBe("pinner: pin_user_pages longtermPinnable returned false; expected true");
    expect(r.calls.find((c) => c.call === "pin_user_pages")!.result).toMatchObject({ ret: 1, longtermPinnable: false });
  });

  it("linux-7.0 keeps re-pinning until the isolation ends, then succeeds", () => {
    for (const r of expectHolds("unisolatable-folio", "linux-7.0", {}, 20)) expect(r.run.counters.gup_longterm_retry).toBeGreaterThan(1);
  });
});

describe("determinism across runs in one process", () => {
  // A run is a pure function of (scenario, kernel, schedule): nothing a previous run
  // left in module state may change it (device pfns once came from a module counter).
  it.each(CATALOG.map((s) => s.id))("%s gives the same trace hash when run again", (id) => {
    const kernel = id.startsWith("hmm-") ? "linux-7.0" : "linux-6.17";
    const first = runScenario(getScenario(id), kernel, new TimedChooser(3));
    const again = runScenario(getScenario(id), kernel, new TimedChooser(3));
    expect(again.run.traceHash).toBe(first.run.traceHash);
  });
});
