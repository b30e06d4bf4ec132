/**
 * Checks a scenario before anything runs, beyond its schema. It reads the raw document
 * defensively, so it also runs when the schema found problems and both are reported
 * together. Each issue has a path into the document (`tasks.1.script.0.args.addr`).
 *
 * Checked: every call exists (closest name suggested); its arguments are known and,
 * after `${param}` substitution (the default and every listed value, or the values given
 * with `--set`), have the types and ranges the call accepts; an argument bound to an
 * earlier result (`$buf`, `$pin.ret`, `$buf+2`) has the right type, and the field it
 * names exists; a file, memfd or device name was created by an earlier step; fields a
 * call would ignore are refused; parameters are declared and every value has the
 * parameter's type; `repeat`/`until`/`while`/`max` are consistent; `check:` steps only
 * observe; expectation fields exist in the call's result; tasks fit the machine.
 */

import type { z } from "zod";
import { AddressResult, callNames, getCall, hasCall, MAX_CALL_PAGES, MAX_DEVICE_PAGES, PageCount, type CallDef, type NameKind } from "./calls.js";
import { suggest } from "./kernels.js";
import { planCrossTask, waitCycle } from "./cross-task.js";
import { parseRef, REF_FORMS } from "./refs.js";
import { describeFound, fieldNames, fieldSchema, isObjectSchema, isSchema, sampleOf, typeName, UNKNOWN, zodIssueMessage } from "./zod-shape.js";

export interface ValidationIssue {
  /** Dotted path into the scenario document. */
  path: string;
  message: string;
}

type Obj = Record<string, unknown>;
type ParamValue = string | number | boolean;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const items = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface ParamInfo {
  type: "number" | "string" | "boolean";
  values: ParamValue[];
}

interface Binding {
  /** The result's schema, when the binding call declares one. */
  returns: z.ZodType | undefined;
  /** Bound in more than one task: ambiguous in `check:`. */
  ambiguous?: boolean;
}

interface Scope {
  bindings: Map<string, Binding>;
  names: Map<NameKind, Set<string>>;
}

interface Ctx {
  params: Map<string, ParamInfo>;
  issues: ValidationIssue[];
}

const NAME_CREATORS: Record<NameKind, string> = { file: "memfd_create or open_file", device: "dmirror_create", pins: "pin_user_pages with keep: true" };

function push(ctx: Ctx, path: string, message: string): void {
  if (!ctx.issues.some((i) => i.path === path && i.message === message)) ctx.issues.push({ path, message });
}

function cloneScope(s: Scope): Scope {
  return { bindings: new Map(s.bindings), names: new Map([...s.names].map(([k, v]) => [k, new Set(v)])) };
}

// ------------------------------------------------------------------------ parameters

function readParams(raw: unknown, ctx: Ctx, given?: Readonly<Record<string, ParamValue>>): void {
  if (!isObj(raw)) return;
  for (const [name, spec] of Object.entries(raw)) {
    if (!isObj(spec)) continue;
    const d = spec.default;
    if (typeof d !== "number" && typeof d !== "string" && typeof d !== "boolean") continue;
    const type = (spec.type === "number" || spec.type === "string" || spec.type === "boolean" ? spec.type : typeof d) as ParamInfo["type"];
    const values: ParamValue[] = [d];
    items(spec.values).forEach((v) => {
      if ((typeof v === "number" || typeof v === "string" || typeof v === "boolean") && !values.includes(v)) values.push(v);
    });
    values.forEach((v, i) => {
      if (typeof v !== type) push(ctx, i === 0 ? `params.${name}.default` : `params.${name}.values`, `expected ${type === "boolean" ? "true or false" : `a ${type}`} (the parameter's type), found ${describeFound(v)}`);
    });
    const g = given?.[name];
    ctx.params.set(name, { type, values: g === undefined ? values : [g] });
  }
}

/** The values a `${param}` reference can take, or undefined (reported) when it is not declared. */
function paramValues(name: string, path: string, ctx: Ctx): ParamValue[] | undefined {
  const p = ctx.params.get(name);
  if (!p) {
    push(ctx, path, `unknown parameter "\${${name}}"${suggest(name, [...ctx.params.keys()])}: declare it under params: with a default`);
    return undefined;
  }
  return p.values;
}

