/**
 * The tool's and the model's versions: `foliosim --version` prints them, and every JSON
 * document carries them (`tool`, `model`), so a result can be traced back to the code
 * that produced it.
 *
 * The model is the set of `@foliosim/*` packages the app runs, found by walking the
 * dependencies of the app's package.json (each package exports its package.json).
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface Versions {
  /** The app: `{ name: "foliosim", version }`. */
  tool: { name: string; version: string };
  /** Each model package (`@foliosim/*`) and its version, sorted by name. */
  model: Record<string, string>;
}

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}

let cached: Versions | undefined;

/** The app's package.json: next to src/ and dist/ alike. */
const APP_PACKAGE = new URL("../package.json", import.meta.url);

export function versions(): Versions {
  if (cached) return cached;
  const app = JSON.parse(readFileSync(APP_PACKAGE, "utf8")) as PackageJson;
  const model: Record<string, string> = {};
  const visit = (pkg: PackageJson, from: string): void => {
    const require = createRequire(from);
    for (const name of Object.keys(pkg.dependencies ?? {}).filter((n) => n.startsWith("@foliosim/"))) {
      if (model[name] !== undefined) continue;
      try {
        const path = require.resolve(`${name}/package.json`);
        const dep = JSON.parse(readFileSync(path, "utf8")) as PackageJson;
        model[name] = dep.version;
        visit(dep, path);
      } catch {
        model[name] = "unknown";
      }
    }
  };
  visit(app, fileURLToPath(APP_PACKAGE));
  const sorted = Object.fromEntries(Object.entries(model).sort(([a], [b]) => (a < b ? -1 : 1)));
  cached = { tool: { name: app.name, version: app.version }, model: sorted };
  return cached;
}

/** `foliosim --version`: the tool's version on the first line, then the model packages. */
export function versionText(): string {
  const v = versions();
  return `${v.tool.name} ${v.tool.version}\nmodel: ${Object.entries(v.model).map(([n, ver]) => `${n} ${ver}`).join(", ")}\n`;
}
