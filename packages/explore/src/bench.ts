/**
 * `pnpm bench`: the explorer against its peers on the four benchmark programs.
 *
 * Per program and tool: executions (states for spin) and wall time to the first bug
 * over 30 seeds (median, p90, censored count), executions and time to exhaust the
 * fixed variant, executions/s, steps/s, memory. Then explorer steps/s against a bare
 * generator loop, and a matrix on 1 vs 2 workers. Every ratio is computed in this run;
 * every target is printed with "met" or "MISSED".
 */

import { availableParallelism } from "node:os";
import { explore, type ExploreResult, type StrategySpec } from "./explore.js";
import { runMatrix, type MatrixSpec } from "./matrix.js";
import { quantile } from "./stats.js";
import type { ExploreTarget } from "./target.js";
import { bareCounterSteps } from "./bench/bare.js";
import { threadCeiling } from "./bench/thread-ceiling.js";
import { fcBatchRef, fcCounter, fcCounters, fcFirstFailure, fcRunahead, fcWindow } from "./bench/fastcheck.js";
import { batchRef, counter, runahead, windowProgram, type Variant } from "./bench/programs.js";
import { pmlBatchRef, pmlCounter, pmlRunahead, pmlWindow, runSpin, spinAvailable } from "./bench/promela.js";

const SEEDS = 30;
const SAMPLER_CAP = 2_000;
const FAST_CHECK_CAP = 2_000;

interface Program {
  name: string;
  /** The bug's depth in PCT's sense, for the PCT row run at that depth. */
  bugDepth: number;
  sim: (variant: Variant) => ExploreTarget;
  fastCheck: (variant: Variant) => Parameters<typeof fcFirstFailure>[0];
  promela: (variant: Variant) => string;
}

const programs: Program[] = [
  { name: "B0 counter(3,3)", bugDepth: 2, sim: (v) => counter(3, 3, v), fastCheck: (v) => fcCounter(3, 3, v), promela: (v) => pmlCounter(3, 3, v) },
  { name: "B1 runahead(24)", bugDepth: 1, sim: (v) => runahead(24, v), fastCheck: (v) => fcRunahead(24, v), promela: (v) => pmlRunahead(24, v) },
  { name: "B2 window(64)", bugDepth: 2, sim: (v) => windowProgram(64, v), fastCheck: (v) => fcWindow(64, v), promela: (v) => pmlWindow(64, v) },
  { name: "B3 batch-ref(8,3)", bugDepth: 2, sim: (v) => batchRef(8, 3, v), fastCheck: (v) => fcBatchRef(8, 3, v), promela: (v) => pmlBatchRef(8, 3, v) },
];

const targets: { text: string; met: boolean }[] = [];
function target(text: string, met: boolean): void {
  targets.push({ text, met });
}

function print(line = ""): void {
  process.stdout.write(line + "\n");
}

function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

interface SeedSummary {
  median: number;
  p90: number;
  censored: number;
  medianMs: number;
}

/** Executions to the first bug per seed; censored runs count as +Infinity. */
function summariseSeeds(found: number[], ms: number[]): SeedSummary {
  return { median: quantile(found, 0.5), p90: quantile(found, 0.9), censored: found.filter((f) => !Number.isFinite(f)).length, medianMs: quantile(ms, 0.5) };
}

function describeSeeds(s: SeedSummary, cap: number): string {
  const show = (v: number) => (Number.isFinite(v) ? fmt(v) : `>${fmt(cap)}`);
  return `median ${show(s.median)}, p90 ${show(s.p90)}, censored ${s.censored}/${SEEDS} (cap ${fmt(cap)}), median time ${fmt(s.medianMs, 1)} ms`;
}

