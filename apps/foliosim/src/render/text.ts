/**
 * Plain-text views of the report objects: tables for a terminal or a mailing list.
 * Pure functions; no colour (colour is never the only signal, and NO_COLOR readers get
 * the same words and glyphs).
 */

import type { ListReport } from "../commands/list.js";
import type { RunReport } from "../commands/run.js";
import type { ValidateReport } from "../commands/validate.js";
import { outcomeLabel, type ResultRow, type ResultsDocument } from "../report.js";
import { formatIssue } from "../scenario-files.js";

/** A table with a header row; columns padded to their widest cell (by code points). */
export function table(header: string[], rows: string[][], indent = ""): string {
  const width = (s: string): number => [...s].length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]): string =>
    indent + cells.map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i] - width(c)))).join("  ").trimEnd();
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
  out.push(`Verdict: ${outcomeLabel(report.outcome)} — ${report.failure ? `${report.failure.kind}: ${report.failure.message}` : "the promise held"}`);
  out.push(`  ${report.steps} steps, ${formatNs(report.virtualNs)} virtual time, status ${report.status}`);
  out.push("");
  out.push("Metrics");
  out.push(table(["metric", "value"], Object.entries(report.metrics).map(([k, v]) => [k, String(v)]), "  "));
  return out.join("\n") + "\n";
}

function rate(row: ResultRow): string {
  if (!row.failureRate) return row.outcome === "holds" ? "0 failing" : `${row.failures.reduce((n, f) => n + f.count, 0)} failing`;
  return `${(row.failureRate.estimate * 100).toFixed(row.failureRate.estimate > 0 && row.failureRate.estimate < 0.1 ? 1 : 0)}%`;
}

export function renderExplore(doc: ResultsDocument): string {
  const out: string[] = [];
  for (const row of doc.results) {
    out.push(`foliosim explore: ${row.scenario} on ${row.kernel}, ${row.strategy}`);
    if (doc.budget) out.push(`budget: ${doc.budget}`);
    out.push(`Verdict: ${outcomeLabel(row.outcome)} after ${row.executions} executions (${row.stopReason}${row.complete ? ", complete" : ""})`);
    if (row.failureRate) out.push(`Failure rate: ${rate(row)} (95% interval ${(row.failureRate.low * 100).toFixed(1)}–${(row.failureRate.high * 100).toFixed(1)}%)`);
    if (row.inconclusive > 0) out.push(`Inconclusive executions (hit their step or time budget): ${row.inconclusive}`);
    if (row.pct) out.push(`PCT depth ${row.pct.depth}: each execution finds a depth-${row.pct.depth} bug with probability ≥ ${row.pct.guarantee.toPrecision(2)}`);
    if (row.dpor) out.push(row.dpor.complete ? "DPOR explored the whole space" : `DPOR: ~${row.dpor.estimatedRemaining} executions left`);
    if (row.failures.length > 0) {
      out.push("");
      out.push("Failures");
      for (const f of row.failures) {
        out.push(`  ${f.kind} ×${f.count}: ${f.message}`);
        out.push(`    replay: foliosim replay ${f.shrunk ?? f.schedule}${f.shrunk ? "   (shrunk)" : ""}`);
      }
    }
    out.push("");
    out.push("Metrics (min / median / max per execution)");
    out.push(table(["metric", "min", "median", "max"], Object.entries(row.metrics).map(([k, m]) => [k, String(m.min), String(m.median), String(m.max)]), "  "));
  }
  if (doc.interrupted) out.push("\n(interrupted: a partial report)");
  return out.join("\n") + "\n";
}

/** Cost metric shown per cell: a METRIC_NAMES name, median over executions. */
export function costText(row: ResultRow, metric: string): string {
  const m = row.metrics[metric];
  if (!m) return "—";
  return metric === "virtual_ns" ? formatNs(m.median) : String(m.median);
}

/** The verdict matrix: scenarios down, kernels (× strategies) across; glyph + word + failure rate + cost. */
export function renderMatrix(doc: ResultsDocument, options: { metric?: string; title?: string } = {}): string {
  const metric = options.metric ?? "virtual_ns";
  const scenarios = [...new Set(doc.results.map((r) => r.scenario))];
  const columns = [...new Set(doc.results.map((r) => `${r.kernel}\u0000${r.strategy}`))];
  const multiStrategy = new Set(doc.results.map((r) => r.strategy)).size > 1;
  const header = ["scenario", ...columns.map((c) => (multiStrategy ? c.replace("\u0000", " · ") : c.split("\u0000")[0]))];
  const rows = scenarios.map((s) => [
    s,
    ...columns.map((c) => {
      const row = doc.results.find((r) => r.scenario === s && `${r.kernel}\u0000${r.strategy}` === c);
      return row ? `${outcomeLabel(row.outcome)} ${rate(row)} · ${costText(row, metric)}` : "—";
    }),
  ]);
  const out: string[] = [];
  if (options.title) out.push(options.title);
  if (doc.budget) out.push(`Budget: ${doc.budget}.`);
  out.push(`Cells: verdict, failing executions, median ${metric === "virtual_ns" ? "virtual time per execution" : metric} (cost).`);
  out.push("");
  out.push(table(header, rows));
  out.push("");
  out.push("Legend: ✓ holds  ✗ fails (a promise broke)  ⟳ livelock  ⊘ deadlock  ? inconclusive (runs hit their budget)");
  const failing = doc.results.filter((r) => r.failures.length > 0);
  if (failing.length > 0) {
    out.push("");
    out.push("Counterexamples (foliosim replay TOKEN shows the shrunk schedule and its trace):");
    const groups = new Map<string, ResultRow[]>();
    for (const r of failing) {
      const key = `${r.scenario}\u0000${r.failures[0].kind}: ${r.failures[0].message}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const [key, rows] of groups) {
      const [scenario, message] = key.split("\u0000");
      out.push(`  ${scenario}: ${message}`);
      const width = Math.max(...rows.map((r) => r.kernel.length));
      for (const r of rows) out.push(`    ${r.kernel.padEnd(width)}  foliosim replay ${r.failures[0].shrunk ?? r.failures[0].schedule}`);
    }
  }
  if (doc.interrupted) out.push("\n(interrupted: only the rows finished before Ctrl-C)");
  return out.join("\n") + "\n";
}

export function renderValidate(report: ValidateReport): string {
  const out: string[] = [];
  for (const f of report.files) {
    if (f.valid) out.push(`✓ ${f.file}: scenario ${f.id}${f.kernels.length ? ` (kernels ${f.kernels.join(", ")})` : ""}`);
    else {
      out.push(`✗ ${f.file}: ${f.issues.length} problem${f.issues.length === 1 ? "" : "s"}`);
      for (const i of f.issues) out.push(`  ${formatIssue(i)}`);
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
