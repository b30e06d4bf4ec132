/**
 * The sandboxed processor (built to dist/processor.js): BullMQ runs it in a worker
 * thread, so a long, CPU-bound exploration never blocks the worker's lock renewal.
 *
 * It refuses a job of another model version (the worker then stops: see worker.ts) and
 * a scenario whose content differs from the job's; otherwise it runs the cell (or the
 * DPOR subtree) exactly as a single-process run would and returns a sealed result.
 */

import { hostname } from "node:os";
import { pathToFileURL } from "node:url";
import { runCell, type CellResult } from "@foliosim/explore";
import type { SandboxedJob } from "bullmq";
import { LOADER_ENV, MODEL_VERSION_ENV, FILES_ENV } from "./env.js";
import { MODEL_MISMATCH, sealResult, type CellJobData, type JobData, type SealedResult } from "./jobs.js";
import { runDporJob, type DporJobOutput } from "./dpor-job.js";

interface LoaderModule {
  default: (scenarioId: string, kernelId: string) => unknown;
  /** Optional: the content hash of a scenario as this worker resolves it. */
  scenarioHash?: (scenarioId: string) => string;
}

class ProcessorError extends Error {
  constructor(name: string, message: string) {
    super(message);
    // An own property, so BullMQ carries the name out of the sandbox.
    Object.defineProperty(this, "name", { value: name, enumerable: true });
  }
}

export default async function processJob(job: SandboxedJob<JobData>): Promise<SealedResult<CellResult | DporJobOutput>> {
  const data = job.data;
  const own = process.env[MODEL_VERSION_ENV] ?? "";
  const worker = `${hostname()}:${process.pid}`;
  if (data.modelVersion !== own) {
    throw new ProcessorError(MODEL_MISMATCH, `${MODEL_MISMATCH}: worker ${worker} runs model version ${own || "(unset)"}, job ${job.id} needs ${data.modelVersion}`);
  }
  const loaderUrl = process.env[LOADER_ENV];
  if (!loaderUrl) throw new ProcessorError("UnrecoverableError", `worker ${worker} has no target loader (${LOADER_ENV} is unset)`);
  if (data.files && data.files.length > 0) process.env[FILES_ENV] = data.files.join(":");
  const loaderModule = loaderUrl.startsWith("file:") ? loaderUrl : pathToFileURL(loaderUrl).href;
  await checkScenario(loaderModule, data, worker);
  const id = String(job.id);
  if (data.kind === "cell") return sealResult(id, own, worker, await runCellJob(loaderModule, data));
  return sealResult(id, own, worker, await runDporJob(loaderModule, data));
}

async function runCellJob(loaderModule: string, data: CellJobData): Promise<CellResult> {
  return runCell({ loaderModule, scenarioId: data.scenarioId, kernelId: data.kernelId, strategy: data.strategy, options: data.options });
}

async function checkScenario(loaderModule: string, data: JobData, worker: string): Promise<void> {
  if (data.scenarioHash === undefined) return;
  const loader = (await import(loaderModule)) as LoaderModule;
  if (typeof loader.scenarioHash !== "function") return;
  const here = loader.scenarioHash(data.scenarioId.replace(/\[.*\]$/, ""));
  if (here !== data.scenarioHash) {
    throw new ProcessorError("UnrecoverableError", `worker ${worker}: scenario "${data.scenarioId}" here has content hash ${here.slice(0, 12)}, the job was enqueued with ${data.scenarioHash.slice(0, 12)} (the worker holds a different scenario of that id)`);
  }
}
