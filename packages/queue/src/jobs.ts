/**
 * What travels through Redis: job data (plain JSON), job ids and sealed results.
 *
 * Job ids are content hashes of everything a result depends on — the scenario's own
 * content, its id, the kernel, the strategy with its seed and budget, and the model
 * version — so enqueueing a sweep twice adds nothing, and a re-run reuses every result
 * already computed. Results are sealed with a digest over (job id, model version,
 * result): a result that was altered, belongs to another job or comes from another
 * model is refused, never merged.
 */

import { createHash } from "node:crypto";
import type { CellOptions, CellResult } from "@foliosim/explore";
import { stableStringify } from "@foliosim/sim";
import { CorruptResultError } from "./errors.js";

/** The one queue every foliosim sweep shares (jobs carry their model version). */
export const QUEUE_NAME = "foliosim";

/** Error names a processor throws; the worker and the sweep recognise them. */
export const MODEL_MISMATCH = "ModelVersionMismatch";

/** Where a job's scenario comes from, so a worker can check it holds the same one. */
export interface ScenarioRef {
  scenarioId: string;
  kernelId: string;
  /** sha256 of the scenario's content (stable JSON), when the enqueuer knows it. */
  scenarioHash?: string;
  /** User scenario files (paths valid on the workers). */
  files?: string[];
}

export interface CellJobData extends ScenarioRef {
  kind: "cell";
  modelVersion: string;
  /** The strategy's column name in the matrix. */
  strategy: string;
  options: CellOptions;
}

export interface DporJobData extends ScenarioRef {
  kind: "dpor";
  modelVersion: string;
  options: CellOptions;
  /** The subtree: the task ids chosen at the first prefix.length steps. */
  prefix: number[];
  /** Hand the open branches out after this many executions of this job. */
  splitAfter: number;
}

export type JobData = CellJobData | DporJobData;

/** A result as stored by BullMQ (the job's return value). */
export interface SealedResult<T> {
  jobId: string;
  modelVersion: string;
  /** host:pid of the worker that computed it (informational). */
  worker: string;
  value: T;
  digest: string;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Content hash of a scenario object (stable JSON). */
export function scenarioHash(scenario: unknown): string {
  return sha256(stableStringify(scenario));
}

/** A cell's job id: a hash of what its result depends on. */
export function cellJobId(data: CellJobData): string {
  const key = { kind: "cell", scenarioId: data.scenarioId, scenarioHash: data.scenarioHash ?? null, kernelId: data.kernelId, strategy: data.strategy, options: data.options, modelVersion: data.modelVersion };
  return `cell-${sha256(stableStringify(key)).slice(0, 40)}`;
}

/** A DPOR sub-job's id: the proof's identity plus the subtree prefix. */
export function dporJobId(data: DporJobData): string {
  const key = { kind: "dpor", scenarioId: data.scenarioId, scenarioHash: data.scenarioHash ?? null, kernelId: data.kernelId, options: data.options, splitAfter: data.splitAfter, modelVersion: data.modelVersion, prefix: data.prefix };
  return `dpor-${sha256(stableStringify(key)).slice(0, 40)}`;
}

function digestOf(jobId: string, modelVersion: string, value: unknown): string {
  return sha256(`${jobId}\n${modelVersion}\n${stableStringify(value)}`);
}

export function sealResult<T>(jobId: string, modelVersion: string, worker: string, value: T): SealedResult<T> {
  return { jobId, modelVersion, worker, value, digest: digestOf(jobId, modelVersion, value) };
}

/**
 * Check a stored result and return its value, or throw CorruptResultError saying what
 * is wrong. `check` looks at the value's own shape.
 */
export function openResult<T>(raw: unknown, jobId: string, modelVersion: string, check: (value: T) => string | undefined): T {
  const sealed = (typeof raw === "string" ? tryParse(raw) : raw) as Partial<SealedResult<T>> | undefined;
  const where = `job ${jobId}`;
  if (sealed === null || typeof sealed !== "object") throw new CorruptResultError(`${where}: the stored result is not a sealed result object (found ${describe(raw)})`);
  for (const field of ["jobId", "modelVersion", "digest", "worker"] as const) {
    if (typeof sealed[field] !== "string") throw new CorruptResultError(`${where}: the stored result has no string field "${field}"`);
  }
  if (sealed.jobId !== jobId) throw new CorruptResultError(`${where}: the stored result belongs to job ${sealed.jobId}`);
  if (sealed.modelVersion !== modelVersion) throw new CorruptResultError(`${where}: the result was computed by model version ${sealed.modelVersion}, this sweep needs ${modelVersion}`);
  if (!("value" in sealed)) throw new CorruptResultError(`${where}: the stored result has no value`);
  if (digestOf(jobId, modelVersion, sealed.value) !== sealed.digest) throw new CorruptResultError(`${where}: the result's digest does not match its content (computed by ${sealed.worker}): it was altered after it was sealed`);
  const problem = check(sealed.value as T);
  if (problem !== undefined) throw new CorruptResultError(`${where}: ${problem}`);
  return sealed.value as T;
}

/** Shape check of a cell result against the cell it answers. */
export function checkCellResult(data: CellJobData): (value: CellResult) => string | undefined {
  return (value) => {
    if (value === null || typeof value !== "object") return "the result is not an object";
    if (value.scenarioId !== data.scenarioId || value.kernelId !== data.kernelId) return `the result is for scenario "${value.scenarioId}", kernel "${value.kernelId}", not "${data.scenarioId}", "${data.kernelId}"`;
    if (!["holds", "fails", "inconclusive"].includes(value.verdict)) return `the result's verdict is ${describe(value.verdict)}, expected holds, fails or inconclusive`;
    if (!Number.isInteger(value.executions) || value.executions < 0) return `the result's executions is ${describe(value.executions)}, expected a count`;
    return undefined;
  };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + "..." : text;
}
