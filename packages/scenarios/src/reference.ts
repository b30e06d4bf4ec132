/**
 * The scenario language's reference, generated from the zod schemas so that it cannot
 * drift: every call with its arguments (type, default, required) and result, the step
 * and expectation fields, the observables' fields, the metric names and the errno
 * names. `foliosim list --calls --json` prints `callReference()`; the app README's
 * schema reference is `renderSchemaReference()`.
 */

import { z } from "zod";
import { allCalls } from "./calls.js";
import { COUNTER_NAMES } from "./calls/observe.js";
import { ERRNO } from "./errno.js";
import { Expectation } from "./schema.js";
import { fieldNames, typeName } from "./zod-shape.js";

export interface ArgReference {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
}

export interface CallReference {
  name: string;
  summary: string;
  args: ArgReference[];
  /** The result's type; its fields are what `expect.field` and `$name.field` may name. */
  returns: string;
  fields: string[];
  /** May appear in `check:` steps. */
  observes: boolean;
  /** Only in `check:` steps. */
  checkOnly: boolean;
}

/** `a whole number ≥ 1`, `one of MIGRATE_ASYNC, …`, `a list of (one of FOLL_WRITE, …)`. */
export function describeType(s: z.ZodType): string {
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodReadonly) return describeType(s.def.innerType as z.ZodType);
  if (s instanceof z.ZodNullable) return `${describeType(s.def.innerType as z.ZodType)} or null`;
  if (s instanceof z.ZodNumber) {
    const lo = s.minValue !== null && Number.isFinite(s.minValue) ? s.minValue : undefined;
    const hi = s.maxValue !== null && Number.isFinite(s.maxValue) ? s.maxValue : undefined;
    const base = s.isInt ? "a whole number" : "a number";
    if (lo !== undefined && hi !== undefined && Math.abs(hi) < 1e15) return `${base} ${lo}–${hi}`;
    if (lo !== undefined && lo > -1e15) return `${base} ≥ ${lo}`;
    return base;
  }
  if (s instanceof z.ZodString) return "a string";
  if (s instanceof z.ZodBoolean) return "true or false";
  if (s instanceof z.ZodEnum) return `one of ${(s.options as string[]).join(", ")}`;
  if (s instanceof z.ZodLiteral) return JSON.stringify(s.value);
  if (s instanceof z.ZodArray) return `a list of (${describeType(s.element as z.ZodType)})`;
  if (s instanceof z.ZodUnion) return (s.options as z.ZodType[]).map(describeType).join(" or ");
  if (s instanceof z.ZodObject) return "a mapping";
  return "a value";
}

function defaultOf(s: z.ZodType): unknown {
  if (s instanceof z.ZodDefault) {
    const d = s.def.defaultValue as unknown;
    return typeof d === "function" ? (d as () => unknown)() : d;
  }
  return undefined;
}

/** Every call, sorted by name, as `list --calls --json` prints it. */
export function callReference(): CallReference[] {
  return allCalls().map((def) => {
    const shape = ((def.args as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {}) as Record<string, z.ZodType>;
    const args = Object.entries(shape).map(([name, s]) => {
      const d = defaultOf(s);
      const required = !(s instanceof z.ZodOptional) && !(s instanceof z.ZodDefault);
      return { name, type: describeType(s), required, ...(d !== undefined ? { default: d } : {}) };
    });
    return {
      name: def.name,
      summary: def.summary,
      args,
      returns: def.returns ? typeName(def.returns) : "a value",
      fields: def.returns ? fieldNames(def.returns) : [],
      observes: def.observe !== undefined,
      checkOnly: def.checkOnly === true,
    };
  });
}

const STEP_FIELDS: [string, string][] = [
  ["call", "the call's name (below)"],
  ["args", "its arguments: literals, `${param}`, `$name`, `$name.field`, `$name+N` (N pages on)"],
  ["as", "bind the result to `$name` for later steps, for `check:`, and for other tasks (a step reading another task's `$name` waits until it is bound)"],
  ["expect", "an expectation or a list of them, checked against every result"],
  ["repeat", "run the call this many times (a whole number or a `${param}`), checking `expect` each time"],
  ["until / while", "run the call again until (while) the result meets these expectations, at most `max` times"],
  ["max", "the bound of an `until`/`while` loop"],
  ["cpu / process", "set-up steps only: the CPU and process the step runs on"],
  ["note", "why the step is there (shown in traces)"],
];

/** The schema reference as Markdown (the app README's section between its markers). */
export function renderSchemaReference(): string {
  const out: string[] = [];
  out.push("### Steps", "", "| field | meaning |", "|---|---|");
  for (const [f, m] of STEP_FIELDS) out.push(`| \`${f}\` | ${m} |`);
  out.push("", "### Expectations", "", `Fields: ${Object.keys(Expectation.shape).map((k) => `\`${k}\``).join(", ")}. ` +
    "`field` picks a field of the result; `equals`/`notEquals`/`oneOf` compare values (references allowed); `atLeast`/`atMost` compare numbers; `errno` wants the negative errno.", "");
  out.push(`Errno names: ${Object.keys(ERRNO).map((k) => `\`${k}\``).join(", ")}.`, "");
  out.push("### Calls", "");
  for (const c of callReference()) {
    const where = c.checkOnly ? " (only in `check:`)" : c.observes ? " (observes; also in `check:`)" : "";
    out.push(`#### \`${c.name}\`${where}`, "", c.summary, "");
    if (c.args.length > 0) {
      out.push("| argument | type | default |", "|---|---|---|");
      for (const a of c.args) out.push(`| \`${a.name}\` | ${a.type.replace(/\|/g, "\\|")} | ${a.required ? "required" : a.default === undefined ? "optional" : `\`${JSON.stringify(a.default)}\``} |`);
      out.push("");
    }
    out.push(`Returns ${c.returns.replace(/fields (.*)$/, (_, f: string) => `fields ${f.split(", ").map((x) => `\`${x}\``).join(", ")}`)}.`, "");
  }
  out.push("### Metrics", "", `\`metric\` names: ${COUNTER_NAMES.map((n) => `\`${n}\``).join(", ")}.`, "");
  return out.join("\n");
}
