// The repeated-state livelock detector: a busy retry loop that changes state on every
// pass (a reference taken and dropped around a failed trylock, as the pre-6.15
// device-private fault does) is still named a livelock, with its cycle.
import { describe, expect, it } from "vitest";
import { Cell, Machine, Shared, atomicAdd, firstChooser, noteChange, readOnce, sleepNs, writeOnce, type RunResult } from "./index.js";
import { buildStarvation } from "./starvation.js";

/**
 * The starvation program (A holds a bit lock and flushes a work item queued on CPU1; B,
 * FIFO on CPU1, retries the lock), with B taking and dropping a reference around each
 * try and optionally bumping a counter each pass.
 */
function run(counter: "none" | "monotonic" | "sequence"): RunResult {
  const m = buildStarvation("fifo", "none", "spin", { machine: { maxSteps: 20_000, livelock: { steps: 2_000, ns: 200_000 } }, refAroundTrylock: true, counter });
  return m.run(firstChooser);
}

describe("livelock as a repeated global state", () => {
  it("a retry loop that takes and drops a reference every pass is a livelock, reported with its cycle", () => {
    const r = run("none");
    expect(r.status).toBe("livelock");
    expect(r.hang!.cycle).toEqual({ steps: 16, ns: expect.any(Number), repeats: expect.any(Number), tasks: ["B"] });
    expect(r.hang!.cycle!.repeats).toBeGreaterThanOrEqual(3);
    // The window is the no-progress detector's: here 2,000 steps and 200 us.
    expect(r.steps).toBeGreaterThanOrEqual(2_000);
    expect(r.virtualNs).toBeGreaterThanOrEqual(200_000);
    const byName = Object.fromEntries(r.hang!.tasks.map((t) => [t.task, t]));
    expect(byName.A).toMatchObject({ state: "blocked", waitsFor: "flush_work(lru_add_drain_work/1) on CPU1" });
    expect(byName.B).toMatchObject({ state: "looping", waitsFor: "trylock(folio_lock) held by A" });
    expect(byName["kworker/1:1"]).toMatchObject({ state: "runnable", waitsFor: "CPU1, held by B" });
    expect(r.hang!.message).toMatch(/^livelock: a cycle of 16 steps \(.+\) by B returned to the same state \d+ times: A \(CPU0\) sleeps in flush_work/);
  });

  it("a sequence counter (compared for equality only) does not hide the cycle", () => {
    const r = run("sequence");
    expect(r.status).toBe("livelock");
    expect(r.hang!.cycle!.tasks).toEqual(["B"]);
  });

  it("a counter that really grows is progress: no livelock is invented, the run reaches its step budget", () => {
    expect(run("monotonic").status).toBe("step-limit");
  });

  it("never while a task waits for a timer: a loop that a timed event ends completes", () => {
    const m = new Machine({ cpus: 2, preemption: "none", livelock: { steps: 200, ns: 10_000 } });
    const flag = new Cell("flag", 0);
    const ref = new Cell("ref", 1);
    m.spawn({
      name: "C",
      cpu: 0,
      *body() {
        yield* sleepNs(500_000);
        yield* writeOnce(flag, 1);
      },
    });
    m.spawn({
      name: "B",
      cpu: 1,
      *body() {
        while ((yield* readOnce(flag)) === 0) {
          yield* atomicAdd(ref, 1);
          yield* atomicAdd(ref, -1);
        }
      },
    });
    const r = m.run(firstChooser);
    expect(r.status).toBe("done");
    expect(r.virtualNs).toBeGreaterThanOrEqual(500_000);
  });

  describe("a holders ledger changed without a write (noteChange) is part of the state", () => {
    /** Who holds which reference: model bookkeeping, no kernel state (as a folio's ledger). */
    class Ledger extends Shared {
      readonly holders = new Map<string, number>();
      constructor(refs: number) {
        super("ledger");
        this.holders.set("a", refs);
      }
      move(from: string, to: string): void {
        this.holders.set(from, this.holders.get(from)! - 1);
        this.holders.set(to, (this.holders.get(to) ?? 0) + 1);
        noteChange(this);
      }
      override stateDigest(): string {
        return [...this.holders].map(([h, n]) => `${h}:${n}`).join(",");
      }
    }

    /**
     * B takes and drops a reference on `ref` every pass (a state that comes back every
     * two steps) and, in its own code between the two ops, `between(pass)`; `passes`
     * passes, then B ends.
     */
    function loop(passes: number, between: (pass: number) => void): RunResult {
      const m = new Machine({ cpus: 1, preemption: "none", maxSteps: 10_000, livelock: { steps: 200, ns: 1 } });
      const ref = new Cell("ref", 1);
      m.spawn({
        name: "B",
        cpu: 0,
        *body() {
          for (let pass = 0; pass < passes; pass++) {
            yield* atomicAdd(ref, 1);
            between(pass);
            yield* atomicAdd(ref, -1);
          }
        },
      });
      return m.run(firstChooser);
    }

    it("a loop that hands one reference to the next holder on every pass changes state: it runs to its end, no livelock", () => {
      const ledger = new Ledger(600);
      const r = loop(600, () => ledger.move("a", "b"));
      expect(r.status).toBe("done");
      expect(r.steps).toBe(1_200);
      expect(ledger.stateDigest()).toBe("a:0,b:600");
    });

    it("a noted object without a state digest counts each noted change: it hides a cycle, never invents one", () => {
      const opaque = new Shared("opaque");
      const r = loop(600, () => noteChange(opaque));
      expect(r.status).toBe("done");
      expect(r.steps).toBe(1_200);
    });

    it("a loop whose ledger comes back every pass is a livelock, reported with its cycle", () => {
      const ledger = new Ledger(1);
      const r = loop(Infinity, (pass) => (pass % 2 === 0 ? ledger.move("a", "b") : ledger.move("b", "a")));
      expect(r.status).toBe("livelock");
      expect(r.hang!.cycle).toMatchObject({ steps: 16, tasks: ["B"] });
    });

    it("a ledger change is no progress: a loop that only moves references between holders is a livelock of the no-progress detector", () => {
      const m = new Machine({ cpus: 1, preemption: "none", maxSteps: 10_000, livelock: { steps: 200, ns: 1 } });
      const ledger = new Ledger(1);
      const flag = new Cell("flag", 0);
      m.spawn({
        name: "B",
        cpu: 0,
        *body() {
          for (let pass = 0; ; pass++) {
            yield* readOnce(flag);
            ledger.move(pass % 2 === 0 ? "a" : "b", pass % 2 === 0 ? "b" : "a");
          }
        },
      });
      const r = m.run(firstChooser);
      expect(r.status).toBe("livelock");
      expect(r.hang!.cycle).toBeUndefined();
      expect(r.steps).toBe(200);
    });
  });
});
