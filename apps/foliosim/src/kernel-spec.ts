/**
 * Kernel specs on the command line and in files: a preset id, optionally with variant
 * overrides after a `+` (`linux-6.11+collect=will-v1,lru-batch-clears-lru=on`) — the
 * same id `resolveKernel` gives back, so a spec round-trips through matrix documents
 * and worker loaders.
 */

import { resolveKernel, type ResolvedKernel } from "@foliosim/scenarios";

export function parseKernelSpec(spec: string, extraOverrides: readonly string[] = []): ResolvedKernel {
  const plus = spec.indexOf("+");
  const preset = plus < 0 ? spec : spec.slice(0, plus);
  const overrides = plus < 0 ? [] : spec.slice(plus + 1).split(",").filter(Boolean);
  return resolveKernel(preset.trim(), [...overrides, ...extraOverrides]);
}
