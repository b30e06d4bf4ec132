import { describe, expect, it } from "vitest";
import { buildTraceDocument, writeFtrace, writeMermaid, writePerfetto, type TraceDocument } from "../index.js";
import { golden, runBig, runHang, runLivelock, runRace } from "./test-support.js";

/** The tokenizer regex of Perfetto's systrace line parser (0 or 4 flag characters). */
const FTRACE_LINE = /^\s*(.+)-(\d+)\s+(?:\(\s*\d+\)\s+)?\[(\d+)\]\s+(?:[\w.]{4}\s+)?(\d+\.\d+):\s+([^:]+):\s*(.*)$/;

const META = { scenario: "gup-vs-migrate-mini", kernel: "v6.12+lru-batch", token: "fs1.race.4" };
const SEED = 4;

function raceDoc(): TraceDocument {
  return buildTraceDocument(runRace(SEED), META);
}

function expectGolden(name: string, actual: string): void {
  const { expected, path } = golden(name, actual);
  expect(actual, `${path} (regenerate with FOLIOSIM_UPDATE_GOLDEN=1)`).toBe(expected);
}

interface Slice {
  name: string;
  ts: number;
  dur: number;
  pid: number;
  tid: number;
  order: number;
}

/** Every X slice on a thread either encloses or is disjoint from the others (Perfetto's requirement). */
function nestingViolations(events: Record<string, unknown>[]): string[] {
  const byThread = new Map<string, Slice[]>();
  events.forEach((e, order) => {
    if (e.ph !== "X") return;
    const key = `${String(e.pid)}/${String(e.tid)}`;
    const l = byThread.get(key) ?? [];
    l.push({ name: String(e.name), ts: e.ts as number, dur: e.dur as number, pid: e.pid as number, tid: e.tid as number, order });
    byThread.set(key, l);
  });
  const bad: string[] = [];
  const eps = 1e-9;
  for (const [key, slices] of byThread) {
    slices.sort((a, b) => a.ts - b.ts || b.dur - a.dur || a.order - b.order);
    const stack: Slice[] = [];
    for (const s of slices) {
      if (s.dur < 0) bad.push(`${key}: ${s.name} has a negative duration`);
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        const topEnd = top.ts + top.dur;
        if (s.ts < topEnd - eps) break; // starts inside the top slice
        if (s.dur === 0 && s.ts <= topEnd + eps) break; // a zero-length mark at its end still nests
        stack.pop();
      }
      const parent = stack[stack.length - 1];
      if (parent && s.ts + s.dur > parent.ts + parent.dur + eps) {
        bad.push(`${key}: ${s.name} [${s.ts}, ${s.ts + s.dur}] overlaps ${parent.name} [${parent.ts}, ${parent.ts + parent.dur}]`);
      }
      stack.push(s);
    }
  }
  return bad;
}

