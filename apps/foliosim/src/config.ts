/**
 * `--config FILE` (run, explore, compare, evaluate, replay): a YAML or JSON file naming the
 * variant modules to load, the kernels and scenarios to run, and budget defaults, so a
 * patch under review is one file instead of a line of flags:
 *
 *   variants: [./my-fix.ts]                      # code: loaded because you pass this file
 *   kernels: [linux-7.0, linux-7.0+collect=./my-fix.ts]
 *   scenarios: [pkvm-mlock-cma, ./races/mine.yaml]
 *   strategy: dpor
 *   budget: 500
 *   seed: 1
 *   max-steps: 60000
 *   set: { hold_ns: 1000 }
 *
 * Paths (variant modules, module paths in kernel specs, scenario files) are relative to
 * the config file. The command line wins: `--kernel` replaces `kernels:`, scenarios
 * given as arguments replace `scenarios:`, each flag replaces its field, and `--set`
 * replaces the `set:` value of the same key; `--variant` files are loaded besides
 * `variants:` (evaluate evaluates the `--variant` given, else the config's only one).
 * `replay` searches the config's scenarios × kernels (with its `set:`) for the token.
 *
 * A config file is the user's own and may load code (it names modules exactly as
 * `--variant` does); scenario files stay data and never load a module. The file is
 * checked (zod) before anything runs: every problem is reported as
 * `file:line:column: field: message`, exit 2.
 */

import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { flattenUnions, KernelError, suggest, zodIssueMessage } from "@foliosim/scenarios";
import { builtinCatalog } from "./catalog.js";
import { UsageError } from "./errors.js";
import { InputFileError, readInputFile } from "./input-file.js";
import { parseKernelSpec } from "./kernel-spec.js";
import { LIMITS } from "./limits.js";
import { describeValue, locateOffset, looksLikeFile, structureIssues } from "./scenario-files.js";
import { loadVariantModule, looksLikeModule } from "./variant-modules.js";

export const ConfigFile = z
  .object({
    /** Variant modules (.ts/.js) to load, as `--variant` does. */
    variants: z.array(z.string().min(1)).optional(),
    /** Kernels: run and explore take the first, compare all, evaluate the first as its base. */
    kernels: z.array(z.string().min(1)).min(1).optional(),
    /** Catalog ids or scenario files: run and explore take one, compare and evaluate all. */
    scenarios: z.array(z.string().min(1)).min(1).optional(),
    strategy: z.enum(["pct", "random", "dpor"]).optional(),
    /** Executions, or a wall time for explore ("30s", "2m"). */
    budget: z.union([z.number().int().min(1).max(LIMITS.executions), z.string().regex(/^\d+(ms|s|m)$/, "expected a number of executions or a time such as 30s or 2m")]).optional(),
    seed: z.number().int().min(0).optional(),
    depth: z.number().int().min(1).max(LIMITS.pctDepth).optional(),
    "max-steps": z.number().int().min(1).max(LIMITS.maxSteps).optional(),
    /** Scenario parameters, as `--set key=value`. */
    set: z.record(z.string().regex(/^[^=\s]+$/, "expected a parameter name"), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict();

const FIELDS = Object.keys(ConfigFile.shape);

export interface Config {
  file: string;
  /** Absolute paths of the variant modules. */
  variants: string[];
  /** Kernel specs, their module paths made absolute. */
  kernels: string[];
  /** Catalog ids, and scenario files as absolute paths. */
  scenarios: string[];
  strategy?: string;
  budget?: string;
  seed?: string;
  depth?: string;
  maxSteps?: string;
  /** `key=value` items, as `--set` gives them. */
  set: string[];
  /** `file:line:column: field` of a field, for problems found when a command uses it. */
  at(field: string): string;
}

/** A config file that does not load; the message lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

interface Issue {
  path: (string | number)[];
  message: string;
  key?: boolean;
}

/** Read, check and apply a config file: its variant modules are loaded here. */
export function loadConfig(file: string): Config {
  if (!/\.(ya?ml|json)$/i.test(file)) throw new ConfigError(`${file}:1:1: (root): expected a .yaml, .yml or .json config file`);
  let text: string;
  try {
    text = readInputFile(file, "config file");
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    throw new ConfigError(`${file}:1:1: (root): ${error.message.startsWith(`${file}: `) ? error.message.slice(file.length + 2) : error.message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, schema: "core" });
  const where = (offset: number): string => {
    const pos = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return `${file}:${pos.line}:${pos.col}`;
  };
  const root = doc.contents as YamlNode | null;
  const fail = (issues: Issue[]): never => {
    const located = issues.map((i) => ({ offset: locateOffset(root, i.path, i.key ?? false), i })).sort((a, b) => a.offset - b.offset);
    throw new ConfigError(located.map(({ offset, i }) => `${where(offset)}: ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("\n"));
  };
  const syntax = doc.errors.map((e) => `${where(e.pos[0])}: (root): ${file.endsWith(".json") ? "JSON" : "YAML"} syntax: ${e.message.split("\n")[0]}`);
  const structure = structureIssues(root, (offset, path, message) => ({ file, line: 0, column: 0, path, message: `${where(offset)}: ${path}: ${message}` })).map((i) => i.message);
  if (syntax.length + structure.length > 0) throw new ConfigError([...syntax, ...structure].join("\n"));
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: LIMITS.yamlAliases });
  } catch (error) {
    throw new ConfigError(`${file}:1:1: (root): YAML aliases: ${(error as Error).message.split("\n")[0]}`);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) fail([{ path: [], message: `expected a mapping with the config's fields (${FIELDS.join(", ")}), found ${describeValue(data)}` }]);
  const parsed = ConfigFile.safeParse(data);
  // The fields that are well-formed are checked further (modules, kernels, scenarios) even when others are not, so every problem is reported at once.
  const fields = parsed.success ? parsed.data : wellFormed(data as Record<string, unknown>);
  const config = resolveConfig(file, fields, (path) => `${where(locateOffset(root, path, false))}: ${path.join(".")}`);
  const issues = [...(parsed.success ? [] : schemaIssues(parsed.error.issues, data)), ...checkEntries(config, fields)];
  if (issues.length > 0) fail(issues);
  return config;
}

