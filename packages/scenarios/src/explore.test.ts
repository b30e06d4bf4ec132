// Issue 5's kernel-level acceptance: catalog verdicts checked exhaustively. Every
// "holds" below is proven by DPOR with complete: true; every "fails" is found by
// DPOR and by PCT within 1,000 executions. Exhaustive exploration also finds
// schedules the timed chooser never produces (see the last block).
import { describe, expect, it } from "vitest";
import { explore, replay, type ExploreResult } from "@foliosim/explore";
import { TimedChooser } from "@foliosim/sim";
import { getScenario, HEADLINE_SCENARIOS, headlineKernels, loadTarget, runScenario, scenarioTarget, summarize, type ParamValues, type ScenarioTarget } from "./index.js";

function dpor(scenario: string, kernel: string): ExploreResult {
  return explore(loadTarget(scenario, kernel), { strategy: { kind: "dpor" }, maxExecutions: 5_000, stopAtFirstFailure: true, shrink: false });
}

function pct(scenario: string, kernel: string): ExploreResult {
  return explore(loadTarget(scenario, kernel), { strategy: { kind: "pct", seed: 1 }, maxExecutions: 1_000, stopAtFirstFailure: true, shrink: false });
}

/**
 * DPOR on a catalog entry with the machine's skew bound tightened: how long (ns) a CPU
 * may be held off (an interrupt, a preemption) while another runs ahead. The smallest
 * configuration that still has the race is the one where the racing task can still
 * arrive in the window, but cannot be parked in it for longer than the window lasts.
 */
function dporAtSkew(scenario: string, kernel: string, params: ParamValues, maxSkewNs: number, costs?: Record<string, number>): ExploreResult {
  const s = getScenario(scenario);
  const [id, ...overrides] = kernel.split("+"); // "linux-7.3+migrate=x": a preset with overrides
  const target = scenarioTarget({ ...s, machine: { ...s.machine, maxSkewNs, ...(costs ? { costs } : {}) } }, id, params, overrides);
  return explore(target, { strategy: { kind: "dpor" }, maxExecutions: 5_000, stopAtFirstFailure: true, shrink: false });
}

const HOLDS: [string, string][] = [
  ["pkvm-mlock-cma", "will-v1"],
  ["pkvm-mlock-cma", "linux-6.17"],
  ["pkvm-mlock-cma", "linux-7.0"],
  ["pkvm-mlock-cma", "linux-7.3"],
  ["anon-lru-add-batch", "linux-6.10"],
  ["anon-lru-add-batch", "linux-6.11"],
  ["anon-lru-add-batch", "linux-6.17"],
  ["anon-lru-add-batch", "linux-7.0"],
  ["activate-batch", "linux-6.11"],
  ["activate-batch", "linux-6.17"],
  ["activate-batch", "linux-7.0"],
  ["transient-ref", "jhubbard-refcount-wait"],
  ["pin-clean-unpinnable", "linux-6.17"],
  ["pin-clean-unpinnable", "linux-7.0"],
  ["pin-clean-unpinnable", "linux-7.3"],
  // One task after the set-up: DPOR's single execution is the whole space.
  ["pkvm-same-cpu", "linux-6.10"],
  ["pkvm-same-cpu", "hugh-v1"],
];

const FAILS: [string, string, string][] = [
  ["pkvm-mlock-cma", "linux-6.10", "promise"],
  ["pkvm-mlock-cma", "linux-6.11", "promise"],
  ["pkvm-mlock-cma", "hugh-v1", "promise"],
  ["pkvm-mlock-cma", "john-memalloc-pin", "promise"],
  ["activate-batch", "linux-6.10", "promise"],
  ["transient-ref", "linux-7.0", "promise"],
  ["lock-waiter-ref", "linux-7.0", "promise"],
  ["unisolatable-folio", "gup-count-isolated", "promise"],
  // Held past all ten HZ waits, a reference is effectively longterm (seed 000, Alistair Popple).
  ["transient-ref[hold_ns=12000000000]", "jhubbard-refcount-wait", "promise"],
];

describe("catalog verdicts, exhaustively", () => {
  it.each(HOLDS)("%s holds on %s: DPOR exhausts the space", (s, k) => {
    const r = dpor(s, k);
    expect(r.failures).toEqual([]);
    expect(r.verdict).toBe("holds");
    expect(r.dpor!.complete).toBe(true);
  });

  it.each(FAILS)("%s fails on %s: found by DPOR and by PCT within 1,000 executions", (s, k, kind) => {
    const d = dpor(s, k);
    expect(d.verdict).toBe("fails");
    expect(d.failures[0].kind).toBe(kind);
    const p = pct(s, k);
    expect(p.verdict).toBe("fails");
    expect(p.executions).toBeLessThanOrEqual(1_000);
  });
});

