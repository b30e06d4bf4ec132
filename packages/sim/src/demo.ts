/**
 * Demonstration of the machine: the RT-starvation mechanism of seeds 002/003 in
 * miniature. Task A on CPU0 holds a lock and waits in flush_work() for a drain queued
 * on CPU1; task B on CPU1 spins on a trylock of that lock. Printed for each policy
 * of B and preemption model: the verdict and a short trace.
 */

import { fmtNs, TimedChooser, type PreemptionModel } from "./index.js";
import { buildStarvation } from "./starvation.js";

function build(policy: "normal" | "fifo", preemption: PreemptionModel, condReschedInLoop: boolean) {
  return buildStarvation(policy, preemption, condReschedInLoop ? "spin-cond-resched" : "spin");
}

const rows: [string, "normal" | "fifo", PreemptionModel, boolean][] = [
  ["B SCHED_FIFO spinning, PREEMPT_VOLUNTARY", "fifo", "voluntary", false],
  ["B SCHED_FIFO with cond_resched(), PREEMPT_VOLUNTARY", "fifo", "voluntary", true],
  ["B SCHED_NORMAL spinning, PREEMPT_NONE", "normal", "none", false],
  ["B SCHED_NORMAL with cond_resched(), PREEMPT_NONE", "normal", "none", true],
  ["B SCHED_NORMAL spinning, PREEMPT_FULL", "normal", "full", false],
];

console.log("foliosim machine demo: a kworker starved by a spinning task (seeds 002/003 in miniature)\n");
for (const [title, policy, preemption, cr] of rows) {
  const r = build(policy, preemption, cr).run(new TimedChooser(1));
  const verdict = r.status === "done" ? "✓ completes" : r.status === "livelock" ? "⟳ livelock" : `✗ ${r.status}`;
  console.log(`${verdict.padEnd(14)} ${title}  (${r.steps} steps, ${fmtNs(r.virtualNs)} virtual)`);
  if (r.hang) for (const t of r.hang.tasks) console.log(`    ${t.task} on CPU${t.cpu}: ${t.state}: ${t.waitsFor}`);
}

const r = build("fifo", "voluntary", false).run(new TimedChooser(1));
console.log("\nshort trace of the livelocked run (first 14 scheduling events):");
const names = r.taskTable.map((t) => t.name);
for (const e of r.trace.filter((e) => e.type !== "op" || !/cpu_relax|trylock/.test(e.name ?? "")).slice(0, 14)) {
  console.log(`  ${fmtNs(e.t).padStart(12)}  CPU${e.cpu}  ${(names[e.task] ?? "-").padEnd(12)} ${e.type} ${e.name ?? ""}`);
}
console.log(`  ... B then retries its trylock ${r.counters.spins} times while kworker/1:1 never gets CPU1.`);
