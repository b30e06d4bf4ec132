/**
 * The process exit codes, in one place (conventions §2.3, as Gemini CLI does).
 *
 * - `ok` (0): every promise held.
 * - `failed` (1): at least one promise broke, or a hang (deadlock, livelock) was found.
 * - `usage` (2): a usage error, or an invalid scenario file, kernel, token or option.
 * - `interrupted` (130): Ctrl-C; the partial report was written first.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
