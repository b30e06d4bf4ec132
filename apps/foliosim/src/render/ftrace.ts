/**
 * ftrace text, as `cat /sys/kernel/tracing/trace` prints it (conventions §3.2): for
 * mailing lists and grep, and Perfetto opens it.
 *
 * - Header `# tracer: nop`, then `#` comments with the scenario, kernel preset,
 *   schedule token and outcome (Perfetto skips `#` lines).
 * - One line per event: `comm-pid [cpu] flags secs.usecs: event: payload`, with four
 *   flag characters (`....`: the stored Perfetto tokenizer accepts 0 or 4), comm at
 *   most 15 characters, pid = task id + 1 (the idle task is `<idle>-0`).
 * - Lines Perfetto draws: `sched_switch` at every context switch (including the
 *   switches to and from idle the machine leaves implicit), `sched_waking`,
 *   `workqueue_execute_start/end`, `tracing_mark_write` `B|pid|name` / `E|pid` around
 *   modelled kernel functions and `C|0|refcount pfn 0x…|n` per folio (tgid 0, so each
 *   folio gets one counter track whichever task changed it).
 * - Lines for humans: the authentic page_ref payloads
 *   (`pfn=0x%lx flags=%s count=%d mapcount=%d mapping=%p mt=%d val=%d[ ret=%d]`),
 *   `workqueue_queue_work`, `ipi_send_cpu`/`ipi_send_cpumask` and `ipi_entry/exit`,
 *   `rcu_grace_period`, `mm_page_alloc/free`, `sched_process_exit`, `task_newtask`,
 *   `foliosim_op` (one per simulated step, with its number, so a line can be matched
 *   with the schedule token), and every other event as `type: name k=v …`.
 *
 * Lines are in schedule (step) order. Timestamps are each CPU's virtual clock, which
 * only moves forward on its own CPU; across CPUs, step order is the truth.
 */

import { formatPfn, isPageRefType, type DocEvent, type TraceDocument } from "./trace-model.js";

export interface FtraceOptions {
  /** Emit a `foliosim_op` line per simulated step. Default true. */
  ops?: boolean;
}

/** Migratetype numbers (include/linux/mmzone.h with CONFIG_CMA and memory isolation). */
const MIGRATETYPE: Record<string, number> = { UNMOVABLE: 0, MOVABLE: 1, RECLAIMABLE: 2, HIGHATOMIC: 3, CMA: 4, ISOLATE: 5 };

interface Ctx {
  comm: string;
  pid: number;
}

const IDLE: Ctx = { comm: "<idle>", pid: 0 };
const SETUP: Ctx = { comm: "<setup>", pid: 0 };

