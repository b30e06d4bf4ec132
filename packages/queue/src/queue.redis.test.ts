import { exploreSplit, matrixJson, runMatrix, type CellOptions, type ExploreTarget, type MatrixSpec } from "@foliosim/explore";
import { QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { cellJobId, cellJobs, CorruptResultError, dporJobId, enqueueJobs, runDporOnQueue, openQueue, QUEUE_NAME, QueueConfigError, QueueConnectionError, QueueJobError, runMatrixOnQueue, startQueueWorker, type CellJobData } from "./index.js";
import { freePort, startRedis, type RedisServer } from "./testing.js";
import { BENCH_LOADER, killInFlight, MODEL, pctMatrix, spawnWorker, type WorkerProcess } from "./__fixtures__/harness.js";

let redis: RedisServer;
let admin: Redis;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  admin.disconnect();
  await redis.stop();
});
beforeEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await admin.flushall();
});

async function reference(spec: MatrixSpec): Promise<string> {
  return matrixJson(await runMatrix(spec, { workers: 0 }));
}

/** Count 'completed' events per job: each is one accepted result. */
async function countCompletions(): Promise<{ counts: Map<string, number>; close(): Promise<void> }> {
  const events = new QueueEvents(QUEUE_NAME, { connection: { url: redis.url } as never });
  await events.waitUntilReady();
  const counts = new Map<string, number>();
  events.on("completed", ({ jobId }) => counts.set(jobId, (counts.get(jobId) ?? 0) + 1));
  return { counts, close: () => events.close() };
}

