// `--config FILE`: variant modules, kernels, scenarios and budget defaults from a YAML
// or JSON file (paths relative to it), the command line winning; and one test per kind
// of error, each naming file:line:column and the field, exit 2.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearRegisteredVariants } from "@foliosim/sim";
import { EXAMPLES_DIR } from "./catalog.js";
import type { EvaluateReport } from "./commands/evaluate.js";
import { EXIT } from "./exit-codes.js";
import { cli } from "./test-support.js";
import { VARIANTS_ENV } from "./variant-modules.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});
afterEach(() => {
  clearRegisteredVariants();
  delete process.env[VARIANTS_ENV];
});

/** A directory holding a patch under review: the variant module, a scenario file, and configs beside them. */
function patchDir(): { dir: string; config: (name: string, text: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), "foliosim-config-"));
  mkdirSync(join(dir, "patch"));
  copyFileSync(join(EXAMPLES_DIR, "variants", "drain-unexplained-refs.ts"), join(dir, "patch", "my-fix.ts"));
  copyFileSync(join(EXAMPLES_DIR, "s4-transient-ref.yaml"), join(dir, "s4.yaml"));
  return {
    dir,
    config: (name, text) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

describe("--config names variants, kernels, scenarios and budgets (paths relative to the file)", () => {
  it("compare takes every kernel and scenario of the config, a module path in a kernel spec included, and its budget", async () => {
    const { config } = patchDir();
    const file = config("foliosim.yaml", ["variants: [patch/my-fix.ts]", "kernels:", "  - linux-6.11", "  - linux-6.11+collect=./patch/my-fix.ts", "scenarios: [pkvm-mlock-cma, ./s4.yaml]", "budget: 2", "set: { hold_ns: 1000 }", ""].join("\n"));
    const r = await cli("compare", "--config", file, "--workers", "0", "--json");
    const doc = JSON.parse(r.stdout) as { results: { scenario: string; kernel: string; executions: number }[] };
    expect(doc.results.map((row) => [row.scenario, row.kernel, row.executions])).toEqual([
      ["example-s4-transient-ref[hold_ns=1000]", "linux-6.11", 2],
      ["example-s4-transient-ref[hold_ns=1000]", "linux-6.11+collect=drain-unexplained-refs", 2],
      ["pkvm-mlock-cma", "linux-6.11", 2],
      ["pkvm-mlock-cma", "linux-6.11+collect=drain-unexplained-refs", 2],
    ]);
    expect(r.stderr).not.toMatch(/error/);
  });

  it("the command line wins: --kernel, scenario arguments, --budget and --set replace the config's", async () => {
    const { dir, config } = patchDir();
    const file = config("c.json", JSON.stringify({ kernels: ["linux-6.10", "linux-6.11"], scenarios: ["pkvm-mlock-cma"], budget: 3, set: { hold_ns: 1000 } }));
    const r = await cli("compare", join(dir, "s4.yaml"), "--config", file, "--kernel", "linux-7.0", "--budget", "1", "--set", "hold_ns=2000", "--workers", "0", "--json");
    const doc = JSON.parse(r.stdout) as { results: { scenario: string; kernel: string; executions: number }[] };
    expect(doc.results.map((row) => [row.scenario, row.kernel, row.executions])).toEqual([["example-s4-transient-ref[hold_ns=2000]", "linux-7.0", 1]]);
  });

  it("run and explore take the config's scenario and its first kernel; explore its strategy, budget and seed", async () => {
    const { config } = patchDir();
    const file = config("c.yaml", "kernels: [linux-7.0, linux-6.11]\nscenarios: [s4.yaml]\nstrategy: random\nbudget: 4\nseed: 9\nmax-steps: 5000\nset: { hold_ns: 1000 }\n");
    const run = await cli("run", "--config", file, "--trace", "none", "--json");
    const report = JSON.parse(run.stdout) as { scenario: string; kernel: string; seed: number };
    expect([report.scenario, report.kernel, report.seed, run.code]).toEqual(["example-s4-transient-ref[hold_ns=1000]", "linux-7.0", 9, EXIT.ok]);
    const explore = await cli("explore", "--config", file, "--json");
    const doc = JSON.parse(explore.stdout) as { budget: string; results: { kernel: string; strategy: string; executions: number }[] };
    expect([doc.results[0].kernel, doc.results[0].strategy, doc.results[0].executions]).toEqual(["linux-7.0", "random", 4]);
    expect(doc.budget).toBe("random, seed 9; budget 4 executions per cell, 5000 steps per execution; first failure shrunk with up to 200 runs");
    // set: gives one scenario only the parameters it has (compare: each scenario those it has).
    const other = await cli("run", "pkvm-mlock-cma", "--config", file, "--trace", "none", "--json");
    expect([JSON.parse(other.stdout).scenario, JSON.parse(other.stdout).kernel, other.code]).toEqual(["pkvm-mlock-cma", "linux-7.0", EXIT.ok]);
  });

  it("evaluate takes the config's only variant module, its base kernel and its scenarios", async () => {
    const { config } = patchDir();
    const file = config("c.yaml", "variants: [./patch/my-fix.ts]\nkernels: [linux-6.11]\nscenarios: [pkvm-mlock-cma]\nbudget: 30\n");
    const r = await cli("evaluate", "--config", file, "--dpor-budget", "60", "--json");
    expect(r.code, r.stderr).toBe(EXIT.ok);
    const report = JSON.parse(r.stdout) as EvaluateReport;
    expect(report.kernel).toBe("linux-6.11+collect=drain-unexplained-refs");
    expect(report.races.map((race) => [race.scenario, race.change])).toEqual([["pkvm-mlock-cma", "fixed"]]);
  });
});

describe("replay --config: a token printed by a config-driven run replays with the same config", () => {
  it("searches the config's scenarios × kernels with its set:, its variant modules loaded", async () => {
    const { config } = patchDir();
    const file = config("c.yaml", "variants: [patch/my-fix.ts]\nkernels: [linux-6.11, linux-7.0+collect=drain-unexplained-refs]\nscenarios: [s4.yaml]\nbudget: 8\nset: { hold_ns: 1000 }\n");
    const compare = await cli("compare", "--config", file, "--workers", "0", "--json");
    const doc = JSON.parse(compare.stdout) as { results: { scenario: string; kernel: string; failures: { schedule: string }[] }[] };
    const cell = doc.results.find((row) => row.kernel.includes("+") && row.failures.length > 0);
    expect(cell, JSON.stringify(doc.results.map((row) => [row.kernel, row.failures.length]))).toBeDefined();
    const token = cell!.failures[0].schedule;
    // A new process: nothing of the compare's variant modules is loaded.
    clearRegisteredVariants();
    delete process.env[VARIANTS_ENV];
    const bare = await cli("replay", token, "--trace", "none");
    expect(bare.code).toBe(EXIT.usage);
    expect(bare.stderr).toMatch(/matches no scenario × kernel/);
    const r = await cli("replay", token, "--config", file, "--trace", "none", "--json");
    expect(r.code, r.stderr).toBe(EXIT.failed);
    const report = JSON.parse(r.stdout) as { scenario: string; kernel: string; outcome: string };
    expect([report.scenario, report.kernel]).toEqual(["example-s4-transient-ref[hold_ns=1000]", "linux-7.0+collect=drain-unexplained-refs"]);
  });
});

describe("--config errors name file:line:column and the field (exit 2), every problem at once", () => {
  const cases: [string, string, string, RegExp][] = [
    ["unknown field, with a suggestion", "c.yaml", "kernels: [linux-7.0]\nvariant: [x.ts]\n", /c\.yaml:2:1: variant: unknown field "variant" \(did you mean "variants"\?\); expected one of: variants, kernels, scenarios, strategy, budget, seed, depth, max-steps, set/],
    ["wrong type", "c.yaml", "budget: many\n", /c\.yaml:1:9: budget: expected a number of executions or a time such as 30s or 2m, found "many" \(a string\)/],
    ["unknown kernel", "c.yaml", "kernels:\n  - linux-7.0\n  - linux-6.1x\n", /c\.yaml:3:5: kernels\.1: unknown kernel "linux-6\.1x"/],
    ["missing variant module", "c.yaml", "variants: [./nope.ts]\n", /c\.yaml:1:12: variants\.0: no such file: \/.*\/nope\.ts/],
    ["variant module that does not load", "c.yaml", "variants: [./broken.ts]\n", /c\.yaml:1:12: variants\.0: variant module \/.*broken\.ts.*does not load/],
    ["kernel naming a module of the wrong point", "c.yaml", "kernels: [linux-7.0+migrate=./patch/my-fix.ts]\n", /c\.yaml:1:11: kernels\.0: .*the module fills "collect", not "migrate"/],
    ["unknown scenario, with a suggestion", "c.yaml", "scenarios: [pkvm-mlock]\n", /c\.yaml:1:13: scenarios\.0: unknown scenario "pkvm-mlock" \(did you mean "pkvm-mlock-cma"\?\)/],
    ["missing scenario file", "c.yaml", "scenarios: [./gone.yaml]\n", /c\.yaml:1:13: scenarios\.0: no such scenario file: \/.*gone\.yaml/],
    ["YAML syntax", "c.yaml", "kernels: [linux-7.0\n", /c\.yaml:\d+:\d+: \(root\): YAML syntax: /],
    ["JSON syntax", "c.json", '{"kernels": ["linux-7.0",]', /c\.json:\d+:\d+: \(root\): JSON syntax: /],
    ["not a mapping", "c.yaml", "- linux-7.0\n", /c\.yaml:1:1: \(root\): expected a mapping with the config's fields/],
    ["a time budget for compare", "c.yaml", "budget: 30s\n", /c\.yaml:1:9: budget: this command takes a number of executions, found "30s"/],
  ];
  it.each(cases)("%s", async (_what, name, text, message) => {
    const { config } = patchDir();
    config("broken.ts", "export default {{ not code\n");
    const file = config(name, text);
    const r = await cli("compare", "pkvm-mlock-cma", "--config", file, "--workers", "0");
    expect(r.stderr).toMatch(new RegExp(`^foliosim: \\S*${message.source}`));
    expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
    expect(r.code).toBe(EXIT.usage);
  });

  it("reports every problem, one line each", async () => {
    const { config } = patchDir();
    const file = config("c.yaml", "kernels: [linux-9.9]\nseed: -1\nscenarios: [nope]\n");
    const r = await cli("run", "--config", file);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr.trim().split("\n").map((l) => l.replace(/^foliosim: /, "").replace(/^.*c\.yaml:/, "").split(": ").slice(0, 2).join(": "))).toEqual(["1:11: kernels.0", "2:7: seed", "3:13: scenarios.0"]);
  });

  it("a missing config file, another extension, and run with a config naming two scenarios", async () => {
    const { dir, config } = patchDir();
    expect((await cli("run", "--config", join(dir, "none.yaml"))).stderr).toMatch(/none\.yaml:1:1: \(root\): no such file/);
    expect((await cli("run", "--config", config("c.toml", "x = 1\n"))).stderr).toMatch(/c\.toml:1:1: \(root\): expected a \.yaml, \.yml or \.json config file/);
    const two = await cli("run", "--config", config("two.yaml", "scenarios: [pkvm-mlock-cma, transient-ref]\n"));
    expect(two.stderr).toMatch(/two\.yaml:1:12: scenarios: run runs one scenario and the config names 2: give one on the command line/);
    expect(two.code).toBe(EXIT.usage);
    const none = await cli("run");
    expect(none.stderr).toMatch(/^foliosim: run needs a scenario: a catalog id or a \.yaml\/\.json file/);
    expect(none.code).toBe(EXIT.usage);
  });
});
