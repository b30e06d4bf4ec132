/**
 * What two threads can gain on this machine at all: a fixed allocating loop (objects
 * and closures, like an execution's) on 1 thread, then on 2 threads at once. On a
 * virtual machine whose two CPUs are not two free cores, this is below 2. Shared by the
 * explorer's benchmark and the queue's (built to dist-dev/thread-ceiling.js).
 */

import { Worker } from "node:worker_threads";

const LOOP = `
  const { parentPort } = require("node:worker_threads");
  let sink = 0;
  for (let round = 0; round < 400; round++) {
    const objects = [];
    for (let i = 0; i < 20000; i++) objects.push({ i, f: () => i + round });
    for (const o of objects) sink += o.f();
  }
  parentPort.postMessage(sink);
`;

function runThreads(threads: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const started = performance.now();
    let left = threads;
    for (let t = 0; t < threads; t++) {
      const worker = new Worker(LOOP, { eval: true });
      worker.once("error", reject);
      worker.once("message", () => {
        void worker.terminate();
        if (--left === 0) resolve(performance.now() - started);
      });
    }
  });
}

/** The speed-up of 2 threads over 1 on the same loop (2 on two free cores). */
export async function threadCeiling(): Promise<number> {
  await runThreads(1); // warm-up
  const one = await runThreads(1);
  const two = await runThreads(2);
  return (2 * one) / two;
}
