/**
 * Errors the user can act on: each names what was wrong and what was expected, and is
 * printed as one message (never a stack) by the app.
 */

/** A bad --queue URL, or a Redis that cannot be reached. */
export class QueueConnectionError extends Error {
  override readonly name = "QueueConnectionError";
}

/** A stored result that does not check out (wrong shape, job, model version or digest). */
export class CorruptResultError extends Error {
  override readonly name = "CorruptResultError";
}

/** A job failed on the workers (after its retries); the message says which and why. */
export class QueueJobError extends Error {
  override readonly name = "QueueJobError";
}

/** A queue option that cannot work (an inline processor, a bad lease setting). */
export class QueueConfigError extends Error {
  override readonly name = "QueueConfigError";
}

/** True for the errors above: their message is meant for the user as it stands. */
export function isQueueError(error: unknown): error is Error {
  return error instanceof QueueConnectionError || error instanceof CorruptResultError || error instanceof QueueJobError || error instanceof QueueConfigError;
}
