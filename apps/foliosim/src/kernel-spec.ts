/**
 * Kernel specs on the command line and in files: a preset id, optionally with variant
 * overrides after a `+` (`linux-6.11+collect=will-v1,lru-batch-clears-lru=on`) — the
 * same id `resolveKernel` gives back, so a spec round-trips through matrix documents
 * and worker loaders.
 */

import { KernelError, resolveKernel, type ResolvedKernel } from "@foliosim/scenarios";
import { looksLikeModule, variantValue } from "./variant-modules.js";

/**
 * A value may also be the path of a variant module (`collect=./my-fix.ts`): the module
 * is loaded (this is the command line naming it) and the value becomes its id. A spec
 * read from a scenario file (`modules: false`) never loads code: a module path there is
 * a KernelError saying to load it with `--variant` and name its id.
 */
export function parseKernelSpec(spec: string, extraOverrides: readonly string[] = [], options: { modules?: boolean } = {}): ResolvedKernel {
  const plus = spec.indexOf("+");
  const preset = plus < 0 ? spec : spec.slice(0, plus);
  const overrides = plus < 0 ? [] : spec.slice(plus + 1).split(",").filter(Boolean);
  const modules = options.modules ?? true;
  return resolveKernel(preset.trim(), [...overrides, ...extraOverrides].map((item) => moduleOverride(item, modules)));
}

function moduleOverride(item: string, modules: boolean): string {
  const eq = item.indexOf("=");
  if (eq < 0) return item;
  const [option, value] = [item.slice(0, eq), item.slice(eq + 1)];
  if (!modules && looksLikeModule(value)) {
    throw new KernelError(`${option}=${value} names a module: a scenario file is data and never loads code; load it with --variant ${value} and write ${option}=<its id> here`);
  }
  return `${option}=${variantValue(option, value)}`;
}
