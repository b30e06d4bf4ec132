/**
 * Kernel variants: the public API every variation point of the model goes through.
 *
 * A variation point is a place where the kernel, a release or a proposal differ
 * (the drain rule of `collect_longterm_unpinnable_folios`, the migration retry policy,
 * the per-CPU batch policy, …). The layer that models the code owns the point: it
 * declares the hook's type (by augmenting `VariationPoints`), registers the point with
 * `defineVariationPoint` (its built-in variants, its default) and resolves
 * `m.kernel[point]` with `resolveVariant` where the kernel would branch.
 *
 * A variant — built-in or a user's module — is `defineVariant({ id, point, source,
 * hook })`. Hooks are plain functions or generators yielding the same machine
 * operations the built-in code yields (`op(...)`, `lruAddDrainAll()`, `folioLock()`):
 * every access to shared state goes through an op with a footprint and a cost, so the
 * explorer sees a variant exactly as it sees the kernel's own code. A variant cannot
 * reach around the machine: its code between two ops is task-local.
 *
 * `m.kernel[point]` may be a built-in id, the id of a variant registered with
 * `registerVariant` (a user module loaded by the app), a `Variant` object, or — for
 * on/off points — a boolean. Anything else is a `SimConfigError` naming the valid
 * values. An unset option runs the point's default (the newest release's choice).
 *
 * A variant that came from a file (`Variant.file`) runs guarded: a hook that throws or
 * yields something that is not an op ends the run with a `VariantError` naming the
 * file, the variant and the hook, never a stack trace into the model.
 */

import { SimConfigError, ModelError } from "./errors.js";
import type { Machine } from "./machine.js";
import { Op } from "./op.js";

/**
 * Hook types by point name. Each layer adds its points (declaration merging):
 * `declare module "@foliosim/sim" { interface VariationPoints { collect: CollectHook } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface VariationPoints {}

export type PointName = keyof VariationPoints & string;

/** What a variant module default-exports. */
export interface VariantSpec<P extends string = string, H = unknown> {
  /** The option value that names it (`--kernel linux-7.0+collect=<id>`): lowercase letters, digits, `.`, `-`, `_`. */
  id: string;
  /** The kernel option (variation point) it fills, e.g. `collect`, `migrate`. */
  point: P;
  /** Where it comes from: the patch or thread, its author, its date. */
  source: string;
  /** The point's hook (see the owning package's hook interface). */
  hook: H;
}

const VARIANT = Symbol.for("foliosim.variant");

export interface Variant<H = unknown> extends Readonly<VariantSpec<string, H>> {
  readonly [VARIANT]: true;
  /** The module it was loaded from (user variants only; built-ins have none). */
  readonly file?: string;
}

/** Define a variant. Typed by point when the owning package's types are in scope. */
export function defineVariant<P extends PointName>(spec: VariantSpec<P, VariationPoints[P]>): Variant<VariationPoints[P]>;
export function defineVariant<H>(spec: VariantSpec<string, H>): Variant<H>;
export function defineVariant(spec: VariantSpec): Variant {
  const problem = specProblem(spec);
  if (problem) throw new VariantError(undefined, problem);
  return Object.freeze({ id: spec.id, point: spec.point, source: spec.source, hook: spec.hook, [VARIANT]: true as const });
}

/** The same variant, remembered as loaded from `file` (so its hooks run guarded). */
export function variantFromFile<H>(v: Variant<H>, file: string): Variant<H> {
  return Object.freeze({ ...v, file, [VARIANT]: true as const });
}

export function isVariant(x: unknown): x is Variant {
  return typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[VARIANT] === true;
}

const ID = /^[a-z0-9][a-z0-9._-]*$/;

function specProblem(spec: unknown): string | undefined {
  if (typeof spec !== "object" || spec === null) return `expected an object { id, point, source, hook }, found ${describe(spec)}`;
  const s = spec as Record<string, unknown>;
  if (typeof s.id !== "string" || !ID.test(s.id)) return `"id": expected lowercase letters, digits, ".", "-" or "_" (e.g. "my-drain-rule"), found ${describe(s.id)}`;
  if (typeof s.point !== "string" || s.point === "") return `"point": expected a kernel option name, found ${describe(s.point)}`;
  if (typeof s.source !== "string" || s.source.trim() === "") return `"source": expected the patch or thread it models (a non-empty string), found ${describe(s.source)}`;
  if (!("hook" in s)) return `"hook": missing`;
  return undefined;
}

function describe(x: unknown): string {
  if (x === undefined) return "nothing";
  if (x === null) return "null";
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x === "function") return "a function";
  if (Array.isArray(x)) return "a list";
  return typeof x === "object" ? "an object" : String(x);
}

