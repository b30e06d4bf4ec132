/**
 * Chrome Trace Event Format JSON, for the Perfetto UI (conventions §3.1).
 *
 * - An object with `traceEvents` first (Perfetto sniffs `{"traceEvents"`; an object
 *   starting with `meta` or `libs` is taken for a Firefox profile), then
 *   `displayTimeUnit: "ns"` and `otherData` with scenario, kernel and token.
 * - Tracks: one process "CPUs" with one thread per CPU ("CPU 0", …) showing which task
 *   ran when ("running" slices named after the task) and the IPI handlers that CPU ran;
 *   one process "tasks" with one thread per task (tid = task id + 1, as the ftrace pid);
 *   one process "folios" with a counter track per folio (series refcount, pincount,
 *   mapcount). Every tid is unique across the file.
 * - `X` slices on a task's thread: modelled kernel functions and work items, strictly
 *   nested (from the document's span stacks; spans open at the end carry `unfinished`).
 *   Zero-length `X` marks queue_work and IPI sends, so flows (`s` → `f`, `bp: "e"`) have
 *   a slice to bind to: work queued → work runs, IPI sent → handler (1 ns later, on
 *   the target CPU's thread).
 * - Instants (`ph: "i"`, thread scope) for every other event, the simulated steps
 *   (`op`) included unless `ops: false`.
 * - Every event has a `cat` (`__metadata` for the metadata events, as Chrome writes).
 * - `ts` and `dur` in microseconds: the document's trace time (ns) / 1000, so time
 *   order is the schedule's order across CPUs.
 */

import type { DocEvent, TraceDocument } from "./trace-model.js";

export interface PerfettoOptions {
  /** An instant per simulated step (`op`). Default true. */
  ops?: boolean;
}

type Json = Record<string, unknown>;

/** Track ids: tasks keep their ftrace pid as tid; the CPU threads and the three processes come after. */
export function perfettoIds(doc: TraceDocument): { taskTid: (task: number) => number; cpuTid: (cpu: number) => number; cpusPid: number; tasksPid: number; foliosPid: number } {
  const n = doc.tasks.length;
  return {
    taskTid: (task) => task + 1,
    cpuTid: (cpu) => n + 1 + cpu,
    cpusPid: n + 1 + doc.cpus,
    tasksPid: n + 2 + doc.cpus,
    foliosPid: n + 3 + doc.cpus,
  };
}

const us = (ns: number): number => ns / 1000;

function metadata(doc: TraceDocument): Json[] {
  const { taskTid, cpuTid, cpusPid, tasksPid, foliosPid } = perfettoIds(doc);
  const m = (name: string, pid: number, tid: number, args: Json): Json => ({ name, cat: "__metadata", ph: "M", ts: 0, pid, tid, args });
  const out: Json[] = [m("process_name", cpusPid, cpusPid, { name: "CPUs" }), m("process_sort_index", cpusPid, cpusPid, { sort_index: 0 })];
  for (let c = 0; c < doc.cpus; c++) out.push(m("thread_name", cpusPid, cpuTid(c), { name: `CPU ${c}` }), m("thread_sort_index", cpusPid, cpuTid(c), { sort_index: c }));
  out.push(m("process_name", tasksPid, tasksPid, { name: "tasks" }), m("process_sort_index", tasksPid, tasksPid, { sort_index: 1 }));
  const byCpu = [...doc.tasks].sort((x, y) => x.cpu - y.cpu || x.id - y.id);
  byCpu.forEach((t, i) => out.push(m("thread_name", tasksPid, taskTid(t.id), { name: `${t.name} (CPU${t.cpu})` }), m("thread_sort_index", tasksPid, taskTid(t.id), { sort_index: i })));
  out.push(m("process_name", foliosPid, foliosPid, { name: "folios" }), m("process_sort_index", foliosPid, foliosPid, { sort_index: 2 }));
  return out;
}

export function writePerfetto(doc: TraceDocument, options: PerfettoOptions = {}): string {
  const w = new PerfettoWriter(doc, options.ops ?? true);
  for (const e of doc.events) w.event(e);
  // Stable by time: equal timestamps keep document order (an enclosing slice before what it encloses).
  const sorted = w.out.map((ev, i) => ({ ev, i })).sort((x, y) => (x.ev.ts as number) - (y.ev.ts as number) || x.i - y.i).map((x) => x.ev);
  const events = [...metadata(doc), ...sorted];
  const otherData: Json = {
    scenario: doc.meta.scenario,
    kernel: doc.meta.kernel,
    token: doc.meta.token ?? null,
    status: doc.outcome.status,
    steps: doc.outcome.steps,
    virtual_ns: doc.outcome.virtualNs,
    cpus: doc.cpus,
  };
  if (doc.outcome.failure) otherData.failure = doc.outcome.failure.message;
  if (doc.outcome.hang) otherData.hang = doc.outcome.hang.message;
  return `{"traceEvents":[\n${events.map((ev) => JSON.stringify(ev)).join(",\n")}\n],"displayTimeUnit":"ns","otherData":${JSON.stringify(otherData)}}\n`;
}

/** The events of one document; one method per event family. */
class PerfettoWriter {
  readonly out: Json[] = [];
  private readonly ids: ReturnType<typeof perfettoIds>;
  private readonly runsAt = new Map<number, TraceDocument["runs"]>();

  constructor(
    private readonly doc: TraceDocument,
    private readonly ops: boolean,
  ) {
    this.ids = perfettoIds(doc);
    for (const r of doc.runs) {
      const l = this.runsAt.get(r.beginSeq) ?? [];
      l.push(r);
      this.runsAt.set(r.beginSeq, l);
    }
  }

