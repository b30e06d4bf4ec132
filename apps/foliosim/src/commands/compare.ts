import { randomUUID } from "node:crypto";
import { availableParallelism } from "node:os";
import { BroadcastChannel } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { matrixCells, runMatrix, shardCells, type MatrixCellResult, type MatrixDocument, type MatrixSpec, type Shard } from "@foliosim/explore";
import { headlineKernels } from "@foliosim/scenarios";
import { checkFileIds, headlineCatalog, FILES_ENV, parseSets, resolveScenario, targetFor, targetScenarioId, type CatalogEntry } from "../catalog.js";
import { UsageError } from "../errors.js";
import type { FoundFailure } from "../explore-session.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { FOUND_CHANNEL_ENV } from "../loader.js";
import { describeBudget, matrixStrategy, type StrategyChoice } from "../options.js";
import { resultRow, SCHEMA_VERSION, type FoundCounterexample, type ResultsDocument } from "../report.js";
import { looksLikeFile } from "../scenario-files.js";

export interface CompareOptions extends StrategyChoice {
  scenarios: string[];
  all?: boolean;
  kernels?: string[];
  /** `--set key=value`: applied to every scenario that declares the parameter. */
  set?: string[];
  shard?: Shard;
  /** 0 runs in this thread; default availableParallelism() (this thread only waits). */
  workers?: number;
  signal?: AbortSignal;
  /** Run the cells on `foliosim worker` processes through this Redis (see commands/queue.ts). */
  queue?: string;
  /** A progress line of the queued sweep. */
  onQueueProgress?(line: string): void;
  /** Told which scenario ids come from which user files (for replay commands). */
  onFiles?(files: Map<string, string>): void;
  /** Called once the cells are known, before any runs. */
  onStart?(cells: number, budget: string): void;
  /** Called after each scenario's row is done. */
  onRow?(done: MatrixCellResult[], total: number): void;
}

/** A matrix document as `compare --out` writes it; `partial` after Ctrl-C. */
export type CompareMatrix = MatrixDocument & { partial?: boolean; found?: FoundCounterexample[] };

export interface CompareOutput {
  document: ResultsDocument;
  matrix: CompareMatrix;
  budget: string;
  kernels: string[];
  scenarios: string[];
}

