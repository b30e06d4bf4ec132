// Golden digests: for fixed seeds, the sequence of schedules each strategy explores on
// a small program is pinned, so a refactor cannot silently change exploration.
// If a change to exploration is intended, update the digests and say so in the commit.
import { describe, expect, it } from "vitest";
import { runExecution, executionConfig, type ExecutionPlan } from "./execution.js";
import { Dpor } from "./dpor.js";
import { executionSeed, PctCampaign, PctPlan, RandomPlan } from "./samplers.js";
import { encodeToken, fnv1a32 } from "./token.js";
import { counter } from "./bench/programs.js";
import { lostUpdate } from "./__fixtures__/programs.js";

/** FNV-1a of the tokens of the first `count` executions, in order. */
function digest(target: ReturnType<typeof counter>, next: (index: number) => ExecutionPlan | null, after: (plan: ExecutionPlan, execution: ReturnType<typeof runExecution>) => void, count: number): { executions: number; digest: string; first: string[] } {
  const tokens: string[] = [];
  const config = executionConfig(target, {});
  for (let index = 0; index < count; index++) {
    const plan = next(index);
    if (plan === null) break;
    const execution = runExecution(target, config, plan);
    after(plan, execution);
    tokens.push(encodeToken(target, execution.decisions) + (execution.result ? "" : "!blocked"));
  }
  return { executions: tokens.length, digest: fnv1a32(tokens.join("\n")), first: tokens.slice(0, 3) };
}

describe("golden schedule digests", () => {
  const target = counter(2, 2, "buggy");

  it("random, seed 42", () => {
    const got = digest(target, (i) => new RandomPlan(executionSeed(42, i)), () => {}, 50);
    expect(got).toMatchInlineSnapshot(`
      {
        "digest": "6633a38f",
        "executions": 50,
        "first": [
          "fs1.84a7691b.AAAAAA",
          "fs1.84a7691b.AQEBAQ",
          "fs1.84a7691b.AQEBAQ",
        ],
      }
    `);
  });

  it("pct, seed 42, depth 3, every choice point a scheduling point", () => {
    const campaign = new PctCampaign(3, "all");
    const got = digest(target, (i) => campaign.plan(executionSeed(42, i)), (p) => campaign.learn(p as PctPlan), 50);
    expect(got).toMatchInlineSnapshot(`
      {
        "digest": "f6a08482",
        "executions": 50,
        "first": [
          "fs1.84a7691b.AAAAAA",
          "fs1.84a7691b.AAAAAQEBAQ",
          "fs1.84a7691b.AAAAAA",
        ],
      }
    `);
  });

  it("pct, seed 42, depth 3, scheduling points at shared accesses (the default)", () => {
    const campaign = new PctCampaign(3);
    const got = digest(target, (i) => campaign.plan(executionSeed(42, i)), (p) => campaign.learn(p as PctPlan), 50);
    expect(got).toMatchInlineSnapshot(`
      {
        "digest": "cf8a6d63",
        "executions": 50,
        "first": [
          "fs1.84a7691b.AAAAAA",
          "fs1.84a7691b.AQEBAQ",
          "fs1.84a7691b.AAAAAQEBAQ",
        ],
      }
    `);
  });

  it("dpor, exhaustive", () => {
    const dpor = new Dpor();
    const got = digest(target, () => dpor.next(), (p, e) => dpor.finish(p, e), 1_000);
    expect(got).toMatchInlineSnapshot(`
      {
        "digest": "66d4066a",
        "executions": 34,
        "first": [
          "fs1.84a7691b.AAAAAA",
          "fs1.84a7691b.AAAAAQEBAQ",
          "fs1.84a7691b.AAAAAQEBAA",
        ],
      }
    `);
  });

  it("dpor, preemption bound 1, on another program", () => {
    const fixture = lostUpdate();
    const dpor = new Dpor({ preemptionBound: 1 });
    const got = digest(fixture.target as ReturnType<typeof counter>, () => dpor.next(), (p, e) => dpor.finish(p, e), 1_000);
    expect(got).toMatchInlineSnapshot(`
      {
        "digest": "33e01e20",
        "executions": 12,
        "first": [
          "fs1.e1dc80d9.AAAAAA",
          "fs1.e1dc80d9.AAEBAA",
          "fs1.e1dc80d9.AAICAA",
        ],
      }
    `);
  });
});
