/**
 * `foliosim worker --queue <redis-url> [--concurrency n]`: take matrix cells and DPOR
 * sub-jobs from the queue until stopped. The first SIGTERM (or Ctrl-C) lets the running
 * jobs finish and stops; a second one returns the running jobs to the queue at once
 * (another worker then runs them from the start) and stops.
 */

import { startQueueWorker, redactUrl, type QueueWorker } from "@foliosim/queue";
import { UsageError } from "../errors.js";
import { EXIT, type ExitCode } from "../exit-codes.js";
import { modelVersion } from "../model-version.js";
import { loaderModule } from "./compare.js";

export interface WorkerCommandOptions {
  queue: string;
  concurrency?: number;
  /** Job lease in ms (default 30,000). */
  lockDurationMs?: number;
  /** Stalled-job check interval in ms (default 30,000). */
  stalledIntervalMs?: number;
  log: (line: string) => void;
}

export async function workerCommand(options: WorkerCommandOptions): Promise<ExitCode> {
  if (!options.queue) throw new UsageError("worker needs --queue <redis-url> (for example redis://127.0.0.1:6379)");
  const worker = await startQueueWorker({
    url: options.queue,
    concurrency: options.concurrency,
    loaderModule: loaderModule(),
    modelVersion: modelVersion(),
    lockDurationMs: options.lockDurationMs,
    stalledIntervalMs: options.stalledIntervalMs,
    log: options.log,
  });
  options.log(`foliosim worker ${worker.name}: taking jobs from ${redactUrl(options.queue)}, ${options.concurrency ?? 1} at a time; SIGTERM or Ctrl-C finishes the running jobs and stops, a second one returns them to the queue`);
  const signals = stopOnSignals(worker, options.log);
  try {
    const stop = await worker.stopped;
    if (stop.reason === "model-mismatch") return EXIT.usage;
    return signals.interrupted() ? EXIT.interrupted : EXIT.ok;
  } finally {
    signals.off();
  }
}

function stopOnSignals(worker: QueueWorker, log: (line: string) => void): { off(): void; interrupted(): boolean } {
  let count = 0;
  let sigint = false;
  const handler = (signal: NodeJS.Signals): void => {
    count++;
    if (signal === "SIGINT") sigint = true;
    if (count === 1) {
      log(`${signal}: finishing the running jobs, then stopping`);
      void worker.close(false);
    } else {
      log(`${signal} again: returning the running jobs to the queue and stopping`);
      void worker.close(true);
    }
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    off: () => {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
    interrupted: () => sigint,
  };
}
