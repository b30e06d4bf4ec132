import { describe, expect, it } from "vitest";
import {
  atomic,
  atomicAdd,
  atomicRead,
  atomicSet,
  condResched,
  Machine,
  Mutex,
  mutexLock,
  mutexUnlock,
  preemptDisable,
  preemptEnable,
  SeededChooser,
  SimConfigError,
  StaticKey,
  staticKeySlowDec,
  staticKeySlowInc,
  synchronizeRcu,
  synchronizeRcuExpedited,
  TimedChooser,
  usleep,
  waitEventTimeout,
  WaitQueue,
  wakeUp,
  ndelay,
  writeOnce,
  Cell,
  BitLock,
  bitLock,
  bitTrylock,
  bitUnlock,
  Completion,
  complete,
  waitForCompletion,
  type MachineConfig,
  type Program,
} from "./index.js";
import { enumerateSchedules } from "./test-helpers.js";

describe("configuration errors name the field", () => {
  it.each([
    [{ cpus: 0 }, "cpus"],
    [{ cpus: 2, costs: { ipi: -1 } }, "costs.ipi"],
    [{ cpus: 2, preemption: "sometimes" as never }, "preemption"],
  ])("%j", (config, field) => {
    let err: unknown;
    try {
      new Machine(config as MachineConfig);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimConfigError);
    expect((err as SimConfigError).field).toBe(field);
    expect((err as Error).message).toContain(field);
  });

  it("a task bound to a missing CPU or with a bad FIFO priority", () => {
    const m = new Machine({ cpus: 2 });
    const body = function* () {};
    expect(() => m.spawn({ name: "x", cpu: 2, body })).toThrow(/task x\.cpu: expected a CPU from 0 to 1, found 2/);
    expect(() => m.spawn({ name: "y", cpu: 0, policy: "fifo", priority: 100, body })).toThrow(/task y\.priority/);
  });
});

describe("deadlock detection", () => {
  const abba =
    (ordered: boolean): Program =>
    (m) => {
      const a = new Mutex("A");
      const b = new Mutex("B");
      m.spawn({
        name: "t0",
        cpu: 0,
        *body() {
          yield* mutexLock(a);
          yield* mutexLock(b);
          yield* mutexUnlock(b);
          yield* mutexUnlock(a);
        },
      });
      m.spawn({
        name: "t1",
        cpu: 1,
        *body() {
          const [first, second] = ordered ? [a, b] : [b, a];
          yield* mutexLock(first);
          yield* mutexLock(second);
          yield* mutexUnlock(second);
          yield* mutexUnlock(first);
        },
      });
    };

  it("AB-BA is reported under some schedule, with who waits for what", () => {
    const deadlocks: string[] = [];
    const e = enumerateSchedules(abba(false), { cpus: 2 }, (r) => {
      if (r.status === "deadlock") deadlocks.push(r.hang!.message);
    });
    expect(e.complete).toBe(true);
    expect(deadlocks.length).toBeGreaterThan(0);
    expect(deadlocks[0]).toBe("deadlock: nothing can run: t0 (CPU0) sleeps in mutex_lock(B); t1 (CPU1) sleeps in mutex_lock(A)");
  });

  it("the lock-ordered version never deadlocks", () => {
    const statuses = new Set<string>();
    const e = enumerateSchedules(abba(true), { cpus: 2 }, (r) => void statuses.add(r.status));
    expect(e.complete).toBe(true);
    expect([...statuses]).toEqual(["done"]);
  });
});

