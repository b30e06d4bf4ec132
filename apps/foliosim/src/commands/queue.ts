/**
 * `compare … --queue` and `explore … --strategy dpor --queue`: the same documents as a
 * single-process run, computed by `foliosim worker` processes through Redis.
 */

import { resolve } from "node:path";
import type { CellOptions, CellResult, MatrixDocument, MatrixSpec } from "@foliosim/explore";
import { DEFAULT_SPLIT_AFTER, runDporOnQueue, runMatrixOnQueue, scenarioHash, type QueueProgress } from "@foliosim/queue";
import { headlineCatalog, resolveScenario } from "../catalog.js";
import { modelVersion } from "../model-version.js";
import { looksLikeFile } from "../scenario-files.js";

export interface QueueRunOptions {
  url: string;
  onProgress?: (progress: QueueProgress) => void;
  signal?: AbortSignal;
}

/** Content hashes of the scenarios named (ids or files; --all: the catalog). */
export function scenarioHashes(args: readonly string[], all: boolean): Record<string, string> {
  const entries = all ? headlineCatalog() : args.map((arg) => resolveScenario(arg));
  return Object.fromEntries(entries.map((e) => [e.scenario.id, scenarioHash(e.scenario)]));
}

/** User scenario files, as absolute paths (the workers must see them at the same paths). */
export function workerFiles(args: readonly string[]): string[] {
  return args.filter(looksLikeFile).map((file) => resolve(file));
}

export async function compareOnQueue(spec: MatrixSpec, args: readonly string[], all: boolean, options: QueueRunOptions): Promise<MatrixDocument> {
  return runMatrixOnQueue(spec, { url: options.url, modelVersion: modelVersion(), scenarioHashes: scenarioHashes(args, all), files: workerFiles(args), onProgress: options.onProgress, signal: options.signal });
}

export async function exploreOnQueue(
  target: { scenarioId: string; kernelId: string },
  scenarioArg: string,
  cell: CellOptions,
  options: QueueRunOptions & { splitAfter?: number },
): Promise<CellResult> {
  const hash = scenarioHashes([scenarioArg], false)[resolveScenario(scenarioArg).scenario.id];
  const ref = { scenarioId: target.scenarioId, kernelId: target.kernelId, scenarioHash: hash, files: workerFiles([scenarioArg]) };
  const { result } = await runDporOnQueue(ref, cell, { url: options.url, modelVersion: modelVersion(), splitAfter: options.splitAfter ?? DEFAULT_SPLIT_AFTER, onProgress: options.onProgress, signal: options.signal });
  return result;
}

/** One progress line for stderr. */
export function queueProgressLine(p: QueueProgress, unit: string): string {
  const others = p.otherVersions.length > 0 ? `; ignoring ${p.otherVersions.length} worker(s) of another model version (${p.otherVersions.join(", ")})` : "";
  const reused = p.reused > 0 ? `, ${p.reused} reused` : "";
  return `queue: ${p.done}/${p.total} ${unit} done${reused}, ${p.executions} executions, ${p.workers.length - p.otherVersions.length} worker(s) seen${others}`;
}
