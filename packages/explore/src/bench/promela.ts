/**
 * The same programs as Promela models for spin (one shared access per statement),
 * and a runner: `spin -a`, `gcc`, `./pan`; the figures come from pan's report. When
 * spin or gcc is missing, the caller skips the row.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function repeat(count: number, line: (i: number) => string): string {
  return Array.from({ length: count }, (_, i) => line(i)).join("\n");
}

export function pmlCounter(n: number, k: number, variant: "buggy" | "fixed"): string {
  const body = variant === "fixed" ? repeat(k, () => "  count++;") : repeat(k, () => "  v = count;\n  count = v + 1;");
  return `byte count = 0; byte finished = 0;
active [${n}] proctype inc() { byte v;
${body}
  finished++
}
active proctype check() { (finished == ${n}) -> assert(count == ${n * k}) }`;
}

export function pmlRunahead(l: number, variant: "buggy" | "fixed"): string {
  return `bit flag = 0; byte work = 0;
active proctype worker() {
${repeat(l, (i) => `  work = ${(i + 1) % 256};`)}
  flag = 1
}
active proctype checker() { bit seen; seen = flag; ${variant === "buggy" ? "assert(seen == 0)" : "skip"} }`;
}

export function pmlWindow(l: number, variant: "buggy" | "fixed"): string {
  const window = variant === "buggy" ? "  x = 1;\n  x = 0" : "  atomic { x = 1; x = 0 }";
  return `bit x = 0; byte work = 0; byte noise[2];
active proctype worker() {
${repeat(l, (i) => `  work = ${(i + 1) % 256};`)}
${window}
}
active proctype checker() { bit seen; seen = x; assert(seen == 0) }
active [2] proctype noisy() {
${repeat(4, (i) => `  noise[_pid - 2] = ${i + 1};`)}
}`;
}

export function pmlBatchRef(m: number, r: number, variant: "buggy" | "fixed"): string {
  const drain0 = "atomic { if :: batch0 == 1 -> batch0 = 0; ref-- :: else -> skip fi }";
  return `byte ref = 1; bit batch0 = 0; bit batch1 = 0; byte work = 0; bit migrated = 0;
active proctype holder() {
  atomic { ref++; batch0 = 1 };
${repeat(m, (i) => `  work = ${(i + 1) % 256};`)}
  ${drain0}
}
active proctype migrator() { byte refs; byte attempt = 0;
  do
  :: attempt < ${r} ->
       ${variant === "fixed" ? drain0 + ";" : ""}
       atomic { if :: batch1 == 1 -> batch1 = 0 :: else -> skip fi };
       refs = ref;
       if :: refs == 1 -> migrated = 1; break :: else -> attempt++ fi
  :: else -> break
  od;
  assert(migrated == 1)
}`;
}

export interface SpinOutcome {
  errors: number;
  statesStored: number;
  /** Seconds pan reports for the search. */
  panSeconds: number;
  /** States stored per second of pan's wall time (start-up included: tiny models are start-up bound). */
  wallMs: number;
  memoryMb: number;
  statesPerSecond: number;
}

export function spinAvailable(): boolean {
  try {
    execFileSync("spin", ["-V"], { stdio: "ignore" });
    execFileSync("gcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Verify `model` with pan (safety, stop at the first error). */
export function runSpin(model: string): SpinOutcome {
  const dir = mkdtempSync(join(tmpdir(), "foliosim-spin-"));
  writeFileSync(join(dir, "model.pml"), model);
  execFileSync("spin", ["-a", "model.pml"], { cwd: dir, stdio: "ignore" });
  execFileSync("gcc", ["-O2", "-DSAFETY", "-DMEMLIM=2048", "-o", "pan", "pan.c"], { cwd: dir, stdio: "ignore" });
  const started = performance.now();
  let output: string;
  try {
    output = execFileSync("./pan", ["-m100000"], { cwd: dir, encoding: "utf8" });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? "");
  }
  const wallMs = performance.now() - started;
  const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? NaN);
  const outcome: SpinOutcome = {
    errors: number(/errors: (\d+)/),
    statesStored: number(/([\d.e+]+) states, stored/),
    panSeconds: number(/pan: elapsed time ([\d.e+-]+) seconds/),
    wallMs,
    memoryMb: number(/([\d.]+)\s+total actual memory usage/),
    statesPerSecond: 0,
  };
  outcome.statesPerSecond = outcome.statesStored / (wallMs / 1000);
  return outcome;
}