/** A variant misbehaved or is malformed. Names the file and variant when known. */
export class VariantError extends Error {
  override readonly name = "VariantError";
  constructor(
    readonly file: string | undefined,
    readonly detail: string,
    readonly variantId?: string,
  ) {
    super(`${file ? `variant module ${file}` : "variant"}${variantId ? ` ("${variantId}")` : ""}: ${detail}`);
  }
}

// ------------------------------------------------------------------ points

/** How a hook property must look: a function, an optional function, a boolean, or one of some strings. */
export type HookField = "function" | "function?" | "boolean" | "boolean?" | readonly string[];

export interface VariationPointSpec<H> {
  /** The kernel option name (`collect`, `migrate`, …): a contract. */
  name: string;
  /** The package that owns it. */
  owner: string;
  /** The kernel code it varies, in kernel names. */
  models: string;
  /** The shape every hook must have (checked when a variant is registered or first used). */
  shape: Readonly<Record<string, HookField>>;
  /** The built-in variants, in display order. */
  builtins: readonly Variant<H>[];
  /** The built-in id an unset option runs: the newest release's choice. */
  defaultId: string;
}

export interface VariationPoint<H> extends Readonly<VariationPointSpec<H>> {
  /** Per-machine cache key. */
  readonly key: symbol;
}

const POINTS = new Map<string, VariationPoint<unknown>>();
/** User variants by point, then id. */
const REGISTERED = new Map<string, Map<string, Variant>>();

/** Register a variation point (once per package, at import). */
export function defineVariationPoint<P extends PointName>(spec: VariationPointSpec<VariationPoints[P]> & { name: P }): VariationPoint<VariationPoints[P]> {
  const ids = spec.builtins.map((b) => b.id);
  if (!ids.includes(spec.defaultId)) throw new Error(`variation point ${spec.name}: default "${spec.defaultId}" is not a built-in (${ids.join(", ")})`);
  for (const b of spec.builtins) {
    if (b.point !== spec.name) throw new Error(`variation point ${spec.name}: built-in "${b.id}" is for point "${b.point}"`);
    const problem = hookProblem(b.hook, spec.shape);
    if (problem) throw new Error(`variation point ${spec.name}: built-in "${b.id}": ${problem}`);
  }
  const point: VariationPoint<VariationPoints[P]> = Object.freeze({ ...spec, key: Symbol(`variant:${spec.name}`) });
  POINTS.set(spec.name, point as VariationPoint<unknown>);
  return point;
}

/** Every registered variation point, in registration (layer) order. */
export function variationPoints(): VariationPoint<unknown>[] {
  return [...POINTS.values()];
}

export function variationPoint(name: string): VariationPoint<unknown> | undefined {
  return POINTS.get(name);
}

/** The option values a point accepts: its built-ins, then registered user variants. */
export function pointValues(name: string): string[] {
  const p = POINTS.get(name);
  return [...(p?.builtins.map((b) => b.id) ?? []), ...(REGISTERED.get(name)?.keys() ?? [])];
}

/** The defaults of every registered point: what a machine built with no kernel options runs. */
export function kernelDefaults(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of POINTS.values()) out[p.name] = p.defaultId;
  return out;
}

/**
 * Check a variant against its point (known point, hook shape, id free) without
 * registering it. Returns the problem, or undefined.
 */
export function variantProblem(v: Variant): string | undefined {
  const p = POINTS.get(v.point);
  if (!p) return `"point": unknown variation point ${JSON.stringify(v.point)}; valid points: ${[...POINTS.keys()].join(", ")}`;
  if (p.builtins.some((b) => b.id === v.id)) return `"id": "${v.id}" is a built-in ${v.point} variant; choose another id`;
  const problem = hookProblem(v.hook, p.shape);
  return problem ? `"hook": ${problem} (point ${p.name}, ${p.models})` : undefined;
}

/** Make a user variant an option value of its point (`--kernel linux-7.0+collect=<id>`). */
export function registerVariant(v: Variant): void {
  const problem = variantProblem(v);
  if (problem) throw new VariantError(v.file, problem, v.id);
  let byId = REGISTERED.get(v.point);
  if (!byId) REGISTERED.set(v.point, (byId = new Map()));
  const old = byId.get(v.id);
  if (old && old.file !== v.file) throw new VariantError(v.file, `"id": "${v.id}" is already defined by ${old.file ?? "another variant"}`, v.id);
  byId.set(v.id, v);
}

/** The registered user variant `id` of `point`, if any. */
export function registeredVariant(point: string, id: string): Variant | undefined {
  return REGISTERED.get(point)?.get(id);
}

/** Forget every registered user variant (tests). */
export function clearRegisteredVariants(): void {
  REGISTERED.clear();
}

