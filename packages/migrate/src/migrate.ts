/**
 * Page migration (mm/migrate.c): `migrate_pages`, `migrate_pages_sync`,
 * `migrate_pages_batch` (unmap stage, then move stage), `migrate_folio_unmap`,
 * `migrate_folio_move`, `move_to_new_folio`, `migrate_folio` → `__migrate_folio`,
 * `__folio_migrate_mapping` (the expected-reference check, reference §5.7),
 * `folio_migrate_flags`, the undo paths, `migrate_folio_done`,
 * `putback_movable_pages` and `alloc_migration_target`; and move_pages(2)
 * (`kernel_move_pages`, `do_pages_move`, `add_page_for_migration`,
 * `move_pages_and_store_status`, `do_move_pages_to_node`, `store_status`,
 * `do_pages_stat_array`) at the end of the file.
 *
 * Lists are arrays of folios the caller owns: folios that migrate leave `from` (and
 * are freed once their isolation reference goes); folios that fail stay on it, for
 * the caller's `putback_movable_pages`.
 *
 * Simplifications: no hugetlb, no THP splitting (large folios migrate whole), no
 * movable-ops (non-LRU) pages, no writeback, no buffer heads beyond PG_private; the
 * batch limit is kept but scenarios never reach it. The retry variants proposed on
 * the lists plug in at the exact places their patches touch (see ./variants).
 */

