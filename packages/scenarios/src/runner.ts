/**
 * The runner: (scenario, kernel, chooser) → result. `scenarioTarget` turns a scenario
 * and a kernel into a program for the machine plus the promise check and the metrics,
 * which is also what the explorer explores.
 *
 * The set-up runs step by step, each on its CPU, through `Machine.settle` (not part of
 * the explored schedule). The tasks then run concurrently; every call's result is
 * recorded in the run's annotations, and the promise is checked against them.
 */

import {
  Machine,
  TimedChooser,
  traced,
  type Chooser,
  type MachineConfig,
  type PreemptionModel,
  type Program,
  type RunResult,
  type TaskGen,
} from "@foliosim/sim";
import { getCall, World, type CallContext } from "./calls.js";
import { describeReturn, ERRNO, type ErrnoName } from "./errno.js";
import { machineKernelOptions, resolveKernel, type ResolvedKernel } from "./kernels.js";
import type { Expectation, Scenario, Step } from "./schema.js";

/** Metric names every result carries (a contract of the JSON output). */
export const METRIC_NAMES = [
  "lru_add_drain",
  "lru_add_drain_all",
  "ipi_broadcast",
  "rcu_gp",
  "rcu_expedited_gp",
  "static_key_patch",
  "migrate_retry",
  "context_switch",
  "virtual_ns",
] as const;

export type ParamValues = Record<string, string | number | boolean>;

export interface CallRecord {
  task: string;
  call: string;
  as?: string;
  result: unknown;
  /** The expectations that did not hold, as messages. */
  broken: string[];
}

export interface ScenarioTarget {
  /** The explorer's names for the same two ids (an ExploreTarget). */
  scenarioId: string;
  kernelId: string;
  scenario: string;
  kernel: string;
  params: ParamValues;
  program: Program;
  config: MachineConfig;
  /** null when the promise holds; else why it does not (hangs are reported by the run status). */
  check(result: RunResult): string | null;
  metrics(result: RunResult): Record<string, number>;
}

/** Hooks the memory-model packages plug in through the catalog's registration module. */
export interface WorldHooks {
  /** Set up per-run state (physical memory, invariants) before anything runs. */
  init?(world: World, scenario: Scenario): void;
  /** Leaks at the end of a finished run: each a message naming the object. */
  leaks?(world: World): string[];
}

const HOOKS: WorldHooks[] = [];

export function defineWorldHooks(h: WorldHooks): void {
  HOOKS.push(h);
}

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

/** Parameter values: defaults, overridden by `--set` values (checked against the default's type). */
export function resolveParams(s: Scenario, set: Record<string, string | number | boolean> = {}): ParamValues {
  const out: ParamValues = {};
  for (const [name, spec] of Object.entries(s.params)) out[name] = spec.default;
  for (const [name, raw] of Object.entries(set)) {
    const spec = s.params[name];
    if (!spec) {
      const names = Object.keys(s.params);
      throw new ScenarioError(`scenario ${s.id} has no parameter "${name}"; its parameters: ${names.length ? names.join(", ") : "none"}`);
    }
    out[name] = coerce(raw, spec.default, `${s.id}: parameter ${name}`);
  }
  return out;
}

function coerce(raw: string | number | boolean, like: string | number | boolean, where: string): string | number | boolean {
  if (typeof raw === typeof like) return raw;
  if (typeof like === "number") {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ScenarioError(`${where}: expected a number, found "${raw}"`);
    return n;
  }
  if (typeof like === "boolean") {
    if (raw === "true" || raw === "on") return true;
    if (raw === "false" || raw === "off") return false;
    throw new ScenarioError(`${where}: expected true or false, found "${raw}"`);
  }
  return String(raw);
}

/** Replace `${param}` and `$binding[.field]` references. */
export function resolveValue(v: unknown, bindings: Map<string, unknown>, params: ParamValues): unknown {
  if (typeof v === "string") {
    const p = /^\$\{(\w+)\}$/.exec(v);
    if (p) {
      if (!(p[1] in params)) throw new ScenarioError(`unknown parameter \${${p[1]}}`);
      return params[p[1]];
    }
    const b = /^\$([A-Za-z_]\w*)((?:\.\w+)*)$/.exec(v);
    if (b) {
      if (!bindings.has(b[1])) throw new ScenarioError(`"$${b[1]}" is not bound by an earlier step`);
      let val = bindings.get(b[1]);
      for (const field of b[2].split(".").filter(Boolean)) val = (val as Record<string, unknown> | undefined)?.[field];
      return val;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, bindings, params));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = resolveValue(x, bindings, params);
    return out;
  }
  return v;
}

