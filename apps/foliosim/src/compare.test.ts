import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES_DIR } from "./catalog.js";
import { cli } from "./test-support.js";
import { EXIT } from "./exit-codes.js";
import { renderMatrix } from "./render/text.js";
import type { ResultsDocument } from "./report.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});

const S4 = join(EXAMPLES_DIR, "s4-transient-ref.yaml");
const S5 = join(EXAMPLES_DIR, "s5-lock-waiter.json");
const common = [S4, S5, "--kernel", "linux-7.0", "--kernel", "jhubbard-refcount-wait", "--budget", "6", "--workers", "0"];

describe("compare and merge", () => {
  it("prints the verdict matrix; shards merged give the unsharded document byte for byte", async () => {
    const whole = await cli("compare", ...common, "--json");
    expect([EXIT.ok, EXIT.failed]).toContain(whole.code);
    const doc = JSON.parse(whole.stdout) as ResultsDocument;
    expect(doc.results).toHaveLength(4);
    expect(doc.results.map((r) => `${r.scenario} ${r.kernel}`)).toEqual([
      "example-s4-transient-ref jhubbard-refcount-wait",
      "example-s4-transient-ref linux-7.0",
      "example-s5-lock-waiter jhubbard-refcount-wait",
      "example-s5-lock-waiter linux-7.0",
    ]);
    const dir = mkdtempSync(join(tmpdir(), "foliosim-shards-"));
    const wholeFile = join(dir, "whole.json");
    await cli("compare", ...common, "--out", wholeFile);
    for (const i of [1, 2]) {
      const shard = await cli("compare", ...common, "--shard", `${i}/2`, "--out", join(dir, `part-${i}.json`));
      expect([EXIT.ok, EXIT.failed]).toContain(shard.code);
    }
    const merged = join(dir, "merged.json");
    const m = await cli("merge", join(dir, "part-2.json"), join(dir, "part-1.json"), "--out", merged, "--json");
    expect(readFileSync(merged, "utf8")).toBe(readFileSync(wholeFile, "utf8"));
    expect(JSON.parse(m.stdout)).toEqual(doc);
    const text = await cli("compare", ...common);
    expect(text.stdout).toContain("example-s4-transient-ref");
    expect(text.stdout).toMatch(/[✓✗⟳⊘?] (holds|fails|livelock|deadlock|inconclusive)/);
    expect(text.stdout).toContain("Budget: PCT depth 3, seed 1; budget 6 executions per cell");
  });

  it("merge refuses a missing shard with exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foliosim-shards-"));
    await cli("compare", ...common, "--shard", "1/2", "--out", join(dir, "p1.json"));
    const r = await cli("merge", join(dir, "p1.json"));
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("missing shard 2/2");
  });

  it("renders glyph and word per cell, with failure rate and cost", () => {
    const row = (kernel: string, outcome: "holds" | "fails" | "livelock" | "deadlock") => ({
      scenario: "s",
      kernel,
      strategy: "pct-d3",
      executions: 10,
      complete: false,
      verdict: outcome === "holds" ? ("holds" as const) : ("fails" as const),
      outcome,
      failures: [],
      metrics: { virtual_ns: { min: 1, median: 1500, max: 2 } },
      failureRate: { estimate: outcome === "holds" ? 0 : 0.5, low: 0, high: 1 },
      stopReason: "executions",
      inconclusive: 0,
    });
    const text = renderMatrix({ schemaVersion: 1, results: [row("a", "holds"), row("b", "fails"), row("c", "livelock"), row("d", "deadlock")] });
    expect(text).toContain("✓ holds 0% · 1.5 µs");
    expect(text).toContain("✗ fails 50% · 1.5 µs");
    expect(text).toContain("⟳ livelock 50%");
    expect(text).toContain("⊘ deadlock 50%");
  });

  it("marks a proven cell (DPOR complete) apart from a sampled one, in text, Markdown and JSON", async () => {
    const args = ["compare", "anon-lru-add-batch", "--kernel", "linux-7.3", "--strategy", "dpor", "--workers", "0"];
    const proven = JSON.parse((await cli(...args, "--json")).stdout) as ResultsDocument;
    expect(proven.results[0]).toMatchObject({ complete: true, proof: "proven", dpor: { complete: true, estimatedRemaining: 0 } });
    expect(proven.results[0].coverage).toEqual({ executions: proven.results[0].executions, maxPreemptions: expect.any(Number) });
    const cut = await cli(...args, "--budget", "2", "--fallback", "none", "--json");
    const row = (JSON.parse(cut.stdout) as ResultsDocument).results[0];
    expect(row).toMatchObject({ complete: false, proof: "sampled", executions: 2, coverage: { executions: 2, maxPreemptions: expect.any(Number) } });
    expect(row.coverage!.estimatedRemaining).toBeGreaterThan(0);
    const text = (await cli(...args, "--budget", "2", "--fallback", "none")).stdout;
    expect(text).toContain("✓ holds 0 failing · ");
    expect(text).toContain("≈ sampled");
    expect(text).toContain("Proofs: 0 of 1 cell proven (DPOR complete), 1 sampled.");
    expect(text).toMatch(/≈ anon-lru-add-batch on linux-7\.3: 2 DPOR executions, ~\d+ left, up to \d+ preemptions reached/);
    const md = (await cli(...args, "--markdown")).stdout;
    expect(md).toContain("| scenario | linux-7.3 |");
    expect(md).toMatch(/\| anon-lru-add-batch \| ✓ holds 0 failing · [^|]+ · ∎ proven \|/);
    expect(md).toContain("Proofs: 1 of 1 cell proven (DPOR complete), 0 sampled.");
    const deep = (await cli("compare", "hmm-drain-livelock", "--kernel", "linux-7.3", "--strategy", "dpor", "--deepen", "--budget", "60", "--workers", "0")).stdout;
    expect(deep).toContain("hmm-drain-livelock  ✓ holds 0 failing · ");
    expect(deep).toContain(" · ◐ bounded");
    expect(deep).toContain("Proofs: 0 of 1 cell proven (DPOR complete), 1 proven within a preemption bound, 0 sampled.");
    expect(deep).toMatch(/ {2}◐ hmm-drain-livelock on linux-7\.3: every schedule class with at most 1 preemption \(60 DPOR executions; at 2: ~\d+ left\)/);
    const pct = JSON.parse((await cli("compare", "anon-lru-add-batch", "--kernel", "linux-7.3", "--budget", "3", "--workers", "0", "--json")).stdout) as ResultsDocument;
    expect(pct.results[0]).toMatchObject({ complete: false, proof: "sampled", coverage: { executions: 3 } });
    expect(pct.results[0].coverage!.estimatedRemaining).toBeUndefined();
  });
  it("re-runs a DPOR cell its budget cut deepening the preemption bound, and reports it ◐ bounded k with both runs' coverage", async () => {
    const args = ["compare", "anon-lru-add-batch", "--kernel", "linux-7.3", "--strategy", "dpor", "--budget", "2", "--workers", "0"];
    const doc = JSON.parse((await cli(...args, "--json")).stdout) as ResultsDocument;
    expect(doc.budget).toContain("; a cell DPOR does not complete is re-run deepening the preemption bound within 2 executions;");
    const row = doc.results[0];
    expect(row).toMatchObject({ strategy: "dpor", verdict: "holds", complete: false, proof: "bounded", executions: 2 });
    expect(row.coverage).toEqual({ executions: 2, estimatedRemaining: 1, preemptionBound: 0, boundedComplete: true, exploringBound: 1, maxPreemptions: 0 });
    expect(row.fallback).toEqual({
      strategy: "dpor-deepen",
      reported: "deepen",
      unbounded: { executions: 2, budget: 2, verdict: "holds", stopReason: "executions", complete: false, estimatedRemaining: 1, maxPreemptions: 1 },
      deepen: { executions: 2, budget: 2, verdict: "holds", stopReason: "executions", complete: false, estimatedRemaining: 1, maxPreemptions: 0, provenBound: 0, exploringBound: 1 },
    });
    const text = (await cli(...args)).stdout;
    expect(text).toContain("anon-lru-add-batch  ✓ holds 0 failing · 15.7 µs · ◐ bounded 0\n");
    expect(text).toContain("        ◐ bounded k (DPOR explored every schedule class with at most k preemptions: see Proofs below)");
    expect(text).toContain("Proofs: 0 of 1 cell proven (DPOR complete), 1 proven within a preemption bound, 0 sampled.");
    expect(text).toContain("  ◐ anon-lru-add-batch on linux-7.3: every schedule class with at most 0 preemptions (2 DPOR executions; at 1: ~1 left); before it, unbounded DPOR: 2 executions, ~1 left");
    const md = (await cli(...args, "--markdown")).stdout;
    expect(md).toMatch(/\| anon-lru-add-batch \| ✓ holds 0 failing · [^|]+ · ◐ bounded 0 \|/);
    expect(md).toContain("◐ bounded k (DPOR complete within k preemptions)");
    // A larger re-run budget proves the whole space: proven, with the cut first run still on record.
    const whole = (JSON.parse((await cli(...args, "--fallback-budget", "10", "--json")).stdout) as ResultsDocument).results[0];
    expect(whole).toMatchObject({ complete: true, proof: "proven", executions: 6, fallback: { reported: "deepen", unbounded: { executions: 2, estimatedRemaining: 1 }, deepen: { executions: 6, budget: 10, complete: true, stopReason: "exhausted" } } });
    expect(whole.fallback!.deepen.provenBound).toBeUndefined();
    // A re-run too small to exhaust bound 0: the cut first run is reported, sampled, with the re-run on record.
    const small = (JSON.parse((await cli(...args, "--fallback-budget", "1", "--json")).stdout) as ResultsDocument).results[0];
    expect(small).toMatchObject({ proof: "sampled", executions: 2, coverage: { executions: 2, estimatedRemaining: 1 }, fallback: { reported: "unbounded", deepen: { executions: 1, budget: 1, complete: false, exploringBound: 0 } } });
    expect(small.fallback!.deepen.provenBound).toBeUndefined();
    expect((await cli(...args, "--fallback-budget", "1")).stdout).toContain("  ≈ anon-lru-add-batch on linux-7.3: 2 DPOR executions, ~1 left, up to 1 preemptions reached; then deepening the preemption bound: 1 execution, no bound proven");
    // --fallback none: the cut run, sampled, and no fallback field.
    const none = (JSON.parse((await cli(...args, "--fallback", "none", "--json")).stdout) as ResultsDocument).results[0];
    expect(none).toMatchObject({ proof: "sampled", executions: 2 });
    expect(none.fallback).toBeUndefined();
  });
});
