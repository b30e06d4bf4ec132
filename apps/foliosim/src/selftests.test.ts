/**
 * The kernel's selftests as scenario files (examples/selftests/): each validates and
 * runs on each of its kernels with the verdict it is expected to have.
 */

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { KERNEL_PRESETS, runScenario } from "@foliosim/scenarios";
import { SeededChooser } from "@foliosim/sim";
import { loadScenarioFile } from "./scenario-files.js";

const DIR = fileURLToPath(new URL("../examples/selftests/", import.meta.url));

/** file → kernel → expected verdict (every file lists its kernels under kernels:). */
/** The headline kernels (`compare --all`'s first columns): every selftest file runs on each. */
const HEADLINE = ["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3"];

const holdsEverywhere = () => Object.fromEntries(HEADLINE.map((k) => [k, "holds" as const]));

/** file → kernel → expected verdict (every file lists its kernels under kernels:). */
const EXPECTED: Record<string, Record<string, "holds" | "fails">> = {
  "gup_longterm.yaml": holdsEverywhere(),
  "gup_test.yaml": holdsEverywhere(),
  "mlock2-tests.yaml": holdsEverywhere(),
  "hmm-tests.yaml": holdsEverywhere(),
  "hmm-exclusive.yaml": holdsEverywhere(),
  "migration.yaml": holdsEverywhere(),
  "rmap.yaml": holdsEverywhere(),
  "cow.yaml": holdsEverywhere(),
  "mremap_dontunmap.yaml": holdsEverywhere(),
};

describe("examples/selftests/", () => {
  it("has a file per selftest family written so far, and a verdict for each", () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith(".yaml")).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it("the headline kernels are the presets compare --all shows first", () => {
    expect(KERNEL_PRESETS.filter((p) => p.headline).map((p) => p.id)).toEqual(HEADLINE);
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
