import { describe, expect, it } from "vitest";
import { counter } from "./bench/programs.js";
import { differential } from "./differential.js";

describe("differential check", () => {
  it("holds a complete DPOR run to every sampled failure", () => {
    const r = differential(counter(2, 2, "buggy"), { seeds: [1], samplerExecutions: 50 });
    expect(r.dpor.complete).toBe(true);
    expect(r.sampled.length).toBeGreaterThan(0);
    expect(r.dpor.signatures).toEqual(expect.arrayContaining(r.sampled));
    expect(r.bounded).toBeUndefined();
    expect(r.missing).toEqual([]);
  });

  it("holds a deepening run to the sampled failures within the bound it proved", () => {
    // Unbounded DPOR cannot finish three threads of three increments in 300 executions;
    // deepening proves bound 2 in 2,000.
    const r = differential(counter(3, 3, "buggy"), { seeds: [1], samplerExecutions: 50, dporExecutions: 300, deepenExecutions: 2_000 });
    expect(r.dpor.complete).toBe(false);
    expect(r.bounded).toMatchObject({ provenBound: 2, complete: false, executions: 2_000 });
    const [lost] = r.sampled;
    expect(r.sampled).toEqual([lost]);
    // The lost update needs a single preemption: within the proven bound, so it is checked and found.
    expect(r.fewestPreemptions[lost]).toBe(1);
    expect(r.bounded!.signatures).toContain(lost);
    expect(r.missing).toEqual([]);
  });

  it("holds a deepening run that proved no bound to nothing", () => {
    const r = differential(counter(3, 3, "buggy"), { seeds: [1], samplerExecutions: 50, dporExecutions: 3, deepenExecutions: 3 });
    expect(r.bounded).toMatchObject({ provenBound: -1, complete: false, executions: 3 });
    expect(r.missing).toEqual([]);
  });
});
