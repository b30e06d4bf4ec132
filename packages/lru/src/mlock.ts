/**
 * The batch half of mm/mlock.c: the per-CPU `mlock_fbatch` and its tagged entries,
 * `mlock_folio`, `mlock_new_folio`, `munlock_folio`, `mlock_folio_batch` with
 * `__mlock_folio`, `__mlock_new_folio`, `__munlock_folio`, `mlock_drain_local`,
 * `mlock_drain_remote`, `need_mlock_drain`.
 *
 * The syscalls and page walks (`mlock_vma_pages_range`, `mlock_pte_range`,
 * `mlock_vma_folio`) belong to @foliosim/mm, which calls these.
 *
 * Simplifications: NR_MLOCK and the UNEVICTABLE_* vm events are machine counters
 * (`nr_mlock`, `unevictable_pgs_mlocked`, ...); one lruvec, so the relock helpers only
 * take the lock when not already held. Each of `__mlock_folio`/`__munlock_folio`'s
 * bodies after its `folio_test_clear_lru` runs as one step under the lruvec lock.
 * The batch reference taken before the folio sits in a slot is held as "mlock_pending"
 * (see `pendingHolder`).
 */

import {
  PF_MEMALLOC_PIN,
  PG,
  folioEvictable,
  folioGet,
  folioMayBeLruCached,
  folioNrPages,
  pfnHex,
  putNow,
  transferHolder,
  type Folio,
} from "@foliosim/folio";
import { ModelError, current, currentMachine, localLock, localUnlock, op, smpProcessorId, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import {
  FOLIO_BATCH_SIZE,
  MLOCK_HOLDER,
  batchWrites,
  checkBatchStep,
  folioTestClearLruOnList,
  getLru,
  lruvecAddFolio,
  lruvecDelFolio,
  lruvecLock,
  lruvecUnlock,
  pendingHolder,
  setLruNow,
  traceLruInsertion,
  type LruState,
  type MlockBatch,
  type MlockTag,
} from "./lruvec.js";
import { johnMemallocPin } from "./variants/john-memalloc-pin.js";

/** `need_mlock_drain(cpu)`: the count of that CPU's mlock batch (a racy read). Pure. */
export function needMlockDrain(m: Machine, cpu: number): boolean {
  return getLru(m).mlockFbatch.get(cpu).fbatch.count > 0;
}

function statMlock(m: Machine, f: Folio): void {
  const nr = folioNrPages(f);
  m.count("nr_mlock", nr);
  m.count("unevictable_pgs_mlocked", nr);
}

/** `folio_batch_add` on the mlock batch, plus the immediate-flush test of the queueing functions. */
function mlockBatchAdd(s: LruState, fb: MlockBatch, f: Folio, tag: MlockTag, pinFlush: boolean): Op<boolean> {
  const writes = batchWrites(fb, 1);
  return op({
    kind: "folio_batch_add",
    label: `folio_batch_add(mlock_fbatch, ${tag})`,
    writes,
    reads: [s.lruDisableCount],
    cost: "folioBatchAdd",
    run: (m) => {
      if (fb.count >= FOLIO_BATCH_SIZE) throw new ModelError("folio_batch_add", fb.name, "batch already full");
      checkBatchStep("folio_batch_add", fb, 1, writes);
      fb.entries.push({ folio: f, tag });
      transferHolder(f, pendingHolder(MLOCK_HOLDER), MLOCK_HOLDER);
      m.markWrite(fb);
      const full = fb.count === FOLIO_BATCH_SIZE;
      return full || !folioMayBeLruCached(f) || s.lruDisableCount.value !== 0 || pinFlush;
    },
  });
}

function* queueMlock(f: Folio, tag: MlockTag, prepare: Op<unknown> | null): TaskGen<void> {
  const m = currentMachine();
  const s = getLru(m);
  const mb = s.mlockFbatch.get(smpProcessorId());
  yield* localLock(mb.lock);
  if (prepare) yield* prepare;
  yield* folioGet(f, pendingHolder(MLOCK_HOLDER));
  // John Hubbard's suggestion: a PF_MEMALLOC_PIN task never leaves a new folio batched.
  const pinFlush = tag === "NEW_FOLIO" && johnMemallocPin(m) && (current().flags & PF_MEMALLOC_PIN) !== 0;
  if (yield* mlockBatchAdd(s, mb.fbatch, f, tag, pinFlush)) yield* mlockFolioBatch(mb.fbatch);
  yield* localUnlock(mb.lock);
}

/**
 * `mlock_folio`: for a folio that may already be on an LRU (reached from
 * `mlock_vma_folio` when a folio gets a new rmap in a locked vma). Sets PG_mlocked now;
 * the LRU placement waits for the batch.
 */
export function mlockFolio(f: Folio): TaskGen<void> {
  const setMlocked = op({
    kind: "folio_test_set_flag",
    label: "folio_test_set_mlocked",
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (f.test(PG.mlocked)) return;
      f.setBits(PG.mlocked);
      m.markWrite(f.flagsWord);
      statMlock(m, f);
    },
  });
  return traced("mlock_folio", queueMlock(f, "LRU_FOLIO", setMlocked));
}

