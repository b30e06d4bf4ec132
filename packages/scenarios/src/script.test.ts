import { describe, expect, it } from "vitest";
import { SeededChooser } from "@foliosim/sim";
import { call, defineScenario, runScenario, ScenarioValidationError, type ScenarioInput } from "./index.js";

const base: Omit<ScenarioInput, "tasks"> = {
  id: "script",
  title: "script control and observables",
  description: "a test scenario",
  source: { seeds: [] },
  machine: { cpus: 2 },
  promise: { summary: "as written" },
};

function run(s: Omit<ScenarioInput, "id" | "title" | "description" | "source" | "machine" | "promise"> & Partial<ScenarioInput>, kernel = "linux-7.0") {
  return runScenario(defineScenario({ ...base, ...s } as ScenarioInput), kernel, new SeededChooser(1));
}

describe("script control", () => {
  it("repeat checks every result, not only the last", () => {
    const r = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" }), call("touch", { addr: "$buf", write: true })],
      tasks: [{ name: "a", cpu: 0, script: [call("pin_user_pages", { addr: "$buf", keep: true }, { repeat: 2, as: "p", expect: { field: "ret", equals: 1 } }), call("unpin_user_pages", { pins: "$p.handle" })] }],
    });
    // The first kept pin is never released: the leak check names it, and both runs returned 1.
    expect(r.calls[2].broken).toEqual([]);
    expect(r.failure?.message).toMatch(/_refcount|pin/);
  });

  it("until: runs the call again until the result meets it, at most max times; never met breaks the promise", () => {
    const ok = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [{ name: "a", cpu: 0, script: [call("folio_state", { addr: "$buf" }, { until: { field: "present", equals: true }, max: 3 })] }],
    });
    expect(ok.verdict).toBe("fails");
    expect(ok.failure?.message).toBe("a: folio_state until condition still unmet after max 3 runs");
    const met = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [
        { name: "a", cpu: 0, script: [call("folio_state", { addr: "$buf" }, { until: { field: "present", equals: true }, max: 100 })] },
        { name: "b", cpu: 1, script: [call("touch", { addr: "$buf", write: true })] },
      ],
    });
    expect(met.verdict).toBe("holds");
  });

  it("every errno the model returns has a name; an unknown name is a validation error", () => {
    expect(() => defineScenario({ ...base, tasks: [{ name: "a", cpu: 0, script: [call("usleep", { us: 1 }, { expect: { errno: "ENOPE" as "ENOENT" } })] }] })).toThrow(ScenarioValidationError);
    const r = run({ tasks: [{ name: "a", cpu: 0, script: [call("get_user_pages", { addr: 0x1000 }, { expect: { field: "ret", errno: "EFAULT" } })] }] });
    expect(r.verdict).toBe("holds");
  });
});

describe("observables and final checks", () => {
  it("folio_state reads refcount, pincount, flags and the per-CPU batch holding the folio", () => {
    const r = run({
      setup: [call("mmap", { pages: 2 }, { as: "buf" }), call("touch", { addr: "$buf+1", write: true })],
      tasks: [
        {
          name: "a",
          cpu: 0,
          script: [
            call("folio_state", { addr: "$buf", page: 1 }, { as: "before" }),
            call("pin_user_pages", { addr: "$buf+1", flags: ["FOLL_WRITE"], keep: true }, { as: "pin" }),
            call("folio_state", { addr: "$buf+1" }, { as: "pinned", expect: [{ field: "pincount", equals: 1 }, { field: "folio_maybe_dma_pinned", equals: true }] }),
            call("unpin_user_pages", { pins: "$pin.handle" }),
          ],
        },
      ],
      check: [
        call("folio_state", { addr: "$buf+1" }, { expect: [{ field: "pincount", equals: 0 }, { field: "_refcount", equals: 2 }, { field: "mapcount", equals: 1 }, { field: "PG_lru", equals: false }, { field: "batch", equals: "cpu0 lru_add" }] }),
        call("folio_state", { addr: "$buf" }, { expect: { field: "present", equals: false } }),
        call("vma_state", { addr: "$buf" }, { expect: [{ field: "VM_WRITE", equals: true }, { field: "VM_LOCKED", equals: false }, { field: "pages", equals: 2 }] }),
        call("residency", { addr: "$buf", pages: 2 }, { expect: { equals: 1 } }),
        call("metric", { name: "nr_foll_pin_acquired" }, { expect: { equals: 1 } }),
        call("metric", { name: "lru_add_drain_all" }, { expect: { atMost: 0 } }),
        call("folio_state", { addr: "$buf+1" }, { expect: { field: "pfn", equals: "$pin.pfns.0" } }),
      ],
    });
    const before = r.calls.find((c) => c.as === "before")!.result as Record<string, unknown>;
    expect(before).toMatchObject({ present: true, _refcount: 2, pincount: 0, mapcount: 1, PG_lru: false, batch: "cpu0 lru_add", anon: true, zone: "Normal", node: 0 });
    expect(r.calls.filter((c) => c.task === "check").map((c) => c.broken)).toEqual([[], [], [], [], [], [], []]);
    expect(r.verdict).toBe("holds");
  });

  it("a final check that does not hold breaks the promise, naming the check", () => {
    const r = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [{ name: "a", cpu: 0, script: [call("touch", { addr: "$buf", write: true }), call("lru_add_drain_all")] }],
      check: [call("metric", { name: "lru_add_drain_all" }, { expect: { equals: 0 } }), call("folio_state", { addr: "$buf" }, { expect: { field: "PG_lru", notEquals: false } })],
    });
    expect(r.failure).toEqual({ kind: "promise", message: "check: metric returned 1; expected 0" });
    expect(r.calls.at(-1)!.broken).toEqual([]);
  });
});

