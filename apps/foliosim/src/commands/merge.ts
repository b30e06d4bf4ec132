/**
 * `foliosim merge FILE…`: shard documents → the matrix an unsharded compare gives.
 *
 * Nothing is taken on trust: the shards must come from one sweep (the same matrix, the
 * same tool and model versions), be numbered i/N with one N and each i once, and hold
 * exactly the cells their shard number gives, so every cell is covered exactly once.
 * A missing cell (a missing shard, or one interrupted by Ctrl-C) is named; `--partial`
 * accepts the incomplete matrix and marks it so.
 */

import { matrixCells, shardCells, type MatrixCellResult, type MatrixDocument } from "@foliosim/explore";
import { stableStringify } from "@foliosim/sim";
import { UsageError } from "../errors.js";
import { readInputFile } from "../input-file.js";
import { describeOptions } from "../options.js";
import { documentOf, type CompareMatrix, type CompareOutput } from "./compare.js";

export interface MergeOutput extends CompareOutput {
  /** Cells no shard covered ("scenario × kernel × strategy"); empty when complete. */
  missing: string[];
}

type ShardFile = CompareMatrix & { tool?: unknown; model?: unknown };

const cellKey = (c: { scenarioId: string; kernelId: string; strategy: string }): string => `${c.scenarioId} × ${c.kernelId} × ${c.strategy}`;

function readShard(file: string): ShardFile {
  const text = readInputFile(file, "shard document");
  let doc: ShardFile;
  try {
    doc = JSON.parse(text) as ShardFile;
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${(error as Error).message})`);
  }
  const m = doc?.matrix as MatrixDocument["matrix"] | undefined;
  const valid = doc?.schemaVersion === 1 && Array.isArray(doc.cells) && m !== null && typeof m === "object" && Array.isArray(m.scenarios) && Array.isArray(m.kernels) && Array.isArray(m.strategies);
  if (!valid) throw new UsageError(`${file}: not a shard document (expected schemaVersion 1, matrix and cells, as compare --shard --out writes)`);
  const shard = doc.shard;
  if (shard !== undefined && !(Number.isInteger(shard.index) && Number.isInteger(shard.count) && shard.count >= 1 && shard.index >= 1 && shard.index <= shard.count)) {
    throw new UsageError(`${file}: shard ${String(shard.index)}/${String(shard.count)} is not numbered i/N with 1 ≤ i ≤ N`);
  }
  return doc;
}

/** The checks of one sweep: same matrix and versions, one N, each shard once, its own cells only. */
function verify(files: string[], docs: ShardFile[]): { cells: MatrixCellResult[]; missing: string[]; partial: boolean } {
  const sweep = stableStringify(docs[0].matrix);
  const versions = stableStringify({ tool: docs[0].tool ?? null, model: docs[0].model ?? null });
  const count = docs[0].shard?.count ?? 1;
  const all = matrixCells({ ...(docs[0].matrix as MatrixDocument["matrix"]), loaderModule: "" });
  const seenShards = new Map<number, string>();
  const covered = new Map<string, string>();
  const cells: MatrixCellResult[] = [];
  let partial = false;
  docs.forEach((doc, i) => {
    const file = files[i];
    if (stableStringify(doc.matrix) !== sweep) throw new UsageError(`${file}: comes from a different sweep than ${files[0]} (its scenarios, kernels or strategies differ)`);
    if (stableStringify({ tool: doc.tool ?? null, model: doc.model ?? null }) !== versions) throw new UsageError(`${file}: written by another foliosim or model version than ${files[0]}`);
    const shard = doc.shard ?? { index: 1, count: 1 };
    if (shard.count !== count) throw new UsageError(`${file}: shard ${shard.index}/${shard.count} does not belong to a split into ${count} (${files[0]})`);
    const twice = seenShards.get(shard.index);
    if (twice !== undefined) throw new UsageError(`${file}: shard ${shard.index}/${count} is given twice (also ${twice})`);
    seenShards.set(shard.index, file);
    const own = new Set(shardCells(all, shard).map(cellKey));
    for (const cell of doc.cells) {
      const key = cellKey(cell);
      if (!own.has(key)) throw new UsageError(`${file}: cell ${key} does not belong to shard ${shard.index}/${count}`);
      const other = covered.get(key);
      if (other !== undefined) throw new UsageError(`${file}: cell ${key} is given twice (also ${other})`);
      covered.set(key, file);
      cells.push(cell);
    }
    if (doc.partial) partial = true;
  });
  const missing = all.map(cellKey).filter((k) => !covered.has(k));
  return { cells, missing, partial: partial || missing.length > 0 };
}

export function mergeCommand(files: string[], options: { partial?: boolean } = {}): MergeOutput {
  if (files.length === 0) throw new UsageError("merge needs the shard files written by compare --shard i/N --out FILE");
  const docs = files.map(readShard);
  const { cells, missing, partial } = verify(files, docs);
  if (missing.length > 0 && !options.partial) {
    const count = docs[0].shard?.count ?? 1;
    const absent = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !docs.some((d) => (d.shard?.index ?? 1) === i));
    const shards = absent.length > 0 ? `missing shard${absent.length > 1 ? "s" : ""} ${absent.map((i) => `${i}/${count}`).join(", ")}; ` : "";
    const list = missing.slice(0, 20).join("; ") + (missing.length > 20 ? `; and ${missing.length - 20} more` : "");
    throw new UsageError(`merge: ${shards}${missing.length} cell(s) missing: ${list} (--partial accepts an incomplete matrix)`);
  }
  cells.sort((a, b) => compare(a.scenarioId, b.scenarioId) || compare(a.kernelId, b.kernelId) || compare(a.strategy, b.strategy));
  const matrix: CompareMatrix = { schemaVersion: 1, matrix: docs[0].matrix, cells };
  if (partial) {
    matrix.partial = true;
    matrix.found = docs.flatMap((d) => d.found ?? []);
  }
  const budget = matrix.matrix.strategies.map((s) => describeOptions(s.options)).join(" | ");
  return { document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: matrix.matrix.scenarios, missing };
}

/** Code-unit order, independent of locale (as the matrix sorts its cells). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