/**
 * `mlock_new_folio`: for a brand-new folio in a locked vma (from `folio_add_lru_vma`).
 * It bypasses the `lru_add` batch: until the mlock batch runs, PG_lru stays clear.
 */
export function mlockNewFolio(f: Folio): TaskGen<void> {
  const setMlocked = op({
    kind: "folio_set_flag",
    label: "folio_set_mlocked",
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (!f.test(PG.mlocked)) {
        f.setBits(PG.mlocked);
        m.markWrite(f.flagsWord);
      }
      statMlock(m, f);
    },
  });
  return traced("mlock_new_folio", queueMlock(f, "NEW_FOLIO", setMlocked));
}

/** `munlock_folio`: PG_mlocked is left to `__munlock_folio`, which checks `mlock_count`. */
export function munlockFolio(f: Folio): TaskGen<void> {
  return traced("munlock_folio", queueMlock(f, "munlock", null));
}

/** `__mlock_folio`'s body after a successful `folio_test_clear_lru`, under the lruvec lock. */
function mlockFolioLocked(s: LruState, f: Folio): Op<void> {
  return op({
    kind: "lru_move",
    label: "__mlock_folio",
    // folio_evictable: mapping_unevictable(folio->mapping).
    reads: [f.map],
    writes: [s.lruvec, f.flagsWord],
    cost: "lruMoveFolio",
    run: (m) => {
      const nr = folioNrPages(f);
      if (folioEvictable(f)) {
        // PG_mlocked got cleared already by another CPU: rescue it if unevictable.
        if (f.test(PG.unevictable)) {
          lruvecDelFolio(m, s, f);
          f.clearBits(PG.unevictable);
          lruvecAddFolio(m, s, f);
          m.count("unevictable_pgs_rescued", nr);
        }
      } else if (f.test(PG.unevictable)) {
        if (f.test(PG.mlocked)) f.mlockCount++;
      } else {
        lruvecDelFolio(m, s, f);
        f.clearBits(PG.active);
        f.setBits(PG.unevictable);
        f.mlockCount = f.test(PG.mlocked) ? 1 : 0;
        lruvecAddFolio(m, s, f);
        m.count("unevictable_pgs_culled", nr);
      }
      m.markWrite(f.flagsWord);
      setLruNow(m, s, f);
      m.event("mlock_folio_batch", f.name).arg("pfn", pfnHex(f.pfn)).arg("op", "__mlock_folio").arg("lru", f.lruList).arg("mlock_count", f.mlockCount);
    },
  });
}

/** `__mlock_new_folio`, under the lruvec lock. */
function mlockNewFolioLocked(s: LruState, f: Folio): Op<void> {
  return op({
    kind: "lru_move",
    label: "__mlock_new_folio",
    reads: [f.map],
    writes: [s.lruvec, f.flagsWord],
    cost: "lruMoveFolio",
    run: (m) => {
      if (f.test(PG.lru) || f.lruList !== null) throw new ModelError("__mlock_new_folio", f.name, "VM_BUG_ON_FOLIO(folio_test_lru(folio)): a new folio is already on an LRU");
      if (!folioEvictable(f)) {
        f.setBits(PG.unevictable);
        f.mlockCount = f.test(PG.mlocked) ? 1 : 0;
        m.count("unevictable_pgs_culled", folioNrPages(f));
      }
      lruvecAddFolio(m, s, f);
      m.markWrite(f.flagsWord);
      setLruNow(m, s, f);
      traceLruInsertion(m, f);
      m.event("mlock_folio_batch", f.name).arg("pfn", pfnHex(f.pfn)).arg("op", "__mlock_new_folio").arg("lru", f.lruList).arg("mlock_count", f.mlockCount);
    },
  });
}

