/**
 * The TUI's state: a plain store (subscribe / getSnapshot) that components read through
 * useSyncExternalStore (conventions §2.3). Actions call a Backend, which the real app
 * wires to the commands and tests replace.
 */

import type { ExploreProgress } from "@foliosim/explore";
import { KERNEL_OPTIONS, METRIC_NAMES, type KernelOptionName } from "@foliosim/scenarios";
import type { ListReport } from "../commands/list.js";
import type { RunReport } from "../commands/run.js";
import type { FoundFailure } from "../explore-session.js";
import type { TraceDocument } from "../render/trace-model.js";
import type { ResultsDocument, ResultRow } from "../report.js";
import { buildFrames, type Frame } from "./trace-frames.js";

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
  /** Replay a token; `scenario` (an id or file) says where it came from when the catalog alone does not. */
  replay(token: string, scenario?: string): { report: RunReport; trace: TraceDocument };
  exportTrace(trace: TraceDocument, format: TraceFormat): string;
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
    failures: FoundFailure[];
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
  trace: { report: RunReport; trace: TraceDocument; frames: Frame[]; index: number; from: Screen } | null;
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
      message: null,
    };
    const last = this.state.list.kernels.findIndex((k) => k.id === "linux-7.0");
    this.state.kernel.presetIndex = last >= 0 ? last : 0;
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
    const preset = this.state.list.kernels[k.presetIndex]?.id ?? "linux-7.0";
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
      this.set({ screen: "explore", explore: { scenario, kernel, budget, total, progress: null, failures: [], result: null, stopped: false, error: null } });
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
    const scenarios = all ? this.state.list.scenarios.map((s) => s.id) : this.scenarioId ? [this.scenarioId] : [];
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

  /** Enter on a compare cell, or on an explore failure: open the counterexample in the stepper. */
  openCounterexample(token: string | null | undefined, from: Screen, scenario?: string): void {
    if (!token) {
      this.set({ message: "no counterexample here: the promise held" });
      return;
    }
    try {
      const { report, trace } = this.backend.replay(token, scenario);
      const frames = buildFrames(trace);
      this.set({ screen: "trace", trace: { report, trace, frames, index: 0, from }, message: null });
    } catch (error) {
      this.set({ message: (error as Error).message });
    }
  }

  openSelectedCell(): void {
    const c = this.state.compare;
    if (!c) return;
    const row = this.cellAt(c.cursor.row, c.cursor.col);
    if (!row) return this.set({ message: "this cell has not finished yet" });
    this.openCounterexample(row.failures[0]?.shrunk ?? row.failures[0]?.schedule, "compare", row.scenario.replace(/\[.*$/, ""));
  }

  openExploreFailure(): void {
    const r = this.state.explore?.result?.results[0];
    this.openCounterexample(r?.failures[0]?.shrunk ?? r?.failures[0]?.schedule, "explore", this.state.explore?.scenario);
  }

  // ------------------------------------------------------------------ trace stepper

  stepTrace(delta: number): void {
    const t = this.state.trace;
    if (!t) return;
    const index = Math.max(0, Math.min(t.frames.length - 1, t.index + delta));
    this.set({ trace: { ...t, index } });
  }

  exportTrace(format: TraceFormat): void {
    const t = this.state.trace;
    if (!t) return;
    try {
      const path = this.backend.exportTrace(t.trace, format);
      this.set({ message: `exported ${format} trace to ${path}` });
    } catch (error) {
      this.set({ message: `export failed: ${(error as Error).message}` });
    }
  }
}
