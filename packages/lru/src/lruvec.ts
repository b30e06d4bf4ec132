/**
 * The LRU state of one machine: `struct lruvec` (include/linux/mmzone.h), the list
 * helpers of include/linux/mm_inline.h (`folio_lru_list`, `lruvec_add_folio`,
 * `lruvec_add_folio_tail`, `lruvec_del_folio`), `struct folio_batch`
 * (include/linux/folio_batch.h, `folio_batch_add`, `FOLIO_BATCH_SIZE`), the per-CPU
 * `cpu_fbatches` of mm/swap.c (mm/folio.c in 2026), the per-CPU `mlock_fbatch` of
 * mm/mlock.c, and the globals of `__lru_add_drain_all` and `lru_cache_disable`.
 *
 * Simplifications:
 * - One node, one memcg: a single lruvec, so `folio_lruvec_relock_irqsave` only ever
 *   takes or keeps the one lruvec lock. No MGLRU (lru_gen_enabled() is false).
 * - The unevictable "list" is a real list here (the kernel does not link unevictable
 *   folios; `folio_lru_list` still answers LRU_UNEVICTABLE), so `whereIs` can show it.
 * - `mlock_count` overlays `lru.prev` in the kernel; here it is `folio.mlockCount`.
 * - A folio whose PG_lru a holder of the lruvec path has cleared while it stays on a
 *   list (isolation between its test-and-clear and the list removal, a batch flush or
 *   an mlock batch moving it, and the lru-batch-clears-lru variant's queued folios) is
 *   recorded in `lruClearedOnList` so the invariants can tell that window from a bug.
 *   The kernel has no such record; it is model bookkeeping, not kernel state.
 */

import { PG, formatFlags, onFolioRelease, pfnHex, type Folio } from "@foliosim/folio";
import { LRU_COSTS } from "./costs.js";
import {
  Cell,
  ModelError,
  SimConfigError,
  op,
  preemptCountDec,
  Block,
  LocalLock,
  Mutex,
  PerCpu,
  Shared,
  SpinLock,
  type Work,
  uncheckedReadsBegin,
  uncheckedReadsEnd,
  atomic,
  type Atomic,
  type Machine,
  type Op,
  type Task,
} from "@foliosim/sim";

/** `FOLIO_BATCH_SIZE` (include/linux/folio_batch.h): 31 makes the struct 256 bytes on 64-bit. */
export const FOLIO_BATCH_SIZE = 31;

export const LRU_LISTS = ["inactive_anon", "active_anon", "inactive_file", "active_file", "unevictable"] as const;
export type LruListName = (typeof LRU_LISTS)[number];

/** The six `cpu_fbatches` members, in `lru_add_drain_cpu` order. */
export const LRU_BATCHES = ["lru_add", "lru_move_tail", "lru_deactivate_file", "lru_deactivate", "lru_lazyfree", "lru_activate"] as const;
export type LruBatchName = (typeof LRU_BATCHES)[number];

/** Holder name of the reference an mlock batch slot holds. */
export const MLOCK_HOLDER = "mlock";
/** Holder name of the reference `folio_isolate_lru` takes. */
export const ISOLATED_HOLDER = "isolated";

/**
 * Holder name of a batch reference that has been taken (`folio_get`) but whose folio
 * is not yet stored in a slot: the kernel takes the reference first, then the local
 * lock, then `folio_batch_add`. The add step renames it to the batch name.
 */
export function pendingHolder(batch: LruBatchName | typeof MLOCK_HOLDER): string {
  return `${batch}_pending`;
}

/** mlock batch tags (mm/mlock.c `LRU_FOLIO`, `NEW_FOLIO`; untagged = munlock). */
export type MlockTag = "LRU_FOLIO" | "NEW_FOLIO" | "munlock";

/** A `struct folio_batch` of `cpu_fbatches`. */
export class FolioBatch extends Shared {
  readonly folios: Folio[] = [];
  /** Whether `nr` is zero, as other CPUs read it (see `batchWrites`). */
  readonly nonEmpty: Shared;
  constructor(
    readonly cpu: number,
    readonly batch: LruBatchName,
  ) {
    super(`cpu${cpu} ${batch}`);
    this.nonEmpty = new Shared(`cpu${cpu} ${batch} nr != 0`);
  }
  get count(): number {
    return this.folios.length;
  }
}