function samplerSeeds(target: ExploreTarget, strategy: (seed: number) => StrategySpec, cap: number): SeedSummary {
  const found: number[] = [];
  const ms: number[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const started = performance.now();
    const result = explore(target, { strategy: strategy(seed), maxExecutions: cap, shrink: false });
    ms.push(performance.now() - started);
    found.push(result.firstFailure ? result.firstFailure.execution : Infinity);
  }
  return summariseSeeds(found, ms);
}

function throughput(target: ExploreTarget, executions: number): { executionsPerSecond: number; stepsPerSecond: number; result: ExploreResult } {
  explore(target, { strategy: { kind: "random", seed: 99 }, maxExecutions: Math.min(2_000, executions), stopAtFirstFailure: false, shrink: false }); // warm-up
  const started = performance.now();
  const result = explore(target, { strategy: { kind: "random", seed: 1 }, maxExecutions: executions, stopAtFirstFailure: false, shrink: false });
  const seconds = (performance.now() - started) / 1000;
  return { executionsPerSecond: result.executions / seconds, stepsPerSecond: result.steps / seconds, result };
}

function heapMb(): number {
  return process.memoryUsage().heapUsed / 1e6;
}

async function fastCheckRow(program: Program): Promise<void> {
  const found: number[] = [];
  const ms: number[] = [];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const started = performance.now();
    const outcome = await fcFirstFailure(program.fastCheck("buggy"), seed, FAST_CHECK_CAP);
    ms.push(performance.now() - started);
    found.push(outcome.failed ? outcome.runs : Infinity);
  }
  print(`  fast-check  first bug: ${describeSeeds(summariseSeeds(found, ms), FAST_CHECK_CAP)}`);
  const before = fcCounters.ticks;
  const started = performance.now();
  const outcome = await fcFirstFailure(program.fastCheck("fixed"), 1, FAST_CHECK_CAP);
  const seconds = (performance.now() - started) / 1000;
  const ticks = fcCounters.ticks - before;
  print(`  fast-check  fixed: ${fmt(outcome.runs)} runs (a random walk: it cannot exhaust), ${fmt(outcome.runs / seconds)} runs/s, ${fmt(ticks / seconds)} steps/s, heap ${fmt(heapMb())} MB`);
}

function spinRow(program: Program): void {
  if (!spinAvailable()) {
    print("  spin        skipped: spin or gcc is not installed (apt-get install spin gcc)");
    return;
  }
  try {
    const buggy = runSpin(program.promela("buggy"));
    print(`  spin        first bug: ${buggy.errors > 0 ? "found" : "NOT found"} after ${fmt(buggy.statesStored)} states, ${fmt(buggy.wallMs, 1)} ms (deterministic DFS: one run, seeds do not apply)`);
    const fixed = runSpin(program.promela("fixed"));
    print(`  spin        fixed: ${fixed.errors === 0 ? "exhausted" : "error!"}: ${fmt(fixed.statesStored)} states, ${fmt(fixed.wallMs, 1)} ms, ${fmt(fixed.statesPerSecond)} states/s (pan wall time, start-up included), memory ${fmt(fixed.memoryMb, 1)} MB`);
  } catch (error) {
    print(`  spin        skipped: ${(error as Error).message.split("\n")[0]}`);
  }
}

