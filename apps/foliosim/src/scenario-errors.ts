/**
 * A run that ended in the scenario's own misuse of the model (failure kind "scenario": a
 * step touched an address nothing maps, released pins under a handle nothing kept, …) is
 * an error in the input, not a kernel invariant: every command reports it with the file,
 * line and step at fault and exits 2 (after printing whatever else it found).
 */

import { escapeControl } from "./render/escape.js";
import { locateStep, looksLikeFile } from "./scenario-files.js";

/** The step path a scenario failure's message starts with ("tasks.0.script.2 (touch): …"). */
const STEP = /^((?:setup|tasks)(?:\.\w+)+) \(/;

/** One line: `file:line:col: tasks.0.script.1 (touch): scenario error: …` (or `scenario ID: …` for a catalog id). */
export function scenarioErrorLine(origin: string, message: string, token?: string): string {
  const path = STEP.exec(message)?.[1];
  const where = looksLikeFile(origin) ? (path ? locateStep(origin, path) : origin) : `scenario ${origin}`;
  const schedule = token ? ` (schedule ${token})` : "";
  return `foliosim: ${escapeControl(where)}: scenario error: ${escapeControl(message)}${schedule}\n`;
}

/** The scenario failures of a results document's rows, one line each. */
export function scenarioErrorLines(rows: readonly { scenario: string; kernel: string; failures: readonly { kind: string; message: string; shrunk?: string | null; schedule?: string | null }[] }[], originOf: (scenario: string) => string): string[] {
  const lines: string[] = [];
  for (const row of rows) {
    for (const f of row.failures) if (f.kind === "scenario") lines.push(scenarioErrorLine(originOf(row.scenario), `${f.message} on ${row.kernel}`, f.shrunk ?? f.schedule ?? undefined));
  }
  return lines;
}
