/**
 * The LRU-batch half of mm/swap.c (renamed mm/folio.c in the 2026 tree; names
 * unchanged): `__folio_batch_add_and_move`, `folio_batch_move_lru` and its move
 * functions (`lru_add`, `lru_move_tail`, `lru_deactivate_file`, `lru_deactivate`,
 * `lru_lazyfree`, `lru_activate`), the entry points `folio_add_lru`,
 * `folio_add_lru_vma`, `folio_activate`, `folio_deactivate`, `deactivate_file_folio`,
 * `folio_mark_lazyfree`, `folio_rotate_reclaimable`, the drains `lru_add_drain`,
 * `lru_add_drain_cpu`, `lru_add_drain_per_cpu`, `__lru_add_drain_all`,
 * `lru_add_drain_all`, `cpu_needs_drain`, `lru_cache_disable`/`lru_cache_enable`, and
 * the 2026 GUP helper `lru_cache_drain_for_folio`.
 *
 * Simplifications:
 * - SMP only; no MGLRU; no buffer-head LRUs (`has_bh_in_lru`, `invalidate_bh_lrus_cpu`).
 * - Each move function and the `folio_set_lru` after it run as one step under the
 *   lruvec lock; `folios_put` drops one batch reference per step, emptying that slot in
 *   the same step (so slot and reference never disagree).
 * - The `lru_add` lone-reference case (reference §2.3 step 2: the 2026 tree freezes an
 *   expected count of 1) is decided in the same step as the move: a folio whose only
 *   reference is its batch slot is freed instead of added.
 * - The batch reference taken before the folio is stored in a slot is held as
 *   "<batch>_pending" (see `pendingHolder`) until `folio_batch_add` stores it.
 * - Entry-point flag tests are one step each; `lru_add_drain_cpu` reads its six batch
 *   counts in one step (preemption is off and only this CPU adds to them).
 * - `mm_percpu_wq` always exists; every CPU is online.
 * - `cpu_needs_drain` reads each batch's `nr != 0` token rather than the batch
 *   (lruvec.ts `batchWrites`): it only tests the counts against zero, and the model's
 *   `folios_put` empties one slot per step where the kernel's `folio_batch_reinit`
 *   zeroes `nr` at the end, so only filling and emptying a batch race with it.
 */

import {
  PG,
  folioEvictable,
  folioExpectedRefCount,
  folioGet,
  folioMayBeLruCached,
  folioNrPages,
  folioTestAnon,
  pfnHex,
  putNow,
  transferHolder,
  vmaLockedNotSpecial,
  type Folio,
  type VmaFlags,
} from "@foliosim/folio";
import {
  ModelError,
  atomicAdd,
  currentMachine,
  flushWork,
  localLock,
  localUnlock,
  mutexLock,
  mutexUnlock,
  op,
  queueWorkOn,
  smpProcessorId,
  synchronizeRcuExpedited,
  traced,
  type Machine,
  type Op,
  type TaskGen,
  Work,
} from "@foliosim/sim";
import {
  FOLIO_BATCH_SIZE,
  LRU_BATCHES,
  batchWrites,
  checkBatchStep,
  folioCheck,
  folioTestClearLruOnList,
  getLru,
  lruvecAddFolio,
  lruvecDelFolio,
  lruvecLock,
  lruvecUnlock,
  pendingHolder,
  setLruNow,
  traceLruInsertion,
  type FolioBatch,
  type LruBatchName,
  type LruState,
} from "./lruvec.js";
import { mlockDrainLocal, mlockNewFolio, needMlockDrain } from "./mlock.js";
import { lruBatchClearsLru, lruBatchPolicy, lruDrainAllPolicy } from "./variants/batch-policy.js";
import type { LruBatchHook } from "./variants/points.js";

// ---------------------------------------------------------------- move functions

