import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { NEWEST_PRESET } from "@foliosim/scenarios";
import { describe, expect, it } from "vitest";
import { EXAMPLES_DIR } from "../catalog.js";
import { runCommand } from "../commands/run.js";
import type { ResultRow, ResultsDocument } from "../report.js";
import { App } from "./App.js";
import { createBackend } from "./backend.js";
import { AppStore, type Backend } from "./store.js";
import { buildFrames } from "./trace-frames.js";

const tick = (ms = 25) => new Promise((r) => setTimeout(r, ms));
const DOWN = "\u001B[B";
const UP = "\u001B[A";
const RIGHT = "\u001B[C";
const LEFT = "\u001B[D";
const ENTER = "\r";

const S4 = join(EXAMPLES_DIR, "s4-transient-ref.yaml");
const failing = runCommand({ scenario: S4, kernel: "linux-7.0", seed: 1 });

function row(scenario: string, kernel: string, outcome: ResultRow["outcome"]): ResultRow {
  return {
    scenario,
    kernel,
    strategy: "pct-d3",
    executions: 10,
    complete: false,
    verdict: outcome === "holds" ? "holds" : "fails",
    outcome,
    failures: outcome === "holds" ? [] : [{ kind: "promise", message: "pin failed", count: 4, schedule: failing.report.schedule, shrunk: failing.report.schedule }],
    metrics: { virtual_ns: { min: 1000, median: 2000, max: 3000 } },
    failureRate: { estimate: outcome === "holds" ? 0 : 0.4, low: 0, high: 1 },
    stopReason: "executions",
    inconclusive: 0,
  };
}

/** The real list and replay; explore and compare under the test's control. */
function fakeBackend(exportDir: string): Backend & { stopped: number } {
  const real = createBackend({ inThread: true, exportDir });
  const b = {
    stopped: 0,
    list: real.list,
    replay: (token: string) => real.replay(token, S4),
    // The fake explore's failure is S4's, so its exports replay S4's file too.
    exportTrace: (job: Parameters<Backend["exportTrace"]>[0], format: Parameters<Backend["exportTrace"]>[1]) => real.exportTrace({ ...job, scenario: S4 }, format),
    explore: (scenario: string, kernel: string, listener: Parameters<Backend["explore"]>[2]) => {
      let reject: (e: Error) => void = () => {};
      const done = new Promise<ResultsDocument>((_res, rej) => (reject = rej));
      setTimeout(() => {
        listener.progress({ executions: 50, failures: 3, elapsedMs: 500 });
        listener.failure({ kind: "promise", signature: "promise: x", message: `${scenario} on ${kernel}: pin returned -EAGAIN`, execution: 7, schedule: failing.report.schedule });
      }, 5);
      return {
        handle: {
          stop: () => {
            b.stopped++;
            const e = new Error("stopped");
            e.name = "StoppedError";
            reject(e);
          },
        },
        done,
        budget: "PCT depth 3; budget 100 executions per cell",
        total: 100,
      };
    },
    compare: (scenarios: string[], kernels: string[], onCell: Parameters<Backend["compare"]>[2]) => {
      const rows: ResultRow[] = [];
      const done = (async () => {
        await tick(5);
        for (const s of scenarios)
          for (const k of kernels) {
            const r = row(s, k, k === "linux-6.10" ? "fails" : k === "linux-6.11" ? "livelock" : "holds");
            rows.push(r);
            onCell(r, rows.length, scenarios.length * kernels.length);
          }
        return { schemaVersion: 1 as const, results: rows };
      })();
      return { handle: { stop: () => {} }, done, budget: "PCT depth 3; budget 40 executions per cell" };
    },
  };
  return b;
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "foliosim-tui-"));
  const backend = fakeBackend(dir);
  const store = new AppStore(backend);
  const app = render(<App store={store} />);
  return { store, backend, dir, ...app };
}

