/**
 * The one typed trace every exporter reads (conventions §3: "one typed Trace object,
 * three writers").
 *
 * `buildTraceDocument` turns a run's flat event list into the structures the writers
 * need, so they stay small pure functions:
 *
 * - `tasks`: comm (≤ 15 characters, TASK_COMM_LEN), pid (task id + 1; pid 0 is the idle
 *   task), kernel priority (120 for SCHED_NORMAL, 99 - rt_priority for SCHED_FIFO).
 * - `events`: the run's events in schedule (step) order, plus context switches the
 *   machine leaves implicit (a task that blocks or exits switches to idle; a task that
 *   resumes on an idle CPU switches back in). Each event knows which task was running
 *   on its CPU (`onCpu`) and, for events emitted inside an op, that op's kernel label.
 * - `spans`: modelled kernel functions (`func_entry`/`func_exit`) and work items
 *   (`work_start`/`work_end`) as a strictly nested stack per task. An exit that does
 *   not match the innermost span closes the spans above its match; spans still open
 *   when the run ends (a hang) are closed at the end time and marked `unfinished`.
 * - `runs`: which task ran on which CPU when, from the context switches.
 * - `folios` and `samples`: refcount, pincount and mapcount per folio after every
 *   page_ref tracepoint, allocation and free.
 * - `flows`: work queued → work runs, IPI sent → handler.
 *
 * Timestamps are virtual nanoseconds; each writer converts. CPUs run on separate
 * virtual clocks, so the document gives every event a trace time (`ts`): its CPU's
 * clock, pushed forward where an earlier step on another CPU ran later, so that time
 * order is step order (a viewer that sorts by time shows the interleaving the schedule
 * ran). The CPU's own clock stays in `cpuTs`.
 */

import type { RunResult, RunStatus, TraceEvent } from "@foliosim/sim";

/** What the exporters say about where a trace came from. */
export interface TraceMeta {
  /** Scenario id (or a free-form description for ad-hoc programs). */
  scenario: string;
  /** Kernel preset id, with variant overrides if any. */
  kernel: string;
  /** The schedule token that replays this execution. */
  token?: string;
  /**
   * A failure the layers above the machine found (a broken promise: "b: ndelay returned
   * 0; expected 1"), for runs the machine itself saw finish. Ignored when the run
   * already has an invariant failure.
   */
  failure?: { kind: string; message: string };
}

/** The parts of a RunResult the document is built from. */
export type TraceSource = Pick<RunResult, "trace" | "taskTable" | "cpus" | "status" | "steps" | "virtualNs"> &
  Partial<Pick<RunResult, "hang" | "failure">>;

export interface DocTask {
  id: number;
  name: string;
  /** `current->comm`: the name cut to 15 characters, whitespace replaced by `_`. */
  comm: string;
  /** Task id + 1 (pid 0 is the idle task, `swapper/N`). */
  pid: number;
  cpu: number;
  policy: "normal" | "fifo";
  /** SCHED_FIFO rt_priority (0 for SCHED_NORMAL). */
  priority: number;
  /** Kernel `prio` as sched_switch prints it: 120 for SCHED_NORMAL, 99 - rt_priority for FIFO. */
  prio: number;
  daemon: boolean;
  /** A per-CPU workqueue worker (`kworker/N:M`). */
  kworker: boolean;
}

/** A context switch; -1 stands for the idle task. */
export interface DocSwitch {
  prev: number;
  /** R (runnable: preempted or idle), S (sleeping), X (dead). */
  prevState: string;
  next: number;
}

export type PageRefType = "page_ref_mod" | "page_ref_mod_and_test" | "page_ref_mod_unless" | "page_ref_freeze" | "page_ref_unfreeze";

/** A folio's counters after one event. */
export interface FolioSample {
  folio: number;
  /** `_refcount` after the event. */
  refcount: number;
  /** `_refcount` before it. */
  before: number;
  /** `_pincount` (from `args.pincount` when given, else `_refcount / GUP_PIN_COUNTING_BIAS` as for small folios). */
  pincount: number;
  /** `folio_mapcount` (the tracepoint's raw `_mapcount` + 1). */
  mapcount: number;
}

