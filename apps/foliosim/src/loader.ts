/**
 * The target loader the matrix workers import (built to dist/loader.js): resolves
 * (scenarioId, kernelId) — as the app wrote them into the matrix — back to a target.
 *
 * When `compare` names a channel (FOUND_CHANNEL_ENV), each distinct failure is posted
 * on it the moment it is found, with its token, so Ctrl-C keeps the counterexamples of
 * cells that had not finished. User variant modules the parent loaded (FOLIOSIM_VARIANTS)
 * are loaded first.
 */

import { BroadcastChannel } from "node:worker_threads";
import type { ExploreTarget } from "@foliosim/explore";
import { createHash } from "node:crypto";
import { stableStringify } from "@foliosim/sim";
import { splitScenarioId, targetFor, workerScenario } from "./catalog.js";
import { watchFailures } from "./explore-session.js";
import { loadVariantsFromEnv } from "./variant-modules.js";

/** Environment variable naming the BroadcastChannel on which workers post failures as found. */
export const FOUND_CHANNEL_ENV = "FOLIOSIM_FOUND_CHANNEL";

let channel: BroadcastChannel | undefined;

export default function load(scenarioId: string, kernelId: string): ExploreTarget {
  loadVariantsFromEnv();
  const { id, params } = splitScenarioId(scenarioId);
  const target = targetFor(workerScenario(id), kernelId, params);
  const name = process.env[FOUND_CHANNEL_ENV];
  if (!name) return target;
  if (!channel) {
    channel = new BroadcastChannel(name);
    channel.unref();
  }
  const open = channel;
  return watchFailures(target, (failure) => open.postMessage(failure));
}

/**
 * Content hash of a scenario as this worker resolves it: queue workers check it against
 * the job's. The same digest as @foliosim/queue's scenarioHash (not imported here, so
 * that pool workers loading this module do not load the queue client).
 */
export function scenarioHash(scenarioId: string): string {
  return createHash("sha256").update(stableStringify(workerScenario(splitScenarioId(scenarioId).id))).digest("hex");
}
