// The concurrent forms of the seed races: the partner (the readahead, the activation,
// the reference holder) runs as a task beside the pin, so DPOR explores the race window
// itself. Each verdict is proven (DPOR complete) on the headline kernels, and each race
// is shown to be exercised: some executions have the partner before the critical step
// and some after it.
import { describe, expect, it } from "vitest";
import { explore, type ExploreResult } from "@foliosim/explore";
import { CATALOG, concurrentFormOf, HEADLINE_SCENARIOS, loadTarget } from "./index.js";

/** Every schedule class, every failure counted (no stop at the first). */
function proof(scenario: string, kernel: string): ExploreResult {
  const r = explore(loadTarget(scenario, kernel), { strategy: { kind: "dpor" }, maxExecutions: 20_000, stopAtFirstFailure: false, shrink: false });
  expect(r.dpor!.complete, `${scenario} on ${kernel}: DPOR complete`).toBe(true);
  return r;
}

/** Heavy cells (a 31-folio lru_add batch in the set-up, about 1,500 executions) run in `pnpm test:soundness` only. */
const FULL = process.env.FOLIOSIM_SOUNDNESS === "full";

describe("the headline set", () => {
  it("puts each seed race's concurrent form in its place, and keeps every seed race in the catalog", () => {
    const ids = HEADLINE_SCENARIOS.map((s) => s.id);
    expect(ids.slice(0, 5)).toEqual(["pkvm-mlock-cma-concurrent", "anon-lru-add-batch", "activate-batch", "transient-ref-concurrent", "lock-waiter-ref"]);
    expect(ids).toContain("pkvm-same-cpu-concurrent");
    expect(ids).not.toContain("pkvm-mlock-cma");
    for (const id of ["pkvm-mlock-cma", "transient-ref", "pkvm-same-cpu"]) expect(concurrentFormOf(id)!.id).toBe(`${id}-concurrent`);
    expect(CATALOG.map((s) => s.id)).toEqual(expect.arrayContaining(["pkvm-mlock-cma", "pkvm-mlock-cma-concurrent", "transient-ref-concurrent", "pkvm-same-cpu-concurrent"]));
  });
});

describe("pkvm-mlock-cma-concurrent: the readahead's flush races the pin's collection", () => {
  // Flushed first, the folio is on the LRU with PG_lru set and only the mlock batch
  // holds the extra reference: 6.10/6.11 do not drain and ten move passes fail.
  // Flushed after the pin looked, the folio has no PG_lru and one global drain saves it.
  it.each(["linux-6.10", ...(FULL ? ["linux-6.11"] : [])])("fails on %s only where the flush comes first", (k) => {
    const r = proof("pkvm-mlock-cma-concurrent", k);
    expect(r.verdict).toBe("fails");
    expect(r.failures.map((f) => f.message)).toEqual(["crosvm_vcpu0: pin_user_pages ret returned -12 (ENOMEM); expected 1"]);
    expect(r.failureCounts.promise).toBeGreaterThan(0);
    expect(r.failureCounts.promise).toBeLessThan(r.executions);
    // Both sides of the window: no drain (the flush came first) and one drain (it did not).
    expect(r.metrics.lru_add_drain_all.min).toBe(0);
    expect(r.metrics.lru_add_drain_all.max).toBe(1);
    expect(r.metrics.migrate_retry.max).toBe(10);
  }, 600_000);

  it.runIf(FULL).each(["linux-6.17", "linux-7.0", "linux-7.3"])("holds on %s wherever the flush lands", (k) => {
    const r = proof("pkvm-mlock-cma-concurrent", k);
    expect(r.failures).toEqual([]);
    expect(r.verdict).toBe("holds");
    expect(r.metrics.migrate_retry.max).toBe(0);
  }, 1_200_000);
});

describe("transient-ref-concurrent: the reference lands anywhere in the pin", () => {
  it.each(["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3"])("fails on %s when it lands before the move passes, holds when after", (k) => {
    const r = proof("transient-ref-concurrent", k);
    expect(r.verdict).toBe("fails");
    expect(r.failures.map((f) => f.message)).toEqual(["pinner: pin_user_pages ret returned -12 (ENOMEM); expected 1"]);
    expect(r.failureCounts.promise).toBeLessThan(r.executions);
    expect(r.metrics.migrate_retry.min).toBe(0);
    expect(r.metrics.migrate_retry.max).toBe(10);
  });
});

describe("pkvm-same-cpu-concurrent: the readahead in a second thread on the pinning CPU", () => {
  it.each(["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3"])("holds on %s wherever the readahead runs", (k) => {
    const r = proof("pkvm-same-cpu-concurrent", k);
    expect(r.failures).toEqual([]);
    expect(r.verdict).toBe("holds");
    // The readahead flushed the batch before the pin on some schedules and after it on others.
    expect(r.metrics.lru_batch_flush.min).toBeLessThan(r.metrics.lru_batch_flush.max);
  });
});
