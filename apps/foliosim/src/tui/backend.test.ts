// The TUI's backend and the CLI give one cell one budget and one result.
import { beforeAll, describe, expect, it } from "vitest";
import { cli } from "../test-support.js";
import { createBackend } from "./backend.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});

describe("TUI backend", () => {
  it("a compare cell has the CLI's budget and the CLI's numbers (executions, verdict, failures, metrics)", async () => {
    const tui = createBackend({ inThread: true }).compare(["transient-ref"], ["linux-7.0"], () => {});
    const doc = await tui.done;
    const r = await cli("compare", "transient-ref", "--kernel", "linux-7.0", "--workers", "0", "--json");
    const row = JSON.parse(r.stdout).results[0];
    expect(tui.budget).toBe(JSON.parse(r.stdout).budget);
    const pick = (x: { executions: number; verdict: string; failures: { kind: string; count: number }[]; metrics: unknown }) => [x.executions, x.verdict, x.failures.map((f) => [f.kind, f.count]), x.metrics];
    expect(pick(doc.results[0])).toEqual(pick(row));
    expect(doc.results[0].executions).toBe(40);
  });
});
