/**
 * The trace stepper's model: one frame per simulated step of a (shrunk) run, built from
 * the typed trace document. Pure.
 *
 * Per frame: which task runs on each CPU after the step, what the step did (its events
 * as short lines), and a folio panel — refcount, pincount, mapcount (from the page_ref
 * samples), flags (from the page_ref and mm_lru_insertion payloads) and which batch or
 * list holds the folio (from lru_add/activate batch adds, mlock batch events, LRU
 * insertions, isolation and release).
 */

import type { DocEvent, TraceDocument } from "../render/trace-model.js";

export interface FolioState {
  name: string;
  refcount: number;
  pincount: number;
  mapcount: number;
  flags: string;
  /** Which batches or lists hold it ("cpu7 lru_add", "cpu7 mlock_fbatch", "unevictable", "isolated"). */
  where: string[];
}

export interface Frame {
  /** Index in the frame list. */
  index: number;
  /** The machine's step number. */
  step: number;
  /** Task running on each CPU after the step ("—" for idle). */
  cpus: string[];
  /** CPU and task of the step's own operation. */
  cpu: number;
  task: string;
  /** The step's events, one short line each. */
  lines: string[];
  folios: FolioState[];
  /** Tasks not running after the step: "A sleeps in flush_work(…)", "kworker/1:1 runnable, waiting for CPU1", "b exited". */
  waiting: string[];
  /** Locks held after the step: "lruvec->lru_lock held by kworker/1:1". */
  locks: string[];
}

/** A repeating tail of the schedule (a livelock's retry loop). */
export interface Loop {
  /** First frame of the repetition. */
  start: number;
  /** Frames per cycle. */
  period: number;
  /** Whole cycles from `start` to the end. */
  repeats: number;
}

const QUIET = new Set(["op", "switch"]);

/** Modelled functions whose reference (a folio_get inside them) is a per-CPU batch slot. */
const BATCH_OF: Record<string, string> = {
  folio_add_lru: "lru_add",
  folio_add_lru_vma: "lru_add",
  folio_activate: "lru_activate",
  folio_deactivate: "lru_deactivate",
  deactivate_file_folio: "lru_deactivate_file",
  mlock_folio: "mlock_fbatch",
  mlock_new_folio: "mlock_fbatch",
  munlock_folio: "mlock_fbatch",
};
/** Functions that empty batches: the references they drop were batch slots. */
const DRAINS: Record<string, RegExp> = {
  folio_batch_move_lru: / (lru_add|lru_activate|lru_deactivate|lru_deactivate_file)$/,
  mlock_folio_batch: / mlock_fbatch$/,
};
/** At most this many folios in the panel: those the explored tasks touch first. */
export const FOLIO_PANEL_MAX = 6;

function describeEvent(doc: TraceDocument, e: DocEvent): string {
  const a = e.args ?? {};
  if (e.sample) {
    const s = e.sample;
    return `${e.label ?? e.type} ${doc.folios[s.folio]?.name ?? ""}: ref ${s.before}→${s.refcount}`;
  }
  switch (e.type) {
    case "func_entry":
      return `→ ${e.name}`;
    case "func_exit":
      return `← ${e.name}`;
    case "block":
      return `blocks: ${e.name ?? ""}`;
    case "wake":
      return `wakes ${doc.tasks[e.task]?.name ?? e.task}`;
    case "work_queue":
      return `queue_work ${e.name ?? ""} on cpu${String(a.cpu ?? e.cpu)}`;
    case "work_start":
      return `work runs: ${e.name ?? ""}`;
    case "exit":
      return "exits";
    default: {
      const args = Object.entries(a)
        .filter(([k]) => k !== "pfn")
        .slice(0, 3)
        .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
        .join(" ");
      return `${e.type}${e.name ? ` ${e.name}` : ""}${args ? ` ${args}` : ""}`;
    }
  }
}

/** Tasks of a scenario's sequential set-up (the runner names them setup0, setup1, …). */
const SETUP_TASK = /^setup\d+$/;

/**
 * Frames of the explored schedule. The set-up runs before it (outside the schedule): its
 * events only build the starting state, shown as frame 0 ("after set-up").
 */
