// Set-up once: every catalog scenario, on every headline kernel, gives the same
// executions when each starts from the set-up's snapshot as when each re-runs the
// set-up: trace hash, recorded events, status and verdict, over a fixed set of schedules.
import { describe, expect, it } from "vitest";
import { executionConfig, executionSeed, RandomPlan, runExecution } from "@foliosim/explore";
import { CATALOG } from "./catalog/index.js";
import { headlineKernels } from "./kernels.js";
import { scenarioTarget, summarize } from "./runner.js";

/** The first execution runs its own set-up; the others start from the snapshot. */
const SEEDS = [0, 1, 2, 3];

describe("set-up once", () => {
  const cells = CATALOG.flatMap((s) => headlineKernels().map((k) => [s.id, k, s] as const));
  it.each(cells)("%s on %s: the same executions as re-running the set-up", (_id, kernel, s) => {
    const once = scenarioTarget(s, kernel);
    const rerun = scenarioTarget(s, kernel, {}, [], { setupOnce: false });
    const config = executionConfig(once, { maxSteps: 60_000 });
    for (const seed of SEEDS) {
      const a = runExecution(once, config, new RandomPlan(executionSeed(11, seed))).result!;
      const b = runExecution(rerun, config, new RandomPlan(executionSeed(11, seed))).result!;
      expect(a.traceHash).toBe(b.traceHash);
      expect(a.trace).toEqual(b.trace);
      expect(a.status).toBe(b.status);
      const { calls: ca, ...va } = summarize(once, a, s);
      const { calls: cb, ...vb } = summarize(rerun, b, s);
      expect(va).toEqual(vb);
      expect(ca).toEqual(cb);
    }
    expect(once.setupSnapshot()).toBe("snapshot");
  });
});
