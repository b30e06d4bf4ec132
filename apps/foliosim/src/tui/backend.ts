/**
 * The TUI's backend: the same commands the CLI runs. Explorations, replays (with their
 * shrinking) and exports run in worker threads when the app is built (so the screen
 * stays live and `q` stops them), in this thread otherwise (tests from source). A
 * replay worker has a heap limit: a runaway counterexample fails alone with a message
 * instead of taking the app down.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { CellResult } from "@foliosim/explore";
import { listCommand } from "../commands/list.js";
import { startExplore } from "../commands/explore.js";
import { FILES_ENV, parseSets, resolveScenario, targetFor } from "../catalog.js";
import { exploreInThread, exploreInWorker, StoppedError, workerFile, type RunningExploration } from "../explore-session.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { loadScenarioFile } from "../scenario-files.js";
import { cellOptions, compareChoice as compareDefaults, describeBudget, strategyLabel, type StrategyChoice } from "../options.js";
import { resultRow, SCHEMA_VERSION, type ResultRow, type ResultsDocument } from "../report.js";
import { exportText, openTrace, type ReplayJob } from "./replay-job.js";
import type { Backend, TraceFormat } from "./store.js";

export interface BackendOptions {
  /** Never use worker threads. */
  inThread?: boolean;
  explore?: StrategyChoice;
  compare?: StrategyChoice;
  /** Where exports go (default: the current directory). */
  exportDir?: string;
  /** User scenario files to list beside the catalog (`foliosim tui FILE…`). */
  files?: string[];
}

/** Heap limit of a replay worker. */
const REPLAY_HEAP_MB = 1536;

/** The built replay worker, next to this module (dist/tui/) or in ../../dist/tui/ (FOLIOSIM_IN_THREAD=1: never). */
function replayWorkerFile(): string | undefined {
  if (process.env.FOLIOSIM_IN_THREAD === "1") return undefined;
  for (const rel of ["./replay-worker.js", "./tui/replay-worker.js", "../../dist/tui/replay-worker.js"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** One job in a replay worker; rejects with the worker's error, or with a clear one when it runs out of memory. */
function inWorker<T>(file: string, job: ReplayJob & { export?: { format: TraceFormat; path: string } }, files: string[]): Promise<T> {
  const env = { ...process.env };
  if (files.length > 0) env[FILES_ENV] = JSON.stringify(files);
  const worker = new Worker(file, { workerData: job, env, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: REPLAY_HEAP_MB } });
  return new Promise<T>((resolve, reject) => {
    worker.on("message", (m: { type: string; result?: unknown; name?: string; message?: string }) => {
      if (m.type === "done") resolve(m.result as T);
      else {
        const e = new Error(String(m.message));
        e.name = String(m.name);
        reject(e);
      }
      void worker.terminate();
    });
    worker.on("error", (e: Error & { code?: string }) => {
      reject(e.code === "ERR_WORKER_OUT_OF_MEMORY" ? new Error(`the replay needed more than ${REPLAY_HEAP_MB} MB and was stopped`) : e);
    });
  });
}

/** The catalog, with the user's files first (identified by their paths). */
function listWithFiles(files: string[]) {
  const report = listCommand();
  const own = files.map((file) => {
    const { scenario: s } = loadScenarioFile(file);
    return { id: file, title: s.title, source: file, promise: s.promise.summary, description: s.description, origin: "file", headline: true };
  });
  return { ...report, scenarios: [...own, ...report.scenarios] };
}

const EXT: Record<TraceFormat, string> = { ftrace: "ftrace.txt", perfetto: "perfetto.json", mermaid: "mmd" };

export function createBackend(options: BackendOptions = {}): Backend {
  // The CLI's defaults (explore: 200 PCT executions; compare: the main job's budget), so a cell shows the same number in both.
  const exploreChoice: StrategyChoice = options.explore ?? { strategy: "pct" };
  const compareChoice: StrategyChoice = compareDefaults(options.compare ?? { strategy: "pct" });
  const files = options.files ?? [];
  const replayFile = options.inThread ? undefined : replayWorkerFile();
  return {
    list: () => (files.length > 0 ? listWithFiles(files) : listCommand()),
    explore: (scenario, kernel, listener) => {
      const session = startExplore({ ...exploreChoice, scenario, kernel, inThread: options.inThread }, listener);
      return {
        handle: { stop: () => session.running.stop() },
        done: session.running.done.then((r) => session.finish(r).document),
        budget: session.budget,
        total: cellOptions(exploreChoice).maxExecutions ?? 200,
      };
    },
    compare: (scenarios, kernels, onCell) => {
      let stopped = false;
      let current: RunningExploration | null = null;
      const label = strategyLabel(compareChoice);
      const cell = cellOptions(compareChoice);
      const file = options.inThread ? undefined : workerFile();
      const total = scenarios.length * kernels.length;
      const done = (async (): Promise<ResultsDocument> => {
        const rows: ResultRow[] = [];
        for (const scenario of scenarios) {
          for (const kernel of kernels) {
            if (stopped) throw new StoppedError("stopped");
            const target = targetFor(resolveScenario(scenario).scenario, kernel, parseSets([]));
            current = file ? exploreInWorker(file, { scenarioId: target.scenarioId, kernelId: target.kernelId, options: cell, files }) : exploreInThread(target, cell);
            const result = await current.done;
            const { timing: _timing, ...rest } = result;
            const row = resultRow(rest as CellResult, label);
            rows.push(row);
            onCell(row, rows.length, total);
          }
        }
        return { schemaVersion: SCHEMA_VERSION, results: rows, budget: describeBudget(compareChoice) };
      })();
      return {
        handle: {
          stop: () => {
            stopped = true;
            current?.stop();
          },
        },
        done,
        budget: describeBudget(compareChoice),
      };
    },
    replay: (token, scenario) => {
      const job: ReplayJob = scenario !== undefined ? { token, scenario } : { token };
      if (replayFile) return inWorker(replayFile, job, files);
      return new Promise((resolve, reject) => setImmediate(() => {
        try {
          resolve(openTrace(job));
        } catch (error) {
          reject(error as Error);
        }
      }));
    },
    exportTrace: (job, format) => {
      const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, "_");
      const path = join(options.exportDir ?? process.cwd(), `foliosim-${safe(job.scenarioName)}-${safe(job.kernel)}.${EXT[format]}`);
      const replayJob: ReplayJob = { token: job.token, original: true, ...(job.scenario !== undefined ? { scenario: job.scenario } : {}) };
      if (replayFile) return inWorker<string>(replayFile, { ...replayJob, export: { format, path } }, files);
      return new Promise((resolve, reject) => setImmediate(() => {
        try {
          writeFileAtomic(path, exportText(replayJob, format));
          resolve(path);
        } catch (error) {
          reject(error as Error);
        }
      }));
    },
  };
}
