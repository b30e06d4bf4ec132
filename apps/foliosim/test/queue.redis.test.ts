/**
 * `foliosim worker` and `--queue`, as a user runs them: a real redis-server on a free
 * loopback port, the built binary as worker and as enqueuer. The documents must equal
 * the single-process ones byte for byte. (Fault tolerance — kill -9, long jobs,
 * duplicates, corrupt results — is tested in @foliosim/queue.)
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startRedis, stopChild, type RedisServer } from "@foliosim/queue/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(fileURLToPath(new URL("..", import.meta.url)), "dist", "bin.js");
let redis: RedisServer;
let worker: ChildProcess;
let workerLog = "";

function foliosim(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, CI: "1" }, timeout: 110_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  redis = await startRedis();
  worker = spawn(process.execPath, [BIN, "worker", "--queue", redis.url, "--concurrency", "2", "--lock-duration", "5000", "--stalled-interval", "2000"], { stdio: ["ignore", "ignore", "pipe"] });
  worker.stderr!.on("data", (chunk: Buffer) => (workerLog += chunk.toString()));
  for (let i = 0; i < 600 && !workerLog.includes("taking jobs from"); i++) await new Promise((r) => setTimeout(r, 100));
  expect(workerLog).toMatch(/^foliosim worker \S+:\d+@\S+: taking jobs from redis:\/\/127\.0\.0\.1:\d+\/?, 2 at a time/m);
});

afterAll(async () => {
  if (worker) await stopChild(worker, 20_000);
  await redis?.stop();
});

describe("foliosim on a queue", () => {
  it("compare --queue prints the single-process document, and a second run reuses every cell", () => {
    const args = ["compare", "pkvm-mlock-cma", "pin-clean-unpinnable", "--kernel", "linux-6.11", "--kernel", "will-v1", "--budget", "6", "--json"];
    const single = foliosim([...args, "--workers", "0"]);
    const queued = foliosim([...args, "--queue", redis.url]);
    expect(queued.stderr).toMatch(/queue: 4\/4 cells done, \d+ executions, 1 worker\(s\) seen/);
    expect(queued.code).toBe(single.code);
    expect(queued.stdout).toBe(single.stdout);
    const again = foliosim([...args, "--queue", redis.url]);
    expect(again.stdout).toBe(single.stdout);
    expect(again.stderr).toMatch(/queue: 4\/4 cells done, 4 reused/);
  });

  it("explore --strategy dpor --queue prints the single-process document, split or not", () => {
    const args = ["explore", "pkvm-mlock-cma", "--kernel", "will-v1", "--strategy", "dpor", "--json"];
    const single = foliosim(args);
    expect(single.code).toBe(0);
    const queued = foliosim([...args, "--queue", redis.url]);
    expect(queued.stdout).toBe(single.stdout);
    const split = foliosim([...args, "--queue", redis.url, "--split-after", "1"]);
    const row = JSON.parse(split.stdout).results[0];
    expect(split.stderr).toMatch(/queue: (\d+)\/\1 sub-jobs done, \d+ executions, 1 worker\(s\) seen\n$/);
    expect(row).toMatchObject({ verdict: "holds", complete: true });
    // Sleep sets are dropped at each split boundary: a split proof may run more executions, never fewer.
    expect(row.executions).toBeGreaterThanOrEqual(JSON.parse(single.stdout).results[0].executions);
  });

  it("names bad queue input and exits 2", async () => {
    const port = await freePort();
    const unreachable = foliosim(["compare", "pkvm-mlock-cma", "--kernel", "will-v1", "--queue", `redis://127.0.0.1:${port}`]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toMatch(new RegExp(`^foliosim: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/?: .* \\(is redis-server running there\\? see foliosim worker --help\\)\\n$`));
    const pct = foliosim(["explore", "pkvm-mlock-cma", "--queue", redis.url]);
    expect(pct.code).toBe(2);
    expect(pct.stderr).toBe("foliosim: explore --queue splits DPOR proofs (--strategy dpor); for pct sweeps use compare --queue\n");
    const shard = foliosim(["compare", "pkvm-mlock-cma", "--shard", "1/2", "--out", join(tmpdir(), "foliosim-shard-1.json"), "--queue", redis.url]);
    expect(shard.stderr).toBe("foliosim: give --queue or --shard, not both (--shard is the no-Redis way to split a sweep)\n");
    const concurrency = foliosim(["worker", "--queue", redis.url, "--concurrency", "0"]);
    expect(concurrency.code).toBe(2);
    expect(concurrency.stderr).toBe('foliosim: --concurrency expects an integer ≥ 1, found "0"\n');
  });

  it("a worker stops on SIGTERM after its running jobs", async () => {
    const w = spawn(process.execPath, [BIN, "worker", "--queue", redis.url], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    w.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
    for (let i = 0; i < 600 && !log.includes("taking jobs from"); i++) await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<number | null>((resolve) => w.once("exit", (code) => resolve(code)));
    w.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(log).toMatch(/SIGTERM: finishing the running jobs, then stopping\n$/);
  });
});