async function programRows(program: Program): Promise<void> {
  print(`\n${program.name}`);
  const buggy = program.sim("buggy");
  const fixed = program.sim("fixed");
  const random = samplerSeeds(buggy, (seed) => ({ kind: "random", seed }), SAMPLER_CAP);
  print(`  foliosim random   first bug: ${describeSeeds(random, SAMPLER_CAP)}`);
  const pct = samplerSeeds(buggy, (seed) => ({ kind: "pct", seed, depth: 3 }), SAMPLER_CAP);
  print(`  foliosim pct d=3  first bug: ${describeSeeds(pct, SAMPLER_CAP)}`);
  const pctAtDepth = samplerSeeds(buggy, (seed) => ({ kind: "pct", seed, depth: program.bugDepth }), SAMPLER_CAP);
  print(`  foliosim pct d=${program.bugDepth}  first bug: ${describeSeeds(pctAtDepth, SAMPLER_CAP)} (d = the bug's depth)`);
  const classic = samplerSeeds(buggy, (seed) => ({ kind: "pct", seed, depth: 3, points: "all" }), SAMPLER_CAP);
  print(`  classic pct d=3   first bug: ${describeSeeds(classic, SAMPLER_CAP)} (every choice point a scheduling point)`);
  let started = performance.now();
  const dporBug = explore(buggy, { strategy: { kind: "dpor" }, shrink: false });
  print(`  foliosim dpor     first bug: execution ${dporBug.firstFailure?.execution ?? "none"}, ${fmt(performance.now() - started, 1)} ms`);
  started = performance.now();
  const dporFixed = explore(fixed, { strategy: { kind: "dpor" }, maxExecutions: 1_000_000 });
  print(`  foliosim dpor     fixed: ${dporFixed.dpor!.complete ? "exhausted" : "NOT exhausted"} in ${fmt(dporFixed.executions)} executions, ${fmt(performance.now() - started, 1)} ms, verdict ${dporFixed.verdict}`);
  const speed = throughput(fixed, 20_000);
  print(`  foliosim          ${fmt(speed.executionsPerSecond)} executions/s, ${fmt(speed.stepsPerSecond)} steps/s (random, trace and footprints on), heap ${fmt(heapMb())} MB`);
  if (program.name.startsWith("B0")) {
    target(`B0(3,3): ≥ 50k executions/s (measured ${fmt(speed.executionsPerSecond)})`, speed.executionsPerSecond >= 50_000);
    target(`B0(3,3): ≥ 2M steps/s with footprints and trace on (measured ${fmt(speed.stepsPerSecond)}; 9-step executions, so machine set-up counts)`, speed.stepsPerSecond >= 2_000_000);
    // The same program with long executions: the per-step cost without the set-up.
    const long = throughput(counter(3, 1_000, "fixed"), 300);
    print(`  foliosim          counter(3,1000), 3,000-step executions: ${fmt(long.stepsPerSecond)} steps/s (random, trace and footprints on)`);
    target(`counter(3,1000): ≥ 2M steps/s with footprints and trace on, per step (measured ${fmt(long.stepsPerSecond)})`, long.stepsPerSecond >= 2_000_000);
    bareRow(speed.stepsPerSecond);
  }
  if (program.name.startsWith("B1")) {
    target(`B1(24): PCT median ≤ 5 executions, d=3 (measured ${fmt(pct.median)})`, pct.median <= 5);
    target(`B1(24): PCT median ≤ 5 executions, d=1 (measured ${fmt(pctAtDepth.median)})`, pctAtDepth.median <= 5);
  }
  if (program.name.startsWith("B2")) {
    target(`B2(64): PCT median ≤ 200 executions, d=3 (measured ${Number.isFinite(pct.median) ? fmt(pct.median) : ">" + SAMPLER_CAP})`, pct.median <= 200);
    target(`B2(64): PCT median ≤ 200 executions, d=2 (measured ${Number.isFinite(pctAtDepth.median) ? fmt(pctAtDepth.median) : ">" + SAMPLER_CAP})`, pctAtDepth.median <= 200);
    const long = explore(buggy, { strategy: { kind: "random", seed: 1 }, maxExecutions: 100_000, shrink: false });
    print(`  foliosim random   10^5 executions, seed 1: ${long.firstFailure ? `found at ${long.firstFailure.execution}` : "nothing found"}`);
    target(`B2(64): random finds nothing in 10^5 executions (${long.firstFailure ? "it found the bug" : "nothing found"})`, !long.firstFailure);
    target(`B2(64) fixed: DPOR exhausts with ≤ 5,000 executions (measured ${fmt(dporFixed.executions)}, complete ${dporFixed.dpor!.complete})`, dporFixed.dpor!.complete && dporFixed.executions <= 5_000);
  }
  await fastCheckRow(program);
  spinRow(program);
}

