/**
 * The model version a queue job carries. Workers refuse jobs of another version, and a
 * version is part of every job id, so results from different models never mix.
 *
 * It is the app's version plus a digest of the model packages — their versions and,
 * where they are built, their dist/*.js files (tsup builds are reproducible, so two
 * machines building the same sources agree, and two builds of different sources do not).
 */

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const APP_DEPS = ["@foliosim/sim", "@foliosim/explore", "@foliosim/scenarios"];
const MODEL_DEPS = ["@foliosim/folio", "@foliosim/lru", "@foliosim/mm", "@foliosim/migrate", "@foliosim/gup", "@foliosim/hmm"];

let cached: string | undefined;

export function modelVersion(): string {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const app = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  const scenariosRequire = createRequire(require.resolve("@foliosim/scenarios/package.json"));
  const hash = createHash("sha256");
  for (const name of APP_DEPS) addPackage(hash, name, require.resolve(`${name}/package.json`));
  for (const name of MODEL_DEPS) addPackage(hash, name, scenariosRequire.resolve(`${name}/package.json`));
  cached = `${app.version}+${hash.digest("hex").slice(0, 12)}`;
  return cached;
}

function addPackage(hash: ReturnType<typeof createHash>, name: string, manifest: string): void {
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  hash.update(`${name}@${version}\n`);
  const dist = join(dirname(manifest), "dist");
  if (!existsSync(dist)) return;
  for (const file of readdirSync(dist).filter((f) => f.endsWith(".js")).sort()) {
    hash.update(`${file}\n`);
    hash.update(readFileSync(join(dist, file)));
  }
}
