import { classify, decodeToken, executionConfig, identityHash, isFailure, replay, replayDecisions, shrink, TokenError, type ExploreTarget } from "@foliosim/explore";
import { KERNEL_PRESETS } from "@foliosim/scenarios";
import { builtinCatalog, parseSets, resolveScenario, targetFor } from "../catalog.js";
import { parseKernelSpec } from "../kernel-spec.js";
import { describeRun, type RunOutput } from "./run.js";

export interface ReplayOptions {
  token: string;
  /** Replay the token as given instead of its shrunk schedule. */
  original?: boolean;
  /** Where to look besides the catalog × presets: a scenario id or file, a kernel spec, parameters. */
  scenario?: string;
  kernel?: string;
  set?: string[];
  /**
   * A --config file's sweep, searched before the catalog × presets when --scenario or
   * --kernel is not given: its scenarios (ids or files), its kernels, and its `set:`
   * (each scenario takes the parameters it has; `set` wins for its key).
   */
  config?: { scenarios: readonly string[]; kernels: readonly string[]; set: readonly string[] };
  shrinkAttempts?: number;
  /** The step budget the token was recorded with. */
  maxSteps?: number;
}

export interface ReplayOutput extends RunOutput {
  /** The token given. */
  original: string;
  /** True when the execution shown is the shrunk one. */
  shrunk: boolean;
}

/** Find the (scenario, kernel) a token was recorded for. */
export function findTarget(options: ReplayOptions): ExploreTarget {
  const decoded = decodeToken(options.token);
  const given = parseSets(options.set ?? []);
  const configSet = parseSets(options.config?.set ?? []);
  const named = options.scenario ? [options.scenario] : (options.config?.scenarios ?? []);
  const scenarios = [...named.map((s) => resolveScenario(s).scenario), ...(options.scenario ? [] : builtinCatalog().map((e) => e.scenario))];
  const kernels = options.kernel ? [parseKernelSpec(options.kernel).id] : [...new Set([...(options.config?.kernels ?? []).map((k) => parseKernelSpec(k).id), ...KERNEL_PRESETS.map((k) => k.id)])];
  for (const s of scenarios) {
    // Searching the catalog, a scenario without a parameter given is not where the token came from.
    if (!options.scenario && Object.keys(given).some((k) => !(k in s.params))) continue;
    const params = { ...Object.fromEntries(Object.entries(configSet).filter(([k]) => k in s.params)), ...given };
    for (const k of kernels) {
      const target = targetFor(s, k, params);
      if (identityHash(target) === decoded.hash) return target;
    }
  }
  throw new TokenError(
    `schedule token ${options.token.length > 40 ? options.token.slice(0, 37) + "..." : options.token} matches no scenario × kernel ` +
      `(hash ${decoded.hash}); if it came from a user file, a kernel with variant overrides or --set parameters, give --scenario, --kernel and --set as when it was recorded`,
  );
}

export function replayCommand(options: ReplayOptions): ReplayOutput {
  const target = findTarget(options);
  const budget = { maxSteps: options.maxSteps };
  const replayed = replay(target, options.token, budget);
  if (!options.original && isFailure(replayed.outcome)) {
    const shrunk = shrink(target, executionConfig(target, budget), replayed.execution, replayed.outcome.signature, options.shrinkAttempts ?? 400);
    const again = replayDecisions(target, shrunk.decisions, budget);
    if (isFailure(classify(target, again.result))) {
      return { ...describeRun(target, again.result, again.token, null), original: options.token, shrunk: again.token !== options.token };
    }
  }
  return { ...describeRun(target, replayed.result, replayed.token, null), original: options.token, shrunk: false };
}
