/**
 * `pnpm bench` for the catalog: how far exhaustive verification reaches on real races.
 *
 * Rows (every figure measured in this run, one worker, on this machine):
 * - DPOR per catalog scenario and headline kernel: executions, seconds, complete, the
 *   estimate of what is left when the per-cell budget (FOLIOSIM_BENCH_CELL_MS, default
 *   60 s) ran out. Target: complete within 60 s each.
 * - Machine steps/s per catalog scenario under random scheduling (traces off, as in
 *   exploration). Target: 1M steps/s.
 * - Scaling: anon-lru-add-batch and pkvm-mlock-cma with idle CPUs added, and
 *   anon-lru-add-batch with more concurrent pinners: DPOR executions and seconds to
 *   completion. An idle CPU must not multiply the execution count.
 * - Memory: RSS after 10^4 and 10^5 executions of one scenario.
 */

import { explore, type ExploreResult } from "@foliosim/explore";
import { CATALOG, getScenario } from "./catalog/index.js";
import { headlineKernels } from "./kernels.js";
import { scenarioTarget } from "./runner.js";
import type { Scenario } from "./schema.js";

/** Steps per execution, as the CLI: a livelocking execution ends there. */
const MAX_STEPS = 60_000;
const CELL_MS = Number(process.env.FOLIOSIM_BENCH_CELL_MS ?? 60_000);
const targets: { text: string; met: boolean }[] = [];

function print(line = ""): void {
  process.stdout.write(line + "\n");
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

function dpor(s: Scenario, kernel: string, wallMs = CELL_MS): { r: ExploreResult; seconds: number } {
  const started = performance.now();
  const r = explore(scenarioTarget(s, kernel), { strategy: { kind: "dpor" }, maxExecutions: 10_000_000, maxWallMs: wallMs, maxSteps: MAX_STEPS, stopAtFirstFailure: false, shrink: false });
  return { r, seconds: (performance.now() - started) / 1000 };
}

function dporCells(): void {
  print(`DPOR per catalog cell (one worker, ${CELL_MS / 1000} s budget per cell)`);
  print("  scenario                  kernel                 executions   seconds  complete  left (estimate)");
  let complete = 0;
  let cells = 0;
  for (const s of CATALOG) {
    for (const k of headlineKernels()) {
      const { r, seconds } = dpor(s, k);
      cells++;
      if (r.dpor?.complete) complete++;
      print(`  ${s.id.padEnd(25)} ${k.padEnd(22)} ${fmt(r.executions).padStart(10)} ${seconds.toFixed(1).padStart(9)}  ${r.dpor?.complete ? "yes     " : "no      "}  ${r.dpor?.complete ? "" : fmt(r.dpor?.estimatedRemaining ?? 0)}`);
    }
  }
  targets.push({ text: `every catalog cell complete within ${CELL_MS / 1000} s: ${complete} of ${cells}`, met: complete === cells });
}

function stepRates(): void {
  print();
  print("Machine steps/s per catalog scenario (random, 200 executions, traces off, set-up included)");
  let slowest = Infinity;
  for (const s of CATALOG) {
    const kernel = headlineKernels().at(-1)!;
    const started = performance.now();
    const r = explore(scenarioTarget(s, kernel), { strategy: { kind: "random", seed: 1 }, maxExecutions: 200, maxWallMs: CELL_MS, maxSteps: MAX_STEPS, stopAtFirstFailure: false, shrink: false });
    const seconds = (performance.now() - started) / 1000;
    const rate = r.steps / seconds;
    slowest = Math.min(slowest, rate);
    print(`  ${s.id.padEnd(25)} ${fmt(r.steps / r.executions).padStart(6)} steps/execution ${fmt(r.executions / seconds).padStart(7)} executions/s ${fmt(rate).padStart(10)} steps/s`);
  }
  targets.push({ text: `catalog at >= 1M machine steps/s on one core: slowest ${fmt(slowest)}`, met: slowest >= 1_000_000 });
}

function withCpus(s: Scenario, cpus: number): Scenario {
  return { ...s, id: `${s.id}+cpus${cpus}`, machine: { ...s.machine, cpus } };
}

function withPinners(s: Scenario, n: number): Scenario {
  const pinner = s.tasks[0];
  const tasks = Array.from({ length: n }, (_, i) => ({ ...pinner, name: `${pinner.name}${i}`, cpu: 1 + (i % Math.max(1, Number(s.machine.cpus) - 1)) }));
  return { ...s, id: `${s.id}+pinners${n}`, tasks };
}

function scaling(): void {
  print();
  print("Scaling (DPOR to completion, or the per-cell budget)");
  const rows: [string, Scenario, string][] = [];
  for (const id of ["anon-lru-add-batch", "pkvm-mlock-cma"]) {
    const s = getScenario(id);
    const base = Number(s.machine.cpus);
    for (const cpus of [base, 2 * base, 4 * base, 16].filter((c, i, a) => a.indexOf(c) === i && c >= base)) rows.push([`${id} cpus=${cpus}`, withCpus(s, cpus), "linux-7.0"]);
  }
  const s2 = getScenario("anon-lru-add-batch");
  for (const n of [1, 2, 3, 4]) rows.push([`anon-lru-add-batch pinners=${n}`, withPinners(withCpus(s2, 5), n), "linux-7.0"]);
  let idleCost = 1;
  const first: Record<string, number> = {};
  for (const [label, s, kernel] of rows) {
    const { r, seconds } = dpor(s, kernel);
    print(`  ${label.padEnd(36)} ${fmt(r.executions).padStart(10)} executions ${seconds.toFixed(1).padStart(7)} s  ${r.dpor?.complete ? "complete" : `not complete, ~${fmt(r.dpor?.estimatedRemaining ?? 0)} left`}`);
    const key = label.replace(/ cpus=\d+/, "");
    if (label.includes("cpus=")) {
      first[key] ??= r.executions;
      idleCost = Math.max(idleCost, r.executions / first[key]);
    }
  }
  targets.push({ text: `idle CPUs do not multiply DPOR executions: worst ratio ${idleCost.toFixed(2)}x`, met: idleCost <= 1.01 });
}

function memory(): void {
  print();
  const s = getScenario("anon-lru-add-batch");
  const target = scenarioTarget(s, "linux-7.0");
  for (const n of [10_000, 100_000]) {
    explore(target, { strategy: { kind: "random", seed: 2 }, maxExecutions: n, maxSteps: MAX_STEPS, stopAtFirstFailure: false, shrink: false });
    print(`RSS after ${fmt(n)} random executions of anon-lru-add-batch: ${fmt(process.memoryUsage().rss / 2 ** 20)} MiB`);
  }
}

print("foliosim catalog bench");
print();
dporCells();
stepRates();
scaling();
memory();
print();
print("Targets");
for (const t of targets) print(`  ${t.met ? "met   " : "MISSED"} ${t.text}`);
