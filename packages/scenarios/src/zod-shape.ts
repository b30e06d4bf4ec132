/**
 * What validation needs to know about a zod schema without running anything: the
 * schema of a field of a result, a sample value of the right type (to type-check an
 * argument bound to an earlier result), a short name of the type for messages, and a
 * message for a zod issue that says what was expected and what was found.
 */

import { z } from "zod";

/** Optional, default, nullable and readonly wrappers removed. */
function inner(s: z.ZodType): z.ZodType {
  let t: z.ZodType = s;
  for (let i = 0; i < 8; i++) {
    if (t instanceof z.ZodOptional || t instanceof z.ZodDefault || t instanceof z.ZodReadonly) t = t.def.innerType as z.ZodType;
    else break;
  }
  return t;
}

/** Is `s` the schema `target`, with optional/default/readonly/nullable wrappers removed? */
export function isSchema(s: z.ZodType, target: z.ZodType): boolean {
  const t = inner(s);
  return t === target || (t instanceof z.ZodNullable && inner(t.def.innerType as z.ZodType) === target);
}

/** The schema of `field` of an object result, or undefined when it has no such field. */
export function fieldSchema(s: z.ZodType, field: string): z.ZodType | undefined {
  const t = inner(s);
  if (t instanceof z.ZodObject) return (t.shape as Record<string, z.ZodType>)[field];
  if (t instanceof z.ZodNullable) return fieldSchema(t.def.innerType as z.ZodType, field);
  if (t instanceof z.ZodArray && /^\d+$/.test(field)) return t.element as z.ZodType;
  if (t instanceof z.ZodUnion) {
    for (const o of t.options as z.ZodType[]) {
      const f = fieldSchema(o, field);
      if (f) return f;
    }
  }
  return undefined;
}

/** The field names of an object result (for suggestions). */
export function fieldNames(s: z.ZodType): string[] {
  const t = inner(s);
  if (t instanceof z.ZodObject) return Object.keys(t.shape as object);
  if (t instanceof z.ZodNullable) return fieldNames(t.def.innerType as z.ZodType);
  return [];
}

export function isObjectSchema(s: z.ZodType): boolean {
  const t = inner(s);
  return t instanceof z.ZodObject || (t instanceof z.ZodNullable && isObjectSchema(t.def.innerType as z.ZodType));
}

/** Sentinel: the type is not known statically (validation skips the check). */
export const UNKNOWN = Symbol("unknown type");

/** A value of the schema's type, for type checks (ranges are not its concern). */
export function sampleOf(s: z.ZodType): unknown {
  const t = inner(s);
  if (t instanceof z.ZodNumber) return 1;
  if (t instanceof z.ZodString) return "x";
  if (t instanceof z.ZodBoolean) return true;
  if (t instanceof z.ZodNull) return null;
  if (t instanceof z.ZodLiteral) return t.value;
  if (t instanceof z.ZodEnum) return (t.options as unknown[])[0];
  if (t instanceof z.ZodArray) return [];
  if (t instanceof z.ZodNullable) return sampleOf(t.def.innerType as z.ZodType);
  if (t instanceof z.ZodObject) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t.shape as Record<string, z.ZodType>)) out[k] = sampleOf(v);
    return out;
  }
  return UNKNOWN;
}

/** `a number`, `a string`, `an object with ret, pfns`: the type of a result, for messages. */
export function typeName(s: z.ZodType): string {
  const t = inner(s);
  if (t instanceof z.ZodNumber) return "a number";
  if (t instanceof z.ZodString || t instanceof z.ZodEnum) return "a string";
  if (t instanceof z.ZodBoolean) return "true or false";
  if (t instanceof z.ZodArray) return "a list";
  if (t instanceof z.ZodObject) return `an object with fields ${Object.keys(t.shape as object).join(", ")}`;
  if (t instanceof z.ZodNullable) return `${typeName(t.def.innerType as z.ZodType)} or null`;
  return "a value";
}

/** A short description of a found value: `"two" (a string)`, `nothing`, `a list of 2`. */
export function describeFound(v: unknown): string {
  if (v === undefined) return "nothing (the field is missing)";
  if (v === null) return "null";
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `${JSON.stringify(v.length > 40 ? v.slice(0, 37) + "..." : v)} (a string)`;
  return `${String(v)} (a ${typeof v})`;
}

interface IssueLike {
  code: string;
  message: string;
  expected?: unknown;
  values?: unknown[];
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  inclusive?: boolean;
  format?: string;
}

/** `expected …, found …` for one zod issue about `found`. Never "Invalid input". */
export function zodIssueMessage(issue: IssueLike, found: unknown): string {
  const f = describeFound(found);
  switch (issue.code) {
    case "invalid_type":
      return `expected ${String(issue.expected)}, found ${f}`;
    case "invalid_value":
      return `expected one of ${(issue.values ?? []).map(String).join(", ")}, found ${f}`;
    case "too_small":
      if (issue.origin === "array") return `expected at least ${String(issue.minimum)} item(s), found ${f}`;
      if (issue.origin === "string") return `expected at least ${String(issue.minimum)} character(s), found ${f}`;
      return `expected ${issue.inclusive === false ? "more than" : "at least"} ${String(issue.minimum)}, found ${f}`;
    case "too_big":
      if (issue.origin === "array") return `expected at most ${String(issue.maximum)} item(s), found ${f}`;
      if (issue.origin === "string") return `expected at most ${String(issue.maximum)} character(s), found ${f}`;
      return `expected ${issue.inclusive === false ? "less than" : "at most"} ${String(issue.maximum)}, found ${f}`;
    case "invalid_format":
      return `expected ${issue.message.replace(/^Invalid (string: )?/, "")}, found ${f}`;
    case "not_multiple_of":
      return `expected a whole number, found ${f}`;
    default: {
      const m = issue.message.replace(/^Invalid input:?\s*/i, "");
      return `expected ${m || "a value of another form"}, found ${f}`;
    }
  }
}

interface UnionIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: UnionIssue[][];
}

/**
 * Replace each failed union by the issues of its closest branch (the one that got
 * deepest into the value, then the one with fewest issues), so a message says what
 * was wrong inside, not "invalid input".
 */
export function flattenUnions<T extends { code: string; path: PropertyKey[]; message: string }>(issues: readonly T[]): T[] {
  const out: T[] = [];
  for (const issue of issues) {
    const errors = (issue as unknown as UnionIssue).errors;
    if (issue.code !== "invalid_union" || !errors || errors.length === 0) {
      out.push(issue);
      continue;
    }
    const depth = (b: UnionIssue[]) => Math.max(...b.map((i) => i.path.length + (i.code === "invalid_type" ? 0 : 0.5)));
    const best = [...errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
    out.push(...flattenUnions(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }) as unknown as T)));
  }
  return out;
}
