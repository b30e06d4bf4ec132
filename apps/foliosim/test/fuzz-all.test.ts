/**
 * The fuzz runner's accounting (test/fuzz-all.mjs), with a stand-in for the vitest chunk
 * (FOLIOSIM_FUZZ_WORKER): a chunk whose process dies without figures (a V8 fatal error,
 * a signal, an exit with no result) is a crash with its file range in the totals, never
 * a silently "failed chunk", and the next run resumes it from the ledger.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const RUNNER = fileURLToPath(new URL("./fuzz-all.mjs", import.meta.url));

/** A chunk stand-in: dies as FAKE_DIE says for its start, or writes figures as cli-fuzz.test.ts does. */
const WORKER = `
import { writeFileSync } from "node:fs";
const env = process.env;
const start = Number(env.FOLIOSIM_FUZZ_START), files = Number(env.FOLIOSIM_FUZZ_FILES);
const die = JSON.parse(env.FAKE_DIE ?? "{}")[start];
if (die === "oom") {
  process.stderr.write("\\n#\\n# Fatal error in , line 0\\n# FATAL ERROR: invalid table size Allocation failed - JavaScript heap out of memory\\n");
  process.kill(process.pid, "SIGKILL");
} else if (die === "exit") process.exit(3);
else writeFileSync(env.FOLIOSIM_FUZZ_FIGURES, JSON.stringify({ seed: Number(env.FOLIOSIM_FUZZ_SEED), start, files, validateRejected: files - 1, ran: 1, internalErrors: 0, crashes: 0, hangs: 0, seconds: 0.5, problems: [] }) + "\\n");
`;

function runner(dir: string, die: Record<number, string>): { code: number | null; totals: Record<string, unknown>; stderr: string } {
  const r = spawnSync(process.execPath, [RUNNER], {
    encoding: "utf8",
    env: { ...process.env, FOLIOSIM_FUZZ_WORKER: join(dir, "worker.mjs"), FOLIOSIM_FUZZ_LEDGER: join(dir, "ledger.ndjson"), FOLIOSIM_FUZZ_FILES: "8", FOLIOSIM_FUZZ_START: "100", FOLIOSIM_FUZZ_CHUNK: "2", FOLIOSIM_FUZZ_JOBS: "1", FOLIOSIM_FUZZ_SEED: "7", FAKE_DIE: JSON.stringify(die) },
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("fuzz-all totals: "));
  return { code: r.status, totals: JSON.parse(line!.slice("fuzz-all totals: ".length)), stderr: r.stderr };
}

describe("pnpm test:fuzz's runner", () => {
  it("counts a chunk that dies (V8 fatal, signal, exit without figures) as a crash with its file range, and resumes it on the next run", () => {
    const dir = mkdtempSync(join(tmpdir(), "foliosim-fuzz-all-"));
    writeFileSync(join(dir, "worker.mjs"), WORKER);
    const first = runner(dir, { 102: "oom", 104: "exit" });
    expect(first.code).toBe(1);
    expect(first.totals).toMatchObject({
      seed: 7,
      files: 4,
      validateRejected: 2,
      ran: 2,
      internalErrors: 0,
      crashes: 2,
      hangs: 0,
      filesNotJudged: 4,
      dead: [
        { first: 102, last: 103, files: 2, why: "V8 fatal error: invalid table size Allocation failed - JavaScript heap out of memory, signal SIGKILL" },
        { first: 104, last: 105, files: 2, why: "exit 3" },
      ],
    });
    expect(first.stderr).toMatch(/chunk of files 102-103 died \(V8 fatal error: invalid table size.*\) without its figures: counted as a crash/);
    const ledger = () => readFileSync(join(dir, "ledger.ndjson"), "utf8").trim().split("\n").map((l) => JSON.parse(l).start);
    expect(ledger()).toEqual([100, 106]);

    const second = runner(dir, {});
    expect(second.code).toBe(0);
    expect(second.totals).toMatchObject({ files: 8, validateRejected: 4, ran: 4, crashes: 0, filesNotJudged: 0, dead: [] });
    expect(ledger()).toEqual([100, 106, 102, 104]);
  });
});
