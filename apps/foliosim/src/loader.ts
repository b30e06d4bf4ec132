/**
 * The target loader the matrix workers import (built to dist/loader.js): resolves
 * (scenarioId, kernelId) — as the app wrote them into the matrix — back to a target.
 */

import type { ExploreTarget } from "@foliosim/explore";
import { createHash } from "node:crypto";
import { stableStringify } from "@foliosim/sim";
import { splitScenarioId, targetFor, workerScenario } from "./catalog.js";

export default function load(scenarioId: string, kernelId: string): ExploreTarget {
  const { id, params } = splitScenarioId(scenarioId);
  return targetFor(workerScenario(id), kernelId, params);
}

/**
 * Content hash of a scenario as this worker resolves it: queue workers check it against
 * the job's. The same digest as @foliosim/queue's scenarioHash (not imported here, so
 * that pool workers loading this module do not load the queue client).
 */
export function scenarioHash(scenarioId: string): string {
  return createHash("sha256").update(stableStringify(workerScenario(splitScenarioId(scenarioId).id))).digest("hex");
}