function hookProblem(hook: unknown, shape: Readonly<Record<string, HookField>>): string | undefined {
  const fields = Object.entries(shape);
  const expected = `an object { ${fields.map(([k, f]) => `${k}: ${typeof f === "string" ? f : f.map((s) => JSON.stringify(s)).join(" | ")}`).join("; ")} }`;
  if (typeof hook !== "object" || hook === null) return `expected ${expected}, found ${describe(hook)}`;
  const h = hook as Record<string, unknown>;
  for (const [k, f] of fields) {
    const v = h[k];
    const optional = typeof f === "string" && f.endsWith("?");
    if (v === undefined && optional) continue;
    const ok = typeof f === "string" ? typeof v === f.replace("?", "") : typeof v === "string" && f.includes(v);
    if (!ok) return `"${k}": expected ${typeof f === "string" ? f.replace("?", "") : f.map((s) => JSON.stringify(s)).join(" | ")}, found ${describe(v)}; a hook is ${expected}`;
  }
  const unknown = Object.keys(h).filter((k) => !(k in shape));
  if (unknown.length > 0) return `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")}; a hook is ${expected}`;
  return undefined;
}

// ------------------------------------------------------------------ resolution

/**
 * The variant a machine runs at `point` (cached per machine). Throws `SimConfigError`
 * naming the valid values for an unknown option value.
 */
export function resolveVariant<H>(m: Machine, point: VariationPoint<H>): Variant<H> {
  const cached = m.ext.get(point.key) as Variant<H> | undefined;
  if (cached) return cached;
  const v = lookup(point, m.kernel[point.name]);
  const resolved = v.file ? guarded(v) : v;
  m.ext.set(point.key, resolved);
  return resolved;
}

/** The hook a machine runs at `point`. */
export function resolveHook<H>(m: Machine, point: VariationPoint<H>): H {
  return resolveVariant(m, point).hook;
}

function lookup<H>(point: VariationPoint<H>, value: unknown): Variant<H> {
  if (value === undefined) return point.builtins.find((b) => b.id === point.defaultId)!;
  if (isVariant(value)) {
    if (value.point !== point.name) throw new SimConfigError(`kernel.${point.name}`, `a ${point.name} variant`, `variant "${value.id}" for point ${value.point}`);
    const problem = value.file === undefined && point.builtins.includes(value as Variant<H>) ? undefined : variantProblem(value);
    if (problem) throw new VariantError(value.file, problem, value.id);
    return value as Variant<H>;
  }
  const id = value === true ? "on" : value === false ? "off" : value;
  if (typeof id === "string") {
    const v = point.builtins.find((b) => b.id === id) ?? (registeredVariant(point.name, id) as Variant<H> | undefined);
    if (v) return v;
  }
  throw new SimConfigError(`kernel.${point.name}`, `one of ${pointValues(point.name).join(" | ")}`, value);
}

// ------------------------------------------------------------------ guard

/** A user variant whose hook functions report their failures as VariantError. */
function guarded<H>(v: Variant<H>): Variant<H> {
  const hook: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(v.hook as Record<string, unknown>)) hook[k] = typeof f === "function" ? guardFn(v, k, f as (...a: unknown[]) => unknown) : f;
  return Object.freeze({ ...v, hook: hook as H, [VARIANT]: true as const });
}

function guardFn(v: Variant, name: string, f: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown {
  return (...args: unknown[]) => {
    let r: unknown;
    try {
      r = f(...args);
    } catch (e) {
      throw hookFailure(v, name, e);
    }
    return isGenerator(r) ? guardGen(v, name, r) : r;
  };
}

function isGenerator(x: unknown): x is Generator<unknown, unknown, unknown> {
  return typeof x === "object" && x !== null && typeof (x as Generator).next === "function" && typeof (x as Generator)[Symbol.iterator] === "function";
}

function* guardGen(v: Variant, name: string, g: Generator<unknown, unknown, unknown>): Generator<Op<unknown>, unknown, unknown> {
  let sent: unknown = undefined;
  for (;;) {
    let r: IteratorResult<unknown, unknown>;
    try {
      r = g.next(sent);
    } catch (e) {
      throw hookFailure(v, name, e);
    }
    if (r.done) return r.value;
    if (!(r.value instanceof Op)) {
      throw new VariantError(v.file, `hook ${name}() yielded ${describe(r.value)}, not a machine operation: yield* an operation (yield* lruAddDrainAll(), yield* op({...}))`, v.id);
    }
    sent = yield r.value;
  }
}

function hookFailure(v: Variant, name: string, e: unknown): Error {
  // A model BUG/WARN reached through the variant's ops is a finding, not a broken module.
  if (e instanceof ModelError || e instanceof VariantError) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new VariantError(v.file, `hook ${name}() threw ${what}`, v.id);
}