describe("static keys", () => {
  it("500 sites: first enable 6 IPI broadcasts, second user none, last disable 6 again", () => {
    const m = new Machine({ cpus: 4 });
    const key = new StaticKey("folio_put_wakeup_key");
    const seen: number[] = [];
    m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const snap = () => seen.push(m.counters.ipi_broadcast ?? 0, m.counters.static_key_patch ?? 0);
        yield* staticKeySlowInc(key);
        snap();
        yield* staticKeySlowInc(key);
        snap();
        yield* staticKeySlowDec(key);
        snap();
        yield* staticKeySlowDec(key);
        snap();
      },
    });
    const r = m.run(new SeededChooser(1));
    expect(r.status).toBe("done");
    expect(seen).toEqual([6, 1, 6, 1, 6, 1, 12, 2]);
    expect(r.trace.filter((e) => e.type === "static_key").map((e) => e.args)).toEqual([
      { enabled: true, sites: 500, batches: 2, ipiBroadcasts: 6 },
      { enabled: false, sites: 500, batches: 2, ipiBroadcasts: 6 },
    ]);
  });
});

describe("RCU grace periods", () => {
  function gpTime(cpus: number, expedited: boolean, busyNs = 0, preemption: MachineConfig["preemption"] = "voluntary"): number {
    const m = new Machine({ cpus, preemption });
    let took = 0;
    m.spawn({
      name: "caller",
      cpu: 0,
      *body() {
        yield* ndelay(1000); // let the busy CPU enter its section first
        const start = m.cpuClock(0);
        yield* expedited ? synchronizeRcuExpedited() : synchronizeRcu();
        took = m.cpuClock(0) - start;
      },
    });
    if (busyNs > 0) {
      m.spawn({
        name: "busy",
        cpu: cpus - 1,
        *body() {
          yield* preemptDisable();
          for (let i = 0; i < 100; i++) yield* ndelay(busyNs / 100);
          yield* preemptEnable();
          yield* condResched();
        },
      });
    }
    expect(m.run(new TimedChooser(1)).status).toBe("done");
    return took;
  }

  it("expedited costs more with more CPUs", () => {
    expect(gpTime(8, true)).toBeGreaterThan(gpTime(2, true));
  });

  it("expedited is delayed by a CPU in a long non-preemptible section", () => {
    const idle = gpTime(4, true);
    const busy = gpTime(4, true, 5_000_000);
    expect(busy).toBeGreaterThan(idle + 4_000_000);
  });

  it("normal synchronize_rcu is slower than expedited in the default model", () => {
    expect(gpTime(4, false)).toBeGreaterThan(10 * gpTime(4, true));
  });
});

describe("waitEventTimeout", () => {
  function run(wakeAfterUs: number | null) {
    const m = new Machine({ cpus: 2 });
    const wq = new WaitQueue("wq");
    const flag = atomic("flag");
    let ret = -1;
    let woke = 0;
    m.spawn({
      name: "waiter",
      cpu: 0,
      *body() {
        ret = yield* waitEventTimeout(wq, () => flag.value === 1, [flag], 1_000_000);
        woke = m.cpuClock(0);
      },
    });
    if (wakeAfterUs !== null) {
      m.spawn({
        name: "waker",
        cpu: 1,
        *body() {
          yield* usleep(wakeAfterUs);
          yield* atomicSet(flag, 1);
          yield* wakeUp(wq);
        },
      });
    }
    const r = m.run(new TimedChooser(3));
    return { r, ret, woke };
  }

  it("returns early, with the time left, when woken with the condition true", () => {
    const { r, ret, woke } = run(100);
    expect(r.status).toBe("done");
    expect(ret).toBeGreaterThan(800_000);
    expect(woke).toBeLessThan(200_000);
  });

  it("times out exactly at the deadline in virtual time and returns 0", () => {
    const { r, ret } = run(null);
    expect(r.status).toBe("done");
    expect(ret).toBe(0);
    const timer = r.trace.find((e) => e.type === "timer")!;
    // The wait began in task-local code at virtual time 0.
    expect(timer.t).toBe(1_000_000);
  });

  it("a condition that became true without a wake-up is not seen until the timeout (lost wake-up)", () => {
    const m = new Machine({ cpus: 2 });
    const wq = new WaitQueue("wq");
    const flag = atomic("flag");
    let ret = -1;
    m.spawn({
      name: "waiter",
      cpu: 0,
      *body() {
        ret = yield* waitEventTimeout(wq, () => flag.value === 1, [flag], 1_000_000);
      },
    });
    m.spawn({
      name: "setter",
      cpu: 1,
      *body() {
        yield* usleep(10);
        yield* atomicSet(flag, 1); // no wake_up
      },
    });
    expect(m.run(new TimedChooser(1)).status).toBe("done");
    expect(ret).toBe(1); // timed out, condition true at the final check
  });
});

