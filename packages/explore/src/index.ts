/**
 * @foliosim/explore — the explorer: runs a target (a sim program on a machine
 * configuration, with a promise check) under random, PCT, DPOR or replay, shrinks and
 * verifies failing schedules, and runs verdict matrices on a worker pool.
 * Depends on @foliosim/sim alone.
 */

export { classify, isFailure, normaliseMessage, type ExploreTarget, type FailureExplanation, type FailureKind, type LimitKind, type Outcome } from "./target.js";
export { decodeToken, decodeTokenFor, encodeToken, identityHash, TokenError, TOKEN_VERSION, type DecodedToken, type TargetIdentity } from "./token.js";
export { runExecution, executionConfig, isPreemption, type Execution, type ExecutionBudget, type ExecutionPlan } from "./execution.js";
export { executionSeed, PctCampaign, PctPlan, pctGuarantee, RandomPlan, type PctParameters, type PctPoints } from "./samplers.js";
export { DeepeningDpor } from "./deepen.js";
export { Dpor, dependent, type BacktrackRequest, type DporOptions, type DporProgress } from "./dpor.js";
export { exploreSplit, exploreSubtree, mergeSubtrees, SplitCoordinator, type SubtreeOutput } from "./dpor-split.js";
export { NondeterminismError, replay, replayDecisions, ReplayPlan, verifyToken, type Replayed, type ReplayOptions } from "./replay.js";
export { shrink, type ShrinkResult } from "./shrink.js";
export { differential, differentialSummary, type DifferentialOptions, type DifferentialResult } from "./differential.js";
export { quantile, summarise, wilsonInterval, MetricCollector, type Distribution, type RateEstimate } from "./stats.js";
export {
  explore,
  type DistinctFailure,
  type ExploreOptions,
  type ExploreProgress,
  type ExploreResult,
  type FirstFailure,
  type ReportedSchedule,
  type StopReason,
  type StrategySpec,
  type Verdict,
} from "./explore.js";
export { applyFallback, exploreWithFallback, needsFallback, type DporFallback, type FallbackHooks, type FallbackResult, type FallbackRun, type FallbackSpec } from "./fallback.js";
export { runCell, runCellTarget, type CellOptions, type CellResult, type CellTask, type TargetLoader } from "./cell.js";
export {
  defaultWorkerFile,
  matrixCells,
  matrixJson,
  mergeMatrix,
  parseShard,
  runMatrix,
  shardCells,
  type MatrixCellResult,
  type MatrixDocument,
  type MatrixSpec,
  type MatrixStrategy,
  type RunMatrixOptions,
  type Shard,
} from "./matrix.js";