/** A move function: runs under the lruvec lock with PG_lru clear (reference §2.3). */
type MoveFn = (m: Machine, s: LruState, f: Folio) => void;

/** `lru_add`: place a new (or put-back) folio, unevictable if mlocked. */
function lruAdd(m: Machine, s: LruState, f: Folio): void {
  const nr = folioNrPages(f);
  const wasUnevictable = f.test(PG.unevictable);
  f.clearBits(PG.unevictable);
  if (f.test(PG.lru)) throw new ModelError("lru_add", f.name, "VM_BUG_ON_FOLIO(folio_test_lru(folio))");
  if (folioEvictable(f)) {
    if (wasUnevictable) m.count("unevictable_pgs_rescued", nr);
  } else {
    f.clearBits(PG.active);
    f.setBits(PG.unevictable);
    // Err on the safe side: the mlock batch, not lru_add, counts the mlock.
    f.mlockCount = 0;
    if (!wasUnevictable) m.count("unevictable_pgs_culled", nr);
  }
  lruvecAddFolio(m, s, f);
  traceLruInsertion(m, f);
}

/** `lru_move_tail`: rotate an inactive-bound folio to the tail (writeback completion). */
function lruMoveTail(m: Machine, s: LruState, f: Folio): void {
  if (f.test(PG.unevictable)) return;
  lruvecDelFolio(m, s, f);
  f.clearBits(PG.active);
  lruvecAddFolio(m, s, f, true);
  m.count("pgrotated", folioNrPages(f));
}

/** `lru_deactivate_file`: an invalidated file folio goes to the inactive tail (or head if dirty/writeback). */
function lruDeactivateFile(m: Machine, s: LruState, f: Folio): void {
  const active = f.test(PG.active);
  const nr = folioNrPages(f);
  if (f.test(PG.unevictable)) return;
  if (f.mapcount > 0) return; // some process uses the folio
  lruvecDelFolio(m, s, f);
  f.clearBits(PG.active | PG.referenced);
  if (f.test(PG.writeback) || f.test(PG.dirty)) {
    lruvecAddFolio(m, s, f); // folio_set_reclaim: not modelled
  } else {
    lruvecAddFolio(m, s, f, true);
    m.count("pgrotated", nr);
  }
  if (active) m.count("pgdeactivate", nr);
}

/** `lru_deactivate`. */
function lruDeactivate(m: Machine, s: LruState, f: Folio): void {
  if (f.test(PG.unevictable) || !f.test(PG.active)) return;
  lruvecDelFolio(m, s, f);
  f.clearBits(PG.active | PG.referenced);
  lruvecAddFolio(m, s, f);
  m.count("pgdeactivate", folioNrPages(f));
}

/** `lru_lazyfree`: MADV_FREE: a clean anonymous folio becomes a file-LRU folio without PG_swapbacked. */
function lruLazyfree(m: Machine, s: LruState, f: Folio): void {
  if (!folioTestAnon(f) || !f.test(PG.swapbacked) || f.test(PG.swapcache) || f.test(PG.unevictable)) return;
  lruvecDelFolio(m, s, f);
  f.clearBits(PG.active | PG.referenced | PG.swapbacked);
  lruvecAddFolio(m, s, f);
  m.count("pglazyfree", folioNrPages(f));
}

/** `lru_activate`. */
function lruActivate(m: Machine, s: LruState, f: Folio): void {
  if (f.test(PG.active) || f.test(PG.unevictable)) return;
  lruvecDelFolio(m, s, f);
  f.setBits(PG.active);
  lruvecAddFolio(m, s, f);
  m.count("pgactivate", folioNrPages(f));
  m.event("mm_lru_activate", f.name).arg("pfn", pfnHex(f.pfn));
}

const MOVE_FNS: Record<LruBatchName, MoveFn> = {
  lru_add: lruAdd,
  lru_move_tail: lruMoveTail,
  lru_deactivate_file: lruDeactivateFile,
  lru_deactivate: lruDeactivate,
  lru_lazyfree: lruLazyfree,
  lru_activate: lruActivate,
};

