// The repeated-state livelock detector: a busy retry loop that changes state on every
// pass (a reference taken and dropped around a failed trylock, as the pre-6.15
// device-private fault does) is still named a livelock, with its cycle.
import { describe, expect, it } from "vitest";
import {
  BitLock,
  Cell,
  Completion,
  Machine,
  Work,
  atomicAdd,
  bitLock,
  bitTrylock,
  bitUnlock,
  complete,
  cpuRelax,
  firstChooser,
  flushWork,
  queueWorkOn,
  readOnce,
  sleepNs,
  waitForCompletion,
  writeOnce,
  type RunResult,
} from "./index.js";

type Counter = "none" | "monotonic" | "sequence";

/**
 * A (CPU0) holds a bit lock and flushes a work item queued on CPU1; B (CPU1, FIFO)
 * retries the lock, taking and dropping a reference around each try, and optionally
 * bumps a counter each pass.
 */
function build(counter: Counter): Machine {
  const m = new Machine({ cpus: 2, preemption: "none", maxSteps: 20_000, livelock: { steps: 2_000, ns: 200_000 } });
  const lock = new BitLock("folio_lock");
  const ref = new Cell("folio _refcount", 1);
  const seq = new Cell("invalidate_seq", 0, { sequence: counter === "sequence" });
  const aHolds = new Completion("a_holds_lock");
  const work = new Work("lru_add_drain_work/1", function* () {});
  m.spawn({
    name: "A",
    cpu: 0,
    *body() {
      yield* bitLock(lock);
      yield* complete(aHolds);
      yield* queueWorkOn(1, work);
      yield* flushWork(work);
      yield* bitUnlock(lock);
    },
  });
  m.spawn({
    name: "B",
    cpu: 1,
    policy: "fifo",
    priority: 50,
    *body() {
      yield* waitForCompletion(aHolds);
      for (;;) {
        yield* atomicAdd(ref, 1);
        const got = yield* bitTrylock(lock);
        yield* atomicAdd(ref, -1);
        if (got) break;
        if (counter !== "none") yield* atomicAdd(seq, 2);
        yield* cpuRelax();
      }
      yield* bitUnlock(lock);
    },
  });
  return m;
}

function run(counter: Counter): RunResult {
  return build(counter).run(firstChooser);
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
});
