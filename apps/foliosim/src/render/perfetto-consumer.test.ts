import { describe, expect, it } from "vitest";
import { buildTraceDocument, perfettoIds, writePerfetto, type TraceDocument } from "../index.js";
import { runHang, runLivelock, runRace } from "./test-support.js";

/**
 * The Perfetto JSON read by a real consumer: the trace engine of Chrome DevTools'
 * performance panel (@paulirish/trace_engine, published from the DevTools repository),
 * which builds each thread's slice tree and binds flows to slices.
 */

interface Parsed {
  data: {
    Renderer: { processes: Map<number, { threads: Map<number, { name?: string; entries: { name: string; cat?: string }[] }> }> };
    Flows: { flows: unknown[][] };
    Meta: { threadsInProcess: Map<number, Map<number, unknown>> };
  };
}

// A variable specifier: the engine ships JavaScript with JSDoc types only.
const ENGINE = "@paulirish/trace_engine/analyze-trace.mjs";

async function parse(doc: TraceDocument): Promise<Parsed> {
  const { analyzeEvents } = (await import(ENGINE)) as { analyzeEvents(events: unknown[]): Promise<{ parsedTrace: Parsed }> };
  const json = JSON.parse(writePerfetto(doc)) as { traceEvents: unknown[] };
  return (await analyzeEvents(json.traceEvents)).parsedTrace;
}

const META = { scenario: "gup-vs-migrate-mini", kernel: "v6.12+lru-batch" };

describe("Perfetto JSON in a real trace-event consumer", () => {
  it("the race: one thread per CPU in CPUs, one per task in tasks, slices on each, both flows bound", async () => {
    const doc = buildTraceDocument(runRace(4), META);
    const { data } = await parse(doc);
    const ids = perfettoIds(doc);
    const cpus = data.Renderer.processes.get(ids.cpusPid)!;
    for (let c = 0; c < doc.cpus; c++) expect(cpus.threads.get(ids.cpuTid(c))!.entries.some((e) => e.cat === "sched")).toBe(true);
    const tasks = data.Renderer.processes.get(ids.tasksPid)!;
    for (const t of doc.tasks) expect(tasks.threads.get(ids.taskTid(t.id))!.entries.length, t.name).toBeGreaterThan(0);
    expect(tasks.threads.get(ids.taskTid(0))!.entries.map((e) => e.name)).toContain("pin_user_pages");
    // The work item (queued → runs) and the IPI (sent → handler).
    expect(data.Flows.flows).toHaveLength(doc.flows.filter((f) => f.toSeq >= 0).length);
    expect(data.Flows.flows).toHaveLength(2);
  }, 30_000);

  it("a hang and a livelock parse too, every task on its own track", async () => {
    for (const run of [runHang(), runLivelock(2000)]) {
      const doc = buildTraceDocument(run, META);
      const { data } = await parse(doc);
      const ids = perfettoIds(doc);
      expect([...data.Meta.threadsInProcess.get(ids.tasksPid)!.keys()].sort()).toEqual(doc.tasks.map((t) => ids.taskTid(t.id)).sort());
      expect([...data.Meta.threadsInProcess.get(ids.cpusPid)!.keys()]).toEqual([0, 1].map(ids.cpuTid));
    }
  }, 30_000);
});