/** The fields of a config that failed the schema whose own values pass it. */
function wellFormed(data: Record<string, unknown>): z.infer<typeof ConfigFile> {
  const shape = ConfigFile.shape as Record<string, z.ZodType>;
  return Object.fromEntries(Object.keys(shape).filter((k) => k in data && shape[k].safeParse(data[k]).success).map((k) => [k, data[k]])) as z.infer<typeof ConfigFile>;
}

function schemaIssues(raw: readonly z.core.$ZodIssue[], data: unknown): Issue[] {
  const out: Issue[] = [];
  for (const issue of flattenUnions(raw as (z.core.$ZodIssue & { path: PropertyKey[] })[])) {
    const path = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) out.push({ path: [...path, key], key: true, message: `unknown field "${key}"${suggest(key, FIELDS)}; expected one of: ${FIELDS.join(", ")}` });
      continue;
    }
    let found: unknown = data;
    for (const s of path) found = found !== null && typeof found === "object" ? (found as Record<string | number, unknown>)[s] : undefined;
    out.push({ path, message: issue.code === "invalid_format" ? `${issue.message}, found ${describeValue(found)}` : zodIssueMessage(issue as Parameters<typeof zodIssueMessage>[0], found) });
  }
  return out;
}

/** Paths made absolute (relative to the config file), numbers as the flags' strings. */
function resolveConfig(file: string, data: z.infer<typeof ConfigFile>, at: (path: (string | number)[]) => string): Config {
  const dir = dirname(resolve(file));
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(dir, p));
  const str = (n: number | string | undefined): string | undefined => (n === undefined ? undefined : String(n));
  return {
    file,
    variants: (data.variants ?? []).map(path),
    kernels: (data.kernels ?? []).map((spec) => kernelSpecFrom(spec, path)),
    scenarios: (data.scenarios ?? []).map((s) => (looksLikeFile(s) ? path(s) : s)),
    strategy: data.strategy,
    budget: str(data.budget),
    seed: str(data.seed),
    depth: str(data.depth),
    maxSteps: str(data["max-steps"]),
    set: Object.entries(data.set ?? {}).map(([k, v]) => `${k}=${String(v)}`),
    at: (field) => at([field]),
  };
}

/** `linux-7.0+collect=./fix.ts` → the same spec with the module path absolute. */
function kernelSpecFrom(spec: string, path: (p: string) => string): string {
  const plus = spec.indexOf("+");
  if (plus < 0) return spec;
  const overrides = spec
    .slice(plus + 1)
    .split(",")
    .map((item) => {
      const eq = item.indexOf("=");
      return eq > 0 && looksLikeModule(item.slice(eq + 1)) ? `${item.slice(0, eq)}=${path(item.slice(eq + 1))}` : item;
    });
  return `${spec.slice(0, plus)}+${overrides.join(",")}`;
}

