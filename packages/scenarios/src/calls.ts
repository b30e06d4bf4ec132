/**
 * The call vocabulary of scenario scripts: each call name maps to a modelled entry
 * point (a system call, a kernel API, a driver operation, a reference holder, a
 * sleep). Packages of the memory model register their calls here (see calls/*.ts);
 * scenario files can only name registered calls, so they are data and never code.
 */

import type { Machine, Task, TaskGen } from "@foliosim/sim";
import { z } from "zod";
import { suggest } from "./kernels.js";

/** Per-run world state that calls share (memory, address spaces, files, devices). */
export class World {
  private readonly slots = new Map<string, unknown>();
  constructor(
    readonly m: Machine,
    readonly params: Readonly<Record<string, string | number | boolean>>,
  ) {}
  /** A per-run singleton, created on first use. */
  slot<T>(key: string, create: () => T): T {
    if (!this.slots.has(key)) this.slots.set(key, create());
    return this.slots.get(key) as T;
  }
  peek<T>(key: string): T | undefined {
    return this.slots.get(key) as T | undefined;
  }
}

export interface CallContext {
  m: Machine;
  world: World;
  task: Task;
  /** The process (address space) the calling task runs in. */
  process: string;
}

/** Kinds of named objects a call creates and later calls refer to by name. */
export type NameKind = "file" | "device" | "pins";

/** What a call reads without changing anything: enough for a `check:` step after the tasks end. */
export interface ObserveContext {
  m: Machine;
  world: World;
  process: string;
}

/** A problem with arguments that are each valid: e.g. a field the call ignores in this combination. */
export interface ArgLint {
  arg: string;
  message: string;
}

export interface CallDef<A = Record<string, unknown>> {
  name: string;
  /** One line for `list` and validation messages. */
  summary: string;
  args: z.ZodType<A>;
  /** The shape of the result: `$name.field`, `expect.field` and the types of bindings are checked against it. */
  returns?: z.ZodType;
  /** The argument naming an object this call creates (memfd_create's `name` is a file). */
  defines?: { kind: NameKind; arg: string };
  /** Arguments that name an object an earlier step created. */
  uses?: Readonly<Record<string, NameKind>>;
  /**
   * Checks of literal arguments taken together (fields ignored for this mapping kind, …);
   * `given` names every argument the step writes, literal or a reference.
   */
  lint?(args: Readonly<Record<string, unknown>>, given: ReadonlySet<string>): ArgLint[];
  /** Only in `check:` steps (what it reads is not shared state the explorer orders). */
  checkOnly?: boolean;
  /** A read-only call: `run` is one observation op, and `check:` steps call this after the tasks end. */
  observe?(ctx: ObserveContext, args: A): unknown;
  run(ctx: CallContext, args: A): TaskGen<unknown>;
}

/**
 * The most pages one call may map, allocate, pin or migrate. A call sizes arrays and
 * objects by its page count, so a count beyond this would exhaust the heap before the
 * model could refuse it.
 */
export const MAX_CALL_PAGES = 65_536;

/**
 * The most device pages all of a scenario's dmirror devices may have together: a device
 * allocates its pages when it is created, and `repeat:` multiplies the devices.
 */
export const MAX_DEVICE_PAGES = 4 * MAX_CALL_PAGES;

/**
 * A page-count argument: 1 to MAX_CALL_PAGES. Validation checks a number and every value
 * of a `${param}`, and refuses an address (`$buf`, an AddressResult) outright; another
 * earlier result (`$excl.cpages`) is checked when the step runs (a scenario error).
 */
export const PageCount = z.number().int().min(1).max(MAX_CALL_PAGES);

/** A result that is a user address (mmap's, mremap's, a vma's start): never a page count. */
export const AddressResult = z.number().int();

const REGISTRY = new Map<string, CallDef<unknown>>();

export function defineCall<A>(def: CallDef<A>): CallDef<A> {
  if (REGISTRY.has(def.name)) throw new Error(`call "${def.name}" is defined twice`);
  REGISTRY.set(def.name, def as CallDef<unknown>);
  return def;
}

export class UnknownCallError extends Error {
  override readonly name = "UnknownCallError";
}

export function getCall(name: string): CallDef<unknown> {
  const def = REGISTRY.get(name);
  if (!def) throw new UnknownCallError(`unknown call "${name}"${suggest(name, [...REGISTRY.keys()])}`);
  return def;
}

export function hasCall(name: string): boolean {
  return REGISTRY.has(name);
}

export function callNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

/** The argument names a call accepts (for validation of files before they run). */
export function callArgNames(name: string): string[] | undefined {
  const schema = getCall(name).args as unknown as { shape?: Record<string, unknown> };
  return schema.shape ? Object.keys(schema.shape) : undefined;
}

/** Every registered call, sorted by name (for `list --calls` and the schema reference). */
export function allCalls(): CallDef<unknown>[] {
  return callNames().map((n) => REGISTRY.get(n)!);
}
