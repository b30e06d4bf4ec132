/**
 * Worker entry (built to dist/tui/replay-worker.js): opens one counterexample or writes
 * one export off the TUI's thread, and posts the result.
 */

import { parentPort, workerData } from "node:worker_threads";
import { writeFileAtomic } from "../fs-atomic.js";
import { exportText, openTrace, type ReplayJob, type TraceFormat } from "./replay-job.js";

const job = workerData as ReplayJob & { export?: { format: TraceFormat; path: string } };
const port = parentPort!;
try {
  if (job.export) {
    writeFileAtomic(job.export.path, exportText(job, job.export.format));
    port.postMessage({ type: "done", result: job.export.path });
  } else port.postMessage({ type: "done", result: openTrace(job) });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  port.postMessage({ type: "error", name: e.name, message: e.message });
}