export function buildFrames(doc: TraceDocument): Frame[] {
  const taskName = (t: number): string => (t >= 0 ? (doc.tasks[t]?.name ?? String(t)) : "—");
  const running: number[] = new Array(doc.cpus).fill(-1);
  const panel = new FolioPanel(doc);
  const sched = new SchedState(doc);
  const frames: Frame[] = [];
  let current: Frame | undefined;
  const close = (): void => {
    if (!current) return;
    current.cpus = running.map(taskName);
    current.folios = panel.snapshot();
    current.waiting = sched.waiting(running);
    current.locks = sched.heldLocks();
    frames.push(current);
  };
  const setupTask = (t: number): boolean => t >= 0 && SETUP_TASK.test(doc.tasks[t]?.name ?? "");
  let inSetup = doc.events.some((e) => setupTask(e.task));
  if (inSetup) current = { index: 0, step: 0, cpus: [], cpu: 0, task: "set-up", lines: ["after the set-up (sequential, not part of the explored schedule)"], folios: [], waiting: [], locks: [] };
  for (const e of doc.events) {
    if (e.task < 0 && e.type !== "switch") continue; // outside any task
    if (inSetup && e.task >= 0 && !setupTask(e.task) && e.type !== "switch" && e.type !== "spawn") inSetup = false;
    if (!inSetup && (!current || current.step !== e.step)) {
      close();
      current = { index: frames.length, step: e.step, cpus: [], cpu: e.cpu, task: taskName(e.task), lines: [], folios: [], waiting: [], locks: [] };
    }
    if (e.type === "switch" && e.switch) running[e.cpu] = e.switch.next;
    if (inSetup || !current) {
      // set-up: only the state below
    } else if (e.type === "op") {
      current.cpu = e.cpu;
      current.task = taskName(e.task);
      current.lines.unshift(`${e.name ?? "op"}`);
    } else if (!QUIET.has(e.type)) current.lines.push(describeEvent(doc, e));
    sched.see(e);
    panel.see(e, inSetup);
  }
  close();
  return frames;
}

/**
 * The folio panel: each folio's counters and flags, and which batch or list holds it
 * (from the modelled functions open on the task that changed its count).
 */
class FolioPanel {
  private readonly folios = new Map<string, FolioState>();
  /** The folios the explored tasks touched, first touched first. */
  private readonly touched: string[] = [];
  private readonly stacks = new Map<number, string[]>();

  constructor(private readonly doc: TraceDocument) {}

  /** The touched folios, else the first ones the set-up made. */
  snapshot(): FolioState[] {
    const names = this.touched.length > 0 ? this.touched : [...this.folios.keys()];
    return names.slice(0, FOLIO_PANEL_MAX).map((n) => this.folios.get(n)!).map((f) => ({ ...f, where: [...f.where] }));
  }

  private folio(name: string): FolioState {
    let f = this.folios.get(name);
    if (!f) this.folios.set(name, (f = { name, refcount: 0, pincount: 0, mapcount: 0, flags: "", where: [] }));
    return f;
  }

  private stackOf(t: number): string[] {
    let st = this.stacks.get(t);
    if (!st) this.stacks.set(t, (st = []));
    return st;
  }

  see(e: DocEvent, inSetup: boolean): void {
    if (e.task >= 0 && e.type === "func_entry" && e.name) this.stackOf(e.task).push(e.name);
    if (e.task >= 0 && e.type === "func_exit" && e.name) {
      const st = this.stackOf(e.task);
      const i = st.lastIndexOf(e.name);
      if (i >= 0) st.length = i;
    }
    if (e.sample) this.sample(e, inSetup);
    if (e.name && this.folios.has(e.name)) this.list(this.folio(e.name), e);
  }

  /** A count change: counters, and a batch slot taken (inside an adder) or given back (inside a drain). */
  private sample(e: DocEvent, inSetup: boolean): void {
    const s = e.sample!;
    const name = this.doc.folios[s.folio]?.name;
    if (!name) return;
    const a = e.args ?? {};
    const f = this.folio(name);
    f.refcount = s.refcount;
    f.pincount = s.pincount;
    f.mapcount = s.mapcount;
    if (typeof a.flags === "string") f.flags = a.flags;
    if (!inSetup && !this.touched.includes(name)) this.touched.push(name);
    const inner = [...(e.task >= 0 ? this.stackOf(e.task) : [])].reverse();
    const delta = s.refcount - s.before;
    const adder = inner.find((fn) => fn in BATCH_OF);
    const drain = inner.find((fn) => fn in DRAINS);
    if (delta > 0 && adder && !drain) f.where = [...f.where, `cpu${e.cpu} ${BATCH_OF[adder]}`];
    else if (delta < 0 && drain) {
      const own = f.where.findIndex((w) => w.startsWith(`cpu${e.cpu} `) && DRAINS[drain].test(w));
      const i = own >= 0 ? own : f.where.findIndex((w) => DRAINS[drain].test(w));
      if (i >= 0) f.where = f.where.filter((_, j) => j !== i);
    }
    if (e.type === "mm_page_free") f.where = ["freed"];
    if (e.type === "mm_page_alloc") f.where = [];
  }

