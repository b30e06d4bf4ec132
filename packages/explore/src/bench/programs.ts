/**
 * The four peer programs of the benchmark, written on the simulated machine with one
 * shared access per step (the same atomicity as the fast-check and Promela versions).
 *
 * - B0 `counter(N,K)`: N tasks × K increments of one counter; buggy = load and store
 *   as two steps, fixed = one atomic add; promise: the final count is N·K.
 * - B1 `runahead(L)`: a checker reads a flag once; a worker does L independent steps
 *   (its own variable) then sets the flag. Buggy promise: the checker never sees the
 *   flag set (found only if the checker is delayed past L worker steps). Fixed: the
 *   promise accepts both values.
 * - B2 `window(L)`: as B1, but the worker opens a window (x = 1) after its L steps and
 *   closes it (x = 0) right away; the checker must read inside it. Two noise tasks write
 *   their own variables. Fixed: the window opens and closes in one step.
 * - B3 `batch-ref(M,R)`: CPU0 takes a reference on a folio and holds it in its per-CPU
 *   batch for M steps before draining; CPU1 drains only its own CPU and retries the
 *   expected-reference check R times. Fixed: CPU1 drains every CPU before each check. Liveness
 *   variant: CPU0 re-adds the folio after every drain (drain and re-add are one step,
 *   so the reference never drops), and CPU1 retries forever: a livelock the machine
 *   reports with both tasks and what each retries.
 *
 * Every task runs on its own CPU, so all interleavings are possible (as in the peers).
 */

import { atomicAdd, Cell, cpuRelax, op, readOnce, writeOnce, type Machine, type MachineConfig, type Program, type RunResult, type TaskGen } from "@foliosim/sim";
import type { ExploreTarget } from "../target.js";

export type Variant = "buggy" | "fixed";

function target(scenarioId: string, variant: string, cpus: number, program: Program, check: (r: RunResult) => string | null, extra: Partial<MachineConfig> = {}): ExploreTarget {
  return { scenarioId, kernelId: variant, program, config: { cpus, preemption: "none", ...extra }, check };
}

/** The value a task returned. */
function resultOf(r: RunResult, name: string): unknown {
  return r.tasks.find((t) => t.name === name)?.result;
}

// Task bodies are module-level generator functions: a generator function created per
// spawn costs V8 a fresh hidden class and prototype on its first call, which is most
// of a 9-step execution, and keeps every execution alive into old-space collection.
function* incrementBody(shared: Cell<number>, k: number, variant: Variant): TaskGen<void> {
  for (let i = 0; i < k; i++) {
    if (variant === "fixed") yield* atomicAdd(shared, 1);
    else {
      const v = yield* readOnce(shared);
      yield* writeOnce(shared, v + 1);
    }
  }
}

export function counter(n: number, k: number, variant: Variant): ExploreTarget {
  const expected = n * k;
  let count!: Cell<number>;
  const program: Program = (m) => {
    count = new Cell("count", 0);
    const shared = count;
    for (let t = 0; t < n; t++) m.spawn({ name: `inc${t}`, cpu: t, body: () => incrementBody(shared, k, variant) });
  };
  return target(`B0-counter(${n},${k})`, variant, n, program, () => (count.value === expected ? null : `count is ${count.value}, expected ${expected}`));
}

export function runahead(l: number, variant: Variant): ExploreTarget {
  const program: Program = (m) => {
    const flag = new Cell("flag", 0);
    const own = new Cell("work", 0);
    m.spawn({
      name: "worker",
      cpu: 0,
      *body() {
        for (let i = 0; i < l; i++) yield* writeOnce(own, i + 1);
        yield* writeOnce(flag, 1);
      },
    });
    m.spawn({
      name: "checker",
      cpu: 1,
      *body() {
        return yield* readOnce(flag);
      },
    });
  };
  return target(`B1-runahead(${l})`, variant, 2, program, (r) => (variant === "buggy" && resultOf(r, "checker") === 1 ? "the checker saw the flag set: it ran after the worker's run-ahead" : null));
}

