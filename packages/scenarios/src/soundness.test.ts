// A proof must be a proof: a DPOR run that reports `complete` has explored every
// schedule class the model allows, so whatever random or PCT finds, it finds too.
import { describe, expect, it } from "vitest";
import { explore } from "@foliosim/explore";
import { call, defineScenario } from "./builder.js";
import { scenarioTarget } from "./index.js";

/**
 * Two longterm pinners of one anonymous CMA folio on gup-count-isolated. One pinner
 * isolates the folio for migration; the other, holding a reference taken before the
 * migration entry was installed, finds it off the LRU, counts it as isolated and
 * returns an unpinnable folio. Before the fix DPOR reported "holds after 8
 * executions (complete)": it reversed the page-table-lock race against the unlock,
 * which the waiting pinner can never overtake, instead of against the lock.
 */
const twoPinners = defineScenario({
  id: "two-pinners",
  title: "Two longterm pinners of one anonymous CMA folio",
  description: "CPU0 and CPU1 pin the same anonymous CMA folio FOLL_LONGTERM at the same time.",
  source: { seeds: [], note: "DPOR soundness regression" },
  machine: { cpus: 2, memory: { CMA: 8, Normal: 64 } },
  setup: [call("mmap", { pages: 1 }, { as: "mem", cpu: 0 }), call("touch", { addr: "$mem", write: true }, { cpu: 0 }), call("lru_add_drain", {}, { cpu: 0 })],
  tasks: ["p0", "p1"].map((name, cpu) => ({
    name,
    cpu,
    script: [call("pin_user_pages", { addr: "$mem", pages: 1, flags: ["FOLL_LONGTERM"], hold_ns: 5000 }, { expect: [{ field: "longtermPinnable", equals: true }] })],
  })),
  promise: { summary: "a pin that returns pages returns longterm-pinnable ones" },
});

describe("DPOR soundness", () => {
  it("finds the isolated-folio race of two pinners on gup-count-isolated that random finds at once", () => {
    const target = scenarioTarget(twoPinners, "gup-count-isolated");
    const random = explore(target, { strategy: { kind: "random", seed: 1 }, maxExecutions: 5, stopAtFirstFailure: true, shrink: false });
    expect(random.verdict).toBe("fails");
    const dpor = explore(target, { strategy: { kind: "dpor" }, maxExecutions: 2_000, stopAtFirstFailure: true, shrink: false });
    expect(dpor.verdict).toBe("fails");
    expect(dpor.failures[0].kind).toBe("promise");
    expect(dpor.failures[0].message).toContain("longtermPinnable returned false");
  });
});
