/**
 * @foliosim/migrate — page migration (mm/migrate.c) and the retry variants proposed
 * on the lists.
 */

export * from "./migrate.js";
export {
  MIGRATE_POINT,
  migratePolicy,
  migrateVariantId,
  devjainEarlyBail,
  davidWaitersBackoff,
  davidWaitersBackoffInBatch,
  davidShouldBackOff,
  jhubbardRefcountWait,
} from "./variants/retry-policy.js";
export { folioPutWakeupKey, REFCOUNT_WAIT_TIMEOUT_NS } from "./variants/jhubbard-refcount-wait.js";
export type { MigrateCall, MigrateHook, MoveAgain } from "./variants/points.js";
