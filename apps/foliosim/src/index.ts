/**
 * foliosim — the app. For now: the trace exporters (ftrace text, Perfetto JSON,
 * Mermaid) over one typed trace document built from a run.
 */

export {
  buildTraceDocument,
  formatPfn,
  isPageRefType,
  toComm,
  GUP_PIN_COUNTING_BIAS,
  type DocEvent,
  type DocFlow,
  type DocFolio,
  type DocOutcome,
  type DocRun,
  type DocSpan,
  type DocSwitch,
  type DocTask,
  type FolioSample,
  type IpiTarget,
  type PageRefType,
  type TraceDocument,
  type TraceMeta,
  type TraceSource,
} from "./render/trace-model.js";
export { writeFtrace, formatTs, pageRefPayload, type FtraceOptions } from "./render/ftrace.js";
export { writePerfetto, perfettoIds, type PerfettoOptions } from "./render/perfetto.js";
export { writeMermaid, esc as escapeMermaid, MERMAID_MAX_TEXT, type MermaidOptions } from "./render/mermaid.js";

/** The three trace formats, by their `--trace` names. */
export type TraceFormat = "ftrace" | "perfetto" | "mermaid";

// The command line and its reports.
export { main, writeTrace, wantsTui, TRACE_FORMATS, type Io } from "./cli.js";
export { EXIT, type ExitCode } from "./exit-codes.js";
export { SCHEMA_VERSION, GLYPH, outcomeLabel, resultRow, type FailureRow, type MetricSummary, type Outcome, type ResultRow, type ResultsDocument } from "./report.js";
export { renderMatrix, renderExplore, renderList, renderRun, renderValidate, table } from "./render/text.js";
// User scenario files.
export { loadScenarioFile, parseScenarioText, formatIssue, ScenarioFileError, type FileIssue, type LoadedScenario } from "./scenario-files.js";