export interface IpiTarget {
  cpu: number;
  /** Task running on that CPU when the IPI arrived, -1 for idle. */
  task: number;
  flow: number;
}

export interface DocEvent {
  /** Index in `TraceDocument.events`. */
  seq: number;
  step: number;
  /**
   * Trace time (ns): the event's CPU clock, pushed forward where needed so that it never
   * decreases in document (step) order and strictly increases where the CPU changes.
   */
  ts: number;
  /** Virtual ns on the event's own CPU clock. */
  cpuTs: number;
  /** Always a real CPU (events emitted outside any task are put on CPU 0). */
  cpu: number;
  /** Task id, -1 for none (set-up code outside the schedule). */
  task: number;
  /** The machine's event type; `switch` also for switches the builder makes explicit. */
  type: string;
  name?: string;
  args?: Record<string, unknown>;
  /** Inserted by the builder (a switch to or from idle the machine leaves implicit). */
  synthetic?: boolean;
  /** Task running on `cpu` just before this event (-1: idle). */
  onCpu: number;
  /** Kernel label of the op whose execution emitted this event. */
  label?: string;
  switch?: DocSwitch;
  /** func_entry/work_start: the span opened. func_exit/work_end: the span matched. */
  span?: number;
  /** func_exit/work_end: every span this event closes, innermost first. */
  closes?: number[];
  /** page_ref_*, mm_page_alloc, mm_page_free: the folio's counters after the event. */
  sample?: FolioSample;
  /** work_queue and work_start: the flow from queueing to running. */
  flow?: number;
  /** ipi: where it went. */
  ipiTargets?: IpiTarget[];
  /** spawn inside another task's op: that task, with its CPU and clock (task_newtask runs in the parent). */
  parent?: { task: number; cpu: number; ts: number };
}

export interface DocSpan {
  id: number;
  task: number;
  cpu: number;
  name: string;
  kind: "func" | "work";
  start: number;
  end: number;
  /** Nesting depth on its task, 0 = outermost. */
  depth: number;
  /** Enclosing span, -1 at the top. */
  parent: number;
  beginSeq: number;
  /** Event that closed it; -1 when the run ended with the span open. */
  endSeq: number;
  unfinished: boolean;
}

export interface DocRun {
  cpu: number;
  task: number;
  start: number;
  end: number;
  beginSeq: number;
  /** -1 when the task was still running at the end. */
  endSeq: number;
}

export interface DocFolio {
  index: number;
  /** As the folio layer names it: "folio 0x9f83a8". */
  name: string;
  /** "0x9f83a8". */
  pfn: string;
  firstSeq: number;
  /** Allocation order, when the trace has the folio's mm_page_alloc. */
  order?: number;
}

export interface DocFlow {
  id: number;
  kind: "work" | "ipi";
  name: string;
  fromSeq: number;
  fromTask: number;
  fromCpu: number;
  fromTs: number;
  /** -1 when it never arrived (work still queued at the end). */
  toSeq: number;
  /** The kworker, or the task an IPI interrupted (-1: idle). */
  toTask: number;
  toCpu: number;
  toTs: number;
}

export interface DocOutcome {
  status: RunStatus;
  steps: number;
  virtualNs: number;
  failure?: { message: string; kind?: string; task?: string; step: number; operation?: string; object?: string };
  hang?: { kind: "deadlock" | "livelock"; message: string; tasks: { task: string; cpu: number; state: string; waitsFor: string; stack: string[] }[] };
}

export interface TraceDocument {
  meta: TraceMeta;
  outcome: DocOutcome;
  cpus: number;
  /** Indexed by task id. */
  tasks: DocTask[];
  events: DocEvent[];
  spans: DocSpan[];
  runs: DocRun[];
  folios: DocFolio[];
  flows: DocFlow[];
  /** The latest timestamp of the run (every open span and run is closed here). */
  endNs: number;
}

/** Machine event types that do not mean the task itself is executing. */
const NOT_EXECUTING = new Set(["spawn", "wake", "timer", "block", "switch", "exit"]);

const PAGE_REF_TYPES = new Set<string>(["page_ref_mod", "page_ref_mod_and_test", "page_ref_mod_unless", "page_ref_freeze", "page_ref_unfreeze"]);

