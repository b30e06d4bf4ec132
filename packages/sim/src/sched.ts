/**
 * Scheduler entry points a kernel path calls (kernel/sched/core.c, kernel/time/timer.c,
 * include/linux/delay.h, include/linux/preempt.h).
 *
 * - `condResched()`: a voluntary preemption point and an RCU quiescent state.
 * - `cpuRelax()`: one iteration of a busy-wait loop; never gives the CPU away.
 * - `msleep()` rounds up to jiffies and adds one, as `schedule_timeout` does;
 *   `usleep()` is an hrtimer sleep, exact; `udelay()`/`ndelay()` busy-wait.
 * - `preemptDisable()`/`preemptEnable()` nest in the task's preempt count.
 */

import { currentMachine, type Machine, type Task } from "./machine.js";
import { Block, op, type Op } from "./op.js";

export function condResched(): Op<void> {
  return op({ kind: "cond_resched", label: "cond_resched", cost: "condResched", preemptPoint: true, run: () => undefined });
}

export function cpuRelax(): Op<void> {
  return op({
    kind: "cpu_relax",
    label: "cpu_relax",
    cost: "cpuRelax",
    run: (m) => m.count("spins"),
  });
}

export function preemptDisable(): Op<void> {
  return op({
    kind: "preempt_disable",
    label: "preempt_disable",
    cost: 1,
    run: (_m, t) => {
      t.preemptCount++;
    },
  });
}

export function preemptEnable(): Op<void> {
  return op({
    kind: "preempt_enable",
    label: "preempt_enable",
    cost: 1,
    run: (m, t) => preemptCountDec(m, t, "preempt_enable"),
  });
}

/** Drop one level of the preempt count; leaving the last level is a quiescent state under full preemption. */
export function preemptCountDec(m: Machine, t: Task, who: string): void {
  if (t.preemptCount <= 0) throw new Error(`${who}: preempt count underflow in ${t.name}`);
  t.preemptCount--;
  if (t.preemptCount === 0 && t.rcuReadDepth === 0 && m.preemption === "full") m.reportQs(t.cpu);
}

function sleepFor(ns: number, label: string): Op<void> {
  return op({
    kind: "sleep",
    label,
    block: Block.Sleep,
    enabled: () => false,
    timeoutNs: ns,
    mightSleep: true,
    cost: "schedule",
    waitFor: label,
    run: () => undefined,
  });
}

/** `msleep(ms)`: sleeps at least `ms`, rounded up to jiffies plus one jiffy. */
export function msleep(ms: number, m?: Machine): Op<void> {
  const machine = m ?? currentMachine();
  const jiffy = machine.cost("jiffy");
  const jiffies = Math.ceil((ms * 1e6) / jiffy) + 1;
  return sleepFor(jiffies * jiffy, `msleep(${ms})`);
}

/** `usleep_range(us, us)`: an hrtimer sleep of exactly `us`. */
export function usleep(us: number): Op<void> {
  return sleepFor(us * 1e3, `usleep(${us})`);
}

/** Sleep for `ns` of virtual time (a modelled holder keeping something for a while). */
export function sleepNs(ns: number, label = `sleep(${ns}ns)`): Op<void> {
  return sleepFor(ns, label);
}

/** `ndelay(ns)`: busy-wait, keeping the CPU. */
export function ndelay(ns: number): Op<void> {
  return op({ kind: "delay", label: `ndelay(${ns})`, cost: ns, run: () => undefined });
}

export function udelay(us: number): Op<void> {
  return op({ kind: "delay", label: `udelay(${us})`, cost: us * 1e3, run: () => undefined });
}
