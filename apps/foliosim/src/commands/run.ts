import { classify, executionConfig, executionSeed, isFailure, RandomPlan, replay, runExecution, encodeToken, type ExploreTarget } from "@foliosim/explore";
import { METRIC_NAMES, NEWEST_PRESET, type CallRecord, type ParamValues } from "@foliosim/scenarios";
import type { RunResult } from "@foliosim/sim";
import { parseSets, resolveScenario, targetFor } from "../catalog.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { buildTraceDocument, type TraceDocument } from "../render/trace-model.js";
import { SCHEMA_VERSION, type Outcome } from "../report.js";

export interface RunOptions {
  scenario: string;
  kernel?: string;
  set?: string[];
  override?: string[];
  seed?: number;
  schedule?: string;
  /** Steps before the run stops as inconclusive (explore's budget: DEFAULT_MAX_STEPS). */
  maxSteps?: number;
}

/** One execution, as `run` and `replay` report it. */
export interface RunReport {
  schemaVersion: typeof SCHEMA_VERSION;
  scenario: string;
  kernel: string;
  params: ParamValues;
  /** The token that replays this execution. */
  schedule: string;
  seed: number | null;
  status: RunResult["status"];
  verdict: "holds" | "fails";
  outcome: Outcome;
  failure: { kind: string; message: string } | null;
  calls: CallRecord[];
  metrics: Record<string, number>;
  steps: number;
  virtualNs: number;
}

export interface RunOutput {
  report: RunReport;
  trace: TraceDocument;
  target: ExploreTarget;
  result: RunResult;
}

/** Kernel default: the file's first kernel, else the newest preset (what a machine with no kernel options runs). */
export function defaultKernel(kernels: readonly string[]): string {
  return kernels[0] ?? NEWEST_PRESET;
}

export function runCommand(options: RunOptions): RunOutput {
  const entry = resolveScenario(options.scenario);
  const kernel = parseKernelSpec(options.kernel ?? defaultKernel(entry.kernels), options.override ?? []);
  const target = targetFor(entry.scenario, kernel, parseSets(options.set ?? []));
  let result: RunResult;
  let token: string;
  if (options.schedule !== undefined) {
    const replayed = replay(target, options.schedule, { maxSteps: options.maxSteps });
    result = replayed.result;
    token = replayed.token;
  } else {
    const seed = options.seed ?? 1;
    const execution = runExecution(target, executionConfig(target, { maxSteps: options.maxSteps }), new RandomPlan(executionSeed(seed, 0)));
    result = execution.result!;
    token = encodeToken(target, execution.decisions);
  }
  return describeRun(target, result, token, options.schedule !== undefined ? null : (options.seed ?? 1));
}

export function describeRun(target: ExploreTarget, result: RunResult, token: string, seed: number | null): RunOutput {
  const outcome = classify(target, result);
  const failed = isFailure(outcome);
  const metrics: Record<string, number> = {};
  const own = target.metrics ? target.metrics(result) : {};
  for (const name of METRIC_NAMES) metrics[name] = own[name] ?? result.counters[name] ?? 0;
  const kind: Outcome = !failed ? (outcome.kind === "holds" ? "holds" : "inconclusive") : outcome.kind === "livelock" || outcome.kind === "deadlock" ? outcome.kind : "fails";
  const failure = failed ? { kind: outcome.kind, message: outcome.message } : outcome.kind !== "holds" ? { kind: outcome.kind, message: outcome.message } : null;
  const params = paramsOf(target.scenarioId);
  const report: RunReport = {
    schemaVersion: SCHEMA_VERSION,
    scenario: target.scenarioId,
    kernel: target.kernelId,
    params,
    schedule: token,
    seed,
    status: result.status,
    verdict: failed ? "fails" : "holds",
    outcome: kind,
    failure,
    calls: (result.annotations.calls ?? []) as CallRecord[],
    metrics,
    steps: result.steps,
    virtualNs: result.virtualNs,
  };
  const meta = { scenario: target.scenarioId, kernel: target.kernelId, token, ...(failure && failed && outcome.kind === "promise" ? { failure } : {}) };
  return { report, trace: buildTraceDocument(result, meta), target, result };
}

function paramsOf(scenarioId: string): ParamValues {
  const m = /\[(.*)\]$/.exec(scenarioId);
  const out: ParamValues = {};
  if (m) for (const kv of m[1].split(",")) out[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
  return out;
}

