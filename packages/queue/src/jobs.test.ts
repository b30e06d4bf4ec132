import { describe, expect, it } from "vitest";
import { cellJobId, checkCellResult, CorruptResultError, openResult, parseRedisUrl, redactUrl, sealResult, type CellJobData } from "./index.js";

const cell: CellJobData = { kind: "cell", modelVersion: "m1", scenarioId: "s", kernelId: "k", strategy: "pct-d3", options: { strategy: { kind: "pct", seed: 1 }, maxExecutions: 10 } };
const result = { scenarioId: "s", kernelId: "k", verdict: "holds", executions: 10 };

describe("job ids", () => {
  it("hash everything a result depends on", () => {
    const id = cellJobId(cell);
    expect(id).toMatch(/^cell-[0-9a-f]{40}$/);
    expect(cellJobId({ ...cell })).toBe(id);
    for (const changed of [{ modelVersion: "m2" }, { scenarioHash: "ab" }, { kernelId: "k2" }, { strategy: "x" }, { options: { ...cell.options, maxExecutions: 11 } }, { options: { ...cell.options, strategy: { kind: "pct" as const, seed: 2 } } }]) {
      expect(cellJobId({ ...cell, ...changed })).not.toBe(id);
    }
  });
});

describe("sealed results", () => {
  const open = (raw: unknown, modelVersion = "m1") => openResult(raw, "cell-1", modelVersion, checkCellResult(cell));

  it("open to the value they sealed", () => {
    expect(open(sealResult("cell-1", "m1", "h:1", result))).toEqual(result);
    expect(open(JSON.stringify(sealResult("cell-1", "m1", "h:1", result)))).toEqual(result);
  });

  it("refuse altered, misplaced, foreign and malformed results, saying why", () => {
    const sealed = sealResult("cell-1", "m1", "h:1", result);
    expect(() => open({ ...sealed, value: { ...result, verdict: "fails" } })).toThrow(/^job cell-1: the result's digest does not match its content \(computed by h:1\): it was altered after it was sealed$/);
    expect(() => open(sealResult("cell-2", "m1", "h:1", result))).toThrow(/^job cell-1: the stored result belongs to job cell-2$/);
    expect(() => open(sealResult("cell-1", "m0", "h:1", result))).toThrow(/^job cell-1: the result was computed by model version m0, this sweep needs m1$/);
    expect(() => open(null)).toThrow(/^job cell-1: the stored result is not a sealed result object \(found null\)$/);
    expect(() => open({ ...sealed, digest: 5 })).toThrow(/has no string field "digest"/);
    expect(() => open(sealResult("cell-1", "m1", "h:1", { ...result, kernelId: "k9" }))).toThrow(/^job cell-1: the result is for scenario "s", kernel "k9", not "s", "k"$/);
    expect(() => open(sealResult("cell-1", "m1", "h:1", { ...result, executions: -1 }))).toThrow(CorruptResultError);
  });
});

describe("Redis URLs", () => {
  it("accept redis:// and rediss://, and name what is wrong otherwise", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6379/2").port).toBe("6379");
    expect(parseRedisUrl("rediss://cache.example:6380").hostname).toBe("cache.example");
    expect(() => parseRedisUrl("localhost:6379")).toThrow(/^--queue expects a redis:\/\/ or rediss:\/\/ URL, found "localhost:6379"$/);
    expect(() => parseRedisUrl("127.0.0.1:6379")).toThrow(/^--queue expects a Redis URL such as redis:\/\/127\.0\.0\.1:6379, found "127\.0\.0\.1:6379"$/);
    expect(() => parseRedisUrl("")).toThrow(/^--queue expects a Redis URL such as redis:\/\/127\.0\.0\.1:6379, found ""$/);
    expect(redactUrl("redis://user:secret@h:1")).toBe("redis://user:***@h:1");
  });
});
