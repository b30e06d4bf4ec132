import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { METRIC_NAMES, NEWEST_PRESET } from "@foliosim/scenarios";
import { EXAMPLES_DIR, exampleFiles } from "./catalog.js";
import { cli } from "./test-support.js";
import { EXIT } from "./exit-codes.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});

const S4 = join(EXAMPLES_DIR, "s4-transient-ref.yaml");
const FRESH = join(EXAMPLES_DIR, "fresh-racing-fault-pin.yaml");

function expectResultShape(doc: { schemaVersion: number; results: Record<string, unknown>[] }): void {
  expect(doc.schemaVersion).toBe(1);
  for (const r of doc.results) {
    expect(Object.keys(r)).toEqual(expect.arrayContaining(["scenario", "kernel", "strategy", "executions", "complete", "verdict", "failures", "metrics"]));
    expect(["holds", "fails", "inconclusive"]).toContain(r.verdict);
    if (r.verdict === "inconclusive") expect(r.inconclusive).toBeGreaterThan(0);
    expect(Object.keys(r.metrics as object)).toEqual([...METRIC_NAMES]);
    for (const m of Object.values(r.metrics as Record<string, object>)) expect(Object.keys(m)).toEqual(["min", "median", "max"]);
    for (const f of r.failures as Record<string, unknown>[]) expect(Object.keys(f)).toEqual(["kind", "message", "count", "schedule", "shrunk"]);
  }
}

