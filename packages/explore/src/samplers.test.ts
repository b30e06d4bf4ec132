// PCT's scheduling points: with `shared` (the default) only shared accesses count, so a
// task's private steps neither spend change points nor inflate k.
import { describe, expect, it } from "vitest";
import { explore } from "./explore.js";
import { runExecution, executionConfig } from "./execution.js";
import { PctCampaign, PctPlan, pctGuarantee } from "./samplers.js";
import { runahead, windowProgram } from "./bench/programs.js";

function firstBug(points: "shared" | "all", seed: number): number {
  const r = explore(windowProgram(64, "buggy"), { strategy: { kind: "pct", seed, depth: 3, points }, maxExecutions: 2_000, shrink: false });
  return r.firstFailure ? r.firstFailure.execution : Infinity;
}

describe("pct scheduling points", () => {
  it("learns which objects are shared: the window's x, not the worker's private counter", () => {
    const target = windowProgram(8, "buggy");
    const campaign = new PctCampaign(3);
    const plan = campaign.plan(1);
    runExecution(target, executionConfig(target, {}), plan);
    campaign.learn(plan);
    expect([...campaign.shared]).toEqual(["x"]);
    // Only the accesses to x, and the checker's read of it, are scheduling points.
    expect(campaign.steps).toBeGreaterThan(0);
    expect(campaign.steps).toBeLessThanOrEqual(3);
  });

  it("counts every choice point with points: all (classic PCT)", () => {
    const result = explore(windowProgram(64, "buggy"), { strategy: { kind: "pct", seed: 1, points: "all" }, maxExecutions: 20, stopAtFirstFailure: false });
    expect(result.pct!.points).toBe("all");
    expect(result.pct!.steps).toBeGreaterThan(64);
    const shared = explore(windowProgram(64, "buggy"), { strategy: { kind: "pct", seed: 1 }, maxExecutions: 20, stopAtFirstFailure: false });
    expect(shared.pct!.points).toBe("shared");
    expect(shared.pct!.steps).toBeLessThanOrEqual(4);
    // A smaller k is a stronger guarantee for the same depth.
    expect(shared.pct!.guarantee).toBe(pctGuarantee(shared.pct!.tasks, shared.pct!.steps, 3));
    expect(shared.pct!.guarantee).toBeGreaterThan(result.pct!.guarantee * 100);
  });

  it("finds B2 window(64) at depth 3 in a few executions where classic PCT needs hundreds", () => {
    const shared = [1, 2, 3, 4, 5].map((seed) => firstBug("shared", seed));
    const all = [1, 2, 3, 4, 5].map((seed) => firstBug("all", seed));
    expect(Math.max(...shared)).toBeLessThanOrEqual(40);
    expect(all.reduce((a, b) => a + b, 0)).toBeGreaterThan(5 * shared.reduce((a, b) => a + b, 0));
  });

  it("still finds a depth-1 bug (B1 runahead) at once", () => {
    const r = explore(runahead(24, "buggy"), { strategy: { kind: "pct", seed: 1 }, maxExecutions: 50, shrink: false });
    expect(r.verdict).toBe("fails");
    expect(r.firstFailure!.execution).toBeLessThanOrEqual(5);
  });

  it("observes forced steps too: a plan is asked at every step", () => {
    expect(new PctPlan(1, { depth: 3, steps: 0 }).everyStep).toBe(true);
  });
});
