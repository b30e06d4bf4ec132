/**
 * RCU grace periods (kernel/rcu/tree.c `synchronize_rcu`, tree_exp.h
 * `synchronize_rcu_expedited`), reduced to what memory-management paths feel.
 *
 * A grace period ends when every CPU has passed a quiescent state since it began:
 * a context switch, `cond_resched()`, idle, or (under full preemption) any point
 * outside preempt-disabled and RCU read-side sections. Under `none` and `voluntary`,
 * kernel code between schedule points is a read-side section, so a CPU looping
 * without `cond_resched()` delays every grace period.
 *
 * - Normal: waits at least `rcuGracePeriod` (several jiffies of kthread work) and for
 *   every CPU's quiescent state.
 * - Expedited: IPIs every other CPU (one broadcast) and costs
 *   `rcuExpeditedBase + rcuExpeditedPerCpu × CPUs`, then waits for the quiescent states.
 */

import { currentMachine, type Machine } from "./machine.js";
import { Block, op, Shared, type Op, type TaskGen } from "./op.js";
import { ipiBroadcastNow } from "./smp.js";

const RCU_STATE = Symbol("rcu-state");

function rcuState(m: Machine): Shared {
  let s = m.ext.get(RCU_STATE) as Shared | undefined;
  if (!s) {
    s = new Shared("rcu_state");
    m.ext.set(RCU_STATE, s);
  }
  return s;
}

interface GpSnapshot {
  qs: number[];
  passed: boolean[];
}

function startGp(expedited: boolean): Op<GpSnapshot> {
  return op({
    kind: expedited ? "synchronize_rcu_expedited" : "synchronize_rcu",
    label: expedited ? "synchronize_rcu_expedited" : "synchronize_rcu",
    cost: expedited ? "rcuExpeditedBase" : "plain",
    mightSleep: true,
    run: (m, t) => {
      m.count(expedited ? "rcu_expedited_gp" : "rcu_gp");
      m.emit("rcu_gp_start", expedited ? "expedited" : "normal");
      const snap: GpSnapshot = { qs: [], passed: [] };
      for (let cpu = 0; cpu < m.cpuCount; cpu++) {
        const q = m.cpuQs(cpu);
        snap.qs.push(q.qs);
        // The caller's own CPU is quiescent: it is about to sleep.
        snap.passed.push(cpu === t.cpu || q.quiescentNow);
      }
      if (expedited) {
        m.chargeCpu(t.cpu, m.cost("rcuExpeditedPerCpu") * m.cpuCount);
        if (m.cpuCount > 1) ipiBroadcastNow(m, t.cpu, () => undefined, "rcu_exp_handler");
      }
      return snap;
    },
  });
}

function allPassed(m: Machine, snap: GpSnapshot): boolean {
  let all = true;
  for (let cpu = 0; cpu < m.cpuCount; cpu++) {
    if (snap.passed[cpu]) continue;
    const q = m.cpuQs(cpu);
    if (q.qs > snap.qs[cpu] || q.quiescentNow) snap.passed[cpu] = true; // latched
    else all = false;
  }
  return all;
}

function waitGp(m: Machine, snap: GpSnapshot, expedited: boolean): Op<void> {
  const state = rcuState(m);
  return op({
    kind: "rcu_gp_wait",
    label: expedited ? "synchronize_rcu_expedited wait" : "synchronize_rcu wait",
    reads: [state],
    cost: "schedule",
    block: Block.Sleep,
    enabled: (mm) => allPassed(mm, snap),
    // The grace period ended when the last CPU reported its quiescent state.
    wakeTime: (mm) => {
      let at = 0;
      for (let cpu = 0; cpu < mm.cpuCount; cpu++) at = Math.max(at, mm.cpuQs(cpu).at);
      return at;
    },
    waitFor: expedited ? "an expedited RCU grace period" : "an RCU grace period",
    run: (mm) => {
      mm.emit("rcu_gp_end", expedited ? "expedited" : "normal");
    },
  });
}

function* synchronize(expedited: boolean, m: Machine): TaskGen<void> {
  const snap = yield* startGp(expedited);
  if (!expedited) {
    yield* op({
      kind: "sleep",
      label: "rcu_gp_kthread",
      block: Block.Sleep,
      enabled: () => false,
      timeoutNs: m.cost("rcuGracePeriod"),
      waitFor: "the RCU grace-period kthread",
      run: () => undefined,
    });
  }
  yield* waitGp(m, snap, expedited);
}

export function* synchronizeRcu(): TaskGen<void> {
  yield* synchronize(false, currentMachine());
}

export function* synchronizeRcuExpedited(): TaskGen<void> {
  yield* synchronize(true, currentMachine());
}

export function rcuReadLock(): Op<void> {
  return op({ kind: "rcu_read_lock", label: "rcu_read_lock", cost: 1, run: (_m, t) => void t.rcuReadDepth++ });
}

export function rcuReadUnlock(): Op<void> {
  return op({
    kind: "rcu_read_unlock",
    label: "rcu_read_unlock",
    cost: 1,
    run: (m, t) => {
      t.rcuReadDepth--;
      if (t.rcuReadDepth === 0 && t.preemptCount === 0 && m.preemption === "full") m.reportQs(t.cpu);
    },
  });
}
