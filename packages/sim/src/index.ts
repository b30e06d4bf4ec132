/**
 * @foliosim/sim — the simulated machine every modelled kernel path runs on.
 */

export { SimConfigError, ModelError } from "./errors.js";
export { DEFAULT_COSTS, DEFAULT_JUMP_LABEL, defaultCosts, defineCosts, extendCosts, type CostModel, type JumpLabelModel, type SimCostName } from "./costs.js";
export { Block, Cell, Op, Shared, op, footprintNames, type OpSpec, type TaskGen } from "./op.js";
export { checkedState, footprintCheckEnabled, footprintViolations, resetFootprintViolations, setFootprintCheck, uncheckedReadsBegin, uncheckedReadsEnd, type FootprintViolation } from "./footprint-check.js";
export {
  Machine,
  Task,
  current,
  currentMachine,
  fmtNs,
  noteChange,
  noteRead,
  type Candidate,
  type Chooser,
  type HangReport,
  type HangTask,
  type Invariant,
  type InvariantFailure,
  type KernelOptionValue,
  type MachineConfig,
  type Policy,
  type PreemptionModel,
  type RunResult,
  type RunStatus,
  type TaskSpec,
  type TaskState,
} from "./machine.js";
export { Trace, stableStringify, type EventArgs, type TraceEvent } from "./trace.js";
export { CycleDetector, type LivelockCycle } from "./livelock.js";
export { atomic, atomicAdd, atomicAddReturn, atomicCmpxchg, atomicRead, atomicSet, readOnce, writeOnce, type Atomic } from "./atomic.js";
export { condResched, cpuRelax, msleep, ndelay, preemptCountDec, preemptDisable, preemptEnable, sleepNs, udelay, usleep } from "./sched.js";
export {
  BitLock,
  LocalLock,
  Mutex,
  SpinLock,
  bitLock,
  bitTrylock,
  bitUnlock,
  bitWaitUnlocked,
  localLock,
  localUnlock,
  mutexLock,
  mutexTrylock,
  mutexUnlock,
  spinLock,
  spinTrylock,
  spinUnlock,
  RwSemaphore,
  downRwSem,
  upRwSem,
  type LockOptions,
  type RwSemNames,
} from "./locking.js";
export { WaitQueue, varWaitQueue, waitEvent, waitEventTimeout, waitVarEvent, waitVarEventTimeout, wakeUp, wakeUpNow, wakeUpVar } from "./wait.js";
export { Completion, complete, completeAll, tryWaitForCompletion, waitForCompletion } from "./completion.js";
export { Work, flushWork, kworker, queueWorkOn } from "./workqueue.js";
export { ipiBroadcastNow, smpCallFunction, smpCallFunctionSingle, type IpiHandler } from "./smp.js";
export { rcuReadLock, rcuReadUnlock, synchronizeRcu, synchronizeRcuExpedited } from "./rcu.js";
export { StaticKey, staticKeyEnabled, staticKeySlowDec, staticKeySlowInc } from "./jump-label.js";
export { PerCpu, smpProcessorId } from "./percpu.js";
export { traced } from "./traced.js";
export { Rng, ScriptedChooser, SeededChooser, TimedChooser, firstChooser } from "./choosers.js";
export { instantiate, runProgram, type Program } from "./program.js";
export { MachineSnapshot, SetupOnce, type SetupFn } from "./snapshot.js";
export {
  VariantError,
  clearRegisteredVariants,
  defineVariant,
  defineVariationPoint,
  isVariant,
  kernelDefaults,
  pointValues,
  registerVariant,
  registeredVariant,
  resolveHook,
  resolveVariant,
  variantFromFile,
  variantProblem,
  variationPoint,
  variationPoints,
  type HookField,
  type PointName,
  type Variant,
  type VariantSpec,
  type VariationPoint,
  type VariationPointSpec,
  type VariationPoints,
} from "./variant.js";
