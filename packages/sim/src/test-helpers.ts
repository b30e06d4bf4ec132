/**
 * Test helpers (the `@foliosim/sim/test` subpath): naive exhaustive enumeration of a
 * program's schedules, for small programs and for checking smarter explorers; the
 * RT-starvation program of seeds 002/003 in miniature (`buildStarvation`), for tests
 * of anything that reports or draws a livelock.
 */

import { ScriptedChooser } from "./choosers.js";
import type { MachineConfig, RunResult } from "./machine.js";
import { instantiate, type Program } from "./program.js";

export { buildStarvation, type StarvationBMode, type StarvationOptions } from "./starvation.js";

export interface Enumerated {
  runs: number;
  /** True when every schedule was visited within `maxRuns`. */
  complete: boolean;
}

/**
 * Depth-first enumeration of every decision sequence. `visit` sees each run; return
 * `false` from it to stop early.
 */
export function enumerateSchedules(
  program: Program,
  config: MachineConfig,
  visit: (r: RunResult) => boolean | void,
  maxRuns = 100_000,
): Enumerated {
  // Each frame: [chosen index, number of candidates] at a choice point.
  let prefix: number[] = [];
  let runs = 0;
  for (;;) {
    if (runs >= maxRuns) return { runs, complete: false };
    const m = instantiate(program, config);
    const widths: number[] = [];
    const chooser = new ScriptedChooser(prefix);
    let i = 0;
    for (;;) {
      const cands = m.candidates();
      if (cands.length === 0) break;
      if (cands.length > 1) {
        widths.push(cands.length);
        m.step(i < prefix.length ? chooser.choose(cands) : 0);
        i++;
      } else m.step(0);
    }
    runs++;
    const decisions = m.decisions.slice();
    if (visit(m.result()) === false) return { runs, complete: false };
    // Next prefix: bump the deepest decision that still has an untried sibling.
    let d = decisions.length - 1;
    while (d >= 0 && decisions[d] + 1 >= widths[d]) d--;
    if (d < 0) return { runs, complete: true };
    prefix = decisions.slice(0, d);
    prefix.push(decisions[d] + 1);
  }
}
