/**
 * Worker entry for one exploration (built to dist/explore-worker.js): loads the target
 * like the matrix workers do, explores it (with DPOR's deepening fallback when asked),
 * and posts progress, each distinct failure when found, the fallback's start, and the result.
 */

import { parentPort, workerData } from "node:worker_threads";
import { exploreWithFallback } from "@foliosim/explore";
import type { ExploreJob } from "./explore-session.js";
import { fallbackHooks, progressEvery, watchFailures } from "./explore-session.js";
import load from "./loader.js";

const job = workerData as ExploreJob;
const port = parentPort!;
try {
  const started = performance.now();
  const target = watchFailures(load(job.scenarioId, job.kernelId), (failure) => port.postMessage({ type: "failure", failure }));
  const result = exploreWithFallback(
    target,
    {
      ...job.options,
      progressEvery: progressEvery(job.options),
      onProgress: (progress) => port.postMessage({ type: "progress", progress: { ...progress, elapsedMs: performance.now() - started } }),
    },
    fallbackHooks((start) => port.postMessage({ type: "fallback", start })),
  );
  port.postMessage({ type: "done", result });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  port.postMessage({ type: "error", name: e.name, message: e.message });
}