export function writeFtrace(doc: TraceDocument, options: FtraceOptions = {}): string {
  const ops = options.ops ?? true;
  const tasks = doc.tasks;
  const body: string[] = [];
  const gpSeq = { normal: 0, expedited: 0 };

  const ctxOf = (task: number): Ctx => (task >= 0 && tasks[task] ? { comm: tasks[task].comm, pid: tasks[task].pid } : IDLE);
  const line = (ctx: Ctx, cpu: number, ts: number, event: string, payload: string): void => {
    body.push(`${ctx.comm.padStart(16)}-${String(ctx.pid).padEnd(7)} [${String(cpu).padStart(3, "0")}] .... ${formatTs(ts)}: ${event}: ${payload}`);
  };
  const taskCtx = (e: DocEvent): Ctx => (e.task >= 0 ? ctxOf(e.task) : SETUP);
  const commOf = (task: number, cpu: number): string => (task >= 0 ? tasks[task]?.comm ?? "?" : `swapper/${cpu}`);
  const pidOf = (task: number): number => (task >= 0 ? tasks[task]?.pid ?? 0 : 0);
  const prioOf = (task: number): number => (task >= 0 ? tasks[task]?.prio ?? 120 : 120);

  for (const e of doc.events) {
    const a = e.args ?? {};
    switch (e.type) {
      case "switch": {
        const s = e.switch!;
        line(ctxOf(s.prev), e.cpu, e.ts, "sched_switch",
          `prev_comm=${commOf(s.prev, e.cpu)} prev_pid=${pidOf(s.prev)} prev_prio=${prioOf(s.prev)} prev_state=${s.prevState} ==> ` +
            `next_comm=${commOf(s.next, e.cpu)} next_pid=${pidOf(s.next)} next_prio=${prioOf(s.next)}`);
        break;
      }
      case "block":
        break; // the sched_switch with prev_state=S that follows says it
      case "wake":
        line(ctxOf(e.onCpu), e.cpu, e.ts, "sched_waking", `comm=${commOf(e.task, e.cpu)} pid=${pidOf(e.task)} prio=${prioOf(e.task)} target_cpu=${String(e.cpu).padStart(3, "0")}`);
        break;
      case "timer":
        line(ctxOf(e.onCpu), e.cpu, e.ts, "foliosim_timer", `comm=${commOf(e.task, e.cpu)} pid=${pidOf(e.task)} waiting_for=${quote(e.name ?? "")}`);
        break;
      case "spawn":
        line(e.parent ? ctxOf(e.parent.task) : SETUP, e.parent?.cpu ?? e.cpu, e.parent?.ts ?? e.ts, "task_newtask", `pid=${pidOf(e.task)} comm=${commOf(e.task, e.cpu)} clone_flags=0 oom_score_adj=0`);
        break;
      case "exit":
        line(taskCtx(e), e.cpu, e.ts, "sched_process_exit", `comm=${commOf(e.task, e.cpu)} pid=${pidOf(e.task)} prio=${prioOf(e.task)}`);
        break;
      case "op":
        if (ops) line(taskCtx(e), e.cpu, e.ts, "foliosim_op", `step=${e.step} ${oneLine(e.name ?? "")}`);
        break;
      case "func_entry":
        if (e.span !== undefined) line(taskCtx(e), e.cpu, e.ts, "tracing_mark_write", `B|${taskCtx(e).pid}|${oneLine(e.name ?? "")}`);
        else generic(e);
        break;
      case "func_exit":
        if (e.closes) for (let i = 0; i < e.closes.length; i++) line(taskCtx(e), e.cpu, e.ts, "tracing_mark_write", `E|${taskCtx(e).pid}`);
        else generic(e);
        break;
      case "work_queue": {
        const cpu = typeof a.cpu === "number" ? a.cpu : e.cpu;
        line(taskCtx(e), e.cpu, e.ts, "workqueue_queue_work",
          `work struct=${workPointer(e.name ?? "")} function=${workFunction(e.name ?? "")} workqueue=events req_cpu=${cpu} cpu=${cpu}`);
        break;
      }
      case "work_start":
        line(taskCtx(e), e.cpu, e.ts, "workqueue_execute_start", `work struct ${workPointer(e.name ?? "")}: function ${workFunction(e.name ?? "")}`);
        break;
      case "work_end":
        line(taskCtx(e), e.cpu, e.ts, "workqueue_execute_end", `work struct ${workPointer(e.name ?? "")}: function ${workFunction(e.name ?? "")}`);
        break;
      case "ipi": {
        const targets = e.ipiTargets ?? [];
        const callback = symbol(e.name ?? "ipi");
        if (a.to === "all") {
          line(taskCtx(e), e.cpu, e.ts, "ipi_send_cpumask", `cpumask=${cpuList(targets.map((t) => t.cpu))} callsite=smp_call_function_many_cond callback=${callback}`);
        } else {
          line(taskCtx(e), e.cpu, e.ts, "ipi_send_cpu", `cpu=${targets[0]?.cpu ?? a.to} callsite=smp_call_function_single callback=${callback}`);
        }
        for (const t of targets) {
          line(ctxOf(t.task), t.cpu, e.ts, "ipi_entry", "(Function call interrupts)");
          line(ctxOf(t.task), t.cpu, e.ts, "ipi_exit", "(Function call interrupts)");
        }
        break;
      }
      case "rcu_gp_start":
      case "rcu_gp_end": {
        const expedited = e.name === "expedited";
        const key = expedited ? "expedited" : "normal";
        if (e.type === "rcu_gp_start") gpSeq[key]++;
        line(taskCtx(e), e.cpu, e.ts, expedited ? "rcu_exp_grace_period" : "rcu_grace_period",
          `rcu_preempt ${gpSeq[key] * 4} ${e.type === "rcu_gp_start" ? "start" : "end"}`);
        break;
      }
      case "mm_page_alloc": {
        const pfn = formatPfn(a.pfn) ?? "0x0";
        line(taskCtx(e), e.cpu, e.ts, "mm_page_alloc",
          `page=${pagePointer(pfn)} pfn=${pfn} order=${int(a.order)} migratetype=${migratetype(a.migratetype)} gfp_flags=${a.gfp === undefined ? "none" : oneLine(String(a.gfp))}`);
        break;
      }
      case "mm_page_free": {
        const pfn = formatPfn(a.pfn) ?? "0x0";
        line(taskCtx(e), e.cpu, e.ts, "mm_page_free", `page=${pagePointer(pfn)} pfn=${pfn} order=${int(a.order)}`);
        if (e.sample) line(taskCtx(e), e.cpu, e.ts, "tracing_mark_write", `C|0|refcount pfn ${doc.folios[e.sample.folio].pfn}|${e.sample.refcount}`);
        break;
      }
      default:
        if (isPageRefType(e.type)) {
          line(taskCtx(e), e.cpu, e.ts, e.type, pageRefPayload(a));
          if (e.sample) line(taskCtx(e), e.cpu, e.ts, "tracing_mark_write", `C|0|refcount pfn ${doc.folios[e.sample.folio].pfn}|${e.sample.refcount}`);
        } else generic(e);
    }
  }

  function generic(e: DocEvent): void {
    const parts: string[] = [];
    if (e.name !== undefined) parts.push(oneLine(e.name));
    for (const [k, v] of Object.entries(e.args ?? {})) parts.push(`${k.replace(/[\s=]+/g, "_")}=${value(v)}`);
    line(taskCtx(e), e.cpu, e.ts, eventName(e.type), parts.join(" "));
  }

  const header = headerLines(doc, body.length);
  return header.join("\n") + "\n" + body.join("\n") + (body.length > 0 ? "\n" : "");
}