describe("addresses and held pages", () => {
  it("$name+N and page: address the same page; get_user_pages takes FOLL_GET references kept across steps", () => {
    const r = run({
      setup: [call("mmap", { pages: 4 }, { as: "buf" }), call("user_write", { addr: "$buf", page: 2, value: "v1" })],
      tasks: [
        {
          name: "a",
          cpu: 0,
          script: [
            call("get_user_pages", { addr: "$buf+2", keep: true }, { as: "g", expect: { field: "ret", equals: 1 } }),
            call("folio_state", { addr: "$buf", page: 2 }, { expect: [{ field: "_refcount", equals: 3 }, { field: "pincount", equals: 0 }, { field: "value", equals: "v1" }] }),
            call("read_pinned", { pins: "$g.handle" }, { expect: { equals: "v1" } }),
            call("put_user_pages", { refs: "$g.handle" }),
            call("get_user_pages", { addr: "$buf", flags: ["FOLL_LONGTERM"] }, { expect: { field: "ret", errno: "EINVAL" } }),
          ],
        },
      ],
    });
    expect(r.calls.map((c) => c.broken)).toEqual([[], [], [], [], [], [], []]);
    expect(r.verdict).toBe("holds");
  });

  it("pin_user_pages_fast pins through the lockless walk and falls back to the slow path for unpopulated pages", () => {
    const r = run({
      setup: [call("mmap", { pages: 2 }, { as: "buf" }), call("touch", { addr: "$buf", write: true })],
      tasks: [{ name: "a", cpu: 0, script: [call("pin_user_pages_fast", { addr: "$buf", pages: 2, flags: ["FOLL_WRITE"] }, { expect: { field: "ret", equals: 2 } })] }],
      check: [call("residency", { addr: "$buf", pages: 2 }, { expect: { equals: 2 } }), call("metric", { name: "nr_foll_pin_released" }, { expect: { equals: 2 } })],
    });
    expect(r.verdict).toBe("holds");
  });

  it("releasing pins under a handle nothing kept ends the run as a scenario error, not a kernel invariant", () => {
    const r = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [{ name: "a", cpu: 0, script: [call("unpin_user_pages", { pins: "pins9" })] }],
    });
    expect(r.failure?.kind).toBe("scenario");
    expect(r.failure?.message).toMatch(/no pins kept under "pins9"/);
    expect(r.failure?.step).toBe("tasks.0.script.0");
  });

  it("munmap of a range twice returns 0 both times (do_vmi_munmap finds no vma the second time)", () => {
    const r = run({
      setup: [call("mmap", { pages: 2 }, { as: "buf" })],
      tasks: [{ name: "a", cpu: 0, script: [call("munmap", { addr: "$buf", pages: 2 }, { expect: { equals: 0 } }), call("munmap", { addr: "$buf", pages: 2 }, { expect: { equals: 0 } })] }],
    });
    expect(r.failure).toBeNull();
    expect(r.calls.map((c) => [c.call, c.result])).toEqual([["mmap", expect.any(Number)], ["munmap", 0], ["munmap", 0]]);
  });

  it("touching an unmapped range is the scenario's error (SIGSEGV), naming the step, not a kernel invariant", () => {
    const r = run({
      setup: [call("mmap", { pages: 1 }, { as: "buf" })],
      tasks: [{ name: "a", cpu: 0, script: [call("munmap", { addr: "$buf", pages: 1 }), call("touch", { addr: "$buf", write: true })] }],
    });
    expect(r.status).toBe("invariant");
    expect(r.verdict).toBe("fails");
    expect(r.failure).toEqual({ kind: "scenario", step: "tasks.0.script.1", message: expect.stringMatching(/^tasks\.0\.script\.1 \(touch\): touch: p0 address 0x[0-9a-f]+: SIGSEGV: no vma maps this address$/) });
  });

  it("madvise(MADV_DONTNEED) zaps the page: a later read faults in a fresh one; a VM_LOCKED range is -EINVAL", () => {
    const r = run({
      setup: [call("mmap", { pages: 2 }, { as: "buf" }), call("user_write", { addr: "$buf", value: "v" }), call("mmap", { pages: 1, locked: true }, { as: "locked" })],
      tasks: [
        {
          name: "a",
          cpu: 0,
          script: [
            call("madvise", { addr: "$buf", pages: 2 }, { expect: { equals: 0 } }),
            call("residency", { addr: "$buf", pages: 2 }, { expect: { equals: 0 } }),
            call("user_read", { addr: "$buf" }, { expect: { equals: 0 } }),
            call("madvise", { addr: "$locked", pages: 1 }, { expect: { errno: "EINVAL" } }),
            call("madvise", { addr: "$locked+1", pages: 2 }, { expect: { errno: "ENOMEM" } }),
          ],
        },
      ],
    });
    expect(r.calls.map((c) => c.broken)).toEqual([[], [], [], [], [], [], [], []]);
    expect(r.verdict).toBe("holds");
  });
});
