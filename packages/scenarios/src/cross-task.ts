/**
 * Cross-task bindings (a scenario-language device; no kernel counterpart): a task's
 * step may read a value another task's step bound with `as:` (`$name`, `$name.field`,
 * `$name+N`). The reading step waits until the binding task has bound it — a step of
 * the explored schedule whose footprint reads the binding, ordered by the explorer
 * against the binding step's publication (which writes it) — so the value is never
 * read before it exists. Only names some other task reads are published: a scenario
 * without cross-task reads runs exactly as before.
 *
 * Validation rejects a name bound by more than one other task (ambiguous) and a cycle
 * of waits (task A waits for a binding B makes only after B itself waits for one A
 * makes later), which could never finish.
 */

import { Block, op, Shared, type Op } from "@foliosim/sim";
import type { World } from "./calls.js";
import { parseRef } from "./refs.js";

/** Every binding name a value (an argument, an expectation, a loop bound) refers to. */
export function refNames(v: unknown, out = new Set<string>()): Set<string> {
  const r = parseRef(v);
  if (r?.kind === "binding") out.add(r.name);
  else if (Array.isArray(v)) for (const x of v) refNames(x, out);
  else if (v !== null && typeof v === "object") for (const x of Object.values(v)) refNames(x, out);
  return out;
}

interface StepLike {
  as?: unknown;
  [k: string]: unknown;
}

/** The names a step reads: in its args, expect, until, while, repeat and max. */
export function stepRefNames(step: StepLike): Set<string> {
  const out = new Set<string>();
  for (const k of ["args", "expect", "until", "while", "repeat", "max"]) refNames(step[k], out);
  return out;
}

export interface CrossTaskPlan {
  /** Per task: step index → the foreign names that step reads (first read only). */
  reads: Map<number, Map<number, string[]>>;
  /** Names some task reads from another: published when bound. */
  published: Set<string>;
  /** Name → the tasks (indices) that bind it. */
  binders: Map<string, number[]>;
}

/**
 * Which steps read which other tasks' bindings. `setupNames` are bound by the set-up
 * (every task sees those already). A name the task binds itself is its own, never
 * foreign; a name only other tasks bind is foreign at its first read.
 */
export function planCrossTask(tasks: readonly { script?: unknown }[], setupNames: ReadonlySet<string>): CrossTaskPlan {
  const scripts = tasks.map((t) => (Array.isArray(t.script) ? (t.script as StepLike[]) : []));
  const binders = new Map<string, number[]>();
  scripts.forEach((script, ti) => {
    for (const s of script) if (s && typeof s.as === "string") binders.set(s.as, [...new Set([...(binders.get(s.as) ?? []), ti])]);
  });
  const reads = new Map<number, Map<number, string[]>>();
  const published = new Set<string>();
  scripts.forEach((script, ti) => {
    const own = new Set(script.filter((s) => s && typeof s.as === "string").map((s) => s.as as string));
    const seen = new Set<string>();
    const perStep = new Map<number, string[]>();
    script.forEach((s, si) => {
      if (!s || typeof s !== "object") return;
      const foreign = [...stepRefNames(s)].filter((n) => !own.has(n) && !setupNames.has(n) && !seen.has(n) && (binders.get(n) ?? []).some((b) => b !== ti));
      for (const n of foreign) {
        seen.add(n);
        published.add(n);
      }
      if (foreign.length > 0) perStep.set(si, foreign);
    });
    if (perStep.size > 0) reads.set(ti, perStep);
  });
  return { reads, published, binders };
}

/**
 * A cycle of waits, if any: task t's step s waits for the step binding a name in task
 * u, which (program order) follows a step of u waiting for a binding t makes at or
 * after s. Returns the reading steps on the cycle as [task, step] pairs.
 */
export function waitCycle(tasks: readonly { script?: unknown }[], plan: CrossTaskPlan): [number, number][] | null {
  const scripts = tasks.map((t) => (Array.isArray(t.script) ? (t.script as StepLike[]) : []));
  const bindStep = (name: string, ti: number) => scripts[ti].findIndex((s) => s && s.as === name);
  // Node (t, s) depends on (t, s - 1) and on (u, bindStep) for each foreign name it reads.
  const deps = (t: number, s: number): [number, number][] => {
    const out: [number, number][] = s > 0 ? [[t, s - 1]] : [];
    for (const n of plan.reads.get(t)?.get(s) ?? []) for (const u of plan.binders.get(n) ?? []) if (u !== t) out.push([u, bindStep(n, u)]);
    return out;
  };
  const state = new Map<string, 1 | 2>();
  const stack: [number, number][] = [];
  const visit = (t: number, s: number): [number, number][] | null => {
    const key = `${t}:${s}`;
    if (state.get(key) === 2) return null;
    if (state.get(key) === 1) return stack.slice(stack.findIndex(([a, b]) => a === t && b === s)).filter(([a, b]) => plan.reads.get(a)?.has(b));
    state.set(key, 1);
    stack.push([t, s]);
    for (const [u, v] of deps(t, s)) {
      const c = visit(u, v);
      if (c) return c;
    }
    stack.pop();
    state.set(key, 2);
    return null;
  };
  for (const [t, perStep] of plan.reads) for (const s of perStep.keys()) {
    const c = visit(t, s);
    if (c) return c;
  }
  return null;
}

interface BoardEntry {
  bound: boolean;
  value: unknown;
  obj: Shared;
}

function board(world: World): Map<string, BoardEntry> {
  return world.slot("cross-task-bindings", () => new Map<string, BoardEntry>());
}

function entry(world: World, name: string): BoardEntry {
  const b = board(world);
  let e = b.get(name);
  if (!e) b.set(name, (e = { bound: false, value: undefined, obj: new Shared(`binding $${name}`) }));
  return e;
}

/** Publish a task's binding for the tasks that read it. */
export function publishBinding(world: World, name: string, value: unknown): Op<void> {
  const e = entry(world, name);
  return op({
    kind: "bind",
    label: `bind $${name}`,
    writes: [e.obj],
    cost: 0,
    run: (m) => {
      e.bound = true;
      e.value = value;
      m.markWrite(e.obj);
    },
  });
}

/** Wait until another task has bound `name`; its value. */
export function awaitBinding(world: World, name: string, binders: string): Op<unknown> {
  const e = entry(world, name);
  return op({
    kind: "await_binding",
    label: `await $${name}`,
    reads: [e.obj],
    cost: 0,
    block: Block.Sleep,
    waitFor: `$${name} (bound by ${binders})`,
    enabled: () => e.bound,
    run: () => e.value,
  });
}
