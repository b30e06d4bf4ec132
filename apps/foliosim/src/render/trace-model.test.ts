import { describe, expect, it } from "vitest";
import type { TraceEvent } from "@foliosim/sim";
import { buildTraceDocument, writeFtrace, writeMermaid, writePerfetto, type TraceSource } from "../index.js";
import { escapeMermaid } from "../index.js";

/** A hand-written run: the cases a real machine rarely produces, all at once. */
function source(trace: TraceEvent[], extra: Partial<TraceSource> = {}): TraceSource {
  return {
    trace,
    taskTable: [
      { id: 0, name: "a very long task name", cpu: 0, policy: "fifo", priority: 10, daemon: false },
      { id: 1, name: "b", cpu: 1, policy: "normal", priority: 0, daemon: false },
      { id: 2, name: "kworker/1:1", cpu: 1, policy: "normal", priority: 0, daemon: true },
    ],
    cpus: 2,
    status: "done",
    steps: 9,
    virtualNs: 10_000,
    ...extra,
  };
}

const ev = (step: number, t: number, cpu: number, task: number, type: string, name?: string, args?: Record<string, unknown>): TraceEvent => {
  const e: TraceEvent = { step, t, cpu, task, type };
  if (name !== undefined) e.name = name;
  if (args !== undefined) e.args = args;
  return e;
};

const META = { scenario: "edge", kernel: "k" };

