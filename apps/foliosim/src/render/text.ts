/**
 * Plain-text views of the report objects: tables for a terminal or a mailing list.
 * Pure functions; no colour (colour is never the only signal, and NO_COLOR readers get
 * the same words and glyphs).
 */

import type { ListReport } from "../commands/list.js";
import type { RunReport } from "../commands/run.js";
import type { ValidateReport } from "../commands/validate.js";
import { cellProofLabel, compactCount, coverageText, outcomeLabel, PROOF_GLYPH, proofLabel, type FallbackRow, type FoundCounterexample, type Proof, type ResultRow, type ResultsDocument } from "../report.js";
import { formatIssue } from "../scenario-files.js";
import { escapeControl } from "./escape.js";

/** Builds the replay command for a counterexample (the CLI adds --scenario/--kernel/--set when needed). */
export type ReplayLine = (scenario: string, kernel: string, token: string) => string;
const plainReplay: ReplayLine = (_s, _k, token) => `foliosim replay ${token}`;

/** A table with a header row; columns padded to their widest cell (by code points). */
export function table(header: string[], rows: string[][], indent = ""): string {
  const width = (s: string): number => [...s].length;
  const widths = header.map((h, i) => Math.max(width(escapeControl(h, true)), ...rows.map((r) => width(escapeControl(r[i] ?? "", true)))));
  const line = (cells: string[]): string =>
    indent + cells.map((c) => escapeControl(c, true)).map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i] - width(c)))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)].join("\n");
}

export function renderList(report: ListReport): string {
  const out: string[] = [];
  out.push(`Scenarios (${report.scenarios.length})`);
  out.push(table(["id", "title", "promise", "source"], report.scenarios.map((s) => [s.id, s.title, s.promise, s.source]), "  "));
  out.push("");
  out.push(`Kernels (${report.kernels.length}; * = headline, compared by compare --all)`);
  out.push(
    table(
      ["id", "base", "variants", "source"],
      report.kernels.map((k) => [k.id + (k.headline ? " *" : ""), k.base, Object.entries(k.variants).map(([n, v]) => `${n}=${v}`).join(", ") || "—", k.source]),
      "  ",
    ),
  );
  if (report.calls) {
    out.push("");
    out.push(`Calls (${report.calls.length})`);
    out.push(table(["name", "summary"], report.calls.map((c) => [c.name, c.summary]), "  "));
  }
  return out.join("\n") + "\n";
}

