/**
 * A seeded mutation fuzzer for scenario files, run through the CLI as a user runs it:
 * each file is a mutation of one of the example files (structural mutations of the
 * parsed document, then sometimes text-level damage), written to a temporary file and
 * given to `validate`, then, when it validates, to `run` and `explore --budget 5` (both
 * with `--max-steps 5000`).
 *
 * Every command must answer with one of its documented exit codes for input (0, 1, 2,
 * 3), never an internal error (70), an exception escaping `main`, or a hang (see
 * `fuzz`). The figures are counted for the report.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parse, stringify } from "yaml";
import { exampleFiles } from "../src/catalog.js";
import { main, type Io } from "../src/cli.js";

/** mulberry32: a small seeded generator (no Math.random in the suite). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Values a mutation may put anywhere: good, bad, huge, hostile. */
const VALUES: unknown[] = [0, 1, 2, -1, 3, 64, 65, 4096, 1e9, 2 ** 53, 1.5, Number.NaN, "", "x", "two", "$buf", "$buf+1", "$nope", "$buf.ret", "${hold_ns}", "${nope}", "linux-6.11", "MIGRATE_ASYNC", "\u001b[31mred", "a:b", true, false, null, [], [1, 2], {}, { a: 1 }, JSON.parse('{"__proto__": {"polluted": 1}}'), "constructor", "__proto__"];

/** An own property, even for "__proto__" (plain assignment would set the prototype). */
function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
}
const KEYS = ["call", "args", "as", "expect", "repeat", "until", "while", "max", "cpu", "process", "note", "pages", "addr", "page", "ns", "name", "id", "cpus", "memory", "kernels", "params", "default", "policy", "priority", "__proto__", "constructor"];

/** Every container (object or array) in the document, with its path. */
function containers(doc: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (v === null || typeof v !== "object" || depth > 12) return;
    out.push(v);
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) walk(child, depth + 1);
  };
  walk(doc, 0);
  return out;
}

/** One structural mutation of a parsed document, in place. */
function mutateOnce(doc: Record<string, unknown>, r: Rand, calls: readonly string[]): void {
  const all = containers(doc);
  const box = pick(r, all);
  const op = Math.floor(r() * 9);
  if (Array.isArray(box)) {
    if (box.length === 0 || op === 0) box.push(structuredClone(pick(r, all.filter((c) => !Array.isArray(c))) ?? {}));
    else if (op < 3) box.splice(Math.floor(r() * box.length), 1);
    else if (op < 5) box.push(structuredClone(box[Math.floor(r() * box.length)]));
    else box[Math.floor(r() * box.length)] = structuredClone(pick(r, VALUES));
    return;
  }
  const obj = box as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 0 || op === 0) setKey(obj, pick(r, KEYS), structuredClone(pick(r, VALUES)));
  else if (op === 1) delete obj[pick(r, keys)];
  else if (op === 2 && "call" in obj) obj.call = pick(r, calls);
  else if (op === 3) setKey(obj, pick(r, keys), structuredClone(pick(r, all) ?? null));
  else setKey(obj, pick(r, keys), structuredClone(pick(r, VALUES)));
}

/** Every step list of a scenario document: setup, check and each task's script. */
function stepLists(doc: Record<string, unknown>): unknown[][] {
  const lists: unknown[][] = [];
  for (const key of ["setup", "check"]) if (Array.isArray(doc[key])) lists.push(doc[key] as unknown[]);
  if (Array.isArray(doc.tasks)) for (const t of doc.tasks as { script?: unknown }[]) if (t && Array.isArray(t.script)) lists.push(t.script as unknown[]);
  return lists.filter((l) => l.length > 0);
}

/**
 * A mutation that keeps the file well-formed and usually valid, so that many files get
 * past `validate` and run: a step duplicated, dropped, moved to another list or swapped
 * with its neighbour; a small number changed; a parameter default changed.
 */
