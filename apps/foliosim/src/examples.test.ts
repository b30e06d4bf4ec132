import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { exampleFiles } from "./catalog.js";
import { runCommand } from "./commands/run.js";
import { loadScenarioFile } from "./scenario-files.js";

describe("examples/", () => {
  for (const file of exampleFiles()) {
    it(`${basename(file)} validates and runs on each of its kernels`, () => {
      const loaded = loadScenarioFile(file);
      for (const kernel of loaded.kernels) {
        const out = runCommand({ scenario: file, kernel, seed: 1 });
        expect(out.report.scenario).toBe(loaded.scenario.id);
        expect(["done", "deadlock", "livelock", "step-limit", "time-limit", "invariant"]).toContain(out.report.status);
        expect(out.report.calls.length).toBeGreaterThan(0);
        expect(out.trace.events.length).toBeGreaterThan(0);
      }
    });
  }
});
