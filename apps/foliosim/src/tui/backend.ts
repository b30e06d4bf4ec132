/**
 * The TUI's backend: the same commands the CLI runs. Explorations run in a worker
 * thread when the app is built (so the screen stays live and `q` stops them), in this
 * thread otherwise (tests from source).
 */

import { join } from "node:path";
import type { CellResult } from "@foliosim/explore";
import { listCommand } from "../commands/list.js";
import { startExplore } from "../commands/explore.js";
import { replayCommand } from "../commands/replay.js";
import { parseSets, resolveScenario, targetFor } from "../catalog.js";
import { exploreInThread, exploreInWorker, StoppedError, workerFile, type RunningExploration } from "../explore-session.js";
import { writeFileAtomic } from "../fs-atomic.js";
import { cellOptions, describeBudget, strategyLabel, type StrategyChoice } from "../options.js";
import { resultRow, SCHEMA_VERSION, type ResultRow, type ResultsDocument } from "../report.js";
import { writeFtrace } from "../render/ftrace.js";
import { writeMermaid } from "../render/mermaid.js";
import { writePerfetto } from "../render/perfetto.js";
import type { Backend, TraceFormat } from "./store.js";

export interface BackendOptions {
  /** Never use worker threads. */
  inThread?: boolean;
  explore?: StrategyChoice;
  compare?: StrategyChoice;
  /** Where exports go (default: the current directory). */
  exportDir?: string;
}

const EXT: Record<TraceFormat, string> = { ftrace: "ftrace.txt", perfetto: "perfetto.json", mermaid: "mmd" };

export function createBackend(options: BackendOptions = {}): Backend {
  const exploreChoice: StrategyChoice = options.explore ?? { strategy: "pct", executions: 500 };
  const compareChoice: StrategyChoice = options.compare ?? { strategy: "pct", executions: 100 };
  return {
    list: () => listCommand(),
    explore: (scenario, kernel, listener) => {
      const session = startExplore({ ...exploreChoice, scenario, kernel, inThread: options.inThread }, listener);
      return {
        handle: { stop: () => session.running.stop() },
        done: session.running.done.then((r) => session.finish(r).document),
        budget: session.budget,
        total: cellOptions(exploreChoice).maxExecutions ?? 500,
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
            current = file ? exploreInWorker(file, { scenarioId: target.scenarioId, kernelId: target.kernelId, options: cell }) : exploreInThread(target, cell);
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
      const out = replayCommand({ token, scenario });
      return { report: out.report, trace: out.trace };
    },
    exportTrace: (trace, format) => {
      const text = format === "ftrace" ? writeFtrace(trace) : format === "perfetto" ? writePerfetto(trace) : writeMermaid(trace);
      const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, "_");
      const path = join(options.exportDir ?? process.cwd(), `foliosim-${safe(trace.meta.scenario)}-${safe(trace.meta.kernel)}.${EXT[format]}`);
      writeFileAtomic(path, text);
      return path;
    },
  };
}