// ---------------------------------------------------------------- batches

/** `folio_batch_add` plus the immediate-flush test of `__folio_batch_add_and_move`. */
function folioBatchAdd(s: LruState, batch: FolioBatch, f: Folio, policy: LruBatchHook): Op<boolean> {
  const writes = batchWrites(batch, 1);
  return op({
    kind: "folio_batch_add",
    label: `folio_batch_add(${batch.batch})`,
    writes,
    reads: [s.lruDisableCount],
    cost: "folioBatchAdd",
    run: (m) => {
      if (batch.count >= FOLIO_BATCH_SIZE) throw new ModelError("folio_batch_add", batch.name, "batch already full");
      checkBatchStep("folio_batch_add", batch, 1, writes);
      batch.folios.push(f);
      transferHolder(f, pendingHolder(batch.batch), batch.batch);
      // lru-batch-clears-lru: from now on the batch slot, not this task, keeps PG_lru clear.
      const w = s.lruClearedOnList.get(f);
      if (w !== undefined && w.task !== null && w.by === `${batch.batch} (queued)`) s.lruClearedOnList.set(f, { by: w.by, task: null });
      m.markWrite(batch);
      if (batch.count === FOLIO_BATCH_SIZE || !folioMayBeLruCached(f) || s.lruDisableCount.value !== 0) return true;
      return policy.flushAtOnce !== undefined && policy.flushAtOnce({ folio: f, batch: batch.batch });
    },
  });
}

/** One move (or, for `lru_add` with nothing but the batch reference left, the free) under the lruvec lock. */
function moveOne(s: LruState, batch: FolioBatch, f: Folio): Op<void> {
  const move = batch.batch;
  // Only lru_add may empty a slot here (the lone-reference free).
  const writes = [s.lruvec, f.flagsWord, f.ref, ...(move === "lru_add" ? batchWrites(batch, -1) : [batch])];
  return op({
    kind: "lru_move",
    label: move,
    // folio_evictable (lru_add), folio_mapped (lru_deactivate_file), folio_test_anon (lru_lazyfree).
    reads: [f.map],
    writes,
    cost: "lruMoveFolio",
    run: (m) => {
      if (move === "lru_add" && f.refcount === 1) {
        // The batch holds the only reference (2026: folio_ref_freeze(folio, 1)): free it.
        checkBatchStep(move, batch, -1, writes);
        const i = batch.folios.indexOf(f);
        batch.folios.splice(i, 1);
        m.markWrite(batch);
        m.count("lru_add_freed");
        m.event("folio_batch_move_lru_free", f.name).arg("pfn", pfnHex(f.pfn)).arg("batch", move);
        putNow(m, f, 1, move, "folio_batch_move_lru");
        return;
      }
      MOVE_FNS[move](m, s, f);
      m.markWrite(f.flagsWord);
      setLruNow(m, s, f);
    },
  });
}

/** One slot of the final `folios_put`: the slot and its batch reference go in the same step. */
function foliosPutOne(batch: FolioBatch): Op<void> {
  const f = batch.folios[0];
  const writes = [...batchWrites(batch, -1), f.ref];
  return op({
    kind: "folio_put",
    label: "folios_put",
    writes,
    cost: "foliosPutOne",
    run: (m) => {
      checkBatchStep("folios_put", batch, -1, writes);
      batch.folios.shift();
      m.markWrite(batch);
      putNow(m, f, 1, batch.batch, "folios_put");
    },
  });
}

/** `folio_batch_move_lru(fbatch, move_fn)`: called with the batch's local lock held. */
export function folioBatchMoveLru(batch: FolioBatch): TaskGen<void> {
  return traced("folio_batch_move_lru", folioBatchMoveLruBody(batch));
}