function headerLines(doc: TraceDocument, entries: number): string[] {
  const o = doc.outcome;
  const h = [
    "# tracer: nop",
    "#",
    `# foliosim: ${oneLine(doc.meta.scenario)} on ${oneLine(doc.meta.kernel)}`,
    `# scenario: ${oneLine(doc.meta.scenario)}`,
    `# kernel: ${oneLine(doc.meta.kernel)}`,
  ];
  if (doc.meta.token !== undefined) h.push(`# token: ${oneLine(doc.meta.token)}`);
  h.push(`# status: ${o.status} after ${o.steps} steps, ${o.virtualNs} ns of virtual time`);
  if (o.failure) h.push(`# failure${o.failure.kind ? ` (${o.failure.kind})` : ""}: ${oneLine(o.failure.message)}`);
  if (o.hang) {
    h.push(`# hang: ${oneLine(o.hang.message)}`);
    for (const t of o.hang.tasks) {
      h.push(`#   ${t.task} (CPU${t.cpu}) ${t.state}: ${oneLine(t.waitsFor)}${t.stack.length > 0 ? `  [${t.stack.join(" > ")}]` : ""}`);
    }
  }
  h.push(
    `# tasks: ${doc.tasks.map((t) => `${t.comm}-${t.pid} (CPU${t.cpu}${t.policy === "fifo" ? `, SCHED_FIFO ${t.priority}` : ""})`).join(", ") || "none"}`,
    "# lines are in schedule (step) order; timestamps are each CPU's virtual clock",
    "#",
    `# entries-in-buffer/entries-written: ${entries}/${entries}   #P:${doc.cpus}`,
    "#",
    "#                                _-----=> irqs-off",
    "#                               / _----=> need-resched",
    "#                              | / _---=> hardirq/softirq",
    "#                              || / _--=> preempt-depth",
    "#                              ||| /     delay",
    "#           TASK-PID     CPU#  ||||   TIMESTAMP  FUNCTION",
    "#              | |         |   ||||      |         |",
  );
  return h;
}