/** A field that is a literal or `${param}`: check every value it can take. */
function checkScalar(v: unknown, path: string, ctx: Ctx, ok: (x: unknown) => string | null): ParamValue[] | unknown[] {
  const r = parseRef(v);
  if (r?.kind === "param") {
    const values = paramValues(r.name, path, ctx) ?? [];
    for (const x of values) {
      const bad = ok(x);
      if (bad) push(ctx, path, `${bad}, found ${describeFound(x)} (the value of \${${r.name}})`);
    }
    return values;
  }
  return [v];
}

const wholeIn = (min: number, max: number) => (x: unknown) => (typeof x === "number" && Number.isInteger(x) && x >= min && x <= max ? null : `expected a whole number from ${min} to ${max}`);
const oneOf = (vals: string[]) => (x: unknown) => (typeof x === "string" && vals.includes(x) ? null : `expected one of ${vals.join(", ")}`);

// ------------------------------------------------------------------------ references

/** Substitute references in a value: params by `pick`, bindings by a sample of their type. */
function substitute(v: unknown, path: string, scope: Scope, ctx: Ctx, pick: Map<string, ParamValue>, used: Set<string>): { value: unknown; skip: boolean; bound: boolean } {
  const r = parseRef(v);
  if (r?.kind === "bad") {
    push(ctx, path, `expected a reference of the form ${REF_FORMS}, found ${describeFound(v)}`);
    return { value: undefined, skip: true, bound: false };
  }
  if (r?.kind === "param") {
    const values = paramValues(r.name, path, ctx);
    if (!values) return { value: undefined, skip: true, bound: false };
    used.add(r.name);
    return { value: pick.get(r.name) ?? values[0], skip: false, bound: false };
  }
  if (r?.kind === "binding") return substituteBinding(r, v as string, path, scope, ctx);
  if (Array.isArray(v) || isObj(v)) {
    let skip = false;
    let bound = false;
    const sub = (x: unknown, i: string | number) => {
      const s = substitute(x, `${path}.${i}`, scope, ctx, pick, used);
      skip ||= s.skip;
      bound ||= s.bound;
      return s.value;
    };
    const value = Array.isArray(v) ? v.map(sub) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x, k)]));
    return { value, skip, bound };
  }
  return { value: v, skip: false, bound: false };
}

function substituteBinding(r: Extract<ReturnType<typeof parseRef>, { kind: "binding" }>, text: string, path: string, scope: Scope, ctx: Ctx): { value: unknown; skip: boolean; bound: boolean } {
  const b = scope.bindings.get(r.name);
  if (!b) {
    push(ctx, path, `"$${r.name}" is not bound by an earlier step${suggest(r.name, [...scope.bindings.keys()])}`);
    return { value: undefined, skip: true, bound: true };
  }
  if (b.ambiguous) push(ctx, path, `"$${r.name}" is bound by more than one task: give the bindings distinct names`);
  let schema = b.returns;
  for (const field of r.fields) {
    if (!schema) break;
    const next = fieldSchema(schema, field);
    if (!next) {
      push(ctx, path, `"${text}": the result has no field "${field}"${suggest(field, fieldNames(schema))}; it is ${typeName(schema)}`);
      return { value: undefined, skip: true, bound: true };
    }
    schema = next;
  }
  if (!schema) return { value: undefined, skip: true, bound: true };
  const value = sampleOf(schema);
  if (r.plusPages > 0 && typeof value !== "number") {
    push(ctx, path, `"${text}": page arithmetic needs an address, but the value is ${typeName(schema)}`);
    return { value: undefined, skip: true, bound: true };
  }
  return { value, skip: value === UNKNOWN, bound: true };
}

/** Check references anywhere in a value (expectations): bound, declared, well-formed. */
function checkRefs(v: unknown, path: string, scope: Scope, ctx: Ctx): void {
  substitute(v, path, scope, ctx, new Map(), new Set());
}

// ------------------------------------------------------------------------ arguments

function argShape(def: CallDef<unknown>): Record<string, z.ZodType> | undefined {
  return (def.args as unknown as { shape?: Record<string, z.ZodType> }).shape;
}

