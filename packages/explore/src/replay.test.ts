// Tokens and replay: round trips, refusal of foreign tokens, bit-for-bit replay in this
// process and in a child process running the built code; shrinking never passes.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { explore } from "./explore.js";
import { replay } from "./replay.js";
import { classify, isFailure } from "./target.js";
import { decodeToken, encodeToken, TokenError } from "./token.js";
import { batchRef, counter, windowProgram } from "./bench/programs.js";
import { ensureBuilt } from "./__fixtures__/build.js";
import load from "./__fixtures__/loader.js";

describe("tokens", () => {
  it("round-trip decisions, small and large", () => {
    const decisions = [0, 1, 2, 127, 128, 300, 16384, 0];
    const token = encodeToken({ scenarioId: "s", kernelId: "k" }, decisions);
    expect(token).toMatch(/^fs1\.[0-9a-f]{8}\.[A-Za-z0-9_-]*$/);
    expect(decodeToken(token).decisions).toEqual(decisions);
  });

  it("of an empty schedule do not end in a bare dot, and the old form still reads", () => {
    const token = encodeToken({ scenarioId: "s", kernelId: "k" }, []);
    expect(token).toMatch(/^fs1\.[0-9a-f]{8}$/);
    expect(decodeToken(token).decisions).toEqual([]);
    expect(decodeToken(`${token}.`).decisions).toEqual([]);
  });

  it("are refused by another scenario or kernel, naming both", () => {
    const buggy = counter(2, 2, "buggy");
    const fixed = counter(2, 2, "fixed");
    const token = explore(buggy, { strategy: { kind: "dpor" } }).firstFailure!.token;
    expect(() => replay(fixed, token)).toThrow(TokenError);
    expect(() => replay(fixed, token, { known: [buggy] })).toThrow(
      /recorded for scenario "B0-counter\(2,2\)", kernel "buggy" \(hash [0-9a-f]{8}\), not for scenario "B0-counter\(2,2\)", kernel "fixed"/,
    );
    expect(() => replay(windowProgram(4, "buggy"), token)).toThrow(/not for scenario "B2-window\(4\)", kernel "buggy"/);
    expect(() => replay(buggy, "fs2.00000000.AA")).toThrow(/version "fs2" is not supported/);
  });
});

describe("replay", () => {
  it("reproduces the trace hash bit for bit, and the reported failure", () => {
    const target = windowProgram(6, "buggy");
    const result = explore(target, { strategy: { kind: "pct", seed: 5 }, maxExecutions: 5_000 });
    const first = result.firstFailure!;
    for (const [token, hash] of [[first.token, first.traceHash], [first.shrunk.token, first.shrunk.traceHash]]) {
      const again = replay(target, token);
      expect(again.result.traceHash).toBe(hash);
      expect(isFailure(again.outcome) && again.outcome.signature).toBe(first.signature);
    }
    const asStrategy = explore(target, { strategy: { kind: "replay", token: first.token } });
    expect(asStrategy.replay!.traceHash).toBe(first.traceHash);
    expect(asStrategy.verdict).toBe("fails");
  });

  describe("across processes", () => {
    beforeAll(ensureBuilt, 120_000);
    it("a child process running the built code gives the same trace hash", () => {
      const target = load("counter", "buggy");
      const result = explore(target, { strategy: { kind: "random", seed: 11 }, maxExecutions: 500 });
      const token = result.firstFailure!.token;
      const dist = new URL("../dist/index.js", import.meta.url).href;
      const loader = new URL("./__fixtures__/loader.js", import.meta.url).href;
      const script = `const { replay } = await import(${JSON.stringify(dist)}); const load = (await import(${JSON.stringify(loader)})).default;
        const r = replay(load("counter", "buggy"), ${JSON.stringify(token)}); console.log(r.result.traceHash);`;
      const output = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: fileURLToPath(new URL("..", import.meta.url)), encoding: "utf8" });
      expect(output.trim()).toBe(result.firstFailure!.traceHash);
    });
  });
});

describe("shrinking", () => {
  it("never returns a passing schedule, and never a worse one", () => {
    for (const [target, seed] of [[counter(3, 2, "buggy"), 1], [batchRef(6, 2, "buggy"), 2], [windowProgram(5, "buggy"), 3], [counter(2, 3, "buggy"), 4]] as const) {
      const result = explore(target, { strategy: { kind: "random", seed }, maxExecutions: 2_000 });
      const first = result.firstFailure!;
      const shrunk = replay(target, first.shrunk.token);
      const outcome = classify(target, shrunk.result);
      expect(isFailure(outcome)).toBe(true);
      expect(isFailure(outcome) && outcome.signature).toBe(first.signature);
      const better = first.shrunk.preemptions < first.preemptions || (first.shrunk.preemptions === first.preemptions && first.shrunk.steps <= first.steps);
      expect(better).toBe(true);
    }
  });

  it("reports the B3 livelock with task names and what each retries", () => {
    const result = explore(batchRef(4, 2, "liveness"), { strategy: { kind: "pct", seed: 1 }, maxExecutions: 10 });
    expect(result.firstFailure!.kind).toBe("livelock");
    const tasks = result.firstFailure!.explanation.hang!.tasks;
    expect(tasks.map((t) => t.task).sort()).toEqual(["holder", "migrator"]);
    expect(tasks.find((t) => t.task === "migrator")!.waitsFor).toContain("folio_expected_ref_count");
    expect(tasks.find((t) => t.task === "holder")!.waitsFor).toContain("lru_add_drain");
  });
});
