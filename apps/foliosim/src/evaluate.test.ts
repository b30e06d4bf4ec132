// `foliosim evaluate` on the example variant modules (examples/variants/), and the
// errors a broken module gets.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearRegisteredVariants } from "@foliosim/sim";
import { EXAMPLES_DIR } from "./catalog.js";
import { cli } from "./test-support.js";
import { EXIT } from "./exit-codes.js";
import type { EvaluateReport } from "./commands/evaluate.js";
import { VARIANTS_ENV } from "./variant-modules.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});
afterEach(() => {
  clearRegisteredVariants();
  delete process.env[VARIANTS_ENV];
});

const example = (name: string) => join(EXAMPLES_DIR, "variants", name);
const FAST = ["--dpor-budget", "60", "--budget", "30"];

describe("foliosim evaluate", () => {
  it("a drain rule written from scratch fixes S1 on linux-6.11, at the cost of one lru_add_drain_all", async () => {
    const { code, stdout } = await cli("evaluate", "--kernel", "linux-6.11", "--variant", example("drain-unexplained-refs.ts"), "pkvm-mlock-cma", ...FAST, "--json");
    expect(code).toBe(EXIT.ok);
    const report = JSON.parse(stdout) as EvaluateReport;
    expect(report.kernel).toBe("linux-6.11+collect=drain-unexplained-refs");
    const [s1] = report.races;
    expect([s1.scenario, s1.before.verdict, s1.after.verdict, s1.change]).toEqual(["pkvm-mlock-cma", "fails", "holds", "fixed"]);
    expect(s1.before.failure!.message).toBe("crosvm_vcpu0: pin_user_pages ret returned -12 (ENOMEM); expected 1");
    expect(s1.before.failure!.token).toMatch(/^fs1\./);
    expect([s1.before.costs.lru_add_drain_all, s1.after.costs.lru_add_drain_all]).toEqual([0, 1]);
    expect([s1.before.costs.migrate_retry, s1.after.costs.migrate_retry]).toEqual([10, 0]);
    expect(report.regressed).toBe(false);
  });

  it("prints a plain-text report of at most 75 columns, with the replay token and the end of the counterexample's ftrace", async () => {
    const { code, stdout } = await cli("evaluate", "--kernel", "linux-6.11", "--variant", example("drain-unexplained-refs.ts"), "pkvm-mlock-cma", ...FAST);
    expect(code).toBe(EXIT.ok);
    for (const line of stdout.split("\n")) expect(line.length, line).toBeLessThanOrEqual(75);
    expect(stdout).not.toMatch(/\x1b\[/);
    expect(stdout).toContain("pkvm-mlock-cma           fails            holds            fixed");
    expect(stdout).toContain("1 fixed, 0 broken, 0 unchanged (hold), 0 still failing, 0 inconclusive");
    expect(stdout).toMatch(/lru_add_drain_all calls\s+0 ->\s+1 {2}\+1/);
    expect(stdout).toMatch(/replay: foliosim replay fs1\./);
    expect(stdout).toContain("mm_migrate_pages");
  });

  it("a drain rule that drains too late changes nothing on S1: it still fails, with the same counterexample", async () => {
    const { code, stdout } = await cli("evaluate", "--kernel", "linux-6.11", "--variant", example("drain-too-late.ts"), "pkvm-mlock-cma", ...FAST, "--json");
    expect(code).toBe(EXIT.ok);
    const [s1] = (JSON.parse(stdout) as EvaluateReport).races;
    expect([s1.before.verdict, s1.after.verdict, s1.change]).toEqual(["fails", "fails", "still fails"]);
    expect(s1.after.failure!.message).toBe("crosvm_vcpu0: pin_user_pages ret returned -12 (ENOMEM); expected 1");
    expect(s1.after.costs.lru_add_drain_all).toBe(0);
  });

  it("an exponential migration back-off outlasts S4's 500 ms transient reference", async () => {
    const { code, stdout } = await cli("evaluate", "--kernel", "linux-7.3", "--variant", example("migrate-exp-backoff.ts"), "transient-ref", ...FAST, "--json");
    expect(code).toBe(EXIT.ok);
    const [s4] = (JSON.parse(stdout) as EvaluateReport).races;
    expect([s4.before.verdict, s4.after.verdict, s4.change]).toEqual(["fails", "holds", "fixed"]);
    expect(s4.after.costs.virtual_ns).toBeGreaterThan(500_000_000);
  });

  it("a counterexample's replay command names the scenario file, the kernel and the variant module, and runs as printed", async () => {
    const s4 = join(EXAMPLES_DIR, "s4-transient-ref.yaml");
    const module = example("drain-too-late.ts");
    const { stdout } = await cli("evaluate", "--kernel", "linux-6.11", "--variant", module, s4, ...FAST, "--json");
    const after = (JSON.parse(stdout) as EvaluateReport).races[0].after;
    expect(after.failure!.replay).toBe(`foliosim replay ${after.failure!.token} --scenario ${s4} --kernel linux-6.11+collect=drain-too-late --variant ${module}`);
    clearRegisteredVariants(); // as a fresh process has none
    const again = await cli(...after.failure!.replay.split(" ").slice(1), "--trace", "none");
    expect(again.code, again.stderr).toBe(EXIT.failed);
    const text = await cli("evaluate", "--kernel", "linux-6.11", "--variant", module, s4, ...FAST);
    const at = text.stdout.split("\n").findIndex((l) => l.includes("replay: foliosim replay"));
    expect(text.stdout.split("\n")[at]).toMatch(/ \\$/); // continued as the shell reads it
    for (const line of text.stdout.split("\n")) expect(line.length, line).toBeLessThanOrEqual(75);
  });

  it("exits 1 when a race that held fails with the variant (broken), and says DPOR where DPOR completed and PCT where it did not", async () => {
    const broken = await cli("evaluate", "--kernel", "linux-7.3", "--variant", example("drain-too-late.ts"), "pkvm-mlock-cma", ...FAST, "--json");
    expect(broken.code).toBe(EXIT.failed);
    const report = JSON.parse(broken.stdout) as EvaluateReport;
    const [s1] = report.races;
    expect([s1.before.verdict, s1.before.method, s1.after.verdict, s1.change, report.regressed]).toEqual(["holds", "dpor", "fails", "broken", true]);
    const text = await cli("evaluate", "--kernel", "linux-7.3", "--variant", example("drain-too-late.ts"), "pkvm-mlock-cma", ...FAST);
    expect(text.stdout).toContain("before: holds (DPOR, complete) on linux-7.3");
    expect(text.code).toBe(EXIT.failed);
    const sampled = await cli("evaluate", "--kernel", "linux-7.3", "--variant", example("drain-unexplained-refs.ts"), "pkvm-mlock-cma", "--dpor-budget", "2", "--budget", "5");
    expect(sampled.stdout).toContain("before: holds (PCT, 5 runs) on linux-7.3");
    expect(sampled.code).toBe(EXIT.ok);
  });

  it("--markdown gives the same report as a table", async () => {
    const { stdout } = await cli("evaluate", "--kernel", "linux-6.11", "--variant", example("drain-unexplained-refs.ts"), "pkvm-mlock-cma", ...FAST, "--markdown");
    expect(stdout).toContain("| `pkvm-mlock-cma` |");
    expect(stdout).toContain("**fixed**");
  });
});

describe("variant module errors name the file and never show a stack into foliosim", () => {
  const dir = mkdtempSync(join(tmpdir(), "foliosim-variants-"));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const run = (file: string) => cli("run", "pkvm-mlock-cma", "--kernel", `linux-6.11+collect=${file}`, "--trace", "none");

  it("a module that does not load", async () => {
    const file = write("syntax.ts", "export default defineVariant({ id: 'x', ");
    const { code, stderr } = await run(file);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toMatch(new RegExp(`^foliosim: variant module ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: does not load: `));
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("a missing file", async () => {
    const { code, stderr } = await run(join(dir, "nope.ts"));
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain(`variant module ${join(dir, "nope.ts")}: no such file`);
  });

  it("a module of the wrong shape", async () => {
    const none = write("none.ts", "export const x = 1;\n");
    expect((await run(none)).stderr).toContain(`variant module ${none}: has no default export`);
    const shape = write("shape.ts", `export default { id: "bad-shape", point: "collect", source: "test", hook: { drain: 1 } };\n`);
    const r = await run(shape);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(`variant module ${shape} ("bad-shape"): "hook": "drain": expected function, found 1`);
    const point = write("point.ts", `export default { id: "wrong-point", point: "migrate", source: "test", hook: {} };\n`);
    expect((await run(point)).stderr).toContain(`"point": the module fills "migrate", not "collect": write migrate=${point}`);
  });

  it("a module that throws while loading", async () => {
    const file = write("throws.ts", `throw new RangeError("no config");\n`);
    const { code, stderr } = await run(file);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain(`variant module ${file}: does not load: RangeError: no config`);
  });

  it("a hook that throws during a run", async () => {
    const file = write("hook-throws.ts", `export default { id: "hook-throws", point: "collect", source: "test", hook: { *drain() { throw new TypeError("boom"); } } };\n`);
    const { code, stderr } = await run(file);
    expect(code).toBe(EXIT.usage);
    expect(stderr.trim()).toBe(`foliosim: variant module ${file} ("hook-throws"): hook drain() threw TypeError: boom`);
  });

  it("a hook that yields something that is not an op", async () => {
    const file = write("not-op.ts", `export default { id: "not-op", point: "collect", source: "test", hook: { *drain() { yield "lru_add_drain_all"; } } };\n`);
    const { code, stderr } = await run(file);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain(`variant module ${file} ("not-op"): hook drain() yielded "lru_add_drain_all", not a machine operation`);
  });
});