describe("catalog verdicts that hold only while the racing task is not held off", () => {
  // lock-waiter-ref: the reader takes its reference and sleeps on the folio lock
  // (PG_waiters) while migration holds it. With the reader never held off more than
  // 1 us between folio_try_get() and folio_lock(), every schedule still has the race
  // (some execution retries a move pass: migrate_retry > 0), and every one migrates.
  it.each(["linux-7.0", "devjain-early-bail", "david-waiters-backoff"])("lock-waiter-ref with MIGRATE_SYNC holds on %s: DPOR exhausts the space at a 1 us skew", (k) => {
    const r = dporAtSkew("lock-waiter-ref", k, { mode: "MIGRATE_SYNC" }, 1_000);
    expect(r.failures).toEqual([]);
    expect(r.dpor!.complete).toBe(true);
    expect(r.metrics.migrate_retry.max).toBeGreaterThan(0);
  }, 240_000); // devjain-early-bail: about 1,700 executions

  // A 3 us hold-off is enough to park the reader, reference taken, outside the lock
  // for the whole migration: the transient reference of S4, not a lock waiter.
  it("lock-waiter-ref with MIGRATE_SYNC fails on linux-7.0 once the reader can be held off 3 us", () => {
    const r = dporAtSkew("lock-waiter-ref", "linux-7.0", { mode: "MIGRATE_SYNC" }, 3_000);
    expect(r.verdict).toBe("fails");
    expect(r.failures[0].message).toBe("migrator: migrate_pages returned 1; expected 0");
  });

  // Async-only: the issue expected both proposals to hold; the mechanism says no, even
  // at a 1 us skew. Dev Jain's check runs in the unmap stage only, so a reference
  // taken after it defeats every move pass; David Hildenbrand's backoff hands the lock
  // to the reader and gives the folio up to ret_folios, which nobody retries under
  // MIGRATE_ASYNC.
  it.each(["devjain-early-bail", "david-waiters-backoff"])("lock-waiter-ref with MIGRATE_ASYNC fails on %s with the default 3 us wake-up, even at a 1 us skew", (k) => {
    const r = dporAtSkew("lock-waiter-ref", k, { mode: "MIGRATE_ASYNC" }, 1_000);
    expect(r.verdict).toBe("fails");
    expect(r.failures[0].message).toBe("migrator: migrate_pages returned 1; expected 0");
  });

  // Where the proposals do hold with MIGRATE_ASYNC: the handed-off reader wakes in
  // 100 ns (not the default 3 us), and, for Dev Jain's check, its reference comes
  // before the unmap-stage check; David's back-off only in its in-batch variation
  // (as he wrote it, the folio is given up). Mainline fails at the same configurations,
  // so the race is there; DPOR proves each closes it.
  it.each([
    ["linux-7.3+migrate=david-waiters-backoff-inbatch", 1_000, 1_000],
    ["devjain-early-bail", 400, 100],
  ] as const)("lock-waiter-ref with MIGRATE_ASYNC holds on %s for a reader at %i ns (skew %i ns, 100 ns wake-up): DPOR exhausts the space", (k, delay, skew) => {
    const params = { mode: "MIGRATE_ASYNC", reader_delay_ns: delay };
    const r = dporAtSkew("lock-waiter-ref", k, params, skew, { wakeup: 100 });
    expect(r.failures).toEqual([]);
    expect(r.dpor!.complete).toBe(true);
    expect(r.metrics.migrate_retry.max).toBeGreaterThan(0);
    expect(dporAtSkew("lock-waiter-ref", "linux-7.0", params, skew, { wakeup: 100 }).verdict).toBe("fails");
  });

  // unisolatable-folio: the isolator lets go 8 us in; the pinner finds the folio
  // isolated and re-pins (each pass pays an lru_add_drain_all on linux-7.0, since the
  // isolation reference is unexplained) until it can migrate it.
  it("unisolatable-folio holds on linux-7.0: DPOR exhausts the space at a 1 us skew", () => {
    const r = dporAtSkew("unisolatable-folio", "linux-7.0", { hold_ns: 8_000 }, 1_000);
    expect(r.failures).toEqual([]);
    expect(r.dpor!.complete).toBe(true);
    expect(r.metrics.lru_add_drain_all.min).toBeGreaterThan(0);
  });
});

