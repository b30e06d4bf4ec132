/**
 * The TUI's state: a plain store (subscribe / getSnapshot) that components read through
 * useSyncExternalStore (conventions §2.3). Actions call a Backend, which the real app
 * wires to the commands and tests replace.
 */

import type { ExploreProgress } from "@foliosim/explore";
import { KERNEL_OPTIONS, METRIC_NAMES, NEWEST_PRESET, type KernelOptionName } from "@foliosim/scenarios";
import type { ListReport } from "../commands/list.js";
import type { FoundFailure } from "../explore-session.js";
import { outcomeLabel, type ResultsDocument, type ResultRow } from "../report.js";
import type { OpenedTrace } from "./replay-job.js";

export type Screen = "catalog" | "kernels" | "explore" | "compare" | "trace";
export type TraceFormat = "ftrace" | "perfetto" | "mermaid";

export interface ExploreHandle {
  stop(): void;
}

export interface Backend {
  list(): ListReport;
  explore(
    scenario: string,
    kernel: string,
    listener: { progress(p: ExploreProgress & { elapsedMs: number }): void; failure(f: FoundFailure): void },
  ): { handle: ExploreHandle; done: Promise<ResultsDocument>; budget: string; total: number };
  compare(scenarios: string[], kernels: string[], onCell: (row: ResultRow, done: number, total: number) => void): { handle: ExploreHandle; done: Promise<ResultsDocument>; budget: string };
  /**
   * Replay a token (shrinking it) off the UI thread; `scenario` (an id or file) says where
   * it came from when the catalog alone does not.
   */
  replay(token: string, scenario?: string): Promise<OpenedTrace>;
  /** Write a trace export of a (shrunk) token; resolves with the path. */
  exportTrace(job: ExportJob, format: TraceFormat): Promise<string>;
}

export interface ExportJob {
  token: string;
  scenario?: string;
  /** For the file name. */
  scenarioName: string;
  kernel: string;
}

export interface State {
  screen: Screen;
  list: ListReport;
  scenarioIndex: number;
  /** Kernel picker. */
  kernel: { presetIndex: number; overrides: Partial<Record<KernelOptionName, string>>; row: number };
  explore: {
    scenario: string;
    kernel: string;
    budget: string;
    total: number;
    progress: (ExploreProgress & { elapsedMs: number }) | null;
    /** Every distinct failure found so far, each with its replay token: kept when stopped. */
    failures: FoundFailure[];
    /** The failure Enter opens. */
    selected: number;
    result: ResultsDocument | null;
    stopped: boolean;
    error: string | null;
  } | null;
  compare: {
    scenarios: string[];
    kernels: string[];
    budget: string;
    rows: ResultRow[];
    total: number;
    done: boolean;
    stopped: boolean;
    cursor: { row: number; col: number };
    /** The cost metric shown per cell (one of METRIC_NAMES). */
    metric: string;
    error: string | null;
  } | null;
  trace: (OpenedTrace & { index: number; from: Screen }) | null;
  /** A counterexample being replayed and shrunk (a spinner shows it). */
  opening: { token: string; from: Screen } | null;
  message: string | null;
}

type Listener = () => void;

export class AppStore {
  private state: State;
  private readonly listeners = new Set<Listener>();
  private running: ExploreHandle | null = null;