export const GUP_PIN_COUNTING_BIAS = 1024;

export function isPageRefType(type: string): type is PageRefType {
  return PAGE_REF_TYPES.has(type);
}

/** `comm` as the kernel keeps it: at most TASK_COMM_LEN - 1 = 15 characters. */
export function toComm(name: string): string {
  return name.replace(/\s+/g, "_").slice(0, 15) || "?";
}

/** Build the typed trace of one run. Pure: the result depends only on the arguments. */
export function buildTraceDocument(run: TraceSource, meta: TraceMeta): TraceDocument {
  const b = new DocBuilder(run);
  for (const e of run.trace) b.add(e);
  return b.finish(run, meta);
}

/** The tasks of a run as the exporters name them. */
function docTasks(run: TraceSource): DocTask[] {
  return run.taskTable.map((t) => ({
    id: t.id,
    name: t.name,
    comm: toComm(t.name),
    pid: t.id + 1,
    cpu: t.cpu,
    policy: t.policy,
    priority: t.priority,
    prio: t.policy === "fifo" ? 99 - t.priority : 120,
    daemon: t.daemon,
    kworker: t.daemon && /^kworker\//.test(t.name),
  }));
}

type NewEvent = Omit<DocEvent, "seq" | "onCpu" | "cpuTs"> & { cpuTs?: number };

/**
 * The builder's state while it reads a run's events in step order; one method per event
 * family (scheduling, spans, work, IPIs, folios).
 */
class DocBuilder {
  readonly cpus: number;
  readonly tasks: DocTask[];
  readonly events: DocEvent[] = [];
  readonly spans: DocSpan[] = [];
  readonly runs: DocRun[] = [];
  readonly folios: DocFolio[] = [];
  readonly flows: DocFlow[] = [];
  private readonly folioByName = new Map<string, DocFolio>();
  private readonly lastSample = new Map<number, FolioSample>();
  /** Task running on each CPU (-1: idle). */
  private readonly current: number[];
  private readonly openRun: (DocRun | null)[];
  private readonly started = new Set<number>();
  private readonly stacks = new Map<number, DocSpan[]>();
  private readonly queuedWork = new Map<string, DocFlow[]>();
  /** Per task: events of the op being executed, waiting for the op event that names it. */
  private readonly unlabeled = new Map<number, DocEvent[]>();
  /** Spawns inside an op, waiting for the op's task to show itself in the same step. */
  private pendingSpawns: DocEvent[] = [];
  private endNs: number;
  private lastTs = 0;
  private lastCpu = -1;

  constructor(run: TraceSource) {
    this.cpus = run.cpus;
    this.tasks = docTasks(run);
    this.current = new Array<number>(run.cpus).fill(-1);
    this.openRun = new Array<DocRun | null>(run.cpus).fill(null);
    this.endNs = run.virtualNs;
  }

  add(e: TraceEvent): void {
    const cpu = e.cpu >= 0 && e.cpu < this.cpus ? e.cpu : 0;
    const ts = this.traceTime(cpu, e.t);
    this.attachSpawnParent(e, cpu, ts);
    // A task that executes on a CPU the reconstruction thinks idle (it blocked and
    // resumed with no other task in between) switched back in.
    const task = e.task;
    if (task >= 0 && !NOT_EXECUTING.has(e.type) && (this.started.has(task) || e.type === "op") && this.current[cpu] !== task) {
      this.doSwitch(cpu, ts, e.t, e.step, task, "R", true);
    }
    if (e.type === "switch") {
      const prevState = typeof e.args?.prevState === "string" ? e.args.prevState : "R";
      if (this.current[cpu] !== task) this.doSwitch(cpu, ts, e.t, e.step, task, prevState, false, e);
      return;
    }
    const base: NewEvent = { step: e.step, ts, cpuTs: e.t, cpu, task, type: e.type };
    if (e.name !== undefined) base.name = e.name;
    if (e.args !== undefined) base.args = e.args;
    const d = this.push(base);
    if (this.onSched(d)) return;
    this.onSpan(d);
    this.onWork(d);
    if (d.type === "ipi") this.onIpi(d);
    this.onFolio(d);
    this.labelLater(d);
  }

