/**
 * @foliosim/scenarios — the scenario schema, builder and runner, the kernel presets,
 * and the catalog of races from the seed threads.
 */

import "./calls/basic.js";
import "./calls/memory.js";
import "./calls/hmm.js";
import "./calls/observe.js";
import "./world-memory.js";

export * from "./kernels.js";
export * from "./schema.js";
export * from "./errno.js";
export { World, AddressResult, MAX_CALL_PAGES, MAX_DEVICE_PAGES, PageCount, allCalls, defineCall, getCall, hasCall, callNames, callArgNames, UnknownCallError, type ArgLint, type CallContext, type CallDef, type NameKind, type ObserveContext } from "./calls.js";
export { defineScenario, call, ScenarioValidationError } from "./builder.js";
export { validateScenario, type ValidateOptions, type ValidationIssue } from "./validate.js";
export { parseRef, REF_FORMS, type Ref } from "./refs.js";
export { describeFound, flattenUnions, zodIssueMessage } from "./zod-shape.js";
export {
  METRIC_NAMES,
  ScenarioError,
  ScenarioUsageError,
  type UsageSite,
  defineWorldHooks,
  resolveParams,
  resolveValue,
  runScenario,
  scenarioTarget,
  summarize,
  type CallRecord,
  type ParamValues,
  type ScenarioRun,
  type ScenarioTarget,
  type WorldHooks,
} from "./runner.js";
export { CATALOG, concurrentFormOf, getScenario, HEADLINE_SCENARIOS, UnknownScenarioError } from "./catalog/index.js";
export { COUNTER_NAMES } from "./calls/observe.js";
export { memoryWorld, processMm, folioLeaks, setInvariantChecking, type InvariantChecking, type MemoryWorld } from "./world-memory.js";
export { default as loadTarget, parseKernelRef, parseScenarioRef } from "./loader.js";
export { catalogLoaderUrl } from "./loader-url.js";
export { callReference, describeType, renderSchemaReference, type ArgReference, type CallReference } from "./reference.js";
