import { describe, expect, it } from "vitest";
import { SeededChooser } from "@foliosim/sim";
import { call, defineScenario, MAX_CALL_PAGES, MAX_DEVICE_PAGES, runScenario, ScenarioValidationError } from "./index.js";

const base = {
  id: "sleepers",
  title: "two sleepers",
  description: "a test scenario",
  source: { seeds: [] },
  params: { us: { default: 5, description: "sleep length" } },
  machine: { cpus: 2 },
  promise: { summary: "both sleep" },
};

describe("scenario runner", () => {
  it("runs set-up and tasks, records call results, checks expectations and metrics", () => {
    const s = defineScenario({
      ...base,
      setup: [call("usleep", { us: 1 }, { as: "first" })],
      tasks: [
        { name: "a", cpu: 0, script: [call("usleep", { us: "${us}" }, { as: "r", expect: { equals: 0 } })] },
        { name: "b", cpu: 1, script: [call("ndelay", { ns: 100 }, { repeat: 3, expect: { equals: 1 } })] },
      ],
    });
    const r = runScenario(s, "linux-7.0", new SeededChooser(1), { us: 7 });
    expect(r.status).toBe("done");
    expect(r.params).toEqual({ us: 7 });
    expect(r.calls.map((c) => [c.task, c.call, c.result])).toEqual([
      ["setup0", "usleep", 0],
      ["b", "ndelay", 0],
      ["a", "usleep", 0],
    ]);
    expect(r.verdict).toBe("fails");
    expect(r.failure).toEqual({ kind: "promise", message: "b: ndelay returned 0; expected 1 (run 1 of 3)" });
    expect(Object.keys(r.metrics)).toEqual([
      "lru_add_drain", "lru_add_drain_all", "ipi_broadcast", "rcu_gp", "rcu_expedited_gp", "static_key_patch", "migrate_retry", "context_switch", "virtual_ns",
    ]);
    expect(r.metrics.virtual_ns).toBeGreaterThan(7000);
  });

  it("a page count is within MAX_CALL_PAGES, for every ${param} value, and never an address (an address read as a count sized an array of billions)", () => {
    const issuesOf = (pages: unknown, params: Record<string, unknown> = {}): unknown => {
      try {
        defineScenario({ ...base, params: { ...base.params, ...params }, setup: [call("mmap", { pages: 1 }, { as: "buf" }), call("vma_state", { addr: "$buf" }, { as: "vma" })], tasks: [{ name: "a", cpu: 0, script: [call("pin_user_pages", { addr: "$buf", pages })] }] });
      } catch (e) {
        return (e as ScenarioValidationError).issues;
      }
      return [];
    };
    expect(issuesOf(1)).toEqual([]);
    expect(issuesOf(MAX_CALL_PAGES)).toEqual([]);
    for (const address of ["$buf", "$buf+1", "$vma.start"]) {
      expect(issuesOf(address)).toEqual([{ path: "tasks.0.script.0.args.pages", message: `expected a page count from 1 to 65536, found "${address}" (a string), which is an address (an address read as a count is billions of pages)` }]);
    }
    // A count from an earlier result is checked when the step runs.
    expect(issuesOf("$vma.pages")).toEqual([]);
    expect(issuesOf(MAX_CALL_PAGES + 1)).toEqual([{ path: "tasks.0.script.0.args.pages", message: "expected at most 65536, found 65537 (a number)" }]);
    expect(issuesOf("${n}", { n: { default: 2, description: "pages", values: [500_000_000] } })).toEqual([
      { path: "tasks.0.script.0.args.pages", message: "expected at most 65536, found 500000000 (a number) (when ${n} is 500000000)" },
    ]);
  });

  it("the dmirror devices' memory together is at most MAX_DEVICE_PAGES, repeats and ${param} values at their largest (a repeated 65,536-page device ran out of heap)", () => {
    const issuesOf = (steps: ReturnType<typeof call>[], params: Record<string, unknown> = {}): unknown => {
      try {
        defineScenario({ ...base, params: { ...base.params, ...params }, setup: steps, tasks: [{ name: "a", cpu: 0, script: [call("usleep", { us: 1 })] }] });
      } catch (e) {
        return (e as ScenarioValidationError).issues;
      }
      return [];
    };
    expect(MAX_DEVICE_PAGES).toBe(262_144);
    expect(issuesOf([call("dmirror_create", { name: "d0", pages: 65_536 }, { repeat: 4 })])).toEqual([]);
    expect(issuesOf([call("dmirror_create", { name: "d0", pages: 65_536 }, { repeat: 1000 })])).toEqual([
      { path: "setup.0", message: "at most 262144 pages of dmirror device memory in all (a device allocates its pages when created), found 65536000 by this step (65536 pages × 1000 runs)" },
    ]);
    expect(issuesOf([call("dmirror_create", { name: "d0", pages: 65_536 }), call("dmirror_create", { name: "d1", pages: "${n}" }, { repeat: 4 })], { n: { default: 1, description: "pages", values: [60_000] } })).toEqual([
      { path: "setup.1", message: "at most 262144 pages of dmirror device memory in all (a device allocates its pages when created), found 305536 by this step (60000 pages × 4 runs)" },
    ]);
  });

  it("validation names the path, suggests the closest call, and catches unbound references", () => {
    let err: ScenarioValidationError | undefined;
    try {
      defineScenario({ ...base, tasks: [{ name: "a", cpu: 3, script: [call("usleeep", { us: "$nope" }), call("usleep", { usec: 1 })] }] });
    } catch (e) {
      err = e as ScenarioValidationError;
    }
    expect(err).toBeInstanceOf(ScenarioValidationError);
    expect(err!.issues).toEqual([
      { path: "tasks.0.cpu", message: "CPU 3 does not exist: the machine has 2 CPUs" },
      { path: "tasks.0.script.0.call", message: 'unknown call "usleeep" (did you mean "usleep"?)' },
      { path: "tasks.0.script.0.args.us", message: '"$nope" is not bound by an earlier step' },
      { path: "tasks.0.script.1.args.usec", message: 'usleep has no argument "usec" (did you mean "us"?); its arguments: us' },
      { path: "tasks.0.script.1.args.us", message: 'usleep needs argument "us" (number)' },
    ]);
  });
});