describe("the trace document", () => {
  it("is built deterministically from a run", () => {
    expect(JSON.stringify(raceDoc())).toBe(JSON.stringify(raceDoc()));
  });

  it("reconstructs strictly nested spans, closing open ones at the end", () => {
    const doc = raceDoc();
    expect(doc.outcome.status).toBe("invariant");
    const names = doc.spans.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["pin_user_pages", "try_grab_folio", "lru_add_drain_all", "lru_add_drain_work/1", "lru_add_drain_per_cpu", "migrate_pages", "folio_migrate_mapping"]));
    // migrate_pages never returned: the run failed inside it.
    const open = doc.spans.filter((s) => s.unfinished).map((s) => s.name);
    expect(open).toEqual(expect.arrayContaining(["migrate_pages", "folio_migrate_mapping"]));
    for (const s of doc.spans) {
      expect(s.end).toBeGreaterThanOrEqual(s.start);
      if (s.parent >= 0) {
        const p = doc.spans[s.parent];
        expect(p.task).toBe(s.task);
        expect(s.start).toBeGreaterThanOrEqual(p.start);
        expect(s.end).toBeLessThanOrEqual(p.end);
      }
    }
  });

  it("makes every context switch explicit, to and from idle included", () => {
    const doc = raceDoc();
    const running: number[] = new Array(doc.cpus).fill(-1);
    for (const e of doc.events) {
      if (e.type !== "switch") continue;
      expect(e.switch!.prev).toBe(running[e.cpu]);
      running[e.cpu] = e.switch!.next;
    }
    // gup_test sleeps in flush_work: it switches to idle with prev_state S.
    expect(doc.events.some((e) => e.synthetic && e.switch?.prev === 0 && e.switch.next === -1 && e.switch.prevState === "S")).toBe(true);
    for (let c = 0; c < doc.cpus; c++) {
      const runs = doc.runs.filter((r) => r.cpu === c);
      for (let i = 1; i < runs.length; i++) expect(runs[i].start).toBeGreaterThanOrEqual(runs[i - 1].end);
    }
  });

  it("tracks folio counters and flows", () => {
    const doc = raceDoc();
    expect(doc.folios.map((f) => f.name)).toEqual(["folio 0x9f83a8"]);
    const samples = doc.events.filter((e) => e.sample).map((e) => [e.type, e.sample!.before, e.sample!.refcount, e.sample!.pincount]);
    expect(samples[0]).toEqual(["mm_page_alloc", 0, 1, 0]);
    expect(samples).toContainEqual(["page_ref_mod", 1, 1025, 1]);
    expect(doc.flows.filter((f) => f.kind === "work" && f.toSeq >= 0)).toHaveLength(1);
    expect(doc.flows.filter((f) => f.kind === "ipi")).toHaveLength(1);
    // Events emitted inside an op carry its kernel label.
    expect(doc.events.find((e) => e.type === "page_ref_mod_unless")?.label).toBe("folio_try_get");
  });
});

describe("ftrace", () => {
  it("matches the golden file", () => {
    expectGolden("race.golden.ftrace", writeFtrace(raceDoc()));
  });

  it("starts with the tracer header and names scenario, kernel and token", () => {
    const text = writeFtrace(raceDoc());
    expect(text.startsWith("# tracer: nop\n")).toBe(true);
    expect(text).toContain("# scenario: gup-vs-migrate-mini\n");
    expect(text).toContain("# kernel: v6.12+lru-batch\n");
    expect(text).toContain("# token: fs1.race.4\n");
  });

  it("writes lines Perfetto's tokenizer accepts, comm at most 15 characters", () => {
    for (const doc of [raceDoc(), buildTraceDocument(runHang(), META), buildTraceDocument(runBig(2000), META)]) {
      const lines = writeFtrace(doc).split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) {
        const m = FTRACE_LINE.exec(l);
        expect(m, l).not.toBeNull();
        expect(m![1].trim().length, l).toBeLessThanOrEqual(15);
        expect(m![4], l).toMatch(/^\d+\.\d{9}$/);
      }
    }
  });

  it("prints authentic page_ref payloads, sched_switch, workqueue and atrace lines", () => {
    const text = writeFtrace(raceDoc());
    expect(text).toMatch(/ page_ref_mod: pfn=0x9f83a8 flags=uptodate\|lru count=1025 mapcount=0 mapping=00000000c0ffee42 mt=1 val=1024\n/);
    expect(text).toMatch(/ page_ref_mod_unless: pfn=0x9f83a8 flags=\S+ count=\d+ mapcount=-?\d+ mapping=[0-9a-f]{16} mt=\d+ val=1 ret=1\n/);
    expect(text).toMatch(/ page_ref_freeze: pfn=0x9f83a8 .* val=2 ret=0\n/);
    expect(text).toMatch(/sched_switch: prev_comm=gup_test prev_pid=1 prev_prio=120 prev_state=D ==> next_comm=swapper\/0 next_pid=0 next_prio=120\n/);
    expect(text).toMatch(/kworker\/1:1-3 +\[001\] \.\.\.\. +\d+\.\d{9}: workqueue_execute_start: work struct [0-9a-f]{16}: function lru_add_drain_work\n/);
    expect(text).toMatch(/workqueue_execute_end: work struct [0-9a-f]{16}: function lru_add_drain_work\n/);
    expect(text).toContain("tracing_mark_write: B|1|pin_user_pages\n");
    expect(text).toContain("tracing_mark_write: E|1\n");
    expect(text).toContain("tracing_mark_write: C|0|refcount pfn 0x9f83a8|1025\n");
    expect(text).toMatch(/ipi_send_cpu: cpu=1 callsite=smp_call_function_single callback=mlock_drain_remote\n/);
    // An event type the kernel does not have is kept as `foliosim_type: name k=v`.
    expect(text).toMatch(/ foliosim_lru_move: folio 0x9f83a8 list=inactive_anon nr_pages=1\n/);
  });

  it("keeps B/E balanced per task, leaving the spans of a failed call open", () => {
    const doc = raceDoc();
    const depth = new Map<string, number>();
    for (const l of writeFtrace(doc).split("\n")) {
      const m = / tracing_mark_write: ([BE])\|(\d+)/.exec(l);
      if (!m) continue;
      const d = (depth.get(m[2]) ?? 0) + (m[1] === "B" ? 1 : -1);
      expect(d).toBeGreaterThanOrEqual(0);
      depth.set(m[2], d);
    }
    // migrate_pages_test (pid 2) failed inside migrate_pages > folio_migrate_mapping.
    expect(depth.get("2")).toBe(2);
    expect(depth.get("3")).toBe(0);
  });
});

