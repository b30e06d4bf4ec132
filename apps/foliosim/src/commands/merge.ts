import { readFileSync } from "node:fs";
import { mergeMatrix, type MatrixDocument } from "@foliosim/explore";
import { UsageError } from "../errors.js";
import { describeOptions } from "../options.js";
import { documentOf, type CompareOutput } from "./compare.js";

/** `foliosim merge FILE…`: shard documents → the matrix an unsharded compare gives. */
export function mergeCommand(files: string[]): CompareOutput {
  if (files.length === 0) throw new UsageError("merge needs the shard files written by compare --shard i/N --out FILE");
  const documents = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new UsageError(`${file}: cannot read the file`);
    }
    let doc: MatrixDocument;
    try {
      doc = JSON.parse(text) as MatrixDocument;
    } catch (error) {
      throw new UsageError(`${file}: not JSON (${(error as Error).message})`);
    }
    if (doc?.schemaVersion !== 1 || !Array.isArray(doc.cells) || typeof doc.matrix !== "object") {
      throw new UsageError(`${file}: not a shard document (expected schemaVersion 1, matrix and cells, as compare --shard --out writes)`);
    }
    return doc;
  });
  let matrix: MatrixDocument;
  try {
    matrix = mergeMatrix(documents);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const budget = matrix.matrix.strategies.map((s) => describeOptions(s.options)).join(" | ");
  return { document: documentOf(matrix, budget), matrix, budget, kernels: matrix.matrix.kernels, scenarios: matrix.matrix.scenarios };
}