/** The `folio_batch` of `mlock_fbatch`, with each entry's tag (the low pointer bits). */
export class MlockBatch extends Shared {
  readonly entries: { folio: Folio; tag: MlockTag }[] = [];
  /** Whether `nr` is zero, as other CPUs read it (see `batchWrites`). */
  readonly nonEmpty: Shared;
  constructor(readonly cpu: number) {
    super(`cpu${cpu} mlock_fbatch`);
    this.nonEmpty = new Shared(`cpu${cpu} mlock_fbatch nr != 0`);
  }
  get count(): number {
    return this.entries.length;
  }
}

/**
 * The footprint of a step that stores a folio in `batch` (`delta` 1) or empties one of
 * its slots (`delta` -1): the batch, plus its `nonEmpty` token when the step may take
 * the count to or from zero. Another CPU reads a batch only through `cpu_needs_drain`
 * and `need_mlock_drain`, racy reads that test `folio_batch_count() != 0` and nothing
 * else, so they read the token, not the batch: a step that moves the count between
 * non-zero values does not race with them. The decision is taken when the step is
 * built, which is exact because a batch changes only under its CPU's local lock, held
 * by the building task from then until the step runs; `checkBatchStep` verifies it.
 */
export function batchWrites(batch: FolioBatch | MlockBatch, delta: 1 | -1): Shared[] {
  const edge = delta > 0 ? batch.count === 0 : batch.count === 1;
  return edge ? [batch, batch.nonEmpty] : [batch];
}

/** At run time, before the change: a step that empties or fills `batch` must have declared its token. */
export function checkBatchStep(who: string, batch: FolioBatch | MlockBatch, delta: 1 | -1, writes: readonly Shared[]): void {
  const edge = delta > 0 ? batch.count === 0 : batch.count === 1;
  if (edge && !writes.includes(batch.nonEmpty)) {
    throw new ModelError(who, batch.name, `the batch count changed between building the step and running it (${batch.count}); a batch changes only under its CPU's local lock`);
  }
}

/** `struct cpu_fbatches`. */
export interface CpuFbatches {
  readonly cpu: number;
  /** `lock`: a local_lock (preemption off). */
  readonly lock: LocalLock;
  /** `lock_irq`: the irq-disabling local lock of `lru_move_tail`. */
  readonly lockIrq: LocalLock;
  readonly batches: Record<LruBatchName, FolioBatch>;
}

/** `struct mlock_fbatch`. */
export interface MlockFbatch {
  readonly cpu: number;
  readonly lock: LocalLock;
  readonly fbatch: MlockBatch;
}

/** `struct lruvec`: the lists and `lru_lock`. */
export class Lruvec extends Shared {
  readonly lock = new SpinLock("lruvec lru_lock");
  readonly lists: Record<LruListName, Folio[]> = {
    inactive_anon: [],
    active_anon: [],
    inactive_file: [],
    active_file: [],
    unevictable: [],
  };
  constructor() {
    super("lruvec");
  }
}

export interface LruState {
  readonly lruvec: Lruvec;
  readonly cpuFbatches: PerCpu<CpuFbatches>;
  readonly mlockFbatch: PerCpu<MlockFbatch>;
  /** `lru_drain_gen`. */
  readonly lruDrainGen: Cell<number>;
  /** The static mutex of `__lru_add_drain_all`. */
  readonly drainAllLock: Mutex;
  /** `lru_disable_count`. */
  readonly lruDisableCount: Atomic;
  /** Per-CPU `lru_add_drain_work` (created on first use by `__lru_add_drain_all`). */
  readonly lruAddDrainWork: (Work | undefined)[];
  /** Model bookkeeping: folios on a list whose PG_lru someone holds cleared, and who (see file header). */
  readonly lruClearedOnList: Map<Folio, { by: string; task: Task | null }>;
}

const LRU_STATE = Symbol("lru-state");

