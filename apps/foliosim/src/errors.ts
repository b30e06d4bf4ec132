/**
 * Errors the user can act on. Anything thrown for bad input becomes one clear message
 * and exit code 2, never a stack trace; a stack is only printed for a real bug, and only
 * with FOLIOSIM_DEBUG=1.
 */

import { TokenError } from "@foliosim/explore";
import { KernelError, ScenarioError, ScenarioValidationError, UnknownCallError } from "@foliosim/scenarios";

/** Bad command-line input (exit 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** @foliosim/queue's errors, recognised by name so the CLI does not load the queue client to start. */
const QUEUE_ERRORS = ["QueueConnectionError", "CorruptResultError", "QueueJobError", "QueueConfigError"];

/** Names of the input errors, also when they arrive from a worker thread as plain errors. */
const INPUT_ERROR_NAMES = new Set(["UsageError", "KernelError", "ScenarioError", "ScenarioValidationError", "UnknownCallError", "TokenError", "ScenarioFileError", "InputFileError", "ConfigError", ...QUEUE_ERRORS]);

/** Errors whose message is meant for the user as it stands. */
export function isInputError(error: unknown): error is Error {
  return (
    (error instanceof Error && INPUT_ERROR_NAMES.has(error.name)) ||
    error instanceof UsageError ||
    error instanceof KernelError ||
    error instanceof ScenarioError ||
    error instanceof ScenarioValidationError ||
    error instanceof UnknownCallError ||
    error instanceof TokenError ||
    (error instanceof Error && (error.name === "ScenarioFileError" || error.name === "VariantError" || error.message.startsWith("variant module ")))
  );
}

/** One line (or a few) for stderr. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    if (process.env.FOLIOSIM_DEBUG === "1" && error.stack) return error.stack;
    return error.message;
  }
  return String(error);
}
