import { describe, expect, it } from "vitest";
import { counter } from "./bench/programs.js";
import { runCellTarget } from "./cell.js";
import { exploreWithFallback } from "./fallback.js";

const ALL = { stopAtFirstFailure: false, shrink: false } as const;
const DPOR = { kind: "dpor" } as const;

describe("the deepening fallback of an unbounded DPOR run", () => {
  it("re-runs a run its budget cut, reports the bound the re-run proved and keeps both runs' coverage", () => {
    // Unbounded DPOR needs 90 executions here; 20 leave ~81 (its estimate).
    const result = exploreWithFallback(counter(3, 2, "fixed"), { strategy: DPOR, maxExecutions: 20, fallback: { kind: "deepen", maxExecutions: 50 }, ...ALL });
    expect(result.verdict).toBe("holds");
    expect(result.executions).toBe(50);
    expect(result.strategy).toEqual({ kind: "dpor", deepen: true });
    expect(result.dpor).toMatchObject({ complete: false, boundedComplete: true, preemptionBound: 1, deepening: { provenBound: 1, exploring: 2 } });
    expect(result.fallback).toEqual({
      reported: "deepen",
      unbounded: { executions: 20, budget: 20, verdict: "holds", stopReason: "executions", complete: false, estimatedRemaining: 81, maxPreemptions: 3 },
      deepen: { executions: 50, budget: 50, verdict: "holds", stopReason: "executions", complete: false, estimatedRemaining: 112, maxPreemptions: 2, provenBound: 1, exploringBound: 2 },
    });
  });

  it("takes the first run's budget by default", () => {
    const result = exploreWithFallback(counter(3, 2, "fixed"), { strategy: DPOR, maxExecutions: 20, fallback: { kind: "deepen" }, ...ALL });
    expect(result.fallback?.deepen).toMatchObject({ executions: 20, budget: 20, provenBound: 0, exploringBound: 1 });
    expect(result.dpor?.preemptionBound).toBe(0);
  });

  it("keeps the unbounded run's report when the re-run proved nothing", () => {
    const result = exploreWithFallback(counter(3, 2, "fixed"), { strategy: DPOR, maxExecutions: 20, fallback: { kind: "deepen", maxExecutions: 5 }, ...ALL });
    expect(result.strategy).toEqual(DPOR);
    expect(result.executions).toBe(20);
    expect(result.dpor).toMatchObject({ complete: false, boundedComplete: false, estimatedRemaining: 81 });
    expect(result.fallback?.reported).toBe("unbounded");
    expect(result.fallback?.deepen).toMatchObject({ executions: 5, complete: false, exploringBound: 0 });
    expect(result.fallback?.deepen.provenBound).toBeUndefined();
  });

  it("does not run when DPOR completed, found a failure, or was bounded already", () => {
    const complete = exploreWithFallback(counter(3, 2, "fixed"), { strategy: DPOR, fallback: { kind: "deepen" }, ...ALL });
    expect(complete.dpor?.complete).toBe(true);
    expect(complete.executions).toBe(90);
    expect(complete.fallback).toBeUndefined();
    const failing = exploreWithFallback(counter(3, 3, "buggy"), { strategy: DPOR, maxExecutions: 20, fallback: { kind: "deepen" }, ...ALL });
    expect(failing.verdict).toBe("fails");
    expect(failing.fallback).toBeUndefined();
    const bounded = exploreWithFallback(counter(3, 2, "fixed"), { strategy: { kind: "dpor", preemptionBound: 1 }, maxExecutions: 20, fallback: { kind: "deepen" }, ...ALL });
    expect(bounded.fallback).toBeUndefined();
  });

  it("runs in a matrix cell, whose options carry it to the worker", () => {
    const cell = runCellTarget(counter(3, 2, "fixed"), { strategy: DPOR, maxExecutions: 20, fallback: { kind: "deepen", maxExecutions: 50 }, ...ALL });
    expect(cell).not.toHaveProperty("timing");
    expect(cell.fallback).toMatchObject({ reported: "deepen", unbounded: { executions: 20 }, deepen: { provenBound: 1 } });
  });
});
