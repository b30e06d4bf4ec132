/**
 * `foliosim evaluate --kernel <base> --variant ./my-fix.ts [scenario… | --all]`: every
 * chosen race on the base kernel and on base + the variant, and what changed.
 *
 * Each (race, kernel) is explored with DPOR first; a complete DPOR run is a proof
 * (holds) and a DPOR counterexample is a failure. When DPOR does not complete within
 * its budget, PCT runs instead and the report says so. Failures carry their replay
 * token and the shrunk counterexample's last lines of ftrace.
 */

import { explore, replay, type ExploreOptions, type ExploreResult, type ExploreTarget } from "@foliosim/explore";
import { METRIC_NAMES, type Scenario } from "@foliosim/scenarios";
import { isVariant, registeredVariant, variationPoints, type Variant } from "@foliosim/sim";
import { builtinCatalog, resolveScenario, targetFor } from "../catalog.js";
import { UsageError } from "../errors.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { capBudget } from "../options.js";
import { writeFtrace } from "../render/ftrace.js";
import { buildTraceDocument } from "../render/trace-model.js";
import { looksLikeModule, loadVariantModule, variantFilesOf } from "../variant-modules.js";
import { escapeControl, shellWord } from "../render/escape.js";
import { looksLikeFile } from "../scenario-files.js";

export interface EvaluateOptions {
  /** The base kernel spec (`linux-7.3`, `linux-6.11+lru-batch-clears-lru=off`). */
  kernel: string;
  /** A variant module path, or the id of one already loaded with --variant. */
  variant: string;
  scenarios: string[];
  all?: boolean;
  /** DPOR executions before falling back to PCT (default 400). */
  dporBudget?: number;
  /** PCT executions (default 200). */
  budget?: number;
  maxSteps?: number;
  seed?: number;
  /** Lines of ftrace per counterexample (default 8). */
  traceLines?: number;
}

export type Change = "fixed" | "broken" | "unchanged" | "still fails" | "inconclusive";

export interface SideResult {
  kernel: string;
  verdict: "holds" | "fails" | "inconclusive";
  /** "dpor" (complete: a proof; or a DPOR counterexample) or "pct" (DPOR did not complete). */
  method: "dpor" | "pct";
  executions: number;
  /** Medians over the executions, per cost metric. */
  costs: Record<string, number>;
  /** `replay`: the command that replays the counterexample, as printed (scenario file, kernel and variant module included). */
  failure?: { kind: string; message: string; token: string; replay: string; ftrace: string[] };
}

export interface RaceEvaluation {
  scenario: string;
  before: SideResult;
  after: SideResult;
  change: Change;
}

export interface EvaluateReport {
  schemaVersion: 1;
  variant: { id: string; point: string; source: string; file?: string };
  base: string;
  kernel: string;
  races: RaceEvaluation[];
  summary: Record<Change, number>;
  /** True when a race that held on the base fails with the variant (the exit code says so too). */
  regressed: boolean;
}

/** The cost metrics the report compares, in its order. */
export const EVALUATE_COSTS = ["lru_add_drain_all", "ipi_broadcast", "rcu_expedited_gp", "static_key_patch", "migrate_retry", "virtual_ns"] as const;

export function evaluateCommand(o: EvaluateOptions): EvaluateReport {
  const variant = resolveVariantArg(o.variant);
  const base = parseKernelSpec(o.kernel);
  const withVariant = parseKernelSpec(`${o.kernel}${o.kernel.includes("+") ? "," : "+"}${variant.point}=${variant.id}`);
  const scenarios = chooseScenarios(o);
  const files = new Map(o.scenarios.filter(looksLikeFile).map((arg) => [resolveScenario(arg).scenario.id, arg]));
  const races = scenarios.map((s) => {
    const replay = replayCommand(files.get(s.id), o.maxSteps);
    const before = evaluateSide(targetFor(s, base), o, replay);
    const after = evaluateSide(targetFor(s, withVariant), o, replay);
    return { scenario: s.id, before, after, change: changeOf(before.verdict, after.verdict) };
  });
  const summary: Record<Change, number> = { fixed: 0, broken: 0, unchanged: 0, "still fails": 0, inconclusive: 0 };
  for (const r of races) summary[r.change]++;
  return {
    schemaVersion: 1,
    variant: { id: variant.id, point: variant.point, source: variant.source, ...(variant.file ? { file: variant.file } : {}) },
    base: base.id,
    kernel: withVariant.id,
    races,
    summary,
    regressed: summary.broken > 0,
  };
}