/** Load the variant modules, resolve the kernels, and check that each scenario exists. */
function checkEntries(config: Config, data: z.infer<typeof ConfigFile>): Issue[] {
  const issues: Issue[] = [];
  config.variants.forEach((abs, i) => {
    if (!existsSync(abs) || !statSync(abs).isFile()) return void issues.push({ path: ["variants", i], message: `no such file: ${abs}` });
    try {
      loadVariantModule(abs);
    } catch (error) {
      if ((error as Error).name !== "VariantError") throw error;
      issues.push({ path: ["variants", i], message: (error as Error).message });
    }
  });
  config.kernels.forEach((spec, i) => {
    try {
      parseKernelSpec(spec);
    } catch (error) {
      if (!(error instanceof KernelError) && (error as Error).name !== "VariantError") throw error;
      issues.push({ path: ["kernels", i], message: (error as Error).message });
    }
  });
  const ids = builtinCatalog().map((e) => e.scenario.id);
  config.scenarios.forEach((s, i) => {
    if (looksLikeFile(data.scenarios![i])) {
      if (!existsSync(s)) issues.push({ path: ["scenarios", i], message: `no such scenario file: ${s}` });
    } else if (!ids.includes(s)) issues.push({ path: ["scenarios", i], message: `unknown scenario "${s}"${suggest(s, ids)} (a catalog id, or a .yaml/.json file relative to the config)` });
  });
  return issues;
}

/** What the command line gave explicitly (commander's option value source). */
export type Given = (option: string) => boolean;

export interface ConfigUse {
  /** "one": run, explore and evaluate take the first kernel; "many": compare takes all. */
  kernels: "one" | "many";
  strategy?: boolean;
  depth?: boolean;
  /** Whether a wall-time budget is allowed (explore). */
  time?: boolean;
  /** Whether the command has a --budget. */
  budget?: boolean;
}

/** Fill a command's options from the config where the command line did not give them. */
export function applyConfig(config: Config | undefined, given: Given, o: Record<string, unknown>, use: ConfigUse): void {
  if (!config) return;
  if (!given("kernel") && config.kernels.length > 0) o.kernel = use.kernels === "many" ? [...config.kernels] : config.kernels[0];
  const fill = (option: string, value: string | undefined) => {
    if (value !== undefined && !given(option)) o[option] = value;
  };
  fill("seed", config.seed);
  fill("maxSteps", config.maxSteps);
  if (use.strategy) fill("strategy", config.strategy);
  if (use.depth) fill("depth", config.depth);
  if (use.budget && config.budget !== undefined && !given("budget")) {
    if (!use.time && !/^\d+$/.test(config.budget)) throw new ConfigError(`${config.at("budget")}: this command takes a number of executions, found "${config.budget}" (a time budget is for explore)`);
    o.budget = config.budget;
  }
}

/**
 * `set:` before the command line's `--set` (which wins for its key): for compare every
 * item (each scenario takes those it has), for one scenario only the parameters it has.
 */
export function applyConfigSet(config: Config | undefined, o: Record<string, unknown>, params?: readonly string[]): void {
  if (!config || config.set.length === 0) return;
  const items = params ? config.set.filter((item) => params.includes(item.slice(0, item.indexOf("=")))) : config.set;
  o.set = [...items, ...((o.set as string[] | undefined) ?? [])];
}

/** The scenarios to run: the command line's, else the config's. */
export function configScenarios(config: Config | undefined, given: readonly string[]): string[] {
  return given.length > 0 || !config ? [...given] : [...config.scenarios];
}

/** The one scenario run and explore take: the command line's, else the config's only one. */
export function oneScenario(command: string, config: Config | undefined, given: string | undefined): string {
  if (given !== undefined) return given;
  const named = config?.scenarios ?? [];
  if (named.length === 1) return named[0];
  if (named.length === 0) throw new UsageError(`${command} needs a scenario: a catalog id or a .yaml/.json file${config ? `, on the command line or in scenarios: of ${config.file}` : ""}`);
  throw new ConfigError(`${config!.at("scenarios")}: ${command} runs one scenario and the config names ${named.length}: give one on the command line`);
}