describe("TUI", () => {
  it("catalog: scenarios with description, source and promise; kernels; help line from the key map", async () => {
    const { lastFrame, stdin, store, unmount } = setup();
    await tick();
    const first = lastFrame()!;
    expect(first).toContain("foliosim · catalog");
    expect(first).toContain("Source:");
    expect(first).toContain("Promise:");
    expect(first).toContain("*linux-6.10");
    expect(first.replace(/\s+/g, " ")).toContain("↑ previous · ↓ next · k kernel picker · x/enter explore · c compare this scenario · a compare all · q quit");
    const before = store.scenarioId;
    stdin.write(DOWN);
    await tick();
    expect(store.scenarioId).not.toBe(before);
    stdin.write(UP);
    await tick();
    expect(store.scenarioId).toBe(before);
    unmount();
  });

  it("kernel picker: presets plus per-variant toggles through overrides", async () => {
    const { lastFrame, stdin, store, unmount } = setup();
    await tick();
    stdin.write("k");
    await tick();
    expect(lastFrame()).toContain("kernel picker");
    // With no choice made, the TUI runs what a machine with no kernel options runs: the newest preset.
    expect(lastFrame()).toContain(`Variants of ${NEWEST_PRESET}`);
    expect(store.kernelSpec()).toBe(NEWEST_PRESET);
    // Choose linux-6.11 (second preset): move to the top, then down once.
    for (let i = 0; i < store.getSnapshot().kernel.row; i++) stdin.write(UP);
    await tick();
    stdin.write(DOWN);
    await tick();
    stdin.write(ENTER);
    await tick();
    expect(store.kernelSpec()).toBe("linux-6.11");
    // Down to the first variant row (collect) and cycle it.
    const presets = store.getSnapshot().list.kernels.length;
    for (let i = 1; i < presets; i++) stdin.write(DOWN);
    await tick();
    stdin.write(RIGHT);
    await tick();
    expect(store.kernelSpec()).toBe("linux-6.11+collect=will-v1");
    expect(lastFrame()).toContain("* collect");
    stdin.write(LEFT);
    await tick();
    expect(store.kernelSpec()).toBe("linux-6.11");
    stdin.write("q");
    await tick();
    expect(lastFrame()).toContain("foliosim · catalog");
    unmount();
  });

  it("Ctrl-C quits from any screen", async () => {
    const exits: number[] = [];
    const dir = mkdtempSync(join(tmpdir(), "foliosim-tui-"));
    const store = new AppStore(fakeBackend(dir));
    const app = render(<App store={store} onExit={() => exits.push(1)} />);
    await tick();
    app.stdin.write("k");
    await tick();
    app.stdin.write("\u0003");
    await tick();
    expect(exits).toEqual([1]);
    app.unmount();
  });

  it("explore view: progress, rate, failures as found; q stops and keeps the counterexample", async () => {
    const { lastFrame, stdin, backend, store, unmount } = setup();
    await tick();
    stdin.write("x");
    await tick(40);
    const frame = lastFrame()!;
    expect(frame).toContain("50 executions");
    expect(frame).toContain("100 exec/s");
    expect(frame).toContain("3 failing");
    expect(frame).toContain("› ✗ found promise at execution 7");
    expect(frame).toContain("q/ctrl-c stop (keeps what was found)");
    stdin.write("q");
    await tick();
    expect(backend.stopped).toBe(1);
    expect(lastFrame()).toContain("Stopped: a partial report of 50 executions, 1 distinct failure(s) kept.");
    // The failure found before q opens (it used to say "the promise held").
    stdin.write(ENTER);
    for (let i = 0; i < 40 && store.getSnapshot().screen !== "trace"; i++) await tick();
    expect(lastFrame()).not.toContain("the promise held");
    expect(lastFrame()).toContain("foliosim · trace");
    // Shrunk from the token of the execution that found it: same scenario and kernel.
    expect(store.getSnapshot().trace!.report.schedule.split(".").slice(0, 2)).toEqual(failing.report.schedule.split(".").slice(0, 2));
    unmount();
  });

  it("the ✗ found line belongs to the explore screen, not to every later screen", async () => {
    const { lastFrame, stdin, frames, unmount } = setup();
    await tick();
    stdin.write("x");
    await tick(40);
    expect(lastFrame()).toContain("✗ found promise");
    stdin.write("q");
    await tick();
    stdin.write("\u001B");
    await tick(80);
    expect(lastFrame()).toContain("foliosim · catalog");
    expect(lastFrame()).not.toContain("✗ found");
    expect(frames[frames.length - 1]).not.toContain("✗ found");
    unmount();
  });

  it("opening a counterexample does not block the screen: a spinner while it replays, esc cancels", async () => {
    const dir = mkdtempSync(join(tmpdir(), "foliosim-tui-"));
    const backend = fakeBackend(dir);
    let finish: (v: Awaited<ReturnType<Backend["replay"]>>) => void = () => {};
    backend.replay = () => new Promise((resolve) => (finish = resolve));
    const store = new AppStore(backend);
    const app = render(<App store={store} />);
    await tick();
    app.stdin.write("c");
    await tick(40);
    app.stdin.write(ENTER);
    await tick();
    expect(store.getSnapshot().opening).not.toBeNull();
    expect(app.lastFrame()).toContain("replaying and shrinking the counterexample");
    // Keys still work while it replays.
    app.stdin.write("m");
    await tick();
    expect(store.getSnapshot().compare!.metric).not.toBe("virtual_ns");
    app.stdin.write("\u001B");
    await tick(80);
    expect(store.getSnapshot().opening).toBeNull();
    expect(store.getSnapshot().screen).toBe("compare");
    // A result that arrives after esc is dropped.
    finish(await createBackend({ inThread: true }).replay(failing.report.schedule, S4));
    await tick();
    expect(store.getSnapshot().screen).toBe("compare");
    app.unmount();
  });

  it("says what is true when there is no counterexample to open", async () => {
    const { store, unmount } = setup();
    await tick();
    store.openCounterexample(undefined, "explore", undefined, "no counterexample was found");
    expect(store.getSnapshot().message).toBe("no counterexample was found");
    unmount();
  });

  it("compare view: glyph and word per cell, failure rate, cost; Enter opens the counterexample", async () => {
    const { lastFrame, stdin, unmount } = setup();
    await tick();
    stdin.write("c");
    await tick(40);
    const frame = lastFrame()!;
    expect(frame).toContain("✗ fails 40% 2.0 µs");
    expect(frame).toContain("⟳ livelock 40%");
    expect(frame).toContain("✓ holds 0%");
    expect(frame).toContain("enter open counterexample");
    stdin.write("m");
    await tick();
    expect(lastFrame()!.replace(/\s+/g, " ")).toContain("cost: median lru_add_drain per execution");
    stdin.write("m");
    await tick();
    for (let i = 0; i < 7; i++) stdin.write("m"); // 9 metrics: back to virtual_ns
    await tick();
    // The cursor is a glyph too (NO_COLOR terminals show no inverse video).
    expect(lastFrame()).toMatch(/›[✓✗⟳]/);
    stdin.write(ENTER);
    for (let i = 0; i < 40 && !lastFrame()!.includes("foliosim · trace"); i++) await tick();
    expect(lastFrame()).toContain("foliosim · trace");
    unmount();
  });

  it("trace stepper: CPU columns, step forward and back, folio panel, export", async () => {
    const { lastFrame, stdin, store, dir, unmount } = setup();
    await tick();
    store.openCounterexample(failing.report.schedule, "catalog", undefined, "");
    for (let i = 0; i < 40 && !store.getSnapshot().trace; i++) await tick();
    const frames = store.getSnapshot().trace!.frames;
    expect(frames.length).toBeGreaterThan(3);
    expect(frames[0].task).toBe("set-up");
    expect(frames[0].folios.length).toBeGreaterThan(0);
    expect(frames.slice(1).every((f) => !/^setup\d/.test(f.task))).toBe(true);
    expect(lastFrame()).toContain("CPU0");
    expect(lastFrame()).toContain("CPU1");
    expect(lastFrame()).toContain(`Step 1/${frames.length}`);
    stdin.write(RIGHT);
    await tick();
    stdin.write("n");
    await tick();
    expect(lastFrame()).toContain(`Step 3/${frames.length}`);
    stdin.write(LEFT);
    await tick();
    expect(lastFrame()).toContain(`Step 2/${frames.length}`);
    // Keys that arrive together (auto-repeat, a paste) each count.
    stdin.write("nnn");
    await tick();
    expect(lastFrame()).toContain(`Step 5/${frames.length}`);
    stdin.write(RIGHT + RIGHT);
    await tick();
    expect(lastFrame()).toContain(`Step 7/${frames.length}`);
    stdin.write("G");
    await tick();
    expect(lastFrame()).toMatch(/folio 0x[0-9a-f]+: ref \d+ · pin \d+ · map \d+/);
    stdin.write("m");
    for (let i = 0; i < 40 && !lastFrame()!.includes("exported mermaid"); i++) await tick();
    expect(lastFrame()).toContain("exported mermaid trace to");
    const file = readdirSync(dir).find((f) => f.endsWith(".mmd"))!;
    expect(readFileSync(join(dir, file), "utf8")).toMatch(/^sequenceDiagram/);
    expect(lastFrame()!.replace(/\s+/g, " ")).toContain("→/n step · ←/p back · g first · G last · L loop start · f export ftrace · P export perfetto · m export mermaid · q/esc back");
    unmount();
  });

  it("the folio panel shows S1's batch reference: the guest folio sits in CPU7's mlock batch after the set-up", () => {
    const s1 = runCommand({ scenario: join(EXAMPLES_DIR, "s1-pkvm-mlock-cma.yaml"), kernel: "linux-6.11", seed: 1 });
    const frames = buildFrames(s1.trace);
    const guest = frames[0].folios[0];
    expect(guest.where).toEqual(["cpu7 mlock_fbatch", "unevictable"]);
    expect(guest.refcount).toBe(3);
    expect(guest.flags).toContain("mlocked");
    expect(frames.some((f) => f.folios.some((x) => x.pincount === 1))).toBe(true);
  });

  it("foliosim tui FILE…: the user's files come first in the catalog, by path, and explore from there", () => {
    const backend = createBackend({ inThread: true, files: [S4] });
    const list = backend.list();
    expect(list.scenarios[0]).toMatchObject({ id: S4, source: S4, origin: "file" });
    expect(list.scenarios.length).toBe(createBackend({ inThread: true }).list().scenarios.length + 1);
    const store = new AppStore(backend);
    expect(store.scenarioId).toBe(S4);
  });

  it("the folio panel follows refcounts and where the folio is held", () => {
    const frames = buildFrames(failing.trace);
    const states = frames.flatMap((f) => f.folios);
    expect(states.some((f) => f.refcount >= 2)).toBe(true);
    expect(new Set(states.map((f) => f.refcount)).size).toBeGreaterThan(1);
  });
});
