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
