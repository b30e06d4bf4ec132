import { describe, expect, it } from "vitest";
import { SeededChooser } from "@foliosim/sim";
import { call, defineScenario, runScenario, ScenarioValidationError, type ScenarioInput } from "./index.js";
import { scenarioTarget } from "./runner.js";
import { explore } from "@foliosim/explore";

const base: Omit<ScenarioInput, "tasks"> = {
  id: "cross",
  title: "cross-task bindings",
  description: "a test scenario",
  source: { seeds: [] },
  machine: { cpus: 2 },
  promise: { summary: "as written" },
};

const pinAndRead: ScenarioInput = {
  ...base,
  setup: [call("mmap", { pages: 1 }, { as: "buf" }), call("user_write", { addr: "$buf", value: "v" })],
  tasks: [
    { name: "pinner", cpu: 0, script: [call("pin_user_pages", { addr: "$buf", keep: true }, { as: "pin", expect: { field: "ret", equals: 1 } }), call("user_write", { addr: "$buf", value: "w" })] },
    {
      name: "device",
      cpu: 1,
      script: [call("read_pinned", { pins: "$pin.handle" }, { expect: { oneOf: ["v", "w"] } }), call("folio_state", { addr: "$buf" }, { expect: { field: "pfn", equals: "$pin.pfns.0" } }), call("unpin_user_pages", { pins: "$pin.handle" })],
    },
  ],
};

describe("cross-task bindings", () => {
  it("a task reads what another bound: it waits for the binding, in every schedule", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = runScenario(defineScenario(pinAndRead), "linux-7.0", new SeededChooser(seed));
      expect({ seed, verdict: r.verdict, failure: r.failure }).toEqual({ seed, verdict: "holds", failure: null });
    }
    const t = scenarioTarget(defineScenario(pinAndRead), "linux-7.0");
    const e = explore(t, { strategy: { kind: "dpor" }, maxExecutions: 500, stopAtFirstFailure: true, shrink: false });
    expect(e.failures).toEqual([]);
    // The device's read races with the pinner's later write (both values are seen), never with the pin.
    expect(e.executions).toBeGreaterThan(1);
    expect(e.dpor?.complete).toBe(true);
  });

  it("validation: a name two other tasks bind is ambiguous; waits in a cycle never end", () => {
    const two: ScenarioInput = { ...pinAndRead, tasks: [...pinAndRead.tasks, { name: "other", cpu: 1, script: [call("folio_state", { addr: "$buf" }, { as: "pin" })] }] };
    expect(() => defineScenario(two)).toThrow(ScenarioValidationError);
    expect(() => defineScenario(two)).toThrow(/"\$pin" is bound by more than one task/);
    const cycle: ScenarioInput = {
      ...base,
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [
        { name: "a", cpu: 0, script: [call("folio_state", { addr: "$y" }), call("folio_state", { addr: "$buf" }, { as: "x" })] },
        { name: "b", cpu: 1, script: [call("folio_state", { addr: "$x.pfn" }), call("mmap", { pages: 1 }, { as: "y" })] },
      ],
    };
    expect(() => defineScenario(cycle)).toThrow(/tasks\.\d\.script\.0: waits for "\$[xy]", and the tasks wait for each other's bindings in a cycle/);
  });
});
