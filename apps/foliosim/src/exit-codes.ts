/**
 * The process exit codes, in one place (conventions §2.3, as Gemini CLI does).
 *
 * - `ok` (0): `run`/`explore`/`replay`: every promise held. `compare`/`merge`: every
 *   cell has its expected verdict (failing cells on old kernels included: they are the
 *   threads' findings, declared in expected.ts; a cell with no declared verdict is
 *   expected to hold).
 * - `failed` (1): `run`/`explore`/`replay`: a promise broke or a hang (deadlock,
 *   livelock) was found. `compare`/`merge`: some cell's verdict differs from its
 *   expected one. `evaluate`: a race that held on the base kernel fails with the
 *   variant (0: nothing that held before fails now, whatever else changed).
 * - `usage` (2): a usage error, or an invalid scenario file, kernel, token, option or
 *   limit, a scenario that misuses the model while it runs (src/scenario-errors.ts), or a variant module that does not load, has the wrong shape, throws or
 *   yields something that is not an operation.
 * - `inconclusive` (3): nothing broke (or differed), but some execution hit its step or
 *   virtual-time budget, so no verdict could be reached there; raise `--max-steps`.
 * - `internal` (70, EX_SOFTWARE): a bug in foliosim itself (set FOLIOSIM_DEBUG=1 for the stack).
 * - `interrupted` (130): Ctrl-C; the partial report was written first.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  inconclusive: 3,
  internal: 70,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** `run`/`explore`/`replay`: the exit code of one outcome. */
export function exitForOutcome(outcome: string): ExitCode {
  if (outcome === "holds") return EXIT.ok;
  if (outcome === "inconclusive") return EXIT.inconclusive;
  return EXIT.failed;
}

/** `compare`/`merge`: 1 when a cell differs from its expectation, else 3 when one has no verdict, else 0. */
export function exitForMatrix(rows: readonly { judgement?: string }[]): ExitCode {
  if (rows.some((r) => r.judgement === "unexpected")) return EXIT.failed;
  if (rows.some((r) => r.judgement === "inconclusive")) return EXIT.inconclusive;
  return EXIT.ok;
}