function* folioBatchMoveLruBody(batch: FolioBatch): TaskGen<void> {
  const m = currentMachine();
  const s = getLru(m);
  const move = batch.batch;
  const clearsAtQueue = lruBatchClearsLru(m);
  m.count("lru_batch_flush");
  m.event("folio_batch_move_lru", batch.name).arg("nr", batch.count);
  let locked = false;
  for (const f of batch.folios.slice()) {
    // Block memcg migration and isolation while the folio moves between lists; a
    // folio found without PG_lru was isolated meanwhile: skip it (its reference still goes).
    if (move !== "lru_add" && !clearsAtQueue) {
      if (!(yield* folioTestClearLruOnList(s, f, "folio_batch_move_lru"))) continue;
    }
    if (!locked) yield* lruvecLock(s);
    locked = true;
    yield* moveOne(s, batch, f);
  }
  if (locked) yield* lruvecUnlock(s);
  while (batch.count > 0) yield* foliosPutOne(batch);
}

/**
 * `__folio_batch_add_and_move`: take the batch reference, then the local lock, add,
 * and flush at once if the batch is full, the folio is large or the LRU cache is
 * disabled. `onLru` is the 6.11 macro argument (every batch but `lru_add`).
 */
function* folioBatchAddAndMove(f: Folio, name: LruBatchName): TaskGen<void> {
  const m = currentMachine();
  const s = getLru(m);
  const fb = s.cpuFbatches.get(smpProcessorId());
  const policy = lruBatchPolicy(m);
  if (name !== "lru_add" && policy.clearsLruAtQueue) {
    // 33dfe9204f29: queue only a folio whose PG_lru this caller cleared.
    if (!(yield* folioTestClearLruOnList(s, f, `${name} (queued)`))) return;
  }
  yield* folioGet(f, pendingHolder(name));
  const lock = name === "lru_move_tail" ? fb.lockIrq : fb.lock;
  yield* localLock(lock);
  if (yield* folioBatchAdd(s, fb.batches[name], f, policy)) yield* folioBatchMoveLru(fb.batches[name]);
  yield* localUnlock(lock);
}

// ---------------------------------------------------------------- entry points

/** `folio_add_lru`: a folio not on any LRU (new, or put back) goes through the `lru_add` batch. */
export function folioAddLru(f: Folio): TaskGen<void> {
  return traced("folio_add_lru", folioAddLruBody(f));
}

function* folioAddLruBody(f: Folio): TaskGen<void> {
  yield* op({
    kind: "folio_check",
    label: "folio_add_lru checks",
    reads: [f.flagsWord],
    cost: "lruEntryCheck",
    run: () => {
      if (f.test(PG.active) && f.test(PG.unevictable)) throw new ModelError("folio_add_lru", f.name, "VM_BUG_ON_FOLIO: both active and unevictable");
      if (f.test(PG.lru)) throw new ModelError("folio_add_lru", f.name, "VM_BUG_ON_FOLIO(folio_test_lru(folio)): already on an LRU");
    },
  });
  yield* folioBatchAddAndMove(f, "lru_add");
}

/**
 * `folio_add_lru_vma`: a new folio of `vma`; in a vma whose flags masked with
 * `VM_LOCKED|VM_SPECIAL` are exactly `VM_LOCKED` it goes to `mlock_new_folio` instead.
 */
export function folioAddLruVma(f: Folio, vma: VmaFlags): TaskGen<void> {
  return traced("folio_add_lru_vma", vmaLockedNotSpecial(vma) ? mlockNewFolioChecked(f) : folioAddLru(f));
}

function* mlockNewFolioChecked(f: Folio): TaskGen<void> {
  yield* folioCheck(f, "folio_add_lru_vma checks", (x) => {
    if (x.test(PG.lru)) throw new ModelError("folio_add_lru_vma", x.name, "VM_BUG_ON_FOLIO(folio_test_lru(folio)): already on an LRU");
    return true;
  });
  yield* mlockNewFolio(f);
}

