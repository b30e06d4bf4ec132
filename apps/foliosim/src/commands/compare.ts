import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { matrixCells, runMatrix, type MatrixCellResult, type MatrixDocument, type MatrixSpec, type Shard } from "@foliosim/explore";
import { headlineKernels } from "@foliosim/scenarios";
import { builtinCatalog, FILES_ENV, resolveScenario } from "../catalog.js";
import { UsageError } from "../errors.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { describeBudget, matrixStrategy, type StrategyChoice } from "../options.js";
import { resultRow, SCHEMA_VERSION, type ResultsDocument } from "../report.js";
import { looksLikeFile } from "../scenario-files.js";


export interface CompareOptions extends StrategyChoice {
  scenarios: string[];
  all?: boolean;
  kernels?: string[];
  shard?: Shard;
  /** 0 runs in this thread; default availableParallelism() (this thread only waits). */
  workers?: number;
  signal?: AbortSignal;
  /** Called after each scenario's row is done (not for shards). */
  onRow?(done: MatrixCellResult[], total: number): void;
  /** Run the cells on `foliosim worker` processes through this Redis (see commands/queue.ts). */
  queue?: string;
  /** One progress line (cells done, executions, workers seen) for stderr. */
  onQueueProgress?(line: string): void;
}

export interface CompareOutput {
  document: ResultsDocument;
  matrix: MatrixDocument;
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

export function compareSpec(options: CompareOptions): { spec: Omit<MatrixSpec, "loaderModule">; files: string[] } {
  const files: string[] = [];
  let scenarios: string[];
  if (options.all) {
    if (options.scenarios.length > 0) throw new UsageError("give scenarios or --all, not both");
    scenarios = builtinCatalog().map((e) => e.scenario.id);
    if (scenarios.length === 0) throw new UsageError("the built-in catalog is empty");
  } else {
    if (options.scenarios.length === 0) throw new UsageError("compare needs scenario ids or files, or --all");
    scenarios = options.scenarios.map((arg) => {
      const entry = resolveScenario(arg);
      if (looksLikeFile(arg)) files.push(arg);
      return entry.scenario.id;
    });
  }
  const kernelArgs = options.kernels && options.kernels.length > 0 ? options.kernels : headlineKernels();
  const kernels = kernelArgs.map((k) => parseKernelSpec(k).id);
  return { spec: { scenarios, kernels, strategies: [matrixStrategy(options)] }, files };
}

export function documentOf(matrix: MatrixDocument, budget?: string): ResultsDocument {
  const doc: ResultsDocument = { schemaVersion: SCHEMA_VERSION, results: matrix.cells.map((c) => resultRow(c.result, c.strategy)) };
  if (budget) doc.budget = budget;
  return doc;
}

/**
 * Run the matrix. Unsharded, it runs one scenario's row at a time (so Ctrl-C can report
 * the rows already done) and assembles exactly the document a single runMatrix gives.
 */
export async function compareCommand(options: CompareOptions): Promise<CompareOutput> {
  const { spec: partial, files } = compareSpec(options);
  if (files.length > 0) process.env[FILES_ENV] = files.map((f) => f).join(":");
  const spec: MatrixSpec = { ...partial, loaderModule: loaderModule() };
  const workers = options.workers ?? Math.max(1, availableParallelism());
  const budget = describeBudget(options);
  let matrix: MatrixDocument;
  if (options.queue !== undefined) {
    if (options.shard) throw new UsageError("give --queue or --shard, not both (--shard is the no-Redis way to split a sweep)");
    const { compareOnQueue, queueProgressLine } = await import("./queue.js"); // loads the queue client only when asked
    matrix = await compareOnQueue(spec, options.scenarios, Boolean(options.all), { url: options.queue, onProgress: (p) => options.onQueueProgress?.(queueProgressLine(p, "cells")), signal: options.signal });
  } else if (options.shard) {
    matrix = await runMatrix(spec, { workers, shard: options.shard, signal: options.signal });
  } else {
    const total = matrixCells(spec).length;
    const done: MatrixCellResult[] = [];
    const rows = [...new Set(spec.scenarios)].sort();
    matrix = { schemaVersion: 1, matrix: { scenarios: rows, kernels: [...new Set(spec.kernels)].sort(), strategies: spec.strategies.map((s) => ({ name: s.name, options: s.options })) }, cells: done };
    try {
      const perRow = Math.ceil(total / rows.length);
      for (const scenario of rows) {
        const part = await runMatrix({ ...spec, scenarios: [scenario] }, { workers: Math.min(workers, perRow), signal: options.signal });
        done.push(...part.cells);
        options.onRow?.(done, total);
      }
    } catch (error) {
      if (options.signal?.aborted) throw new InterruptedCompare({ document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: rows });
      throw error;
    }
  }
  return { document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: matrix.matrix.scenarios };
}

/** Ctrl-C during compare: carries the rows finished before it. */
export class InterruptedCompare extends Error {
  override readonly name = "InterruptedCompare";
  constructor(readonly partial: CompareOutput) {
    super("interrupted");
    partial.document.interrupted = true;
  }
}
