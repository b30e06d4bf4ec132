/**
 * Environment variables a worker sets for its sandboxed processors (worker threads get
 * a copy of the environment when they start).
 */

/** File URL (or path) of the target loader module: default export (scenarioId, kernelId) → ExploreTarget. */
export const LOADER_ENV = "FOLIOSIM_QUEUE_LOADER";
/** The worker's model version. */
export const MODEL_VERSION_ENV = "FOLIOSIM_QUEUE_MODEL_VERSION";
/** User scenario files a job names (path-delimited), as the app's loader reads them. */
export const FILES_ENV = "FOLIOSIM_SCENARIO_FILES";
