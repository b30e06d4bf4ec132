/**
 * ftrace text, as `cat /sys/kernel/tracing/trace` prints it (conventions §3.2): for
 * mailing lists and grep; Perfetto and trace-cmd open it.
 *
 * - Header `# tracer: nop`, then `#` comments with the scenario, kernel preset,
 *   schedule token and outcome (Perfetto skips `#` lines).
 * - One line per event: `comm-pid [cpu] flags secs.nsecs: event: payload`, with four
 *   flag characters (`....`: the stored Perfetto tokenizer accepts 0 or 4), comm at
 *   most 15 characters, pid = task id + 1 (the idle task is `<idle>-0`).
 * - Events the kernel has (KERNEL_EVENTS) print exactly their TP_printk format
 *   (ftrace-events.ts, one function per tracepoint, each naming its header):
 *   sched_switch at every context switch (including the switches to and from idle the
 *   machine leaves implicit), sched_waking, task_newtask, sched_process_exit,
 *   workqueue_*, ipi_*, rcu_*grace_period, page_ref_*, mm_page_alloc/free,
 *   mm_migrate_pages(_start), set_migration_pte, mm_lru_insertion/activate,
 *   mm_filemap_*_page_cache, and `tracing_mark_write` atrace marks: `B|pid|name` /
 *   `E|pid` around modelled kernel functions and `C|0|refcount pfn 0x…|n` per folio
 *   (tgid 0, so each folio gets one counter track whichever task changed it).
 * - Events the kernel does not have are namespaced `foliosim_<type>: name k=v …`,
 *   among them `foliosim_op` (one per simulated step, with its number, so a line can be
 *   matched with the schedule token).
 *
 * Lines are in schedule (step) order and so are their timestamps: nanoseconds, each
 * CPU's virtual clock pushed forward where an earlier step on another CPU ran later
 * (the document's trace time), so a viewer that sorts by time keeps the interleaving.
 */

import { formatPfn, isPageRefType, type DocEvent, type TraceDocument } from "./trace-model.js";
import * as K from "./ftrace-events.js";

export { pageRefPayload } from "./ftrace-events.js";

export interface FtraceOptions {
  /** Emit a `foliosim_op` line per simulated step. Default true. */
  ops?: boolean;
}

interface Ctx {
  comm: string;
  pid: number;
}

const IDLE: Ctx = { comm: "<idle>", pid: 0 };
const SETUP: Ctx = { comm: "<setup>", pid: 0 };

/** Tracepoints the kernel has, printed in its format; every other event is `foliosim_<type>`. */
export const KERNEL_EVENTS: ReadonlySet<string> = new Set([
  "sched_switch", "sched_waking", "sched_process_exit", "task_newtask",
  "workqueue_queue_work", "workqueue_activate_work", "workqueue_execute_start", "workqueue_execute_end",
  "ipi_send_cpu", "ipi_send_cpumask", "ipi_entry", "ipi_exit", "rcu_grace_period", "rcu_exp_grace_period",
  "page_ref_mod", "page_ref_mod_and_test", "page_ref_mod_unless", "page_ref_freeze", "page_ref_unfreeze",
  "mm_page_alloc", "mm_page_free", "mm_migrate_pages", "mm_migrate_pages_start", "set_migration_pte",
  "mm_lru_insertion", "mm_lru_activate", "mm_filemap_add_to_page_cache", "mm_filemap_delete_from_page_cache",
  "tracing_mark_write",
]);

export function writeFtrace(doc: TraceDocument, options: FtraceOptions = {}): string {
  const w = new FtraceWriter(doc, options.ops ?? true);
  for (const e of doc.events) w.event(e);
  const header = headerLines(doc, w.body.length);
  return header.join("\n") + "\n" + w.body.join("\n") + (w.body.length > 0 ? "\n" : "");
}

/** The lines of one document; one method per event family. */
class FtraceWriter {
  readonly body: string[] = [];
  private lastTs = 0;
  private lastCpu = -1;
  private readonly gpSeq = { normal: 0, expedited: 0 };
  private readonly inodes = new Map<string, number>();
  /** folio_mapcount per folio index, from the samples so far (for mm_lru_insertion's M). */
  private readonly mapcount = new Map<number, number>();
  private readonly folioIndex = new Map<string, number>();