/** `secs.usecs` with 6 decimals, as the kernel prints `ts` (ns) in the default clock. */
export function formatTs(ns: number): string {
  const n = Math.max(0, Math.floor(ns));
  const secs = Math.floor(n / 1e9);
  const usecs = Math.floor((n % 1e9) / 1000);
  return `${String(secs).padStart(5)}.${String(usecs).padStart(6, "0")}`;
}

/** The authentic include/trace/events/page_ref.h payload. */
export function pageRefPayload(a: Record<string, unknown>): string {
  const pfn = formatPfn(a.pfn) ?? "0x0";
  const flags = Array.isArray(a.flags) ? a.flags.join("|") : a.flags === undefined ? "" : String(a.flags);
  let s = `pfn=${pfn} flags=${oneLine(flags)} count=${int(a.count)} mapcount=${int(a.mapcount)} mapping=${pointer(a.mapping)} mt=${migratetype(a.mt)} val=${int(a.val)}`;
  if (a.ret !== undefined) s += ` ret=${int(a.ret)}`;
  return s;
}

function int(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function migratetype(v: unknown): number {
  if (typeof v === "string" && v.toUpperCase() in MIGRATETYPE) return MIGRATETYPE[v.toUpperCase()];
  return int(v);
}

/** `%p`: 16 hex digits. */
function pointer(v: unknown): string {
  if (typeof v === "string" && /^(0x)?[0-9a-f]{1,16}$/i.test(v)) return v.replace(/^0x/i, "").toLowerCase().padStart(16, "0");
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v.toString(16).padStart(16, "0");
  if (v === null || v === undefined) return "0000000000000000";
  return hashPointer(String(v));
}

/** A stable stand-in for a hashed kernel pointer. */
function hashPointer(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return "00000000" + (h >>> 0).toString(16).padStart(8, "0");
}

function workPointer(name: string): string {
  return hashPointer("work_struct " + name);
}

/** `struct page *` of a pfn in the vmemmap (x86-64: 0xffffea0000000000 + 64 * pfn). */
function pagePointer(pfn: string): string {
  return (0xffffea0000000000n + BigInt(pfn) * 64n).toString(16);
}

/** The function a work item runs, named after the work (`lru_add_drain_work/1` → `lru_add_drain_work`). */
function workFunction(name: string): string {
  return symbol(name.replace(/\/\d+$/, ""));
}

function symbol(s: string): string {
  return s.replace(/[^\w.]+/g, "_").replace(/^_+|_+$/g, "") || "unknown";
}

/** A CPU list as the kernel prints masks with `%*pbl`: `0,2-3`. */
function cpuList(cpus: number[]): string {
  const sorted = [...cpus].sort((x, y) => x - y);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/** An event name the line tokenizer accepts (no colon, no whitespace). */
function eventName(type: string): string {
  return type.replace(/[:\s]+/g, "_") || "event";
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ");
}

function quote(s: string): string {
  return /[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s;
}

function value(v: unknown): string {
  if (typeof v === "string") return quote(oneLine(v));
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  return JSON.stringify(v) ?? String(v);
}

