/**
 * Mermaid sequence diagram of a (shrunk) counterexample, for PR bodies, issues and
 * docs (conventions §3.3).
 *
 * - `sequenceDiagram`, `autonumber`, then participants: tasks in CPU order
 *   (`participant T0 as CPU0 · gup_test`), then one per folio that appears
 *   (`participant F1 as folio 0x9f83a8`).
 * - Messages, chosen for a reader: modelled-function entries (`T0->>T0: pin_user_pages`),
 *   every refcount change (`T0->>F1: folio_try_get (ref 2→3)`), allocation and free,
 *   work queued / run / done, IPIs, lock operations, retry operations (cpu_relax,
 *   cond_resched, msleep, flush_work), sleeps, preemptions, RCU grace periods and
 *   static-key flips. Runs of identical messages collapse to one with `× N`; a block of
 *   messages repeated back to back (a retry loop) becomes one `loop × 28,597` block.
 * - For a run that did not finish (livelock, step cap) a note names every task still
 *   there: who sleeps in what, who retries which loop, who waits for a CPU it never gets.
 * - A Note for a model error, and a closing Note with the failure or hang.
 * - `rect rgb(255,230,230)` around the racing window: from the outermost function
 *   call in which a second task first touches the folio of the failure (or the folio
 *   most tasks touch) to the end. Only for runs that failed or hung.
 * - At most `maxMessages` (100) messages: the first fifth and the end are kept, an
 *   elision Note replaces the middle and `autonumber N` keeps the numbering. The text
 *   stays under Mermaid's 50,000-character `maxTextSize` (the cap halves until it fits).
 * - Escaping: `#` → `#35;` (a bare `#` starts a comment), `;` → `#59;` (a statement
 *   separator), `<`/`>` → `#60;`/`#62;`, `%` → `#37;` (`%%` is a comment), and the word
 *   `end` never appears bare in text (`#101;nd`). Mermaid swaps `#…;` codes out before
 *   it lexes, so they survive in messages, notes and participant aliases alike.
 */

import type { DocEvent, TraceDocument } from "./trace-model.js";

export interface MermaidOptions {
  /** Hard cap on diagram lines between the participants and the closing notes. Default 100. */
  maxMessages?: number;
  /** Size limit of the whole diagram. Default 49,000 (Mermaid refuses more than 50,000). */
  maxChars?: number;
}

/** Mermaid's default `maxTextSize`. */
export const MERMAID_MAX_TEXT = 50_000;

