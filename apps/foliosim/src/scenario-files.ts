/**
 * User scenario files: YAML or JSON in the catalog's schema (`@foliosim/scenarios`'
 * zod `Scenario`), turned into the same objects the TypeScript builder gives.
 *
 * Files are data and are never executed: they are parsed with the `yaml` package's
 * core schema (which has no tags that construct objects or run code; JSON is YAML's
 * flow subset, so one parser reads both), then checked by the schema and by
 * `validateScenario`. Every error names the file, line and column and the field path,
 * says what was expected and what was found, and suggests the closest valid call,
 * kernel or variant name.
 *
 * Besides the scenario fields, a file may carry `kernels:` — the kernels it is meant to
 * run on (`linux-6.11`, or a preset with variant overrides: `linux-6.11+collect=will-v1`).
 */

import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from "yaml";
import { Expectation, flattenUnions, zodIssueMessage, KernelError, MachineSpec, ParamSpec, PromiseSpec, Scenario, suggest, TaskSpec, validateScenario } from "@foliosim/scenarios";
import { InputFileError, readInputFile } from "./input-file.js";
import { parseKernelSpec } from "./kernel-spec.js";
import { LIMITS } from "./limits.js";

export interface FileIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted path into the document ("tasks.1.script.0.call"); "(root)" for the whole file. */
  path: string;
  message: string;
}

/** A scenario file that does not load; `message` lists every issue, one per line. */
export class ScenarioFileError extends Error {
  override readonly name = "ScenarioFileError";
  constructor(readonly issues: FileIssue[]) {
    super(issues.map(formatIssue).join("\n"));
  }
}

export interface LoadedScenario {
  file: string;
  scenario: Scenario;
  /** The file's `kernels:` list (empty when it has none). */
  kernels: string[];
}

/** `file:line:column: path: message`, the shape compilers and editors understand. */
export function formatIssue(issue: FileIssue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.path}: ${issue.message}`;
}

const STEP_KEYS = ["call", "args", "as", "expect", "cpu", "repeat", "until", "while", "max", "note", "process"];
const EXPECT_KEYS = Object.keys(Expectation.shape);
const SOURCE_KEYS = ["seeds", "reference", "note"];
const FILE_KEYS = [...Object.keys(Scenario.shape), "kernels"];

/** The keys an object at `path` may have, for "unknown field" suggestions. */
function knownKeys(path: readonly (string | number)[]): string[] {
  const p = path.map((s) => (typeof s === "number" ? "#" : s)).join(".");
  if (p === "") return FILE_KEYS;
  if (p === "machine") return Object.keys(MachineSpec.shape);
  if (p === "promise") return Object.keys(PromiseSpec.shape);
  if (p === "source") return SOURCE_KEYS;
  if (p === "tasks.#") return Object.keys(TaskSpec.shape);
  if (p === "tasks.#.script.#" || p === "setup.#" || p === "check.#") return STEP_KEYS;
  if (/(^|\.)(expect|until|while)(\.#)?$/.test(p)) return EXPECT_KEYS;
  if (/^params\.[^.]+$/.test(p)) return Object.keys(ParamSpec.shape);
  return [];
}

/** Parse and check one scenario text; throws ScenarioFileError with every issue. */
export function parseScenarioText(text: string, file: string): LoadedScenario {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below in linear time (the parser's own check is quadratic in a map's keys).
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, schema: "core" });
  const issues: FileIssue[] = [];
  const at = (offset: number, path: string, message: string): FileIssue => {
    const pos = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { file, line: pos.line, column: pos.col, path, message };
  };
  for (const error of doc.errors) {
    issues.push(at(error.pos[0], "(root)", `${file.endsWith(".json") ? "JSON" : "YAML"} syntax: ${error.message.split("\n")[0]}`));
  }
  if (issues.length > 0) throw new ScenarioFileError(issues);
  issues.push(...structureIssues(doc.contents as YamlNode | null, at));
  if (issues.length > 0) throw new ScenarioFileError(issues);

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LIMITS.yamlAliases });
  } catch (error) {
    // An alias whose expansion is too large (a "billion laughs" file) or that cannot be resolved.
    throw new ScenarioFileError([at(0, "(root)", `YAML aliases: ${(error as Error).message.split("\n")[0]} (at most ${LIMITS.yamlAliases} alias expansions)`)]);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ScenarioFileError([at(0, "(root)", `expected a mapping with the scenario's fields (id, title, machine, tasks, promise, …), found ${describeValue(data)}`)]);
  }
  const locate = (path: readonly (string | number)[], key = false): number => locateOffset(doc.contents as YamlNode | null, path, key);
  const issueAt = (path: readonly (string | number)[], message: string, key = false): FileIssue => at(locate(path, key), dotted(path), message);

  // `kernels:` is the app's own field: check it, then hand the rest to the schema.
  const { kernels: rawKernels, ...rest } = data as Record<string, unknown>;
  const kernels: string[] = [];
  if (rawKernels !== undefined) {
    if (!Array.isArray(rawKernels)) issues.push(issueAt(["kernels"], `expected a list of kernel ids, found ${describeValue(rawKernels)}`));
    else
      rawKernels.forEach((k, i) => {
        if (typeof k !== "string") return void issues.push(issueAt(["kernels", i], `expected a kernel id, found ${describeValue(k)}`));
        try {
          parseKernelSpec(k, [], { modules: false });
          kernels.push(k);
        } catch (error) {
          if (error instanceof KernelError) issues.push(issueAt(["kernels", i], error.message));
          else throw error;
        }
      });
  }

  const parsed = Scenario.safeParse(rest);
  if (!parsed.success) {
    for (const issue of flattenUnions(parsed.error.issues)) {
      const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          issues.push(issueAt([...path, key], `unknown field "${key}"${suggest(key, knownKeys(path))}; expected one of: ${knownKeys(path).join(", ") || "(none)"}`, true));
        }
        continue;
      }
      const found = valueAt(rest, path);
      issues.push(issueAt(path, zodMessage(issue, found)));
    }
  }
  if (parsed.success) for (const limit of limitIssues(parsed.data)) issues.push(issueAt(limit.path, limit.message));
  // Semantic problems (unknown calls, undefined names, types after substitution) are
  // reported together with the schema's, from the raw document when the schema failed.
  for (const v of validateScenario(parsed.success ? parsed.data : rest)) {
    const path = v.path.split(".").map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    issues.push(issueAt(path, validationMessage(v.message, valueAt(rest, path)), / has no argument /.test(v.message)));
  }
  if (issues.length > 0 || !parsed.success) throw new ScenarioFileError(sortIssues(dedupe(issues)));
  return { file, scenario: parsed.data, kernels };
}

