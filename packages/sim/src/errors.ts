/**
 * Typed errors of the simulated machine.
 *
 * - `SimConfigError`: the machine or a task was configured wrongly (no CPUs, a task
 *   bound to a CPU that does not exist, a negative cost, a FIFO priority out of range).
 *   The message names the field.
 * - `ModelError`: a modelled kernel path did something the kernel would BUG/WARN on
 *   (putting a free folio, unlocking an unlocked lock). Raised inside a task, it ends
 *   the run with status "invariant": these are the bugs the explorer must catch, not
 *   crashes. With `usage` set, the program running on the model is at fault instead (it
 *   touched an address nothing maps: the kernel would send it SIGSEGV): the run ends the
 *   same way, and its failure says `usage: true`, so callers report the program's error
 *   rather than a kernel invariant.
 */

export class SimConfigError extends Error {
  override readonly name = "SimConfigError";
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly found: unknown,
  ) {
    super(`invalid machine configuration: ${field}: expected ${expected}, found ${formatFound(found)}`);
  }
}

export class ModelError extends Error {
  override readonly name = "ModelError";
  constructor(
    /** The modelled function that detected the misuse, e.g. "folio_put". */
    readonly operation: string,
    /** The object involved, e.g. "folio pfn 0x1000". */
    readonly object: string,
    readonly detail: string,
    /** The program using the model is at fault, not the modelled kernel. */
    readonly usage: boolean = false,
  ) {
    super(`${operation}: ${object}: ${detail}`);
  }
}

function formatFound(found: unknown): string {
  if (typeof found === "string") return JSON.stringify(found);
  if (found === undefined) return "nothing";
  return String(found);
}
