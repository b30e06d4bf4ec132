/**
 * The footprints of the user accesses of the scenario calls: what a step reads or writes
 * of the page's contents (kept with the folio's flags word) is in its footprint, or
 * noted while it runs (`Machine.noteRead`), so exploration sees the race.
 */

import { describe, expect, it } from "vitest";
import { footprintViolations, Machine, resetFootprintViolations, SeededChooser, setFootprintCheck } from "@foliosim/sim";
import { CATALOG } from "./catalog/index.js";
import { call, defineScenario } from "./index.js";
import { headlineKernels } from "./kernels.js";
import { runScenario, scenarioTarget } from "./runner.js";

const scenario = defineScenario({
  id: "user-access-footprints",
  title: "a user store and a user load of one page",
  description: "a test scenario",
  source: { seeds: [] },
  machine: { cpus: 2 },
  setup: [call("mmap", { pages: 1 }, { as: "buf" }), call("user_write", { addr: "$buf", value: "a" })],
  tasks: [
    { name: "writer", cpu: 0, script: [call("user_write", { addr: "$buf", value: "b" })] },
    { name: "reader", cpu: 1, script: [call("user_read", { addr: "$buf" }, { expect: { oneOf: ["a", "b"] } })] },
  ],
  promise: { summary: "the load sees one of the two stores" },
});

/** Each step of the tasks, in order: task, label, declared writes, and what it read beyond its footprint. */
function steps(): string[] {
  const target = scenarioTarget(scenario, "linux-7.3", {}, [], { setupOnce: false });
  const m = new Machine(target.config);
  target.program(m);
  const out: string[] = [];
  for (let c = m.candidates(); c.length > 0; c = m.candidates()) {
    const { task, op } = c[0];
    m.step(0);
    const extra = m.undeclaredReads().map((s) => s.name);
    out.push(`${task.name}: ${op.label ?? op.kind} writes [${op.writes.map((s) => s.name).join(", ")}]${extra.length > 0 ? ` noted reads [${extra.join(", ")}]` : ""}`);
  }
  expect(m.result().status).toBe("done");
  return out;
}

describe("user_write and user_read footprints", () => {
  it("copy_to_user writes the folio's flags word, which holds the page's contents", () => {
    expect(steps().filter((s) => s.includes("copy_to_user"))).toEqual([expect.stringMatching(/^writer: copy_to_user writes \[folio 0x[0-9a-f]+ flags\]$/)]);
  });

  it("user_read loads the contents in its access step, which notes a read of the folio's flags word", () => {
    expect(steps().filter((s) => s.startsWith("reader"))).toEqual([expect.stringMatching(/^reader: user_read writes \[\] noted reads \[folio 0x[0-9a-f]+ flags\]$/)]);
  });
});

describe("footprint checking over the catalog (FOLIOSIM_CHECK_FOOTPRINTS)", () => {
  it("every catalog scenario, each on one headline kernel in turn, under a seeded random schedule: no access beyond a step's footprint", () => {
    setFootprintCheck(true);
    resetFootprintViolations();
    try {
      const kernels = headlineKernels();
      const runs = CATALOG.map((s, i) => {
        const r = runScenario(s, kernels[i % kernels.length], new SeededChooser(i + 1));
        return `${s.id} ${r.run.status}`;
      });
      expect(runs.every((r) => !r.endsWith("running"))).toBe(true);
      expect(footprintViolations()).toEqual([]);
    } finally {
      setFootprintCheck(false);
    }
  });
});
