/**
 * @foliosim/migrate — page migration (mm/migrate.c) and the retry variants proposed
 * on the lists.
 */

export * from "./migrate.js";
export { devjainEarlyBail } from "./variants/devjain-early-bail.js";
export { davidWaitersBackoff, davidShouldBackOff } from "./variants/david-waiters-backoff.js";
export { davidWaitersBackoffInBatch } from "./variants/david-waiters-backoff-inbatch.js";
export { folioPutWakeupKey, jhubbardRefcountWait, REFCOUNT_WAIT_TIMEOUT_NS } from "./variants/jhubbard-refcount-wait.js";