/** The worker loader module: dist/loader.js (the pool runs built code). */
export function loaderModule(): string {
  for (const url of [new URL("./loader.js", import.meta.url), new URL("../dist/loader.js", import.meta.url), new URL("../../dist/loader.js", import.meta.url)]) {
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new UsageError("compare needs the built app (dist/loader.js): run the build first");
}

/** The scenario entries a compare names (catalog ids, files, or --all). */
function compareEntries(options: CompareOptions): { entries: CatalogEntry[]; files: string[] } {
  const result = compareEntriesOf(options);
  options.onFiles?.(new Map(result.entries.filter((e) => e.origin !== "catalog").map((e) => [e.scenario.id, e.origin])));
  return result;
}

function compareEntriesOf(options: CompareOptions): { entries: CatalogEntry[]; files: string[] } {
  if (options.all) {
    if (options.scenarios.length > 0) throw new UsageError("give scenarios or --all, not both");
    const entries = headlineCatalog();
    if (entries.length === 0) throw new UsageError("the built-in catalog is empty");
    return { entries, files: [] };
  }
  if (options.scenarios.length === 0) throw new UsageError("compare needs scenario ids or files, or --all");
  const files = options.scenarios.filter(looksLikeFile);
  const entries = options.scenarios.map((arg) => resolveScenario(arg));
  checkFileIds(entries);
  return { entries, files };
}

/** Each entry's row id: its id plus the --set parameters it declares (`lock-waiter-ref[mode=MIGRATE_SYNC]`). */
function rowIds(entries: CatalogEntry[], kernels: string[], set: readonly string[]): string[] {
  const params = parseSets(set);
  const used = new Set<string>();
  const ids = entries.map((entry) => {
    const own = Object.fromEntries(Object.entries(params).filter(([k]) => k in (entry.scenario.params ?? {})));
    for (const k of Object.keys(own)) used.add(k);
    // Check the values up front (types, allowed values), on the first kernel.
    targetFor(entry.scenario, kernels[0], own);
    return targetScenarioId(entry.scenario.id, own);
  });
  const unused = Object.keys(params).filter((k) => !used.has(k));
  if (unused.length > 0) throw new UsageError(`--set ${unused.join(", ")}: no scenario of this matrix has ${unused.length === 1 ? "that parameter" : "those parameters"}`);
  return ids;
}

export function compareSpec(options: CompareOptions): { spec: Omit<MatrixSpec, "loaderModule">; files: string[] } {
  const { entries, files } = compareEntries(options);
  const kernelArgs = options.kernels && options.kernels.length > 0 ? options.kernels : headlineKernels();
  const kernels = kernelArgs.map((k) => parseKernelSpec(k).id);
  const scenarios = rowIds(entries, kernels, options.set ?? []);
  return { spec: { scenarios, kernels, strategies: [matrixStrategy(options)] }, files };
}

export function documentOf(matrix: CompareMatrix, budget?: string): ResultsDocument {
  const doc: ResultsDocument = { schemaVersion: SCHEMA_VERSION, results: matrix.cells.map((c) => resultRow(c.result, c.strategy)) };
  if (budget) doc.budget = budget;
  if (matrix.partial) {
    doc.interrupted = true;
    doc.found = matrix.found ?? [];
  }
  return doc;
}

/** Collects the failures workers post as they find them (see loader.ts). */
function listenForFound(): { found: FoundFailure[]; close(): void } {
  const name = `foliosim-found-${process.pid}-${randomUUID()}`;
  const previous = process.env[FOUND_CHANNEL_ENV];
  process.env[FOUND_CHANNEL_ENV] = name;
  const channel = new BroadcastChannel(name);
  const found: FoundFailure[] = [];
  channel.onmessage = (event) => void found.push((event as { data: FoundFailure }).data);
  return {
    found,
    close: () => {
      channel.close();
      if (previous === undefined) delete process.env[FOUND_CHANNEL_ENV];
      else process.env[FOUND_CHANNEL_ENV] = previous;
    },
  };
}

/**
 * Run the matrix (or one shard of it) one scenario row at a time, so Ctrl-C can report
 * the rows already done, and assemble exactly the document a single runMatrix gives.
 */
export async function compareCommand(options: CompareOptions): Promise<CompareOutput> {
  const { spec: partial, files } = compareSpec(options);
  if (files.length > 0) process.env[FILES_ENV] = JSON.stringify(files);
  const spec: MatrixSpec = { ...partial, loaderModule: loaderModule() };
  const workers = options.workers ?? Math.max(1, availableParallelism());
  const budget = describeBudget(options);
  const all = matrixCells(spec);
  const cells = options.shard ? shardCells(all, options.shard) : all;
  const done: MatrixCellResult[] = [];
  const matrix: CompareMatrix = { schemaVersion: 1, matrix: { scenarios: [...new Set(spec.scenarios)].sort(), kernels: [...new Set(spec.kernels)].sort(), strategies: spec.strategies.map((s) => ({ name: s.name, options: s.options })) }, cells: done };
  if (options.shard) matrix.shard = { ...options.shard };
  if (options.queue !== undefined) {
    if (options.shard) throw new UsageError("give --queue or --shard, not both (--shard is the no-Redis way to split a sweep)");
    const { compareOnQueue, queueProgressLine } = await import("./queue.js"); // loads the queue client only when asked
    const queued: CompareMatrix = await compareOnQueue(spec, options.scenarios, Boolean(options.all), { url: options.queue, onProgress: (p) => options.onQueueProgress?.(queueProgressLine(p, "cells")), signal: options.signal });
    return { document: documentOf(queued, budget), matrix: queued, budget, kernels: queued.matrix.kernels, scenarios: queued.matrix.scenarios };
  }
  const listener = listenForFound();
  options.onStart?.(cells.length, budget);
  try {
    for (const scenario of matrix.matrix.scenarios) {
      const kernels = [...new Set(cells.filter((c) => c.scenarioId === scenario).map((c) => c.kernelId))];
      if (kernels.length === 0) continue;
      const part = await runMatrix({ ...spec, scenarios: [scenario], kernels }, { workers: Math.min(workers, kernels.length), signal: options.signal });
      done.push(...part.cells);
      options.onRow?.(done, cells.length);
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    // Let the last failures posted by the workers arrive before they are read.
    await new Promise((resolve) => setTimeout(resolve, 20));
    matrix.partial = true;
    matrix.found = unfinishedFailures(listener.found, done);
    throw new InterruptedCompare({ document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: matrix.matrix.scenarios });
  } finally {
    listener.close();
  }
  return { document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: matrix.matrix.scenarios };
}

/** Failures found in cells that did not finish (a finished cell reports its own). */
function unfinishedFailures(found: readonly FoundFailure[], done: readonly MatrixCellResult[]): FoundCounterexample[] {
  const finished = new Set(done.map((c) => `${c.scenarioId}\u0000${c.kernelId}`));
  return found
    .filter((f) => !finished.has(`${f.scenarioId}\u0000${f.kernelId}`))
    .map((f) => ({ scenario: f.scenarioId ?? "", kernel: f.kernelId ?? "", kind: f.kind, message: f.message, execution: f.execution, schedule: f.schedule ?? "" }));
}

/** Ctrl-C during compare: carries the rows finished before it and the failures found since. */
export class InterruptedCompare extends Error {
  override readonly name = "InterruptedCompare";
  constructor(readonly partial: CompareOutput) {
    super("interrupted");
    partial.document.interrupted = true;
  }
}