function resolveVariantArg(arg: string): Variant {
  if (looksLikeModule(arg)) return loadVariantModule(arg);
  for (const p of variationPoints()) {
    const v = registeredVariant(p.name, arg);
    if (v && isVariant(v)) return v;
  }
  throw new UsageError(`evaluate needs --variant FILE (a .ts/.js module default-exporting defineVariant(...)); "${arg}" is neither a file nor a loaded variant`);
}

function chooseScenarios(o: EvaluateOptions): Scenario[] {
  const builtin = o.all ? builtinCatalog().map((e) => e.scenario) : [];
  const named = o.scenarios.map((arg) => resolveScenario(arg).scenario);
  if (builtin.length + named.length === 0) throw new UsageError("evaluate needs scenario ids or files, or --all");
  return [...builtin, ...named];
}

function changeOf(before: SideResult["verdict"], after: SideResult["verdict"]): Change {
  if (before === "inconclusive" || after === "inconclusive") return "inconclusive";
  if (before === after) return before === "holds" ? "unchanged" : "still fails";
  return after === "holds" ? "fixed" : "broken";
}

/** The replay command of a counterexample: the token, the kernel, the variant modules it names, and the scenario file when not a catalog id. */
function replayCommand(file: string | undefined, maxSteps: number | undefined): (token: string, kernel: string) => string {
  return (token, kernel) => {
    const words = ["foliosim", "replay", token, ...(file !== undefined ? ["--scenario", file] : []), "--kernel", kernel];
    for (const module of variantFilesOf(kernel)) words.push("--variant", module);
    if (maxSteps !== undefined && maxSteps !== 60_000) words.push("--max-steps", String(maxSteps));
    return words.map(shellWord).join(" ");
  };
}

function evaluateSide(target: ExploreTarget, o: EvaluateOptions, replayOf: (token: string, kernel: string) => string): SideResult {
  const budget = { maxSteps: o.maxSteps ?? 60_000 };
  let r: ExploreResult = explore(target, capBudget<ExploreOptions>({ ...budget, strategy: { kind: "dpor" }, maxExecutions: o.dporBudget ?? 400, shrink: 200 }));
  let method: SideResult["method"] = "dpor";
  const proved = r.verdict === "fails" || (r.dpor?.complete ?? false);
  if (!proved) {
    r = explore(target, capBudget<ExploreOptions>({ ...budget, strategy: { kind: "pct", seed: o.seed ?? 1, depth: 3 }, maxExecutions: o.budget ?? 200, shrink: 200 }));
    method = "pct";
  }
  const costs: Record<string, number> = {};
  for (const name of METRIC_NAMES) if ((EVALUATE_COSTS as readonly string[]).includes(name)) costs[name] = r.metrics[name]?.median ?? 0;
  const side: SideResult = { kernel: target.kernelId, verdict: r.verdict, method, executions: r.executions, costs };
  if (r.firstFailure) {
    const f = r.firstFailure;
    side.failure = { kind: f.kind, message: f.message, token: f.shrunk.token, replay: replayOf(f.shrunk.token, target.kernelId), ftrace: ftraceTail(target, f.shrunk.token, f, o.traceLines ?? 8) };
  }
  return side;
}

/** The last `n` event lines of the shrunk counterexample's ftrace (the lines that say how it ends). */
function ftraceTail(target: ExploreTarget, token: string, failure: { kind: string; message: string }, n: number): string[] {
  const run = replay(target, token);
  const text = writeFtrace(buildTraceDocument(run.result, { scenario: target.scenarioId, kernel: target.kernelId, token, failure }), { ops: false });
  return text
    .split("\n")
    // The model's own events (page_ref_*, mm_migrate_pages, ...): without the span and scheduler lines.
    .filter((l) => l !== "" && !l.startsWith("#") && !/: (tracing_mark_write|sched_\w+):/.test(l))
    .slice(-n)
    .map((l) => l.replace(/\s+/g, " ").trim());
}

// ----------------------------------------------------------------- rendering

const WIDTH = 75;

const COST_LABEL: Record<(typeof EVALUATE_COSTS)[number], string> = {
  lru_add_drain_all: "lru_add_drain_all calls",
  ipi_broadcast: "IPI broadcasts",
  rcu_expedited_gp: "expedited RCU GPs",
  static_key_patch: "static-key patches",
  migrate_retry: "migration retries",
  virtual_ns: "virtual time (ns)",
};

function verdictText(s: SideResult): string {
  const how = s.method === "dpor" ? (s.verdict === "holds" ? "DPOR, complete" : "DPOR") : `PCT, ${s.executions} runs`;
  return `${s.verdict} (${how})`;
}

/** Wrap `text` at WIDTH, continuation lines indented by `indent`. */
/** A command wrapped as the shell reads it: each line but the last ends in " \\". */
function wrapCommand(text: string, indent: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && (line + " " + word).length > WIDTH - 2) {
      out.push(`${line} \\`);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.flatMap((l) => (l.length <= WIDTH ? [l] : chop(l, indent)));
}

