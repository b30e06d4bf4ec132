/**
 * The RT-starvation mechanism of seeds 002/003 in miniature, shared by the demo and
 * the acceptance test: task A on CPU0 holds a bit lock and flushes a work item queued
 * on CPU1; task B on CPU1 wants the lock — spinning on a trylock (optionally with
 * `cond_resched()`), or sleeping on it.
 */

import {
  BitLock,
  bitLock,
  bitTrylock,
  bitUnlock,
  Cell,
  complete,
  Completion,
  condResched,
  cpuRelax,
  flushWork,
  Machine,
  queueWorkOn,
  waitForCompletion,
  Work,
  writeOnce,
  type PreemptionModel,
} from "./index.js";

export type StarvationBMode = "spin" | "spin-cond-resched" | "sleep";

/** Build the program on a fresh two-CPU machine. */
export function buildStarvation(policy: "normal" | "fifo", preemption: PreemptionModel, mode: StarvationBMode): Machine {
  const m = new Machine({ cpus: 2, preemption });
  const lock = new BitLock("folio_lock");
  const drained = new Cell("drained", 0);
  // The race window: A holds the lock, B is already contending, then A queues the drain.
  const aHolds = new Completion("a_holds_lock");
  const bContends = new Completion("b_contends");
  const work = new Work("lru_add_drain_work/1", function* () {
    yield* writeOnce(drained, 1);
  });
  m.spawn({
    name: "A",
    cpu: 0,
    *body() {
      yield* bitLock(lock);
      yield* complete(aHolds);
      yield* waitForCompletion(bContends);
      yield* queueWorkOn(1, work);
      yield* flushWork(work);
      yield* bitUnlock(lock);
    },
  });
  m.spawn({
    name: "B",
    cpu: 1,
    policy,
    priority: policy === "fifo" ? 50 : undefined,
    *body() {
      yield* waitForCompletion(aHolds);
      yield* complete(bContends);
      if (mode === "sleep") {
        yield* bitLock(lock);
      } else {
        while (!(yield* bitTrylock(lock))) {
          yield* cpuRelax();
          if (mode === "spin-cond-resched") yield* condResched();
        }
      }
      yield* bitUnlock(lock);
    },
  });
  return m;
}