export function windowProgram(l: number, variant: Variant, noiseSteps = 4): ExploreTarget {
  const program: Program = (m) => {
    const x = new Cell("x", 0);
    const own = new Cell("work", 0);
    m.spawn({
      name: "worker",
      cpu: 0,
      *body() {
        for (let i = 0; i < l; i++) yield* writeOnce(own, i + 1);
        if (variant === "buggy") {
          yield* writeOnce(x, 1);
          yield* writeOnce(x, 0);
        } else {
          // Open and close in one step: nobody can see the window.
          yield* op({ kind: "store", label: "WRITE_ONCE(x) open+close", writes: [x], run: () => undefined });
        }
      },
    });
    m.spawn({
      name: "checker",
      cpu: 1,
      *body() {
        return yield* readOnce(x);
      },
    });
    for (let noise = 0; noise < 2; noise++) {
      const mine = new Cell(`noise${noise}`, 0);
      m.spawn({
        name: `noise${noise}`,
        cpu: 2 + noise,
        *body() {
          for (let i = 0; i < noiseSteps; i++) yield* writeOnce(mine, i + 1);
        },
      });
    }
  };
  return target(`B2-window(${l})`, variant, 4, program, (r) => (resultOf(r, "checker") === 1 ? "the checker read inside the worker's window" : null));
}

export type BatchVariant = Variant | "liveness";

export function batchRef(mSteps: number, retries: number, variant: BatchVariant): ExploreTarget {
  const program: Program = (m: Machine) => {
    // In the liveness variant the set-up already put the folio in CPU0's batch.
    const live = variant === "liveness";
    const ref = new Cell("folio->_refcount", live ? 2 : 1);
    const batch0 = new Cell("cpu_fbatches/0", live ? 1 : 0);
    const batch1 = new Cell("cpu_fbatches/1", 0);
    const own = new Cell("cpu0_work", 0);
    const drain = (batch: Cell<number>, who: string) =>
      op({
        kind: "drain",
        label: `lru_add_drain(${who})`,
        reads: [batch],
        writes: [batch, ref],
        run: (machine) => {
          if (batch.value === 0) return;
          batch.value = 0;
          ref.value--;
          machine.markWrite(batch);
          machine.markWrite(ref);
        },
      });
    m.spawn({
      name: "holder",
      cpu: 0,
      *body() {
        if (live) {
          // Every drain is followed at once by a re-add: the batch never lets go.
          for (;;) {
            yield* op({ kind: "drain_readd", label: "lru_add_drain+folio_add_lru(cpu0)", reads: [batch0, ref], writes: [batch0, ref], run: () => undefined });
            m.noteSpin("lru_add_drain(cpu0) re-adds the folio to cpu_fbatches/0 at once");
          }
        }
        // folio_add_lru: the reference is taken and parked in CPU0's batch in one step.
        yield* op({
          kind: "folio_add_lru",
          label: "folio_add_lru(cpu0)",
          writes: [ref, batch0],
          run: (machine) => {
            ref.value++;
            batch0.value = 1;
            machine.markWrite(ref);
            machine.markWrite(batch0);
          },
        });
        for (let i = 0; i < mSteps; i++) yield* writeOnce(own, i + 1);
        yield* drain(batch0, "cpu0");
      },
    });
    m.spawn({
      name: "migrator",
      cpu: 1,
      *body() {
        const limit = variant === "liveness" ? Infinity : retries;
        for (let attempt = 0; attempt < limit; attempt++) {
          if (variant === "fixed") yield* drain(batch0, "all: cpu0"); // lru_add_drain_all before each check
          yield* drain(batch1, "cpu1");
          const refs = yield* readOnce(ref);
          if (refs === 1) return "migrated";
          m.noteSpin(`folio_expected_ref_count: _refcount ${refs}, expected 1 (the extra reference sits in cpu_fbatches/0)`);
          yield* cpuRelax();
        }
        return "-EAGAIN";
      },
    });
  };
  const extra: Partial<MachineConfig> = variant === "liveness" ? { livelock: { steps: 200, ns: 2_000 } } : {};
  return target(`B3-batch-ref(${mSteps},${retries})`, variant, 2, program, (r) => (resultOf(r, "migrator") === "migrated" ? null : `migration gave up after ${retries} expected-reference checks`), extra);
}