/** The per-machine LRU state, created on first use (and the folio release hook with it). */
export function getLru(m: Machine): LruState {
  let s = m.ext.get(LRU_STATE) as LruState | undefined;
  if (s) return s;
  for (const name of Object.keys(LRU_COSTS)) {
    if (m.costs[name] === undefined) throw new SimConfigError(`costs.${name}`, "the LRU cost table (import @foliosim/lru before creating the machine)", undefined);
  }
  const cpus = m.cpuCount;
  s = {
    lruvec: new Lruvec(),
    cpuFbatches: new PerCpu(cpus, (cpu) => ({
      cpu,
      lock: new LocalLock(`cpu${cpu} cpu_fbatches.lock`),
      lockIrq: new LocalLock(`cpu${cpu} cpu_fbatches.lock_irq`),
      batches: Object.fromEntries(LRU_BATCHES.map((b) => [b, new FolioBatch(cpu, b)])) as Record<LruBatchName, FolioBatch>,
    })),
    mlockFbatch: new PerCpu(cpus, (cpu) => ({
      cpu,
      lock: new LocalLock(`cpu${cpu} mlock_fbatch.lock`),
      fbatch: new MlockBatch(cpu),
    })),
    lruDrainGen: new Cell("lru_drain_gen", 0),
    drainAllLock: new Mutex("lru_add_drain_all lock"),
    lruDisableCount: atomic("lru_disable_count", 0),
    lruAddDrainWork: new Array<Work | undefined>(cpus).fill(undefined),
    lruClearedOnList: new Map(),
  };
  m.ext.set(LRU_STATE, s);
  onFolioRelease(m, releaseFromLru);
  return s;
}

/**
 * `__folio_put` → `__page_cache_release` (and `folios_put`): a folio whose last
 * reference goes while it is on an LRU list leaves the list under the lruvec lock; a
 * folio still PG_mlocked gives its pages back to NR_MLOCK (UNEVICTABLE_PGCLEARED).
 * Simplification: done inside the put's step without taking the lock.
 */
function releaseFromLru(m: Machine, f: Folio): void {
  const s = m.ext.get(LRU_STATE) as LruState | undefined;
  if (!s) return;
  s.lruClearedOnList.delete(f);
  if (f.test(PG.mlocked)) {
    const nr = 1 << f.order;
    f.clearBits(PG.mlocked);
    m.count("nr_mlock", -nr);
    m.count("unevictable_pgs_cleared", nr);
  }
  if (f.lruList === null) return;
  const lru = f.lruList;
  removeFromList(s, f);
  m.markWrite(s.lruvec);
  m.event("lru_release", f.name).arg("pfn", pfnHex(f.pfn)).arg("lru", lru);
}

/** `lru_cache_disabled()`, as a pure read (`atomic_read(&lru_disable_count) != 0`). */
export function lruCacheDisabled(m: Machine): boolean {
  return getLru(m).lruDisableCount.value !== 0;
}

/** `folio_lru_list`: unevictable, else file (no PG_swapbacked) or anon, active or inactive. */
export function folioLruList(f: Folio): LruListName {
  if (f.test(PG.unevictable)) return "unevictable";
  const file = !f.test(PG.swapbacked);
  const active = f.test(PG.active);
  if (file) return active ? "active_file" : "inactive_file";
  return active ? "active_anon" : "inactive_anon";
}

/** `lruvec_add_folio` (head of the list; `tail` for `lruvec_add_folio_tail`). Inside an op. */
export function lruvecAddFolio(m: Machine, s: LruState, f: Folio, tail = false): void {
  if (f.lruList !== null) throw new ModelError("lruvec_add_folio", f.name, `already on ${f.lruList}`);
  const lru = folioLruList(f);
  const list = s.lruvec.lists[lru];
  // Head = index 0 (most recently added); reclaim scans from the tail.
  if (tail) list.push(f);
  else list.unshift(f);
  f.lruList = lru;
  m.markWrite(s.lruvec);
}

/** `lruvec_del_folio`. Inside an op. */
export function lruvecDelFolio(m: Machine, s: LruState, f: Folio): void {
  if (f.lruList === null) throw new ModelError("lruvec_del_folio", f.name, "on no LRU list");
  removeFromList(s, f);
  m.markWrite(s.lruvec);
}

function removeFromList(s: LruState, f: Folio): void {
  const list = s.lruvec.lists[f.lruList as LruListName];
  const i = list.indexOf(f);
  if (i >= 0) list.splice(i, 1);
  f.lruList = null;
}

