/**
 * Cross-CPU function calls (kernel/smp.c): `smp_call_function_single` and
 * `smp_call_function` (all other CPUs), with wait.
 *
 * The handler is a plain function run atomically in the sender's step; its cost is
 * charged to the target CPU's clock (it interrupts whatever runs there) and the IPI
 * latency to the sender. Simplification: interrupts are never disabled long enough
 * to delay delivery.
 */

import type { Machine } from "./machine.js";
import { op, type Op } from "./op.js";

export type IpiHandler = (m: Machine, cpu: number) => void;

export function smpCallFunctionSingle(cpu: number, fn: IpiHandler, label = "ipi"): Op<void> {
  return op({
    kind: "smp_call_function_single",
    label: `smp_call_function_single(${cpu}, ${label})`,
    cost: "ipi",
    run: (m, t) => {
      if (cpu < 0 || cpu >= m.cpuCount) throw new RangeError(`smp_call_function_single: no CPU ${cpu}`);
      m.count("ipi");
      m.event("ipi", label).arg("from", t.cpu).arg("to", cpu);
      if (cpu !== t.cpu) m.chargeCpu(cpu, m.cost("ipi") / 2);
      fn(m, cpu);
    },
  });
}

/** Run `fn` on every other CPU and wait: one IPI broadcast. */
export function smpCallFunction(fn: IpiHandler, label = "ipi"): Op<void> {
  return op({
    kind: "smp_call_function",
    label: `smp_call_function(${label})`,
    cost: 0,
    run: (m, t) => ipiBroadcastNow(m, t.cpu, fn, label),
  });
}

/** The body of one IPI broadcast with wait, for ops that send several in one step. */
export function ipiBroadcastNow(m: Machine, from: number, fn: IpiHandler, label: string): void {
  m.count("ipi_broadcast");
  m.event("ipi", label).arg("from", from).arg("to", "all");
  const others = m.cpuCount - 1;
  m.chargeCpu(from, m.cost("ipiBroadcast") + m.cost("ipiPerCpu") * others);
  for (let cpu = 0; cpu < m.cpuCount; cpu++) {
    if (cpu === from) continue;
    m.chargeCpu(cpu, m.cost("ipiPerCpu"));
    fn(m, cpu);
  }
}