describe("buildTraceDocument on unusual traces", () => {
  const trace = [
    ev(0, 0, -1, -1, "mm_page_alloc", "folio 0x10", { pfn: 16, order: 0 }),
    ev(0, 0, 0, 0, "spawn", "a very long task name"),
    ev(0, 0, 0, 0, "func_entry", "outer"),
    ev(0, 100, 0, 0, "switch", "a very long task name", { prev: "swapper", prevState: "R", next: "a very long task name" }),
    ev(1, 100, 0, 0, "func_entry", "inner"),
    ev(1, 100, 0, 0, "page_ref_mod", "folio 0x10", { pfn: "0x10", flags: ["uptodate", "lru"], count: 2, mapcount: -1, mapping: null, mt: "MOVABLE", val: 1 }),
    ev(1, 120, 0, 0, "op", "folio_get"),
    // An exit for `outer` while `inner` is still open: both close.
    ev(1, 120, 0, 0, "func_exit", "outer"),
    // An exit with no entry at all.
    ev(1, 120, 0, 0, "func_exit", "never_entered"),
    ev(2, 130, 0, 0, "block", "wait_for_completion(x)"),
    // A wake-up, then the task resumes on its idle CPU without a switch event.
    ev(2, 500, 0, 0, "wake", "wait_for_completion(x)"),
    ev(3, 520, 0, 0, "weird:event type", "thing", { "odd key": "two words", n: 3, o: { x: 1 } }),
    ev(3, 520, 0, 0, "op", "after_wake"),
    ev(3, 520, 0, 0, "func_entry", "left_open"),
    ev(4, 700, 1, 1, "switch", "b", { prev: "swapper", prevState: "R", next: "b" }),
    ev(5, 720, 1, 1, "ipi", "flush_tlb", { from: 1, to: "all" }),
    ev(5, 740, 1, 1, "op", "smp_call_function(flush_tlb)"),
    ev(6, 740, 1, 1, "exit", "b"),
  ];

  it("closes spans strictly, ignores unmatched exits and leaves the rest open at the end", () => {
    const doc = buildTraceDocument(source(trace), META);
    const byName = Object.fromEntries(doc.spans.map((s) => [s.name, s]));
    expect(Object.keys(byName)).toEqual(["outer", "inner", "left_open"]);
    expect(byName.inner.parent).toBe(byName.outer.id);
    expect(byName.inner.end).toBe(120);
    expect(byName.outer.end).toBe(120);
    const exit = doc.events.find((e) => e.type === "func_exit" && e.name === "outer")!;
    expect(exit.closes).toEqual([byName.inner.id, byName.outer.id]);
    expect(doc.events.find((e) => e.name === "never_entered")!.closes).toBeUndefined();
    expect(byName.left_open.unfinished).toBe(true);
    expect(byName.left_open.end).toBe(10_000);
  });

  it("switches a task out when it blocks and back in when it runs again", () => {
    const doc = buildTraceDocument(source(trace), META);
    const sw = doc.events.filter((e) => e.type === "switch" && e.cpu === 0).map((e) => [e.switch!.prev, e.switch!.next, e.switch!.prevState, e.ts, !!e.synthetic]);
    expect(sw).toEqual([
      [-1, 0, "R", 100, false],
      [0, -1, "S", 130, true],
      [-1, 0, "R", 520, true],
    ]);
    const sw1 = doc.events.filter((e) => e.type === "switch" && e.cpu === 1).map((e) => [e.switch!.prev, e.switch!.next, e.switch!.prevState]);
    expect(sw1).toEqual([
      [-1, 1, "R"],
      [1, -1, "X"],
    ]);
    expect(doc.runs.map((r) => [r.cpu, r.task, r.start, r.end])).toEqual([
      [0, 0, 100, 130],
      [0, 0, 520, 10_000],
      [1, 1, 700, 740],
    ]);
  });

  it("labels events with their op, puts set-up events on CPU 0 and reads folio counters", () => {
    const doc = buildTraceDocument(source(trace), META);
    expect(doc.events.find((e) => e.type === "page_ref_mod")!.label).toBe("folio_get");
    expect(doc.events.find((e) => e.type === "weird:event type")!.label).toBe("after_wake");
    const alloc = doc.events[0];
    expect([alloc.cpu, alloc.task]).toEqual([0, -1]);
    expect(doc.folios).toEqual([{ index: 0, name: "folio 0x10", pfn: "0x10", firstSeq: 0, order: 0 }]);
    const s = doc.events.find((e) => e.type === "page_ref_mod")!.sample!;
    expect([s.before, s.refcount, s.mapcount, s.pincount]).toEqual([1, 2, 0, 0]);
    expect(doc.tasks[0]).toMatchObject({ comm: "a_very_long_tas", pid: 1, prio: 89 });
    expect(doc.tasks[2].kworker).toBe(true);
    const ipi = doc.events.find((e) => e.type === "ipi")!;
    expect(ipi.ipiTargets).toEqual([{ cpu: 0, task: 0, flow: 0 }]);
  });

  it("writes unknown events generically in all three formats", () => {
    const doc = buildTraceDocument(source(trace), META);
    const ftrace = writeFtrace(doc);
    expect(ftrace).toMatch(/a_very_long_tas-1 +\[000\] \.\.\.\. +0\.000000520: foliosim_weird_event_type: thing odd_key="two words" n=3 o=\{"x":1\}\n/);
    expect(ftrace).toMatch(/page_ref_mod: pfn=0x10 flags=uptodate\|lru count=2 mapcount=-1 mapping=0000000000000000 mt=1 val=1\n/);
    expect(ftrace).toMatch(/ipi_send_cpumask: cpumask=0 callsite=smp_call_function_many_cond callback=flush_tlb\n/);
    expect(ftrace).toMatch(/prev_comm=a_very_long_tas prev_pid=1 prev_prio=89 prev_state=D ==> next_comm=swapper\/0/);
    const json = JSON.parse(writePerfetto(doc)) as { traceEvents: Record<string, unknown>[] };
    expect(json.traceEvents.some((e) => e.ph === "i" && e.name === "weird:event type thing")).toBe(true);
    expect(writeMermaid(doc).startsWith("sequenceDiagram\n")).toBe(true);
  });

  it("carries a failure found above the machine (a broken promise) into every format", () => {
    const doc = buildTraceDocument(source(trace), { ...META, failure: { kind: "promise", message: "b: ndelay returned 0; expected 1" } });
    expect(doc.outcome.failure).toEqual({ kind: "promise", message: "b: ndelay returned 0; expected 1", step: 9 });
    expect(writeFtrace(doc)).toContain("# failure (promise): b: ndelay returned 0; expected 1\n");
    expect(JSON.parse(writePerfetto(doc)).otherData.failure).toBe("b: ndelay returned 0; expected 1");
    expect(writeMermaid(doc)).toContain("Note over T0,T1: ✗ b: ndelay returned 0#59; expected 1\n");
  });

  it("handles an empty run", () => {
    const doc = buildTraceDocument(source([], { taskTable: [], virtualNs: 0, steps: 0 }), META);
    expect(writeFtrace(doc).startsWith("# tracer: nop\n")).toBe(true);
    expect(JSON.parse(writePerfetto(doc)).traceEvents.length).toBeGreaterThan(0);
    expect(writeMermaid(doc)).toBe("sequenceDiagram\n    autonumber\n    participant M as machine\n");
  });
});

describe("Mermaid escaping", () => {
  it("escapes statement separators, comments, angle brackets and the end keyword", () => {
    expect(escapeMermaid("a;b #c <d> 100%% end End ending backend")).toBe("a#59;b #35;c #60;d#62; 100#37;#37; #101;nd #69;nd ending backend");
  });
});
