/**
 * The release rehearsed end to end (`pnpm test:release`): `pnpm release` builds, checks
 * and publishes every package to a throw-away Verdaccio on loopback; then, in an empty
 * directory, `npm install foliosim @foliosim/scenarios` from it, `foliosim compare
 * pkvm-mlock-cma`, a consumer script type-checked and run against what was
 * installed, and `foliosim evaluate` with a variant module that lives in a directory of
 * its own. Every step has a timeout; the registry and every directory are removed
 * after.
 */

import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishedPackages, ROOT } from "../src/workspace.js";
import { startRegistry, type LocalRegistry } from "./registry.js";

const exec = promisify(execFile);
const MINUTE = 60_000;

let dir = "";
let registry: LocalRegistry | undefined;
let env: NodeJS.ProcessEnv = {};

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; a non-zero exit is returned, not thrown (a timeout is thrown). Logs each step's duration. */
async function run(file: string, args: string[], cwd: string, timeout: number): Promise<Ran> {
  const started = Date.now();
  const done = (code: number | string) => process.stderr.write(`release rehearsal: ${[file.split("/").pop(), ...args].join(" ")} → ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  try {
    const { stdout, stderr } = await exec(file, args, { cwd, env, timeout, maxBuffer: 64 << 20 });
    done(0);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; killed?: boolean; stdout?: string; stderr?: string };
    done(e.killed ? "killed (timeout)" : (e.code ?? "error"));
    if (e.killed || typeof e.code !== "number") throw new Error(`${file} ${args.join(" ")} did not finish in ${timeout} ms:\n${e.stdout}\n${e.stderr}`);
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "foliosim-release-"));
  const upstream = (await exec("npm", ["config", "get", "registry"], { cwd: dir })).stdout.trim();
  registry = await startRegistry(dir, upstream);
  const host = registry.url.replace(/^http:/, "");
  const npmrc = join(dir, "npmrc");
  writeFileSync(npmrc, `registry=${registry.url}\n${host}:_authToken=${registry.token}\n`);
  env = {
    ...process.env,
    npm_config_userconfig: npmrc,
    npm_config_registry: registry.url,
    npm_config_cache: join(dir, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    NO_COLOR: "1",
    TURBO_TELEMETRY_DISABLED: "1",
  };
}, 3 * MINUTE);

afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the release, rehearsed against a local registry", () => {
  it("publishes every package with `pnpm release`, installs them with npm into an empty directory, and runs them", async () => {
    // 1. pnpm release: build, typecheck, test, publint, arethetypeswrong, changeset publish.
    const release = await run("npx", ["--yes", "pnpm@10.34.8", "run", "release", "--no-git-tag"], ROOT, 8 * MINUTE);
    expect(release.code, `pnpm release failed:\n${release.stdout}\n${release.stderr}`).toBe(0);

    // 2. Every package is there, at one version, with caret ranges for its siblings.
    for (const p of publishedPackages()) {
      const res = await fetch(`${registry!.url}${p.json.name.replace("/", "%2f")}/${p.json.version}`, { signal: AbortSignal.timeout(MINUTE) });
      expect(res.status, `${p.json.name}@${p.json.version} is not on the registry:\n${release.stdout}`).toBe(200);
      const meta = (await res.json()) as { dependencies?: Record<string, string> };
      for (const [name, range] of Object.entries(meta.dependencies ?? {})) {
        if (name === "foliosim" || name.startsWith("@foliosim/")) expect(`${name}@${range}`).toBe(`${name}@^${p.json.version}`);
      }
    }

    // 3. A consumer: an empty directory and plain npm.
    const consumer = join(dir, "consumer");
    mkdirSync(consumer);
    writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    const install = await run("npm", ["install", "--no-audit", "--no-fund", "foliosim", "@foliosim/scenarios"], consumer, 5 * MINUTE);
    expect(install.code, `npm install failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
    expect(copiesOf(join(consumer, "node_modules"), "@foliosim/sim"), "one copy of @foliosim/sim").toBe(1);
    for (const file of ["LICENSE", "README.md", "dist/index.d.ts"]) expect(existsSync(join(consumer, "node_modules/@foliosim/scenarios", file)), file).toBe(true);

    // 4. The CLI: S1 fails on linux-6.10 and holds on the newest kernel; exit code 0 says
    // every cell matches the verdict its thread leads one to expect.
    const compare = await run(join(consumer, "node_modules/.bin/foliosim"), ["compare", "pkvm-mlock-cma"], consumer, 4 * MINUTE);
    expect(compare.code, compare.stderr).toBe(0);
    const row = compare.stdout.split("\n").find((line) => line.startsWith("pkvm-mlock-cma "));
    expect(row, compare.stdout).toMatch(/^pkvm-mlock-cma\s+✗ fails 100% /); // linux-6.10, the first column
    expect(row, compare.stdout).toMatch(/✓ holds 0% [^✓✗]*$/); // linux-7.0, the last

    // 5. The consumer script, type-checked against the installed types, then run.
    copyFileSync(join(import.meta.dirname, "consumer.mts"), join(consumer, "consumer.mts"));
    writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2023", "dom"], types: [], strict: true }, files: ["consumer.mts"] }));
    const tsc = await run(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], consumer, 3 * MINUTE);
    expect(tsc.code, `the consumer does not type-check:\n${tsc.stdout}`).toBe(0);
    const script = await run(process.execPath, ["consumer.mjs"], consumer, 2 * MINUTE);
    expect(script.code, script.stderr).toBe(0);
    expect(script.stdout).toMatch(/^pkvm-mlock-cma on linux-6\.10: fails\npkvm-mlock-cma on linux-7\.0: holds\n\d+ scenarios, \d+ kernels\n$/);

    // 6. Your patch, from the installed package: a variant module in a directory of its own
    // (outside the repository and the consumer), importing @foliosim/* with no
    // node_modules beside it, evaluated and then named by path in --kernel.
    const patches = join(dir, "patches");
    mkdirSync(patches);
    const fix = join(patches, "my-fix.ts");
    copyFileSync(join(ROOT, "apps/foliosim/examples/variants/drain-unexplained-refs.ts"), fix);
    const foliosim = join(consumer, "node_modules/.bin/foliosim");
    const evaluate = await run(foliosim, ["evaluate", "--kernel", "linux-6.11", "--variant", fix, "pkvm-mlock-cma"], consumer, 4 * MINUTE);
    expect(evaluate.code, `${evaluate.stdout}\n${evaluate.stderr}`).toBe(0);
    expect(evaluate.stdout).toMatch(/pkvm-mlock-cma +fails +holds +fixed/);
    expect(evaluate.stdout).toContain("1 fixed, 0 broken");
    const patched = await run(foliosim, ["run", "pkvm-mlock-cma", "--kernel", `linux-6.11+collect=${fix}`, "--trace", "none"], patches, 2 * MINUTE);
    expect(patched.code, `${patched.stdout}\n${patched.stderr}`).toBe(0);
    expect(patched.stdout).toMatch(/Verdict: ✓ holds/);
  });
});

/** How many installed copies of `name` the tree holds (npm dedupes caret ranges to one). */
function copiesOf(nodeModules: string, name: string): number {
  let count = 0;
  const walk = (dirPath: string): void => {
    if (existsSync(join(dirPath, name, "package.json"))) count++;
    for (const entry of existsSync(dirPath) ? readdirSync(dirPath) : []) {
      const scoped = entry.startsWith("@") ? readdirSync(join(dirPath, entry)).map((e) => join(entry, e)) : [entry];
      for (const pkg of scoped) if (existsSync(join(dirPath, pkg, "node_modules"))) walk(join(dirPath, pkg, "node_modules"));
    }
  };
  walk(nodeModules);
  return count;
}

