/**
 * Shared set-up of the queue tests: worker processes (the fixture script on the built
 * package), the bench loader of @foliosim/explore as the target loader, and matrices
 * small enough to run in seconds.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MatrixSpec, MatrixStrategy } from "@foliosim/explore";
import { stopChild } from "../testing.js";

const require = createRequire(import.meta.url);
const exploreDir = dirname(require.resolve("@foliosim/explore/package.json"));

/** The explorer's benchmark loader (B0-counter(N,K) etc. on kernels buggy/fixed; built to its dist-dev). */
export const BENCH_LOADER = pathToFileURL(join(exploreDir, "dist-dev", "bench-loader.js")).href;
export const MODEL = "test-model-1";

export interface WorkerProcess {
  child: ChildProcess;
  /** host:pid@model, as the worker names itself. */
  name: string;
  /** stderr lines so far. */
  lines: string[];
  /** Resolves with the first line matching, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface WorkerSettings {
  url: string;
  modelVersion?: string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  concurrency?: number;
}

export async function spawnWorker(settings: WorkerSettings): Promise<WorkerProcess> {
  const script = fileURLToPath(new URL("./worker-process.mjs", import.meta.url));
  const options = { loaderModule: BENCH_LOADER, modelVersion: MODEL, lockDurationMs: 1_500, stalledIntervalMs: 500, ...settings };
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onLine = (line: string): void => {
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  let buffer = "";
  const feed = (chunk: Buffer): void => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    parts.forEach(onLine);
  };
  child.stderr!.on("data", feed);
  child.stdout!.on("data", feed);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000): Promise<string> => {
    const seen = lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; lines: ${lines.join(" | ")}`)), timeoutMs);
      waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  };
  const name = (await waitFor(/^ready /)).slice("ready ".length);
  return { child, name, lines, waitFor, exited, stop: () => stopChild(child) };
}

/** Wait (at most 10 s) until the worker has a job started and not done, then kill -9 it; returns that job's id. */
export async function killInFlight(worker: WorkerProcess): Promise<{ jobId: string; killedAt: number }> {
  const idOf = (line: string): string => /\((\S+)\)$/.exec(line)![1];
  for (let i = 0; i < 2_000; i++) {
    const done = new Set(worker.lines.filter((l) => l.startsWith("done ")).map(idOf));
    const inFlight = worker.lines.filter((l) => l.startsWith("started ")).map(idOf).find((id) => !done.has(id));
    if (inFlight !== undefined) {
      worker.child.kill("SIGKILL");
      const killedAt = Date.now();
      await worker.exited;
      return { jobId: inFlight, killedAt };
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`worker never had a job in flight; lines: ${worker.lines.join(" | ")}`);
}

/** A matrix of 2 scenarios × 2 kernels × `seeds` PCT strategies (small cells). */
export function pctMatrix(seeds: number, executions = 25): MatrixSpec {
  const strategies: MatrixStrategy[] = Array.from({ length: seeds }, (_, i) => ({
    name: `pct-s${String(i + 1).padStart(2, "0")}`,
    options: { strategy: { kind: "pct", seed: i + 1 }, maxExecutions: executions, shrink: 30 },
  }));
  return { loaderModule: BENCH_LOADER, scenarios: ["B0-counter(2,2)", "B0-counter(2,3)"], kernels: ["buggy", "fixed"], strategies };
}