function gentle(doc: Record<string, unknown>, r: Rand): void {
  const lists = stepLists(doc);
  if (lists.length === 0) return;
  const from = pick(r, lists);
  const i = Math.floor(r() * from.length);
  switch (Math.floor(r() * 6)) {
    case 0:
      from.splice(i, 0, structuredClone(from[i]));
      return;
    case 1:
      if (from.length > 1) from.splice(i, 1);
      return;
    case 2:
      pick(r, lists).push(...from.splice(i, 1));
      if (from.length === 0) from.push({ call: "usleep", args: { us: 1 } });
      return;
    case 3:
      if (i + 1 < from.length) [from[i], from[i + 1]] = [from[i + 1], from[i]];
      return;
    case 4: {
      const args = (from[i] as { args?: Record<string, unknown> } | null)?.args;
      const numeric = args ? Object.keys(args).filter((k) => typeof args[k] === "number") : [];
      if (args && numeric.length > 0) args[pick(r, numeric)] = pick(r, [0, 1, 2, 3, 5, 100]);
      return;
    }
    default: {
      const params = doc.params as Record<string, { default?: unknown; values?: unknown[] }> | undefined;
      const spec = params ? params[pick(r, Object.keys(params))] : undefined;
      if (spec?.values?.length) spec.default = pick(r, spec.values);
    }
  }
}

/** Text-level damage: truncation, a duplicated or deleted line, a flipped character, an alias. */
function damage(text: string, r: Rand): string {
  const lines = text.split("\n");
  const i = Math.floor(r() * lines.length);
  switch (Math.floor(r() * 6)) {
    case 0:
      return text.slice(0, Math.floor(r() * text.length));
    case 1:
      lines.splice(i, 0, lines[i]);
      return lines.join("\n");
    case 2:
      lines.splice(i, 1);
      return lines.join("\n");
    case 3: {
      const at = Math.floor(r() * text.length);
      return text.slice(0, at) + pick(r, [":", "-", "{", "}", "[", "]", "&a", "*a", "*nope", "\t", "#", "'", '"', "\u0000", "${", "$"]) + text.slice(at + 1);
    }
    case 4:
      return `x: &a [${"1,".repeat(50)}1]\n${text}`.replace(/\n(\s*)(\w+): [^\n]*$/, "\n$1$2: *a");
    default:
      return lines.map((l) => (r() < 0.05 ? `  ${l}` : l)).join("\n");
  }
}

export interface FuzzFile {
  name: string;
  text: string;
}

/** The example files and their parsed documents, read once per process (each file mutates a copy). */
let sources: { files: string[]; docs: Map<string, Record<string, unknown>> } | undefined;

function exampleDocs(): { files: string[]; docs: Map<string, Record<string, unknown>> } {
  if (sources) return sources;
  const files = exampleFiles();
  sources = { files, docs: new Map(files.map((f) => [f, parse(readFileSync(f, "utf8")) as Record<string, unknown>])) };
  return sources;
}

/** The `n`-th file of the sequence `seed` gives: a mutation of an example file. */
export function fuzzFile(seed: number, n: number, calls: readonly string[]): FuzzFile {
  const r = rng(seed * 1_000_003 + n);
  const { files, docs } = exampleDocs();
  const source = pick(r, files);
  const json = source.endsWith(".json");
  const doc = structuredClone(docs.get(source)!);
  // Half the files get gentle mutations only (most of them validate and run), half get
  // arbitrary ones (most are rejected), and a quarter of those are damaged as text.
  const hostile = r() < 0.5;
  const mutations = 1 + Math.floor(r() * (hostile ? 4 : 3));
  for (let i = 0; i < mutations; i++) {
    if (hostile) mutateOnce(doc, r, calls);
    else gentle(doc, r);
  }
  let text = json ? JSON.stringify(doc, null, 1) : stringify(doc, { aliasDuplicateObjects: false });
  if (hostile && r() < 0.25) text = damage(text, r);
  return { name: `${n}-${basename(source)}`, text };
}

export interface FuzzFigures {
  files: number;
  validateRejected: number;
  ran: number;
  internalErrors: number;
  crashes: number;
  hangs: number;
  seconds: number;
  /** The first few problems: the file's text and what went wrong. */
  problems: { file: string; command: string; what: string; text: string }[];
}