function* queueIf(f: Folio, name: LruBatchName, label: string, pred: (f: Folio) => boolean): TaskGen<void> {
  const m = currentMachine();
  // Under 33dfe9204f29 the PG_lru test is the queueing's folio_test_clear_lru.
  const needLru = !lruBatchClearsLru(m);
  if (!(yield* folioCheck(f, `${label} checks`, (x) => (!needLru || x.test(PG.lru)) && pred(x)))) return;
  yield* folioBatchAddAndMove(f, name);
}

/** `folio_activate` (SMP): queue to `lru_activate` unless active, unevictable or not on an LRU. */
export function folioActivate(f: Folio): TaskGen<void> {
  return traced("folio_activate", queueIf(f, "lru_activate", "folio_activate", (x) => !x.test(PG.active) && !x.test(PG.unevictable)));
}

/** `folio_deactivate`: queue an active folio to `lru_deactivate`. */
export function folioDeactivate(f: Folio): TaskGen<void> {
  return traced("folio_deactivate", queueIf(f, "lru_deactivate", "folio_deactivate", (x) => !x.test(PG.unevictable) && x.test(PG.active)));
}

/** `deactivate_file_folio`: queue to `lru_deactivate_file`. */
export function deactivateFileFolio(f: Folio): TaskGen<void> {
  return traced("deactivate_file_folio", queueIf(f, "lru_deactivate_file", "deactivate_file_folio", (x) => !x.test(PG.unevictable)));
}

/** `folio_mark_lazyfree`: queue a clean swap-backed anonymous folio to `lru_lazyfree`. */
export function folioMarkLazyfree(f: Folio): TaskGen<void> {
  return traced(
    "folio_mark_lazyfree",
    queueIf(f, "lru_lazyfree", "folio_mark_lazyfree", (x) => folioTestAnon(x) && x.test(PG.swapbacked) && !x.test(PG.swapcache) && !x.test(PG.unevictable)),
  );
}

/** `folio_rotate_reclaimable`: queue to `lru_move_tail` unless locked, dirty or unevictable. */
export function folioRotateReclaimable(f: Folio): TaskGen<void> {
  return traced(
    "folio_rotate_reclaimable",
    queueIf(f, "lru_move_tail", "folio_rotate_reclaimable", (x) => !x.test(PG.locked) && !x.test(PG.dirty) && !x.test(PG.unevictable)),
  );
}

// ---------------------------------------------------------------- drains

/** `lru_add_drain_cpu(cpu)`: flush every non-empty batch of `cpu`, in kernel order. */
export function lruAddDrainCpu(cpu: number): TaskGen<void> {
  return traced("lru_add_drain_cpu", lruAddDrainCpuBody(cpu));
}

function* lruAddDrainCpuBody(cpu: number): TaskGen<void> {
  const s = getLru(currentMachine());
  const fb = s.cpuFbatches.get(cpu);
  const batches = LRU_BATCHES.map((b) => fb.batches[b]);
  const counts = yield* op({
    kind: "folio_batch_count",
    label: "folio_batch_count(cpu_fbatches)",
    reads: batches,
    cost: "plain",
    run: () => batches.map((b) => b.count),
  });
  for (let i = 0; i < batches.length; i++) {
    if (counts[i] === 0) continue;
    if (batches[i].batch === "lru_move_tail") {
      yield* localLock(fb.lockIrq);
      yield* folioBatchMoveLru(batches[i]);
      yield* localUnlock(fb.lockIrq);
    } else {
      yield* folioBatchMoveLru(batches[i]);
    }
  }
}

/** `lru_add_drain`: this CPU's LRU batches, then its mlock batch. */
export function lruAddDrain(): TaskGen<void> {
  return traced("lru_add_drain", countedLruAddDrain());
}