function checkExpectation(e: Expectation, result: unknown, params: ParamValues, bindings: Map<string, unknown>): string | null {
  const value = e.field ? (result as Record<string, unknown> | undefined)?.[e.field] : result;
  const what = e.field ? `${e.field} ` : "";
  if (e.errno !== undefined) {
    const code = ERRNO[e.errno as ErrnoName];
    if (code === undefined) return `unknown errno ${e.errno}`;
    if (value !== -code) return `${what}returned ${describeReturn(value)}; expected -${code} (${e.errno})`;
  }
  if (e.equals !== undefined) {
    const want = resolveValue(e.equals, bindings, params);
    if (JSON.stringify(value) !== JSON.stringify(want)) return `${what}returned ${describeReturn(value)}; expected ${describeReturn(want)}`;
  }
  if (e.oneOf !== undefined && !e.oneOf.some((w) => JSON.stringify(resolveValue(w, bindings, params)) === JSON.stringify(value))) {
    return `${what}returned ${describeReturn(value)}; expected one of ${e.oneOf.map((w) => describeReturn(w)).join(", ")}`;
  }
  if (e.atLeast !== undefined && !(typeof value === "number" && value >= e.atLeast)) return `${what}returned ${describeReturn(value)}; expected at least ${e.atLeast}`;
  if (e.atMost !== undefined && !(typeof value === "number" && value <= e.atMost)) return `${what}returned ${describeReturn(value)}; expected at most ${e.atMost}`;
  return null;
}

function calls(m: Machine): CallRecord[] {
  return ((m.annotations.calls ??= []) as CallRecord[]);
}

