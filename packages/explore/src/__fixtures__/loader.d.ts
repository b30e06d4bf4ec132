// Types for the plain-JavaScript fixture loader.
import type { ExploreTarget } from "../target.js";
export default function load(scenarioId: string, kernelId: string): ExploreTarget;