function checkArgs(def: CallDef<unknown>, args: Obj, path: string, scope: Scope, ctx: Ctx): void {
  const shape = argShape(def);
  const names = shape ? Object.keys(shape) : [];
  for (const arg of Object.keys(args)) {
    if (shape && !(arg in shape)) push(ctx, `${path}.args.${arg}`, `${def.name} has no argument "${arg}"${suggest(arg, names)}; its arguments: ${names.join(", ") || "none"}`);
  }
  // One pass with every parameter at its first value, then one per other value of each parameter used.
  const used = new Set<string>();
  const first = substituteArgs(def, args, path, scope, ctx, new Map(), used);
  const variants: Map<string, ParamValue>[] = [];
  for (const p of used) for (const v of (ctx.params.get(p)?.values ?? []).slice(1)) variants.push(new Map([[p, v]]));
  for (const pick of variants) substituteArgs(def, args, path, scope, { ...ctx, issues: ctx.issues }, pick, new Set());
  if (def.lint) {
    const literal = Object.fromEntries(Object.entries(first).filter(([, x]) => x !== undefined));
    for (const l of def.lint(literal, new Set(Object.keys(args)))) push(ctx, `${path}.args.${l.arg}`, l.message);
  }
  checkNames(def, args, path, scope, ctx);
  checkPageCounts(def, args, path, scope, ctx);
}

/**
 * A page count sizes what the call builds (arrays of pages, a device's memory): an
 * address there (`$buf`, `$buf+1`, `$vma.start`) would be billions of pages, so it is
 * refused before anything runs. Numbers and `${param}` values are range-checked by the
 * schema; another earlier result (`$excl.cpages`) by the call's schema when the step runs.
 */
function checkPageCounts(def: CallDef<unknown>, args: Obj, path: string, scope: Scope, ctx: Ctx): void {
  const shape = argShape(def);
  if (!shape) return;
  for (const [k, v] of Object.entries(args)) {
    const r = parseRef(v);
    if (!(k in shape) || !isSchema(shape[k], PageCount) || r?.kind !== "binding") continue;
    let schema = scope.bindings.get(r.name)?.returns;
    for (const field of r.fields) schema = schema && fieldSchema(schema, field);
    if (r.plusPages > 0 || (schema && isSchema(schema, AddressResult))) {
      push(ctx, `${path}.args.${k}`, `expected a page count from 1 to ${MAX_CALL_PAGES}, found ${describeFound(v)}, which is an address (an address read as a count is billions of pages)`);
    }
  }
}

/** Substitute and parse the arguments once; returns the substituted literal values (undefined where not literal). */
function substituteArgs(def: CallDef<unknown>, args: Obj, path: string, scope: Scope, ctx: Ctx, pick: Map<string, ParamValue>, used: Set<string>): Obj {
  const shape = argShape(def);
  const value: Obj = {};
  const skip = new Set<string>();
  const bound = new Set<string>();
  const literal: Obj = {};
  const quiet: Ctx = pick.size > 0 ? { ...ctx, issues: [] } : ctx; // reference issues once
  for (const [k, v] of Object.entries(args)) {
    if (shape && !(k in shape)) continue;
    const s = substitute(v, `${path}.args.${k}`, scope, quiet, pick, used);
    if (s.skip) skip.add(k);
    if (s.bound) bound.add(k);
    value[k] = s.skip ? undefined : s.value;
    if (!s.bound && !s.skip) literal[k] = s.value;
  }
  const parsed = def.args.safeParse(value);
  if (parsed.success) return literal;
  const when = [...pick].map(([p, v]) => ` (when \${${p}} is ${JSON.stringify(v)})`).join("");
  for (const issue of parsed.error.issues) {
    const key = issue.path[0];
    if (issue.code === "unrecognized_keys") continue;
    if (typeof key === "string" && skip.has(key)) continue;
    if (typeof key === "string" && bound.has(key) && issue.code !== "invalid_type") continue;
    const at = issue.path.length === 0 ? `${path}.args` : `${path}.args.${issue.path.map(String).join(".")}`;
    const found = issue.path.reduce<unknown>((o, s) => (isObj(o) || Array.isArray(o) ? (o as Record<string | number, unknown>)[s as string] : undefined), value);
    const missing = issue.code === "invalid_type" && issue.path.length === 1 && found === undefined;
    const msg = missing
      ? `${def.name} needs argument "${String(key)}" (${String((issue as { expected?: unknown }).expected)})`
      : typeof key === "string" && bound.has(key) ? `${zodIssueMessage(issue, args[key]).replace(/, found .*$/, "")}, found ${describeFound(args[key])}, whose value is of another type` : zodIssueMessage(issue, found);
    const ref = typeof key === "string" ? parseRef(args[key]) : null;
    const of = pick.size === 0 && ref?.kind === "param" && issue.path.length === 1 ? ` (the value of \${${ref.name}})` : "";
    push(ctx, at, msg + of + when);
  }
  return literal;
}