export function formatNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${Math.round(ns)} ns`;
}

function short(value: unknown, max = 48): string {
  const s = typeof value === "string" ? value : JSON.stringify(value) ?? "null";
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

export function renderRun(report: RunReport, title = "run"): string {
  return escapeControl(renderRunText(report, title));
}

function renderRunText(report: RunReport, title: string): string {
  const out: string[] = [];
  out.push(`foliosim ${title}: ${report.scenario} on ${report.kernel}${report.seed !== null ? ` (seed ${report.seed})` : ""}`);
  out.push(`schedule: ${report.schedule}`);
  out.push("");
  out.push("Calls");
  out.push(
    report.calls.length === 0
      ? "  (no call finished)"
      : table(["task", "call", "result", "expectation"], report.calls.map((c) => [c.task, c.call + (c.as ? ` → $${c.as}` : ""), short(c.result), c.broken.length ? `✗ ${c.broken.join("; ")}` : "✓"]), "  "),
  );
  out.push("");
  out.push(`Verdict: ${outcomeLabel(report.outcome)} — ${report.failure ? kindAndMessage(report.failure) : "the promise held"}`);
  out.push(`  ${report.steps} steps, ${formatNs(report.virtualNs)} virtual time, status ${report.status}`);
  out.push("");
  out.push("Metrics");
  out.push(table(["metric", "value"], Object.entries(report.metrics).map(([k, v]) => [k, String(v)]), "  "));
  return out.join("\n") + "\n";
}

/** What ran out in an inconclusive cell: "6/40 hit the step budget". */
export function limitsText(row: ResultRow): string {
  const names: Record<string, string> = { "step-limit": "step budget", "time-limit": "virtual-time budget" };
  const parts = row.limits && row.limits.length > 0 ? row.limits.map((l) => `${l.count}/${row.executions} hit the ${names[l.kind] ?? l.kind}`) : [`${row.inconclusive}/${row.executions} hit their budget`];
  return parts.join(", ");
}

function rate(row: ResultRow): string {
  if (row.outcome === "inconclusive") return limitsText(row);
  if (!row.failureRate) return row.outcome === "holds" ? "0 failing" : `${row.failures.reduce((n, f) => n + f.count, 0)} failing`;
  return `${(row.failureRate.estimate * 100).toFixed(row.failureRate.estimate > 0 && row.failureRate.estimate < 0.1 ? 1 : 0)}%`;
}

export function renderExplore(doc: ResultsDocument, options: { replay?: ReplayLine } = {}): string {
  const replay = options.replay ?? plainReplay;
  const out: string[] = [];
  for (const row of doc.results) {
    out.push(`foliosim explore: ${escapeControl(row.scenario, true)} on ${row.kernel}, ${row.strategy}`);
    if (doc.budget) out.push(`budget: ${doc.budget}`);
    out.push(`Verdict: ${outcomeLabel(row.outcome)} after ${row.executions} executions (${row.stopReason}${row.complete ? ", complete" : ""})`);
    if (row.failureRate && row.outcome !== "inconclusive") out.push(`Failure rate: ${rate(row)} (95% interval ${(row.failureRate.low * 100).toFixed(1)}–${(row.failureRate.high * 100).toFixed(1)}%)`);
    if (row.inconclusive > 0) out.push(`Inconclusive executions (no verdict within their budget): ${limitsText(row)}; raise --max-steps to judge them`);
    if (row.pct) out.push(`PCT depth ${row.pct.depth}: each execution finds a depth-${row.pct.depth} bug with probability ≥ ${row.pct.guarantee.toPrecision(2)}`);
    if (row.fallback) out.push(fallbackLine(row.fallback));
    if (row.dpor) out.push(row.dpor.complete ? "DPOR explored the whole space" : `DPOR: ~${row.dpor.estimatedRemaining} executions left`);
    out.push(`${proofLabel(proofOfRow(row))}: ${coverageText({ ...row, proof: proofOfRow(row) })}`);
    if (row.failures.length > 0) {
      out.push("");
      out.push("Failures");
      for (const f of row.failures) {
        out.push(`  ${f.kind} ×${f.count}: ${escapeControl(f.message, true)}`);
        out.push(`    replay: ${replay(row.scenario, row.kernel, f.shrunk ?? f.schedule)}${f.shrunk ? "   (shrunk)" : ""}`);
      }
    }
    out.push("");
    out.push("Metrics (min / median / max per execution)");
    out.push(table(["metric", "min", "median", "max"], Object.entries(row.metrics).map(([k, m]) => [k, String(m.min), String(m.median), String(m.max)]), "  "));
  }
  if (doc.interrupted) out.push("\n(interrupted: a partial report)");
  return out.join("\n") + "\n";
}

/** What the deepening fallback did, and which run the report is. */
export function fallbackLine(f: FallbackRow): string {
  const u = f.unbounded;
  const d = f.deepen;
  const first = `Fallback: unbounded DPOR stopped after ${u.executions} of ${u.budget} executions (~${compactCount(u.estimatedRemaining)} left, up to ${u.maxPreemptions} preemption${u.maxPreemptions === 1 ? "" : "s"} reached); re-run deepening the preemption bound within ${d.budget} executions:`;
  const at = d.exploringBound === undefined ? "" : `; at ${d.exploringBound}: ~${compactCount(d.estimatedRemaining)} left`;
  const outcome = d.complete
    ? `it explored the whole space in ${d.executions} executions`
    : d.verdict === "fails"
      ? `it found a failure in ${d.executions} executions`
      : d.provenBound !== undefined
        ? `every schedule class with at most ${d.provenBound} preemption${d.provenBound === 1 ? "" : "s"} explored (${d.executions} executions${at})`
        : `no bound proven in ${d.executions} executions`;
  return `${first} ${outcome}. Reported below: the ${f.reported === "deepen" ? "deepening" : "unbounded"} run.`;
}

/** Cost metric shown per cell: a METRIC_NAMES name, median over executions. */
export function costText(row: ResultRow, metric: string): string {
  const m = row.metrics[metric];
  if (!m) return "—";
  return metric === "virtual_ns" ? formatNs(m.median) : String(m.median);
}

/** The verdict matrix: scenarios down, kernels (× strategies) across; glyph + word + failure rate + cost. */
export function renderMatrix(doc: ResultsDocument, options: { metric?: string; title?: string; replay?: ReplayLine } = {}): string {
  const metric = options.metric ?? "virtual_ns";
  const replay = options.replay ?? plainReplay;
  const scenarios = [...new Set(doc.results.map((r) => r.scenario))];
  const columns = [...new Set(doc.results.map((r) => `${r.kernel}\u0000${r.strategy}`))];
  const multiStrategy = new Set(doc.results.map((r) => r.strategy)).size > 1;
  const header = ["scenario", ...columns.map((c) => (multiStrategy ? c.replace("\u0000", " · ") : c.split("\u0000")[0]))];
  const rows = scenarios.map((s) => [
    s,
    ...columns.map((c) => {
      const row = doc.results.find((r) => r.scenario === s && `${r.kernel}\u0000${r.strategy}` === c);
      if (!row) return "—";
      const unexpected = row.judgement === "unexpected" ? ` (expected ${row.expected})` : "";
      return `${outcomeLabel(row.outcome)} ${rate(row)} · ${costText(row, metric)}${unexpected} · ${cellProofLabel(row, proofOfRow(row))}`;
    }),
  ]);
  const out: string[] = [];
  if (options.title) out.push(options.title);
  if (doc.budget) out.push(`Budget: ${doc.budget}.`);
  out.push(`Cells: verdict, failing executions, median ${metric === "virtual_ns" ? "virtual time per execution" : metric} (cost).`);
  out.push("");
  out.push(table(header, rows));
  out.push("");
  out.push("Legend: ✓ holds  ✗ fails (a promise broke)  ⟳ livelock  ⊘ deadlock  ? inconclusive (no verdict: some runs hit their step or time budget, none failed)");
  out.push("        ∎ proven (DPOR explored every schedule class: complete)  ≈ sampled (random or PCT executions, or DPOR cut by its budget or a preemption bound)");
  if (doc.results.some((r) => proofOfRow(r) === "bounded")) out.push("        ◐ bounded k (DPOR explored every schedule class with at most k preemptions: see Proofs below)");
  if (doc.results.some((r) => r.fallback)) out.push("        a DPOR cell its budget cut was re-run deepening the preemption bound: Proofs below gives both runs");
  out.push(proofSummary(doc));
  out.push(expectationSummary(doc));
  const failing = doc.results.filter((r) => r.failures.length > 0);
  if (failing.length > 0) {
    out.push("");
    out.push("Counterexamples (foliosim replay TOKEN shows the shrunk schedule and its trace):");
    const groups = new Map<string, ResultRow[]>();
    for (const r of failing) {
      const key = `${r.scenario}\u0000${kindAndMessage(r.failures[0])}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, rows] of groups) {
      const [scenario, message] = key.split("\u0000");
      out.push(`  ${escapeControl(scenario, true)}: ${escapeControl(message, true)}`);
      const width = Math.max(...rows.map((r) => r.kernel.length));
      for (const r of rows) out.push(`    ${r.kernel.padEnd(width)}  ${replay(r.scenario, r.kernel, r.failures[0].shrunk ?? r.failures[0].schedule)}`);
    }
  }
  if (doc.interrupted) out.push("\n(interrupted: only the rows finished before Ctrl-C; counterexamples of unfinished cells follow)");
  return out.join("\n") + "\n";
}

