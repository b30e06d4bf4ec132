/**
 * Target loader for the benchmark's worker-pool rows (built to dist-dev/bench-loader.js):
 * scenario ids "B0-counter(N,K)", "B1-runahead(L)", "B2-window(L)", "B3-batch-ref(M,R)";
 * kernel ids "buggy", "fixed" (and "liveness" for B3).
 */

import type { ExploreTarget } from "../target.js";
import { batchRef, counter, runahead, windowProgram, type BatchVariant, type Variant } from "./programs.js";

export default function load(scenarioId: string, kernelId: string): ExploreTarget {
  const match = /^(B\d)-[a-z-]+\(([\d,]+)\)$/.exec(scenarioId);
  if (!match) throw new Error(`bench loader: unknown scenario ${scenarioId}`);
  const sizes = match[2].split(",").map(Number);
  switch (match[1]) {
    case "B0":
      return counter(sizes[0], sizes[1], kernelId as Variant);
    case "B1":
      return runahead(sizes[0], kernelId as Variant);
    case "B2":
      return windowProgram(sizes[0], kernelId as Variant);
    case "B3":
      return batchRef(sizes[0], sizes[1], kernelId as BatchVariant);
  }
  throw new Error(`bench loader: unknown scenario ${scenarioId}`);
}
