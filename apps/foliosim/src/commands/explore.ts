import type { FallbackResult } from "@foliosim/explore";
import { checkFileIds, parseSets, resolveScenario, targetFor } from "../catalog.js";
import { exploreInThread, exploreInWorker, workerFile, type RunningExploration, type SessionListener } from "../explore-session.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { cellOptions, describeBudget, strategyLabel, type StrategyChoice } from "../options.js";
import { resultRow, SCHEMA_VERSION, type ResultsDocument } from "../report.js";
import { looksLikeFile } from "../scenario-files.js";
import { defaultKernel } from "./run.js";

export interface ExploreCommandOptions extends StrategyChoice {
  scenario: string;
  kernel?: string;
  set?: string[];
  override?: string[];
  /** Run in this thread even when a built worker exists. */
  inThread?: boolean;
}

export interface ExploreOutput {
  document: ResultsDocument;
  result: FallbackResult;
}

/** Start `foliosim explore`; the caller may stop it (Ctrl-C) and report what it had. */
export interface ExploreSession {
  running: RunningExploration;
  label: string;
  budget: string;
  /** The kernel id explored. */
  kernel: string;
  /** Scenario id → the user file it came from (for replay commands). */
  files: Map<string, string>;
  finish(result: FallbackResult): ExploreOutput;
}

export function startExplore(options: ExploreCommandOptions, listener: SessionListener = {}): ExploreSession {
  const entry = resolveScenario(options.scenario);
  checkFileIds([entry]);
  const kernel = parseKernelSpec(options.kernel ?? defaultKernel(entry.kernels), options.override ?? []);
  const target = targetFor(entry.scenario, kernel, parseSets(options.set ?? []));
  const cell = cellOptions(options);
  const label = strategyLabel(options);
  const file = options.inThread ? undefined : workerFile();
  const running = file
    ? exploreInWorker(file, { scenarioId: target.scenarioId, kernelId: target.kernelId, options: cell, files: looksLikeFile(options.scenario) ? [options.scenario] : [] }, listener)
    : exploreInThread(target, cell, listener);
  const budget = describeBudget(options);
  const files = new Map<string, string>();
  if (looksLikeFile(options.scenario)) files.set(entry.scenario.id, options.scenario);
  return {
    running,
    label,
    budget,
    kernel: target.kernelId,
    files,
    finish: (result) => ({ document: { schemaVersion: SCHEMA_VERSION, results: [resultRow(result, label)], budget }, result }),
  };
}