describe("Perfetto JSON", () => {
  it("matches the golden file", () => {
    expectGolden("race.golden.json", writePerfetto(raceDoc()));
  });

  it("is an object with traceEvents first, ns display and the metadata in otherData", () => {
    const text = writePerfetto(raceDoc());
    expect(text.startsWith('{"traceEvents":[')).toBe(true);
    const json = JSON.parse(text) as { traceEvents: Record<string, unknown>[]; displayTimeUnit: string; otherData: Record<string, unknown> };
    expect(Object.keys(json)[0]).toBe("traceEvents");
    expect(json.displayTimeUnit).toBe("ns");
    expect(json.otherData).toMatchObject({ scenario: META.scenario, kernel: META.kernel, token: META.token });
    const procs = json.traceEvents.filter((e) => e.ph === "M" && e.name === "process_name").map((e) => (e.args as { name: string }).name);
    expect(procs).toEqual(["CPUs", "tasks", "folios"]);
    const threads = json.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => (e.args as { name: string }).name);
    expect(threads).toEqual(["CPU 0", "CPU 1", "gup_test (CPU0)", "migrate_pages_test (CPU1)", "kworker/1:1 (CPU1)"]);
    for (const e of json.traceEvents) expect(typeof e.cat, JSON.stringify(e)).toBe("string");
    const counters = json.traceEvents.filter((e) => e.ph === "C");
    expect(counters.length).toBeGreaterThan(0);
    for (const c of counters) expect(Object.keys(c.args as object)).toEqual(["refcount", "pincount", "mapcount"]);
  });

  it("nests the slices of every thread strictly", () => {
    for (const run of [runRace(SEED), runRace(1), runRace(8), runHang(), runBig(3000)]) {
      const json = JSON.parse(writePerfetto(buildTraceDocument(run, META))) as { traceEvents: Record<string, unknown>[] };
      expect(nestingViolations(json.traceEvents)).toEqual([]);
    }
  });

  it("detects a partial overlap (the checker itself)", () => {
    const bad = nestingViolations([
      { ph: "X", name: "a", ts: 0, dur: 10, pid: 1, tid: 1 },
      { ph: "X", name: "b", ts: 5, dur: 10, pid: 1, tid: 1 },
    ]);
    expect(bad).toHaveLength(1);
  });

  it("draws flows for the work item and the IPI, each end bound to a slice", () => {
    const json = JSON.parse(writePerfetto(raceDoc())) as { traceEvents: Record<string, unknown>[] };
    const starts = json.traceEvents.filter((e) => e.ph === "s");
    const finishes = json.traceEvents.filter((e) => e.ph === "f");
    expect(starts.map((e) => e.cat).sort()).toEqual(["ipi", "work"]);
    for (const s of starts) {
      const f = finishes.find((x) => x.id === s.id);
      expect(f).toBeDefined();
      expect(f!.bp).toBe("e");
      expect(f!.cat).toBe(s.cat);
      expect(f!.name).toBe(s.name);
      for (const end of [s, f!]) {
        const enclosing = json.traceEvents.some(
          (x) => x.ph === "X" && x.pid === end.pid && x.tid === end.tid && (x.ts as number) <= (end.ts as number) && (x.ts as number) + (x.dur as number) >= (end.ts as number),
        );
        expect(enclosing, JSON.stringify(end)).toBe(true);
      }
    }
  });
});