describe("what only exhaustive exploration shows", () => {
  // The timed chooser (realistic timing) never fails these; DPOR finds the schedule:
  // the reader is held off between folio_try_get() and folio_lock() (an interrupt,
  // a preemption) for the whole async stage, so it holds its reference without being
  // a lock waiter. Sync migration's undo, Dev Jain's early bail and David
  // Hildenbrand's PG_waiters backoff all need the reader to be queued on the lock.
  it.each(["linux-7.0", "devjain-early-bail", "david-waiters-backoff"])("lock-waiter-ref with MIGRATE_SYNC can fail on %s", (k) => {
    const d = dpor("lock-waiter-ref[mode=MIGRATE_SYNC]", k);
    expect(d.verdict).toBe("fails");
    expect(d.failures[0].message).toBe("migrator: migrate_pages returned 1; expected 0");
  });

  it("a 1 us transient reference taken in the middle of the retry passes fails linux-7.0 too", () => {
    expect(dpor("transient-ref[hold_ns=1000]", "linux-7.0").verdict).toBe("fails");
  });
});

// Two FOLL_LONGTERM pinners of one movable page (catalog entry outside the headline
// set): whichever isolates the folio migrates it while the other still holds its GUP pin,
// so every move pass sees the extra pin and mm/gup.c's migrate_longterm_unpinnable_folios
// turns the migrate_pages() failure into -ENOMEM. The timed chooser's schedules hold (the
// other pin is dropped before the passes); PCT finds the losing schedule on every
// headline kernel, and its replay shows the loser's -12 beside the winner's 1 page.
describe("longterm-pin-enomem: two longterm pinners of one page", () => {
  it("is a catalog entry outside the headline set (DPOR does not prove it in seconds)", () => {
    expect(HEADLINE_SCENARIOS.map((s) => s.id)).not.toContain("longterm-pin-enomem");
    expect(getScenario("longterm-pin-enomem").tasks.map((t) => [t.name, t.cpu])).toEqual([["pinner0", 0], ["pinner1", 1]]);
  });

  it.each(headlineKernels())("on %s the timed schedules hold: both pins return 1 page", (kernel) => {
    for (const seed of [0, 1, 2]) {
      const r = runScenario(getScenario("longterm-pin-enomem"), kernel, new TimedChooser(seed));
      expect(r.verdict, `${kernel} seed ${seed}`).toBe("holds");
      expect(r.calls.filter((c) => c.call === "pin_user_pages").map((c) => (c.result as { ret: number }).ret)).toEqual([1, 1]);
    }
  });

  it.each(headlineKernels())("on %s PCT finds the loser's -ENOMEM; the replay gives one pinner -12 and the other 1", (kernel) => {
    const r = pct("longterm-pin-enomem", kernel);
    expect(r.verdict).toBe("fails");
    const f = r.failures[0];
    expect(f.message).toMatch(/^pinner[01]: pin_user_pages ret returned -12 \(ENOMEM\); expected 1$/);
    const target = loadTarget("longterm-pin-enomem", kernel) as ScenarioTarget;
    const replayed = replay(target, f.token!);
    const calls = summarize(target, replayed.result, getScenario("longterm-pin-enomem")).calls;
    expect(calls.filter((c) => c.call === "pin_user_pages").map((c) => (c.result as { ret: number }).ret).sort()).toEqual([-12, 1]);
  });

  // John Hubbard's RFC (30 Apr 2024), packages/gup/src/variants/jhubbard-umem-eagain.ts:
  // -ENOMEM unless migrate_pages() said -EAGAIN. It never says so for a reference too
  // many: migrate_pages() returns the number of folios not migrated (1), so the loser's
  // failure is still -ENOMEM, on the same schedule, with the same trace.
  it("the RFC that keeps migration's -EAGAIN changes nothing: the same schedule, migrate_pages() returning 1, the loser -12", () => {
    const rfcKernel = "linux-7.3+longterm-migrate-error=jhubbard-umem-eagain";
    const mainline = pct("longterm-pin-enomem", "linux-7.3");
    const rfc = pct("longterm-pin-enomem", rfcKernel);
    expect(rfc.verdict).toBe("fails");
    expect(rfc.failures[0].message).toBe(mainline.failures[0].message);
    expect(rfc.failures[0].firstExecution).toBe(mainline.failures[0].firstExecution);
    const target = loadTarget("longterm-pin-enomem", rfcKernel) as ScenarioTarget;
    const replayed = replay(target, rfc.failures[0].token);
    const base = replay(loadTarget("longterm-pin-enomem", "linux-7.3") as ScenarioTarget, mainline.failures[0].token);
    expect(replayed.result.traceHash).toBe(base.result.traceHash);
    const calls = summarize(target, replayed.result, getScenario("longterm-pin-enomem")).calls;
    expect(calls.filter((c) => c.call === "pin_user_pages").map((c) => (c.result as { ret: number }).ret).sort()).toEqual([-12, 1]);
    const migrations = replayed.result.trace.filter((e) => e.type === "mm_migrate_pages").map((e) => e.args!.rc);
    expect(migrations).toContain(1);
  });
});