import {
  folioExpectedRefCount,
  folioLock,
  folioMapped,
  folioNrPages,
  folioIsZoneDevice,
  folioPut,
  folioTryGet,
  folioTrylock,
  folioUnlock,
  getNow,
  PF_MEMALLOC,
  PG,
  refFreezeNow,
  refUnfreezeNow,
  VM_IO,
  VM_PFNMAP,
  type Folio,
  type PhysicalMemory,
} from "@foliosim/folio";
import { folioAddLru, folioIsolateLru, folioPutbackLru, lruAddDrain, lruCacheDisable, lruCacheEnable, ISOLATED_HOLDER } from "@foliosim/lru";
import { findVma, followPagePte, mmapReadLock, mmapReadUnlock, pteLock, pteUnlock, removeMigrationPtes, tryToMigrate, type MmStruct } from "@foliosim/mm";
import { condResched, current, currentMachine, defineCosts, noteRead, op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import type { MoveAgain } from "./variants/points.js";
import { migratePolicy } from "./variants/retry-policy.js";

export const MIGRATE_COSTS = {
  /** `folio_mc_copy` of one 4 KiB page: a machine-check-safe copy at a few GB/s, about 1 us. */
  pageCopy: 1000,
  /** `try_to_unmap_flush`: a batched TLB shootdown, an IPI round on a small machine. */
  tlbFlush: 2000,
  /** Per-folio bookkeeping of a migration pass (list walk, stats, page state checks). */
  migratePass: 50,
} as const;
defineCosts(MIGRATE_COSTS);

export type MigrateMode = "MIGRATE_ASYNC" | "MIGRATE_SYNC_LIGHT" | "MIGRATE_SYNC";

/** `enum migrate_reason` (include/linux/migrate_mode.h), in order. */
export const MR = {
  MR_COMPACTION: 0,
  MR_MEMORY_FAILURE: 1,
  MR_MEMORY_HOTPLUG: 2,
  MR_SYSCALL: 3,
  MR_MEMPOLICY_MBIND: 4,
  MR_NUMA_MISPLACED: 5,
  MR_CONTIG_RANGE: 6,
  MR_LONGTERM_PIN: 7,
  MR_DEMOTION: 8,
  MR_DAMON: 9,
} as const;
export type MigrateReason = keyof typeof MR;

export const NR_MAX_BATCHED_MIGRATION = 512;
export const NR_MAX_MIGRATE_PAGES_RETRY = 10;
export const NR_MAX_MIGRATE_ASYNC_RETRY = 3;
export const NR_MAX_MIGRATE_SYNC_RETRY = NR_MAX_MIGRATE_PAGES_RETRY - NR_MAX_MIGRATE_ASYNC_RETRY;

export const MIGRATEPAGE_SUCCESS = 0;
const MIGRATEPAGE_UNMAP = 1;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EBUSY = -16;

/** Allocates the destination of a folio (`new_folio_t`). */
export type NewFolioFn = (src: Folio) => TaskGen<Folio | null>;
/** Frees an unused destination (`free_folio_t`); null means `folio_put`. */
export type PutNewFolioFn = ((dst: Folio) => TaskGen<void>) | null;

/** Holder of the destination's allocation reference until `migrate_folio_move` drops it. */
export const MIGRATE_DST_HOLDER = "alloc";

interface Unmapped {
  src: Folio;
  dst: Folio;
  wasMapped: boolean;
  wasMlocked: boolean;
}

export interface MigrateContext {
  getNewFolio: NewFolioFn;
  putNewFolio: PutNewFolioFn;
  mode: MigrateMode;
  reason: MigrateReason;
}

/**
 * `alloc_migration_target`: a destination of the same order, never from a movable
 * zone or CMA for longterm pins (GFP_USER, no __GFP_MOVABLE).
 */
export function allocMigrationTarget(memory: PhysicalMemory, reason: MigrateReason, target?: { nid: number; thisNode: boolean }): NewFolioFn {
  return function* (src: Folio) {
    const movable = reason !== "MR_LONGTERM_PIN";
    // mtc->nid, or NUMA_NO_NODE: the source's node (folio_nid(src)).
    const nid = target?.nid ?? src.nid;
    return yield* memory.allocFolio({ movable, order: src.order, nid, thisNode: target?.thisNode }, MIGRATE_DST_HOLDER);
  };
}

function countRetry(): Op<void> {
  return op({ kind: "migrate_retry", label: "migrate retry (-EAGAIN)", cost: 0, run: (m) => m.count("migrate_retry") });
}

/** Read `folio_ref_count` (one atomic read). */
function folioRefCount(f: Folio): Op<number> {
  return op({ kind: "folio_ref_count", label: "folio_ref_count", reads: [f.ref], cost: "plain", run: () => f.refcount });
}

// ----------------------------------------------------------------- undo and done

/** `migrate_folio_undo_src`: restore mappings, unlock, and move to `ret` (unless retrying). */
function* migrateFolioUndoSrc(src: Folio, wasMapped: boolean, locked: boolean, from: Folio[], ret: Folio[] | null): TaskGen<void> {
  if (wasMapped) yield* removeMigrationPtes(src, src);
  if (locked) yield* folioUnlock(src);
  if (ret) moveTo(src, from, ret);
}

/** `migrate_folio_undo_dst`: unlock and free the unused destination. */
function* migrateFolioUndoDst(dst: Folio, locked: boolean, ctx: MigrateContext): TaskGen<void> {
  if (locked) yield* folioUnlock(dst);
  if (ctx.putNewFolio) yield* ctx.putNewFolio(dst);
  else yield* folioPut(dst, MIGRATE_DST_HOLDER);
}

/** `migrate_folio_done`: drop the isolation reference (normally freeing the source). */
function* migrateFolioDone(src: Folio, reason: MigrateReason): TaskGen<void> {
  if (reason !== "MR_MEMORY_FAILURE") yield* folioPut(src, ISOLATED_HOLDER, "migrate_folio_done");
}

function moveTo(f: Folio, from: Folio[], to: Folio[]): void {
  const i = from.indexOf(f);
  if (i >= 0) from.splice(i, 1);
  to.push(f);
}

function remove(f: Folio, list: Folio[]): void {
  const i = list.indexOf(f);
  if (i >= 0) list.splice(i, 1);
}

// ----------------------------------------------------------------- unmap

type UnmapResult = { rc: number; unmapped?: Unmapped };

/** `migrate_folio_unmap`: lock the source, allocate and lock the destination, unmap. */
function* migrateFolioUnmap(src: Folio, from: Folio[], ret: Folio[], ctx: MigrateContext): TaskGen<UnmapResult> {
  if ((yield* folioRefCount(src)) === 1) {
    // Freed from under us: our isolation reference is the last one.
    yield* op({
      kind: "folio_clear_flag",
      label: "folio_clear_active/unevictable",
      writes: [src.flagsWord],
      cost: "atomic",
      run: (m) => {
        src.clearBits(PG.active | PG.unevictable);
        m.markWrite(src.flagsWord);
      },
    });
    remove(src, from);
    yield* migrateFolioDone(src, ctx.reason);
    return { rc: MIGRATEPAGE_SUCCESS };
  }
  const dst = yield* ctx.getNewFolio(src);
  if (!dst) return { rc: ENOMEM };
  let rc = EAGAIN;
  let locked = false;
  let dstLocked = false;
  let wasMapped = false;
  let wasMlocked = false;
  fail: {
    if (!(yield* folioTrylock(src))) {
      if (ctx.mode === "MIGRATE_ASYNC") break fail;
      if (current().flags & PF_MEMALLOC) break fail;
      if (ctx.mode === "MIGRATE_SYNC_LIGHT" && !src.test(PG.uptodate)) break fail;
      yield* folioLock(src);
    }
    locked = true;
    noteRead(src.flagsWord); // PG_mlocked, PG_writeback
    wasMlocked = src.test(PG.mlocked);
    if (src.test(PG.writeback) && ctx.mode !== "MIGRATE_SYNC") {
      rc = EBUSY;
      break fail;
    }
    if (!(yield* folioTrylock(dst))) break fail;
    dstLocked = true;
    noteRead(src.map); // the mapping, PG_private
    noteRead(src.flagsWord);
    if (!src.mapping) {
      if (src.test(PG.private)) break fail; // buffer-only folio: freeable, not migratable
    } else if (folioMapped(src)) {
      yield* tryToMigrate(src);
      wasMapped = true;
    }
    if (!folioMapped(src)) {
      const unmappedHook = migratePolicy(currentMachine()).unmapped;
      if (unmappedHook && (yield* unmappedHook(src, ctx))) break fail;
      return { rc: MIGRATEPAGE_UNMAP, unmapped: { src, dst, wasMapped, wasMlocked } };
    }
  }
  // A folio that has not been unmapped goes back to `ret` unless it will be retried.
  yield* migrateFolioUndoSrc(src, wasMapped, locked, from, rc === EAGAIN ? null : ret);
  yield* migrateFolioUndoDst(dst, dstLocked, ctx);
  return { rc };
}

// ----------------------------------------------------------------- move

/** `folio_migrate_flags`: uptodate, dirty, active/unevictable, workingset, referenced; clears swapcache/private. */
function folioMigrateFlagsNow(dst: Folio, src: Folio): void {
  for (const flag of [PG.uptodate, PG.dirty, PG.referenced, PG.workingset, PG.swapbacked]) if (src.test(flag)) dst.setBits(flag);
  if (src.test(PG.active)) {
    src.clearBits(PG.active);
    dst.setBits(PG.active);
  } else if (src.test(PG.unevictable)) {
    src.clearBits(PG.unevictable);
    dst.setBits(PG.unevictable);
  }
  src.clearBits(PG.swapcache | PG.private);
}

/** `folio_expected_refs(mapping, src)` (+ `extra`): what the isolated, unmapped source may hold. */
function folioExpectedRefs(src: Folio, extra: number): number {
  return folioExpectedRefCount(src) + 1 + extra;
}

/** A page-cache (or shmem, swap-cache) folio: its references are frozen while the cache entry is switched. */
function isCached(src: Folio): boolean {
  return src.mapping !== null && src.mapping.kind !== "anon";
}

function mismatch(m: Machine, src: Folio, expected: number, at?: string): number {
  const e = m.event("migrate_refcount_mismatch", src.name).arg("count", src.refcount).arg("expected", expected);
  if (at) e.arg("at", at);
  return EAGAIN;
}

/**
 * The body of `__folio_migrate_mapping(mapping, dst, src, expected)`. Without a mapping
 * (an anonymous folio not in the swap cache) nothing is frozen for a small folio — "no
 * turning back from here" — and a large one is frozen and unfrozen at `expected` (to
 * take it off the deferred split queue). A page-cache folio is frozen at `expected`
 * under the xarray lock, the cache entry switched, and the old folio unfrozen without
 * the cache references. Returns -EAGAIN when the freeze fails.
 */
function folioMigrateMappingNow(m: Machine, dst: Folio, src: Folio, expected: number, freezeLarge: boolean): number {
  const mapping = src.mapping;
  if (!isCached(src)) {
    if (freezeLarge && src.order > 0) {
      if (!refFreezeNow(m, src, expected)) return mismatch(m, src, expected, "folio_ref_freeze");
      refUnfreezeNow(m, src, expected);
    }
    dst.index = src.index;
    dst.mapping = mapping;
    if (src.test(PG.swapbacked)) dst.setBits(PG.swapbacked);
    m.markWrite(dst.map);
    return MIGRATEPAGE_SUCCESS;
  }
  if (!refFreezeNow(m, src, expected)) return mismatch(m, src, expected, "folio_ref_freeze");
  const nr = folioNrPages(src);
  dst.index = src.index;
  dst.mapping = mapping;
  getNow(m, dst, nr, "pagecache", "__folio_migrate_mapping");
  if (src.test(PG.swapbacked)) dst.setBits(PG.swapbacked);
  if (src.test(PG.dirty)) {
    src.clearBits(PG.dirty);
    dst.setBits(PG.dirty);
  }
  mapping!.replaceFolio?.(src, dst);
  refUnfreezeNow(m, src, expected - nr, { pagecache: nr });
  m.markWrite(dst.map);
  return MIGRATEPAGE_SUCCESS;
}

function mappingWrites(dst: Folio, src: Folio) {
  const writes = [src.ref, dst.ref, src.map, dst.map, src.flagsWord, dst.flagsWord];
  const xa = src.mapping?.xaLock;
  if (xa) writes.push(xa);
  return writes;
}

/**
 * `folio_migrate_mapping(mapping, dst, src, extra)`: the reference check, then
 * `__folio_migrate_mapping`, with no work between them — one step here (used by
 * migrate_device.c's `migrate_vma_pages`).
 */
export function folioMigrateMapping(dst: Folio, src: Folio, extra: number): Op<number> {
  return op({
    kind: "folio_migrate_mapping",
    label: "__folio_migrate_mapping",
    writes: mappingWrites(dst, src),
    cost: "atomic",
    run: (m) => {
      const expected = folioExpectedRefs(src, extra);
      if (src.refcount !== expected) return mismatch(m, src, expected);
      return folioMigrateMappingNow(m, dst, src, expected, false);
    },
  });
}

/**
 * `__migrate_folio` (via `migrate_folio`), in the kernel's order: the reference check
 * ("before we do more work"), `folio_mc_copy`, then `__folio_migrate_mapping` with the
 * count the check expected, then `folio_migrate_flags`. The check and the freeze are
 * separate steps with the copy between them: a reference taken during the copy fails
 * the freeze of a page-cache (shmem, swap-cache) or large folio with -EAGAIN; a small
 * anonymous folio is not frozen, so it migrates and the late holder keeps the old one.
 */
export function* migrateFolio(dst: Folio, src: Folio, extra = 0): TaskGen<number> {
  const expected = yield* op({
    kind: "folio_ref_count",
    label: "folio_ref_count (__migrate_folio)",
    // folio_expected_refs: the mapping and mapcount, PG_swapcache and PG_private.
    reads: [src.ref, src.map, src.flagsWord],
    cost: "plain",
    run: (m) => {
      const want = folioExpectedRefs(src, extra);
      return src.refcount === want ? want : mismatch(m, src, want);
    },
  });
  if (expected === EAGAIN) return EAGAIN;
  yield* op({
    kind: "folio_mc_copy",
    label: "folio_mc_copy",
    // The contents live with the flags word (folio.ts wordDigest).
    reads: [src.map, src.flagsWord],
    writes: [dst.map, dst.flagsWord],
    cost: "plain",
    run: (m) => {
      m.chargeCpu(current().cpu, m.cost("pageCopy") * folioNrPages(src));
      dst.data = src.data;
      m.markWrite(dst.map);
    },
  });
  return yield* op({
    kind: "folio_migrate_mapping",
    label: "__folio_migrate_mapping",
    writes: mappingWrites(dst, src),
    cost: "atomic",
    run: (m) => {
      const rc = folioMigrateMappingNow(m, dst, src, expected, true);
      if (rc === MIGRATEPAGE_SUCCESS) folioMigrateFlagsNow(dst, src); // folio_migrate_flags
      return rc;
    },
  });
}

/** `move_to_new_folio`. */
function* moveToNewFolio(dst: Folio, src: Folio, _mode: MigrateMode): TaskGen<number> {
  const rc = yield* migrateFolio(dst, src);
  if (rc === MIGRATEPAGE_SUCCESS && src.mapping && src.mapping.kind !== "anon") {
    yield* op({
      kind: "folio_clear_mapping",
      label: "src->mapping = NULL",
      writes: [src.map],
      cost: "plain",
      run: (m) => {
        src.mapping = null;
        m.markWrite(src.map);
      },
    });
  }
  return rc;
}

/** `migrate_folio_move`: on success the destination replaces the source everywhere. */
function* migrateFolioMove(u: Unmapped, from: Folio[], ret: Folio[], ctx: MigrateContext): TaskGen<number> {
  const { src, dst } = u;
  const rc = yield* moveToNewFolio(dst, src, ctx.mode);
  if (rc !== MIGRATEPAGE_SUCCESS) {
    if (rc === EAGAIN) return rc; // stays locked and unmapped for the next pass
    yield* migrateFolioUndoSrc(src, u.wasMapped, true, from, ret);
    yield* migrateFolioUndoDst(dst, true, ctx);
    return rc;
  }
  yield* folioAddLru(dst);
  if (u.wasMlocked) yield* lruAddDrain();
  if (u.wasMapped) yield* removeMigrationPtes(src, dst);
  yield* folioUnlock(dst);
  yield* folioPut(dst, MIGRATE_DST_HOLDER);
  remove(src, from);
  yield* folioUnlock(src);
  yield* migrateFolioDone(src, ctx.reason);
  return MIGRATEPAGE_SUCCESS;
}

// ----------------------------------------------------------------- batch

/** What one move stage leaves behind: -EAGAIN count, failures, folios the in-batch back-off sent back to `from`. */
interface MoveStage {
  retry: number;
  nrFailed: number;
  backedOff: Unmapped[];
}

/**
 * A move-stage -EAGAIN the retry policy does not retry in place (David Hildenbrand's
 * PG_waiters back-off, ./variants/david-waiters-backoff.ts, and its in-batch
 * variation): undo source and destination; "give-up" leaves the folio on `ret_folios`
 * for the caller, "back-off" sends it through this batch's remaining unmap passes.
 */
function* backOff(action: Exclude<MoveAgain, "retry">, u: Unmapped, unmapped: Unmapped[], from: Folio[], ret: Folio[], ctx: MigrateContext, s: MoveStage): TaskGen<void> {
  const m = currentMachine();
  unmapped.splice(unmapped.indexOf(u), 1);
  if (action === "give-up") {
    // As the cleanup at the end of migrate_pages_batch: undone, on ret_folios, one failure; the caller retries.
    yield* migrateFolioUndoSrc(u.src, u.wasMapped, true, [], ret);
    yield* migrateFolioUndoDst(u.dst, true, ctx);
    s.nrFailed++;
  } else {
    // The in-batch variation: back on `from` for the unmap passes this batch has left.
    from.push(u.src);
    yield* migrateFolioUndoSrc(u.src, u.wasMapped, true, from, null);
    yield* migrateFolioUndoDst(u.dst, true, ctx);
    s.backedOff.push(u);
  }
  m.emit("migrate_waiters_backoff", u.src.name);
}

/** `migrate_folios_move`: one move pass over the unmapped folios. */
function* migrateFoliosMove(unmapped: Unmapped[], from: Folio[], ret: Folio[], ctx: MigrateContext, s: MoveStage): TaskGen<void> {
  for (const u of [...unmapped]) {
    yield* condResched();
    yield* op({ kind: "migrate_pass", label: "migrate_folio_move", cost: "migratePass", run: () => undefined });
    const rc = yield* migrateFolioMove(u, from, ret, ctx);
    if (rc === EAGAIN) {
      yield* countRetry();
      const moveAgain = migratePolicy(currentMachine()).moveAgain;
      const action = moveAgain ? yield* moveAgain(u.src, ctx) : "retry";
      if (action !== "retry") {
        yield* backOff(action, u, unmapped, from, ret, ctx, s);
        continue;
      }
      s.retry++;
      continue;
    }
    unmapped.splice(unmapped.indexOf(u), 1);
    if (rc !== MIGRATEPAGE_SUCCESS) s.nrFailed++;
  }
}

/**
 * `migrate_pages_batch`: up to `nrPass` unmap passes over `from`, then up to `nrPass`
 * move passes over what was unmapped. Returns the number of failures or -ENOMEM.
 */
export function* migratePagesBatch(from: Folio[], ret: Folio[], ctx: MigrateContext, nrPass: number): TaskGen<number> {
  let nrFailed = 0;
  let rcSaved = 0;
  let unmapped: Unmapped[] = [];
  let pass = 0;
  // The in-batch variation of David Hildenbrand's back-off sends backed-off folios through the unmap stage again.
  for (;;) {
    let retry = 1;
    unmapStage: for (; pass < nrPass && retry; pass++) {
      retry = 0;
      for (const folio of [...from]) {
        yield* condResched();
        const r = yield* migrateFolioUnmap(folio, from, ret, ctx);
        switch (r.rc) {
          case ENOMEM:
            nrFailed++;
            rcSaved = ENOMEM;
            break unmapStage;
          case EAGAIN: {
            retry++;
            yield* countRetry();
            const unmapAgain = migratePolicy(currentMachine()).unmapAgain;
            if (unmapAgain) yield* unmapAgain(folio, ctx);
            break;
          }
          case MIGRATEPAGE_SUCCESS:
            break;
          case MIGRATEPAGE_UNMAP:
            remove(folio, from);
            unmapped.push(r.unmapped!);
            break;
          default:
            nrFailed++; // permanent failure: already moved to ret
        }
      }
    }
    if (rcSaved === 0) nrFailed += retry;
    if (unmapped.length > 0) yield* op({ kind: "try_to_unmap_flush", label: "try_to_unmap_flush", cost: "tlbFlush", run: () => undefined });

    const stage: MoveStage = { retry: 1, nrFailed: 0, backedOff: [] };
    for (let movePass = 0; movePass < nrPass && stage.retry; movePass++) {
      stage.retry = 0;
      yield* migrateFoliosMove(unmapped, from, ret, ctx, stage);
    }
    nrFailed += stage.nrFailed + stage.retry;
    // Anything still unmapped after the passes is undone.
    for (const u of unmapped) {
      yield* migrateFolioUndoSrc(u.src, u.wasMapped, true, [], ret);
      yield* migrateFolioUndoDst(u.dst, true, ctx);
    }
    unmapped = [];
    // Backed-off folios are back on `from` and get the remaining unmap passes.
    if (stage.backedOff.length === 0 || pass >= nrPass || rcSaved) break;
  }
  // Folios left on `from` when the passes ran out stay there for the caller.
  return rcSaved || nrFailed;
}

/** `migrate_pages_sync`: the async batch passes, then each failed folio alone in `mode`. */
export function* migratePagesSync(from: Folio[], ret: Folio[], ctx: MigrateContext): TaskGen<number> {
  const asyncFailed: Folio[] = [];
  const rc = yield* migratePagesBatch(from, asyncFailed, { ...ctx, mode: "MIGRATE_ASYNC" }, NR_MAX_MIGRATE_ASYNC_RETRY);
  if (rc < 0) {
    ret.push(...asyncFailed);
    return rc;
  }
  // The failed folios have been fully undone (unlocked, mappings restored): retry one by one.
  from.push(...asyncFailed);
  let nrFailed = 0;
  while (from.length > 0) {
    const single = [from.shift()!];
    const r = yield* migratePagesBatch(single, ret, ctx, NR_MAX_MIGRATE_SYNC_RETRY);
    ret.push(...single);
    if (r < 0) return r;
    nrFailed += r;
  }
  return nrFailed;
}

/**
 * `migrate_pages`: migrate the isolated folios on `from`. Returns 0 when all migrated,
 * the number that did not, or -ENOMEM. Failed folios are left on `from`; the caller
 * puts them back (`putbackMovablePages`).
 */
export function migratePages(from: Folio[], getNewFolio: NewFolioFn, putNewFolio: PutNewFolioFn, mode: MigrateMode, reason: MigrateReason): TaskGen<number> {
  return traced("migrate_pages", migratePagesBody(from, { getNewFolio, putNewFolio, mode, reason }));
}

function* migratePagesBody(from: Folio[], ctx: MigrateContext): TaskGen<number> {
  const m = currentMachine();
  m.event("mm_migrate_pages_start").arg("mode", ctx.mode).arg("reason", ctx.reason);
  const policy = migratePolicy(m);
  if (policy.begin) yield* policy.begin(ctx);
  const ret: Folio[] = [];
  let rcGather = 0;
  while (from.length > 0) {
    const batch = from.splice(0, NR_MAX_BATCHED_MIGRATION);
    const rc =
      ctx.mode === "MIGRATE_ASYNC"
        ? yield* migratePagesBatch(batch, ret, ctx, NR_MAX_MIGRATE_PAGES_RETRY)
        : yield* migratePagesSync(batch, ret, ctx);
    ret.push(...batch);
    if (rc < 0) {
      rcGather = rc; // the folios not yet tried stay on `from`
      break;
    }
    rcGather += rc;
  }
  from.push(...ret);
  if (from.length === 0) rcGather = 0;
  if (policy.end) yield* policy.end(ctx);
  m.event("mm_migrate_pages").arg("failed", from.length).arg("rc", rcGather).arg("mode", ctx.mode).arg("reason", ctx.reason);
  return rcGather;
}

/** `putback_movable_pages`: every folio left on the list goes back to the LRU, dropping its isolation reference. */
export function* putbackMovablePages(list: Folio[]): TaskGen<void> {
  while (list.length > 0) {
    const f = list.shift()!;
    yield* folioPutbackLru(f);
  }
}


// ----------------------------------------------------------------- move_pages(2)

export const MPOL_MF_MOVE = 1 << 1;
export const MPOL_MF_MOVE_ALL = 1 << 2;

const EFAULT = -14;
const ENOENT = -2;
const EACCES = -13;
const ENODEV = -19;
const EINVAL = -22;

export interface MovePagesResult {
  /** The syscall's return: 0, a negative errno, or the number of pages not migrated. */
  ret: number;
  /** The user's `status` array: a node id or a negative errno per page (null: never written). */
  status: (number | null)[];
}

/**
 * `move_pages(0, nr_pages, pages, nodes, status, flags)` on `mm` (`kernel_move_pages`):
 * with `nodes`, `do_pages_move` — under `lru_cache_disable()` (every CPU's batches
 * drained, and no new batching, so isolation finds the folios on the LRU), each page is
 * looked up and isolated (`add_page_for_migration`) and consecutive pages bound for one
 * node are migrated together with __GFP_THISNODE targets (`do_move_pages_to_node`,
 * MIGRATE_SYNC, MR_SYSCALL); without `nodes`, `do_pages_stat_array` reports each page's
 * node. Per-page status as the kernel stores it: the node, -EFAULT (no vma, or not
 * migratable), -ENOENT (not present, or device memory), -EACCES (mapped by more than
 * one process without MPOL_MF_MOVE_ALL), -EBUSY (could not be isolated). A batch whose
 * migration leaves pages behind ends the call: it returns their number plus the pages
 * not attempted, and their status is not written.
 *
 * Simplifications: the caller's own mm (pid 0), every node allowed (no cpusets), the
 * caller may use MPOL_MF_MOVE_ALL (CAP_SYS_NICE); no hugetlb, no zero page.
 */
export function movePages(mm: MmStruct, memory: PhysicalMemory, pages: number[], nodes: number[] | null, flags: number): TaskGen<MovePagesResult> {
  return traced("kernel_move_pages", movePagesBody(mm, memory, pages, nodes, flags));
}

function* movePagesBody(mm: MmStruct, memory: PhysicalMemory, pages: number[], nodes: number[] | null, flags: number): TaskGen<MovePagesResult> {
  const status: (number | null)[] = pages.map(() => null);
  if (flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) return { ret: EINVAL, status };
  if (!nodes) {
    yield* traced("do_pages_stat_array", doPagesStatArray(mm, pages, status));
    return { ret: 0, status };
  }
  const ret = yield* traced("do_pages_move", doPagesMove(mm, memory, pages, nodes, status, (flags & MPOL_MF_MOVE_ALL) !== 0));
  return { ret, status };
}

/** `do_pages_move`: batches of consecutive pages bound for one node, between `lru_cache_disable` and `lru_cache_enable`. */
function* doPagesMove(mm: MmStruct, memory: PhysicalMemory, pages: number[], nodes: number[], status: (number | null)[], migrateAll: boolean): TaskGen<number> {
  const store = (start: number, value: number, nr: number) => {
    for (let k = 0; k < nr; k++) status[start + k] = value;
  };
  const flush = (node: number, list: Folio[], start: number, i: number) => moveAndStoreStatus(memory, node, list, start, i, pages.length, store);
  yield* lruCacheDisable();
  let currentNode = -1;
  let start = 0;
  let err = 0;
  const list: Folio[] = [];
  let i = 0;
  let out = false;
  for (; i < pages.length; i++) {
    const node = nodes[i];
    if (!Number.isInteger(node) || node < 0 || node >= memory.nodes) {
      err = ENODEV;
      break;
    }
    if (currentNode === -1) {
      currentNode = node;
      start = i;
    } else if (node !== currentNode) {
      err = yield* flush(currentNode, list, start, i);
      if (err) {
        out = true;
        break;
      }
      start = i;
      currentNode = node;
    }
    err = yield* addPageForMigration(mm, pages[i], currentNode, list, migrateAll);
    if (err > 0) continue;
    store(i, err || currentNode, 1);
    err = yield* flush(currentNode, list, start, i);
    if (err) {
      if (err > 0) err--; // page i is accounted for
      out = true;
      break;
    }
    currentNode = -1;
  }
  if (!out) {
    const err1 = yield* flush(currentNode, list, start, i);
    if (err >= 0) err = err1;
  }
  yield* lruCacheEnable();
  return err;
}

/** `move_pages_and_store_status`: migrate the batch; the pages left + those not attempted, or store the node. */
function* moveAndStoreStatus(memory: PhysicalMemory, node: number, list: Folio[], start: number, i: number, nrPages: number, store: (start: number, value: number, nr: number) => void): TaskGen<number> {
  if (list.length === 0) return 0;
  let err = yield* traced("do_move_pages_to_node", migratePages(list, allocMigrationTarget(memory, "MR_SYSCALL", { nid: node, thisNode: true }), null, "MIGRATE_SYNC", "MR_SYSCALL"));
  if (err) yield* putbackMovablePages(list);
  list.length = 0;
  if (err) {
    if (err > 0) err += nrPages - i;
    return err;
  }
  store(start, node, i - start);
  return 0;
}

/** `follow_page(vma, addr, FOLL_GET)` under mmap_lock: a reference on the present folio mapped at `addr`, or null. */
function* followPageGet(mm: MmStruct, addr: number): TaskGen<Folio | null> {
  yield* pteLock(mm, addr);
  const pte = yield* followPagePte(mm, addr);
  const f = pte.kind === "present" && (yield* folioTryGet(pte.folio, "transient")) ? pte.folio : null;
  yield* pteUnlock(mm, addr);
  return f;
}

/** `vma_lookup` + `vma_migratable`: -EFAULT when there is no vma or it cannot migrate. */
function migratableVma(mm: MmStruct, addr: number): boolean {
  const vma = findVma(mm, addr);
  return vma !== undefined && (vma.flags & (VM_IO | VM_PFNMAP)) === 0;
}

/** `add_page_for_migration`: 1 when isolated onto `list`, 0 when already on `node`, else an errno. */
function* addPageForMigration(mm: MmStruct, addr: number, node: number, list: Folio[], migrateAll: boolean): TaskGen<number> {
  yield* mmapReadLock(mm);
  let err = EFAULT;
  if (migratableVma(mm, addr)) {
    const f = yield* followPageGet(mm, addr);
    err = ENOENT;
    if (f) {
      err = yield* isolateForMove(f, node, list, migrateAll);
      yield* folioPut(f, "transient");
    }
  }
  yield* mmapReadUnlock(mm);
  return err;
}

function* isolateForMove(f: Folio, node: number, list: Folio[], migrateAll: boolean): TaskGen<number> {
  if (folioIsZoneDevice(f)) return ENOENT;
  if (f.nid === node) return 0;
  if (f.mapcount > 1 && !migrateAll) return EACCES; // folio_maybe_mapped_shared
  if (list.includes(f)) return 1; // another page of a large folio already queued
  if (!(yield* folioIsolateLru(f))) return EBUSY;
  list.push(f);
  return 1;
}

/** `do_pages_stat_array`: each page's node, -EFAULT (no vma) or -ENOENT (not present, device memory). */
function* doPagesStatArray(mm: MmStruct, pages: number[], status: (number | null)[]): TaskGen<void> {
  yield* mmapReadLock(mm);
  for (let i = 0; i < pages.length; i++) {
    if (!findVma(mm, pages[i])) {
      status[i] = EFAULT;
      continue;
    }
    const f = yield* followPageGet(mm, pages[i]);
    status[i] = !f ? ENOENT : folioIsZoneDevice(f) ? ENOENT : f.nid;
    if (f) yield* folioPut(f, "transient");
  }
  yield* mmapReadUnlock(mm);
}
