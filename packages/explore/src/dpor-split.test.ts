// Split DPOR against naive enumeration and against one process: the same final states,
// `complete` only when every subtree finished, and a job set (so an execution count)
// that does not depend on the order in which job results arrive.
import { describe, expect, it } from "vitest";
import { enumerateSchedules } from "@foliosim/sim/test";
import { exploreSplit, exploreSubtree, SplitCoordinator, type SubtreeOutput } from "./dpor-split.js";
import { explore } from "./explore.js";
import type { CellOptions } from "./cell.js";
import { SMALL_FIXTURES, type Fixture } from "./__fixtures__/programs.js";
import { counter } from "./bench/programs.js";
import type { ExploreTarget } from "./target.js";

const EXHAUSTIVE: CellOptions = { strategy: { kind: "dpor" }, stopAtFirstFailure: false, shrink: false };

function naiveStates(fixture: Fixture): Set<string> {
  const states = new Set<string>();
  const { complete } = enumerateSchedules(fixture.target.program, fixture.target.config, (r) => void states.add(fixture.finalState(r)));
  expect(complete).toBe(true);
  return states;
}

function watched(fixture: Fixture, states: Set<string>): ExploreTarget {
  return { ...fixture.target, metrics: (r) => (states.add(fixture.finalState(r)), {}) };
}

/** Run a split proof taking jobs last-in first-out instead of in order. */
function lifo(target: ExploreTarget, options: CellOptions, splitAfter: number): { executions: number; jobs: string[] } {
  const coordinator = new SplitCoordinator(options);
  const stack = coordinator.start();
  const outputs: SubtreeOutput[] = [];
  while (stack.length > 0) {
    const output = exploreSubtree(target, options, stack.pop()!, splitAfter);
    outputs.push(output);
    stack.push(...coordinator.accept(output));
  }
  return { executions: outputs.reduce((n, o) => n + o.result.executions, 0), jobs: coordinator.ordered().map((o) => o.prefix.join(",")) };
}

describe("split dpor is sound against naive enumeration", () => {
  for (const make of SMALL_FIXTURES) {
    for (const splitAfter of [1, 2, 5]) {
      it(`${make.name}, split after ${splitAfter}`, () => {
        const expected = naiveStates(make());
        const fixture = make();
        const states = new Set<string>();
        const { result, outputs } = exploreSplit(watched(fixture, states), EXHAUSTIVE, splitAfter);
        expect([...states].sort()).toEqual([...expected].sort());
        expect(result.dpor!.complete).toBe(true);
        expect(result.executions).toBe(outputs.reduce((n, o) => n + o.result.executions, 0));
      });
    }
  }
});

describe("split dpor runs", () => {
  it("is the single-process run, byte for byte, when the tree is smaller than the split size", () => {
    const { timing: _t, ...single } = explore(counter(3, 2, "fixed"), EXHAUSTIVE);
    const { result, outputs } = exploreSplit(counter(3, 2, "fixed"), EXHAUSTIVE, 1_000);
    expect(outputs).toHaveLength(1);
    expect(result).toEqual(single);
  });

  it("proves counter(3,3) fixed complete over many jobs, whatever order the results come in", () => {
    const single = explore(counter(3, 3, "fixed"), EXHAUSTIVE);
    const { result, outputs } = exploreSplit(counter(3, 3, "fixed"), EXHAUSTIVE, 100);
    expect(single.executions).toBe(1_680);
    expect(outputs.length).toBeGreaterThan(5);
    expect(result.verdict).toBe("holds");
    expect(result.dpor!.complete).toBe(true);
    expect(result.executions).toBeGreaterThanOrEqual(single.executions);
    const reordered = lifo(counter(3, 3, "fixed"), EXHAUSTIVE, 100);
    expect(reordered.executions).toBe(result.executions);
    expect(reordered.jobs).toEqual(outputs.map((o) => o.prefix.join(",")));
  });

  it("finds the same failures as one process on the buggy counter", () => {
    const single = explore(counter(2, 3, "buggy"), EXHAUSTIVE);
    const { result } = exploreSplit(counter(2, 3, "buggy"), EXHAUSTIVE, 3);
    expect(result.verdict).toBe("fails");
    expect(result.failures.map((f) => f.signature).sort()).toEqual(single.failures.map((f) => f.signature).sort());
    expect(result.dpor!.complete).toBe(true);
  });

  it("is not complete when the preemption bound cut a subtree", () => {
    const { result } = exploreSplit(counter(2, 2, "buggy"), { ...EXHAUSTIVE, strategy: { kind: "dpor", preemptionBound: 0 } }, 1);
    expect(result.dpor!.complete).toBe(false);
    expect(result.dpor!.boundedComplete).toBe(true);
  });

  it("stops making jobs at the first failure, and is then not complete", () => {
    const { result } = exploreSplit(counter(2, 3, "buggy"), { strategy: { kind: "dpor" }, shrink: false }, 2);
    expect(result.verdict).toBe("fails");
    expect(result.stopReason).toBe("first-failure");
    expect(result.dpor!.complete).toBe(false);
  });
});
