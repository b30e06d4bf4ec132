/**
 * The cost model: virtual nanoseconds charged for each kind of operation.
 *
 * Every figure is a named assumption, not a measurement of any one machine. The
 * comment beside each says where the order of magnitude comes from. Scenarios may
 * override any entry; upper layers add their own keys (page copy, TLB flush, ...)
 * through `extendCosts`.
 */

import { SimConfigError } from "./errors.js";

export const DEFAULT_COSTS = {
  /** A plain load or store of task-visible shared state: an L1/L2 hit, a few cycles. */
  plain: 2,
  /** An atomic read-modify-write on a contended cache line: 40-100 cycles of line
   *  transfer between cores (Intel and Arm optimisation manuals), about 20 ns at 3 GHz. */
  atomic: 20,
  /** `cpu_relax()`: x86 PAUSE is about 140 cycles on Skylake and later (Intel
   *  optimisation manual, "Pause latency in Skylake microarchitecture"), about 40 ns. */
  cpuRelax: 40,
  /** Uncontended spinlock, mutex or bit-lock acquire or release: one atomic. */
  lock: 20,
  /** `cond_resched()` when nothing else wants the CPU: a preempt-count test. */
  condResched: 5,
  /** A context switch, direct cost: lmbench lat_ctx reports 1-3 us for two processes. */
  contextSwitch: 1500,
  /** Remote wake-up latency (try_to_wake_up, IPI to an idle CPU, schedule in):
   *  cyclictest-style wake latencies are a few microseconds on an idle system. */
  wakeup: 3000,
  /** Queueing a work item: `queue_work_on` takes the pool lock and may kick a worker. */
  queueWork: 300,
  /** One IPI to one CPU and its acknowledgement (`smp_call_function_single` with
   *  wait): 1-2 us measured on x86 servers (e.g. LWN "IPI costs" discussions). */
  ipi: 1500,
  /** One IPI broadcast to all other CPUs with wait, fixed part (x2APIC broadcast). */
  ipiBroadcast: 2000,
  /** Added per target CPU of a broadcast: acknowledgements are collected serially. */
  ipiPerCpu: 250,
  /** `synchronize_rcu_expedited()` fixed part: Paul McKenney's measurements put
   *  expedited grace periods at tens of microseconds on idle systems. */
  rcuExpeditedBase: 20_000,
  /** Added per CPU for an expedited grace period (one IPI and a quiescent-state report each). */
  rcuExpeditedPerCpu: 2_000,
  /** A normal `synchronize_rcu()`: several jiffies of grace-period kthread work
   *  (HZ=250: 4 ms per jiffy; typical latencies are 10-30 ms). */
  rcuGracePeriod: 16_000_000,
  /** Text patching per jump-label site (`text_poke_bp` writes and syncs one site). */
  jumpLabelPerSite: 200,
  /** One jiffy at HZ=250, the common distribution setting: `msleep()` rounds up to
   *  jiffies and adds one (kernel/time/timer.c, `msleep` → `schedule_timeout`). */
  jiffy: 4_000_000,
  /** `schedule()` entry when a task blocks, before the switch. */
  schedule: 200,
  /** EEVDF base slice, `sysctl_sched_base_slice` = 750000 ns (kernel/sched/fair.c):
   *  a runnable normal task waits at most this long before a preemption point must
   *  switch to it. */
  schedSlice: 750_000,
} as const;

export type SimCostName = keyof typeof DEFAULT_COSTS;
export type CostModel = Record<string, number>;

const REGISTERED: CostModel = {};
/** The default table as machines see it, built once per set of registered names. */
let sharedDefaults: Readonly<CostModel> | undefined;

/**
 * Register the default costs of an upper layer (page copy, TLB flush, ...). Each layer
 * calls this once at module load for the names its operations use; a machine starts
 * from the sim defaults plus every registered table, then the scenario's overrides.
 * Registering a name twice with different values is a programming error.
 */
export function defineCosts(table: CostModel): void {
  for (const [name, value] of Object.entries(table)) {
    if (name in DEFAULT_COSTS || (name in REGISTERED && REGISTERED[name] !== value)) {
      throw new Error(`defineCosts: cost "${name}" is already defined`);
    }
    if (!Number.isFinite(value) || value < 0) throw new SimConfigError(`costs.${name}`, "a non-negative number of nanoseconds", value);
    REGISTERED[name] = value;
    sharedDefaults = undefined;
  }
}

/** The default cost table: sim defaults plus every registered layer's. */
export function defaultCosts(): CostModel {
  return { ...DEFAULT_COSTS, ...REGISTERED };
}

/**
 * A machine's cost table. Without overrides every machine shares one frozen copy of the
 * defaults: copying the whole registry per machine cost more than a short execution.
 */
export function machineCosts(overrides: Partial<CostModel> | undefined): CostModel {
  if (overrides !== undefined) return extendCosts(defaultCosts(), overrides);
  return (sharedDefaults ??= Object.freeze(defaultCosts()));
}

/** Merge cost tables, rejecting negative or non-finite entries with a typed error. */
export function extendCosts(base: CostModel, overrides: Partial<CostModel> | undefined, where = "costs"): CostModel {
  const merged: CostModel = { ...base };
  if (!overrides) return merged;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new SimConfigError(`${where}.${name}`, "a non-negative number of nanoseconds", value);
    }
    merged[name] = value;
  }
  return merged;
}

/** Jump-label patching parameters (arch/x86/kernel/alternative.c batches `text_poke_bp`). */
export interface JumpLabelModel {
  /** Patch sites per key (John Hubbard's RFC: roughly 500 inlined `folio_put` sites). */
  sites: number;
  /** Sites patched per batch (`TP_VEC_MAX`: 256 on x86). */
  sitesPerBatch: number;
  /** IPI rounds per batch (`text_poke_bp_batch`: int3, then the new bytes, then the first byte: 3 syncs). */
  ipiRoundsPerBatch: number;
}

export const DEFAULT_JUMP_LABEL: JumpLabelModel = { sites: 500, sitesPerBatch: 256, ipiRoundsPerBatch: 3 };
