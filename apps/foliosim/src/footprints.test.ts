/**
 * Footprint checking over every example file (examples/ and examples/selftests/): under
 * a seeded random schedule on a headline kernel, no step of any scenario reads or writes
 * shared state beyond its footprint (@foliosim/sim footprint-check.ts), so a DPOR proof
 * of these files rests on footprints that say what each step touches.
 */

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { headlineKernels, runScenario } from "@foliosim/scenarios";
import { footprintViolations, resetFootprintViolations, SeededChooser, setFootprintCheck } from "@foliosim/sim";
import { EXAMPLES_DIR } from "./catalog.js";
import { loadScenarioFile } from "./scenario-files.js";

const SELFTESTS = join(EXAMPLES_DIR, "selftests");
const files = [...readdirSync(EXAMPLES_DIR).map((f) => join(EXAMPLES_DIR, f)), ...readdirSync(SELFTESTS).map((f) => join(SELFTESTS, f))].filter((f) => /\.(ya?ml|json)$/.test(f)).sort();

it("every example file, each on one headline kernel in turn: no access beyond a step's footprint", () => {
  setFootprintCheck(true);
  resetFootprintViolations();
  try {
    const kernels = headlineKernels();
    files.forEach((file, i) => {
      const { scenario, kernels: own } = loadScenarioFile(file);
      const kernel = own.length > 0 ? own[i % own.length] : kernels[i % kernels.length];
      runScenario(scenario, kernel, new SeededChooser(i + 1));
    });
    expect(files.length).toBeGreaterThanOrEqual(14);
    expect(footprintViolations()).toEqual([]);
  } finally {
    setFootprintCheck(false);
  }
});
