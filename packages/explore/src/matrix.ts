/**
 * Verdict matrices: (scenarios × kernels × strategies) → results, in-process or on a
 * piscina worker pool, whole or as one shard of N, and the merge of shards.
 *
 * Determinism: the cell list is sorted (scenario, kernel, strategy) before anything
 * runs; shard i of N takes every N-th cell starting at the i-th; results are placed by
 * cell index, never by completion order; wall-clock figures are left out. So one
 * worker, N workers, and the merge of N shards all print the same bytes.
 *
 * Node 20 workers load built JavaScript: the pool runs `worker.js` next to this module
 * in dist (tsup builds it as its own entry). From the TypeScript sources (vitest), the
 * pool uses ../dist/worker.js, so pool tests need a build.
 */

import { availableParallelism } from "node:os";
import { stableStringify } from "@foliosim/sim";
import { Piscina } from "piscina";
import { runCell, type CellOptions, type CellResult, type CellTask } from "./cell.js";

export interface MatrixStrategy {
  /** Column label, e.g. "pct-d3" or "dpor". */
  name: string;
  options: CellOptions;
}

export interface MatrixSpec {
  /** File URL of a module whose default export resolves (scenarioId, kernelId) → ExploreTarget. */
  loaderModule: string;
  scenarios: readonly string[];
  kernels: readonly string[];
  strategies: readonly MatrixStrategy[];
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export interface MatrixCellResult {
  scenarioId: string;
  kernelId: string;
  strategy: string;
  result: CellResult;
}

export interface MatrixDocument {
  schemaVersion: 1;
  /** What was asked for (the loader is left out: it names a path on one machine). */
  matrix: { scenarios: string[]; kernels: string[]; strategies: MatrixStrategy[] };
  /** Present on a shard's document only. */
  shard?: Shard;
  cells: MatrixCellResult[];
}

export interface RunMatrixOptions {
  /** 0 runs in this thread; default availableParallelism() - 1, at least 1. */
  workers?: number;
  shard?: Shard;
  /** Worker script override (a file URL or path). */
  workerFile?: string | URL;
  signal?: AbortSignal;
}

/** Parse "i/N" (as in --shard 2/4). */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`--shard expects i/N (for example 2/4), found ${JSON.stringify(text)}`);
  const shard = { index: Number(match[1]), count: Number(match[2]) };
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count) throw new Error(`--shard ${text}: i must be from 1 to N`);
  return shard;
}

/** Every cell of the matrix, in a fixed order. */
export function matrixCells(spec: MatrixSpec): CellTask[] {
  const names = new Set<string>();
  for (const strategy of spec.strategies) {
    if (names.has(strategy.name)) throw new Error(`matrix: two strategies are named "${strategy.name}"`);
    names.add(strategy.name);
  }
  const cells: CellTask[] = [];
  for (const scenarioId of [...new Set(spec.scenarios)].sort()) {
    for (const kernelId of [...new Set(spec.kernels)].sort()) {
      for (const strategy of [...spec.strategies].sort((a, b) => compare(a.name, b.name))) {
        cells.push({ loaderModule: spec.loaderModule, scenarioId, kernelId, strategy: strategy.name, options: strategy.options });
      }
    }
  }
  return cells;
}

/** Cells of shard i/N: every N-th, starting at the i-th. */
export function shardCells<T>(cells: readonly T[], shard: Shard): T[] {
  return cells.filter((_, index) => index % shard.count === shard.index - 1);
}

export async function runMatrix(spec: MatrixSpec, options: RunMatrixOptions = {}): Promise<MatrixDocument> {
  const all = matrixCells(spec);
  const cells = options.shard ? shardCells(all, options.shard) : all;
  const workers = options.workers ?? Math.max(1, availableParallelism() - 1);
  const results = workers === 0 ? await runInThread(cells) : await runOnPool(cells, workers, options);
  const document: MatrixDocument = { schemaVersion: 1, matrix: describe(spec), cells: [] };
  if (options.shard) document.shard = { ...options.shard };
  document.cells = cells.map((cell, index) => ({ scenarioId: cell.scenarioId, kernelId: cell.kernelId, strategy: cell.strategy, result: results[index] }));
  return document;
}

async function runInThread(cells: CellTask[]): Promise<CellResult[]> {
  const results: CellResult[] = [];
  for (const cell of cells) results.push(await runCell(cell));
  return results;
}

async function runOnPool(cells: CellTask[], workers: number, options: RunMatrixOptions): Promise<CellResult[]> {
  const pool = new Piscina({
    filename: String(options.workerFile ?? defaultWorkerFile()),
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1_000,
    execArgv: workerExecArgv(),
  });
  try {
    return await Promise.all(cells.map((cell) => pool.run(cell, { signal: options.signal }) as Promise<CellResult>));
  } finally {
    await pool.destroy();
  }
}

/**
 * The parent's flags minus `--conditions`: a test runner resolving workspace packages
 * to their TypeScript sources must not pass that on, since workers run built code.
 */
function workerExecArgv(): string[] {
  const flags: string[] = [];
  const parent = process.execArgv;
  for (let i = 0; i < parent.length; i++) {
    if (parent[i] === "--conditions" || parent[i] === "-C") i++;
    else if (!parent[i].startsWith("--conditions=")) flags.push(parent[i]);
  }
  return flags;
}

/** dist/worker.js beside the built module; from the sources, the build's copy. */
export function defaultWorkerFile(): URL {
  const fromSource = import.meta.url.endsWith(".ts");
  return new URL(fromSource ? "../dist/worker.js" : "./worker.js", import.meta.url);
}

/** Merge shard documents into the document the unsharded run gives, byte for byte. */
export function mergeMatrix(documents: readonly MatrixDocument[]): MatrixDocument {
  if (documents.length === 0) throw new Error("merge: no shard documents");
  const matrix = stableStringify(documents[0].matrix);
  const count = documents[0].shard?.count ?? 1;
  const seen = new Set<number>();
  for (const document of documents) {
    if (stableStringify(document.matrix) !== matrix) throw new Error("merge: the shards come from different matrices");
    const shard = document.shard ?? { index: 1, count: 1 };
    if (shard.count !== count) throw new Error(`merge: shard ${shard.index}/${shard.count} does not belong to a split into ${count}`);
    if (seen.has(shard.index)) throw new Error(`merge: shard ${shard.index}/${count} given twice`);
    seen.add(shard.index);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new Error(`merge: missing shard${missing.length > 1 ? "s" : ""} ${missing.map((i) => `${i}/${count}`).join(", ")}`);
  const cells = documents.flatMap((document) => document.cells);
  cells.sort((a, b) => compare(a.scenarioId, b.scenarioId) || compare(a.kernelId, b.kernelId) || compare(a.strategy, b.strategy));
  return { schemaVersion: 1, matrix: documents[0].matrix, cells };
}

/** The document as stable JSON (sorted keys): what shard files and merges hold. */
export function matrixJson(document: MatrixDocument): string {
  return stableStringify(document);
}

function describe(spec: MatrixSpec): MatrixDocument["matrix"] {
  return {
    scenarios: [...new Set(spec.scenarios)].sort(),
    kernels: [...new Set(spec.kernels)].sort(),
    strategies: [...spec.strategies].sort((a, b) => compare(a.name, b.name)).map((s) => ({ name: s.name, options: s.options })),
  };
}

/** Code-unit order, independent of locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
