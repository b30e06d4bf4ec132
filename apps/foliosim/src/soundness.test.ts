/**
 * A proof must be a proof, on the files users start from: for every example scenario
 * file (examples/ and examples/selftests/) on every headline kernel, every failure
 * random or PCT finds is found by a DPOR run that reports `complete`. The default suite
 * runs one file; `pnpm test:soundness` (FOLIOSIM_SOUNDNESS=full) runs every cell.
 */

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { differential, differentialSummary } from "@foliosim/explore";
import { headlineKernels, scenarioTarget } from "@foliosim/scenarios";
import { loadScenarioFile } from "./scenario-files.js";

const FULL = process.env.FOLIOSIM_SOUNDNESS === "full";
/** Where DPOR does not complete, a deepening run's proven bound is checked (budgets: FOLIOSIM_SOUNDNESS_DPOR, _DEEPEN). */
const BUDGET = FULL
  ? { seeds: [1, 2, 3], samplerExecutions: 300, dporExecutions: Number(process.env.FOLIOSIM_SOUNDNESS_DPOR ?? 20_000), deepenExecutions: Number(process.env.FOLIOSIM_SOUNDNESS_DEEPEN ?? 3_000) }
  : { seeds: [1], samplerExecutions: 30, dporExecutions: 300, deepenExecutions: 300 };
const DIR = fileURLToPath(new URL("../examples/", import.meta.url));
const FILES = [
  ...readdirSync(DIR).filter((f) => /\.(ya?ml|json)$/.test(f)),
  ...readdirSync(`${DIR}selftests/`).filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => `selftests/${f}`),
].sort();
const CELLS: [string, string][] = FULL ? FILES.flatMap((f) => headlineKernels().map((k): [string, string] => [f, k])) : [["fresh-racing-fault-pin.yaml", "linux-6.10"]];

describe("differential check on the example files", () => {
  it.each(CELLS)("%s on %s", (file, kernel) => {
    const { scenario } = loadScenarioFile(DIR + file);
    const target = scenarioTarget(scenario, kernel);
    const r = differential(target, BUDGET);
    expect(r.missing).toEqual([]);
    if (FULL) console.log(`${file} on ${kernel}: ${differentialSummary(r)}`);
  }, FULL ? 1_800_000 : 120_000);
});