  /**
   * The trace clock: the event's own CPU clock, pushed forward so that it never goes
   * back in step order, and moves strictly forward whenever the CPU changes (so a
   * consumer that sorts by timestamp keeps the interleaving the schedule ran).
   */
  private traceTime(cpu: number, t: number): number {
    const floor = cpu === this.lastCpu ? this.lastTs : this.lastTs + 1;
    const ts = this.events.length === 0 ? Math.max(0, t) : Math.max(t, floor);
    this.lastTs = ts;
    this.lastCpu = cpu;
    return ts;
  }

  private push(e: NewEvent): DocEvent {
    const d: DocEvent = { seq: this.events.length, onCpu: this.current[e.cpu] ?? -1, cpuTs: e.cpuTs ?? e.ts, ...e };
    this.events.push(d);
    if (d.ts > this.endNs) this.endNs = d.ts;
    return d;
  }

  private doSwitch(cpu: number, ts: number, cpuTs: number, step: number, next: number, prevState: string, synthetic: boolean, raw?: TraceEvent): DocEvent {
    const prev = this.current[cpu];
    const named = raw?.name !== undefined ? { name: raw.name } : next >= 0 ? { name: this.tasks[next]?.name ?? String(next) } : {};
    const d = this.push({
      step,
      ts,
      cpuTs,
      cpu,
      task: next >= 0 ? next : prev,
      type: "switch",
      ...named,
      ...(raw?.args !== undefined ? { args: raw.args } : {}),
      ...(synthetic ? { synthetic: true } : {}),
      switch: { prev, prevState: prev < 0 ? "R" : prevState, next },
    });
    const open = this.openRun[cpu];
    if (open) {
      open.end = Math.max(open.start, ts);
      open.endSeq = d.seq;
      this.openRun[cpu] = null;
    }
    if (next >= 0) {
      const r: DocRun = { cpu, task: next, start: ts, end: ts, beginSeq: d.seq, endSeq: -1 };
      this.runs.push(r);
      this.openRun[cpu] = r;
      this.started.add(next);
    }
    this.current[cpu] = next;
    return d;
  }

  /** task_newtask runs in the parent: the task whose op comes next in the spawn's step. */
  private attachSpawnParent(e: TraceEvent, cpu: number, ts: number): void {
    if (this.pendingSpawns.length === 0) return;
    const inOp = e.task >= 0 && !NOT_EXECUTING.has(e.type) && e.type !== "func_entry" && e.type !== "func_exit";
    if (inOp && e.step === this.pendingSpawns[0].step) {
      for (const sp of this.pendingSpawns) if (sp.task !== e.task) sp.parent = { task: e.task, cpu, ts };
      this.pendingSpawns = [];
    } else if (e.step !== this.pendingSpawns[0].step) this.pendingSpawns = [];
  }

  /** op, spawn, block, exit; true when the event needs nothing else. */
  private onSched(d: DocEvent): boolean {
    switch (d.type) {
      case "op": {
        const pending = this.unlabeled.get(d.task);
        if (pending && d.name !== undefined) for (const u of pending) if (u.step === d.step) u.label = d.name;
        this.unlabeled.delete(d.task);
        return true;
      }
      case "spawn":
        if (d.step > 0) this.pendingSpawns.push(d);
        return true;
      case "block":
      case "exit":
        if (this.current[d.cpu] === d.task && d.task >= 0) this.doSwitch(d.cpu, d.ts, d.cpuTs, d.step, -1, d.type === "block" ? "S" : "X", true);
        return true;
      default:
        return false;
    }
  }

  /** Modelled kernel functions and work items as a strictly nested stack per task. */
  private onSpan(d: DocEvent): void {
    if (d.task < 0) return;
    if (d.type === "func_entry") this.openSpan(d, d.name ?? "?", "func");
    else if (d.type === "func_exit") this.endSpan(d, d.name ?? "?", "func");
    else if (d.type === "work_start") this.openSpan(d, d.name ?? "work", "work");
    else if (d.type === "work_end") this.endSpan(d, d.name ?? "work", "work");
  }

  private stackOf(task: number): DocSpan[] {
    let s = this.stacks.get(task);
    if (!s) this.stacks.set(task, (s = []));
    return s;
  }

