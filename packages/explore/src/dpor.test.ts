// DPOR against naive enumeration: the same final states and verdicts, fewer executions,
// and never `complete` when a bound cut the space.
import { describe, expect, it } from "vitest";
import { enumerateSchedules } from "@foliosim/sim/test";
import { explore } from "./explore.js";
import { SMALL_FIXTURES, lostUpdate, rwsemReaders, type Fixture } from "./__fixtures__/programs.js";
import { counter } from "./bench/programs.js";

function naive(fixture: Fixture): { states: Set<string>; runs: number } {
  const states = new Set<string>();
  const { runs, complete } = enumerateSchedules(fixture.target.program, fixture.target.config, (r) => {
    states.add(fixture.finalState(r));
  });
  expect(complete).toBe(true);
  return { states, runs };
}

function viaDpor(fixture: Fixture, preemptionBound?: number) {
  const states = new Set<string>();
  const target = { ...fixture.target, metrics: (r: Parameters<Fixture["finalState"]>[0]) => (states.add(fixture.finalState(r)), {}) };
  const result = explore(target, { strategy: { kind: "dpor", preemptionBound }, stopAtFirstFailure: false, shrink: false });
  return { states, result };
}

describe("dpor is sound against naive enumeration", () => {
  for (const make of SMALL_FIXTURES) {
    it(make.name, () => {
      const fixture = make();
      const expected = naive(fixture);
      const { states, result } = viaDpor(fixture);
      expect([...states].sort()).toEqual([...expected.states].sort());
      expect(result.dpor!.complete).toBe(true);
      expect(result.executions).toBeLessThanOrEqual(expected.runs);
    });
  }

  it("needs fewer executions than naive DFS where independent steps abound", () => {
    const fixture = lostUpdate();
    const expected = naive(fixture);
    const { result } = viaDpor(fixture);
    expect(result.executions).toBeLessThan(expected.runs);
  });

  it("does not order readers of an rwsem against each other (commutative updates)", () => {
    const fixture = rwsemReaders();
    const expected = naive(fixture);
    const plain = explore(fixture.target, { strategy: { kind: "dpor", plain: true }, stopAtFirstFailure: false, shrink: false });
    const { states, result } = viaDpor(fixture);
    expect([...states].sort()).toEqual([...expected.states].sort());
    expect(result.dpor!.complete).toBe(true);
    // Plain DPOR orders every reader's lock and unlock against the others'; with the
    // reader count commutative only each reader's place against the writer matters.
    expect(plain.executions).toBe(216);
    expect(result.executions).toBe(16);
  });

  it("finds the lost update with the same verdict as enumeration", () => {
    const result = explore(counter(2, 2, "buggy"), { strategy: { kind: "dpor" }, stopAtFirstFailure: false, shrink: false });
    expect(result.verdict).toBe("fails");
    expect(result.failures[0].kind).toBe("promise");
    expect(result.dpor!.complete).toBe(true);
  });
});

describe("dpor bounds and budgets", () => {
  it("is never complete when the preemption bound cut the space", () => {
    const result = explore(counter(2, 2, "buggy"), { strategy: { kind: "dpor", preemptionBound: 0 }, stopAtFirstFailure: false });
    expect(result.dpor!.boundedComplete).toBe(true);
    expect(result.dpor!.complete).toBe(false);
  });

  it("is never complete when the execution budget cut the space", () => {
    const result = explore(counter(3, 2, "fixed"), { strategy: { kind: "dpor" }, maxExecutions: 5 });
    expect(result.stopReason).toBe("executions");
    expect(result.dpor!.complete).toBe(false);
    expect(result.dpor!.estimatedRemaining).toBeGreaterThan(0);
  });

  it("is never complete when an execution hit its step budget", () => {
    const result = explore(counter(2, 3, "fixed"), { strategy: { kind: "dpor" }, maxSteps: 3 });
    expect(result.verdict).toBe("inconclusive");
    expect(result.inconclusive[0].kind).toBe("step-limit");
    expect(result.dpor!.complete).toBe(false);
  });

  it("a large enough bound explores the same states as no bound", () => {
    for (const make of SMALL_FIXTURES) {
      const fixture = make();
      const unbounded = viaDpor(fixture);
      const bounded = viaDpor(make(), 10);
      expect([...bounded.states].sort(), make.name).toEqual([...unbounded.states].sort());
    }
  });
});
