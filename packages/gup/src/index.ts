/**
 * @foliosim/gup — GUP longterm pinning (mm/gup.c) and the proposed drain rules.
 */

export * from "./gup.js";
export { COLLECT_RULES, collectRule, drainBeforeIsolate, newDrainState, type CollectRule, type DrainState } from "./variants/drain-rules.js";
export { gupCountIsolated } from "./variants/count-isolated.js";
