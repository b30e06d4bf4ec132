/**
 * The kernel's selftests as scenario files (examples/selftests/): each validates and
 * runs on each of its kernels with the verdict it is expected to have.
 */

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runScenario } from "@foliosim/scenarios";
import { SeededChooser } from "@foliosim/sim";
import { loadScenarioFile } from "./scenario-files.js";

const DIR = fileURLToPath(new URL("../examples/selftests/", import.meta.url));

/** file → kernel → expected verdict (every file lists its kernels under kernels:). */
const EXPECTED: Record<string, Record<string, "holds" | "fails">> = {
  "gup_longterm.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "gup_test.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "mlock2-tests.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "hmm-tests.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "hmm-exclusive.yaml": { "linux-6.10": "holds", "linux-6.11": "holds", "linux-6.17": "holds", "linux-7.0": "holds", "linux-7.3": "holds" },
  "migration.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "rmap.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "cow.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
  "mremap_dontunmap.yaml": { "linux-6.11": "holds", "linux-7.0": "holds" },
};

describe("examples/selftests/", () => {
  it("has a file per selftest family written so far, and a verdict for each", () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [file, verdicts] of Object.entries(EXPECTED)) {
    it(`${file} validates and runs to its expected verdict on its kernels`, () => {
      const loaded = loadScenarioFile(DIR + file);
      expect(loaded.kernels).toEqual(Object.keys(verdicts));
      for (const [kernel, verdict] of Object.entries(verdicts)) {
        for (const seed of [1, 2, 3]) {
          const r = runScenario(loaded.scenario, kernel, new SeededChooser(seed));
          expect({ kernel, seed, verdict: r.verdict, failure: r.failure }).toEqual({ kernel, seed, verdict, failure: verdict === "holds" ? null : expect.anything() });
        }
      }
    });
  }
});
