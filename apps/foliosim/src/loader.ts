/**
 * The target loader the matrix workers import (built to dist/loader.js): resolves
 * (scenarioId, kernelId) — as the app wrote them into the matrix — back to a target.
 */

import type { ExploreTarget } from "@foliosim/explore";
import { splitScenarioId, targetFor, workerScenario } from "./catalog.js";

export default function load(scenarioId: string, kernelId: string): ExploreTarget {
  const { id, params } = splitScenarioId(scenarioId);
  return targetFor(workerScenario(id), kernelId, params);
}