  private where(e: DocEvent): { pid: number; tid: number } {
    return e.task >= 0 && this.doc.tasks[e.task] ? { pid: this.ids.tasksPid, tid: this.ids.taskTid(e.task) } : { pid: this.ids.cpusPid, tid: this.ids.cpuTid(e.cpu) };
  }

  event(e: DocEvent): void {
    this.running(e);
    switch (e.type) {
      case "switch":
      case "work_end":
        return; // drawn by the "running" slices and the work span's end
      case "op":
        if (this.ops) this.instant(e, e.name ?? "op", "op", { step: e.step });
        return;
      case "func_entry":
      case "func_exit":
      case "work_start":
        return this.span(e);
      case "work_queue":
        return this.workQueue(e);
      case "ipi":
        return this.ipi(e);
      default:
        this.instant(e, e.name !== undefined ? `${e.type} ${e.name}` : e.type, category(e.type), (e.args ?? {}) as Json);
        this.counter(e);
    }
  }

  /** The CPU thread's "running" slices, emitted where each run begins. */
  private running(e: DocEvent): void {
    for (const r of this.runsAt.get(e.seq) ?? []) {
      const t = this.doc.tasks[r.task];
      const ev: Json = { name: t ? t.name : String(r.task), cat: "sched", ph: "X", ts: us(r.start), dur: us(r.end - r.start), pid: this.ids.cpusPid, tid: this.ids.cpuTid(r.cpu) };
      if (r.endSeq < 0) ev.args = { running_at_end: true };
      this.out.push(ev);
    }
  }

  private instant(e: DocEvent, name: string, cat: string, args?: Json): void {
    const ev: Json = { name, cat, ph: "i", s: "t", ts: us(e.ts), ...this.where(e) };
    if (args !== undefined && Object.keys(args).length > 0) ev.args = args;
    this.out.push(ev);
  }

  /** Modelled functions and work items: one X slice each, at the span's start. */
  private span(e: DocEvent): void {
    if (e.type === "func_exit") {
      if (e.span === undefined) this.instant(e, `func_exit ${e.name ?? ""}`, "func");
      return;
    }
    if (e.span !== undefined) {
      const s = this.doc.spans[e.span];
      const ev: Json = { name: s.name, cat: s.kind, ph: "X", ts: us(s.start), dur: us(s.end - s.start), pid: this.ids.tasksPid, tid: this.ids.taskTid(s.task) };
      if (s.unfinished) ev.args = { unfinished: true };
      this.out.push(ev);
    } else if (e.type === "func_entry") this.instant(e, `func_entry ${e.name ?? ""}`, "func");
    if (e.type === "work_start" && e.flow !== undefined) {
      const f = this.doc.flows[e.flow];
      this.out.push({ name: f.name, cat: "work", ph: "f", bp: "e", id: f.id, ts: us(e.ts), ...this.where(e) });
    }
  }

  private workQueue(e: DocEvent): void {
    const a = e.args ?? {};
    const label = e.label ?? `queue_work_on(${String(a.cpu)}, ${e.name ?? ""})`;
    this.out.push({ name: label, cat: "work", ph: "X", ts: us(e.ts), dur: 0, ...this.where(e), args: { work: e.name ?? "", cpu: a.cpu ?? null } });
    if (e.flow !== undefined && this.doc.flows[e.flow].toSeq >= 0) {
      const f = this.doc.flows[e.flow];
      this.out.push({ name: f.name, cat: "work", ph: "s", id: f.id, ts: us(e.ts), ...this.where(e) });
    }
  }

  /** The send on the sender's thread, the handler on each target CPU's thread 1 ns later, a flow between. */
  private ipi(e: DocEvent): void {
    const targets = e.ipiTargets ?? [];
    const name = e.name ?? "ipi";
    const to = e.args?.to === "all" ? "all CPUs" : `CPU${String(e.args?.to)}`;
    this.out.push({ name: `IPI → ${to}: ${name}`, cat: "ipi", ph: "X", ts: us(e.ts), dur: 0, ...this.where(e) });
    for (const t of targets) this.out.push({ name, cat: "ipi", ph: "s", id: t.flow, ts: us(e.ts), ...this.where(e) });
    for (const t of targets) {
      const at = { pid: this.ids.cpusPid, tid: this.ids.cpuTid(t.cpu), ts: us(e.ts + 1) };
      const interrupted = t.task >= 0 ? this.doc.tasks[t.task]?.name ?? String(t.task) : "idle";
      this.out.push({ name: `IPI: ${name}`, cat: "ipi", ph: "X", dur: 0, ...at, args: { from_cpu: e.cpu, interrupted } });
      this.out.push({ name, cat: "ipi", ph: "f", bp: "e", id: t.flow, ...at });
    }
  }

  private counter(e: DocEvent): void {
    if (!e.sample) return;
    const f = this.doc.folios[e.sample.folio];
    const args = { refcount: e.sample.refcount, pincount: e.sample.pincount, mapcount: e.sample.mapcount };
    this.out.push({ name: f.name, cat: "folio", ph: "C", ts: us(e.ts), pid: this.ids.foliosPid, tid: this.ids.foliosPid, args });
  }
}

function category(type: string): string {
  if (type.startsWith("page_ref") || type.startsWith("mm_page")) return "folio";
  if (type === "wake" || type === "block" || type === "timer" || type === "spawn" || type === "exit") return "sched";
  if (type.startsWith("rcu")) return "rcu";
  return "event";
}