/** Names of files, memfds, devices: created by an earlier step before they are used. */
function checkNames(def: CallDef<unknown>, args: Obj, path: string, scope: Scope, ctx: Ctx): void {
  for (const [arg, kind] of Object.entries(def.uses ?? {})) {
    const v = args[arg];
    const r = parseRef(v);
    const values = r?.kind === "param" ? (ctx.params.get(r.name)?.values ?? []) : r === null ? [v] : [];
    const known = scope.names.get(kind) ?? new Set<string>();
    for (const name of values) {
      if (typeof name === "string" && !known.has(name)) {
        push(ctx, `${path}.args.${arg}`, `no ${kind} named "${name}" is created by an earlier step (${NAME_CREATORS[kind]})${suggest(name, [...known])}`);
      }
    }
  }
  if (def.defines) {
    const v = args[def.defines.arg];
    const r = parseRef(v);
    const values = r?.kind === "param" ? (ctx.params.get(r.name)?.values ?? []) : r === null ? [v] : [];
    const set = scope.names.get(def.defines.kind) ?? new Set<string>();
    for (const name of values) if (typeof name === "string") set.add(name);
    scope.names.set(def.defines.kind, set);
  }
}

// ------------------------------------------------------------------------ steps

function expectations(v: unknown): [unknown, string][] {
  if (Array.isArray(v)) return v.map((e, i) => [e, `.${i}`]);
  return v === undefined ? [] : [[v, ""]];
}

function checkExpect(def: CallDef<unknown> | undefined, raw: unknown, path: string, scope: Scope, ctx: Ctx): void {
  for (const [e, suffix] of expectations(raw)) {
    if (!isObj(e)) continue;
    const at = path + suffix;
    let schema = def?.returns;
    if (typeof e.field === "string" && schema) {
      const f = fieldSchema(schema, e.field);
      if (!f) push(ctx, `${at}.field`, `${def!.name}'s result has no field "${e.field}"${suggest(e.field, fieldNames(schema))}; it is ${typeName(schema)}`);
      schema = f;
    } else if (schema && isObjectSchema(schema) && (e.atLeast !== undefined || e.atMost !== undefined || e.errno !== undefined)) {
      push(ctx, at, `${def!.name} returns ${typeName(schema)}: name the field to compare with field:`);
    }
    for (const k of ["equals", "notEquals", "oneOf"]) if (k in e) checkRefs(e[k], `${at}.${k}`, scope, ctx);
  }
}

function checkLoop(step: Obj, path: string, ctx: Ctx): void {
  const loop = step.until !== undefined ? "until" : step.while !== undefined ? "while" : null;
  if (step.until !== undefined && step.while !== undefined) push(ctx, `${path}.while`, "a step has until: or while:, not both");
  if (loop && step.max === undefined) push(ctx, `${path}.${loop}`, `a ${loop}: loop needs max: (the most times the call runs)`);
  if (!loop && step.max !== undefined) push(ctx, `${path}.max`, "max: bounds an until: or while: loop, and this step has neither");
  if (loop && step.repeat !== undefined) push(ctx, `${path}.repeat`, `repeat: and ${loop}: cannot be combined (use max: to bound the loop)`);
  if (step.repeat !== undefined) checkScalar(step.repeat, `${path}.repeat`, ctx, wholeIn(1, 100_000));
  if (step.max !== undefined) checkScalar(step.max, `${path}.max`, ctx, wholeIn(1, 100_000));
}

type StepWhere = "setup" | "task" | "check";