  constructor(readonly backend: Backend) {
    this.state = {
      screen: "catalog",
      list: backend.list(),
      scenarioIndex: 0,
      kernel: { presetIndex: 0, overrides: {}, row: 0 },
      explore: null,
      compare: null,
      trace: null,
      opening: null,
      message: null,
    };
    const newest = this.state.list.kernels.findIndex((k) => k.id === NEWEST_PRESET);
    this.state.kernel.presetIndex = newest >= 0 ? newest : 0;
  }

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): State => this.state;

  private set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  // ------------------------------------------------------------------ catalog

  get scenarioId(): string | undefined {
    return this.state.list.scenarios[this.state.scenarioIndex]?.id;
  }

  moveScenario(delta: number): void {
    const n = this.state.list.scenarios.length;
    if (n === 0) return;
    this.set({ scenarioIndex: (this.state.scenarioIndex + delta + n) % n });
  }

  go(screen: Screen): void {
    this.set({ screen, message: null });
  }

  // ------------------------------------------------------------------ kernel picker

  /** The kernel spec as the CLI writes it: preset[+option=value,…]. */
  kernelSpec(): string {
    const k = this.state.kernel;
    const preset = this.state.list.kernels[k.presetIndex]?.id ?? NEWEST_PRESET;
    const overrides = Object.entries(k.overrides).map(([n, v]) => `${n}=${v}`);
    return overrides.length ? `${preset}+${overrides.join(",")}` : preset;
  }

  /** Rows of the picker: the presets, then one row per variant option. */
  pickerRows(): number {
    return this.state.list.kernels.length + Object.keys(KERNEL_OPTIONS).length;
  }

  movePicker(delta: number): void {
    const n = this.pickerRows();
    const k = this.state.kernel;
    this.set({ kernel: { ...k, row: (k.row + delta + n) % n } });
  }

  /** Enter on a preset row chooses it (and clears overrides); left/right on an option row cycles its value. */
  pickPreset(): void {
    const k = this.state.kernel;
    if (k.row < this.state.list.kernels.length) this.set({ kernel: { ...k, presetIndex: k.row, overrides: {} }, message: `kernel: ${this.state.list.kernels[k.row].id}` });
  }

  cycleOption(delta: number): void {
    const k = this.state.kernel;
    const optionIndex = k.row - this.state.list.kernels.length;
    if (optionIndex < 0) return;
    const name = Object.keys(KERNEL_OPTIONS)[optionIndex] as KernelOptionName;
    const values = KERNEL_OPTIONS[name] as readonly string[];
    const preset = this.state.list.kernels[k.presetIndex];
    const base = this.presetValue(name, preset?.id);
    const currentValue = k.overrides[name] ?? base;
    const next = values[(values.indexOf(currentValue) + delta + values.length) % values.length];
    const overrides = { ...k.overrides };
    if (next === base) delete overrides[name];
    else overrides[name] = next;
    this.set({ kernel: { ...k, overrides } });
  }

  /** An option's value in a preset (following its base chain). */
  presetValue(name: KernelOptionName, presetId: string | undefined): string {
    const kernels = this.state.list.kernels;
    const chain: typeof kernels = [];
    for (let p = kernels.find((x) => x.id === presetId); p; p = kernels.find((x) => x.id === p!.base)) chain.unshift(p);
    let value: string = KERNEL_OPTIONS[name][0];
    const defaults: Record<string, string> = { "lru-batch-clears-lru": "off", "lru-drain-all-local-first": "off" };
    if (name in defaults) value = defaults[name];
    for (const p of chain) if (p.variants[name] !== undefined) value = p.variants[name];
    return value;
  }

  // ------------------------------------------------------------------ explore

  startExplore(): void {
    const scenario = this.scenarioId;
    if (!scenario) return;
    this.stopRunning();
    const kernel = this.kernelSpec();
    try {
      const { handle, done, budget, total } = this.backend.explore(scenario, kernel, {
        progress: (p) => this.state.explore && this.set({ explore: { ...this.state.explore, progress: p } }),
        failure: (f) => this.state.explore && this.set({ explore: { ...this.state.explore, failures: [...this.state.explore.failures, f] } }),
      });
      this.running = handle;
      this.set({ screen: "explore", explore: { scenario, kernel, budget, total, progress: null, failures: [], selected: 0, result: null, stopped: false, error: null } });
      done.then(
        (result) => {
          this.running = null;
          if (this.state.explore) this.set({ explore: { ...this.state.explore, result } });
        },
        (error: Error) => {
          this.running = null;
          if (this.state.explore) this.set({ explore: { ...this.state.explore, stopped: error.name === "StoppedError", error: error.name === "StoppedError" ? null : error.message } });
        },
      );
    } catch (error) {
      this.set({ message: (error as Error).message });
    }
  }

  markExploreStopped(): void {
    const e = this.state.explore;
    if (e && !e.result) this.set({ explore: { ...e, stopped: true } });
  }

  stopRunning(): void {
    this.running?.stop();
    this.running = null;
  }

  isRunning(): boolean {
    return this.running !== null;
  }

  // ------------------------------------------------------------------ compare

  startCompare(all: boolean): void {
    const scenarios = all ? this.state.list.scenarios.filter((s) => s.headline).map((s) => s.id) : this.scenarioId ? [this.scenarioId] : [];
    const kernels = this.state.list.kernels.filter((k) => k.headline).map((k) => k.id);
    const spec = this.kernelSpec();
    if (!kernels.includes(spec)) kernels.push(spec);
    this.stopRunning();
    const { handle, done, budget } = this.backend.compare(scenarios, kernels, (row, count, total) => {
      if (this.state.compare) this.set({ compare: { ...this.state.compare, rows: [...this.state.compare.rows, row], total } });
      void count;
    });
    this.running = handle;
    this.set({ screen: "compare", compare: { scenarios, kernels, budget, rows: [], total: scenarios.length * kernels.length, done: false, stopped: false, cursor: { row: 0, col: 0 }, metric: "virtual_ns", error: null } });
    done.then(
      () => {
        this.running = null;
        if (this.state.compare) this.set({ compare: { ...this.state.compare, done: true } });
      },
      (error: Error) => {
        this.running = null;
        if (this.state.compare) this.set({ compare: { ...this.state.compare, stopped: true, error: error.name === "StoppedError" ? null : error.message } });
      },
    );
  }

  moveCursor(dRow: number, dCol: number): void {
    const c = this.state.compare;
    if (!c) return;
    const row = Math.max(0, Math.min(c.scenarios.length - 1, c.cursor.row + dRow));
    const col = Math.max(0, Math.min(c.kernels.length - 1, c.cursor.col + dCol));
    this.set({ compare: { ...c, cursor: { row, col } } });
  }

  /** Show the next cost metric in the compare view. */
  cycleMetric(): void {
    const c = this.state.compare;
    if (!c) return;
    const names = METRIC_NAMES as readonly string[];
    this.set({ compare: { ...c, metric: names[(names.indexOf(c.metric) + 1) % names.length] } });
  }

  cellAt(row: number, col: number): ResultRow | undefined {
    const c = this.state.compare;
    if (!c) return undefined;
    return c.rows.find((r) => r.scenario === c.scenarios[row] && r.kernel === c.kernels[col]);
  }

  /** Enter on a compare cell, or on an explore failure: replay it off the UI thread, then open the stepper. */
  openCounterexample(token: string | null | undefined, from: Screen, scenario: string | undefined, none: string): void {
    if (!token) {
      this.set({ message: none });
      return;
    }
    if (this.state.opening) return;
    this.set({ opening: { token, from }, message: null });
    this.backend.replay(token, scenario).then(
      (opened) => {
        if (this.state.opening?.token !== token) return; // abandoned (esc)
        this.set({ screen: "trace", trace: { ...opened, index: 0, from }, opening: null, message: null });
      },
      (error: Error) => {
        if (this.state.opening?.token === token) this.set({ opening: null, message: `cannot open the counterexample: ${error.message}` });
      },
    );
  }

  /** Forget a counterexample being opened (its worker finishes on its own). */
  cancelOpening(): void {
    if (this.state.opening) this.set({ opening: null, message: "opening cancelled" });
  }

  openSelectedCell(): void {
    const c = this.state.compare;
    if (!c) return;
    const row = this.cellAt(c.cursor.row, c.cursor.col);
    if (!row) return this.set({ message: "this cell has not finished yet" });
    const none = row.outcome === "holds" ? "no counterexample here: the promise held" : `no counterexample in this cell (${outcomeLabel(row.outcome)})`;
    this.openCounterexample(row.failures[0]?.shrunk ?? row.failures[0]?.schedule, "compare", row.scenario.replace(/\[.*$/, ""), none);
  }

  moveExploreSelection(delta: number): void {
    const e = this.state.explore;
    if (!e || e.failures.length === 0) return;
    const n = e.failures.length;
    this.set({ explore: { ...e, selected: (e.selected + delta + n) % n } });
  }

  /**
   * Enter on the explore screen: the selected failure, shrunk when the exploration
   * finished with it, else the token of the execution that found it (a stopped
   * exploration keeps every failure found so far).
   */
  openExploreFailure(): void {
    const e = this.state.explore;
    if (!e) return;
    const found = e.failures[e.selected];
    const row = e.result?.results[0];
    const reported = found ? row?.failures.find((f) => f.kind === found.kind && f.message === found.message) : row?.failures[0];
    const token = reported?.shrunk ?? reported?.schedule ?? found?.schedule;
    const running = !e.result && !e.stopped && !e.error;
    const none = row?.outcome === "holds" ? "no counterexample here: the promise held" : running ? "no counterexample found yet" : "no counterexample was found";
    this.openCounterexample(token, "explore", e.scenario, none);
  }

  // ------------------------------------------------------------------ trace stepper

  stepTrace(delta: number): void {
    const t = this.state.trace;
    if (!t) return;
    const index = Math.max(0, Math.min(t.frames.length - 1, t.index + delta));
    this.set({ trace: { ...t, index } });
  }

  /** Jump to the first frame of the repeating loop (a livelock's retry cycle). */
  jumpToLoop(): void {
    const t = this.state.trace;
    if (!t) return;
    if (!t.loop || t.loop.start < 0) return this.set({ message: "no repeating loop in this trace" });
    this.set({ trace: { ...t, index: t.loop.start }, message: `loop start: a ${t.loop.period}-step cycle repeated × ${t.loop.repeats.toLocaleString("en-US")}` });
  }

  exportTrace(format: TraceFormat): void {
    const t = this.state.trace;
    if (!t) return;
    const job: ExportJob = { token: t.report.schedule, scenarioName: t.report.scenario, kernel: t.report.kernel };
    if (t.scenario !== undefined) job.scenario = t.scenario;
    this.set({ message: `exporting ${format} …` });
    this.backend.exportTrace(job, format).then(
      (path) => this.set({ message: `exported ${format} trace to ${path}` }),
      (error: Error) => this.set({ message: `export failed: ${error.message}` }),
    );
  }
}
