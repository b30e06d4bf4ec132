/**
 * User variant modules: a TypeScript or JavaScript file that default-exports
 * `defineVariant({ id, point, source, hook })` (from @foliosim/sim). Loaded with jiti
 * (TypeScript without a build step), checked against its variation point, and
 * registered so its id is an option value: `--kernel linux-7.0+collect=<id>`, or the
 * path itself in a kernel spec given on the command line.
 *
 * A variant module is code and runs with the user's rights; foliosim runs one only
 * when the user names it (`--variant`, a path in `--kernel`, or `variants:`/`kernels:` of a
 * `--config` file the user passes). Scenario files are
 * data and never load one.
 *
 * Inside a module, `@foliosim/*` imports resolve to the very modules this process
 * runs (shims/*.cjs hand them over), so the module's ops are the machine's ops wherever
 * foliosim is installed and however it was started. Worker threads load the same
 * modules: the absolute paths travel in `FOLIOSIM_VARIANTS`.
 */

import { existsSync, statSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createJiti } from "jiti";
import * as folio from "@foliosim/folio";
import * as gup from "@foliosim/gup";
import * as hmm from "@foliosim/hmm";
import * as lru from "@foliosim/lru";
import * as migrate from "@foliosim/migrate";
import * as mm from "@foliosim/mm";
import * as sim from "@foliosim/sim";
import { defineVariant, isVariant, registerVariant, registeredVariant, variantFromFile, VariantError, variantProblem, type Variant } from "@foliosim/sim";

/** Environment variable naming the loaded variant modules (absolute, path-delimited) for worker threads. */
export const VARIANTS_ENV = "FOLIOSIM_VARIANTS";

const MODULES: Record<string, unknown> = {
  "@foliosim/sim": sim,
  "@foliosim/folio": folio,
  "@foliosim/lru": lru,
  "@foliosim/mm": mm,
  "@foliosim/migrate": migrate,
  "@foliosim/gup": gup,
  "@foliosim/hmm": hmm,
};

const SHIMS = fileURLToPath(new URL("../shims/", import.meta.url));
const loaded = new Map<string, Variant>();

/** Whether a kernel option value names a module file rather than a variant id. */
export function looksLikeModule(value: string): boolean {
  return /[\\/]/.test(value) || /\.(c|m)?(t|j)sx?$/.test(value);
}

/** Load, check and register the variant module at `file`; returns its variant. Idempotent per path. */
export function loadVariantModule(file: string): Variant {
  const path = resolve(file);
  const known = loaded.get(path);
  if (known) {
    if (registeredVariant(known.point, known.id) !== known) registerVariant(known);
    return known;
  }
  if (!existsSync(path) || !statSync(path).isFile()) throw new VariantError(file, "no such file");
  const exported = importModule(file, path);
  const variant = variantOf(file, path, exported);
  registerVariant(variant);
  loaded.set(path, variant);
  const env = new Set((process.env[VARIANTS_ENV] ?? "").split(delimiter).filter(Boolean));
  env.add(path);
  process.env[VARIANTS_ENV] = [...env].join(delimiter);
  return variant;
}

/** The module files of the loaded variants a kernel spec names (`linux-7.0+collect=<id>`): what a printed command must load again. */
export function variantFilesOf(kernel: string): string[] {
  const plus = kernel.indexOf("+");
  if (plus < 0) return [];
  const files: string[] = [];
  for (const item of kernel.slice(plus + 1).split(",")) {
    const eq = item.indexOf("=");
    const file = eq > 0 ? registeredVariant(item.slice(0, eq), item.slice(eq + 1))?.file : undefined;
    if (file !== undefined && !files.includes(file)) files.push(file);
  }
  return files;
}

/** In a worker: load the modules the parent loaded. */
export function loadVariantsFromEnv(): void {
  for (const path of (process.env[VARIANTS_ENV] ?? "").split(delimiter).filter(Boolean)) loadVariantModule(path);
}

/**
 * A kernel option value as given: a module path is loaded and replaced by its variant
 * id (which must fill `option`); an id is returned as it stands.
 */
export function variantValue(option: string, value: string): string {
  if (!looksLikeModule(value)) return value;
  const v = loadVariantModule(value);
  if (v.point !== option) throw new VariantError(value, `"point": the module fills "${v.point}", not "${option}": write ${v.point}=${value}`, v.id);
  return v.id;
}

function importModule(file: string, path: string): unknown {
  (globalThis as Record<symbol, unknown>)[Symbol.for("foliosim.modules")] = MODULES;
  const alias = Object.fromEntries(Object.keys(MODULES).map((name) => [name, `${SHIMS}${name.slice("@foliosim/".length)}.cjs`]));
  const jiti = createJiti(path, { alias, fsCache: false, moduleCache: false, interopDefault: false });
  try {
    return jiti(path);
  } catch (error) {
    throw new VariantError(file, `does not load: ${firstLine(error)}`);
  }
}

function variantOf(file: string, path: string, exported: unknown): Variant {
  const mod = exported as { default?: unknown } | null;
  const value = typeof mod === "object" && mod !== null && "default" in mod ? mod.default : undefined;
  if (value === undefined) throw new VariantError(file, "has no default export: end it with `export default defineVariant({ id, point, source, hook })`");
  let v: Variant;
  try {
    v = isVariant(value) ? value : defineVariant(value as Parameters<typeof defineVariant>[0]);
  } catch (error) {
    throw new VariantError(file, `its default export is not a variant: ${error instanceof VariantError ? error.detail : firstLine(error)}`);
  }
  const problem = variantProblem(v);
  const other = registeredVariant(v.point, v.id);
  if (problem) throw new VariantError(file, problem, v.id);
  if (other && other.file !== path) throw new VariantError(file, `"id": "${v.id}" is already defined by ${other.file}`, v.id);
  return variantFromFile(v, path);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  return text.split("\n")[0];
}