/** Every explicit `lru_add_drain()` call is counted (the `lru_add_drain` metric); the per-CPU work is not. */
function* countedLruAddDrain(): TaskGen<void> {
  currentMachine().count("lru_add_drain");
  yield* lruAddDrainBody();
}

function* lruAddDrainBody(): TaskGen<void> {
  const cpu = smpProcessorId();
  const fb = getLru(currentMachine()).cpuFbatches.get(cpu);
  yield* localLock(fb.lock);
  yield* lruAddDrainCpu(cpu);
  yield* localUnlock(fb.lock);
  yield* mlockDrainLocal();
}

/** `lru_add_drain_per_cpu` → `lru_add_and_bh_lrus_drain` (no bh LRUs): the work item's function. */
function lruAddDrainPerCpu(): TaskGen<void> {
  return traced("lru_add_drain_per_cpu", lruAddDrainBody());
}

/** `per_cpu(lru_add_drain_work, cpu)` after `INIT_WORK(work, lru_add_drain_per_cpu)`. */
function lruAddDrainWork(s: LruState, cpu: number): Work {
  return (s.lruAddDrainWork[cpu] ??= new Work(`lru_add_drain_work/${cpu}`, lruAddDrainPerCpu));
}

/** `cpu_needs_drain(cpu)`: any of the six batches or the mlock batch is non-empty. Pure (a racy read). */
export function cpuNeedsDrain(m: Machine, cpu: number): boolean {
  const fb = getLru(m).cpuFbatches.get(cpu);
  for (const b of LRU_BATCHES) if (fb.batches[b].count > 0) return true;
  return needMlockDrain(m, cpu);
}

function cpuNeedsDrainOp(s: LruState, cpu: number): Op<boolean> {
  const fb = s.cpuFbatches.get(cpu);
  return op({
    kind: "cpu_needs_drain",
    label: `cpu_needs_drain(${cpu})`,
    // Racy reads of whether each count is zero (lruvec.ts batchWrites).
    reads: [...LRU_BATCHES.map((b) => fb.batches[b].nonEmpty), s.mlockFbatch.get(cpu).fbatch.nonEmpty],
    cost: "cpuNeedsDrain",
    run: (m) => cpuNeedsDrain(m, cpu),
  });
}

/** What a `lru-drain-all-local-first` hook is handed. */
const DRAIN_OPS = { lruAddDrain: () => lruAddDrain() };

/** `__lru_add_drain_all(force_all_cpus)`. */
function* lruAddDrainAllBody(force: boolean): TaskGen<void> {
  const m = currentMachine();
  const s = getLru(m);
  const gen = s.lruDrainGen;
  m.count(force ? "lru_add_drain_all_forced" : "lru_add_drain_all");
  // smp_mb(); this_gen = smp_load_acquire(&lru_drain_gen);
  const thisGen = yield* op({ kind: "load_acquire", label: "smp_load_acquire(lru_drain_gen)", reads: [gen], cost: "atomic", run: () => gen.value });
  // Hugh Dickins, 6.18: it helps everyone if we do our own local drain immediately.
  const afterSnapshot = lruDrainAllPolicy(m).afterSnapshot;
  if (afterSnapshot) yield* afterSnapshot(DRAIN_OPS);
  yield* mutexLock(s.drainAllLock);
  const cur = yield* op({ kind: "load", label: "READ_ONCE(lru_drain_gen)", reads: [gen], cost: "plain", run: () => gen.value });
  if (!force && cur !== thisGen) {
    // Someone took the mutex after our snapshot and queued a full drain that covers us.
    m.count("lru_add_drain_all_skipped");
    m.event("lru_add_drain_all_skip").arg("this_gen", thisGen).arg("lru_drain_gen", cur);
  } else {
    yield* op({
      kind: "store",
      label: "WRITE_ONCE(lru_drain_gen, lru_drain_gen + 1); smp_mb()",
      writes: [gen],
      cost: "atomic",
      run: (mm) => {
        gen.value = cur + 1;
        mm.markWrite(gen);
      },
    });
    const hasWork: number[] = [];
    for (let cpu = 0; cpu < m.cpuCount; cpu++) {
      if (!(yield* cpuNeedsDrainOp(s, cpu))) continue;
      yield* queueWorkOn(cpu, lruAddDrainWork(s, cpu));
      hasWork.push(cpu);
    }
    m.event("lru_add_drain_all_queued").arg("cpus", hasWork.join(","));
    for (const cpu of hasWork) yield* flushWork(lruAddDrainWork(s, cpu));
  }
  yield* mutexUnlock(s.drainAllLock);
}

