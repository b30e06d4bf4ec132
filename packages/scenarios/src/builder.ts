/**
 * The TypeScript builder for scenarios. It produces exactly the objects a YAML or JSON
 * file produces: both go through the same schema and the same validation.
 */

import { Scenario, type ScenarioInput, type Step } from "./schema.js";
import { validateScenario, type ValidationIssue } from "./validate.js";

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
  if (!parsed.success) {
    throw new ScenarioValidationError(
      parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(root)", message: i.message })),
      `scenario ${(input as { id?: string }).id ?? "?"}`,
    );
  }
  const issues = validateScenario(parsed.data);
  if (issues.length > 0) throw new ScenarioValidationError(issues, `scenario ${parsed.data.id}`);
  return parsed.data;
}

/** A script step: `call("pin_user_pages", { addr: "$buf", pages: 1 }, { as: "pin", expect: { equals: 1 } })`. */
export function call(name: string, args: Record<string, unknown> = {}, opts: Omit<Step, "call" | "args"> = {}): Step {
  return { call: name, args, ...opts };
}
