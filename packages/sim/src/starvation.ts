/**
 * The RT-starvation mechanism of seeds 002/003 in miniature, shared by the demo and
 * the acceptance test: task A on CPU0 holds a bit lock and flushes a work item queued
 * on CPU1; task B on CPU1 wants the lock — spinning on a trylock (optionally with
 * `cond_resched()`), or sleeping on it.
 *
 * Options shape the same program for the livelock detector's tests and the trace
 * writers' fixtures: a step cap and detector window, a reference B takes and drops
 * around each trylock (as the pre-6.15 device-private fault does), and a counter B
 * bumps after each failed try.
 */

import {
  atomicAdd,
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
  type MachineConfig,
  type PreemptionModel,
} from "./index.js";

export type StarvationBMode = "spin" | "spin-cond-resched" | "sleep";

export interface StarvationOptions {
  /** The machine's step cap and livelock window. */
  machine?: Pick<MachineConfig, "maxSteps" | "livelock">;
  /** B takes a reference on the folio before each trylock and drops it after (spinning modes). */
  refAroundTrylock?: boolean;
  /** What B bumps after each failed try: a counter that really grows, or a sequence count (compared for equality only). */
  counter?: "none" | "monotonic" | "sequence";
}

/** Build the program on a fresh two-CPU machine. */
export function buildStarvation(policy: "normal" | "fifo", preemption: PreemptionModel, mode: StarvationBMode, options: StarvationOptions = {}): Machine {
  const m = new Machine({ cpus: 2, preemption, ...options.machine });
  const lock = new BitLock("folio_lock");
  const drained = new Cell("drained", 0);
  const ref = options.refAroundTrylock ? new Cell("folio _refcount", 1) : null;
  const counter = options.counter ?? "none";
  const seq = counter === "none" ? null : new Cell("invalidate_seq", 0, { sequence: counter === "sequence" });
  function* tryOnce() {
    if (ref) yield* atomicAdd(ref, 1);
    const got = yield* bitTrylock(lock);
    if (ref) yield* atomicAdd(ref, -1);
    return got;
  }
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
        while (!(yield* tryOnce())) {
          if (seq) yield* atomicAdd(seq, 2);
          yield* cpuRelax();
          if (mode === "spin-cond-resched") yield* condResched();
        }
      }
      yield* bitUnlock(lock);
    },
  });
  return m;
}
