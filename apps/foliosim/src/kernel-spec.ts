/**
 * Kernel specs on the command line and in files: a preset id, optionally with variant
 * overrides after a `+` (`linux-6.11+collect=will-v1,lru-batch-clears-lru=on`) — the
 * same id `resolveKernel` gives back, so a spec round-trips through matrix documents
 * and worker loaders.
 */

import { resolveKernel, type ResolvedKernel } from "@foliosim/scenarios";
import { variantValue } from "./variant-modules.js";

/**
 * A value may also be the path of a variant module (`collect=./my-fix.ts`): the module
 * is loaded (this is the command line naming it) and the value becomes its id.
 */
export function parseKernelSpec(spec: string, extraOverrides: readonly string[] = []): ResolvedKernel {
  const plus = spec.indexOf("+");
  const preset = plus < 0 ? spec : spec.slice(0, plus);
  const overrides = plus < 0 ? [] : spec.slice(plus + 1).split(",").filter(Boolean);
  return resolveKernel(preset.trim(), [...overrides, ...extraOverrides].map(moduleOverride));
}

function moduleOverride(item: string): string {
  const eq = item.indexOf("=");
  return eq < 0 ? item : `${item.slice(0, eq)}=${variantValue(item.slice(0, eq), item.slice(eq + 1))}`;
}