describe("foliosim CLI (in process)", () => {
  it("list --json: the fixed shape", async () => {
    const { code, stdout } = await cli("list", "--json");
    expect(code).toBe(EXIT.ok);
    const doc = JSON.parse(stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(Object.keys(doc.scenarios[0])).toEqual(expect.arrayContaining(["id", "title", "source", "promise"]));
    expect(Object.keys(doc.kernels[0])).toEqual(expect.arrayContaining(["id", "base", "variants", "source"]));
    expect(doc.kernels.map((k: { id: string }) => k.id)).toContain("will-v1");
  });

  it("a scenario that misuses the model (touching what it unmapped) is a scenario error naming file, line and step: exit 2, not an invariant", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foliosim-cli-"));
    const file = join(dir, "segv.yaml");
    const head = "id: segv\ntitle: t\ndescription: d\nsource: { seeds: [] }\nmachine: { cpus: 1 }\nsetup:\n  - { call: mmap, args: { pages: 1 }, as: buf }\ntasks:\n  - name: a\n    cpu: 0\n    script:\n";
    writeFileSync(file, `${head}      - { call: munmap, args: { addr: $buf, pages: 1 } }\n      - { call: touch, args: { addr: $buf, write: true } }\npromise: { summary: s }\n`);
    const run = await cli("run", file, "--trace", "none");
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(new RegExp(`^foliosim: ${file.replace(/[.]/g, "\\.")}:13:9: scenario error: tasks\\.0\\.script\\.1 \\(touch\\): touch: p0 address 0x[0-9a-f]+: SIGSEGV: no vma maps this address \\(in a at touch step \\d+\\) \\(schedule fs1\\.`));
    expect(run.stdout).toBe("");
    const explore = await cli("explore", file, "--budget", "3", "--json");
    expect(explore.code).toBe(EXIT.usage);
    expect(JSON.parse(explore.stdout).results[0].failures[0].kind).toBe("scenario");
    expect(explore.stderr).toMatch(/segv\.yaml:13:9: scenario error: tasks\.0\.script\.1 \(touch\)/);
    expect(explore.stderr).not.toMatch(/invariant/);
    // munmap of a range already unmapped returns 0, as the kernel's do_vmi_munmap does.
    const twice = join(dir, "twice.yaml");
    writeFileSync(twice, `${head}      - { call: munmap, args: { addr: $buf, pages: 1 }, expect: { equals: 0 } }\n      - { call: munmap, args: { addr: $buf, pages: 1 }, expect: { equals: 0 } }\npromise: { summary: s }\n`);
    expect((await cli("run", twice, "--trace", "none")).code).toBe(EXIT.ok);
  });

  it("run and explore with no --kernel: the file's first kernel, else the newest preset", async () => {
    const run = JSON.parse((await cli("run", "transient-ref", "--trace", "none", "--json")).stdout);
    expect(run.kernel).toBe(NEWEST_PRESET);
    const explore = JSON.parse((await cli("explore", "transient-ref", "--budget", "2", "--json")).stdout);
    expect(explore.results[0].kernel).toBe(NEWEST_PRESET);
    const file = JSON.parse((await cli("run", S4, "--trace", "none", "--json")).stdout);
    expect(file.kernel).toBe("linux-7.0"); // s4-transient-ref.yaml's first `kernels:` entry
  });

  it("run: call results, verdict, metrics and an ftrace trace; exit 1 when the promise breaks", async () => {
    const { code, stdout } = await cli("run", S4, "--kernel", "linux-7.0", "--seed", "1");
    expect(code).toBe(EXIT.failed);
    expect(stdout).toContain("Calls");
    expect(stdout).toMatch(/Verdict: ✗ fails — promise: pinner: pin_user_pages/);
    expect(stdout).toContain("Metrics");
    expect(stdout).toContain("# tracer: nop");
    const short = await cli("run", S4, "--set", "hold_ns=1000", "--trace", "mermaid", "--json");
    const doc = JSON.parse(short.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.trace.format).toBe("mermaid");
    expect(doc.trace.text).toMatch(/^sequenceDiagram/);
    expect(Object.keys(doc.metrics)).toEqual([...METRIC_NAMES]);
  });

  it("explore --json: one document with the fixed result shape; replay of its token reproduces it", async () => {
    const { code, stdout, stderr } = await cli("explore", S4, "--kernel", "linux-7.0", "--budget", "20", "--json");
    expect(code).toBe(EXIT.failed);
    expect(stderr).toContain("executions");
    const doc = JSON.parse(stdout);
    expectResultShape(doc);
    const failure = doc.results[0].failures[0];
    expect(failure.shrunk).toMatch(/^fs1\./);
    const replayed = await cli("replay", failure.shrunk, "--scenario", S4, "--trace", "none", "--json");
    expect(replayed.code).toBe(EXIT.failed);
    expect(JSON.parse(replayed.stdout).verdict).toBe("fails");
    // Shrunk by default; --original replays the token exactly as given.
    const original = await cli("replay", failure.schedule, "--scenario", S4, "--original", "--trace", "none", "--json");
    expect(JSON.parse(original.stdout).schedule).toBe(failure.schedule);
    const shrunk = await cli("replay", failure.schedule, "--scenario", S4, "--trace", "none", "--json");
    expect(JSON.parse(shrunk.stdout).verdict).toBe("fails");
    expect(JSON.parse(shrunk.stdout).steps).toBeLessThanOrEqual(JSON.parse(original.stdout).steps);
  });

  it("explore --json=stream: NDJSON events start, progress, counterexample, end", async () => {
    const { stdout } = await cli("explore", S4, "--kernel", "linux-7.0", "--budget", "10", "--json=stream");
    const events = stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; schemaVersion?: number; results?: unknown[] });
    expect(events[0].event).toBe("start");
    expect(events.map((e) => e.event)).toContain("progress");
    expect(events.map((e) => e.event)).toContain("counterexample");
    const end = events[events.length - 1];
    expect(end.event).toBe("end");
    expect(end.schemaVersion).toBe(1);
    expect(end.results).toHaveLength(1);
  });

  it("validate: every example passes; a broken file exits 2 with file:line:column", async () => {
    const ok = await cli("validate", ...exampleFiles());
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout.split("\n").filter((l) => l.startsWith("✓")).length).toBe(exampleFiles().length);
    const dir = mkdtempSync(join(tmpdir(), "foliosim-cli-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, readFileSync(FRESH, "utf8").replace("call: pin_user_pages", "call: pin_user_page"));
    const result = await cli("validate", bad);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stdout).toMatch(/bad\.yaml:\d+:\d+: tasks\.1\.script\.0\.call: expected a known call .*found "pin_user_page" \(did you mean "pin_user_pages"\?\)/);
  });

  it("explore --pct-points and --preemption-bound reach the strategy and its label", async () => {
    const classic = await cli("explore", S4, "--kernel", "linux-7.0", "--budget", "5", "--pct-points", "all", "--json");
    expect(JSON.parse(classic.stdout).results[0].strategy).toBe("pct-d3-all");
    const bounded = await cli("explore", S4, "--kernel", "linux-7.0", "--strategy", "dpor", "--preemption-bound", "1", "--budget", "5", "--json");
    const doc = JSON.parse(bounded.stdout);
    expect(doc.results[0].strategy).toBe("dpor-pb1");
    expect(doc.results[0].complete).toBe(false);
  });

  it("explore --deepen claims the largest preemption bound its budget exhausted, or the whole space", async () => {
    const cut = await cli("explore", S4, "--kernel", "linux-7.0", "--strategy", "dpor", "--deepen", "--budget", "10", "--json");
    const row = JSON.parse(cut.stdout).results[0];
    expect(row).toMatchObject({ strategy: "dpor-deepen", verdict: "fails", complete: false, proof: "bounded" });
    expect(row.coverage).toEqual({ executions: 10, estimatedRemaining: 2, preemptionBound: 1, boundedComplete: true, exploringBound: 2, maxPreemptions: 2 });
    const text = await cli("explore", S4, "--kernel", "linux-7.0", "--strategy", "dpor", "--deepen", "--budget", "10");
    expect(text.stdout).toContain("◐ bounded: every schedule class with at most 1 preemption (10 DPOR executions; at 2: ~2 left)");
    const whole = JSON.parse((await cli("explore", S4, "--kernel", "linux-7.0", "--strategy", "dpor", "--deepen", "--budget", "40", "--json")).stdout).results[0];
    expect(whole).toMatchObject({ complete: true, proof: "proven", executions: 16 });
    for (const argv of [
      ["explore", S4, "--deepen"],
      ["explore", S4, "--strategy", "dpor", "--deepen", "--preemption-bound", "1"],
      ["explore", S4, "--strategy", "dpor", "--deepen", "--queue", "redis://127.0.0.1:1"],
    ]) {
      const bad = await cli(...argv);
      expect(bad.code, argv.join(" ")).toBe(EXIT.usage);
      expect(bad.stderr, argv.join(" ")).toMatch(/--deepen/);
    }
  });

  it("explore --strategy dpor falls back to deepening when its budget cuts it, says so, and refuses bad combinations", async () => {
    const args = ["explore", "anon-lru-add-batch", "--kernel", "linux-7.3", "--strategy", "dpor", "--budget", "2"];
    const json = await cli(...args, "--json");
    const row = JSON.parse(json.stdout).results[0];
    expect(row).toMatchObject({ strategy: "dpor", proof: "bounded", executions: 2, coverage: { preemptionBound: 0, exploringBound: 1 }, fallback: { reported: "deepen", unbounded: { executions: 2, budget: 2, estimatedRemaining: 1 }, deepen: { executions: 2, provenBound: 0 } } });
    expect(json.stderr).toContain("DPOR did not complete within 2 executions (~1 left): re-running it deepening the preemption bound within 2 executions");
    const text = await cli(...args, "--fallback-budget", "10");
    expect(text.stdout).toContain("Verdict: ✓ holds after 6 executions (exhausted, complete)");
    expect(text.stdout).toContain("Fallback: unbounded DPOR stopped after 2 of 2 executions (~1 left, up to 1 preemption reached); re-run deepening the preemption bound within 10 executions: it explored the whole space in 6 executions. Reported below: the deepening run.");
    expect(text.stdout).toContain("∎ proven: all 6 schedule classes; before it, unbounded DPOR: 2 executions, ~1 left");
    const stream = (await cli(...args, "--json=stream")).stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string });
    expect(stream.map((e) => e.event).filter((e) => e !== "progress")).toEqual(["start", "fallback", "end"]);
    expect(stream.find((e) => e.event === "fallback")).toEqual({ event: "fallback", executions: 2, estimatedRemaining: 1, budget: 2 });
    for (const [argv, message] of [
      [["explore", S4, "--fallback", "deepen"], '--fallback re-runs an incomplete DPOR run: use it with --strategy dpor, not pct'],
      [["explore", S4, "--strategy", "dpor", "--fallback", "sometimes"], '--fallback expects one of deepen, none, found "sometimes"'],
      [["explore", S4, "--strategy", "dpor", "--deepen", "--fallback", "deepen"], "--deepen already deepens: drop one of them"],
      [["compare", S4, "--strategy", "dpor", "--preemption-bound", "1", "--fallback", "deepen"], "--preemption-bound fixes the bound: drop one of them"],
      [["compare", S4, "--strategy", "dpor", "--fallback", "none", "--fallback-budget", "5"], "there is none with --fallback none"],
      [["compare", S4, "--fallback-budget", "5"], "there is none with --strategy pct"],
      [["compare", S4, "--strategy", "dpor", "--fallback-budget", "30s"], "--fallback-budget 30s: compare takes a number of executions"],
    ] as const) {
      const bad = await cli(...argv);
      expect(bad.code, argv.join(" ")).toBe(EXIT.usage);
      expect(bad.stderr, argv.join(" ")).toContain(message);
    }
  });

  it("bad input: one clear line, exit 2, no stack trace", async () => {
    for (const argv of [
      ["explore", S4, "--pct-points", "some"],
      ["explore", S4, "--strategy", "dpor", "--preemption-bound", "-1"],
      ["run", "pkvm-mlock-cmaa"],
      ["run", S4, "--kernel", "linux-6.1"],
      ["run", S4, "--kernel", "linux-6.11+collect=wil-v1"],
      ["explore", S4, "--strategy", "dfs"],
      ["replay", "not-a-token"],
      ["compare", "--shard", "3/2", "--all", "--out", "x.json"],
      ["frobnicate"],
    ]) {
      const { code, stderr } = await cli(...argv);
      expect(code, argv.join(" ")).toBe(EXIT.usage);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr.length).toBeGreaterThan(0);
    }
    expect((await cli("run", "pkvm-mlock-cmaa")).stderr).toContain('did you mean "pkvm-mlock-cma"?');
    expect((await cli("run", S4, "--kernel", "linux-6.11+collect=wil-v1")).stderr).toContain('did you mean "will-v1"?');
  });
});
