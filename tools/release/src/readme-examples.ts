/**
 * README examples as a consumer runs them: every fenced `ts` block of a published
 * package's README is written to tools/release/.readme-examples/, type-checked against
 * the built packages (dist types, plain NodeNext resolution: no source condition), then
 * compiled and run with Node. A `text` block right after a `ts` block is its expected
 * standard output.
 */

import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { ROOT, type WorkspacePackage } from "./workspace.js";

const run = promisify(execFile);

export const EXAMPLES_DIR = join(ROOT, "tools/release/.readme-examples");

export interface ReadmeExample {
  /** "packages/sim/README.md:42" (the line of the opening fence). */
  where: string;
  file: string;
  code: string;
  /** The `text` block that follows, if any. */
  expected: string | null;
}

/** The fenced `ts` blocks of a README with the `text` block each one is followed by. */
export function readmeExamples(p: WorkspacePackage): ReadmeExample[] {
  const readme = readFileSync(join(p.path, "README.md"), "utf8");
  const fence = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  const blocks: { lang: string; body: string; start: number; end: number }[] = [];
  for (let m = fence.exec(readme); m; m = fence.exec(readme)) blocks.push({ lang: m[1], body: m[2], start: m.index, end: m.index + m[0].length });
  const slug = p.dir.replace(/\//g, "-");
  const out: ReadmeExample[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== "ts") return;
    const next = blocks[i + 1];
    // The output block follows at once, or after one short line of prose ("prints").
    const adjacent = next && next.lang === "text" && /^[^\n]{0,40}$/.test(readme.slice(b.end, next.start).trim());
    const line = readme.slice(0, b.start).split("\n").length;
    out.push({ where: `${p.dir}/README.md:${line}`, file: join(EXAMPLES_DIR, `${slug}-${line}.mts`), code: b.body, expected: adjacent ? next.body : null });
  });
  return out;
}

/** Writes the examples out and type-checks them together; returns the diagnostics as text. */
export function typecheckExamples(examples: ReadmeExample[]): string[] {
  rmSync(EXAMPLES_DIR, { recursive: true, force: true });
  mkdirSync(EXAMPLES_DIR, { recursive: true });
  for (const e of examples) writeFileSync(e.file, e.code);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
  };
  const program = ts.createProgram(examples.map((e) => e.file), options);
  const byFile = new Map(examples.map((e) => [e.file, e]));
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const e = byFile.get(d.file.fileName);
    return e ? `${e.where} (example line ${line + 1}): ${text}` : `${d.file.fileName}:${line + 1}: ${text}`;
  });
}

/** Compiles one (written, type-checked) example and runs it; returns its standard output. */
export async function runExample(e: ReadmeExample): Promise<string> {
  const js = ts.transpileModule(e.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  mkdirSync(EXAMPLES_DIR, { recursive: true });
  const file = e.file.replace(/\.mts$/, ".mjs");
  writeFileSync(file, js);
  const { stdout } = await run(process.execPath, [file], { cwd: EXAMPLES_DIR, timeout: 90_000, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 << 20 });
  return stdout;
}
