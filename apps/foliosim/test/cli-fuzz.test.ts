/**
 * The seeded CLI fuzz test: mutations of the example files through `validate`, `run` and
 * `explore --budget 5` (test/fuzz.ts). 0 internal errors, 0 crashes, 0 hangs.
 *
 * The default suite runs 200 files. `pnpm test:fuzz` (test/fuzz-all.mjs) runs 10^5 as
 * slices of this test (FOLIOSIM_FUZZ_START, FOLIOSIM_FUZZ_FILES) in parallel processes,
 * one per available CPU; each slice writes its figures (files, rejected by validate,
 * ran, internal errors, crashes, hangs, seconds) to FOLIOSIM_FUZZ_FIGURES when set.
 */

import { writeFileSync } from "node:fs";
import { callNames } from "@foliosim/scenarios";
import { describe, expect, it } from "vitest";
import { fuzz, fuzzFile } from "./fuzz.js";

const FILES = Number(process.env.FOLIOSIM_FUZZ_FILES ?? 200);
const SEED = Number(process.env.FOLIOSIM_FUZZ_SEED ?? 20261207);
/** The first file's index: shards of one sequence run as FOLIOSIM_FUZZ_START=k·n FOLIOSIM_FUZZ_FILES=n. */
const START = Number(process.env.FOLIOSIM_FUZZ_START ?? 0);

describe("CLI fuzz (seeded mutations of the example files)", () => {
  // The culprits of the five chunks of `pnpm test:fuzz` (seed 20261207) that died of a V8
  // heap OOM: a page count of billions (an address, or ${hold_ns} = 500,000,000) sized an array.
  it("the five files that once killed their chunk are rejected by validate", async () => {
    const calls = [...callNames(), "bogus_call"];
    const culprits: [number, RegExp][] = [[17464, /pages: \$buf\n/], [32679, /pages: \$\{hold_ns\}\n/], [38610, /pages: \$buf\n/], [66717, /pages: \$\{hold_ns\}\n/], [79091, /pages: \$buf\n/]];
    for (const [n, pages] of culprits) {
      // The sequence still generates the file (it changes with the example files).
      expect(fuzzFile(20261207, n, calls).text, `file #${n}`).toMatch(pages);
      const f = await fuzz({ seed: 20261207, start: n, count: 1, calls });
      expect([f.files, f.validateRejected, f.internalErrors, f.crashes, f.hangs, f.problems], `file #${n}`).toEqual([1, 1, 0, 0, 0, []]);
    }
  });

  it(`${FILES} files through validate, run and explore --budget 5: no internal error, crash or hang`, async () => {
    const t0 = performance.now();
    const figures = await fuzz({
      seed: SEED,
      count: FILES,
      start: START,
      calls: [...callNames(), "bogus_call"],
      // Long runs say how far they are (figures so far) every 500 files.
      onFile: (n, f) => {
        if (FILES >= 1_000 && (n + 1 - START) % 500 === 0) process.stderr.write(`fuzz: ${n + 1 - START}/${FILES} files: ${JSON.stringify({ ...f, problems: f.problems.length, seconds: Math.round((performance.now() - t0) / 1000) })}\n`);
      },
    });
    const { problems, ...counts } = figures;
    console.error(`fuzz figures (seed ${SEED}): ${JSON.stringify({ ...counts, seconds: Math.round(counts.seconds) })}`);
    if (process.env.FOLIOSIM_FUZZ_FIGURES) writeFileSync(process.env.FOLIOSIM_FUZZ_FIGURES, JSON.stringify({ seed: SEED, start: START, ...figures }) + "\n");
    for (const p of problems) console.error(`--- ${p.file} (${p.command}): ${p.what}\n${p.text}`);
    expect(problems.map((p) => `${p.file} ${p.command}: ${p.what.split("\n")[0]}`)).toEqual([]);
    expect(counts.internalErrors + counts.crashes + counts.hangs).toBe(0);
    // The mutations must reach both sides: files that validate and run, and files validate rejects.
    expect(counts.ran).toBeGreaterThan(FILES / 20);
    expect(counts.validateRejected).toBeGreaterThan(FILES / 5);
  }, Math.max(600_000, FILES * 2_000));
});
