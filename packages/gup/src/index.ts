/**
 * @foliosim/gup — GUP longterm pinning (mm/gup.c) and the proposed drain rules.
 */

export * from "./gup.js";
export { COLLECT_POINT, COLLECT_RULES, collectRule, drainAtCollectStart, drainBeforeIsolate, newDrainState, type CollectRule, type DrainState } from "./variants/drain-rules.js";
export { GUP_LOOP_POINT, gupCountIsolated } from "./variants/gup-loop.js";
export { LONGTERM_MIGRATE_ERROR_POINT, longtermMigrateKeepsEagain } from "./variants/longterm-migrate-error.js";
export type { CollectHook, GupLoopHook, LongtermMigrateErrorHook } from "./variants/points.js";
