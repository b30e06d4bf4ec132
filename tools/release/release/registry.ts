/**
 * A throw-away npm registry for the release rehearsal: Verdaccio on a free loopback
 * port with its storage, config and htpasswd in a temporary directory. Packages named
 * `foliosim` or `@foliosim/*` live only here (never fetched from upstream); everything
 * else is proxied to the registry npm is configured with.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { freePort, stopChild } from "@foliosim/queue/testing";

export interface LocalRegistry {
  url: string;
  /** An auth token of a user registered on it. */
  token: string;
  stop(): Promise<void>;
}

function config(dir: string, upstream: string): string {
  const own = "    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n";
  return [
    `storage: ${JSON.stringify(join(dir, "storage"))}`,
    "auth:",
    "  htpasswd:",
    `    file: ${JSON.stringify(join(dir, "htpasswd"))}`,
    "    max_users: 10",
    "uplinks:",
    "  upstream:",
    `    url: ${JSON.stringify(upstream)}`,
    "    timeout: 60s",
    "    maxage: 30m",
    "packages:",
    "  'foliosim':",
    own,
    "  '@foliosim/*':",
    own,
    "  '**':",
    own + "    proxy: upstream",
    "web:",
    "  enable: false",
    "log: { type: stdout, format: pretty, level: warn }",
    "",
  ].join("\n");
}

async function waitForPing(url: string, child: ChildProcess, output: () => string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}-/ping`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`verdaccio did not answer ${url}-/ping within ${ms} ms:\n${output()}`);
}

async function addUser(url: string): Promise<string> {
  const name = "release";
  const res = await fetch(`${url}-/user/org.couchdb.user:${name}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "rehearsal-only", email: "release@localhost", type: "user", roles: [] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { token?: string; error?: string };
  if (!res.ok || !body.token) throw new Error(`verdaccio: adding a user failed (${res.status}): ${JSON.stringify(body)}`);
  return body.token;
}

/** Starts Verdaccio in `dir`, proxying `upstream`; resolves once it answers and a user exists. */
export async function startRegistry(dir: string, upstream: string): Promise<LocalRegistry> {
  const configFile = join(dir, "config.yaml");
  writeFileSync(configFile, config(dir, upstream));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const bin = createRequire(import.meta.url).resolve("verdaccio/bin/verdaccio");
  const child = spawn(process.execPath, [bin, "--config", configFile, "--listen", `127.0.0.1:${port}`], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const stop = () => stopChild(child, 5_000);
  const orphanGuard = () => child.kill("SIGKILL"); // if the test process dies first
  process.once("exit", orphanGuard);
  child.once("exit", () => process.off("exit", orphanGuard));
  try {
    await waitForPing(url, child, () => log, 60_000);
    return { url, token: await addUser(url), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