describe("Mermaid", () => {
  it("matches the golden file", () => {
    expectGolden("race.golden.mmd", writeMermaid(raceDoc()));
  });

  it("is a sequence diagram with participants in CPU order and folio participants", () => {
    const text = writeMermaid(raceDoc());
    const lines = text.split("\n");
    expect(lines[0]).toBe("sequenceDiagram");
    expect(lines).toContain("    autonumber");
    const parts = lines.filter((l) => l.trim().startsWith("participant "));
    expect(parts).toEqual([
      "    participant T0 as CPU0 · gup_test",
      "    participant T1 as CPU1 · migrate_pages_test",
      "    participant T2 as CPU1 · kworker/1:1",
      "    participant F1 as folio 0x9f83a8",
    ]);
    expect(text).toContain("T0->>F1: try_grab_folio (ref 1→1025)");
    expect(text).toContain("T1->>F1: folio_try_get (ref 1025→1026)");
    expect(text).toMatch(/Note over T0,T2: ✗ folio_migrate_mapping: folio 0x9f83a8: expected 2 references/);
    expect(text).toContain("rect rgb(255,230,230)");
  });

  it("draws a livelock's whole cycle: the sleeper, the starved kworker and the retry loop collapsed", () => {
    const text = writeMermaid(buildTraceDocument(runLivelock(3000), META));
    const lines = text.split("\n");
    expect(lines.filter((l) => l.trim().startsWith("participant "))).toEqual([
      "    participant T0 as CPU0 · A",
      "    participant T1 as CPU1 · B",
      "    participant T2 as CPU1 · kworker/1:1",
    ]);
    const loop = lines.indexOf("    loop × 1,494");
    expect(loop).toBeGreaterThan(0);
    expect(lines.slice(loop + 1, loop + 4)).toEqual(["        T1->>T1: trylock(folio_lock)", "        T1->>T1: cpu_relax", "    end"]);
    expect(lines[loop - 1]).toBe("    T0-->>T0: sleeps in flush_work(lru_add_drain_work/1) on CPU1");
    expect(text).toContain(
      "Note over T0,T2: ⟳ when the run stopped: A sleeps in flush_work(lru_add_drain_work/1) on CPU1 · B retries trylock(folio_lock) → cpu_relax (× 1,494) · kworker/1:1 runnable on CPU1, never ran\n",
    );
    expect(text.length).toBeLessThan(2000);
  });

  it("notes a hang", () => {
    const text = writeMermaid(buildTraceDocument(runHang(), META));
    expect(text).toMatch(/Note over T0,T1: ⊘ deadlock: waiter \(CPU0\) blocked: wait_for_completion\(never_completed\)/);
  });

  it("stays under 50,000 characters with an elision note for a 10,000-event trace, and never has a bare `end` in text", () => {
    const run = runBig(10_000);
    expect(run.trace.length).toBeGreaterThanOrEqual(10_000);
    const text = writeMermaid(buildTraceDocument(run, META));
    expect(text.startsWith("sequenceDiagram\n")).toBe(true);
    expect(text.length).toBeLessThan(50_000);
    expect(text).toMatch(/Note over T0,T1: … \d+ messages elided/);
    const messages = text.split("\n").filter((l) => /->>|-->>|Note |participant /.test(l));
    expect(messages.length).toBeLessThanOrEqual(110);
    for (const l of messages) {
      const textPart = l.includes(":") ? l.slice(l.indexOf(":") + 1) : l.replace(/^\s*participant \S+ as /, "");
      expect(textPart, l).not.toMatch(/\bend\b/i);
      expect(textPart, l).not.toMatch(/;(?<!#\d+;)/);
    }
    // The task named "end; # <loop>" is escaped.
    expect(text).toContain("participant T1 as CPU1 · #101;nd#59; #35; #60;loop#62;");
  });

  it("respects a smaller size limit by eliding more", () => {
    const doc = buildTraceDocument(runBig(2000), META);
    const text = writeMermaid(doc, { maxChars: 2000 });
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(text.startsWith("sequenceDiagram\n")).toBe(true);
  });
});
