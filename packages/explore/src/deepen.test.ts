import { describe, expect, it } from "vitest";
import { counter } from "./bench/programs.js";
import { explore } from "./explore.js";

const DEEPEN = { kind: "dpor", deepen: true } as const;
const ALL = { stopAtFirstFailure: false, shrink: false } as const;

describe("iterative preemption bounding (deepen)", () => {
  it("explores the whole space when the budget allows, and finds what unbounded DPOR finds", () => {
    const target = counter(2, 2, "buggy");
    const full = explore(target, { strategy: { kind: "dpor" }, ...ALL });
    const deep = explore(target, { strategy: DEEPEN, ...ALL });
    expect(full.dpor!.complete).toBe(true);
    expect(deep.dpor).toEqual({ complete: true, boundedComplete: true, sleepBlocked: 0, estimatedRemaining: 0 });
    // Levels 0 to 3, each from scratch and without sleep sets: dearer than one unbounded run.
    expect(deep.executions).toBe(280);
    expect(deep.failures.map((f) => f.signature)).toEqual(full.failures.map((f) => f.signature));
  });

  it("claims the largest bound it exhausted when the budget ends first", () => {
    const target = counter(3, 3, "buggy");
    const unbounded = explore(target, { strategy: { kind: "dpor" }, maxExecutions: 2_000, ...ALL });
    expect(unbounded.dpor!.boundedComplete).toBe(false);
    const deep = explore(target, { strategy: DEEPEN, maxExecutions: 2_000, ...ALL });
    expect(deep.verdict).toBe("fails");
    expect(deep.dpor).toMatchObject({ complete: false, boundedComplete: true, preemptionBound: 2, deepening: { provenBound: 2, exploring: 3 } });
    // The claim is the one a bounded run makes at that bound.
    const atTwo = explore(target, { strategy: { kind: "dpor", preemptionBound: 2 }, ...ALL });
    expect(atTwo.dpor).toMatchObject({ complete: false, boundedComplete: true, preemptionBound: 2 });
    expect(deep.failures.map((f) => f.signature)).toEqual(atTwo.failures.map((f) => f.signature));
  });

  it("claims nothing before its first level is exhausted", () => {
    const deep = explore(counter(3, 3, "buggy"), { strategy: DEEPEN, maxExecutions: 3, ...ALL });
    expect(deep.dpor).toMatchObject({ complete: false, boundedComplete: false, deepening: { provenBound: -1, exploring: 0 } });
    expect(deep.dpor!.preemptionBound).toBeUndefined();
  });
});
