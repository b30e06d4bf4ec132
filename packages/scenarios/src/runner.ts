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
  footprintCheckEnabled,
  Machine,
  ModelError,
  SetupOnce,
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
import { PAGE_SIZE } from "@foliosim/mm";
import { ScenarioValidationError } from "./builder.js";
import { awaitBinding, planCrossTask, publishBinding } from "./cross-task.js";
import { parseRef } from "./refs.js";
import { validateScenario } from "./validate.js";

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
  /** How executions get the set-up: "snapshot", "re-run: <why>", "not taken yet" or "off". */
  setupSnapshot(): string;
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

/**
 * A scenario asked the model for something it cannot do, found only while running (an
 * argument whose bound value has the wrong range, …). It ends the run with a verdict of
 * kind "scenario", not as a kernel invariant.
 */
export class ScenarioUsageError extends ModelError {
  constructor(call: string, task: string, detail: string) {
    super(`scenario ${call}`, `task ${task}`, detail, true);
  }
}

/** Where a run's usage error happened: the step's path in the scenario ("tasks.0.script.2") and its call. */
export interface UsageSite {
  path: string;
  call: string;
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

/** Replace `${param}`, `$binding[.field]` and `$binding+N` (N pages on) references. */
export function resolveValue(v: unknown, bindings: Map<string, unknown>, params: ParamValues): unknown {
  const r = parseRef(v);
  if (r?.kind === "param") {
    if (!(r.name in params)) throw new ScenarioError(`unknown parameter \${${r.name}}`);
    return params[r.name];
  }
  if (r?.kind === "binding") {
    if (!bindings.has(r.name)) throw new ScenarioError(`"$${r.name}" is not bound by an earlier step`);
    let val = bindings.get(r.name);
    for (const field of r.fields) val = (val as Record<string, unknown> | undefined)?.[field];
    return r.plusPages > 0 && typeof val === "number" ? val + r.plusPages * PAGE_SIZE : val;
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
  if (e.notEquals !== undefined) {
    const not = resolveValue(e.notEquals, bindings, params);
    if (JSON.stringify(value) === JSON.stringify(not)) return `${what}returned ${describeReturn(value)}; expected anything else`;
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

function expectationList(v: Expectation | Expectation[] | undefined): Expectation[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function brokenBy(list: Expectation[], result: unknown, params: ParamValues, bindings: Map<string, unknown>): string[] {
  const broken: string[] = [];
  for (const e of list) {
    const msg = checkExpectation(e, result, params, bindings);
    if (msg) broken.push(msg);
  }
  return broken;
}

/**
 * A step's parsed arguments and the binding values they were parsed with. The schema
 * parses a step's arguments again only when the values its references resolve to
 * differ from the last parse's: arguments naming no binding, or only bindings of the
 * set-up (the same in every execution), are parsed once per target. The data is
 * frozen, as executions share it.
 */
interface ParsedArgs {
  data: unknown;
  /** The binding values, in the order of `bindingRefs`. */
  inputs: readonly unknown[];
}

/** Per parameter values (a target's, the same object in every execution). */
const PARSED_ARGS = new WeakMap<Readonly<ParamValues>, WeakMap<Step, ParsedArgs>>();
/** The binding references in a step's arguments, in the order `resolveValue` meets them. */
const BINDING_REFS = new WeakMap<Step, string[]>();

/** The step's arguments, resolved and parsed by the call's schema (a mismatch found only now is a scenario error). */
function stepArgs(step: Step, bindings: Map<string, unknown>, params: Readonly<ParamValues>, taskName: string): unknown {
  let cache = PARSED_ARGS.get(params);
  const cached = cache?.get(step);
  const refs = bindingRefs(step);
  // Resolved one by one, each reference fails as resolving the whole value would.
  const inputs = refs.length === 0 ? refs : refs.map((r) => resolveValue(r, bindings, params));
  if (cached !== undefined && sameInputs(cached.inputs, inputs)) return cached.data;
  const parsed = getCall(step.call).args.safeParse(resolveValue(step.args ?? {}, bindings, params));
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join(".") || "args"}: ${i.message}`).join("; ");
    throw new ScenarioUsageError(step.call, taskName, `arguments after substitution: ${why}`);
  }
  // An object bound may change while it stays the same object: only plain values key the cache.
  if (inputs.every(isPrimitive)) {
    if (cache === undefined) PARSED_ARGS.set(params, (cache = new WeakMap()));
    cache.set(step, { data: deepFreeze(parsed.data), inputs });
  }
  return parsed.data;
}

function bindingRefs(step: Step): string[] {
  let refs = BINDING_REFS.get(step);
  if (refs === undefined) {
    refs = [];
    collectBindingRefs(step.args ?? {}, refs);
    BINDING_REFS.set(step, refs);
  }
  return refs;
}

function collectBindingRefs(v: unknown, into: string[]): void {
  if (Array.isArray(v)) for (const x of v) collectBindingRefs(x, into);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) collectBindingRefs(x, into);
  else if (parseRef(v)?.kind === "binding") into.push(v as string);
}

function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function");
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * One step, at `path` in the scenario. A usage error (the step asked the model for
 * something the kernel refuses a program with a signal, or cannot do at all) records
 * the step in the run's `usage` annotation, so the failure names it.
 */
function* runStep(ctx: CallContext, taskName: string, step: Step, bindings: Map<string, unknown>, path: string): TaskGen<void> {
  try {
    yield* runStepBody(ctx, taskName, step, bindings);
  } catch (error) {
    if (!(error instanceof ModelError) || !error.usage || ctx.m.annotations.usage !== undefined) throw error;
    ctx.m.annotations.usage = { path, call: step.call } satisfies UsageSite;
    throw new StepUsageError(path, step.call, error);
  }
}

/** A usage error with the step at fault in front of its message ("tasks.0.script.2 (touch): touch: …"). */
class StepUsageError extends ModelError {
  constructor(path: string, call: string, cause: ModelError) {
    super(cause.operation, cause.object, cause.detail, true);
    this.message = `${path} (${call}): ${cause.message}`;
  }
}

function* runStepBody(ctx: CallContext, taskName: string, step: Step, bindings: Map<string, unknown>): TaskGen<void> {
  const def = getCall(step.call);
  const params = ctx.world.params;
  const args = stepArgs(step, bindings, params, taskName);
  const expect = expectationList(step.expect);
  const broken: string[] = [];
  const loop = step.until !== undefined ? { list: expectationList(step.until), stopWhen: true } : step.while !== undefined ? { list: expectationList(step.while), stopWhen: false } : null;
  const times = Number(resolveValue(loop ? step.max : (step.repeat ?? 1), bindings, params));
  let result: unknown;
  let stopped = false;
  for (let i = 0; i < times; i++) {
    result = yield* traced(`call ${step.call}`, def.run(ctx, args));
    if (loop) {
      if ((brokenBy(loop.list, result, params, bindings).length === 0) === loop.stopWhen) {
        stopped = true;
        break;
      }
    } else {
      // `repeat` checks every result, not only the last.
      for (const msg of brokenBy(expect, result, params, bindings)) broken.push(times > 1 ? `${msg} (run ${i + 1} of ${times})` : msg);
      if (broken.length > 0) break;
    }
  }
  if (loop) {
    if (!stopped) broken.push(`${step.until !== undefined ? "until" : "while"} condition still ${step.until !== undefined ? "unmet" : "met"} after max ${times} runs`);
    broken.push(...brokenBy(expect, result, params, bindings));
  }
  if (step.as) bindings.set(step.as, result);
  calls(ctx.m).push({ task: taskName, call: step.call, ...(step.as ? { as: step.as } : {}), result: plain(result), broken });
}

/** The final `check:` steps: observations after every task has finished, over every binding. */
function runChecks(m: Machine, world: World, s: Scenario, bindings: Map<string, unknown>): void {
  for (const step of s.check) {
    const def = getCall(step.call);
    let result: unknown;
    let broken: string[];
    try {
      const args = stepArgs(step, bindings, world.params, "check") as Record<string, unknown>;
      result = def.observe!({ m, world, process: typeof args.process === "string" ? args.process : "p0" }, args);
      broken = brokenBy(expectationList(step.expect), result, world.params, bindings);
    } catch (error) {
      if (!(error instanceof ModelError) && !(error instanceof ScenarioError)) throw error;
      broken = [error.message];
    }
    if (step.as) bindings.set(step.as, result);
    calls(m).push({ task: "check", call: step.call, ...(step.as ? { as: step.as } : {}), result: plain(result), broken });
  }
}

/** Call results must be plain data (they travel in JSON and between workers). */
function plain(v: unknown): unknown {
  if (v === undefined) return null;
  const flat = plainFlat(v);
  if (flat !== NOT_FLAT) return flat;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return String(v);
  }
}

const NOT_FLAT = Symbol("not flat");

/**
 * What the JSON round trip gives for the common results — a JSON value, or a plain
 * object or array of them with nothing nested — without printing and parsing it;
 * NOT_FLAT for anything else.
 */
function plainFlat(v: unknown): unknown {
  const leaf = plainLeaf(v);
  if (leaf !== NOT_FLAT || v === null || typeof v !== "object") return leaf;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      // A missing element, `undefined` or a function is null in JSON.
      const y = x === undefined || typeof x === "function" ? null : plainLeaf(x);
      if (y === NOT_FLAT) return NOT_FLAT;
      out.push(y);
    }
    return out;
  }
  if (Object.getPrototypeOf(v) !== Object.prototype) return NOT_FLAT;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[key];
    if (x === undefined) continue; // JSON leaves the key out
    if (key === "__proto__") return NOT_FLAT; // an own key for JSON.parse, the prototype for an assignment
    const y = plainLeaf(x);
    if (y === NOT_FLAT) return NOT_FLAT;
    out[key] = y;
  }
  return out;
}

/** A JSON leaf as the round trip gives it back (non-finite numbers are null, -0 is 0), or NOT_FLAT. */
function plainLeaf(v: unknown): unknown {
  switch (typeof v) {
    case "number":
      return Number.isFinite(v) ? (v === 0 ? 0 : v) : null;
    case "string":
    case "boolean":
      return v;
    default:
      return v === null ? null : NOT_FLAT;
  }
}

function expand(v: unknown, params: ParamValues): unknown {
  return resolveValue(v, new Map(), params);
}

/** Where a scenario's set-up bindings (`as:` names of set-up steps) live on the machine. */
const SETUP_BINDINGS = Symbol("scenario-setup-bindings");

/**
 * The sequential set-up: the world, then each set-up step spawned and run to quiescence
 * on its CPU under a fixed chooser (never part of the explored schedule). Everything it
 * leaves is on the machine (the world and the bindings in `m.ext`), so a snapshot of the
 * machine is a snapshot of the set-up (see SetupOnce in @foliosim/sim).
 */
function runSetup(m: Machine, s: Scenario, params: ParamValues): void {
  const world = new World(m, params);
  m.ext.set(World, world);
  for (const h of HOOKS) h.init?.(world, s);
  const globals = new Map<string, unknown>();
  m.ext.set(SETUP_BINDINGS, globals);
  const setupChooser = new TimedChooser(0, 0);
  s.setup.forEach((step, i) => {
    const cpu = step.cpu ?? 0;
    m.spawn({
      name: `setup${i}`,
      cpu,
      body: (task) => runStep({ m, world, task, process: step.process ?? "p0" }, `setup${i}`, step, globals, `setup.${i}`),
    });
    m.settle(setupChooser);
  });
}

export interface ScenarioTargetOptions {
  /**
   * Run the set-up once per machine configuration and start every execution from a
   * snapshot of its end state (default true). The set-up is re-run per execution when
   * a snapshot cannot be taken safely; `setupSnapshot()` says which.
   */
  setupOnce?: boolean;
}

export function scenarioTarget(s: Scenario, kernelId: string | ResolvedKernel, set: ParamValues = {}, overrides: readonly string[] = [], options: ScenarioTargetOptions = {}): ScenarioTarget {
  const kernel = typeof kernelId === "string" ? resolveKernel(kernelId, overrides) : kernelId;
  const params = resolveParams(s, set);
  if (Object.keys(set).length > 0) {
    // `--set` values: every use of each parameter, checked with the value given.
    const issues = validateScenario(s, { params });
    if (issues.length > 0) throw new ScenarioValidationError(issues, `scenario ${s.id} with ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(", ")}`);
  }
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
  const setup = (m: Machine): void => runSetup(m, s, params);
  const cross = planCrossTask(s.tasks, new Set(s.setup.flatMap((st) => (st.as ? [st.as] : []))));
  const binderNames = (name: string) => (cross.binders.get(name) ?? []).map((ti) => `task ${s.tasks[ti].name}`).join(" or ");
  // A snapshot copies plain objects, not the footprint checker's proxies: checking re-runs the set-up.
  const once = options.setupOnce === false || footprintCheckEnabled() ? null : new SetupOnce(setup);
  const program: Program = (m) => {
    if (once) once.apply(m);
    else setup(m);
    const world = m.ext.get(World) as World;
    const globals = m.ext.get(SETUP_BINDINGS) as Map<string, unknown>;
    const finalBindings = new Map(globals);
    s.tasks.forEach((t, ti) => {
      const policy = expand(t.policy, params) as "normal" | "fifo";
      const priority = policy === "fifo" ? (t.priority ?? 50) : undefined;
      m.spawn({
        name: t.name,
        cpu: t.cpu,
        policy,
        priority,
        body: function* (task) {
          const bindings = new Map(globals);
          const reads = cross.reads.get(ti);
          for (const [si, step] of t.script.entries()) {
            for (const name of reads?.get(si) ?? []) bindings.set(name, yield* awaitBinding(world, name, binderNames(name)));
            yield* runStep({ m, world, task, process: t.process }, t.name, step, bindings, `tasks.${ti}.script.${si}`);
            if (step.as && cross.published.has(step.as)) yield* publishBinding(world, step.as, bindings.get(step.as));
          }
          for (const [k, v] of bindings) if (globals.get(k) !== v || !globals.has(k)) finalBindings.set(k, v);
        },
      });
    });
    m.onFinish((mm) => {
      if (mm.status === "done" && s.check.length > 0) runChecks(mm, world, s, finalBindings);
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
    setupSnapshot: () => (once === null ? "off" : once.refused === null ? "snapshot" : once.refused === undefined ? "not taken yet" : `re-run: ${once.refused}`),
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
  /**
   * Why it fails: a broken expectation, a hang, an invariant, or (kind "scenario") the
   * scenario's own misuse of the model, with `step` the path of the step at fault.
   */
  failure: { kind: "promise" | "deadlock" | "livelock" | "invariant" | "budget" | "scenario"; message: string; step?: string } | null;
  calls: CallRecord[];
  metrics: Record<string, number>;
  run: RunResult;
}

/** One execution. */
export function runScenario(s: Scenario, kernel: string | ResolvedKernel, chooser: Chooser, set: ParamValues = {}, overrides: readonly string[] = []): ScenarioRun {
  const target = scenarioTarget(s, kernel, set, overrides, { setupOnce: false });
  const m = new Machine(target.config);
  target.program(m);
  const run = m.run(chooser);
  return { ...summarize(target, run, s), run };
}

export function summarize(target: ScenarioTarget, run: RunResult, s: Scenario): Omit<ScenarioRun, "run"> {
  let failure: ScenarioRun["failure"] = null;
  if (run.status === "deadlock" || run.status === "livelock") {
    if (s.promise.noHang) failure = { kind: run.status, message: run.hang!.message };
  } else if (run.status === "invariant") {
    // A scenario's misuse of the model is the scenario's error, not a kernel invariant.
    const site = run.annotations.usage as UsageSite | undefined;
    if (!run.failure!.usage) failure = { kind: "invariant", message: run.failure!.message };
    else failure = { kind: "scenario", message: run.failure!.message, ...(site ? { step: site.path } : {}) };
  }
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
