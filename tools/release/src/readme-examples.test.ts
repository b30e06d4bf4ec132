import { describe, expect, it } from "vitest";
import { readmeExamples, runExample, typecheckExamples } from "./readme-examples.js";
import { publishedPackages } from "./workspace.js";

const examples = publishedPackages().flatMap(readmeExamples);

describe("README examples", () => {
  it("type-check against the built packages", () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
    expect(typecheckExamples(examples)).toEqual([]);
  });

  it.each(examples.map((e) => [e.where, e] as const))("%s runs and prints what the README shows", async (_, e) => {
    const stdout = await runExample(e);
    if (e.expected !== null) expect(stdout).toBe(e.expected);
  });
});
