/**
 * The TypeScript builder for scenarios. It produces exactly the objects a YAML or JSON
 * file produces: both go through the same schema and the same validation.
 */

import { Scenario, type ScenarioInput, type Step } from "./schema.js";
import { validateScenario, type ValidationIssue } from "./validate.js";
import { flattenUnions, zodIssueMessage } from "./zod-shape.js";

export class ScenarioValidationError extends Error {
  override readonly name = "ScenarioValidationError";
  constructor(
    readonly issues: ValidationIssue[],
    where: string,
  ) {
    super(`${where}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
  }
}

/** Validate and normalise a scenario written in TypeScript. */
export function defineScenario(input: ScenarioInput): Scenario {
  const parsed = Scenario.safeParse(input);
  const issues: ValidationIssue[] = parsed.success
    ? []
    : flattenUnions(parsed.error.issues).map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: zodIssueMessage(i, valueAt(input, i.path)) }));
  // Semantic problems are reported together with the schema's, not hidden by them.
  issues.push(...validateScenario(parsed.success ? parsed.data : input));
  if (issues.length > 0 || !parsed.success) throw new ScenarioValidationError(issues, `scenario ${(input as { id?: string }).id ?? "?"}`);
  return parsed.data;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = data;
  for (const s of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[s];
  }
  return v;
}

/** A script step: `call("pin_user_pages", { addr: "$buf", pages: 1 }, { as: "pin", expect: { equals: 1 } })`. */
export function call(name: string, args: Record<string, unknown> = {}, opts: Omit<Step, "call" | "args"> = {}): Step {
  return { call: name, args, ...opts };
}