const EXPECTED_CODES: Record<string, number[]> = { validate: [0, 2], run: [0, 1, 2, 3], explore: [0, 1, 2, 3] };

/** CPU time of this process so far (ms): a hang spins, and a loaded machine must not look like one. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Run `count` fuzz files (from `start`) through validate, run and explore --budget 5, in
 * this process (modules load once). A command is a hang when it spends more than
 * `hangMs` of CPU time, or more than six times that of wall time (a blocked read).
 * Shrinking is capped at 5 runs like the budget (FOLIOSIM_BUDGET_CAP=5): the shrinker's
 * code paths are the same, and a mutated livelock's schedule does not dominate the run.
 */
export async function fuzz(options: { seed: number; count: number; start?: number; hangMs?: number; calls: readonly string[]; onFile?: (n: number, figures: FuzzFigures) => void }): Promise<FuzzFigures> {
  process.env.FOLIOSIM_IN_THREAD = "1";
  const cap = process.env.FOLIOSIM_BUDGET_CAP;
  process.env.FOLIOSIM_BUDGET_CAP = "5";
  const dir = mkdtempSync(join(tmpdir(), "foliosim-fuzz-"));
  const figures: FuzzFigures = { files: 0, validateRejected: 0, ran: 0, internalErrors: 0, crashes: 0, hangs: 0, seconds: 0, problems: [] };
  const started = performance.now();
  const hangMs = options.hangMs ?? 20_000;
  try {
    for (let n = options.start ?? 0; n < (options.start ?? 0) + options.count; n++) {
      const f = fuzzFile(options.seed, n, options.calls);
      const path = join(dir, f.name);
      writeFileSync(path, f.text);
      figures.files++;
      const problem = (command: string, what: string) => {
        if (figures.problems.length < 10) figures.problems.push({ file: f.name, command, what, text: f.text });
      };
      const once = async (command: string, argv: string[]): Promise<number | undefined> => {
        let stderr = "";
        const io: Io = { stdout: () => {}, stderr: (t) => void (stderr += t), env: { CI: "1" }, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false };
        const t0 = performance.now();
        const c0 = cpuMs();
        let code: number;
        try {
          code = await main(argv, io);
        } catch (error) {
          figures.crashes++;
          problem(command, `exception escaped main: ${String(error)}`);
          return undefined;
        }
        const wall = performance.now() - t0;
        const cpu = cpuMs() - c0;
        if (cpu > hangMs || wall > 6 * hangMs) {
          figures.hangs++;
          problem(command, `took ${Math.round(cpu)} ms of CPU time, ${Math.round(wall)} ms of wall time`);
        }
        if (code === 70 || /internal error/.test(stderr)) {
          figures.internalErrors++;
          problem(command, stderr.trim());
        } else if (!EXPECTED_CODES[command].includes(code)) problem(command, `exit ${code}: ${stderr.trim()}`);
        return code;
      };
      const valid = await once("validate", ["validate", path]);
      if (valid !== 0) figures.validateRejected++;
      else {
        figures.ran++;
        // A step cap keeps a mutated livelock (tens of thousands of steps a run) from
        // dominating the time; the budgets' code paths are the same.
        await once("run", ["run", path, "--trace", "none", "--max-steps", "5000"]);
        await once("explore", ["explore", path, "--budget", "5", "--max-steps", "5000"]);
      }
      rmSync(path, { force: true });
      if ((Object.prototype as Record<string, unknown>).polluted !== undefined) {
        figures.crashes++;
        problem("explore", "Object.prototype was polluted");
        delete (Object.prototype as Record<string, unknown>).polluted;
      }
      options.onFile?.(n, figures);
    }
  } finally {
    if (cap === undefined) delete process.env.FOLIOSIM_BUDGET_CAP;
    else process.env.FOLIOSIM_BUDGET_CAP = cap;
    rmSync(dir, { recursive: true, force: true });
    figures.seconds = (performance.now() - started) / 1000;
  }
  return figures;
}