/** Emit the kernel's `mm_lru_insertion` tracepoint. */
export function traceLruInsertion(m: Machine, f: Folio): void {
  const quiet = uncheckedReadsBegin(); // a tracepoint's fields (footprint checking)
  m.event("mm_lru_insertion", f.name).arg("pfn", pfnHex(f.pfn)).arg("lru", f.lruList).arg("flags", formatFlags(f.flags));
  uncheckedReadsEnd(quiet);
}

/**
 * Which lists and batches hold `f` right now, for the TUI's folio panel, e.g.
 * `["cpu3 mlock_fbatch (LRU_FOLIO)", "unevictable"]`. Pure.
 */
export function whereIs(m: Machine, f: Folio): string[] {
  const s = getLru(m);
  const out: string[] = [];
  for (let cpu = 0; cpu < m.cpuCount; cpu++) {
    const fb = s.cpuFbatches.get(cpu);
    for (const b of LRU_BATCHES) {
      const n = fb.batches[b].folios.filter((x) => x === f).length;
      for (let i = 0; i < n; i++) out.push(`cpu${cpu} ${b}`);
    }
    for (const e of s.mlockFbatch.get(cpu).fbatch.entries) {
      if (e.folio === f) out.push(`cpu${cpu} mlock_fbatch (${e.tag})`);
    }
  }
  if (f.lruList !== null) out.push(f.lruList);
  else if (f.holderCount(ISOLATED_HOLDER) > 0) out.push("isolated");
  return out;
}

// ---------------------------------------------------------------- shared operations

/** `folio_lruvec_lock_irq[save]` (one lruvec: always the same lock). Spins, preemption off. */
export function lruvecLock(s: LruState, label = "folio_lruvec_lock_irqsave"): Op<void> {
  const l = s.lruvec.lock;
  return op({
    kind: "spin_lock",
    label,
    writes: [l],
    cost: "lruvecLock",
    block: Block.Spin,
    enabled: () => l.owner === null,
    waitFor: "spin_lock(lruvec lru_lock)",
    run: (m, t) => {
      l.owner = t;
      t.preemptCount++;
      m.markWrite(l);
    },
  });
}

/** `unlock_page_lruvec_irq[restore]`. */
export function lruvecUnlock(s: LruState, label = "unlock_page_lruvec_irqrestore"): Op<void> {
  const l = s.lruvec.lock;
  return op({
    kind: "spin_unlock",
    label,
    writes: [l],
    cost: "lruvecLock",
    run: (m, t) => {
      if (l.owner !== t) throw new ModelError(label, l.name, l.owner ? `held by ${l.owner.name}, not ${t.name}` : "not locked");
      l.owner = null;
      m.markWrite(l);
      preemptCountDec(m, t, label);
    },
  });
}

/**
 * `folio_test_clear_lru` by a path that keeps the folio on its list for a while
 * (isolation before `lruvec_del_folio`, a batch flush or an mlock batch moving it):
 * on success the window is recorded in `lruClearedOnList` under `by`, owned by the
 * running task (the lru-batch-clears-lru variant's `folio_batch_add` hands it to the slot).
 */
export function folioTestClearLruOnList(s: LruState, f: Folio, by: string): Op<boolean> {
  return op({
    kind: "folio_test_clear_flag",
    label: "folio_test_clear_lru",
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m, t) => {
      if (!f.test(PG.lru)) return false;
      f.clearBits(PG.lru);
      m.markWrite(f.flagsWord);
      if (f.lruList !== null) s.lruClearedOnList.set(f, { by, task: t });
      return true;
    },
  });
}

/** `folio_set_lru` at the end of a move: the window recorded by `folioTestClearLruOnList` closes. Inside an op. */
export function setLruNow(m: Machine, s: LruState, f: Folio): void {
  if (!f.test(PG.lru)) {
    f.setBits(PG.lru);
    m.markWrite(f.flagsWord);
  }
  s.lruClearedOnList.delete(f);
}

/** A pure test of a folio's state at a function's entry (flags, mapping, mapcount). */
export function folioCheck(f: Folio, label: string, pred: (f: Folio) => boolean): Op<boolean> {
  return op({ kind: "folio_check", label, reads: [f.flagsWord, f.map], cost: "lruEntryCheck", run: () => pred(f) });
}