function bareRow(explorerStepsPerSecond: number): void {
  bareCounterSteps(3, 3, 20_000, 7); // warm-up
  const started = performance.now();
  const bare = bareCounterSteps(3, 3, 200_000, 1);
  const perSecond = bare.steps / ((performance.now() - started) / 1000);
  print(`  bare generator loop (the limit): ${fmt(perSecond)} steps/s; explorer reaches ${fmt((100 * explorerStepsPerSecond) / perSecond, 1)}% of it`);
}

function livenessRow(): void {
  print("\nB3 batch-ref(8,3) liveness variant (CPU0 re-adds after every drain)");
  const result = explore(batchRef(8, 3, "liveness"), { strategy: { kind: "random", seed: 1 }, maxExecutions: 20 });
  const hang = result.firstFailure?.explanation.hang;
  if (!hang) {
    print("  NO livelock reported");
    target("B3 liveness: livelock reported with task names and wait reasons", false);
    return;
  }
  print(`  ${result.firstFailure!.kind} at execution ${result.firstFailure!.execution}, shrunk token ${result.firstFailure!.shrunk.token}`);
  for (const task of hang.tasks) print(`    ${task.task} (CPU${task.cpu}) ${task.state}: ${task.waitsFor}`);
  target("B3 liveness: livelock reported with task names and wait reasons", hang.tasks.length >= 2 && hang.tasks.every((t) => t.waitsFor.length > 0));
}

async function workersRow(): Promise<void> {
  print("\nVerdict matrix on the worker pool (4 cells of PCT on B2(64) buggy, 20,000 executions each, counting on)");
  const spec: MatrixSpec = {
    loaderModule: new URL("./bench-loader.js", import.meta.url).href,
    scenarios: ["B2-window(64)"],
    kernels: ["buggy"],
    strategies: [1, 2, 3, 4].map((seed) => ({ name: `pct-s${seed}`, options: { strategy: { kind: "pct", seed }, maxExecutions: 20_000, stopAtFirstFailure: false, shrink: false } })),
  };
  await runMatrix(spec, { workers: 1 }); // warm-up (worker start-up, JIT)
  const time = async (workers: number) => {
    const started = performance.now();
    const document = await runMatrix(spec, { workers });
    return { ms: performance.now() - started, json: JSON.stringify(document) };
  };
  const one = await time(1);
  const two = await time(2);
  const speedup = one.ms / two.ms;
  print(`  1 worker ${fmt(one.ms)} ms, 2 workers ${fmt(two.ms)} ms: ${fmt(speedup, 2)}x on ${availableParallelism()} CPUs; identical results: ${one.json === two.json}`);
  const ceiling = await threadCeiling();
  print(`  the machine's own ceiling: the same allocating loop on 1 and 2 bare worker threads runs ${fmt(ceiling, 2)}x faster on 2`);
  target(`2 workers ≥ 1.8x one worker (measured ${fmt(speedup, 2)}x; bare threads reach ${fmt(ceiling, 2)}x here)`, speedup >= 1.8 && one.json === two.json);
}

async function main(): Promise<void> {
  print(`foliosim explorer benchmark — node ${process.version}, ${availableParallelism()} CPUs`);
  print(`samplers: ${SEEDS} seeds, first bug capped at ${fmt(SAMPLER_CAP)} executions (fast-check: ${fmt(FAST_CHECK_CAP)} runs)`);
  for (const program of programs) await programRows(program);
  livenessRow();
  await workersRow();
  print(`\npeak RSS of this process: ${fmt(process.resourceUsage().maxRSS / 1024)} MB`);
  print("\nTargets");
  for (const t of targets) print(`  ${t.met ? "met   " : "MISSED"} ${t.text}`);
}

await main();
