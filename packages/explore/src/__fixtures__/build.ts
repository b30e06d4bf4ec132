/**
 * Pool and cross-process tests run built JavaScript: build sim and explore once if a
 * developer has not (turbo's `test` already depends on `build`).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function ensureBuilt(): void {
  const simDir = fileURLToPath(new URL("../../../sim", import.meta.url));
  const exploreDir = fileURLToPath(new URL("../..", import.meta.url));
  if (!existsSync(`${simDir}/dist/index.js`)) execFileSync("npx", ["tsup"], { cwd: simDir, stdio: "ignore" });
  if (!existsSync(`${exploreDir}/dist/worker.js`)) execFileSync("npx", ["tsup"], { cwd: exploreDir, stdio: "ignore" });
}