/** The app's directory (next to src/ and dist/): documented example paths (`examples/…`) resolve from it too. */
const APP_DIR = fileURLToPath(new URL("../", import.meta.url));

/**
 * A scenario path as given, or — when it is relative and names nothing here — the same
 * path under the app's directory, so `examples/s4-transient-ref.yaml` works from the
 * repository root as from apps/foliosim/.
 */
export function resolveScenarioPath(file: string): string {
  if (isAbsolute(file) || existsSync(file)) return file;
  const inApp = join(APP_DIR, file);
  return existsSync(inApp) ? inApp : file;
}

/**
 * Machine size within LIMITS (a huge machine would exhaust the heap at set-up). Pages per
 * call are the call schemas' own limit (`@foliosim/scenarios` MAX_CALL_PAGES), checked by
 * `validateScenario` for every value a `${param}` takes.
 */
function limitIssues(scenario: Scenario): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const memory = (scenario.machine.memory ?? {}) as Record<string, unknown>;
  let total = 0;
  for (const [zone, pages] of Object.entries(memory)) {
    if (typeof pages !== "number") continue;
    total += pages;
    if (pages > LIMITS.zonePages) out.push({ path: ["machine", "memory", zone], message: `at most ${LIMITS.zonePages} pages per zone, found ${pages}` });
  }
  // Each NUMA node has the memory above.
  const nodes = scenario.machine.nodes ?? 1;
  if (total * nodes > 4 * LIMITS.zonePages) out.push({ path: ["machine", "memory"], message: `at most ${4 * LIMITS.zonePages} pages in all, found ${total * nodes}${nodes > 1 ? ` (${total} on each of ${nodes} nodes)` : ""}` });
  return out;
}

/** Read and check a file (YAML: .yaml/.yml; JSON: .json): name, kind and size first, then the text. */
export function loadScenarioFile(file: string): LoadedScenario {
  if (!/\.(ya?ml|json)$/i.test(file)) {
    throw new ScenarioFileError([{ file, line: 1, column: 1, path: "(root)", message: "expected a .yaml, .yml or .json scenario file" }]);
  }
  let text: string;
  try {
    text = readInputFile(resolveScenarioPath(file), "scenario file");
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    const message = error.message.startsWith(`${file}: `) ? error.message.slice(file.length + 2) : error.message;
    throw new ScenarioFileError([{ file, line: 1, column: 1, path: "(root)", message }]);
  }
  return parseScenarioText(text, file);
}

