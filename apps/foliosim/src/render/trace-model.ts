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
 * Timestamps stay in virtual nanoseconds; each writer converts. Events keep their own
 * CPU's clock: CPUs run on separate virtual clocks, so step order and time order
 * differ across CPUs (never within one CPU's span and run structures).
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
  /** Virtual ns on the event's CPU. */
  ts: number;
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
  const cpus = run.cpus;
  const tasks: DocTask[] = run.taskTable.map((t) => ({
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

  const events: DocEvent[] = [];
  const spans: DocSpan[] = [];
  const runs: DocRun[] = [];
  const folios: DocFolio[] = [];
  const flows: DocFlow[] = [];
  const folioByName = new Map<string, DocFolio>();
  const lastSample = new Map<number, FolioSample>();

  const current: number[] = new Array(cpus).fill(-1);
  const openRun: (DocRun | null)[] = new Array(cpus).fill(null);
  const started = new Set<number>();
  const stacks = new Map<number, DocSpan[]>();
  const queuedWork = new Map<string, DocFlow[]>();
  /** Per task: events of the op being executed, waiting for the op event that names it. */
  const unlabeled = new Map<number, DocEvent[]>();
  /** Spawns inside an op, waiting for the op's task to show itself in the same step. */
  let pendingSpawns: DocEvent[] = [];
  let endNs = run.virtualNs;

  const stackOf = (task: number): DocSpan[] => {
    let s = stacks.get(task);
    if (!s) stacks.set(task, (s = []));
    return s;
  };

  const push = (e: Omit<DocEvent, "seq" | "onCpu">): DocEvent => {
    const d: DocEvent = { seq: events.length, onCpu: current[e.cpu] ?? -1, ...e };
    events.push(d);
    if (d.ts > endNs) endNs = d.ts;
    return d;
  };

  const doSwitch = (cpu: number, ts: number, step: number, next: number, prevState: string, synthetic: boolean, raw?: TraceEvent): DocEvent => {
    const prev = current[cpu];
    const d = push({
      step,
      ts,
      cpu,
      task: next >= 0 ? next : prev,
      type: "switch",
      ...(raw?.name !== undefined ? { name: raw.name } : next >= 0 ? { name: tasks[next]?.name ?? String(next) } : {}),
      ...(raw?.args !== undefined ? { args: raw.args } : {}),
      ...(synthetic ? { synthetic: true } : {}),
      switch: { prev, prevState: prev < 0 ? "R" : prevState, next },
    });
    const open = openRun[cpu];
    if (open) {
      open.end = Math.max(open.start, ts);
      open.endSeq = d.seq;
      openRun[cpu] = null;
    }
    if (next >= 0) {
      const r: DocRun = { cpu, task: next, start: ts, end: ts, beginSeq: d.seq, endSeq: -1 };
      runs.push(r);
      openRun[cpu] = r;
      started.add(next);
    }
    current[cpu] = next;
    return d;
  };

  const folioOf = (name: string, pfnArg: unknown, seq: number): DocFolio => {
    let f = folioByName.get(name);
    if (!f) {
      const pfn = formatPfn(pfnArg) ?? (name.match(/0x[0-9a-f]+/i)?.[0] ?? "0x0");
      f = { index: folios.length, name, pfn, firstSeq: seq };
      folios.push(f);
      folioByName.set(name, f);
    }
    return f;
  };

  const closeSpan = (s: DocSpan, ts: number, seq: number): void => {
    s.end = Math.max(s.start, ts);
    s.endSeq = seq;
  };

  const openSpan = (d: DocEvent, name: string, kind: DocSpan["kind"]): void => {
    const stack = stackOf(d.task);
    const parent = stack.length > 0 ? stack[stack.length - 1] : undefined;
    const s: DocSpan = {
      id: spans.length,
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
    spans.push(s);
    stack.push(s);
    d.span = s.id;
  };

  const endSpan = (d: DocEvent, name: string, kind: DocSpan["kind"]): void => {
    const stack = stackOf(d.task);
    let i = stack.length - 1;
    while (i >= 0 && !(stack[i].name === name && stack[i].kind === kind)) i--;
    if (i < 0) return; // an exit without an entry (the trace started mid-call): nothing to close
    const closes: number[] = [];
    while (stack.length > i) {
      const s = stack.pop()!;
      closeSpan(s, d.ts, d.seq);
      closes.push(s.id);
    }
    d.span = closes[closes.length - 1];
    d.closes = closes;
  };

  for (const e of run.trace) {
    const cpu = e.cpu >= 0 && e.cpu < cpus ? e.cpu : 0;
    const task = e.task;
    if (pendingSpawns.length > 0) {
      const inOp = task >= 0 && !NOT_EXECUTING.has(e.type) && e.type !== "func_entry" && e.type !== "func_exit";
      if (inOp && e.step === pendingSpawns[0].step) {
        for (const sp of pendingSpawns) if (sp.task !== task) sp.parent = { task, cpu, ts: e.t };
        pendingSpawns = [];
      } else if (e.step !== pendingSpawns[0].step) pendingSpawns = [];
    }

    // A task that executes on a CPU the reconstruction thinks idle (it blocked and
    // resumed with no other task in between) switched back in.
    if (task >= 0 && !NOT_EXECUTING.has(e.type) && (started.has(task) || e.type === "op") && current[cpu] !== task) {
      doSwitch(cpu, e.t, e.step, task, "R", true);
    }

    if (e.type === "switch") {
      const next = task;
      const prevState = typeof e.args?.prevState === "string" ? e.args.prevState : "R";
      if (current[cpu] !== next) doSwitch(cpu, e.t, e.step, next, prevState, false, e);
      continue;
    }

    const base: Omit<DocEvent, "seq" | "onCpu"> = { step: e.step, ts: e.t, cpu, task, type: e.type };
    if (e.name !== undefined) base.name = e.name;
    if (e.args !== undefined) base.args = e.args;
    const d = push(base);

    switch (e.type) {
      case "op": {
        const pending = unlabeled.get(task);
        if (pending && e.name !== undefined) for (const u of pending) if (u.step === e.step) u.label = e.name;
        unlabeled.delete(task);
        continue;
      }
      case "spawn":
        if (e.step > 0) pendingSpawns.push(d);
        continue;
      case "block":
        if (current[cpu] === task && task >= 0) doSwitch(cpu, e.t, e.step, -1, "S", true);
        continue;
      case "exit":
        if (current[cpu] === task && task >= 0) doSwitch(cpu, e.t, e.step, -1, "X", true);
        continue;
      case "func_entry":
        if (task >= 0) openSpan(d, e.name ?? "?", "func");
        break;
      case "func_exit":
        if (task >= 0) endSpan(d, e.name ?? "?", "func");
        break;
      case "work_queue": {
        const name = e.name ?? "work";
        const toCpu = numArg(e.args?.cpu, cpu);
        const f: DocFlow = { id: flows.length, kind: "work", name, fromSeq: d.seq, fromTask: task, fromCpu: cpu, fromTs: e.t, toSeq: -1, toTask: -1, toCpu, toTs: e.t };
        flows.push(f);
        d.flow = f.id;
        let q = queuedWork.get(name);
        if (!q) queuedWork.set(name, (q = []));
        q.push(f);
        break;
      }
      case "work_start": {
        const name = e.name ?? "work";
        if (task >= 0) openSpan(d, name, "work");
        const f = queuedWork.get(name)?.shift();
        if (f) {
          f.toSeq = d.seq;
          f.toTask = task;
          f.toCpu = cpu;
          f.toTs = e.t;
          d.flow = f.id;
        }
        break;
      }
      case "work_end":
        if (task >= 0) endSpan(d, e.name ?? "work", "work");
        break;
      case "ipi": {
        const from = numArg(e.args?.from, cpu);
        const to = e.args?.to;
        const targets: number[] = [];
        if (to === "all") {
          for (let c = 0; c < cpus; c++) if (c !== from) targets.push(c);
        } else targets.push(numArg(to, cpu));
        d.ipiTargets = targets
          .filter((c) => c >= 0 && c < cpus)
          .map((c) => {
            const f: DocFlow = {
              id: flows.length,
              kind: "ipi",
              name: e.name ?? "ipi",
              fromSeq: d.seq,
              fromTask: task,
              fromCpu: cpu,
              fromTs: e.t,
              toSeq: d.seq,
              toTask: current[c],
              toCpu: c,
              toTs: e.t,
            };
            flows.push(f);
            return { cpu: c, task: current[c], flow: f.id };
          });
        break;
      }
      default:
        if (isPageRefType(e.type)) {
          const f = folioOf(e.name ?? `folio ${String(e.args?.pfn)}`, e.args?.pfn, d.seq);
          d.sample = pageRefSample(e.type, e.args ?? {}, f.index, lastSample.get(f.index));
          lastSample.set(f.index, d.sample);
        } else if (e.type === "mm_page_alloc" && e.name !== undefined) {
          const f = folioOf(e.name, e.args?.pfn, d.seq);
          d.sample = { folio: f.index, before: lastSample.get(f.index)?.refcount ?? 0, refcount: 1, pincount: 0, mapcount: 0 };
          lastSample.set(f.index, d.sample);
        } else if (e.type === "mm_page_free" && e.name !== undefined) {
          const f = folioOf(e.name, e.args?.pfn, d.seq);
          d.sample = { folio: f.index, before: lastSample.get(f.index)?.refcount ?? 0, refcount: 0, pincount: 0, mapcount: 0 };
          lastSample.set(f.index, d.sample);
        }
    }
    if (task >= 0 && !NOT_EXECUTING.has(e.type) && e.type !== "func_entry" && e.type !== "func_exit") {
      const pending = unlabeled.get(task);
      if (pending && pending[0].step === e.step) pending.push(d);
      else unlabeled.set(task, [d]);
    }
  }

  // Close what the run left open: spans of hung tasks, and the CPUs' last runs.
  for (const stack of stacks.values()) {
    for (const s of stack) {
      s.end = Math.max(s.start, endNs);
      s.unfinished = true;
    }
    stack.length = 0;
  }
  for (const r of openRun) if (r) r.end = Math.max(r.start, endNs);

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
  const m: TraceMeta = { scenario: meta.scenario, kernel: meta.kernel };
  if (meta.token !== undefined) m.token = meta.token;
  if (meta.failure !== undefined) m.failure = { kind: meta.failure.kind, message: meta.failure.message };
  return { meta: m, outcome, cpus, tasks, events, spans, runs, folios, flows, endNs };
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
