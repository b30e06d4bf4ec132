/**
 * Chrome Trace Event Format JSON, for the Perfetto UI (conventions §3.1).
 *
 * - An object with `traceEvents` first (Perfetto sniffs `{"traceEvents"`; an object
 *   starting with `meta` or `libs` is taken for a Firefox profile), then
 *   `displayTimeUnit: "ns"` and `otherData` with scenario, kernel and token.
 * - One process per CPU ("CPU 0", …) whose main thread shows which task ran when
 *   ("running"), plus an "irq" thread for IPI handlers; one thread per task in its
 *   CPU's process (tid = task id + 1, as the ftrace pid); one "folios" process with a
 *   counter track per folio (series refcount, pincount, mapcount).
 * - `X` slices: modelled kernel functions and work items, strictly nested per thread
 *   (from the document's span stacks; spans open at the end carry `unfinished`).
 *   Zero-length `X` marks queue_work and IPI sends, so flows (`s` → `f`, `bp: "e"`)
 *   have a slice to bind to: work queued → work runs, IPI sent → handler.
 * - Instants (`ph: "i"`, thread scope) for every other event, the simulated steps
 *   (`op`) included unless `ops: false`; process metadata orders the tracks by CPU.
 * - `ts` and `dur` in microseconds: virtual ns / 1000.
 */

import type { DocEvent, TraceDocument } from "./trace-model.js";

export interface PerfettoOptions {
  /** An instant per simulated step (`op`). Default true. */
  ops?: boolean;
}

type Json = Record<string, unknown>;

/** Track ids: tasks keep their ftrace pid as tid; CPU processes and extra threads come after. */
export function perfettoIds(doc: TraceDocument): { taskTid: (task: number) => number; cpuPid: (cpu: number) => number; irqTid: (cpu: number) => number; foliosPid: number } {
  const n = doc.tasks.length;
  return {
    taskTid: (task) => task + 1,
    cpuPid: (cpu) => n + 1 + cpu,
    foliosPid: n + 1 + doc.cpus,
    irqTid: (cpu) => n + 2 + doc.cpus + cpu,
  };
}

