import { describe, expect, it } from "vitest";
import { buildTraceDocument } from "../render/trace-model.js";
import { runLivelock, runRace } from "../render/test-support.js";
import { windowAround } from "./components/viewport.js";
import { keyPresses } from "./hooks/use-keymap.js";
import { capFrames } from "./replay-job.js";
import { buildFrames, findLoop } from "./trace-frames.js";

const META = { scenario: "livelock-mini", kernel: "k" };

describe("the trace stepper's frames", () => {
  const frames = buildFrames(buildTraceDocument(runLivelock(), META));

  it("show who sleeps in what, who waits for a CPU, and who holds which lock", () => {
    const last = frames[frames.length - 1];
    expect(last.cpus).toEqual(["—", "B"]);
    expect(last.waiting).toEqual(["A sleeps in flush_work(lru_add_drain_work/1) on CPU1", "kworker/1:1 runnable, waiting for CPU1"]);
    expect(last.locks).toEqual(["folio_lock held by A"]);
    // Before A takes it, nobody holds the lock.
    expect(frames[0].locks).toEqual([]);
  });

  it("find the start of the repeating loop (B's trylock + cpu_relax)", () => {
    const loop = findLoop(frames)!;
    expect(loop.period).toBe(2);
    expect(loop.repeats).toBeGreaterThan(1000);
    expect(frames[loop.start - 1].task).toBe("A"); // A's flush_work is the last step before the loop
    expect(new Set(frames.slice(loop.start, loop.start + 4).map((f) => f.lines[0]))).toEqual(new Set(["trylock(folio_lock)", "cpu_relax"]));
  });

  it("find no loop in a run that does not repeat", () => {
    expect(findLoop(buildFrames(buildTraceDocument(runRace(4), META)))).toBeNull();
  });

  it("are capped for the screen: head, two cycles from the loop's start, tail", () => {
    const loop = findLoop(frames)!;
    const capped = capFrames(frames, loop, 300);
    expect(capped.frames.length).toBeLessThanOrEqual(300);
    expect(capped.elided).toBe(frames.length - capped.frames.length);
    expect(capped.frames.map((f) => f.index)).toEqual(capped.frames.map((_, i) => i));
    expect(capped.frames[capped.loopStart].step).toBe(frames[loop.start].step);
    expect(capped.frames[capped.frames.length - 1].step).toBe(frames[frames.length - 1].step);
  });
});

describe("TUI helpers", () => {
  it("a viewport keeps the cursor in view", () => {
    expect(windowAround(5, 4, 10)).toEqual({ start: 0, end: 5 });
    expect(windowAround(30, 0, 10)).toEqual({ start: 0, end: 10 });
    expect(windowAround(30, 15, 10)).toEqual({ start: 10, end: 20 });
    expect(windowAround(30, 29, 10)).toEqual({ start: 20, end: 30 });
  });

  it("characters that arrive together are separate key presses", () => {
    const none = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };
    expect(keyPresses("nnnn", none).map(([c]) => c)).toEqual(["n", "n", "n", "n"]);
    expect(keyPresses("G", none)).toEqual([["G", none]]);
    expect(keyPresses("n\r", none)[1][1].return).toBe(true);
  });
});
