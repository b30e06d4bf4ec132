/**
 * An exploration running somewhere the caller can stop: in a worker thread (the built
 * dist/explore-worker.js; Ctrl-C and the TUI's `q` terminate it and keep what was
 * reported so far) or, when no build is at hand (tests from source), in this thread.
 *
 * Both report progress and each distinct failure as soon as it is found.
 */

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { classify, encodeToken, exploreWithFallback, isFailure, type CellOptions, type ExploreProgress, type ExploreResult, type ExploreTarget, type FallbackHooks, type FallbackResult } from "@foliosim/explore";
import { FILES_ENV } from "./catalog.js";

export interface FoundFailure {
  kind: string;
  signature: string;
  message: string;
  /** 1-based execution that found it. */
  execution: number;
  /** The replay token of that execution (not shrunk): kept when the exploration is stopped. */
  schedule?: string;
  /** Where it was found (a compare cell's scenario and kernel). */
  scenarioId?: string;
  kernelId?: string;
}

/** The unbounded DPOR run ended incomplete: its coverage, and the deepening re-run's budget. */
export interface FallbackStart {
  executions: number;
  estimatedRemaining: number;
  budget: number;
}

export interface SessionListener {
  progress?(progress: ExploreProgress & { elapsedMs: number }): void;
  failure?(failure: FoundFailure): void;
  /** The deepening fallback starts (progress counts its executions from then on). */
  fallback?(start: FallbackStart): void;
}

/** The line that tells the user the deepening re-run starts. */
export function fallbackNotice(start: FallbackStart): string {
  return `DPOR did not complete within ${start.executions} executions (~${start.estimatedRemaining} left): re-running it deepening the preemption bound within ${start.budget} executions\n`;
}

/** The fallback hook that tells a listener the deepening re-run starts. */
export function fallbackHooks(tell: ((start: FallbackStart) => void) | undefined): FallbackHooks {
  return { onFallback: (first, spec) => tell?.({ executions: first.executions, estimatedRemaining: first.dpor?.estimatedRemaining ?? 0, budget: spec.maxExecutions }) };
}

export interface ExploreJob {
  scenarioId: string;
  kernelId: string;
  options: CellOptions;
  /** User scenario files the target may come from. */
  files?: string[];
}

export interface RunningExploration {
  done: Promise<FallbackResult>;
  /** Stop early; `done` then rejects with StoppedError. */
  stop(): void;
}

export class StoppedError extends Error {
  override readonly name = "StoppedError";
}

/** Wrap a target so each new distinct failure is reported the moment it is judged. */
export function watchFailures(target: ExploreTarget, onFailure: (f: FoundFailure) => void): ExploreTarget {
  const seen = new Set<string>();
  let execution = 0;
  return {
    ...target,
    metrics: (result) => {
      execution++;
      const outcome = classify(target, result);
      if (isFailure(outcome) && !seen.has(outcome.signature)) {
        seen.add(outcome.signature);
        const schedule = encodeToken(target, result.decisions);
        onFailure({ scenarioId: target.scenarioId, kernelId: target.kernelId, kind: outcome.kind, signature: outcome.signature, message: outcome.message, execution, schedule });
      }
      return target.metrics ? target.metrics(result) : {};
    },
  };
}

/** Report progress about every 2% of the budget, and at least every 25 executions. */
export function progressEvery(options: CellOptions): number {
  return Math.max(1, Math.min(25, Math.floor((options.maxExecutions ?? 1000) / 50)));
}

/** The built worker, when there is one next to this module or in ../dist (FOLIOSIM_IN_THREAD=1: never). */
export function workerFile(): string | undefined {
  if (process.env.FOLIOSIM_IN_THREAD === "1") return undefined;
  const here = new URL("./explore-worker.js", import.meta.url);
  const built = new URL("../dist/explore-worker.js", import.meta.url);
  for (const url of [here, built]) if (existsSync(fileURLToPath(url))) return fileURLToPath(url);
  return undefined;
}

/** Run in this thread (cannot be stopped midway: `stop` only discards the result). */
export function exploreInThread(target: ExploreTarget, options: CellOptions, listener: SessionListener = {}): RunningExploration {
  let stopped = false;
  const started = performance.now();
  const done = new Promise<FallbackResult>((resolve, reject) => {
    setImmediate(() => {
      try {
        const watched = listener.failure ? watchFailures(target, listener.failure) : target;
        const result = exploreWithFallback(
          watched,
          {
            ...options,
            progressEvery: progressEvery(options),
            onProgress: (p) => listener.progress?.({ ...p, elapsedMs: performance.now() - started }),
          },
          fallbackHooks(listener.fallback),
        );
        if (stopped) reject(new StoppedError("stopped"));
        else resolve(result);
      } catch (error) {
        reject(error);
      }
    });
  });
  return { done, stop: () => void (stopped = true) };
}

/** Run in a worker thread, stoppable at any time. */
export function exploreInWorker(file: string, job: ExploreJob, listener: SessionListener = {}): RunningExploration {
  const env = { ...process.env };
  if (job.files && job.files.length > 0) env[FILES_ENV] = JSON.stringify(job.files);
  const worker = new Worker(file, { workerData: job, env, execArgv: [] });
  let settled = false;
  let rejectDone: (e: Error) => void = () => {};
  const done = new Promise<FallbackResult>((resolve, reject) => {
    rejectDone = reject;
    worker.on("message", (m: { type: string; [k: string]: unknown }) => {
      if (m.type === "progress") listener.progress?.(m.progress as ExploreProgress & { elapsedMs: number });
      else if (m.type === "failure") listener.failure?.(m.failure as FoundFailure);
      else if (m.type === "fallback") listener.fallback?.(m.start as FallbackStart);
      else if (m.type === "done") {
        settled = true;
        resolve(m.result as FallbackResult);
        void worker.terminate();
      } else if (m.type === "error") {
        settled = true;
        const e = new Error(String(m.message));
        e.name = String(m.name);
        reject(e);
        void worker.terminate();
      }
    });
    worker.on("error", (e) => {
      if (!settled) reject(e);
      settled = true;
    });
  });
  return {
    done,
    stop: () => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      rejectDone(new StoppedError("stopped"));
    },
  };
}