function checkStep(step: Obj, path: string, where: StepWhere, scope: Scope, ctx: Ctx, cpus: number[]): void {
  const name = step.call;
  let def: CallDef<unknown> | undefined;
  if (typeof name === "string" && name.length > 0) {
    if (!hasCall(name)) push(ctx, `${path}.call`, `unknown call "${name}"${suggest(name, callNames())}`);
    else def = getCall(name);
  }
  if (def && where === "check" && !def.observe) push(ctx, `${path}.call`, `${def.name} changes state; a check: step may only observe (folio_state, vma_state, metric, …)`);
  if (def?.checkOnly && where !== "check") push(ctx, `${path}.call`, `${def.name} is only for check: steps, which run after the tasks end`);
  if (def) checkArgs(def, isObj(step.args) ? step.args : {}, path, scope, ctx);
  else if (isObj(step.args)) checkRefs(step.args, `${path}.args`, scope, ctx);
  checkLoop(step, path, ctx);
  for (const k of ["expect", "until", "while"]) if (step[k] !== undefined) checkExpect(def, step[k], `${path}.${k}`, scope, ctx);
  if (where !== "setup") {
    if (step.cpu !== undefined) push(ctx, `${path}.cpu`, `cpu: is for set-up steps; a ${where === "task" ? "task's steps run on the task's CPU" : "check: step runs after the tasks"}`);
    if (step.process !== undefined) push(ctx, `${path}.process`, `process: is for set-up steps; a ${where === "task" ? "task's steps run in the task's process" : "check: step names its process in its arguments"}`);
  } else if (typeof step.cpu === "number" && cpus.some((n) => step.cpu as number >= n)) {
    push(ctx, `${path}.cpu`, `CPU ${step.cpu} does not exist: the machine has ${Math.min(...cpus)} CPUs`);
  }
  if (where === "check" && (step.repeat !== undefined || step.until !== undefined || step.while !== undefined)) push(ctx, path, "a check: step runs once");
  if (typeof step.as === "string") scope.bindings.set(step.as, { returns: def?.returns });
}

function checkSteps(steps: unknown, base: string, where: StepWhere, scope: Scope, ctx: Ctx, cpus: number[]): void {
  items(steps).forEach((step, j) => {
    if (isObj(step)) checkStep(step, `${base}.${j}`, where, scope, ctx, cpus);
  });
}

// ------------------------------------------------------------------------ the document

function machineCpus(raw: unknown, ctx: Ctx): number[] {
  if (!isObj(raw)) return [];
  if (raw.preemption !== undefined) checkScalar(raw.preemption, "machine.preemption", ctx, oneOf(["none", "voluntary", "full"]));
  const cpus = checkScalar(raw.cpus, "machine.cpus", ctx, wholeIn(1, 64));
  return (cpus as unknown[]).filter((n): n is number => typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 64);
}

function checkTask(t: Obj, i: number, names: Set<string>, setup: Scope, ctx: Ctx, cpus: number[], foreign: Map<string, Binding> = new Map()): Scope {
  if (typeof t.name === "string") {
    if (names.has(t.name)) push(ctx, `tasks.${i}.name`, `task name "${t.name}" is used twice`);
    names.add(t.name);
  }
  if (typeof t.cpu === "number") {
    const bad = cpus.filter((n) => (t.cpu as number) >= n);
    if (bad.length > 0) push(ctx, `tasks.${i}.cpu`, `CPU ${t.cpu} does not exist: the machine has ${Math.min(...bad)} CPUs`);
  }
  const policies = t.policy === undefined ? ["normal"] : checkScalar(t.policy, `tasks.${i}.policy`, ctx, oneOf(["normal", "fifo"]));
  if (t.priority !== undefined && policies.every((p) => p === "normal")) push(ctx, `tasks.${i}.priority`, "a priority needs policy: fifo");
  const scope = cloneScope(setup);
  for (const [name, b] of foreign) scope.bindings.set(name, b);
  checkSteps(t.script, `tasks.${i}.script`, "task", scope, ctx, cpus);
  for (const name of foreign.keys()) if (scope.bindings.get(name) === foreign.get(name)) scope.bindings.delete(name);
  return scope;
}