  private openSpan(d: DocEvent, name: string, kind: DocSpan["kind"]): void {
    const stack = this.stackOf(d.task);
    const parent = stack.length > 0 ? stack[stack.length - 1] : undefined;
    const s: DocSpan = {
      id: this.spans.length,
      task: d.task,
      cpu: d.cpu,
      name,
      kind,
      start: d.ts,
      end: d.ts,
      depth: stack.length,
      parent: parent ? parent.id : -1,
      beginSeq: d.seq,
      endSeq: -1,
      unfinished: false,
    };
    this.spans.push(s);
    stack.push(s);
    d.span = s.id;
  }

  /** An exit that does not match the innermost span closes the spans above its match. */
  private endSpan(d: DocEvent, name: string, kind: DocSpan["kind"]): void {
    const stack = this.stackOf(d.task);
    let i = stack.length - 1;
    while (i >= 0 && !(stack[i].name === name && stack[i].kind === kind)) i--;
    if (i < 0) return; // an exit without an entry (the trace started mid-call): nothing to close
    const closes: number[] = [];
    while (stack.length > i) {
      const s = stack.pop()!;
      s.end = Math.max(s.start, d.ts);
      s.endSeq = d.seq;
      closes.push(s.id);
    }
    d.span = closes[closes.length - 1];
    d.closes = closes;
  }

  /** Work queued → work runs. */
  private onWork(d: DocEvent): void {
    const name = d.name ?? "work";
    if (d.type === "work_queue") {
      const toCpu = numArg(d.args?.cpu, d.cpu);
      const f: DocFlow = { id: this.flows.length, kind: "work", name, fromSeq: d.seq, fromTask: d.task, fromCpu: d.cpu, fromTs: d.ts, toSeq: -1, toTask: -1, toCpu, toTs: d.ts };
      this.flows.push(f);
      d.flow = f.id;
      let q = this.queuedWork.get(name);
      if (!q) this.queuedWork.set(name, (q = []));
      q.push(f);
    } else if (d.type === "work_start") {
      const f = this.queuedWork.get(name)?.shift();
      if (!f) return;
      f.toSeq = d.seq;
      f.toTask = d.task;
      f.toCpu = d.cpu;
      f.toTs = d.ts;
      d.flow = f.id;
    }
  }

  /** IPI sent → handler on each target CPU (on whatever task it interrupted). */
  private onIpi(d: DocEvent): void {
    const from = numArg(d.args?.from, d.cpu);
    const to = d.args?.to;
    const targets: number[] = [];
    if (to === "all") {
      for (let c = 0; c < this.cpus; c++) if (c !== from) targets.push(c);
    } else targets.push(numArg(to, d.cpu));
    d.ipiTargets = targets
      .filter((c) => c >= 0 && c < this.cpus)
      .map((c) => {
        const f: DocFlow = {
          id: this.flows.length,
          kind: "ipi",
          name: d.name ?? "ipi",
          fromSeq: d.seq,
          fromTask: d.task,
          fromCpu: d.cpu,
          fromTs: d.ts,
          toSeq: d.seq,
          toTask: this.current[c],
          toCpu: c,
          toTs: d.ts,
        };
        this.flows.push(f);
        return { cpu: c, task: this.current[c], flow: f.id };
      });
  }

  /** Folio counters after page_ref tracepoints, allocation and free. */
  private onFolio(d: DocEvent): void {
    const a = d.args ?? {};
    let sample: FolioSample | undefined;
    if (isPageRefType(d.type)) {
      const f = this.folioOf(d.name ?? `folio ${String(a.pfn)}`, a.pfn, d.seq);
      sample = pageRefSample(d.type, a, f.index, this.lastSample.get(f.index));
    } else if ((d.type === "mm_page_alloc" || d.type === "mm_page_free") && d.name !== undefined) {
      const f = this.folioOf(d.name, a.pfn, d.seq);
      if (d.type === "mm_page_alloc" && typeof a.order === "number") f.order = a.order;
      const refcount = d.type === "mm_page_alloc" ? 1 : 0;
      sample = { folio: f.index, before: this.lastSample.get(f.index)?.refcount ?? 0, refcount, pincount: 0, mapcount: 0 };
    }
    if (!sample) return;
    d.sample = sample;
    this.lastSample.set(sample.folio, sample);
  }

