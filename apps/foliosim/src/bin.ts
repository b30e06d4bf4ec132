#!/usr/bin/env node
/**
 * The `foliosim` executable. Environment fix-ups first, then a dynamic import of the
 * CLI: chalk (under Ink) reads the environment when it is imported and honours
 * FORCE_COLOR but not NO_COLOR, and static imports are hoisted (conventions §2.3).
 */

if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") process.env.FORCE_COLOR = "0";

let cli: typeof import("./cli.js");
try {
  cli = await import("./cli.js");
} catch (error) {
  // A broken installation or build, not the user's input: one clear message, exit 1.
  const e = error instanceof Error ? error : new Error(String(error));
  process.stderr.write(`foliosim: cannot load the app (${e.name}): ${e.message.split("\n").join("\n  ")}\n`);
  if (process.env.FOLIOSIM_DEBUG === "1" && e.stack) process.stderr.write(e.stack + "\n");
  process.exit(1);
}
const code = await cli.main(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  stdinIsTTY: Boolean(process.stdin.isTTY),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
});
process.exitCode = code;
