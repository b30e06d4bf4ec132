/**
 * Opening a counterexample for the trace stepper: replay the token (shrinking it first,
 * as `foliosim replay` does), build the stepper's frames, and keep only what the screen
 * shows. Runs in a worker thread when the app is built (replay-worker.ts), so shrinking
 * a long livelock never freezes the screen; in this thread otherwise (tests from source).
 *
 * Memory: the trace document is dropped here; the frames are capped at MAX_FRAMES (the
 * first ones, the start of a repeating loop and the last ones), and exports replay the
 * shrunk token again instead of keeping the document.
 */

import { replayCommand } from "../commands/replay.js";
import type { RunReport } from "../commands/run.js";
import { writeFtrace } from "../render/ftrace.js";
import { writeMermaid } from "../render/mermaid.js";
import { writePerfetto } from "../render/perfetto.js";
import { buildFrames, findLoop, type Frame, type Loop } from "./trace-frames.js";

export type TraceFormat = "ftrace" | "perfetto" | "mermaid";

export interface ReplayJob {
  token: string;
  /** A scenario id or file, when the catalog alone does not say where the token came from. */
  scenario?: string;
  /** Replay the token as given (no shrinking): exports of a schedule already shrunk. */
  original?: boolean;
}

export interface OpenedTrace {
  report: RunReport;
  frames: Frame[];
  /** Frames left out of `frames` (between the head, the loop and the tail). */
  elided: number;
  /** Total frames of the run. */
  totalFrames: number;
  loop: Loop | null;
  cpus: number;
  scenario?: string;
}

/** At most this many frames reach the screen. */
export const MAX_FRAMES = 3000;

export function openTrace(job: ReplayJob): OpenedTrace {
  const out = replayCommand({ token: job.token, scenario: job.scenario, original: job.original });
  const all = buildFrames(out.trace);
  const loop = findLoop(all);
  const { frames, elided, loopStart } = capFrames(all, loop);
  const opened: OpenedTrace = { report: out.report, frames, elided, totalFrames: all.length, loop: loop ? { ...loop, start: loopStart } : null, cpus: out.trace.cpus };
  if (job.scenario !== undefined) opened.scenario = job.scenario;
  return opened;
}

/** Keep the first frames, two cycles from the loop's start, and the last frames; renumber. */
export function capFrames(all: Frame[], loop: Loop | null, max = MAX_FRAMES): { frames: Frame[]; elided: number; loopStart: number } {
  if (all.length <= max) return { frames: all, elided: 0, loopStart: loop?.start ?? -1 };
  const keep = new Set<number>();
  const third = Math.floor(max / 3);
  for (let i = 0; i < third; i++) keep.add(i);
  if (loop) for (let i = loop.start; i < Math.min(all.length, loop.start + Math.min(third, 2 * loop.period)); i++) keep.add(i);
  for (let i = Math.max(0, all.length - third); i < all.length; i++) keep.add(i);
  const indices = [...keep].sort((a, b) => a - b);
  const frames = indices.map((i, j) => ({ ...all[i], index: j }));
  return { frames, elided: all.length - frames.length, loopStart: loop ? indices.indexOf(loop.start) : -1 };
}

/** The text of an export: the shrunk schedule replayed as is. */
export function exportText(job: ReplayJob, format: TraceFormat): string {
  const trace = replayCommand({ token: job.token, scenario: job.scenario, original: true }).trace;
  return format === "ftrace" ? writeFtrace(trace) : format === "perfetto" ? writePerfetto(trace) : writeMermaid(trace);
}