  private folioOf(name: string, pfnArg: unknown, seq: number): DocFolio {
    let f = this.folioByName.get(name);
    if (!f) {
      const pfn = formatPfn(pfnArg) ?? (name.match(/0x[0-9a-f]+/i)?.[0] ?? "0x0");
      f = { index: this.folios.length, name, pfn, firstSeq: seq };
      this.folios.push(f);
      this.folioByName.set(name, f);
    }
    return f;
  }

  /** Events inside an op get the op's kernel label when the op event names it (same step). */
  private labelLater(d: DocEvent): void {
    if (d.task < 0 || NOT_EXECUTING.has(d.type) || d.type === "func_entry" || d.type === "func_exit") return;
    const pending = this.unlabeled.get(d.task);
    if (pending && pending[0].step === d.step) pending.push(d);
    else this.unlabeled.set(d.task, [d]);
  }

  /** Close what the run left open (spans of hung tasks, the CPUs' last runs) and assemble. */
  finish(run: TraceSource, meta: TraceMeta): TraceDocument {
    const endNs = this.endNs;
    for (const stack of this.stacks.values()) {
      for (const s of stack) {
        s.end = Math.max(s.start, endNs);
        s.unfinished = true;
      }
      stack.length = 0;
    }
    for (const r of this.openRun) if (r) r.end = Math.max(r.start, endNs);
    const { cpus, tasks, events, spans, runs, folios, flows } = this;
    return { meta: docMeta(meta), outcome: docOutcome(run, meta), cpus, tasks, events, spans, runs, folios, flows, endNs };
  }
}

function docOutcome(run: TraceSource, meta: TraceMeta): DocOutcome {
  const outcome: DocOutcome = { status: run.status, steps: run.steps, virtualNs: run.virtualNs };
  if (run.failure) {
    const f = run.failure;
    outcome.failure = { message: f.message, kind: "invariant", step: f.step };
    if (f.task !== undefined) outcome.failure.task = f.task;
    if (f.operation !== undefined) outcome.failure.operation = f.operation;
    if (f.object !== undefined) outcome.failure.object = f.object;
  } else if (meta.failure) outcome.failure = { message: meta.failure.message, kind: meta.failure.kind, step: run.steps };
  if (run.hang) {
    outcome.hang = {
      kind: run.hang.kind,
      message: run.hang.message,
      tasks: run.hang.tasks.map((t) => ({ task: t.task, cpu: t.cpu, state: t.state, waitsFor: t.waitsFor, stack: [...t.stack] })),
    };
  }
  return outcome;
}

function docMeta(meta: TraceMeta): TraceMeta {
  const m: TraceMeta = { scenario: meta.scenario, kernel: meta.kernel };
  if (meta.token !== undefined) m.token = meta.token;
  if (meta.failure !== undefined) m.failure = { kind: meta.failure.kind, message: meta.failure.message };
  return m;
}

function numArg(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** "0x9f83a8" from a number or a string that already is one. */
export function formatPfn(v: unknown): string | undefined {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return "0x" + v.toString(16);
  if (typeof v === "string" && /^0x[0-9a-f]+$/i.test(v)) return v.toLowerCase();
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return "0x" + Number(v).toString(16);
  return undefined;
}

function pageRefSample(type: PageRefType, args: Record<string, unknown>, folio: number, last: FolioSample | undefined): FolioSample {
  const count = num(args.count) ?? last?.refcount ?? 0;
  const val = num(args.val) ?? 0;
  const ret = num(args.ret);
  let derived: number;
  switch (type) {
    case "page_ref_freeze":
      derived = ret === 1 ? val : count;
      break;
    case "page_ref_unfreeze":
      derived = 0;
      break;
    case "page_ref_mod_unless":
      derived = ret === 0 ? count : count - val;
      break;
    default:
      derived = count - val;
  }
  const rawMap = num(args.mapcount);
  return {
    folio,
    refcount: count,
    before: last?.refcount ?? derived,
    pincount: num(args.pincount) ?? Math.floor(count / GUP_PIN_COUNTING_BIAS),
    mapcount: rawMap !== undefined ? rawMap + 1 : (last?.mapcount ?? 0),
  };
}
