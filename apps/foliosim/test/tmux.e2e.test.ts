/**
 * End to end in a real terminal: the built binary in tmux, driven with send-keys,
 * asserted on the captured pane. Skipped (with a message) when tmux is missing.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NEWEST_PRESET } from "@foliosim/scenarios";
import { afterAll, describe, expect, it } from "vitest";

const APP = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(APP, "dist", "bin.js");
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const starts = existsSync(BIN) && spawnSync(process.execPath, [BIN, "list"], { env: { ...process.env, CI: "1" } }).status === 0;
if (existsSync(BIN) && !starts) console.warn("skipping the tmux test: the built binary does not start (see the binary tests)");
if (!hasTmux) console.warn("tmux is not installed: skipping the terminal end-to-end test (apt-get install tmux)");
const session = `foliosim-e2e-${process.pid}`;
const small = `foliosim-e2e-small-${process.pid}`;

const tmux = (...args: string[]): string => execFileSync("tmux", args, { encoding: "utf8" });
const pane = (name = session): string => tmux("capture-pane", "-p", "-t", name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(text: string | RegExp, timeoutMs = 20_000, name = session): Promise<string> {
  const start = Date.now();
  for (;;) {
    const screen = pane(name);
    if (typeof text === "string" ? screen.includes(text) : text.test(screen)) return screen;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${String(text)}; the pane:\n${screen}`);
    await sleep(100);
  }
}

describe.skipIf(!hasTmux || !starts)("TUI in tmux", () => {
  afterAll(() => {
    spawnSync("tmux", ["kill-session", "-t", session]);
    spawnSync("tmux", ["kill-session", "-t", small]);
  });

  it("80×24 with NO_COLOR: the catalog fits with a visible cursor; explore + q keeps the counterexample and Enter opens it", async () => {
    tmux("new-session", "-d", "-s", small, "-x", "80", "-y", "24", "env", "-u", "CI", "NO_COLOR=1", "TERM=xterm-256color", process.execPath, BIN);
    const wait = (text: string | RegExp, ms = 60_000): Promise<string> => waitFor(text, ms, small);
    let screen = await wait("q quit");
    // The whole catalog screen fits: title at the top, help line at the bottom, a glyph cursor.
    expect(screen.split("\n")[0]).toContain("foliosim · catalog");
    expect(screen).toContain("› pkvm-mlock-cma");
    expect(screen).toContain("hmm-migrate-cycle");
    expect(tmux("capture-pane", "-p", "-e", "-t", small)).not.toMatch(/\u001B\[(3\d|9\d)(;\d+)*m/); // no colours
    // linux-6.10 (the picker's first row): pkvm-mlock-cma fails from the first execution.
    tmux("send-keys", "-t", small, "k");
    screen = await wait("›( ) linux-6.10");
    expect(screen.split("\n")[0]).toContain("foliosim · kernel picker");
    tmux("send-keys", "-t", small, "Enter");
    await wait("» kernel: linux-6.10");
    tmux("send-keys", "-t", small, "Escape");
    await wait("kernel linux-6.10");
    tmux("send-keys", "-t", small, "x");
    screen = await wait("✗ found promise at execution 1");
    expect(screen.split("\n")[0]).toContain("foliosim · explore pkvm-mlock-cma");
    tmux("send-keys", "-t", small, "q");
    screen = await wait("1 distinct failure(s) kept");
    expect(screen).toContain("› ✗ found promise");
    tmux("send-keys", "-t", small, "Enter");
    screen = await wait(/Step 1\/\d+/, 120_000);
    expect(screen).not.toContain("the promise held");
    expect(screen).toContain("foliosim · trace pkvm-mlock-cma");
    expect(screen).toContain("CPU7");
    tmux("send-keys", "-t", small, "q");
    await wait("foliosim · explore");
    // The found line is part of the explore screen only.
    tmux("send-keys", "-t", small, "Escape");
    screen = await wait("foliosim · catalog");
    expect(screen).not.toContain("✗ found");
  }, 300_000);

  it("catalog, kernel picker, explore, compare, a counterexample in the trace stepper, quit", async () => {
    const env = Object.entries({ NO_COLOR: "1", TERM: "xterm-256color" }).map(([k, v]) => `${k}=${v}`);
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", "env", "-u", "CI", ...env, process.execPath, BIN);
    let screen = await waitFor("foliosim · catalog");
    expect(screen).toContain("q quit");
    expect(screen).toContain("Promise:");
    tmux("send-keys", "-t", session, "Down");
    await sleep(150);
    tmux("send-keys", "-t", session, "k");
    screen = await waitFor(`Variants of ${NEWEST_PRESET}`);
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
    screen = await waitFor(/(\d+)\/\1 cells/, 60_000);
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
  }, 300_000);
});
