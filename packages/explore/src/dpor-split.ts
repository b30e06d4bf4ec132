/**
 * Split DPOR: one exhaustive DPOR proof as many subtree jobs, so that workers on other
 * machines can share it (@foliosim/queue runs the jobs on BullMQ; `exploreSplit` runs
 * the same jobs one after the other in this process, as the reference).
 *
 * A job explores the subtree below a schedule prefix (the task chosen at each of the
 * first k steps). Past `splitAfter` executions it stops and hands every open branch of
 * its current path out as a new prefix — the work-stealing scheme of distributed DPOR
 * (Yang, Chen, Gopalakrishnan, Kirby, "Distributed dynamic partial order reduction
 * based verification of threaded software", SPIN 2007). Unlike SPIN's swarm mode, which
 * runs differently-configured searches with overlapping coverage and no completeness
 * claim, the jobs here partition the DPOR tree, so the run can say `complete`.
 *
 * Soundness. Source-DPOR may, on a race found inside a subtree, ask for a backtrack
 * point at a step *inside the prefix* (a state owned by an earlier job). Such requests
 * are never dropped: the job reports them and the coordinator turns each into a new
 * job (prefix up to that step, then the requested task), unless that branch exists or
 * was explored already, or — for the race's own step — one of the race's initials is
 * already in the backtrack set the owning job recorded when it split (the same test
 * source-DPOR makes in one process). Sleep sets are dropped at each split boundary,
 * which only explores more. The test is against facts fixed when the owner split, and
 * duplicates are recognised by prefix, so the set of jobs — and the executions summed
 * over them — does not depend on the order in which results arrive.
 *
 * A split run explores at least what one process explores (more at the boundaries);
 * with `splitAfter` above the tree's size it is exactly the single-process run.
 */

import { runCellTarget, type CellOptions, type CellResult } from "./cell.js";
import { Dpor, type BacktrackRequest } from "./dpor.js";
import type { DistinctFailure, ExploreResult } from "./explore.js";
import type { Distribution } from "./stats.js";
import type { ExploreTarget } from "./target.js";

/** What one subtree job reports. Plain JSON: it travels through Redis. */
export interface SubtreeOutput {
  prefix: number[];
  /** The exploration of this job's own executions (executions, failures, metrics…). */
  result: CellResult;
  /** Its part of the tree was explored to the end: exhausted, or the rest handed out. */
  explored: boolean;
  /** A choice was left out because of the preemption bound. */
  boundCut: boolean;
  /** Open branches handed out as new prefixes. */
  branches: number[][];
  /** Backtrack and done sets of each step below the prefix on the path where it split. */
  nodes: { path: number[]; backtrack: number[]; done: number[] }[];
  /** Backtrack points found inside the prefix. */
  requests: BacktrackRequest[];
}

/** Explore the subtree below `prefix`, splitting after `splitAfter` executions. */
export function exploreSubtree(target: ExploreTarget, options: CellOptions, prefix: readonly number[], splitAfter: number): SubtreeOutput {
  if (options.strategy.kind !== "dpor") throw new Error(`split runs are for the dpor strategy, not ${options.strategy.kind}`);
  if (!Number.isInteger(splitAfter) || splitAfter < 1) throw new Error(`splitAfter must be a whole number ≥ 1, found ${splitAfter}`);
  const dpor = new Dpor({ preemptionBound: options.strategy.preemptionBound, prefix });
  const budget = options.maxExecutions ?? 100_000;
  const result = runCellTarget(target, { ...options, maxExecutions: Math.min(splitAfter, budget) }, dpor);
  const output: SubtreeOutput = { prefix: [...prefix], result, explored: result.stopReason === "exhausted", boundCut: dpor.boundCut, branches: [], nodes: [], requests: dedupe(dpor.outsideRequests) };
  if (result.stopReason === "executions" && splitAfter < budget) {
    const handed = dpor.handOut();
    output.branches = handed.branches;
    output.nodes = handed.nodes;
    output.boundCut = dpor.boundCut;
    output.explored = true;
    if (handed.branches.length === 0) markExhausted(result, dpor.boundCut);
  }
  return output;
}