  constructor(
    private readonly doc: TraceDocument,
    private readonly ops: boolean,
  ) {
    for (const f of doc.folios) this.folioIndex.set(f.name, f.index);
  }

  event(e: DocEvent): void {
    if (e.sample) this.mapcount.set(e.sample.folio, e.sample.mapcount);
    if (this.sched(e) || this.span(e) || this.work(e) || this.ipi(e) || this.rcu(e) || this.memory(e) || this.migration(e)) return;
    this.generic(e);
  }

  /**
   * One line, `comm-pid [cpu] flags secs.nsecs: event: payload`. The time never goes
   * back in file order and moves forward when the CPU changes (lines a document event
   * puts on another CPU, such as ipi_entry, come 1 ns after it).
   */
  private line(ctx: Ctx, cpu: number, ts: number, event: string, payload: string): void {
    const floor = cpu === this.lastCpu ? this.lastTs : this.lastTs + 1;
    const t = this.body.length === 0 ? Math.max(0, ts) : Math.max(ts, floor);
    this.lastTs = t;
    this.lastCpu = cpu;
    this.body.push(`${ctx.comm.padStart(16)}-${String(ctx.pid).padEnd(7)} [${String(cpu).padStart(3, "0")}] .... ${formatTs(t)}: ${event}: ${payload}`);
  }

  private ctxOf(task: number): Ctx {
    const t = task >= 0 ? this.doc.tasks[task] : undefined;
    return t ? { comm: t.comm, pid: t.pid } : IDLE;
  }

  private taskCtx(e: DocEvent): Ctx {
    return e.task >= 0 ? this.ctxOf(e.task) : SETUP;
  }

  private who(task: number, cpu: number): { comm: string; pid: number; prio: number } {
    const t = task >= 0 ? this.doc.tasks[task] : undefined;
    if (!t) return { comm: task >= 0 ? "?" : `swapper/${cpu}`, pid: 0, prio: 120 };
    return { comm: t.comm, pid: t.pid, prio: t.prio };
  }

  private emit(e: DocEvent, event: string, payload: string): void {
    this.line(this.taskCtx(e), e.cpu, e.ts, event, payload);
  }

  private counter(e: DocEvent): void {
    if (e.sample) this.emit(e, "tracing_mark_write", `C|0|refcount pfn ${this.doc.folios[e.sample.folio].pfn}|${e.sample.refcount}`);
  }

  /** Context switches, wake-ups, task creation and exit, and the simulated steps. */
  private sched(e: DocEvent): boolean {
    switch (e.type) {
      case "switch": {
        const s = e.switch!;
        // A kworker waits for work in worker_thread() as TASK_IDLE ("I"); the model's other sleeps are "D".
        const sleep = this.doc.tasks[s.prev]?.kworker ? "I" : "D";
        const state = s.prev < 0 ? "R" : s.prevState === "S" ? sleep : s.prevState === "R" ? "R+" : s.prevState;
        this.line(this.ctxOf(s.prev), e.cpu, e.ts, "sched_switch", K.schedSwitch({ ...this.who(s.prev, e.cpu), state }, this.who(s.next, e.cpu)));
        return true;
      }
      case "block":
        return true; // the sched_switch with prev_state=D that follows says it
      case "wake": {
        const t = this.who(e.task, e.cpu);
        this.line(this.ctxOf(e.onCpu), e.cpu, e.ts, "sched_waking", K.schedWaking(t.comm, t.pid, t.prio, e.cpu));
        return true;
      }
      case "timer": {
        const t = this.who(e.task, e.cpu);
        this.line(this.ctxOf(e.onCpu), e.cpu, e.ts, "foliosim_timer", `comm=${t.comm} pid=${t.pid} waiting_for=${quote(e.name ?? "")}`);
        return true;
      }
      case "spawn": {
        const t = this.who(e.task, e.cpu);
        this.line(e.parent ? this.ctxOf(e.parent.task) : SETUP, e.parent?.cpu ?? e.cpu, e.ts, "task_newtask", K.taskNewtask(t.pid, t.comm));
        return true;
      }
      case "exit": {
        const t = this.who(e.task, e.cpu);
        this.emit(e, "sched_process_exit", K.schedProcessExit(t.comm, t.pid, t.prio));
        return true;
      }
      case "op":
        if (this.ops) this.emit(e, "foliosim_op", `step=${e.step} ${K.oneLine(e.name ?? "")}`);
        return true;
      default:
        return false;
    }
  }