function wrap(text: string, indent: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && (line + " " + word).length > WIDTH) {
      out.push(line);
      line = indent + word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.flatMap((l) => (l.length <= WIDTH ? [l] : chop(l, indent)));
}

/** A token or trace line longer than WIDTH: cut into WIDTH-wide pieces. */
function chop(l: string, indent: string): string[] {
  const out = [l.slice(0, WIDTH)];
  for (let i = WIDTH; i < l.length; i += WIDTH - indent.length) out.push(indent + l.slice(i, i + WIDTH - indent.length));
  return out;
}

function costLines(r: RaceEvaluation): string[] {
  const lines: string[] = [];
  for (const name of EVALUATE_COSTS) {
    const a = r.before.costs[name] ?? 0;
    const b = r.after.costs[name] ?? 0;
    if (a === 0 && b === 0) continue;
    const delta = b - a;
    lines.push(`    ${COST_LABEL[name].padEnd(24)}${String(a).padStart(12)} -> ${String(b).padStart(12)}  ${delta === 0 ? "=" : delta > 0 ? `+${delta}` : String(delta)}`);
  }
  return lines.length > 0 ? lines : ["    (no costs recorded)"];
}

function failureLines(label: string, s: SideResult): string[] {
  if (!s.failure) return [];
  const f = s.failure;
  return [
    ...wrap(`  ${label} fails: ${f.message}`, "    "),
    ...wrapCommand(`    replay: ${f.replay}`, "      "),
    ...f.ftrace.map((l) => `      ${l}`).flatMap((l) => (l.length <= WIDTH ? [l] : [l.slice(0, WIDTH - 3) + "..."])),
  ];
}

/** The plain-text report: ≤ 75 columns, no colour, for a patch mail. */
export function renderEvaluate(report: EvaluateReport): string {
  const v = report.variant;
  const out: string[] = [
    ...wrap(`foliosim evaluate: ${v.point}=${v.id} on ${report.base}`, "  "),
    ...wrap(`Variant: ${v.source}`, "  "),
    "",
    `${"race".padEnd(24)} ${"before".padEnd(16)} ${"after".padEnd(16)} change`,
    "-".repeat(WIDTH),
  ];
  for (const r of report.races) out.push(`${r.scenario.padEnd(24)} ${r.before.verdict.padEnd(16)} ${r.after.verdict.padEnd(16)} ${r.change}`);
  out.push("-".repeat(WIDTH));
  const s = report.summary;
  out.push(...wrap(`${s.fixed} fixed, ${s.broken} broken, ${s.unchanged} unchanged (hold), ${s["still fails"]} still failing, ${s.inconclusive} inconclusive`, ""));
  for (const r of report.races) {
    out.push("", `${r.scenario}: ${r.change}`);
    out.push(...wrap(`  before: ${verdictText(r.before)} on ${r.before.kernel}`, "    "));
    out.push(...wrap(`  after:  ${verdictText(r.after)} on ${r.after.kernel}`, "    "));
    out.push("  cost (median per run)          before           after");
    out.push(...costLines(r));
    out.push(...failureLines("before", r.before), ...failureLines("after", r.after));
  }
  // Names, messages and trace lines come from the scenario file: a file cannot move the cursor.
  return escapeControl(out.join("\n")) + "\n";
}

/** The same report as Markdown, for a pull request or an issue. */
export function renderEvaluateMarkdown(report: EvaluateReport): string {
  const v = report.variant;
  const out = [`### foliosim evaluate: \`${v.point}=${v.id}\` on \`${report.base}\``, "", `Variant: ${v.source}`, "", "| race | before | after | change |", "|---|---|---|---|"];
  for (const r of report.races) out.push(`| \`${r.scenario}\` | ${verdictText(r.before)} | ${verdictText(r.after)} | **${r.change}** |`);
  for (const r of report.races) {
    out.push("", `#### \`${r.scenario}\`: ${r.change}`, "", "| cost (median per run) | before | after |", "|---|---:|---:|");
    for (const name of EVALUATE_COSTS) out.push(`| ${COST_LABEL[name]} | ${r.before.costs[name] ?? 0} | ${r.after.costs[name] ?? 0} |`);
    for (const [label, side] of [["before", r.before], ["after", r.after]] as const) {
      if (!side.failure) continue;
      out.push("", `${label} fails: ${side.failure.message}`, "", "```", side.failure.replay, ...side.failure.ftrace, "```");
    }
  }
  return escapeControl(out.join("\n")) + "\n";
}
