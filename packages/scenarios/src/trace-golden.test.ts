// Trace-hash goldens: for every catalog scenario on every headline kernel, the runs of a
// fixed set of random schedules are pinned — status, steps, trace hash and recorded
// events — and the same schedules with traces off (as in exploration) must give the
// same hashes. A speed-up of the machine, the layers or their invariant checks leaves
// every file under __golden__ unchanged. A change meant to change traces (a fidelity
// fix, a new catalog entry) updates them deliberately with
// `npx vitest run src/trace-golden.test.ts -u` and says why in its changeset.
import { describe, expect, it } from "vitest";
import { executionConfig, executionSeed, RandomPlan, runExecution } from "@foliosim/explore";
import { CATALOG } from "./catalog/index.js";
import { headlineKernels } from "./kernels.js";
import { scenarioTarget } from "./runner.js";

const SEEDS = [0, 1, 2, 3, 4];

/** FNV-1a of a text, 8 hex digits: the recorded events, pinned without storing them. */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

describe("trace-hash goldens", () => {
  const cells = CATALOG.flatMap((s) => headlineKernels().map((k) => [s.id, k, s] as const));
  it.each(cells)("%s on %s", async (id, kernel, s) => {
    const target = scenarioTarget(s, kernel);
    const traced = executionConfig(target, { maxSteps: 60_000 });
    const lines: string[] = [];
    for (const seed of SEEDS) {
      const plan = () => new RandomPlan(executionSeed(3, seed));
      const r = runExecution(target, traced, plan()).result!;
      const off = runExecution(target, { ...traced, trace: false }, plan()).result!;
      expect([off.status, off.steps, off.traceHash, off.trace.length]).toEqual([r.status, r.steps, r.traceHash, 0]);
      const events = digest(JSON.stringify(r.trace));
      lines.push(`seed ${seed}: ${r.status} after ${r.steps} steps, trace ${r.traceHash}, ${r.trace.length} events (${events})${r.failure ? `, ${r.failure.message}` : ""}`);
    }
    await expect(lines.join("\n") + "\n").toMatchFileSnapshot(`./__golden__/${id}--${kernel}.txt`);
  });
});
