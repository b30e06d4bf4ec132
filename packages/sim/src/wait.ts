/**
 * Wait queues (kernel/sched/wait.c, include/linux/wait.h) and keyed variable waits
 * (kernel/sched/wait_bit.c: `wait_var_event`, `wake_up_var`).
 *
 * Faithful to the kernel's lost-wakeup rules: a sleeper re-checks its condition only
 * when someone calls `wakeUp` on its queue (or its timeout expires). A condition
 * that becomes true without a wake-up leaves the sleeper asleep — exactly the bug
 * class a missing `wake_up_var` produces.
 */

import { current, currentMachine, type Machine, type Task } from "./machine.js";
import { Block, op, Shared, type Op, type TaskGen } from "./op.js";

export class WaitQueue extends Shared {
  /**
   * Footprint checking (./footprint-check.ts): the list of sleepers is touched only by the
   * operations here, and a sleeper leaving it at `schedule` (which declares the queue read)
   * commutes with every other sleeper's `schedule`; every other change declares the queue written.
   */
  static readonly untrackedState: readonly string[] = ["sleepers"];
  readonly sleepers: Task[] = [];
}

/** Check `cond` and, if false, queue the task on `wq` (prepare_to_wait + condition test). */
function prepareAndCheck(wq: WaitQueue, cond: () => boolean, reads: readonly Shared[], label: string): Op<boolean> {
  return op({
    kind: "wait_check",
    label,
    reads: [...reads],
    writes: [wq],
    cost: "plain",
    run: (_m, t) => {
      const i = wq.sleepers.indexOf(t);
      if (cond()) {
        if (i >= 0) wq.sleepers.splice(i, 1); // finish_wait
        return true;
      }
      if (i < 0) wq.sleepers.push(t);
      t.woken = false;
      return false;
    },
  });
}

function scheduleOn(wq: WaitQueue, label: string, timeoutNs?: number): Op<void> {
  return op({
    kind: "schedule",
    label: `schedule (${label})`,
    reads: [wq],
    cost: "schedule",
    block: Block.Sleep,
    mightSleep: true,
    enabled: (_m, t) => t.woken,
    timeoutNs,
    waitFor: label,
    run: (_m, t) => {
      t.woken = false;
      const i = wq.sleepers.indexOf(t);
      if (i >= 0) wq.sleepers.splice(i, 1);
    },
  });
}

/** `wait_event(wq, cond)`: `reads` are the shared objects `cond` looks at. */
export function* waitEvent(wq: WaitQueue, cond: () => boolean, reads: readonly Shared[] = [], label = `wait_event(${wq.name})`): TaskGen<void> {
  for (;;) {
    if (yield* prepareAndCheck(wq, cond, reads, label)) return;
    yield* scheduleOn(wq, label);
  }
}

/**
 * `wait_event_timeout(wq, cond, timeout)`: returns 0 if the timeout elapsed with `cond`
 * false, 1 if it elapsed with `cond` true, otherwise the time left (at least 1).
 */
export function* waitEventTimeout(
  wq: WaitQueue,
  cond: () => boolean,
  reads: readonly Shared[],
  timeoutNs: number,
  label = `wait_event_timeout(${wq.name})`,
): TaskGen<number> {
  const m = currentMachine();
  const cpu = current().cpu;
  const deadline = m.cpuClock(cpu) + timeoutNs;
  for (;;) {
    const ok = yield* prepareAndCheck(wq, cond, reads, label);
    const left = deadline - m.cpuClock(cpu);
    if (ok) return left > 0 ? Math.max(1, left) : 1;
    if (left <= 0) {
      yield* finishWait(wq);
      return 0;
    }
    yield* scheduleOn(wq, label, left);
  }
}

function finishWait(wq: WaitQueue): Op<void> {
  return op({
    kind: "finish_wait",
    label: `finish_wait(${wq.name})`,
    writes: [wq],
    cost: "plain",
    run: (_m, t) => {
      const i = wq.sleepers.indexOf(t);
      if (i >= 0) wq.sleepers.splice(i, 1);
    },
  });
}

/** `wake_up(wq)`: every sleeper re-checks its condition. Returns how many were woken. */
export function wakeUp(wq: WaitQueue, label = `wake_up(${wq.name})`): Op<number> {
  return op({
    kind: "wake_up",
    label,
    writes: [wq],
    cost: "atomic",
    run: (m) => wakeUpNow(m, wq),
  });
}

/** The body of `wake_up`, for ops that wake as part of a larger atomic step. */
export function wakeUpNow(m: Machine, wq: WaitQueue): number {
  let n = 0;
  for (const t of wq.sleepers) {
    if (!t.woken) {
      t.woken = true;
      n++;
    }
  }
  if (n > 0) m.markWrite(wq);
  return n;
}

const VAR_QUEUES = Symbol("var-wait-queues");

/** The hashed wait queue of a variable (`__var_waitqueue`). One per object here: no collisions. */
export function varWaitQueue(m: Machine, v: Shared): WaitQueue {
  let map = m.ext.get(VAR_QUEUES) as Map<Shared, WaitQueue> | undefined;
  if (!map) {
    map = new Map();
    m.ext.set(VAR_QUEUES, map);
  }
  let wq = map.get(v);
  if (!wq) {
    wq = new WaitQueue(`var_waitqueue(${v.name})`);
    map.set(v, wq);
  }
  return wq;
}

/** `wait_var_event(var, cond)`. */
export function* waitVarEvent(v: Shared, cond: () => boolean, reads: readonly Shared[] = [v]): TaskGen<void> {
  yield* waitEvent(varWaitQueue(currentMachine(), v), cond, reads, `wait_var_event(${v.name})`);
}

/** `wait_var_event_timeout(var, cond, timeout)`: same return convention as `waitEventTimeout`. */
export function* waitVarEventTimeout(v: Shared, cond: () => boolean, timeoutNs: number, reads: readonly Shared[] = [v]): TaskGen<number> {
  return yield* waitEventTimeout(varWaitQueue(currentMachine(), v), cond, reads, timeoutNs, `wait_var_event_timeout(${v.name})`);
}

/** `wake_up_var(var)`. */
export function wakeUpVar(v: Shared): Op<number> {
  return op({
    kind: "wake_up_var",
    label: `wake_up_var(${v.name})`,
    writes: [v],
    cost: "atomic",
    run: (m) => wakeUpNow(m, varWaitQueue(m, v)),
  });
}