  /** Modelled kernel functions as atrace `B|pid|name` / `E|pid` marks. */
  private span(e: DocEvent): boolean {
    if (e.type === "func_entry" && e.span !== undefined) {
      this.emit(e, "tracing_mark_write", `B|${this.taskCtx(e).pid}|${K.oneLine(e.name ?? "")}`);
      return true;
    }
    if (e.type === "func_exit" && e.closes) {
      for (let i = 0; i < e.closes.length; i++) this.emit(e, "tracing_mark_write", `E|${this.taskCtx(e).pid}`);
      return true;
    }
    return false;
  }

  /** queue_work_on → workqueue_queue_work + workqueue_activate_work; the worker's execute_start/end. */
  private work(e: DocEvent): boolean {
    const name = e.name ?? "";
    const work = workPointer(name);
    switch (e.type) {
      case "work_queue": {
        const cpu = typeof e.args?.cpu === "number" ? e.args.cpu : e.cpu;
        this.emit(e, "workqueue_queue_work", K.workqueueQueueWork(work, workFunction(name), workqueueOf(name), cpu, cpu));
        this.emit(e, "workqueue_activate_work", K.workqueueActivateWork(work));
        return true;
      }
      case "work_start":
        this.emit(e, "workqueue_execute_start", K.workqueueExecute(work, workFunction(name)));
        return true;
      case "work_end":
        this.emit(e, "workqueue_execute_end", K.workqueueExecute(work, workFunction(name)));
        return true;
      default:
        return false;
    }
  }

  /** smp_call_function_single / _many: the send, then the handler on each target CPU. */
  private ipi(e: DocEvent): boolean {
    if (e.type !== "ipi") return false;
    const targets = e.ipiTargets ?? [];
    const callback = symbol(e.name ?? "ipi");
    if (e.args?.to === "all") this.emit(e, "ipi_send_cpumask", K.ipiSendCpumask(targets.map((t) => t.cpu), "smp_call_function_many_cond", callback));
    else this.emit(e, "ipi_send_cpu", K.ipiSendCpu(targets[0]?.cpu ?? K.int(e.args?.to), "smp_call_function_single", callback));
    for (const t of targets) {
      this.line(this.ctxOf(t.task), t.cpu, e.ts, "ipi_entry", K.ipiHandler("Function call interrupts"));
      this.line(this.ctxOf(t.task), t.cpu, e.ts, "ipi_exit", K.ipiHandler("Function call interrupts"));
    }
    return true;
  }

  private rcu(e: DocEvent): boolean {
    if (e.type !== "rcu_gp_start" && e.type !== "rcu_gp_end") return false;
    const expedited = e.name === "expedited";
    const key = expedited ? "expedited" : "normal";
    if (e.type === "rcu_gp_start") this.gpSeq[key]++;
    this.emit(e, expedited ? "rcu_exp_grace_period" : "rcu_grace_period", K.rcuGracePeriod("rcu_preempt", this.gpSeq[key] * 4, e.type === "rcu_gp_start" ? "start" : "end"));
    return true;
  }

  /** page_ref tracepoints, page allocation and free (with a refcount counter track per folio). */
  private memory(e: DocEvent): boolean {
    const a = e.args ?? {};
    if (isPageRefType(e.type)) {
      this.emit(e, e.type, K.pageRefPayload(a));
      this.counter(e);
      return true;
    }
    if (e.type === "mm_page_alloc") {
      this.emit(e, "mm_page_alloc", K.mmPageAlloc(K.pfnOf(a.pfn), K.int(a.order), K.migratetype(a.migratetype), gfpOf(e)));
      return true;
    }
    if (e.type === "mm_page_free") {
      this.emit(e, "mm_page_free", K.mmPageFree(K.pfnOf(a.pfn), K.int(a.order)));
      this.counter(e);
      return true;
    }
    return false;
  }

