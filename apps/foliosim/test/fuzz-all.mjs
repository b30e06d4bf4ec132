#!/usr/bin/env node
/**
 * `pnpm test:fuzz`: the CLI fuzz at scale (test/cli-fuzz.test.ts over 10^5 files).
 *
 * The files are cut into chunks (FOLIOSIM_FUZZ_CHUNK, default 2,000), each run by one
 * vitest process of test/cli-fuzz.test.ts (in-process: the model loads once per chunk),
 * at most one process per available CPU at a time (FOLIOSIM_FUZZ_JOBS may ask for
 * fewer). Each finished chunk appends its figures to the ledger (FOLIOSIM_FUZZ_LEDGER,
 * default fuzz-ledger.ndjson in the system's temporary directory): a run that is
 * stopped says what it covered, and run again it skips the chunks already there.
 *
 * A chunk whose process dies without its figures (a signal, a V8 fatal error such as a
 * heap out of memory, a non-zero exit with no result) is a crash: the totals count one
 * crash per such chunk and list its file range (`dead`), to be bisected with
 * FOLIOSIM_FUZZ_START/FOLIOSIM_FUZZ_FILES; it is not written to the ledger, so the next
 * run tries it again.
 *
 * Prints the totals (files judged, rejected by validate, ran, internal errors, crashes,
 * hangs, wall and CPU seconds) and exits 1 when any chunk found a problem or died.
 *
 *   FOLIOSIM_FUZZ_FILES   files in all (100000)
 *   FOLIOSIM_FUZZ_START   the first file's index (0)
 *   FOLIOSIM_FUZZ_SEED    the sequence's seed (the test's default)
 *   FOLIOSIM_FUZZ_WORKER  a script run for each chunk instead of vitest (the runner's own
 *                         test; it gets the same environment and writes FOLIOSIM_FUZZ_FIGURES)
 */

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const APP = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const int = (name, fallback) => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) {
    console.error(`fuzz-all: ${name} expects a whole number, found "${raw}"`);
    process.exit(2);
  }
  return Number(raw);
};

const files = int("FOLIOSIM_FUZZ_FILES", 100_000);
const start = int("FOLIOSIM_FUZZ_START", 0);
const chunk = Math.max(1, int("FOLIOSIM_FUZZ_CHUNK", 2_000));
const cpus = availableParallelism();
const jobs = Math.max(1, Math.min(cpus, int("FOLIOSIM_FUZZ_JOBS", cpus)));
const seed = env.FOLIOSIM_FUZZ_SEED ?? "20261207";
const ledger = env.FOLIOSIM_FUZZ_LEDGER ?? join(tmpdir(), "fuzz-ledger.ndjson");
/** vitest's own entry point, run by this node (the workspace root holds it). */
const vitest = join(dirname(createRequire(join(APP, "package.json")).resolve("vitest/package.json")), "vitest.mjs");

/** Chunks already in the ledger (same seed): [start, files] → figures. */
function done() {
  const out = new Map();
  if (!existsSync(ledger)) return out;
  for (const line of readFileSync(ledger, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const f = JSON.parse(line);
    if (String(f.seed) === seed) out.set(`${f.start}+${f.files}`, f);
  }
  return out;
}

const previous = done();
const queue = [];
for (let s = start; s < start + files; s += chunk) queue.push({ start: s, files: Math.min(chunk, start + files - s) });
const results = queue.filter((c) => previous.has(`${c.start}+${c.files}`)).map((c) => previous.get(`${c.start}+${c.files}`));
const todo = queue.filter((c) => !previous.has(`${c.start}+${c.files}`));
/** Chunks whose process died without figures: { first, last, files, why }. */
const dead = [];
/** Chunks that finished with figures but a failing exit (their problems are in the figures). */
let failing = 0;
const t0 = performance.now();
console.error(`fuzz-all: ${files} files from ${start} (seed ${seed}) in ${queue.length} chunk(s) of ${chunk}, ${jobs} process(es) at a time; ${results.length} chunk(s) already in ${ledger}`);

function runChunk(c) {
  const figuresFile = join(tmpdir(), `fuzz-figures-${process.pid}-${c.start}.json`);
  rmSync(figuresFile, { force: true });
  return new Promise((resolve) => {
    const argv = env.FOLIOSIM_FUZZ_WORKER ? [env.FOLIOSIM_FUZZ_WORKER] : [vitest, "run", "test/cli-fuzz.test.ts"];
    const child = spawn(process.execPath, argv, {
      cwd: APP,
      env: { ...env, FOLIOSIM_FUZZ_START: String(c.start), FOLIOSIM_FUZZ_FILES: String(c.files), FOLIOSIM_FUZZ_SEED: seed, FOLIOSIM_FUZZ_FIGURES: figuresFile, CI: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.on("error", (error) => (output += String(error)));
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code, signal) => {
      const figures = readFigures(figuresFile);
      rmSync(figuresFile, { force: true });
      if (figures) {
        const { problems, ...counts } = figures;
        appendFileSync(ledger, JSON.stringify({ ...counts, problems: problems.length }) + "\n");
        results.push({ ...counts, problems: problems.length });
        if (code !== 0) {
          failing++;
          process.stderr.write(`fuzz-all: chunk ${c.start}+${c.files} found problems (exit ${code}):\n${output.slice(-4000)}\n`);
        }
      } else {
        const d = { first: c.start, last: c.start + c.files - 1, files: c.files, why: deathCause(code, signal, output) };
        dead.push(d);
        process.stderr.write(`fuzz-all: chunk of files ${d.first}-${d.last} died (${d.why}) without its figures: counted as a crash; bisect it with FOLIOSIM_FUZZ_START/FOLIOSIM_FUZZ_FILES:\n${output.slice(-4000)}\n`);
      }
      const n = results.reduce((a, f) => a + f.files, 0);
      process.stderr.write(`fuzz-all: ${n}/${files} files, ${Math.round((performance.now() - t0) / 1000)} s\n`);
      resolve();
    });
  });
}

/** A chunk's figures, or undefined when its process wrote none (or a torn file). */
function readFigures(file) {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Why a chunk's process ended without figures, in a few words. */
function deathCause(code, signal, output) {
  const fatal = /FATAL ERROR: ([^\n]*)/.exec(output);
  const how = signal ? `signal ${signal}` : `exit ${code}`;
  return fatal ? `V8 fatal error: ${fatal[1].trim()}, ${how}` : how;
}

async function lane() {
  for (let c = todo.shift(); c; c = todo.shift()) await runChunk(c);
}

await Promise.all(Array.from({ length: jobs }, lane));
const sum = (k) => results.reduce((a, f) => a + (f[k] ?? 0), 0);
dead.sort((a, b) => a.first - b.first);
const totals = {
  seed: Number(seed),
  files: sum("files"),
  validateRejected: sum("validateRejected"),
  ran: sum("ran"),
  internalErrors: sum("internalErrors"),
  crashes: sum("crashes") + dead.length,
  hangs: sum("hangs"),
  /** Files in chunks that died: not judged, each chunk one crash above. */
  filesNotJudged: dead.reduce((a, d) => a + d.files, 0),
  dead,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  chunkSeconds: Math.round(sum("seconds")),
};
console.log(`fuzz-all totals: ${JSON.stringify(totals)}`);
process.exit(failing > 0 || totals.internalErrors + totals.crashes + totals.hangs > 0 ? 1 : 0);
