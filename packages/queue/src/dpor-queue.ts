/**
 * `explore … --strategy dpor --queue`: one DPOR proof as sub-jobs on the queue.
 *
 * The enqueuing process is the coordinator (SplitCoordinator from @foliosim/explore):
 * it enqueues the root subtree, and for each accepted sub-job result enqueues the
 * branches it handed out and the backtrack requests it reported inside its prefix that
 * are not covered yet. The proof is done when every sub-job is; its result says
 * `complete` only if every subtree was explored to the end. Sub-job ids hash the proof's
 * identity and the prefix, so a re-run (or a second coordinator) reuses every finished
 * subtree, and a worker killed mid-job only delays that subtree: its lease expires and
 * another worker runs it again from the start (jobs are deterministic).
 */

import { SplitCoordinator, type CellOptions, type CellResult, type SubtreeOutput } from "@foliosim/explore";
import { connectRedis } from "./connection.js";
import { checkDporOutput } from "./dpor-job.js";
import { dporJobId, openResult, type DporJobData, type ScenarioRef } from "./jobs.js";
import { enqueueJobs, openQueue, Watcher, type SweepOptions } from "./sweep.js";

export interface DporQueueOptions extends Omit<SweepOptions, "scenarioHashes" | "files"> {
  /** Executions after which a sub-job hands its open branches out (default 2,000). */
  splitAfter?: number;
}

export interface DporQueueResult {
  result: CellResult;
  /** Accepted sub-job outputs, in prefix order. */
  outputs: SubtreeOutput[];
  /** Sub-jobs reused from an earlier run. */
  reused: number;
}

export const DEFAULT_SPLIT_AFTER = 2_000;

export async function runDporOnQueue(ref: ScenarioRef, options: CellOptions, queueOptions: DporQueueOptions): Promise<DporQueueResult> {
  if (options.strategy.kind !== "dpor") throw new Error(`--queue explores with --strategy dpor only, not ${options.strategy.kind}`);
  const splitAfter = queueOptions.splitAfter ?? DEFAULT_SPLIT_AFTER;
  const connection = await connectRedis(queueOptions.url);
  const queue = openQueue(connection);
  const coordinator = new SplitCoordinator(options);
  const watcher = new Watcher(queue, queueOptions, 1);
  const pending = new Map<string, DporJobData>();
  const enqueue = async (prefixes: number[][]): Promise<void> => {
    const jobs = prefixes.map((prefix) => jobData(ref, options, queueOptions.modelVersion, prefix, splitAfter));
    const report = await enqueueJobs(queue, jobs, (data) => dporJobId(data as DporJobData));
    watcher.reused += report.existing - report.retried;
    jobs.forEach((data, index) => pending.set(report.jobIds[index], data));
    watcher.total = coordinator.jobCount;
  };
  try {
    await enqueue(coordinator.start());
    await watcher.loop(async () => {
      for (const [jobId, data] of [...pending]) {
        const output = await watcher.settled(jobId, describe(data), (raw) => openResult(raw, jobId, queueOptions.modelVersion, checkDporOutput(data)));
        if (output === undefined) continue;
        pending.delete(jobId);
        watcher.finished(output.result.executions);
        await enqueue(coordinator.accept(output));
      }
      return pending.size === 0 || coordinator.stopped !== undefined;
    });
    if (coordinator.stopped !== undefined) await dropWaiting(queue, [...pending.keys()]);
    return { result: coordinator.result(), outputs: coordinator.ordered(), reused: watcher.reused };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

function jobData(ref: ScenarioRef, options: CellOptions, modelVersion: string, prefix: number[], splitAfter: number): DporJobData {
  const data: DporJobData = { kind: "dpor", modelVersion, scenarioId: ref.scenarioId, kernelId: ref.kernelId, options, prefix, splitAfter };
  if (ref.scenarioHash !== undefined) data.scenarioHash = ref.scenarioHash;
  if (ref.files && ref.files.length > 0) data.files = [...ref.files];
  return data;
}

function describe(data: DporJobData): string {
  return `dpor sub-job ${data.scenarioId} × ${data.kernelId} [${data.prefix.join(",")}]`;
}

/** After a stop (first failure, budget): sub-jobs no worker has taken yet are removed. */
async function dropWaiting(queue: ReturnType<typeof openQueue>, jobIds: string[]): Promise<void> {
  for (const jobId of jobIds) {
    const job = await queue.getJob(jobId);
    if (job && ["waiting", "delayed", "prioritized"].includes(await job.getState())) await job.remove().catch(() => {});
  }
}