describe("a sweep on the queue", () => {
  it("survives kill -9 of one of two workers: every cell accepted once, the same document as one process", async () => {
    const spec = pctMatrix(26);
    const expected = await reference(spec);
    const completions = await countCompletions();
    const a = await spawnWorker({ url: redis.url });
    const b = await spawnWorker({ url: redis.url });
    workers.push(a, b);
    const seen = new Set<string>();
    const sweep = runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 90_000, pollMs: 100, onProgress: (p) => p.workers.forEach((w) => seen.add(w)) });
    // Let worker a finish a few cells, then kill it while its next cell is in flight.
    await a.waitFor(/^done /);
    for (let i = 0; i < 400 && a.lines.filter((l) => l.startsWith("done ")).length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    const { jobId: inFlight, killedAt } = await killInFlight(a);
    const document = await sweep;
    const finished = (await openQueue(admin).getJob(inFlight))!;
    await completions.close();
    expect(matrixJson(document)).toBe(expected);
    expect([...seen].sort()).toEqual([a.name, b.name].sort());
    const ids = cellJobs(spec, { modelVersion: MODEL }).map(cellJobId);
    expect(ids.length).toBeGreaterThanOrEqual(100);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map((id) => completions.counts.get(id) ?? 0)).toEqual(ids.map(() => 1));
    expect([...completions.counts.keys()].sort()).toEqual([...ids].sort());
    // The killed worker's cell was taken over by b within the lease settings (lock 1.5 s,
    // stalled check every 0.5 s) plus slack for a loaded machine.
    expect(finished.processedOn! - killedAt).toBeLessThan(1_500 + 500 + 5_000);
    // (Not asserted: BullMQ's stalledCounter. A lock that lapses before the stalled check
    // runs lets b take the job as waiting, which leaves it at 0 on a fast machine.)
    expect(b.lines.some((l) => l.startsWith("done ") && l.endsWith(`(${inFlight})`))).toBe(true);
  });

  // The cell must outlast the 600 ms lock on a fast, idle machine too: 8,000 PCT executions.
  it("runs a cell longer than the lock duration exactly once", async () => {
    const spec: MatrixSpec = { loaderModule: BENCH_LOADER, scenarios: ["B2-window(64)"], kernels: ["fixed"], strategies: [{ name: "pct", options: { strategy: { kind: "pct", seed: 1 }, maxExecutions: 8_000 } }] };
    const completions = await countCompletions();
    const w = await spawnWorker({ url: redis.url, lockDurationMs: 600, stalledIntervalMs: 300 });
    workers.push(w);
    const document = await runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 60_000, pollMs: 100 });
    await completions.close();
    const [id] = cellJobs(spec, { modelVersion: MODEL }).map(cellJobId);
    const job = (await openQueue(admin).getJob(id))!;
    expect(job.finishedOn! - job.processedOn!).toBeGreaterThan(600);
    expect(completions.counts.get(id)).toBe(1);
    expect(w.lines.filter((l) => l.startsWith("started ")).length).toBe(1);
    expect(job.attemptsStarted).toBe(1);
    expect(job.stalledCounter).toBe(0);
    expect(matrixJson(document)).toBe(await reference(spec));
  });

  it("a worker told twice to stop returns its running cell to the queue at once; another runs it, accepted once", async () => {
    const spec: MatrixSpec = { loaderModule: BENCH_LOADER, scenarios: ["B2-window(64)"], kernels: ["fixed"], strategies: [{ name: "pct", options: { strategy: { kind: "pct", seed: 2 }, maxExecutions: 8_000 } }] };
    const completions = await countCompletions();
    const a = await spawnWorker({ url: redis.url, lockDurationMs: 30_000, stalledIntervalMs: 30_000 });
    workers.push(a);
    const sweep = runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 60_000, pollMs: 100 });
    const [id] = cellJobs(spec, { modelVersion: MODEL }).map(cellJobId);
    await a.waitFor(/^started /);
    a.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    a.child.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(a.lines).toContain(`returned ${id} to the queue`);
    expect(await openQueue(admin).getJobState(id)).toBe("waiting");
    const b = await spawnWorker({ url: redis.url, lockDurationMs: 30_000, stalledIntervalMs: 30_000 });
    workers.push(b);
    const document = await sweep;
    await completions.close();
    expect(completions.counts.get(id)).toBe(1);
    expect(b.lines.filter((l) => l.startsWith("done ")).length).toBe(1);
    expect(matrixJson(document)).toBe(await reference(spec));
  });

  it("adds no job when the same sweep is enqueued twice", async () => {
    const spec = pctMatrix(3);
    const queue = openQueue(admin);
    const jobs = cellJobs(spec, { modelVersion: MODEL });
    const first = await enqueueJobs(queue, jobs, (d) => cellJobId(d as CellJobData));
    const counts = await queue.getJobCounts();
    const second = await enqueueJobs(queue, jobs, (d) => cellJobId(d as CellJobData));
    expect(first).toMatchObject({ added: 12, existing: 0 });
    expect(second).toMatchObject({ added: 0, existing: 12, retried: 0 });
    expect(second.jobIds).toEqual(first.jobIds);
    expect(await queue.getJobCounts()).toEqual(counts);
    expect(await admin.keys(`bull:${QUEUE_NAME}:cell-*`)).toHaveLength(12);
  });
});

describe("a DPOR proof split on the queue", () => {
  it("survives kill -9 of one of two workers: the executions of the accepted sub-jobs add up to the in-process split's, complete", async () => {
    const options: CellOptions = { strategy: { kind: "dpor" }, stopAtFirstFailure: false, shrink: false };
    const load = ((await import(BENCH_LOADER)) as { default: (s: string, k: string) => ExploreTarget }).default;
    const expected = exploreSplit(load("B0-counter(3,3)", "fixed"), options, 60);
    const completions = await countCompletions();
    const a = await spawnWorker({ url: redis.url });
    const b = await spawnWorker({ url: redis.url });
    workers.push(a, b);
    const run = runDporOnQueue({ scenarioId: "B0-counter(3,3)", kernelId: "fixed" }, options, { url: redis.url, modelVersion: MODEL, splitAfter: 60, timeoutMs: 90_000, pollMs: 50 });
    await a.waitFor(/^done dpor /);
    const { jobId: killed } = await killInFlight(a);
    const got = await run;
    await completions.close();
    const ids = got.outputs.map((o) => dporJobId({ kind: "dpor", modelVersion: MODEL, scenarioId: "B0-counter(3,3)", kernelId: "fixed", options, prefix: o.prefix, splitAfter: 60 }));
    expect(ids).toContain(killed);
    expect(b.lines.some((l) => l.startsWith("done dpor") && l.endsWith(`(${killed})`))).toBe(true);
    // What is compared: the sub-jobs (prefixes) and their executions against exploreSplit
    // in this process with the same split size; each sub-job accepted exactly once.
    expect(got.outputs.map((o) => [o.prefix.join(","), o.result.executions])).toEqual(expected.outputs.map((o) => [o.prefix.join(","), o.result.executions]));
    expect(got.outputs.reduce((n, o) => n + o.result.executions, 0)).toBe(expected.result.executions);
    expect(got.result).toEqual(expected.result);
    expect(got.result.dpor!.complete).toBe(true);
    expect(got.result.verdict).toBe("holds");
    expect(got.outputs.length).toBeGreaterThan(10);
    expect(expected.result.executions).toBeGreaterThanOrEqual(1_680);
    expect(ids.map((id) => completions.counts.get(id) ?? 0)).toEqual(ids.map(() => 1));
  });
});