/** The verdict matrix as Markdown (a pull request or an issue): glyph and word per cell, proven or sampled. */
export function renderMatrixMarkdown(doc: ResultsDocument, options: { metric?: string; title?: string; replay?: ReplayLine } = {}): string {
  const metric = options.metric ?? "virtual_ns";
  const replay = options.replay ?? plainReplay;
  const md = (t: string): string => escapeControl(t, true).replace(/[|\\`]/g, (c) => `\\${c}`);
  const scenarios = [...new Set(doc.results.map((r) => r.scenario))];
  const kernels = [...new Set(doc.results.map((r) => `${r.kernel}\u0000${r.strategy}`))];
  const multiStrategy = new Set(doc.results.map((r) => r.strategy)).size > 1;
  const out: string[] = [];
  if (options.title) out.push(`### ${md(options.title)}`, "");
  if (doc.budget) out.push(`Budget: ${md(doc.budget)}.`, "");
  out.push(`| scenario | ${kernels.map((k) => md(multiStrategy ? k.replace("\u0000", " · ") : k.split("\u0000")[0])).join(" | ")} |`);
  out.push(`|---|${kernels.map(() => "---").join("|")}|`);
  for (const s of scenarios) {
    const cells = kernels.map((k) => {
      const row = doc.results.find((r) => r.scenario === s && `${r.kernel}\u0000${r.strategy}` === k);
      if (!row) return "—";
      const unexpected = row.judgement === "unexpected" ? ` **(expected ${row.expected})**` : "";
      return `${outcomeLabel(row.outcome)} ${md(rate(row))} · ${md(costText(row, metric))}${unexpected} · ${cellProofLabel(row, proofOfRow(row))}`;
    });
    out.push(`| ${md(s)} | ${cells.join(" | ")} |`);
  }
  out.push("", `✓ holds · ✗ fails · ⟳ livelock · ⊘ deadlock · ? inconclusive — ∎ proven (DPOR complete)${doc.results.some((r) => proofOfRow(r) === "bounded") ? " · ◐ bounded k (DPOR complete within k preemptions)" : ""} · ≈ sampled (random, PCT, or DPOR cut by its budget)`, "");
  out.push(...proofSummary(doc).split("\n").map((l) => md(l.trim()) + "  "), "");
  out.push(md(expectationSummary(doc).split("\n")[0]));
  const failing = doc.results.filter((r) => r.failures.length > 0);
  if (failing.length > 0) {
    out.push("", "Counterexamples:", "", "```");
    for (const r of failing) out.push(`# ${r.scenario} on ${r.kernel}: ${kindAndMessage(r.failures[0])}`, replay(r.scenario, r.kernel, r.failures[0].shrunk ?? r.failures[0].schedule));
    out.push("```");
  }
  return out.join("\n") + "\n";
}

/** Counterexamples found before Ctrl-C in work that did not finish, each with its replay command. */
/** "kind: message", saying the kind once where the message already starts with it ("livelock: …"). */
export function kindAndMessage(f: { kind: string; message: string }): string {
  return f.message.startsWith(`${f.kind}: `) ? f.message : `${f.kind}: ${f.message}`;
}

export function renderFound(found: readonly FoundCounterexample[], replay: ReplayLine = plainReplay): string {
  if (found.length === 0) return "No counterexample found before the interruption.\n";
  const out = [`Counterexamples found before the interruption (${found.length}):`];
  for (const f of found) {
    out.push(`  ${escapeControl(f.scenario, true)} on ${f.kernel}, execution ${f.execution}: ${escapeControl(kindAndMessage(f), true)}`);
    out.push(`    ${replay(f.scenario, f.kernel, f.schedule)}`);
  }
  return out.join("\n") + "\n";
}

/** A row's proof, from its `proof` field or (documents written before it) from `complete`. */
export function proofOfRow(row: Pick<ResultRow, "proof" | "complete">): Proof {
  return row.proof ?? (row.complete ? "proven" : "sampled");
}

/** How many cells are proven, and what each sampled DPOR cell covered before its budget ended. */
export function proofSummary(doc: ResultsDocument): string {
  const n = doc.results.length;
  const proven = doc.results.filter((r) => proofOfRow(r) === "proven").length;
  const bounded = doc.results.filter((r) => proofOfRow(r) === "bounded").length;
  const within = bounded > 0 ? `, ${bounded} proven within a preemption bound` : "";
  const lines = [`Proofs: ${proven} of ${n} cell${n === 1 ? "" : "s"} proven (DPOR complete)${within}, ${n - proven - bounded} sampled.`];
  for (const r of doc.results) {
    const proof = proofOfRow(r);
    if ((proof === "proven" && !r.fallback) || !r.dpor) continue;
    lines.push(`  ${PROOF_GLYPH[proof]} ${r.scenario} on ${r.kernel}: ${coverageText({ ...r, proof })}`);
  }
  return lines.join("\n");
}

/** One paragraph: does the matrix match the expected verdicts (what the exit code says)? */
export function expectationSummary(doc: ResultsDocument): string {
  const unexpected = doc.results.filter((r) => r.judgement === "unexpected");
  const inconclusive = doc.results.filter((r) => r.judgement === "inconclusive");
  const n = doc.results.length;
  if (unexpected.length === 0 && inconclusive.length === 0) {
    return `Expected verdicts: all ${n} cell${n === 1 ? "" : "s"} as expected (failures on old kernels are the threads' findings; cells without a declared verdict are expected to hold).`;
  }
  const lines = [`Expected verdicts: ${n - unexpected.length - inconclusive.length} of ${n} cells as expected.`];
  for (const r of unexpected) lines.push(`  ≠ ${r.scenario} on ${r.kernel}: ${r.outcome}, expected ${r.expected ?? "holds"}${r.expectedSource ? ` (${r.expectedSource})` : ""}`);
  for (const r of inconclusive) lines.push(`  ? ${r.scenario} on ${r.kernel}: no verdict (${limitsText(r)}), expected ${r.expected ?? "holds"}`);
  return lines.join("\n");
}

export function renderValidate(report: ValidateReport): string {
  const out: string[] = [];
  for (const f of report.files) {
    if (f.valid) out.push(`✓ ${escapeControl(f.file, true)}: scenario ${escapeControl(f.id ?? "", true)}${f.kernels.length ? ` (kernels ${f.kernels.join(", ")})` : ""}`);
    else {
      out.push(`✗ ${escapeControl(f.file, true)}: ${f.issues.length} problem${f.issues.length === 1 ? "" : "s"}`);
      for (const i of f.issues) out.push(`  ${escapeControl(formatIssue(i), true)}`);
    }
  }
  return out.join("\n") + "\n";
}

/** A progress bar: `[#####.....] 50%`, ASCII so every terminal draws it. */
export function progressBar(fraction: number, width = 30): string {
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}
