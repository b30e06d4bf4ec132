// A proof must be a proof: a DPOR run that reports `complete` has explored every
// schedule class the model allows, so whatever random or PCT finds, it finds too.
import { describe, expect, it } from "vitest";
import { differential, differentialSummary as summary, explore } from "@foliosim/explore";
import { call, defineScenario } from "./builder.js";
import { CATALOG, headlineKernels, loadTarget, scenarioTarget } from "./index.js";

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
    // Unbounded, the race sits below thousands of deeper alternatives: DPOR must not claim a proof early.
    const unbounded = explore(target, { strategy: { kind: "dpor" }, maxExecutions: 200, stopAtFirstFailure: true, shrink: false });
    expect(unbounded.dpor!.complete).toBe(false);
    expect(unbounded.dpor!.estimatedRemaining).toBeGreaterThan(0);
    // With one preemption the race is a handful of executions away.
    const bounded = explore(target, { strategy: { kind: "dpor", preemptionBound: 1 }, maxExecutions: 200, stopAtFirstFailure: true, shrink: false });
    expect(bounded.verdict).toBe("fails");
    expect(bounded.failures[0].kind).toBe("promise");
    expect(bounded.failures[0].message).toContain("longtermPinnable returned false");
  });
});

/**
 * The differential check over the catalog: for each scenario on each headline kernel,
 * every failure random or PCT finds is found by DPOR whenever DPOR reports complete.
 * The default suite runs a small sample; `pnpm test:soundness` (FOLIOSIM_SOUNDNESS=full)
 * runs every cell with more seeds and bigger budgets.
 */
const FULL = process.env.FOLIOSIM_SOUNDNESS === "full";
/**
 * Budgets: where DPOR does not complete, a deepening run's proven preemption bound is
 * held to the sampled failures within it. FOLIOSIM_SOUNDNESS_DPOR and _DEEPEN override
 * the full run's DPOR and deepening budgets.
 */
const BUDGET = FULL
  ? { seeds: [1, 2, 3], samplerExecutions: 300, dporExecutions: Number(process.env.FOLIOSIM_SOUNDNESS_DPOR ?? 20_000), deepenExecutions: Number(process.env.FOLIOSIM_SOUNDNESS_DEEPEN ?? 3_000) }
  : { seeds: [1], samplerExecutions: 30, dporExecutions: 300, deepenExecutions: 300 };
const SAMPLE: [string, string][] = [
  ["anon-lru-add-batch", "linux-6.10"],
  ["activate-batch", "linux-6.10"],
  ["transient-ref", "linux-7.0"],
  ["unisolatable-folio", "gup-count-isolated"],
  // The concurrent forms: the partner races the pin instead of preceding it.
  ["transient-ref-concurrent", "linux-7.0"],
  ["pkvm-same-cpu-concurrent", "linux-6.10"],
];
const CELLS: [string, string][] = FULL ? CATALOG.flatMap((s) => [...headlineKernels(), "gup-count-isolated"].map((k): [string, string] => [s.id, k])) : SAMPLE;

/**
 * The same under a tight skew bound (1 µs, where virtual time couples the CPUs most:
 * the regime of the catalog's exhaustive proofs), on the newest headline kernel.
 */
const TIGHT: [string, string][] = FULL ? CATALOG.map((s): [string, string] => [s.id, headlineKernels().at(-1)!]) : [["unisolatable-folio", "gup-count-isolated"]];

describe("differential check: what samplers find, a complete DPOR finds", () => {
  it.each(TIGHT)("%s on %s at a 1 us skew", (scenario, kernel) => {
    const s = CATALOG.find((c) => c.id === scenario)!;
    const target = scenarioTarget({ ...s, machine: { ...s.machine, maxSkewNs: 1_000 } }, kernel);
    const r = differential(target, BUDGET);
    expect(r.missing).toEqual([]);
    if (FULL) console.log(`${scenario} on ${kernel} at 1 us: ${summary(r)}`);
  }, FULL ? 1_800_000 : 120_000);

  it.skipIf(FULL)("hmm-drain-livelock on linux-7.3, out of DPOR's reach whole: the bound its deepening run proves", () => {
    const r = differential(loadTarget("hmm-drain-livelock", "linux-7.3"), { seeds: [1], samplerExecutions: 30, dporExecutions: 50, deepenExecutions: 100 });
    expect(r.dpor.complete).toBe(false);
    expect(r.bounded).toMatchObject({ provenBound: 1, complete: false });
    expect(r.missing).toEqual([]);
  }, 120_000);

  it.each(CELLS)("%s on %s", (scenario, kernel) => {
    const r = differential(loadTarget(scenario, kernel), BUDGET);
    expect(r.missing).toEqual([]);
    if (FULL) console.log(`${scenario} on ${kernel}: ${summary(r)}`);
  }, FULL ? 1_800_000 : 120_000);
});

/**
 * The reductions against plain DPOR with sleep sets: honouring commutative updates
 * (`Op.commutes`: the readers of an rwsem) explores fewer executions and must reach the
 * same verdict and the same distinct failures wherever both runs are complete.
 */
const REDUCED: [string, string][] = FULL
  ? CATALOG.flatMap((s) => headlineKernels().map((k): [string, string] => [s.id, k]))
  : [
      ["transient-ref-concurrent", "linux-7.0"],
      ["pkvm-same-cpu-concurrent", "linux-7.3"],
    ];

function distinct(r: ReturnType<typeof explore>): string[] {
  return r.failures.map((f) => f.signature).sort();
}

describe("reductions keep plain DPOR's verdicts", () => {
  it.each(REDUCED)("%s on %s: commutative updates", (scenario, kernel) => {
    const target = loadTarget(scenario, kernel);
    const budget = { maxExecutions: Number(process.env.FOLIOSIM_REDUCED_BUDGET ?? (FULL ? 5_000 : 3_000)), stopAtFirstFailure: false, shrink: false } as const;
    const plain = explore(target, { ...budget, strategy: { kind: "dpor", plain: true } });
    const reduced = explore(target, { ...budget, strategy: { kind: "dpor" } });
    if (FULL) console.log(`${scenario} on ${kernel}: plain ${plain.executions}${plain.dpor!.complete ? "" : "+"}, reduced ${reduced.executions}${reduced.dpor!.complete ? "" : "+"} (${reduced.verdict})`);
    if (plain.dpor!.complete) {
      expect(reduced.dpor!.complete).toBe(true);
      expect(reduced.executions).toBeLessThanOrEqual(plain.executions);
    }
    if (!plain.dpor!.complete || !reduced.dpor!.complete) return;
    expect(reduced.verdict).toBe(plain.verdict);
    expect(distinct(reduced)).toEqual(distinct(plain));
  }, FULL ? 3_600_000 : 120_000);
});