/** `__munlock_folio`; `isolated` is whether its `folio_test_clear_lru` succeeded (then under the lruvec lock). */
function munlockFolioBody(s: LruState, f: Folio, isolated: boolean): Op<void> {
  return op({
    kind: "lru_move",
    label: "__munlock_folio",
    reads: [f.map],
    writes: isolated ? [s.lruvec, f.flagsWord] : [f.flagsWord],
    cost: isolated ? "lruMoveFolio" : "atomic",
    run: (m) => {
      const nr = folioNrPages(f);
      let keep = false;
      if (isolated && f.test(PG.unevictable)) {
        // mlock_count is maintained while unevictable, but might undercount.
        if (f.mlockCount) f.mlockCount--;
        if (f.mlockCount) keep = true;
      }
      if (!keep) {
        if (f.test(PG.mlocked)) {
          f.clearBits(PG.mlocked);
          m.count("nr_mlock", -nr);
          if (isolated || !f.test(PG.unevictable)) m.count("unevictable_pgs_munlocked", nr);
          else m.count("unevictable_pgs_stranded", nr);
        }
        // folio_evictable() has to be checked after clearing PG_mlocked.
        if (isolated && f.test(PG.unevictable) && folioEvictable(f)) {
          lruvecDelFolio(m, s, f);
          f.clearBits(PG.unevictable);
          lruvecAddFolio(m, s, f);
          m.count("unevictable_pgs_rescued", nr);
        }
      }
      m.markWrite(f.flagsWord);
      if (isolated) setLruNow(m, s, f);
      m.event("mlock_folio_batch", f.name).arg("pfn", pfnHex(f.pfn)).arg("op", "__munlock_folio").arg("lru", f.lruList).arg("mlock_count", f.mlockCount);
    },
  });
}

/** One slot of `folios_put` at the end of `mlock_folio_batch`: the slot and its reference go together. */
function mlockFoliosPutOne(fb: MlockBatch): Op<void> {
  const f = fb.entries[0].folio;
  const writes = [...batchWrites(fb, -1), f.ref];
  return op({
    kind: "folio_put",
    label: "folios_put",
    writes,
    cost: "foliosPutOne",
    run: (m) => {
      checkBatchStep("folios_put", fb, -1, writes);
      const e = fb.entries.shift()!;
      m.markWrite(fb);
      putNow(m, e.folio, 1, MLOCK_HOLDER, "folios_put");
    },
  });
}

/**
 * `mlock_folio_batch`: process every entry by its tag, then drop the batch references.
 * Called with the batch's local lock held.
 */
export function mlockFolioBatch(fb: MlockBatch): TaskGen<void> {
  return traced("mlock_folio_batch", mlockFolioBatchBody(fb));
}

function* mlockFolioBatchBody(fb: MlockBatch): TaskGen<void> {
  const m = currentMachine();
  const s = getLru(m);
  m.count("mlock_folio_batch");
  let locked = false;
  const entries = fb.entries.slice(); // the local lock keeps other tasks out of this batch
  for (const { folio: f, tag } of entries) {
    if (tag === "LRU_FOLIO") {
      // There is nothing more to do while it is off the LRU.
      if (!(yield* folioTestClearLruOnList(s, f, "__mlock_folio"))) continue;
      if (!locked) yield* lruvecLock(s, "folio_lruvec_relock_irq");
      locked = true;
      yield* mlockFolioLocked(s, f);
    } else if (tag === "NEW_FOLIO") {
      if (!locked) yield* lruvecLock(s, "folio_lruvec_relock_irq");
      locked = true;
      yield* mlockNewFolioLocked(s, f);
    } else {
      const isolated = yield* folioTestClearLruOnList(s, f, "__munlock_folio");
      if (isolated && !locked) {
        yield* lruvecLock(s, "folio_lruvec_relock_irq");
        locked = true;
      }
      yield* munlockFolioBody(s, f, isolated);
    }
  }
  if (locked) yield* lruvecUnlock(s, "unlock_page_lruvec_irq");
  while (fb.count > 0) yield* mlockFoliosPutOne(fb);
}

/** `mlock_drain_local`: process this CPU's mlock batch if it is not empty. */
export function mlockDrainLocal(): TaskGen<void> {
  return traced("mlock_drain_local", mlockDrainBody(smpProcessorId()));
}

/**
 * `mlock_drain_remote(cpu)`: only valid for a dead CPU (the kernel warns if it is
 * online); the model has no hotplug, so a caller must know nothing runs on `cpu`.
 */
export function mlockDrainRemote(cpu: number): TaskGen<void> {
  return traced("mlock_drain_remote", mlockDrainBody(cpu, false));
}

function* mlockDrainBody(cpu: number, lock = true): TaskGen<void> {
  const s = getLru(currentMachine());
  const mb = s.mlockFbatch.get(cpu);
  if (lock) yield* localLock(mb.lock);
  const n = yield* op({ kind: "folio_batch_count", label: "folio_batch_count(mlock_fbatch)", reads: [mb.fbatch], cost: "plain", run: () => mb.fbatch.count });
  if (n > 0) yield* mlockFolioBatch(mb.fbatch);
  if (lock) yield* localUnlock(mb.lock);
}
