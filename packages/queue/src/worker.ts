/**
 * `foliosim worker`: a BullMQ worker that takes matrix cells and DPOR sub-jobs until it
 * is stopped.
 *
 * Processors are sandboxed (a processor file run in worker threads): exploration is
 * CPU-bound, and an inline processor would block the event loop that renews the job's
 * lock, so a long cell would be declared stalled and run again elsewhere. Inline mode is
 * refused here, at configuration time.
 *
 * Leases: a job's lock lasts `lockDurationMs` and is renewed at half that while the job
 * runs; a worker that dies (kill -9) stops renewing, and the stalled-job check
 * (`stalledIntervalMs`) of any live worker puts the job back in the queue. A job is
 * accepted once: only the holder of the current lock can complete it.
 */

import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { connectRedis } from "./connection.js";
import { LOADER_ENV, MODEL_VERSION_ENV } from "./env.js";
import { QueueConfigError } from "./errors.js";
import { MODEL_MISMATCH, QUEUE_NAME, type JobData } from "./jobs.js";

export interface QueueWorkerOptions {
  /** redis://host:port */
  url: string;
  /** Jobs run at once (each in its own worker thread); default 1. */
  concurrency?: number;
  /** File URL or path of the target loader module. */
  loaderModule: string;
  modelVersion: string;
  /** "worker-threads" (default) or "child-process"; "inline" is refused. */
  sandbox?: "worker-threads" | "child-process" | "inline";
  /** Lease of a running job (default 30,000 ms). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 30,000 ms). */
  stalledIntervalMs?: number;
  /** How many times a job may be recovered from a dead worker before it fails (default 5). */
  maxStalledCount?: number;
  /** The built processor (default dist/processor.js beside this module). */
  processorFile?: string | URL;
  /** One line per event (job started, done, failed), for stderr. */
  log?: (line: string) => void;
  /** Called once the worker has stopped because it runs another model version. */
  onModelMismatch?: (message: string) => void;
}

export interface QueueWorker {
  readonly name: string;
  /** Stop taking jobs and let the running ones finish; `force` returns them to the queue at once (another worker runs them from the start). */
  close(force?: boolean): Promise<void>;
  /** Resolves when the worker has stopped (closed, or refused a job of another model version). */
  readonly stopped: Promise<{ reason: "closed" | "model-mismatch"; message?: string }>;
}

/** The built processor beside this module (from the sources: the build's copy). */
export function defaultProcessorFile(): URL {
  const fromSource = import.meta.url.endsWith(".ts");
  return new URL(fromSource ? "../dist/processor.js" : "./processor.js", import.meta.url);
}

/** Check the options before anything connects. */
export function checkWorkerOptions(options: QueueWorkerOptions): void {
  if (options.sandbox === "inline") {
    throw new QueueConfigError("inline processors are refused: an exploration is CPU-bound and would block lock renewal, so jobs would run more than once; use worker-threads or child-process");
  }
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new QueueConfigError(`--concurrency expects a whole number ≥ 1, found ${concurrency}`);
  const lock = options.lockDurationMs ?? 30_000;
  if (!Number.isInteger(lock) || lock < 200) throw new QueueConfigError(`the lock duration must be a whole number of milliseconds ≥ 200, found ${lock}`);
  const stalled = options.stalledIntervalMs ?? 30_000;
  if (!Number.isInteger(stalled) || stalled < 100) throw new QueueConfigError(`the stalled-job interval must be a whole number of milliseconds ≥ 100, found ${stalled}`);
  if (!options.modelVersion) throw new QueueConfigError("the worker needs a model version");
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  checkWorkerOptions(options);
  const connection = await connectRedis(options.url);
  const log = options.log ?? (() => {});
  process.env[LOADER_ENV] = options.loaderModule;
  process.env[MODEL_VERSION_ENV] = options.modelVersion;
  const name = `${hostname()}:${process.pid}@${options.modelVersion}`;
  const worker = new Worker<JobData>(QUEUE_NAME, processorPath(options.processorFile ?? defaultProcessorFile()), {
    connection,
    name,
    concurrency: options.concurrency ?? 1,
    useWorkerThreads: (options.sandbox ?? "worker-threads") === "worker-threads",
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 5,
    drainDelay: 1,
  });
  let resolveStopped: (value: { reason: "closed" | "model-mismatch"; message?: string }) => void = () => {};
  const stopped = new Promise<{ reason: "closed" | "model-mismatch"; message?: string }>((resolve) => (resolveStopped = resolve));
  const describe = (job: Job<JobData>): string => `${job.data.kind} ${job.data.scenarioId} × ${job.data.kernelId}${job.data.kind === "dpor" ? ` [${job.data.prefix.join(",")}]` : ""}`;
  const running = new Map<string, Job<JobData>>();
  worker.on("active", (job) => {
    running.set(String(job.id), job);
    log(`started ${describe(job)} (${job.id})`);
  });
  worker.on("completed", (job) => {
    running.delete(String(job.id));
    log(`done ${describe(job)} (${job.id})`);
  });
  worker.on("error", (error) => log(`error: ${error.message}`));
  worker.on("failed", (job, error) => {
    if (!job) return;
    running.delete(String(job.id));
    if (error.name === MODEL_MISMATCH || error.message.startsWith(MODEL_MISMATCH)) {
      const message = `${error.message}; this worker stops (start one built from the same foliosim version as the sweep)`;
      log(message);
      void worker.close().then(() => closeConnection(connection)).then(() => resolveStopped({ reason: "model-mismatch", message }));
      options.onModelMismatch?.(message);
      return;
    }
    log(`failed ${describe(job)} (${job.id}): ${error.message}`);
  });
  await worker.waitUntilReady();
  return {
    name,
    stopped,
    close: async (force = false) => {
      if (force) await returnJobs(running, log);
      await worker.close(force);
      await closeConnection(connection);
      resolveStopped({ reason: "closed" });
    },
  };
}

/** Give running jobs back: active → waiting, lock released; a late completion then finds no lock and is not accepted. */
async function returnJobs(running: Map<string, Job<JobData>>, log: (line: string) => void): Promise<void> {
  for (const [id, job] of running) {
    try {
      await job.moveToWait(job.token);
      log(`returned ${id} to the queue`);
    } catch (error) {
      log(`could not return ${id} (${(error as Error).message}): it goes back when its lease expires`);
    }
  }
  running.clear();
}

function processorPath(file: string | URL): string {
  return file instanceof URL || file.startsWith("file:") ? fileURLToPath(file) : file;
}

async function closeConnection(connection: Redis): Promise<void> {
  try {
    await connection.quit();
  } catch {
    connection.disconnect();
  }
}