describe("determinism", () => {
  const racy: Program = (m) => {
    const c = new Cell("counter", 0);
    for (let i = 0; i < 3; i++) {
      m.spawn({
        name: `inc${i}`,
        cpu: i % 2,
        *body() {
          for (let k = 0; k < 3; k++) {
            const v = yield* atomicRead(c);
            yield* writeOnce(c, v + 1);
            if (k === 1) yield* condResched();
          }
          yield* atomicAdd(c, 0);
        },
      });
    }
  };

  it("1,000 seeded runs of a racy program, each run twice, give identical trace hashes", () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 1000; seed++) {
      const config = { cpus: 2, preemption: "full" as const, trace: false };
      const a = new Machine(config);
      racy(a);
      const ra = a.run(new SeededChooser(seed));
      const b = new Machine(config);
      racy(b);
      const rb = b.run(new SeededChooser(seed));
      expect(rb.traceHash).toBe(ra.traceHash);
      expect(rb.decisions).toEqual(ra.decisions);
      hashes.add(ra.traceHash);
    }
    expect(hashes.size).toBeGreaterThan(50); // the seeds really explore different schedules
  });
});

describe("settle", () => {
  it("runs a set-up to quiescence without recording decisions, then the run goes on", () => {
    const m = new Machine({ cpus: 2 });
    const c = new Cell("c", 0);
    for (let i = 0; i < 2; i++) m.spawn({ name: `setup${i}`, cpu: i, *body() { yield* atomicAdd(c, 1); } });
    m.settle(new SeededChooser(1));
    expect(m.status).toBe("running");
    expect(m.decisions).toEqual([]);
    expect(c.value).toBe(2);
    for (let i = 0; i < 2; i++) m.spawn({ name: `t${i}`, cpu: i, *body() { yield* atomicAdd(c, 1); } });
    const r = m.run(new SeededChooser(1));
    expect(r.status).toBe("done");
    expect(c.value).toBe(4);
    expect(r.decisions.length).toBe(1);
  });
});

describe("bit lock handoff (folio lock semantics)", () => {
  it("an unlock hands the lock to the first exclusive waiter; the unlocker cannot steal it back", () => {
    const m = new Machine({ cpus: 2 });
    const l = new BitLock("folio_lock");
    const seen: unknown[] = [];
    const ready = new Completion("waiter_queued");
    m.spawn({
      name: "holder",
      cpu: 0,
      *body() {
        yield* bitLock(l);
        yield* complete(ready);
        // Let the waiter queue itself (it sets the waiters bit).
        while (!l.waiters) yield* usleep(1);
        seen.push(l.waiters);
        yield* bitUnlock(l);
        seen.push(yield* bitTrylock(l), l.owner?.name);
      },
    });
    m.spawn({
      name: "waiter",
      cpu: 1,
      *body() {
        yield* waitForCompletion(ready);
        yield* bitLock(l);
        seen.push("waiter got it");
        yield* bitUnlock(l);
      },
    });
    expect(m.run(new TimedChooser(1)).status).toBe("done");
    expect(seen).toEqual([true, false, "waiter", "waiter got it"]);
  });
});

describe("exiting tasks leave their CPU at once", () => {
  it("an expedited grace period on CPU0 completes when the last task of CPU1 exits (no false deadlock)", () => {
    const m = new Machine({ cpus: 2, preemption: "none" });
    m.spawn({ name: "gp", cpu: 0, *body() { yield* ndelay(10); yield* synchronizeRcuExpedited(); } });
    m.spawn({ name: "short", cpu: 1, *body() { yield* ndelay(100_000); } });
    const r = m.run(new TimedChooser(1));
    expect(r.hang?.message).toBeUndefined();
    expect(r.status).toBe("done");
  });
});
