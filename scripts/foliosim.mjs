// `npx --yes pnpm@10.34.8 foliosim …` from a checkout: builds the app when its dist is
// missing or older than its sources (turbo, cached; its output on stderr so stdout keeps
// only foliosim's), then runs the CLI from the directory the command was typed in.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "apps", "foliosim", "dist", "bin.js");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const stale = !existsSync(bin) || ["apps/foliosim/src", "packages"].some((d) => newest(join(root, d)) > statSync(bin).mtimeMs);
if (stale) {
  const turbo = join(root, "node_modules", ".bin", "turbo");
  const built = spawnSync(turbo, ["run", "build", "--filter=foliosim...", "--output-logs=errors-only"], { cwd: root, stdio: ["ignore", 2, 2] });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
// pnpm runs scripts in the repository root; paths on the command line are relative to where they were typed.
if (process.env.INIT_CWD && existsSync(process.env.INIT_CWD)) process.chdir(process.env.INIT_CWD);
await import(pathToFileURL(bin).href);
