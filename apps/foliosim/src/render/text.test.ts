import { describe, expect, it } from "vitest";
import { renderFound } from "./text.js";

describe("text rendering of failures", () => {
  it("says a hang's kind once: its message already starts with it", () => {
    const text = renderFound(
      [
        { scenario: "hmm-drain-livelock", kernel: "linux-6.11", kind: "livelock", message: "livelock: a cycle of 176 steps", execution: 1, schedule: "t1" },
        { scenario: "lock-waiter-ref", kernel: "linux-7.0", kind: "promise", message: "migrate_pages returned -EAGAIN", execution: 3, schedule: "t2" },
      ],
      (s, k, t) => `foliosim replay ${t}`,
    );
    expect(text).toContain("hmm-drain-livelock on linux-6.11, execution 1: livelock: a cycle of 176 steps\n");
    expect(text).not.toContain("livelock: livelock:");
    expect(text).toContain("lock-waiter-ref on linux-7.0, execution 3: promise: migrate_pages returned -EAGAIN\n");
  });
});
