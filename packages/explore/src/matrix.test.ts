// The verdict matrix: the same bytes in this thread, on 1 worker, on 2 workers, and as
// merged shards; the pool runs the built worker against a plain-JavaScript loader.
import { beforeAll, describe, expect, it } from "vitest";
import { runCell } from "./cell.js";
import { ensureBuilt } from "./__fixtures__/build.js";
import { matrixCells, matrixJson, mergeMatrix, parseShard, runMatrix, shardCells, type MatrixSpec } from "./matrix.js";

const loaderModule = new URL("./__fixtures__/loader.js", import.meta.url).href;

const spec: MatrixSpec = {
  loaderModule,
  scenarios: ["handoff", "counter"],
  kernels: ["fixed", "buggy"],
  strategies: [
    { name: "pct", options: { strategy: { kind: "pct", seed: 7 }, maxExecutions: 200, stopAtFirstFailure: false } },
    { name: "dpor", options: { strategy: { kind: "dpor" }, stopAtFirstFailure: false } },
    { name: "random", options: { strategy: { kind: "random", seed: 3 }, maxExecutions: 100 } },
  ],
};

describe("matrix cells", () => {
  it("are sorted and sharded every N-th", () => {
    const cells = matrixCells(spec);
    expect(cells.map((c) => `${c.scenarioId}/${c.kernelId}/${c.strategy}`).slice(0, 3)).toEqual(["counter/buggy/dpor", "counter/buggy/pct", "counter/buggy/random"]);
    const shards = [1, 2, 3].map((index) => shardCells(cells, { index, count: 3 }));
    expect(shards.flat().length).toBe(cells.length);
    expect(parseShard("2/3")).toEqual({ index: 2, count: 3 });
    expect(() => parseShard("4/3")).toThrow(/from 1 to N/);
  });

  it("runCell runs in this thread", async () => {
    const result = await runCell({ loaderModule, scenarioId: "handoff", kernelId: "buggy", strategy: "dpor", options: { strategy: { kind: "dpor" } } });
    expect(result.verdict).toBe("fails");
    expect(result.failures[0].message).toBe("consumer saw the flag before the data");
  });
});

describe("matrix determinism", () => {
  beforeAll(ensureBuilt, 120_000);

  it("gives identical bytes in-thread, on 1 worker, on 2 workers, and merged from shards", async () => {
    const inThread = matrixJson(await runMatrix(spec, { workers: 0 }));
    const one = matrixJson(await runMatrix(spec, { workers: 1 }));
    const two = matrixJson(await runMatrix(spec, { workers: 2 }));
    expect(one).toBe(inThread);
    expect(two).toBe(inThread);
    const shards = await Promise.all([1, 2, 3].map((index) => runMatrix(spec, { workers: 1, shard: { index, count: 3 } })));
    // Shards travel as JSON files: merge what was parsed back.
    const parsed = shards.reverse().map((s) => JSON.parse(matrixJson(s)));
    expect(matrixJson(mergeMatrix(parsed))).toBe(inThread);
    const document = JSON.parse(inThread);
    const verdicts = Object.fromEntries(document.cells.map((c: { scenarioId: string; kernelId: string; strategy: string; result: { verdict: string } }) => [`${c.scenarioId}/${c.kernelId}/${c.strategy}`, c.result.verdict]));
    expect(verdicts["counter/buggy/dpor"]).toBe("fails");
    expect(verdicts["counter/fixed/dpor"]).toBe("holds");
    expect(verdicts["handoff/fixed/pct"]).toBe("holds");
  });

  it("merge refuses missing and repeated shards", async () => {
    const first = await runMatrix(spec, { workers: 0, shard: { index: 1, count: 2 } });
    expect(() => mergeMatrix([first])).toThrow(/missing shard 2\/2/);
    expect(() => mergeMatrix([first, first])).toThrow(/given twice/);
  });
});
