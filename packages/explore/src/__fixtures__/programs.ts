/**
 * Small programs for the explorer's own tests: each is a target whose final state
 * (shared values and task results) can be read after a run, so DPOR can be compared
 * with naive enumeration state for state.
 */

import { Cell, Mutex, RwSemaphore, atomicAdd, downRwSem, upRwSem, condResched, mutexLock, mutexUnlock, readOnce, spinLock, spinUnlock, SpinLock, writeOnce, type Machine, type MachineConfig, type PreemptionModel, type RunResult } from "@foliosim/sim";
import type { ExploreTarget } from "../target.js";

export interface Fixture {
  target: ExploreTarget;
  /** The final state of the last run, as a string. */
  finalState(result: RunResult): string;
}

function fixture(name: string, cpus: number, preemption: PreemptionModel, build: (m: Machine) => () => string, extra: Partial<MachineConfig> = {}): Fixture {
  let read: () => string = () => "";
  const target: ExploreTarget = {
    scenarioId: name,
    kernelId: "test",
    config: { cpus, preemption, ...extra },
    program: (m) => {
      read = build(m);
    },
  };
  return {
    target,
    finalState: (r) => `${r.status}|${read()}|${r.tasks.map((t) => `${t.name}=${JSON.stringify(t.result ?? null)}`).join(",")}`,
  };
}

/** Store buffering with plain accesses: two writers, two readers of each other's variable. */
export function storeBuffer(): Fixture {
  return fixture("store-buffer", 2, "none", (m) => {
    const x = new Cell("x", 0);
    const y = new Cell("y", 0);
    m.spawn({ name: "a", cpu: 0, *body() { yield* writeOnce(x, 1); return yield* readOnce(y); } });
    m.spawn({ name: "b", cpu: 1, *body() { yield* writeOnce(y, 1); return yield* readOnce(x); } });
    return () => `${x.value},${y.value}`;
  });
}

/** A lost update: two load/store increments and an independent third task. */
export function lostUpdate(): Fixture {
  return fixture("lost-update", 3, "none", (m) => {
    const c = new Cell("c", 0);
    const z = new Cell("z", 0);
    for (let t = 0; t < 2; t++) {
      m.spawn({ name: `inc${t}`, cpu: t, *body() { const v = yield* readOnce(c); yield* writeOnce(c, v + 1); } });
    }
    m.spawn({ name: "other", cpu: 2, *body() { yield* writeOnce(z, 1); yield* writeOnce(z, 2); } });
    return () => `${c.value},${z.value}`;
  });
}

/** Two tasks sharing one CPU under full preemption, and a third on another CPU. */
export function sharedCpu(): Fixture {
  return fixture("shared-cpu", 2, "full", (m) => {
    const x = new Cell("x", 0);
    const y = new Cell("y", 0);
    m.spawn({ name: "a", cpu: 0, *body() { yield* writeOnce(x, 1); yield* writeOnce(x, 2); } });
    m.spawn({ name: "b", cpu: 0, *body() { const v = yield* readOnce(x); yield* writeOnce(y, v); } });
    m.spawn({ name: "c", cpu: 1, *body() { return yield* readOnce(y); } });
    return () => `${x.value},${y.value}`;
  });
}

/** Voluntary preemption: a cond_resched() point is the only place the CPU can change hands. */
export function voluntary(): Fixture {
  return fixture("voluntary", 2, "voluntary", (m) => {
    const x = new Cell("x", 0);
    m.spawn({ name: "a", cpu: 0, *body() { yield* writeOnce(x, 1); yield* condResched(); yield* writeOnce(x, 2); } });
    m.spawn({ name: "b", cpu: 0, *body() { return yield* readOnce(x); } });
    m.spawn({ name: "c", cpu: 1, *body() { yield* writeOnce(x, 3); } });
    return () => `${x.value}`;
  });
}

/** ABBA on two mutexes: some schedules deadlock. */
export function abba(): Fixture {
  return fixture("abba", 2, "voluntary", (m) => {
    const a = new Mutex("A");
    const b = new Mutex("B");
    const c = new Cell("c", 0);
    m.spawn({ name: "t0", cpu: 0, *body() { yield* mutexLock(a); yield* mutexLock(b); yield* atomicAdd(c, 1); yield* mutexUnlock(b); yield* mutexUnlock(a); } });
    m.spawn({ name: "t1", cpu: 1, *body() { yield* mutexLock(b); yield* mutexLock(a); yield* atomicAdd(c, 1); yield* mutexUnlock(a); yield* mutexUnlock(b); } });
    return () => `${c.value}`;
  });
}

/** A spinlock-protected counter with a racy reader. */
export function spinCounter(): Fixture {
  return fixture("spin-counter", 3, "none", (m) => {
    const l = new SpinLock("L");
    const c = new Cell("c", 0);
    for (let t = 0; t < 2; t++) {
      m.spawn({ name: `inc${t}`, cpu: t, *body() { yield* spinLock(l); const v = yield* readOnce(c); yield* writeOnce(c, v + 1); yield* spinUnlock(l); } });
    }
    m.spawn({ name: "reader", cpu: 2, *body() { return yield* readOnce(c); } });
    return () => `${c.value}`;
  });
}

/** Three readers and a writer of an rwsem-protected value (readers commute, `Op.commutes`). */
export function rwsemReaders(): Fixture {
  return fixture("rwsem-readers", 4, "none", (m) => {
    const sem = new RwSemaphore("sem");
    const v = new Cell("v", 0);
    for (let t = 0; t < 3; t++) {
      m.spawn({ name: `reader${t}`, cpu: t, *body() { yield downRwSem(sem, false); const seen = yield* readOnce(v); yield upRwSem(sem, false); return seen; } });
    }
    m.spawn({ name: "writer", cpu: 3, *body() { yield downRwSem(sem, true); yield* writeOnce(v, 1); yield upRwSem(sem, true); } });
    return () => `${v.value}`;
  });
}

export const SMALL_FIXTURES = [storeBuffer, lostUpdate, sharedCpu, voluntary, abba, spinCounter, rwsemReaders];