/**
 * Checks on the parsed YAML before it is turned into data: duplicate keys (each map's
 * keys in a Set, linear), the number of nodes, and aliases that point nowhere.
 */
export function structureIssues(root: YamlNode | null, at: (offset: number, path: string, message: string) => FileIssue): FileIssue[] {
  const issues: FileIssue[] = [];
  let nodes = 0;
  visit(root, {
    Node(_key, node) {
      nodes++;
      if (nodes > LIMITS.yamlNodes) {
        issues.push(at(node.range?.[0] ?? 0, "(root)", `more than ${LIMITS.yamlNodes} YAML nodes: a scenario file is smaller`));
        return visit.BREAK;
      }
      if (isAlias(node) && issues.length < 20) {
        const anchors = root ? anchorNames(root) : new Set<string>();
        if (!anchors.has(node.source)) issues.push(at(node.range?.[0] ?? 0, "(root)", `YAML alias *${node.source} refers to no anchor &${node.source}`));
      }
      if (isMap(node)) {
        const seen = new Set<string>();
        for (const pair of node.items) {
          if (!isScalar(pair.key)) continue;
          const name = String(pair.key.value);
          if (seen.has(name)) issues.push(at((pair.key as YamlNode).range?.[0] ?? 0, "(root)", `duplicate key "${name}": each key may appear once in a mapping`));
          seen.add(name);
        }
      }
      return undefined;
    },
  });
  return issues;
}

const anchorCache = new WeakMap<object, Set<string>>();

function anchorNames(root: YamlNode): Set<string> {
  let names = anchorCache.get(root);
  if (names) return names;
  names = new Set<string>();
  const found = names;
  visit(root, {
    Node(_key, node) {
      if ((node as { anchor?: string }).anchor) found.add((node as { anchor: string }).anchor);
    },
  });
  anchorCache.set(root, names);
  return names;
}

/** Does an argument name a scenario file rather than a catalog id? */
export function looksLikeFile(arg: string): boolean {
  return /\.(ya?ml|json)$/i.test(arg) || arg.includes("/");
}

function dedupe(issues: FileIssue[]): FileIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sortIssues(issues: FileIssue[]): FileIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function dotted(path: readonly (string | number)[]): string {
  return path.length === 0 ? "(root)" : path.join(".");
}

/** Offset of the node at `path` (its key when `key`), else of the deepest ancestor that exists. */
export function locateOffset(root: YamlNode | null, path: readonly (string | number)[], key: boolean): number {
  let node: unknown = root;
  let offset = root?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return offset;
      const keyNode = pair.key as YamlNode;
      if (last && key) return keyNode.range?.[0] ?? offset;
      node = pair.value;
      offset = (pair.value as YamlNode | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as YamlNode | undefined;
      if (!item) return offset;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else return offset;
  }
  return offset;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = data;
  for (const s of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/** A short description of a found value: `"two" (a string)`, `nothing`, `a list`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `${JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v)} (a string)`;
  return `${String(v)} (a ${typeof v})`;
}

function zodMessage(issue: Parameters<typeof zodIssueMessage>[0], found: unknown): string {
  const msg = zodIssueMessage(issue, found);
  return issue.code === "invalid_value" && typeof found === "string" ? msg + suggest(found, (issue.values ?? []).map(String)) : msg;
}

function validationMessage(message: string, found: unknown): string {
  const call = /^unknown call "([^"]*)"(.*)$/.exec(message);
  if (call) return `expected a known call (see \`foliosim list --calls\`), found "${call[1]}"${call[2]}`;
  const arg = /^(\S+) has no argument "([^"]*)"(.*)$/.exec(message);
  if (arg) return `expected an argument of ${arg[1]}, found "${arg[2]}"${arg[3]}`;
  if (/found/.test(message) || found === undefined || typeof found === "object") return message;
  return `${message} (found ${describeValue(found)})`;
}

/**
 * `file:line:column` of a step path ("tasks.0.script.2") in a scenario file, for errors
 * found only while running; the bare file name when it no longer reads or parses.
 */
export function locateStep(file: string, path: string): string {
  try {
    const text = readInputFile(resolveScenarioPath(file), "scenario file");
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, uniqueKeys: false, schema: "core" });
    const segments = path.split(".").map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const pos = lineCounter.linePos(locateOffset(doc.contents as YamlNode | null, segments, false));
    return `${file}:${pos.line}:${pos.col}`;
  } catch {
    return file;
  }
}