  /** LRU list moves: insertion, mlock batch, isolation, release. */
  private list(f: FolioState, e: DocEvent): void {
    const a = e.args ?? {};
    switch (e.type) {
      case "mm_lru_insertion":
        f.where = [...f.where.filter((w) => !isList(w)), String(a.lru ?? "lru")];
        if (typeof a.flags === "string") f.flags = a.flags;
        break;
      case "mlock_folio_batch":
        f.where = f.where.filter((w) => !isList(w));
        if (a.lru) f.where.push(String(a.lru));
        break;
      case "folio_isolate_lru":
        f.where = [...f.where.filter((w) => !isList(w)), "isolated"];
        break;
      case "lru_release":
        f.where = f.where.filter((w) => !isList(w));
        break;
    }
  }
}

function isList(w: string): boolean {
  return /^(inactive_anon|active_anon|inactive_file|active_file|unevictable|isolated|lru)$/.test(w);
}

/** A lock operation's label: `spin_lock(x)`, `mutex_trylock(x)`, `folio_unlock(folio 0x…)`, `local_lock(x)`. */
const LOCK_LABEL = /^(?:[a-z]+_)?(try)?(un)?lock\((.*)\)$/;

/**
 * Who sleeps in what, and who holds which lock, from the block/wake/exit events and the
 * lock operations' labels. A trylock on a free lock takes it (the model's trylock fails
 * only on a held lock), so the owners follow from the labels alone.
 */
class SchedState {
  private readonly sleeping = new Map<number, string>();
  private readonly exited = new Set<number>();
  private readonly spawned = new Set<number>();
  private readonly owners = new Map<string, number>();

  constructor(private readonly doc: TraceDocument) {}

  see(e: DocEvent): void {
    if (e.task < 0) return;
    if (e.type === "spawn") this.spawned.add(e.task);
    else if (e.type === "block") this.sleeping.set(e.task, e.name ?? "?");
    else if (e.type === "wake") this.sleeping.delete(e.task);
    else if (e.type === "exit") {
      this.sleeping.delete(e.task);
      this.exited.add(e.task);
    } else if (e.type === "op" && e.name) this.lockOp(e.task, e.name);
  }

  private lockOp(task: number, label: string): void {
    const m = LOCK_LABEL.exec(label);
    if (!m) return;
    const [, trylock, unlock, name] = m;
    if (unlock) this.owners.delete(name);
    else if (!trylock || !this.owners.has(name)) this.owners.set(name, task);
  }

  private name(task: number): string {
    return this.doc.tasks[task]?.name ?? String(task);
  }

  waiting(running: number[]): string[] {
    const out: string[] = [];
    for (const t of this.doc.tasks) {
      if (running.includes(t.id) || SETUP_TASK.test(t.name)) continue;
      const sleep = this.sleeping.get(t.id);
      if (sleep !== undefined) out.push(`${t.name} sleeps in ${sleep}`);
      else if (this.exited.has(t.id)) out.push(`${t.name} exited`);
      else if (this.spawned.has(t.id)) out.push(`${t.name} runnable, waiting for CPU${t.cpu}`);
    }
    return out;
  }

  heldLocks(): string[] {
    return [...this.owners].map(([lock, task]) => `${lock} held by ${this.name(task)}`);
  }
}

/** What a frame did, for loop detection: who ran which operation. */
function signature(f: Frame): string {
  return `${f.task}\u0000${f.lines[0] ?? ""}`;
}

/**
 * The repeating tail of a run (a livelock's retry loop), if the last frames repeat a cycle
 * of at most `maxPeriod` frames at least three times: its first frame, period and count.
 */
export function findLoop(frames: readonly Frame[], maxPeriod = 512): Loop | null {
  const sig = frames.map(signature);
  const n = sig.length;
  for (let p = 1; p <= Math.min(maxPeriod, Math.floor(n / 3)); p++) {
    let ok = true;
    for (let i = n - 2 * p; i < n - p && ok; i++) ok = sig[i] === sig[i + p];
    if (!ok) continue;
    let start = n - 2 * p;
    while (start > 0 && sig[start - 1] === sig[start - 1 + p]) start--;
    const repeats = Math.floor((n - start) / p);
    if (repeats >= 3) return { start, period: p, repeats };
  }
  return null;
}
