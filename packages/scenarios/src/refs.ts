/**
 * The reference grammar of argument and expectation values, shared by validation and
 * the runner so that both read a value the same way:
 *
 * - `${param}`: a scenario parameter;
 * - `$name`, `$name.field.sub`: the result bound by an earlier step's `as` (or a field of it);
 * - `$name+N` (also `$name.field+N`): an address N pages further on.
 *
 * Any other string that starts with `$` is an error, so a typo never passes as a literal.
 */

export type Ref =
  | { kind: "param"; name: string }
  | { kind: "binding"; name: string; fields: string[]; plusPages: number }
  | { kind: "bad"; text: string };

const PARAM = /^\$\{(\w+)\}$/;
const BINDING = /^\$([A-Za-z_]\w*)((?:\.\w+)*)(?:\+(\d+))?$/;

/**
 * Parsed references by their text: a run resolves the same few texts at every step
 * (frozen, as every caller shares them; bounded, as fuzzing reads endless scenarios).
 */
const PARSED = new Map<string, Ref>();
const PARSED_LIMIT = 4096;

/** The reference a value is, or null for a literal. */
export function parseRef(v: unknown): Ref | null {
  if (typeof v !== "string" || !v.startsWith("$")) return null;
  let r = PARSED.get(v);
  if (r === undefined) {
    r = Object.freeze(parse(v));
    if (PARSED.size >= PARSED_LIMIT) PARSED.clear();
    PARSED.set(v, r);
  }
  return r;
}

function parse(v: string): Ref {
  const p = PARAM.exec(v);
  if (p) return { kind: "param", name: p[1] };
  const b = BINDING.exec(v);
  if (b) return { kind: "binding", name: b[1], fields: Object.freeze(b[2].split(".").filter(Boolean)) as string[], plusPages: b[3] === undefined ? 0 : Number(b[3]) };
  return { kind: "bad", text: v };
}

export const REF_FORMS = "${param}, $name, $name.field or $name+N (N pages on)";