describe("bad input on the queue", () => {
  it("names an unreachable Redis URL and a URL that is not Redis", async () => {
    const port = await freePort();
    const spec = pctMatrix(1);
    await expect(runMatrixOnQueue(spec, { url: `redis://127.0.0.1:${port}`, modelVersion: MODEL })).rejects.toThrow(new RegExp(`^cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: `));
    await expect(runMatrixOnQueue(spec, { url: "http://127.0.0.1:6379", modelVersion: MODEL })).rejects.toThrow(QueueConnectionError);
    await expect(runMatrixOnQueue(spec, { url: "not a url", modelVersion: MODEL })).rejects.toThrow(/--queue expects a Redis URL such as redis:\/\/127\.0\.0\.1:6379, found "not a url"/);
  });

  it("refuses inline processors at configuration time", async () => {
    await expect(startQueueWorker({ url: redis.url, loaderModule: BENCH_LOADER, modelVersion: MODEL, sandbox: "inline" })).rejects.toThrow(QueueConfigError);
    await expect(startQueueWorker({ url: redis.url, loaderModule: BENCH_LOADER, modelVersion: MODEL, concurrency: 0 })).rejects.toThrow(/--concurrency expects a whole number ≥ 1, found 0/);
  });

  it("stops a worker of another model version and merges nothing", async () => {
    const spec = pctMatrix(1);
    const w = await spawnWorker({ url: redis.url, modelVersion: "test-model-0" });
    workers.push(w);
    const error = await runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 30_000, pollMs: 100 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(QueueJobError);
    expect((error as Error).message).toMatch(/: ModelVersionMismatch: worker \S+ runs model version test-model-0, job cell-\w+ needs test-model-1; no worker of model version test-model-1 has been seen/);
    expect(await w.exited).toBe(2);
    expect(w.lines.some((l) => /this worker stops/.test(l))).toBe(true);
    expect(await openQueue(admin).getJobCounts("completed")).toEqual({ completed: 0 });
  });

  it("refuses a corrupt stored result, discards it, and recomputes it on the next run", async () => {
    const spec = pctMatrix(1);
    const w = await spawnWorker({ url: redis.url });
    workers.push(w);
    const expected = matrixJson(await runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 30_000, pollMs: 100 }));
    const id = cellJobs(spec, { modelVersion: MODEL }).map(cellJobId)[2];
    const key = `bull:${QUEUE_NAME}:${id}`;
    const stored = JSON.parse((await admin.hget(key, "returnvalue"))!);
    stored.value.verdict = stored.value.verdict === "holds" ? "fails" : "holds";
    await admin.hset(key, "returnvalue", JSON.stringify(stored));
    const error = await runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 30_000, pollMs: 100 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(CorruptResultError);
    expect((error as Error).message).toMatch(new RegExp(`^cell B0-counter\\(2,\\d\\) × \\w+ × pct-s01: job ${id}: the result's digest does not match its content \\(computed by \\S+\\): it was altered after it was sealed; the result was discarded \\(nothing merged\\)`));
    expect(await admin.exists(key)).toBe(0);
    expect(matrixJson(await runMatrixOnQueue(spec, { url: redis.url, modelVersion: MODEL, timeoutMs: 30_000, pollMs: 100 }))).toBe(expected);
    expect(expected).toBe(await reference(spec));
  });
});
