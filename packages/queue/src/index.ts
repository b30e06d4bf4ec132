/**
 * @foliosim/queue — sweeps beyond one machine: verdict-matrix cells and split DPOR
 * proofs as BullMQ jobs on Redis, taken by `foliosim worker` processes anywhere, with
 * leases and stalled-job recovery, content-hash job ids (a re-run reuses results) and
 * sealed results. The documents it assembles equal a single-process run's.
 */

export { connectRedis, parseRedisUrl, redactUrl, type ConnectOptions } from "./connection.js";
export { CorruptResultError, isQueueError, QueueConfigError, QueueConnectionError, QueueJobError } from "./errors.js";
export { FILES_ENV, LOADER_ENV, MODEL_VERSION_ENV } from "./env.js";
export {
  cellJobId,
  checkCellResult,
  dporJobId,
  MODEL_MISMATCH,
  openResult,
  QUEUE_NAME,
  scenarioHash,
  sealResult,
  sha256,
  type CellJobData,
  type DporJobData,
  type JobData,
  type ScenarioRef,
  type SealedResult,
} from "./jobs.js";
export { cellJobs, enqueueJobs, JOB_OPTIONS, openQueue, runMatrixOnQueue, Watcher, type EnqueueReport, type QueueProgress, type SweepOptions } from "./sweep.js";
export { DEFAULT_SPLIT_AFTER, runDporOnQueue, type DporQueueOptions, type DporQueueResult } from "./dpor-queue.js";
export { checkDporOutput, runDporJob, type DporJobOutput } from "./dpor-job.js";
export { checkWorkerOptions, defaultProcessorFile, startQueueWorker, type QueueWorker, type QueueWorkerOptions } from "./worker.js";