const MAX_TEXT = 160;
const LOCK_OP = /(?:^|[^a-z])(?:spin_|mutex_|local_|bit_|folio_)?(?:try)?(?:un)?lock(?:_|\(|$)/i;

interface Item {
  /** A message (numbered by autonumber), a note, or a `loop` block of repeated items. */
  kind: "msg" | "note" | "loop";
  from: string;
  to: string;
  arrow: "->>" | "-->>";
  text: string;
  seq: number;
  times: number;
  /** A modelled-function entry (merged into a folio message of the same name that follows). */
  func?: boolean;
  /** kind "loop": the repeated block (`times` is the number of repetitions). */
  body?: Item[];
}

/** Operations a retry loop is made of (beside lock operations). */
const RETRY_OP = /^(?:flush_work|cpu_relax|cond_resched|msleep|schedule|yield)\b/;

/** Longest block of messages a repetition is looked for in. */
const MAX_CYCLE = 24;

export function writeMermaid(doc: TraceDocument, options: MermaidOptions = {}): string {
  const maxChars = Math.min(options.maxChars ?? MERMAID_MAX_TEXT - 1000, MERMAID_MAX_TEXT - 1);
  const items = collapseCycles(collect(doc));
  const window = racingWindow(doc, items);
  let cap = Math.max(4, options.maxMessages ?? 100);
  for (;;) {
    const text = render(doc, items, window, cap);
    if (text.length <= maxChars) return text;
    if (cap <= 4) return render(doc, [], -1, 4); // only the participants and the outcome
    cap = Math.floor(cap / 2);
  }
}

function participantOfTask(task: number): string {
  return `T${task}`;
}

function collect(doc: TraceDocument): Item[] {
  const items: Item[] = [];
  const add = (kind: Item["kind"], from: string, to: string, text: string, seq: number, arrow: Item["arrow"] = "->>"): void => {
    const t = clip(text);
    const last = items[items.length - 1];
    if (last && last.kind === kind && last.from === from && last.to === to && last.arrow === arrow && last.text === t) {
      last.times++;
      return;
    }
    items.push({ kind, from, to, arrow, text: t, seq, times: 1 });
  };
  const kworkerOn = (cpu: number): number => doc.tasks.find((t) => t.kworker && t.cpu === cpu)?.id ?? -1;

  for (const e of doc.events) {
    if (e.task < 0) continue; // set-up outside the schedule
    const me = participantOfTask(e.task);
    switch (e.type) {
      case "func_entry":
        if (e.span !== undefined) {
          add("msg", me, me, e.name ?? "?", e.seq);
          items[items.length - 1].func = items[items.length - 1].times === 1;
        }
        break;
      case "work_queue": {
        const f = e.flow !== undefined ? doc.flows[e.flow] : undefined;
        const k = f && f.toTask >= 0 ? f.toTask : kworkerOn(typeof e.args?.cpu === "number" ? e.args.cpu : -1);
        add("msg", me, k >= 0 ? participantOfTask(k) : me, e.label ?? `queue_work_on(${String(e.args?.cpu)}, ${e.name ?? ""})`, e.seq);
        break;
      }
      case "work_start":
        add("msg", me, me, `${e.name ?? "work"} runs`, e.seq);
        break;
      case "work_end":
        add("msg", me, me, `${e.name ?? "work"} done`, e.seq, "-->>");
        break;
      case "ipi": {
        const targets = e.ipiTargets ?? [];
        if (targets.length > 3) {
          add("note", me, me, `IPI ${e.name ?? ""} to ${targets.length} CPUs`, e.seq);
          break;
        }
        for (const t of targets) {
          const to = t.task >= 0 ? participantOfTask(t.task) : me;
          add("msg", me, to, `IPI ${e.name ?? ""} → CPU${t.cpu}${t.task < 0 ? " (idle)" : ""}`, e.seq);
        }
        break;
      }
      case "block":
        add("msg", me, me, `sleeps in ${e.name ?? "?"}`, e.seq, "-->>");
        break;
      case "switch": {
        const s = e.switch!;
        if (!e.synthetic && s.prev >= 0 && s.next >= 0 && s.prevState === "R") {
          add("msg", participantOfTask(s.prev), participantOfTask(s.next), `preempted: CPU${e.cpu} → ${doc.tasks[s.next]?.name ?? s.next}`, e.seq, "-->>");
        }
        break;
      }
      case "op":
        if (e.name !== undefined && (LOCK_OP.test(e.name) || RETRY_OP.test(e.name))) add("msg", me, me, e.name, e.seq);
        break;
      case "rcu_gp_start":
      case "rcu_gp_end":
        add("msg", me, me, `RCU grace period (${e.name ?? "normal"}) ${e.type === "rcu_gp_start" ? "starts" : "completes"}`, e.seq, "-->>");
        break;
      case "static_key":
        add("msg", me, me, `static key ${e.name ?? ""} ${e.args?.enabled ? "enabled" : "disabled"}`, e.seq);
        break;
      case "model_error":
        add("note", me, me, `✗ ${e.name ?? "model error"}: ${String(e.args?.detail ?? "")}`, e.seq);
        break;
      default:
        if (e.sample) {
          const f = `F${e.sample.folio + 1}`;
          // `try_grab_folio` then `try_grab_folio (ref 1→1025)`: one message says both.
          const last = items[items.length - 1];
          if (last?.func && last.from === me && e.label === last.text) items.pop();
          add("msg", me, f, folioText(e), e.seq, e.type === "mm_page_free" ? "-->>" : "->>");
        }
    }
  }
  return items;
}

function folioText(e: DocEvent): string {
  const s = e.sample!;
  const a = e.args ?? {};
  const label = e.label && e.label !== e.type ? e.label : e.type;
  const ret = typeof a.ret === "number" ? a.ret : undefined;
  switch (e.type) {
    case "mm_page_alloc":
      return `${label === e.type ? "folio_alloc" : label} (ref 0→1)`;
    case "mm_page_free":
      return "freed to the page allocator";
    case "page_ref_mod_unless":
      return ret === 0 ? `${label} fails (ref ${s.refcount})` : `${label} (ref ${s.before}→${s.refcount})`;
    case "page_ref_freeze":
      return ret === 1 ? `${label} (ref ${s.before}→0, frozen)` : `${label} fails (ref ${s.refcount}, expected ${String(a.val)})`;
    case "page_ref_mod_and_test":
      return `${label} (ref ${s.before}→${s.refcount}${ret === 1 ? ", last reference" : ""})`;
    default:
      return `${label} (ref ${s.before}→${s.refcount})`;
  }
}

/**
 * Index of the first item of the racing window, or -1: the outermost call during which
 * a second task first touched the folio that matters.
 */
function racingWindow(doc: TraceDocument, items: Item[]): number {
  if (!doc.outcome.failure && !doc.outcome.hang) return -1;
  const touchers = new Map<number, number[]>(); // folio → tasks in order of first touch
  const firstTouch = new Map<string, DocEvent>(); // "folio:task" → event
  for (const e of doc.events) {
    if (!e.sample || e.task < 0) continue;
    const l = touchers.get(e.sample.folio) ?? [];
    if (!l.includes(e.task)) {
      l.push(e.task);
      firstTouch.set(`${e.sample.folio}:${e.task}`, e);
    }
    touchers.set(e.sample.folio, l);
  }
  let folio = -1;
  const object = doc.outcome.failure?.object;
  if (object !== undefined) folio = doc.folios.find((f) => f.name === object || object.includes(f.pfn))?.index ?? -1;
  if (folio < 0 || (touchers.get(folio)?.length ?? 0) < 2) {
    let best = 1;
    for (const [f, l] of touchers) if (l.length > best) [folio, best] = [f, l.length];
  }
  const l = touchers.get(folio);
  if (!l || l.length < 2) return -1;
  const touch = firstTouch.get(`${folio}:${l[1]}`)!;
  // The outermost modelled function open on that task at the touch.
  let from = touch.seq;
  for (const s of doc.spans) {
    if (s.task === touch.task && s.depth === 0 && s.beginSeq <= touch.seq && (s.endSeq < 0 || s.endSeq >= touch.seq)) from = Math.min(from, s.beginSeq);
  }
  const i = items.findIndex((it) => it.seq >= from);
  return i;
}

/** Messages an item puts on the diagram (autonumber counts them). */
function messages(it: Item): number {
  return it.kind === "msg" ? 1 : it.kind === "loop" ? (it.body ?? []).reduce((n, b) => n + messages(b), 0) : 0;
}

function render(doc: TraceDocument, all: Item[], window: number, cap: number): string {
  // Choose what to keep: everything, or the head and the tail around an elision.
  let kept: (Item | { elided: number; nextNumber: number })[] = all;
  let windowAt = window;
  if (all.length > cap) {
    const head = Math.max(1, Math.floor(cap / 5));
    const tailStart = all.length - (cap - head);
    const numberBefore = (n: number): number => all.slice(0, n).reduce((k, it) => k + messages(it), 0);
    kept = [...all.slice(0, head), { elided: tailStart - head, nextNumber: numberBefore(tailStart) + 1 }, ...all.slice(tailStart)];
    if (window >= 0) windowAt = window < head ? window : window < tailStart ? head : window - tailStart + head + 1;
  }
  const state = stateNotes(doc, all);
  const endNotes = [...state.notes, ...closingNotes(doc)];
  const { lines, span } = participants(doc, kept, state.mentions);
  let indent = "    ";
  kept.forEach((it, i) => {
    if (i === windowAt) {
      lines.push(`${indent}rect rgb(255,230,230)`);
      indent = "        ";
    }
    if (!("kind" in it)) {
      lines.push(`${indent}Note over ${span}: ${esc(`… ${it.elided} messages elided (the ftrace and Perfetto exports have them all) …`)}`);
      lines.push(`${indent}autonumber ${it.nextNumber}`);
      return;
    }
    lines.push(...itemLines(it, indent));
  });
  for (const n of endNotes) lines.push(`${indent}Note over ${span}: ${esc(n)}`);
  if (windowAt >= 0 && windowAt < kept.length) lines.push("    end");
  return lines.join("\n") + "\n";
}

/** The participant lines (tasks in CPU order, then folios, each only if used) and the span of a note over all. */
function participants(doc: TraceDocument, kept: readonly (Item | { elided: number })[], mentioned: ReadonlySet<number>): { lines: string[]; span: string } {
  const used = new Set<string>();
  const use = (it: Item): void => {
    used.add(it.from).add(it.to);
    for (const b of it.body ?? []) use(b);
  };
  for (const it of kept) if ("kind" in it) use(it);
  for (const t of mentioned) used.add(participantOfTask(t));
  const taskOrder = [...doc.tasks].sort((x, y) => x.cpu - y.cpu || x.id - y.id);
  let taskParts = taskOrder.filter((t) => used.has(participantOfTask(t.id)));
  if (taskParts.length === 0) taskParts = taskOrder.filter((t) => !t.daemon).slice(0, 1);
  const folioParts = doc.folios.filter((f) => used.has(`F${f.index + 1}`));
  const lines = ["sequenceDiagram", "    autonumber"];
  for (const t of taskParts) lines.push(`    participant ${participantOfTask(t.id)} as ${esc(`CPU${t.cpu} · ${t.name}`)}`);
  for (const f of folioParts) lines.push(`    participant F${f.index + 1} as ${esc(f.name)}`);
  if (taskParts.length === 0 && folioParts.length === 0) lines.push("    participant M as machine");
  const first = taskParts.length > 0 ? participantOfTask(taskParts[0].id) : folioParts.length > 0 ? `F${folioParts[0].index + 1}` : "M";
  const lastTask = taskParts.length > 0 ? participantOfTask(taskParts[taskParts.length - 1].id) : first;
  return { lines, span: first === lastTask ? first : `${first},${lastTask}` };
}

/** "× 28,597". */
function timesText(n: number): string {
  return `× ${n.toLocaleString("en-US")}`;
}

function itemLines(it: Item, indent: string): string[] {
  if (it.kind === "loop") {
    return [`${indent}loop ${timesText(it.times)}`, ...(it.body ?? []).flatMap((b) => itemLines(b, indent + "    ")), `${indent}end`];
  }
  const text = esc(it.times > 1 ? `${it.text} ${timesText(it.times)}` : it.text);
  return [it.kind === "note" ? `${indent}Note right of ${it.from}: ${text}` : `${indent}${it.from}${it.arrow}${it.to}: ${text}`];
}

function sameItem(a: Item, b: Item): boolean {
  return a.kind === b.kind && a.from === b.from && a.to === b.to && a.arrow === b.arrow && a.text === b.text && a.times === b.times;
}

/**
 * A block of 2..MAX_CYCLE items repeated back to back (a retry loop) becomes one `loop × N`
 * block; the longest repetition wins. Runs of one repeated message are already `×N`.
 */
export function collapseCycles(items: Item[]): Item[] {
  const out: Item[] = [];
  const same = (i: number, j: number, p: number): boolean => {
    for (let k = 0; k < p; k++) if (!sameItem(items[i + k], items[j + k])) return false;
    return true;
  };
  let i = 0;
  while (i < items.length) {
    let best = { p: 0, n: 1 };
    for (let p = 2; p <= MAX_CYCLE && i + 2 * p <= items.length; p++) {
      let n = 1;
      while (i + (n + 1) * p <= items.length && same(i, i + n * p, p)) n++;
      if (n >= 2 && n * p > best.n * best.p) best = { p, n };
    }
    if (best.p === 0) {
      out.push(items[i++]);
      continue;
    }
    const body = items.slice(i, i + best.p);
    out.push({ kind: "loop", from: body[0].from, to: body[0].to, arrow: "->>", text: "", seq: body[0].seq, times: best.n, body });
    i += best.p * best.n;
  }
  return out;
}

/**
 * For a run that did not finish (a livelock, a hang, the step cap) and broke no promise:
 * one note with every task still there — who sleeps in what, who retries which loop,
 * who waits for a CPU it never gets — so the diagram shows the whole cycle, not only
 * the spinning task. `mentions` are those tasks' ids (they become participants).
 */
function stateNotes(doc: TraceDocument, items: readonly Item[]): { notes: string[]; mentions: Set<number> } {
  const notes: string[] = [];
  const mentions = new Set<number>();
  if (doc.outcome.status === "done" || doc.outcome.failure || doc.outcome.hang?.kind === "deadlock") return { notes, mentions };
  // The last repetition: a loop block, or one message repeated (`×N`).
  const loop = [...items].reverse().find((it) => it.kind === "loop" || (it.kind === "msg" && it.times >= 3));
  const retries = new Map<string, string[]>();
  for (const b of loop?.body ?? (loop ? [loop] : [])) if (b.kind === "msg") retries.set(b.from, [...new Set([...(retries.get(b.from) ?? []), b.text])]);
  const parts: string[] = [];
  for (const [task, state] of finalStates(doc)) {
    const ops = retries.get(participantOfTask(task));
    const t = doc.tasks[task];
    parts.push(`${t.name} ${ops ? `retries ${ops.join(" → ")}${loop ? ` (${timesText(loop.times)})` : ""}` : state}`);
    mentions.add(task);
  }
  if (parts.length > 0) notes.push(clip(`⟳ when the run stopped: ${parts.join(" · ")}`, 600));
  return { notes, mentions };
}

/** What each task that did not exit was doing when the run ended. */
function finalStates(doc: TraceDocument): Map<number, string> {
  const state = new Map<number, string>();
  const ran = new Set<number>();
  const running = new Map<number, number>(); // cpu → task
  for (const e of doc.events) {
    if (e.task < 0 || /^setup\d+$/.test(doc.tasks[e.task]?.name ?? "")) continue;
    if (e.type === "spawn") state.set(e.task, `runnable on CPU${doc.tasks[e.task]?.cpu ?? "?"}, never ran`);
    else if (e.type === "block") state.set(e.task, `sleeps in ${e.name ?? "?"}`);
    else if (e.type === "exit") state.delete(e.task);
    else if (e.type === "switch" && e.switch) {
      if (e.switch.next >= 0) ran.add(e.switch.next);
      running.set(e.cpu, e.switch.next);
      const prev = e.switch.prev;
      if (prev >= 0 && e.switch.prevState === "R") state.set(prev, `runnable on CPU${e.cpu}, preempted at step ${e.step} and never ran again`);
    }
  }
  for (const [cpu, task] of running) if (task >= 0 && state.has(task)) state.set(task, `runs on CPU${cpu}`);
  return state;
}

function closingNotes(doc: TraceDocument): string[] {
  const o = doc.outcome;
  const notes: string[] = [];
  if (o.failure) notes.push(clip(`✗ ${o.failure.message}`, 600));
  if (o.hang) {
    const glyph = o.hang.kind === "deadlock" ? "⊘ deadlock" : "⟳ livelock";
    const who = o.hang.tasks.map((t) => `${t.task} (CPU${t.cpu}) ${t.state}: ${t.waitsFor}`);
    notes.push(clip(`${glyph}: ${who.join(" · ") || o.hang.message}`, 600));
  }
  if (notes.length === 0 && o.status !== "done") notes.push(`run ended: ${o.status}`);
  return notes;
}

function clip(s: string, max = MAX_TEXT): string {
  const one = s.replace(/[\r\n]+/g, " ");
  return one.length > max ? one.slice(0, max - 1) + "…" : one;
}

/** Text safe in a Mermaid message, note or alias. */
export function esc(s: string): string {
  return s.replace(/[\r\n]+/g, " ").replace(/#|;|<|>|%|\bend\b/gi, (m) => {
    switch (m) {
      case "%":
        return "#37;"; // `%%` starts a comment anywhere on a line
      case "#":
        return "#35;";
      case ";":
        return "#59;";
      case "<":
        return "#60;";
      case ">":
        return "#62;";
      default:
        return `#${m.charCodeAt(0)};${m.slice(1)}`;
    }
  });
}
