/**
 * End to end in a real terminal: the built binary in tmux, driven with send-keys,
 * asserted on the captured pane. Skipped (with a message) when tmux is missing.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const APP = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(APP, "dist", "bin.js");
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const starts = existsSync(BIN) && spawnSync(process.execPath, [BIN, "list"], { env: { ...process.env, CI: "1" } }).status === 0;
if (existsSync(BIN) && !starts) console.warn("skipping the tmux test: the built binary does not start (see the binary tests)");
if (!hasTmux) console.warn("tmux is not installed: skipping the terminal end-to-end test (apt-get install tmux)");
const session = `foliosim-e2e-${process.pid}`;

const tmux = (...args: string[]): string => execFileSync("tmux", args, { encoding: "utf8" });
const pane = (): string => tmux("capture-pane", "-p", "-t", session);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  const start = Date.now();
  for (;;) {
    const screen = pane();
    if (typeof text === "string" ? screen.includes(text) : text.test(screen)) return screen;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; the pane:\n${screen}`);
    await sleep(100);
  }
}

describe.skipIf(!hasTmux || !starts)("TUI in tmux", () => {
  afterAll(() => {
    spawnSync("tmux", ["kill-session", "-t", session]);
  });

  it("catalog, kernel picker, explore, compare, a counterexample in the trace stepper, quit", async () => {
    const env = Object.entries({ NO_COLOR: "1", TERM: "xterm-256color" }).map(([k, v]) => `${k}=${v}`);
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", "env", "-u", "CI", ...env, process.execPath, BIN);
    let screen = await waitFor("foliosim · catalog");
    expect(screen).toContain("q quit");
    expect(screen).toContain("Promise:");
    tmux("send-keys", "-t", session, "Down");
    await sleep(150);
    tmux("send-keys", "-t", session, "k");
    screen = await waitFor("Variants of linux-7.0");
    expect(screen).toContain("foliosim · kernel picker");
    tmux("send-keys", "-t", session, "Escape");
    await waitFor("foliosim · catalog");
    tmux("send-keys", "-t", session, "x");
    screen = await waitFor(/Verdict: [✓✗⟳⊘?] \w+|Stopped/, 60_000);
    expect(screen).toContain("explore");
    tmux("send-keys", "-t", session, "Escape");
    await waitFor("foliosim · catalog");
    // Compare the next scenario (activate-batch) on the headline kernels; open linux-6.10's counterexample.
    tmux("send-keys", "-t", session, "Down");
    await sleep(150);
    tmux("send-keys", "-t", session, "c");
    screen = await waitFor(/4\/4 cells/, 60_000);
    expect(screen).toMatch(/[✓✗⟳⊘] (holds|fails|livelock|deadlock)/);
    tmux("send-keys", "-t", session, "Enter");
    screen = await waitFor(/Step 1\/\d+/, 30_000);
    expect(screen).toContain("CPU0");
    expect(screen).toContain("Folios");
    tmux("send-keys", "-t", session, "Right");
    await waitFor(/Step 2\/\d+/);
    tmux("send-keys", "-t", session, "q");
    await waitFor("foliosim · compare");
    tmux("send-keys", "-t", session, "q");
    await waitFor("foliosim · catalog");
    tmux("send-keys", "-t", session, "q");
    await sleep(500);
    const alive = spawnSync("tmux", ["has-session", "-t", session]).status === 0;
    if (alive) expect(pane()).not.toContain("foliosim · catalog");
  });
});