/** What each task may read of the others' bindings (planCrossTask), and the waits that could never end. */
function foreignBindings(doc: Obj, ctx: Ctx): Map<string, Binding>[] {
  const tasks = items(doc.tasks).map((t) => (isObj(t) ? t : {}));
  const setupNames = new Set(items(doc.setup).flatMap((st) => (isObj(st) && typeof st.as === "string" ? [st.as] : [])));
  const plan = planCrossTask(tasks, setupNames);
  const returnsOf = (name: string, ti: number): z.ZodType | undefined => {
    const step = items(tasks[ti].script).find((st) => isObj(st) && st.as === name);
    return isObj(step) && typeof step.call === "string" && hasCall(step.call) ? getCall(step.call).returns : undefined;
  };
  const cycle = waitCycle(tasks, plan);
  if (cycle) {
    const [t, st] = cycle[0];
    const who = (ti: number) => (typeof tasks[ti].name === "string" ? `task ${tasks[ti].name as string}` : `task ${ti}`);
    const names = plan.reads.get(t)?.get(st) ?? [];
    push(ctx, `tasks.${t}.script.${st}`, `waits for ${names.map((n) => `"$${n}"`).join(", ")}, and the tasks wait for each other's bindings in a cycle (${cycle.map(([a, b]) => `${who(a)} step ${b}`).join(" → ")}): none could ever go on`);
  }
  return tasks.map((_, ti) => {
    const out = new Map<string, Binding>();
    for (const [name, binders] of plan.binders) {
      const others = binders.filter((b) => b !== ti);
      if (binders.includes(ti) || others.length === 0) continue;
      out.set(name, others.length > 1 ? { returns: undefined, ambiguous: true } : { returns: returnsOf(name, others[0]) });
    }
    return out;
  });
}

/** The bindings a `check:` step sees: set-up and every task's (a name bound by two tasks is ambiguous). */
function checkScope(setup: Scope, tasks: Scope[]): Scope {
  const out = cloneScope(setup);
  const seen = new Map<string, number>();
  for (const t of tasks) {
    for (const [name, b] of t.bindings) {
      if (setup.bindings.get(name) === b) continue;
      seen.set(name, (seen.get(name) ?? 0) + 1);
      out.bindings.set(name, seen.get(name)! > 1 ? { returns: undefined, ambiguous: true } : b);
    }
    for (const [kind, set] of t.names) out.names.set(kind, new Set([...(out.names.get(kind) ?? []), ...set]));
  }
  return out;
}

export interface ValidateOptions {
  /** Parameter values to check instead of each parameter's default and listed values (`--set`). */
  params?: Readonly<Record<string, ParamValue>>;
}

/**
 * Every semantic problem of a scenario document. Accepts a schema-valid scenario or any
 * raw document (it skips what is not there, which the schema reports).
 */
export function validateScenario(doc: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  const ctx: Ctx = { params: new Map(), issues: [] };
  if (!isObj(doc)) return [];
  readParams(doc.params, ctx, options.params);
  const cpus = machineCpus(doc.machine, ctx);
  const setup: Scope = { bindings: new Map(), names: new Map() };
  checkSteps(doc.setup, "setup", "setup", setup, ctx, cpus);
  const names = new Set<string>();
  const foreign = foreignBindings(doc, ctx);
  const taskScopes = items(doc.tasks).map((t, i) => (isObj(t) ? checkTask(t, i, names, setup, ctx, cpus, foreign[i]) : cloneScope(setup)));
  checkSteps(doc.check, "check", "check", checkScope(setup, taskScopes), ctx, cpus);
  checkDevicePages(doc, ctx);
  return ctx.issues;
}

/**
 * The device memory of every dmirror_create step together, each at its largest: pages
 * (default 16) times the most times the step runs (`repeat:` or a loop's `max:`), every
 * `${param}` at its largest value. A device allocates its pages when it is created.
 */
function checkDevicePages(doc: Obj, ctx: Ctx): void {
  const largest = (v: unknown, fallback: number): number => {
    const r = parseRef(v);
    const values = r?.kind === "param" ? (ctx.params.get(r.name)?.values ?? []) : [v ?? fallback];
    return Math.max(0, ...values.filter((x): x is number => typeof x === "number" && Number.isFinite(x)));
  };
  const lists: [string, unknown][] = [["setup", doc.setup], ...items(doc.tasks).map((t, i): [string, unknown] => [`tasks.${i}.script`, isObj(t) ? t.script : undefined])];
  let total = 0;
  for (const [base, steps] of lists) {
    items(steps).forEach((step, j) => {
      if (!isObj(step) || step.call !== "dmirror_create" || total > MAX_DEVICE_PAGES) return;
      const pages = largest(isObj(step.args) ? step.args.pages : undefined, 16);
      const times = largest(step.repeat ?? step.max, 1);
      total += pages * times;
      if (total > MAX_DEVICE_PAGES) push(ctx, `${base}.${j}`, `at most ${MAX_DEVICE_PAGES} pages of dmirror device memory in all (a device allocates its pages when created), found ${total} by this step (${pages} pages${times > 1 ? ` × ${times} runs` : ""})`);
    });
  }
}
