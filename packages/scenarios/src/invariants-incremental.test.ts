// The memory model's invariants are checked incrementally after each step (only the
// folios the step's writes reach). Here the incremental check is run beside the full
// one: over the catalog on every kernel they agree at every step, and with kernel
// variants that break an invariant in different ways the incremental check reports
// the same failure at the same step.
import { afterAll, describe, expect, it } from "vitest";
import { Dpor, executionConfig, executionSeed, RandomPlan, runExecution } from "@foliosim/explore";
import { PG, type Folio } from "@foliosim/folio";
import { getLru } from "@foliosim/lru";
import { allMms, MAP_HOLDER } from "@foliosim/mm";
import { clearRegisteredVariants, currentMachine, defineVariant, op, registerVariant, type Machine, type Shared, type TaskGen } from "@foliosim/sim";
import { CATALOG } from "./catalog/index.js";
import { headlineKernels, KERNEL_PRESETS } from "./kernels.js";
import { scenarioTarget } from "./runner.js";
import { setInvariantChecking, type InvariantChecking } from "./world-memory.js";

function withChecking<T>(mode: InvariantChecking, f: () => T): T {
  const was = setInvariantChecking(mode);
  try {
    return f();
  } finally {
    setInvariantChecking(was);
  }
}

describe("incremental invariants agree with the full check at every step", () => {
  // "both" throws at the first step where the two disagree.
  it.each(CATALOG.map((s) => [s.id, s] as const))("%s, every kernel preset, random schedules", (_id, s) => {
    withChecking("both", () => {
      for (const k of KERNEL_PRESETS) {
        const target = scenarioTarget(s, k.id, {}, [], { setupOnce: false });
        const config = { ...executionConfig(target, { maxSteps: 3_000 }), trace: false };
        const seeds = k.headline ? [0, 1] : [0];
        for (const seed of seeds) runExecution(target, config, new RandomPlan(executionSeed(17, seed)));
      }
    });
  });

  // From the set-up's snapshot, which copies what the incremental check keeps.
  it.each(CATALOG.map((s) => [s.id, s] as const))("%s, headline kernels, DPOR's first executions", (_id, s) => {
    withChecking("both", () => {
      for (const k of headlineKernels()) {
        const target = scenarioTarget(s, k);
        const config = { ...executionConfig(target, { maxSteps: 3_000 }), trace: false };
        const dpor = new Dpor();
        for (let i = 0; i < 4; i++) {
          const plan = dpor.next();
          if (plan === null) break;
          dpor.finish(plan, runExecution(target, config, plan));
        }
      }
    });
  });
});

/** One step writing `writes` that does `run` to the folio being collected: a broken kernel. */
function* corrupt(label: string, writes: (f: Folio, m: Machine) => Shared[], run: (f: Folio, m: Machine) => void, f: Folio): TaskGen<void> {
  const m = currentMachine();
  yield* op({ kind: "test_corruption", label, writes: writes(f, m), run: (mm) => run(f, mm) });
}

/** The page-table entry mapping `f`, if any. */
function slotOf(m: Machine, f: Folio) {
  for (const mm of allMms(m)) for (const slot of mm.ptes.values()) if (slot.pte.kind !== "none" && slot.pte.kind !== "migration" && slot.pte.folio === f) return slot;
  return undefined;
}

/** Collect-hook variants, each breaking one invariant of the folio GUP is about to isolate (after a step of its own). */
const BUGS = {
  "bug-refcount": (f: Folio) => corrupt("leak a reference", (x) => [x.ref], (x) => void x.refcount++, f),
  "bug-clear-lru": (f: Folio) => corrupt("clear PG_lru on the list", (x) => [x.flagsWord], (x) => x.clearBits(PG.lru), f),
  "bug-batch-slot": (f: Folio) =>
    corrupt(
      "queue without a reference",
      (_x, m) => [getLru(m).cpuFbatches.get(1).batches.lru_deactivate],
      (x, m) => {
        const b = getLru(m).cpuFbatches.get(1).batches.lru_deactivate;
        b.folios.push(x);
        m.markWrite(b);
      },
      f,
    ),
  "bug-mapcount": (f: Folio) =>
    corrupt(
      "map without a page table",
      (x) => [x.map, x.ref],
      (x) => {
        x.mapcount++;
        x.refcount++;
        x.addHolder(MAP_HOLDER, 1);
      },
      f,
    ),
  "bug-drop-pte": (f: Folio) =>
    corrupt(
      "drop the page-table entry",
      (x, m) => {
        const slot = slotOf(m, x);
        return slot ? [slot] : [];
      },
      (x, m) => {
        const slot = slotOf(m, x);
        if (slot) {
          slot.pte = { kind: "none" };
          m.markWrite(slot);
        }
      },
      f,
    ),
  "bug-mlock-count": (f: Folio) => corrupt("underflow mlock_count", (x) => [x.flagsWord], (x) => void (x.mlockCount = -1), f),
} as const;

describe("a broken kernel: the incremental check reports the full check's failure at the same step", () => {
  afterAll(() => clearRegisteredVariants());
  for (const [id, bug] of Object.entries(BUGS)) {
    registerVariant(
      defineVariant({
        id,
        point: "collect",
        source: "test: a deliberately broken drain rule",
        hook: {
          *drain(f: Folio) {
            yield* bug(f);
          },
        },
      }),
    );
  }

  it.each(Object.keys(BUGS))("%s", (id) => {
    let failures = 0;
    for (const s of CATALOG) {
      const target = scenarioTarget(s, "linux-7.3", {}, [`collect=${id}`]);
      const config = executionConfig(target, { maxSteps: 3_000 });
      for (const seed of [0, 1, 2]) {
        const run = (mode: InvariantChecking) => withChecking(mode, () => runExecution(target, config, new RandomPlan(executionSeed(5, seed))).result!);
        const full = run("full");
        const incremental = run("incremental");
        expect([incremental.status, incremental.failure, incremental.steps, incremental.traceHash], `${s.id} seed ${seed}`).toEqual([full.status, full.failure, full.steps, full.traceHash]);
        if (full.status === "invariant" && !full.failure!.usage) failures++;
      }
    }
    expect(failures, "scenarios where the broken kernel fails an invariant").toBeGreaterThan(0);
  });
});
