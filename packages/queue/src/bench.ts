/**
 * `pnpm bench` (queue): the same DPOR proof split through the queue on 1 worker process,
 * then on 2, with this machine's own two-thread ceiling beside it, and the proof in one
 * process without the queue for reference. Needs `redis-server` (started on a free
 * loopback port, persistence off, stopped after); without it the row says so.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { explore, type CellOptions, type ExploreTarget } from "@foliosim/explore";
import { Redis } from "ioredis";
import { runDporOnQueue } from "./index.js";
import { redisAvailable, startRedis, stopChild } from "./testing.js";

const SCENARIO = "B0-counter(3,4)";
const KERNEL = "fixed";
const SPLIT_AFTER = 2_000;
const MODEL = "bench";
const OPTIONS: CellOptions = { strategy: { kind: "dpor" }, stopAtFirstFailure: false, shrink: false, maxExecutions: 1_000_000 };

const require = createRequire(import.meta.url);
const exploreDevDir = join(dirname(require.resolve("@foliosim/explore/package.json")), "dist-dev");
const loader = pathToFileURL(join(exploreDevDir, "bench-loader.js")).href;

/** The explorer bench's two-thread ceiling (one loop, built to its dist-dev/). */
async function threadCeiling(): Promise<number> {
  const mod = (await import(pathToFileURL(join(exploreDevDir, "thread-ceiling.js")).href)) as { threadCeiling: () => Promise<number> };
  return mod.threadCeiling();
}

function print(line = ""): void {
  process.stdout.write(line + "\n");
}

async function spawnWorker(url: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL("./bench-worker.js", import.meta.url));
  const options = { url, loaderModule: loader, modelVersion: MODEL, processorFile: fileURLToPath(new URL("../dist/processor.js", import.meta.url)) };
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bench worker did not start within 30 s")), 30_000);
    child.stdout!.once("data", () => (clearTimeout(timer), resolve()));
  });
  return child;
}

async function throughQueue(url: string, workers: number): Promise<{ ms: number; executions: number; jobs: number; json: string }> {
  const admin = new Redis(url);
  await admin.flushall(); // no reuse between rows
  admin.disconnect();
  const children = await Promise.all(Array.from({ length: workers }, () => spawnWorker(url)));
  try {
    const started = performance.now();
    const { result, outputs } = await runDporOnQueue({ scenarioId: SCENARIO, kernelId: KERNEL }, OPTIONS, { url, modelVersion: MODEL, splitAfter: SPLIT_AFTER, pollMs: 20, timeoutMs: 600_000 });
    return { ms: performance.now() - started, executions: result.executions, jobs: outputs.length, json: JSON.stringify(result) };
  } finally {
    await Promise.all(children.map((child) => stopChild(child, 10_000)));
  }
}

async function main(): Promise<void> {
  print(`foliosim queue benchmark — node ${process.version}, ${availableParallelism()} CPUs`);
  print(`\nOne DPOR proof (${SCENARIO} ${KERNEL}, exhaustive) split every ${SPLIT_AFTER} executions, through BullMQ on a loopback redis-server`);
  if (!redisAvailable()) {
    print("  skipped: redis-server is not installed (apt-get install redis-server)");
    return;
  }
  const load = ((await import(loader)) as { default: (s: string, k: string) => ExploreTarget }).default;
  const started = performance.now();
  const single = explore(load(SCENARIO, KERNEL), OPTIONS);
  const singleMs = performance.now() - started;
  print(`  in one process, unsplit: ${single.executions} executions in ${Math.round(singleMs)} ms`);
  const redis = await startRedis();
  try {
    await throughQueue(redis.url, 1); // warm-up (process start-up, JIT)
    const one = await throughQueue(redis.url, 1);
    const two = await throughQueue(redis.url, 2);
    const speedup = one.ms / two.ms;
    print(`  1 worker process ${Math.round(one.ms)} ms, 2 worker processes ${Math.round(two.ms)} ms: ${speedup.toFixed(2)}x; ${one.jobs} sub-jobs, ${one.executions} executions (unsplit: ${single.executions}; a split may add some where sleep sets are dropped); identical results on 1 and 2: ${one.json === two.json}`);
    const ceiling = await threadCeiling();
    print(`  the machine's own ceiling: the same allocating loop on 1 and 2 bare worker threads runs ${ceiling.toFixed(2)}x faster on 2`);
  } finally {
    await redis.stop();
  }
}

await main();
