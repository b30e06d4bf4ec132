/**
 * `compare … --queue`: enqueue every cell of a verdict matrix, wait for the workers, and
 * assemble exactly the document a single-process `runMatrix` gives (cells placed by
 * their index in the sorted cell list, never by completion order).
 *
 * Cells already finished by an earlier run of the same sweep are reused (same job id);
 * a cell that failed before is retried; a stored result that does not check out is
 * refused with a clear error, removed (so the next run recomputes it) and never merged.
 */

import { matrixCells, type CellResult, type MatrixCellResult, type MatrixDocument, type MatrixSpec } from "@foliosim/explore";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { connectRedis } from "./connection.js";
import { CorruptResultError, QueueJobError } from "./errors.js";
import { cellJobId, checkCellResult, MODEL_MISMATCH, openResult, QUEUE_NAME, type CellJobData, type JobData } from "./jobs.js";

export interface QueueProgress {
  done: number;
  total: number;
  /** Executions over the finished cells (or sub-jobs). */
  executions: number;
  /** Workers seen on the queue so far (host:pid@model). */
  workers: string[];
  /** Of those, workers of another model version: they will take no job of this sweep. */
  otherVersions: string[];
  /** Results reused from an earlier run. */
  reused: number;
}

export interface SweepOptions {
  url: string;
  modelVersion: string;
  /** Scenario content hashes by scenario id (job ids and worker checks use them). */
  scenarioHashes?: Record<string, string>;
  /** User scenario files the workers must load. */
  files?: string[];
  onProgress?: (progress: QueueProgress) => void;
  /** Give up after this long (default: wait as long as it takes). */
  timeoutMs?: number;
  /** How often job states are read (default 250 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface EnqueueReport {
  jobIds: string[];
  added: number;
  existing: number;
  retried: number;
}

/** The job data of each cell, in matrix order. */
export function cellJobs(spec: MatrixSpec, options: Pick<SweepOptions, "modelVersion" | "scenarioHashes" | "files">): CellJobData[] {
  return matrixCells(spec).map((cell) => {
    const data: CellJobData = { kind: "cell", modelVersion: options.modelVersion, scenarioId: cell.scenarioId, kernelId: cell.kernelId, strategy: cell.strategy, options: cell.options };
    const hash = options.scenarioHashes?.[cell.scenarioId.replace(/\[.*\]$/, "")];
    if (hash !== undefined) data.scenarioHash = hash;
    if (options.files && options.files.length > 0) data.files = [...options.files];
    return data;
  });
}

/** Add the jobs that are not in the queue yet; retry the ones that failed before. */
export async function enqueueJobs(queue: Queue<JobData>, jobs: readonly JobData[], idOf: (data: JobData) => string): Promise<EnqueueReport> {
  const report: EnqueueReport = { jobIds: [], added: 0, existing: 0, retried: 0 };
  const fresh: { name: string; data: JobData; opts: { jobId: string } }[] = [];
  for (const data of jobs) {
    const jobId = idOf(data);
    report.jobIds.push(jobId);
    const existing = await queue.getJob(jobId);
    if (existing === undefined) {
      fresh.push({ name: data.kind, data, opts: { jobId } });
      continue;
    }
    report.existing++;
    if ((await existing.getState()) === "failed") {
      await existing.retry("failed");
      report.retried++;
    }
  }
  if (fresh.length > 0) {
    await queue.addBulk(fresh.map((job) => ({ ...job, opts: { ...job.opts, ...JOB_OPTIONS } })));
    report.added = fresh.length;
  }
  return report;
}

/** Every job: a couple of retries for errors (a worker of another model version fails one attempt). */
export const JOB_OPTIONS = { attempts: 3, backoff: { type: "fixed", delay: 500 }, removeOnComplete: false, removeOnFail: false } as const;

export function openQueue(connection: Redis): Queue<JobData> {
  return new Queue<JobData>(QUEUE_NAME, { connection });
}

/** Run a matrix through the queue; the document equals runMatrix's for the same spec. */
export async function runMatrixOnQueue(spec: MatrixSpec, options: SweepOptions): Promise<MatrixDocument> {
  const jobs = cellJobs(spec, options);
  const connection = await connectRedis(options.url);
  const queue = openQueue(connection);
  try {
    const enqueued = await enqueueJobs(queue, jobs, (data) => cellJobId(data as CellJobData));
    const results = await collect(queue, jobs, enqueued, options);
    const cells: MatrixCellResult[] = jobs.map((data, index) => ({ scenarioId: data.scenarioId, kernelId: data.kernelId, strategy: data.strategy, result: results[index] }));
    return { schemaVersion: 1, matrix: describe(spec), cells };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/** Wait for every cell job and open its result, in matrix order. */
async function collect(queue: Queue<JobData>, jobs: CellJobData[], enqueued: EnqueueReport, options: SweepOptions): Promise<CellResult[]> {
  const results: (CellResult | undefined)[] = new Array(jobs.length);
  const watcher = new Watcher(queue, options, jobs.length);
  const pending = new Set(jobs.map((_, index) => index));
  watcher.reused = enqueued.existing - enqueued.retried;
  await watcher.loop(async () => {
    for (const index of [...pending]) {
      const value = await watcher.settled(enqueued.jobIds[index], describeCell(jobs[index]), (raw) => openResult(raw, enqueued.jobIds[index], options.modelVersion, checkCellResult(jobs[index])));
      if (value === undefined) continue;
      results[index] = value;
      pending.delete(index);
      watcher.finished(value.executions);
    }
    return pending.size === 0;
  });
  return results as CellResult[];
}

function describeCell(data: CellJobData): string {
  return `cell ${data.scenarioId} × ${data.kernelId} × ${data.strategy}`;
}

/**
 * The waiting loop shared by sweeps and split DPOR runs: polls, reports progress
 * (cells done, executions, workers seen), honours the timeout and the abort signal, and
 * turns failed or corrupt jobs into clear errors.
 */
export class Watcher {
  private done = 0;
  private executions = 0;
  reused = 0;
  private readonly workers = new Set<string>();
  private lastReport = "";
  private readonly started = Date.now();

  constructor(
    private readonly queue: Queue<JobData>,
    private readonly options: Pick<SweepOptions, "modelVersion" | "onProgress" | "timeoutMs" | "pollMs" | "signal">,
    public total: number,
  ) {}

  finished(executions: number): void {
    this.done++;
    this.executions += executions;
  }

  /** The job's opened result once it completed, undefined while it is still to come. */
  async settled<T>(jobId: string, what: string, open: (raw: unknown) => T): Promise<T | undefined> {
    // The state first, then the job: a job read before its state could be older than it.
    const state = await this.queue.getJobState(jobId);
    const job = state === "unknown" ? undefined : await this.queue.getJob(jobId);
    if (job === undefined) throw new QueueJobError(`${what}: job ${jobId} disappeared from the queue (was the queue emptied?); run the sweep again`);
    if (state === "failed") {
      const reason = job.failedReason ?? "no reason given";
      const hint = reason.startsWith(MODEL_MISMATCH) ? " (start workers of this sweep's model version)" : "";
      throw new QueueJobError(`${what} failed on the workers after ${job.attemptsMade} attempt(s): ${reason}${hint}`);
    }
    if (state !== "completed") {
      const reason = job.failedReason ?? "";
      if (reason.startsWith(MODEL_MISMATCH) && !this.compatibleWorkerSeen()) {
        throw new QueueJobError(`${what}: ${reason}; no worker of model version ${this.options.modelVersion} has been seen (start workers built from the same foliosim version; the jobs stay queued)`);
      }
      return undefined;
    }
    try {
      return open(job.returnvalue);
    } catch (error) {
      if (error instanceof CorruptResultError) {
        await job.remove().catch(() => {});
        throw new CorruptResultError(`${what}: ${error.message}; the result was discarded (nothing merged): run the sweep again to recompute it`);
      }
      throw error;
    }
  }

  private compatibleWorkerSeen(): boolean {
    return [...this.workers].some((w) => w.endsWith(`@${this.options.modelVersion}`));
  }

  /** Poll `step` until it returns true. */
  async loop(step: () => Promise<boolean>): Promise<void> {
    const pollMs = this.options.pollMs ?? 250;
    for (;;) {
      if (this.options.signal?.aborted) throw new QueueJobError("interrupted: the jobs stay queued; run the same command again to collect them");
      await this.report();
      if (await step()) {
        await this.report();
        return;
      }
      if (this.options.timeoutMs !== undefined && Date.now() - this.started > this.options.timeoutMs) {
        throw new QueueJobError(`the queue did not finish within ${this.options.timeoutMs} ms: ${this.total - this.done} of ${this.total} job(s) still to do; workers seen: ${[...this.workers].join(", ") || "none"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async report(): Promise<void> {
    // BullMQ names a worker's connection "<prefix>:<queue>:w:<worker name>" (rawname).
    for (const worker of await this.queue.getWorkers()) {
      const raw = (worker as { rawname?: string }).rawname ?? "";
      const at = raw.indexOf(":w:");
      if (at >= 0) this.workers.add(raw.slice(at + 3));
    }
    const workers = [...this.workers].sort();
    const otherVersions = workers.filter((w) => !w.endsWith(`@${this.options.modelVersion}`));
    const progress: QueueProgress = { done: this.done, total: this.total, executions: this.executions, workers, otherVersions, reused: this.reused };
    const key = JSON.stringify(progress);
    if (key === this.lastReport) return;
    this.lastReport = key;
    this.options.onProgress?.(progress);
  }
}

function describe(spec: MatrixSpec): MatrixDocument["matrix"] {
  return {
    scenarios: [...new Set(spec.scenarios)].sort(),
    kernels: [...new Set(spec.kernels)].sort(),
    strategies: [...spec.strategies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => ({ name: s.name, options: s.options })),
  };
}