/** A job that used its last execution exactly on the last path is exhausted, as one process would say. */
function markExhausted(result: CellResult, boundCut: boolean): void {
  result.stopReason = "exhausted";
  const limits = result.inconclusive.length > 0;
  result.dpor = { ...result.dpor!, complete: !boundCut && !limits, boundedComplete: !limits, estimatedRemaining: 0 };
}

function dedupe(requests: readonly BacktrackRequest[]): BacktrackRequest[] {
  const seen = new Set<string>();
  return requests.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const keyOf = (prefix: readonly number[]): string => prefix.join(",");

/**
 * Decides which subtree jobs exist: the root, every branch handed out, and every
 * request not covered. Feed it outputs in any order; `result()` merges them in prefix
 * order, so equal job sets give equal documents.
 */
export class SplitCoordinator {
  private readonly jobs = new Map<string, number[]>();
  private readonly outputs = new Map<string, SubtreeOutput>();
  private readonly records = new Map<string, { backtrack: Set<number>; done: Set<number> }>();
  private executions = 0;
  /** Why no new job is made any more (a failure with stop-at-first, or the execution budget). */
  stopped: "first-failure" | "executions" | undefined;

  constructor(private readonly options: CellOptions) {}

  /** The root job. */
  start(): number[][] {
    return this.add([]) ? [[]] : [];
  }

  get pending(): number {
    return this.jobs.size - this.outputs.size;
  }

  get jobCount(): number {
    return this.jobs.size;
  }

  /** Accept one job's output (a second copy is ignored); returns the new prefixes to run. */
  accept(output: SubtreeOutput): number[][] {
    const key = keyOf(output.prefix);
    if (!this.jobs.has(key)) throw new Error(`split run: no job has prefix [${key}]`);
    if (this.outputs.has(key)) return [];
    this.outputs.set(key, output);
    this.executions += output.result.executions;
    for (const node of output.nodes) this.records.set(keyOf(node.path), { backtrack: new Set(node.backtrack), done: new Set(node.done) });
    if ((this.options.stopAtFirstFailure ?? true) && output.result.verdict === "fails") this.stopped ??= "first-failure";
    if (this.executions >= (this.options.maxExecutions ?? 100_000) && !this.stopped) this.stopped = "executions";
    if (this.stopped) return [];
    const fresh: number[][] = [];
    for (const branch of output.branches) if (this.add(branch)) fresh.push(branch);
    for (const request of output.requests) {
      const child = this.requested(output.prefix, request);
      if (child && this.add(child)) fresh.push(child);
    }
    return fresh;
  }

  /** The job a request asks for, or undefined when that step already covers it. */
  private requested(prefix: readonly number[], request: BacktrackRequest): number[] | undefined {
    if (request.check) {
      const owner = this.records.get(keyOf(prefix.slice(0, request.check.depth)));
      if (owner && request.check.initials.some((task) => owner.backtrack.has(task))) return undefined;
    }
    const node = prefix.slice(0, request.depth);
    if (this.records.get(keyOf(node))?.done.has(request.task)) return undefined;
    return [...node, request.task];
  }

  private add(prefix: number[]): boolean {
    const key = keyOf(prefix);
    if (this.jobs.has(key)) return false;
    this.jobs.set(key, prefix);
    return true;
  }

  /** Accepted outputs in prefix order (lexicographic by task id). */
  ordered(): SubtreeOutput[] {
    return [...this.outputs.values()].sort((a, b) => comparePrefixes(a.prefix, b.prefix));
  }

  /** The merged result; `complete` only if every job finished its part and none is missing. */
  result(): CellResult {
    return mergeSubtrees(this.ordered(), { pending: this.pending, stopped: this.stopped, preemptionBound: this.options.strategy.kind === "dpor" ? this.options.strategy.preemptionBound : undefined });
  }
}

function comparePrefixes(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Run a split proof in this process, job after job: the reference for the queue. */
export function exploreSplit(target: ExploreTarget, options: CellOptions, splitAfter: number): { result: CellResult; outputs: SubtreeOutput[] } {
  const coordinator = new SplitCoordinator(options);
  const queue = coordinator.start();
  while (queue.length > 0) queue.push(...coordinator.accept(exploreSubtree(target, options, queue.shift()!, splitAfter)));
  return { result: coordinator.result(), outputs: coordinator.ordered() };
}

/**
 * One result from the jobs' results, in prefix order: counts add up, a failure's first
 * execution counts the executions of the jobs before it, metrics keep exact counts,
 * minima and maxima (a median over several jobs is their count-weighted median of
 * medians). A single job's result is returned as it stands.
 */
export function mergeSubtrees(outputs: readonly SubtreeOutput[], state: { pending: number; stopped?: "first-failure" | "executions"; preemptionBound?: number }): CellResult {
  if (outputs.length === 0) throw new Error("split run: no job finished");
  const explored = state.pending === 0 && state.stopped === undefined && outputs.every((o) => o.explored);
  if (outputs.length === 1 && state.pending === 0 && outputs[0].branches.length === 0) return outputs[0].result;
  const first = outputs[0].result;
  const merged: CellResult = { ...structuredClone(first), executions: 0, steps: 0, failures: [], failureCounts: { promise: 0, deadlock: 0, livelock: 0, invariant: 0, scenario: 0 }, inconclusive: [], metrics: {} };
  delete merged.firstFailure;
  const failures = new Map<string, DistinctFailure>();
  const limits = new Map<string, CellResult["inconclusive"][number]>();
  const metrics = new Map<string, { parts: Distribution[] }>();
  let sleepBlocked = 0;
  for (const output of outputs) {
    const r = output.result;
    const offset = merged.executions;
    for (const f of r.failures) mergeCounted(failures, f.signature, f, offset);
    for (const l of r.inconclusive) mergeCounted(limits, l.kind, l, offset);
    for (const kind of Object.keys(merged.failureCounts) as (keyof CellResult["failureCounts"])[]) merged.failureCounts[kind] += r.failureCounts[kind];
    if (r.firstFailure && !merged.firstFailure) merged.firstFailure = { ...r.firstFailure, execution: r.firstFailure.execution + offset };
    for (const name of Object.keys(r.metrics)) (metrics.get(name) ?? metrics.set(name, { parts: [] }).get(name)!).parts.push(r.metrics[name]);
    merged.executions += r.executions;
    merged.steps += r.steps;
    sleepBlocked += r.dpor?.sleepBlocked ?? 0;
  }
  merged.failures = [...failures.values()];
  merged.inconclusive = [...limits.values()];
  for (const name of [...metrics.keys()].sort()) merged.metrics[name] = mergeDistributions(metrics.get(name)!.parts);
  const failing = merged.failures.length > 0;
  merged.verdict = failing ? "fails" : merged.inconclusive.length > 0 ? "inconclusive" : "holds";
  merged.stopReason = state.stopped ?? (explored ? "exhausted" : "executions");
  const limited = merged.inconclusive.length > 0;
  const boundCut = outputs.some((o) => o.boundCut);
  merged.dpor = { complete: explored && !boundCut && !limited, boundedComplete: explored && !limited, sleepBlocked, estimatedRemaining: explored ? 0 : outputs.reduce((n, o) => n + (o.result.dpor?.estimatedRemaining ?? 0), 0) };
  if (state.preemptionBound !== undefined) merged.dpor.preemptionBound = state.preemptionBound;
  return merged;
}

function mergeCounted<T extends { count: number; firstExecution: number; fewestPreemptions?: number }>(into: Map<string, T>, key: string, item: T, offset: number): void {
  const seen = into.get(key);
  if (seen) {
    seen.count += item.count;
    if (seen.fewestPreemptions !== undefined && item.fewestPreemptions !== undefined) seen.fewestPreemptions = Math.min(seen.fewestPreemptions, item.fewestPreemptions);
  } else into.set(key, { ...item, firstExecution: item.firstExecution + offset });
}

function mergeDistributions(parts: readonly Distribution[]): Distribution {
  const present = parts.filter((p) => p.count > 0);
  if (present.length === 0) return { count: 0, min: 0, median: 0, max: 0 };
  const count = present.reduce((n, p) => n + p.count, 0);
  const byMedian = [...present].sort((a, b) => a.median - b.median);
  let seen = 0;
  let median = byMedian[byMedian.length - 1].median;
  for (const p of byMedian) {
    seen += p.count;
    if (seen * 2 >= count) {
      median = p.median;
      break;
    }
  }
  return { count, min: Math.min(...present.map((p) => p.min)), median, max: Math.max(...present.map((p) => p.max)) };
}