export function writePerfetto(doc: TraceDocument, options: PerfettoOptions = {}): string {
  const ops = options.ops ?? true;
  const { taskTid, cpuPid, irqTid, foliosPid } = perfettoIds(doc);
  const us = (ns: number): number => ns / 1000;
  const meta: Json[] = [];
  const out: Json[] = [];

  for (let c = 0; c < doc.cpus; c++) {
    const pid = cpuPid(c);
    meta.push({ name: "process_name", ph: "M", pid, tid: pid, args: { name: `CPU ${c}` } });
    meta.push({ name: "process_sort_index", ph: "M", pid, tid: pid, args: { sort_index: c } });
    meta.push({ name: "thread_name", ph: "M", pid, tid: pid, args: { name: "running" } });
    meta.push({ name: "thread_sort_index", ph: "M", pid, tid: pid, args: { sort_index: -2 } });
    meta.push({ name: "thread_name", ph: "M", pid, tid: irqTid(c), args: { name: "irq" } });
    meta.push({ name: "thread_sort_index", ph: "M", pid, tid: irqTid(c), args: { sort_index: -1 } });
  }
  for (const t of doc.tasks) {
    const pid = cpuPid(t.cpu);
    meta.push({ name: "thread_name", ph: "M", pid, tid: taskTid(t.id), args: { name: t.name } });
    meta.push({ name: "thread_sort_index", ph: "M", pid, tid: taskTid(t.id), args: { sort_index: t.id } });
  }
  meta.push({ name: "process_name", ph: "M", pid: foliosPid, tid: foliosPid, args: { name: "folios" } });
  meta.push({ name: "process_sort_index", ph: "M", pid: foliosPid, tid: foliosPid, args: { sort_index: doc.cpus } });

  const where = (e: DocEvent): { pid: number; tid: number } =>
    e.task >= 0 && doc.tasks[e.task] ? { pid: cpuPid(doc.tasks[e.task].cpu), tid: taskTid(e.task) } : { pid: cpuPid(e.cpu), tid: cpuPid(e.cpu) };
  const instant = (e: DocEvent, name: string, cat: string, args?: Json): void => {
    const ev: Json = { name, cat, ph: "i", s: "t", ts: us(e.ts), ...where(e) };
    if (args !== undefined && Object.keys(args).length > 0) ev.args = args;
    out.push(ev);
  };
  const spanEvent = (id: number): void => {
    const s = doc.spans[id];
    const ev: Json = { name: s.name, cat: s.kind, ph: "X", ts: us(s.start), dur: us(s.end - s.start), pid: cpuPid(s.cpu), tid: taskTid(s.task) };
    if (s.unfinished) ev.args = { unfinished: true };
    out.push(ev);
  };
  const runEvents = new Map<number, (typeof doc.runs)[number][]>();
  for (const r of doc.runs) {
    let l = runEvents.get(r.beginSeq);
    if (!l) runEvents.set(r.beginSeq, (l = []));
    l.push(r);
  }

  for (const e of doc.events) {
    for (const r of runEvents.get(e.seq) ?? []) {
      const t = doc.tasks[r.task];
      const ev: Json = { name: t ? t.name : String(r.task), cat: "sched", ph: "X", ts: us(r.start), dur: us(r.end - r.start), pid: cpuPid(r.cpu), tid: cpuPid(r.cpu) };
      if (r.endSeq < 0) ev.args = { running_at_end: true };
      out.push(ev);
    }
    const a = e.args ?? {};
    switch (e.type) {
      case "switch":
        break; // drawn by the "running" slices
      case "op":
        if (ops) instant(e, e.name ?? "op", "op", { step: e.step });
        break;
      case "func_entry":
        if (e.span !== undefined) spanEvent(e.span);
        else instant(e, `func_entry ${e.name ?? ""}`, "func");
        break;
      case "func_exit":
        if (e.span === undefined) instant(e, `func_exit ${e.name ?? ""}`, "func");
        break;
      case "work_start":
        if (e.span !== undefined) spanEvent(e.span);
        if (e.flow !== undefined) {
          const f = doc.flows[e.flow];
          out.push({ name: f.name, cat: "work", ph: "f", bp: "e", id: f.id, ts: us(e.ts), ...where(e) });
        }
        break;
      case "work_end":
        break; // the span's end
      case "work_queue": {
        const label = e.label ?? `queue_work_on(${String(a.cpu)}, ${e.name ?? ""})`;
        out.push({ name: label, cat: "work", ph: "X", ts: us(e.ts), dur: 0, ...where(e), args: { work: e.name ?? "", cpu: a.cpu ?? null } });
        if (e.flow !== undefined && doc.flows[e.flow].toSeq >= 0) {
          const f = doc.flows[e.flow];
          out.push({ name: f.name, cat: "work", ph: "s", id: f.id, ts: us(e.ts), ...where(e) });
        }
        break;
      }
      case "ipi": {
        const targets = e.ipiTargets ?? [];
        const to = a.to === "all" ? "all CPUs" : `CPU${String(a.to)}`;
        out.push({ name: `IPI → ${to}: ${e.name ?? "ipi"}`, cat: "ipi", ph: "X", ts: us(e.ts), dur: 0, ...where(e) });
        for (const t of targets) out.push({ name: e.name ?? "ipi", cat: "ipi", ph: "s", id: t.flow, ts: us(e.ts), ...where(e) });
        for (const t of targets) {
          const pid = cpuPid(t.cpu);
          const interrupted = t.task >= 0 ? doc.tasks[t.task]?.name ?? String(t.task) : "idle";
          out.push({ name: `IPI: ${e.name ?? "ipi"}`, cat: "ipi", ph: "X", ts: us(e.ts), dur: 0, pid, tid: irqTid(t.cpu), args: { from_cpu: e.cpu, interrupted } });
          out.push({ name: e.name ?? "ipi", cat: "ipi", ph: "f", bp: "e", id: t.flow, ts: us(e.ts), pid, tid: irqTid(t.cpu) });
        }
        break;
      }
      default: {
        const name = e.name !== undefined ? `${e.type} ${e.name}` : e.type;
        instant(e, name, category(e.type), a as Json);
        if (e.sample) {
          const f = doc.folios[e.sample.folio];
          out.push({
            name: f.name,
            ph: "C",
            ts: us(e.ts),
            pid: foliosPid,
            tid: foliosPid,
            args: { refcount: e.sample.refcount, pincount: e.sample.pincount, mapcount: e.sample.mapcount },
          });
        }
      }
    }
  }

  // Stable by time: equal timestamps keep document order (an enclosing slice before what it encloses).
  const sorted = out.map((ev, i) => ({ ev, i })).sort((x, y) => (x.ev.ts as number) - (y.ev.ts as number) || x.i - y.i).map((x) => x.ev);
  const events = [...meta, ...sorted];
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

function category(type: string): string {
  if (type.startsWith("page_ref") || type.startsWith("mm_page")) return "folio";
  if (type === "wake" || type === "block" || type === "timer" || type === "spawn" || type === "exit") return "sched";
  if (type.startsWith("rcu")) return "rcu";
  return "event";
}