/**
 * `lru_add_drain_all`: drain every CPU's batches through its own kworker and wait for
 * all of them. Sleeps; never returns while some CPU with pending batches cannot run
 * its kworker.
 */
export function lruAddDrainAll(): TaskGen<void> {
  return traced("lru_add_drain_all", lruAddDrainAllBody(false));
}

/**
 * `lru_cache_disable`: bump `lru_disable_count`, wait for an expedited RCU grace
 * period (every CPU leaves any batch-add section it is in and will see the count),
 * then force a full drain ignoring the generation short-circuit.
 */
export function lruCacheDisable(): TaskGen<void> {
  return traced("lru_cache_disable", lruCacheDisableBody());
}

function* lruCacheDisableBody(): TaskGen<void> {
  const s = getLru(currentMachine());
  yield* atomicAdd(s.lruDisableCount, 1);
  yield* synchronizeRcuExpedited();
  yield* traced("__lru_add_drain_all", lruAddDrainAllBody(true));
}

/** `lru_cache_enable`: `atomic_dec(&lru_disable_count)`. */
export function lruCacheEnable(): TaskGen<void> {
  return traced("lru_cache_enable", lruCacheEnableBody());
}

function* lruCacheEnableBody(): TaskGen<void> {
  const s = getLru(currentMachine());
  const old = yield* atomicAdd(s.lruDisableCount, -1);
  if (old <= 0) throw new ModelError("lru_cache_enable", "lru_disable_count", `unbalanced: count was ${old}`);
}

export type LruCacheDrained = "NOT_DRAINED" | "DRAINED" | "DRAINED_ALL";

function refsExplained(f: Folio, extraRefs: number): Op<boolean> {
  return op({
    kind: "folio_check",
    label: "folio_ref_count == folio_expected_ref_count + extra_refs",
    reads: [f.ref, f.map, f.flagsWord],
    cost: "plain",
    run: () => f.refcount === folioExpectedRefCount(f) + extraRefs,
  });
}

/**
 * `lru_cache_drain_for_folio(folio, extra_refs, *drained)` (the 2026 GUP helper,
 * reference §2.7): nothing for a large folio; otherwise, while the count is not
 * `expected + extra_refs`, a local drain, then (once per `drained` state) a global one.
 */
export function lruCacheDrainForFolio(f: Folio, extraRefs: number, drained: { state: LruCacheDrained } | null): TaskGen<void> {
  return traced("lru_cache_drain_for_folio", lruCacheDrainForFolioBody(f, extraRefs, drained));
}

function* lruCacheDrainForFolioBody(f: Folio, extraRefs: number, drained: { state: LruCacheDrained } | null): TaskGen<void> {
  if (!folioMayBeLruCached(f)) return;
  if (!drained || drained.state === "NOT_DRAINED") {
    if (yield* refsExplained(f, extraRefs)) return;
    yield* lruAddDrain();
    if (drained) drained.state = "DRAINED";
  }
  if (!drained || drained.state === "DRAINED") {
    if (yield* refsExplained(f, extraRefs)) return;
    yield* lruAddDrainAll();
    if (drained) drained.state = "DRAINED_ALL";
  }
}
