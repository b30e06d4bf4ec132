/**
 * `pnpm bench` for the machine: steps per second on a four-task program (two CPUs,
 * full preemption, seeded random schedules), with the trace recorded and without,
 * against a bare generator loop running the same number of yields (the limit).
 */

import { Cell, Machine, SeededChooser, atomicAdd, atomicRead, writeOnce, condResched, type Program } from "./index.js";

const fourTasks: Program = (m) => {
  const shared = [new Cell("a", 0), new Cell("b", 0)];
  for (let i = 0; i < 4; i++) {
    m.spawn({
      name: `t${i}`,
      cpu: i % 2,
      *body() {
        for (let k = 0; k < 25; k++) {
          const c = shared[(i + k) % 2];
          const v = yield* atomicRead(c);
          yield* writeOnce(c, v + 1);
          yield* atomicAdd(shared[k % 2], 1);
          if (k % 5 === 0) yield* condResched();
        }
      },
    });
  }
};

function measure(trace: boolean, seconds: number): { steps: number; execs: number; secs: number } {
  let steps = 0;
  let execs = 0;
  const start = performance.now();
  let seed = 0;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 50; i++) {
      const m = new Machine({ cpus: 2, preemption: "full", trace });
      fourTasks(m);
      const r = m.run(new SeededChooser(seed++));
      steps += r.steps;
      execs++;
    }
  }
  return { steps, execs, secs: (performance.now() - start) / 1000 };
}

function bareLoop(seconds: number): number {
  function* task(n: number): Generator<number, void, number> {
    let v = 0;
    for (let k = 0; k < n; k++) v = yield v + 1;
  }
  let steps = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    const gens = [task(80), task(80), task(80), task(80)];
    let live = 4;
    let i = 0;
    while (live > 0) {
      const g = gens[i % 4];
      if (g !== null) {
        const r = g.next(i);
        steps++;
        if (r.done) live--;
      }
      i++;
      if (i > 400) break;
    }
  }
  return steps / ((performance.now() - start) / 1000);
}

const secs = Number(process.env.FOLIOSIM_BENCH_SECONDS ?? 2);
measure(true, 0.3); // warm-up
const on = measure(true, secs);
const off = measure(false, secs);
const bare = bareLoop(secs);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log("@foliosim/sim — four tasks on two CPUs, full preemption, seeded random schedules");
console.log(`  trace on : ${fmt(on.steps / on.secs)} steps/s, ${fmt(on.execs / on.secs)} executions/s (${fmt(on.steps / on.execs)} steps each)`);
console.log(`  trace off: ${fmt(off.steps / off.secs)} steps/s, ${fmt(off.execs / off.secs)} executions/s`);
console.log(`  bare generator loop (the limit): ${fmt(bare)} yields/s`);
console.log(`  ratio machine/bare: ${((on.steps / on.secs / bare) * 100).toFixed(1)}% (trace on), ${((off.steps / off.secs / bare) * 100).toFixed(1)}% (trace off)`);