function* runStep(ctx: CallContext, taskName: string, step: Step, bindings: Map<string, unknown>): TaskGen<void> {
  const def = getCall(step.call);
  const params = ctx.world.params;
  const rawArgs = resolveValue(step.args ?? {}, bindings, params);
  const parsed = def.args.safeParse(rawArgs);
  if (!parsed.success) {
    throw new ScenarioError(`${taskName}: ${step.call}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "args"}: ${i.message}`).join("; ")}`);
  }
  const times = step.repeat === undefined ? 1 : Number(resolveValue(step.repeat, bindings, params));
  let result: unknown;
  for (let i = 0; i < times; i++) result = yield* traced(`call ${step.call}`, def.run(ctx, parsed.data));
  if (step.as) bindings.set(step.as, result);
  const expectations = step.expect === undefined ? [] : Array.isArray(step.expect) ? step.expect : [step.expect];
  const broken: string[] = [];
  for (const e of expectations) {
    const msg = checkExpectation(e, result, params, bindings);
    if (msg) broken.push(msg);
  }
  calls(ctx.m).push({ task: taskName, call: step.call, ...(step.as ? { as: step.as } : {}), result: plain(result), broken });
}

/** Call results must be plain data (they travel in JSON and between workers). */
function plain(v: unknown): unknown {
  if (v === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
}

function expand(v: unknown, params: ParamValues): unknown {
  return resolveValue(v, new Map(), params);
}

export function scenarioTarget(s: Scenario, kernelId: string | ResolvedKernel, set: ParamValues = {}, overrides: readonly string[] = []): ScenarioTarget {
  const kernel = typeof kernelId === "string" ? resolveKernel(kernelId, overrides) : kernelId;
  const params = resolveParams(s, set);
  const config: MachineConfig = {
    cpus: Number(expand(s.machine.cpus, params)),
    preemption: expand(s.machine.preemption, params) as PreemptionModel,
    costs: s.machine.costs,
    livelock: s.machine.livelock,
    maxSkewNs: s.machine.maxSkewNs,
    kernel: machineKernelOptions(kernel),
  };
  for (const t of s.tasks) {
    if (t.cpu >= config.cpus) throw new ScenarioError(`scenario ${s.id}: task ${t.name} is bound to CPU ${t.cpu}, but the machine has ${config.cpus} CPUs`);
  }
  const program: Program = (m) => {
    const world = new World(m, params);
    m.ext.set(World, world);
    for (const h of HOOKS) h.init?.(world, s);
    const globals = new Map<string, unknown>();
    const setupChooser = new TimedChooser(0, 0);
    s.setup.forEach((step, i) => {
      const cpu = step.cpu ?? 0;
      m.spawn({
        name: `setup${i}`,
        cpu,
        body: (task) => runStep({ m, world, task, process: step.process ?? "p0" }, `setup${i}`, step, globals),
      });
      m.settle(setupChooser);
    });
    for (const t of s.tasks) {
      const policy = expand(t.policy, params) as "normal" | "fifo";
      const priority = policy === "fifo" ? (t.priority ?? 50) : undefined;
      m.spawn({
        name: t.name,
        cpu: t.cpu,
        policy,
        priority,
        body: function* (task) {
          const bindings = new Map(globals);
          for (const step of t.script) yield* runStep({ m, world, task, process: t.process }, t.name, step, bindings);
        },
      });
    }
    m.onFinish((mm) => {
      if (mm.status === "done" && s.promise.noLeaks) {
        mm.annotations.leaks = HOOKS.flatMap((h) => h.leaks?.(world) ?? []);
      }
    });
  };
  return {
    scenarioId: paramSuffix(s.id, params, s),
    kernelId: kernel.id,
    scenario: s.id,
    kernel: kernel.id,
    params,
    program,
    config,
    check: (r) => {
      const recs = (r.annotations.calls ?? []) as CallRecord[];
      for (const c of recs) if (c.broken.length > 0) return `${c.task}: ${c.call} ${c.broken[0]}`;
      const leaks = (r.annotations.leaks ?? []) as string[];
      if (leaks.length > 0) return `left behind after the tasks finished: ${leaks.join("; ")}`;
      return null;
    },
    metrics: (r) => {
      const out: Record<string, number> = {};
      for (const name of METRIC_NAMES) out[name] = r.counters[name] ?? 0;
      return out;
    },
  };
}

/** A scenario id with its non-default parameters (`transient-ref[hold_ns=2000000000]`): distinct ids, distinct tokens. */
function paramSuffix(id: string, params: ParamValues, s: Scenario): string {
  const changed = Object.entries(params).filter(([k, v]) => s.params[k]?.default !== v);
  return changed.length === 0 ? id : `${id}[${changed.map(([k, v]) => `${k}=${v}`).join(",")}]`;
}

export interface ScenarioRun {
  scenario: string;
  kernel: string;
  params: ParamValues;
  status: RunResult["status"];
  verdict: "holds" | "fails";
  /** Why it fails: a broken expectation, a hang or an invariant. */
  failure: { kind: "promise" | "deadlock" | "livelock" | "invariant" | "budget"; message: string } | null;
  calls: CallRecord[];
  metrics: Record<string, number>;
  run: RunResult;
}

/** One execution. */
export function runScenario(s: Scenario, kernel: string | ResolvedKernel, chooser: Chooser, set: ParamValues = {}, overrides: readonly string[] = []): ScenarioRun {
  const target = scenarioTarget(s, kernel, set, overrides);
  const m = new Machine(target.config);
  target.program(m);
  const run = m.run(chooser);
  return { ...summarize(target, run, s), run };
}

export function summarize(target: ScenarioTarget, run: RunResult, s: Scenario): Omit<ScenarioRun, "run"> {
  let failure: ScenarioRun["failure"] = null;
  if (run.status === "deadlock" || run.status === "livelock") {
    if (s.promise.noHang) failure = { kind: run.status, message: run.hang!.message };
  } else if (run.status === "invariant") failure = { kind: "invariant", message: run.failure!.message };
  else if (run.status === "step-limit" || run.status === "time-limit") failure = { kind: "budget", message: `the run hit its ${run.status}` };
  if (!failure) {
    const msg = target.check(run);
    if (msg) failure = { kind: "promise", message: msg };
  }
  return {
    scenario: target.scenario,
    kernel: target.kernel,
    params: target.params,
    status: run.status,
    verdict: failure ? "fails" : "holds",
    failure,
    calls: (run.annotations.calls ?? []) as CallRecord[],
    metrics: target.metrics(run),
  };
}