  /** Migration, LRU insertion and page-cache tracepoints. */
  private migration(e: DocEvent): boolean {
    const a = e.args ?? {};
    const folio = e.name !== undefined ? this.folioIndex.get(e.name) : undefined;
    const pfn = formatPfn(a.pfn) ?? (folio !== undefined ? this.doc.folios[folio].pfn : (e.name?.match(/0x[0-9a-f]+/i)?.[0] ?? "0x0"));
    const order = folio !== undefined ? this.doc.folios[folio].order ?? 0 : 0;
    switch (e.type) {
      case "mm_migrate_pages_start":
        this.emit(e, e.type, K.mmMigratePagesStart(a));
        return true;
      case "mm_migrate_pages":
        this.emit(e, e.type, K.mmMigratePages(a));
        return true;
      case "set_migration_pte":
        this.emit(e, e.type, K.migrationPte(a.addr, a.pte ?? 0, order));
        return true;
      case "mm_lru_insertion":
        this.emit(e, e.type, K.mmLruInsertion(pfn, a.lru, typeof a.flags === "string" ? a.flags : "", (folio !== undefined ? this.mapcount.get(folio) ?? 0 : 0) > 0));
        return true;
      case "mm_lru_activate":
        this.emit(e, e.type, K.mmLruActivate(pfn));
        return true;
      case "mm_filemap_add_to_page_cache":
      case "mm_filemap_delete_from_page_cache":
        this.emit(e, e.type, K.mmFilemapOpPageCache(this.inode(String(a.mapping ?? "")), pfn, K.int(a.index), order));
        return true;
      default:
        return false;
    }
  }

  private inode(mapping: string): number {
    let ino = this.inodes.get(mapping);
    if (ino === undefined) this.inodes.set(mapping, (ino = this.inodes.size + 1));
    return ino;
  }

  /** An event the kernel has no tracepoint for: `foliosim_<type>: name k=v …`. */
  private generic(e: DocEvent): void {
    const parts: string[] = [];
    if (e.name !== undefined) parts.push(K.oneLine(e.name));
    for (const [k, v] of Object.entries(e.args ?? {})) parts.push(`${k.replace(/[\s=]+/g, "_")}=${value(v)}`);
    this.emit(e, `foliosim_${eventName(e.type)}`, parts.join(" "));
  }
}

/** gfp_flags: the GFP named in the allocating op's label (`folio_alloc(GFP_HIGHUSER_MOVABLE)`), else from the migratetype. */
function gfpOf(e: DocEvent): string {
  const fromLabel = e.label?.match(/\b(GFP_[A-Z_]+(?:\|__GFP_[A-Z_]+)*)/)?.[1];
  if (fromLabel) return fromLabel;
  if (typeof e.args?.gfp === "string") return K.oneLine(e.args.gfp);
  return K.migratetype(e.args?.migratetype) === 1 ? "GFP_HIGHUSER_MOVABLE" : "GFP_KERNEL";
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
    "# lines are in schedule (step) order; timestamps are virtual ns, each CPU's clock pushed forward so time order is schedule order",
    "# foliosim_* events are the model's own (the kernel has no such tracepoint); the others print the kernel's TP_printk format",
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

/**
 * `secs.nsecs`: nanosecond resolution, as `trace-cmd report -t` prints it (the kernel's
 * own `trace` file rounds to microseconds; Perfetto and trace-cmd read both).
 */
export function formatTs(ns: number): string {
  const n = Math.max(0, Math.floor(ns));
  const secs = Math.floor(n / 1e9);
  const nsecs = n % 1e9;
  return `${String(secs).padStart(5)}.${String(nsecs).padStart(9, "0")}`;
}

function workPointer(name: string): string {
  return K.hashPointer("work_struct " + name);
}

/** The function a work item runs, named after the work (`lru_add_drain_work/1` → `lru_add_drain_work`). */
function workFunction(name: string): string {
  return symbol(name.replace(/\/\d+$/, ""));
}

/** mm/swap.c queues the LRU drains on `mm_percpu_wq`; everything else goes to `events` (system_wq). */
function workqueueOf(name: string): string {
  return /^lru_add_drain|^mlock_drain/.test(name) ? "mm_percpu_wq" : "events";
}

function symbol(s: string): string {
  return s.replace(/[^\w.]+/g, "_").replace(/^_+|_+$/g, "") || "unknown";
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
