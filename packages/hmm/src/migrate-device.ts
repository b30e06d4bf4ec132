/**
 * Device migration (mm/migrate_device.c, include/linux/migrate.h): `migrate_vma_setup`,
 * `migrate_vma_collect` with its PTE walker (`migrate_vma_collect_pmd`,
 * `migrate_vma_collect_hole`), `migrate_vma_unmap` → `migrate_device_unmap`,
 * `migrate_vma_check_page`, `migrate_vma_pages` / `migrate_device_pages` →
 * `__migrate_device_pages` with `migrate_vma_insert_page`, `migrate_vma_finalize` /
 * `migrate_device_finalize` → `__migrate_device_finalize`, `migrate_device_range`,
 * `migrate_device_pfns` (`migrate_device_pfn_lock`), and the `MIGRATE_PFN_*` /
 * `MIGRATE_VMA_SELECT_*` constants (reference §6, §9).
 *
 * References (holders): the collect step's `folio_get` is held as "collect"; a system
 * folio trades it for the isolation reference ("isolated", @foliosim/lru) in
 * `migrate_device_unmap`; a device folio keeps "collect" until finalize. Destination
 * folios carry the driver's allocation reference ("alloc") until finalize puts it.
 *
 * Simplifications:
 * - Order-0 folios only: no THP collection or splitting, so `MIGRATE_PFN_COMPOUND`
 *   and `MIGRATE_VMA_SELECT_COMPOUND` are accepted but never produced.
 * - The PTE lock is taken once per page-table page as the kernel does; the clear of
 *   a PTE and the installation of its migration entry is one step (the kernel does
 *   both under that lock). No zero page (no shared zero folio in the model).
 * - `mmu_notifier_invalidate_range_start/end` run the interval notifiers of
 *   @foliosim/mm (mm/mmu_notifier.c).
 * - `folio_free_swap` is not modelled: there is no swap cache, so an anonymous
 *   source never has a `folio_mapping`.
 * - `migrate_pfn` keeps the kernel's encoding (`pfn << MIGRATE_PFN_SHIFT | flags`);
 *   `pfn_to_page` looks the folio up in the machine's pgmaps and physical memory.
 */

import {
  PG,
  folioGet,
  folioLock,
  folioIsDeviceCoherent,
  folioIsDevicePrivate,
  folioIsZoneDevice,
  folioMapped,
  folioMaybeDmaPinned,
  folioPut,
  folioTestAnon,
  folioTryGet,
  folioTrylock,
  folioUnlock,
  type Folio,
  type PhysicalMemory,
} from "@foliosim/folio";
import { ISOLATED_HOLDER, folioAddLru, folioAddLruVma, folioIsolateLru, folioPutbackLru, lruAddDrain, lruAddDrainAll, lruCacheDisable, lruCacheEnable } from "@foliosim/lru";
import { MIGRATEPAGE_SUCCESS, folioMigrateMapping } from "@foliosim/migrate";
import {
  MmModelError,
  PAGE_SHIFT,
  PAGE_SIZE,
  TRANSIENT_HOLDER,
  allMms,
  folioAddNewAnonRmap,
  folioRemoveRmapPte,
  hexAddr,
  removeMigrationPtes,
  tryToMigrate,
  type MmStruct,
  type Pte,
  type PteSlot,
  type Vma,
} from "@foliosim/mm";
import { VM_SPECIAL, VM_WRITE } from "@foliosim/folio";
import { currentMachine, noteRead, op, spinLock, spinUnlock, traced, type Machine, type Op, type SpinLock, type TaskGen } from "@foliosim/sim";
import "./costs.js";
import { allPagemaps, folioPgmap } from "./memremap.js";
import { mmuNotifierInvalidateRangeEnd, mmuNotifierInvalidateRangeStart } from "@foliosim/mm";
import { faultPageLockedByCaller, hmmDrainOutsideLock, hmmLruCacheDisable } from "./variants/select.js";

// ------------------------------------------------------------------------ constants

export const MIGRATE_PFN_VALID = 1 << 0;
export const MIGRATE_PFN_MIGRATE = 1 << 1;
export const MIGRATE_PFN_WRITE = 1 << 3;
export const MIGRATE_PFN_COMPOUND = 1 << 4;
export const MIGRATE_PFN_SHIFT = 6;

export const MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
export const MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
export const MIGRATE_VMA_SELECT_COMPOUND = 1 << 3;

export const EINVAL = -22;
export const EBUSY = -16;

/** Holder of the reference `migrate_vma_collect` (and `migrate_device_pfn_lock`) takes. */
export const COLLECT_HOLDER = "collect";
/** Holder of a destination folio's allocation reference (the driver's). */
export const DST_HOLDER = "alloc";

/** `migrate_pfn(pfn)`: the pfn shifted, with MIGRATE_PFN_VALID. */
export function migratePfn(pfn: number): number {
  return pfn * (1 << MIGRATE_PFN_SHIFT) + MIGRATE_PFN_VALID;
}

/** The pfn of a migrate-pfn value (`mpfn >> MIGRATE_PFN_SHIFT`). */
export function migratePfnToPfn(mpfn: number): number {
  return Math.floor(mpfn / (1 << MIGRATE_PFN_SHIFT));
}

/** `pfn_to_page` over the machine's device pgmaps and physical memories. */
export function pfnToFolio(m: Machine, pfn: number): Folio | null {
  for (const pg of allPagemaps(m)) {
    const f = pg.folioAt(pfn);
    if (f) return f;
  }
  const seen = new Set<unknown>();
  for (const mm of allMms(m)) {
    if (seen.has(mm.memory)) continue;
    seen.add(mm.memory);
    const f = mm.memory.folioAt(pfn);
    if (f) return f;
  }
  return null;
}

/** `migrate_pfn_to_page`: null unless MIGRATE_PFN_VALID. */
export function migratePfnToFolio(m: Machine, mpfn: number): Folio | null {
  if (!(mpfn & MIGRATE_PFN_VALID)) return null;
  return pfnToFolio(m, migratePfnToPfn(mpfn));
}

/** `struct migrate_vma`. */
export interface MigrateVma {
  vma: Vma | null;
  start: number;
  end: number;
  src: number[] | null;
  dst: number[] | null;
  /** Collected pages (after setup: the pages `migrate_device_unmap` unmapped). */
  cpages: number;
  npages: number;
  /** `pgmap_owner`: only device pages of this owner are selected. */
  pgmapOwner: object | null;
  /** MIGRATE_VMA_SELECT_* bits. */
  flags: number;
  /** The locked, referenced page whose CPU fault triggered this (`migrate_to_ram`), or null. */
  faultPage: Folio | null;
}

export function newMigrateVma(init: Partial<MigrateVma> & { vma: Vma | null; start: number; end: number }): MigrateVma {
  const n = Math.max(0, (init.end - init.start) >> PAGE_SHIFT);
  return {
    src: new Array(n).fill(0),
    dst: new Array(n).fill(0),
    cpages: 0,
    npages: 0,
    pgmapOwner: null,
    flags: 0,
    faultPage: null,
    ...init,
  };
}

// ------------------------------------------------------------------------ small steps

function testLru(f: Folio): Op<boolean> {
  return op({ kind: "folio_test_flag", label: "folio_test_lru", reads: [f.flagsWord], cost: "plain", run: () => f.test(PG.lru) });
}

/** `ptep_get` in a page-table walk (costed as a walk step). */
function walkPte(slot: PteSlot, label: string): Op<Pte> {
  return op({ kind: "read_pte", label, reads: [slot], cost: "hmmWalkPte", run: () => slot.pte });
}

/**
 * `migrate_vma_check_page(page, fault_page)`: pinned (false) when the count exceeds
 * mapcount by more than the allowed extras: the collect or isolation reference, the
 * fault handler's reference on the fault page, one for ZONE_DEVICE, the page cache
 * (+ PG_private) for a folio with a mapping.
 */
export function migrateVmaCheckPage(f: Folio, faultPage: Folio | null): Op<boolean> {
  return op({
    kind: "folio_check",
    label: "migrate_vma_check_page",
    reads: [f.ref, f.map, f.flagsWord],
    cost: "plain",
    run: (m) => {
      let extra = 1 + (f === faultPage ? 1 : 0);
      if (folioIsZoneDevice(f)) extra++;
      if (f.mapping !== null && f.mapping.kind !== "anon") extra += 1 + (f.test(PG.private) ? 1 : 0);
      const ok = f.refcount - extra <= f.mapcount;
      if (!ok) m.event("migrate_vma_check_page_pinned", f.name).arg("count", f.refcount).arg("extra", extra).arg("mapcount", f.mapcount);
      return ok;
    },
  });
}

// ------------------------------------------------------------------------ collect

interface CollectState {
  ptl: SpinLock | null;
}

function* relock(mm: MmStruct, addr: number, st: CollectState): TaskGen<void> {
  const l = mm.ptl(addr);
  if (st.ptl === l) return;
  if (st.ptl) yield* spinUnlock(st.ptl);
  yield* spinLock(l);
  st.ptl = l;
}

/**
 * `migrate_vma_collect(migrate)`: notifier range start (event MMU_NOTIFY_MIGRATE, owner
 * `pgmap_owner`), the PTE walk, notifier range end (reference §6.3).
 */
export function migrateVmaCollect(migrate: MigrateVma): TaskGen<void> {
  return traced("migrate_vma_collect", migrateVmaCollectBody(migrate));
}

function* migrateVmaCollectBody(migrate: MigrateVma): TaskGen<void> {
  const vma = migrate.vma!;
  const mm = vma.mm;
  const m = currentMachine();
  const fault = faultPageLockedByCaller(m) ? migrate.faultPage : null;
  yield* mmuNotifierInvalidateRangeStart(mm, migrate.start, migrate.end, "MMU_NOTIFY_MIGRATE", migrate.pgmapOwner);
  yield* op({ kind: "walk_page_range", label: "walk_page_range(migrate_vma_walk_ops)", cost: "hmmWalkRange", run: () => undefined });
  const st: CollectState = { ptl: null };
  for (let addr = migrate.start; addr < migrate.end; addr += PAGE_SIZE) {
    const i = migrate.npages++;
    yield* relock(mm, addr, st);
    const slot = mm.slot(addr);
    const pte = yield* walkPte(slot, "migrate_vma_collect_pmd");
    let mpfn = 0;
    let folio: Folio | null = null;
    if (pte.kind === "none") {
      if (vma.isAnonymous) {
        mpfn = MIGRATE_PFN_MIGRATE;
        migrate.cpages++;
      }
    } else if (pte.kind === "device-private") {
      const pg = folioPgmap(pte.folio);
      if (migrate.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE && pg && pg.owner === migrate.pgmapOwner) {
        folio = pte.folio;
        mpfn = migratePfn(folio.pfn + pte.page) | MIGRATE_PFN_MIGRATE | (pte.writable ? MIGRATE_PFN_WRITE : 0);
      }
    } else if (pte.kind === "present") {
      const f = pte.folio;
      let selected: boolean;
      if (folioIsDeviceCoherent(f)) {
        selected = (migrate.flags & MIGRATE_VMA_SELECT_DEVICE_COHERENT) !== 0 && folioPgmap(f)?.owner === migrate.pgmapOwner;
      } else selected = (migrate.flags & MIGRATE_VMA_SELECT_SYSTEM) !== 0 && !folioIsZoneDevice(f);
      if (selected) noteRead(f.map);
      if (selected && f.mapping !== null) {
        folio = f;
        mpfn = migratePfn(f.pfn + pte.page) | MIGRATE_PFN_MIGRATE | (pte.writable ? MIGRATE_PFN_WRITE : 0);
      }
    }
    // (migration entries, other swap entries: mpfn = 0)
    if (folio !== null) {
      yield* folioGet(folio, COLLECT_HOLDER);
      const locked = folio === fault || (yield* folioTrylock(folio));
      if (!locked) {
        yield* folioPut(folio, COLLECT_HOLDER);
        mpfn = 0;
      } else {
        const f = folio;
        const cur = pte as Exclude<Pte, { kind: "none" }>;
        // ptep_get_and_clear + flush; anon-exclusive → maybe shared; migration entry.
        const installed = yield* op({
          kind: "set_migration_pte",
          label: pte.kind === "present" ? "ptep_clear_flush; set_pte_at(migration entry)" : "pte_clear; set_pte_at(migration entry)",
          reads: [f.ref], // folio_maybe_dma_pinned
          writes: [slot, f.map, f.flagsWord],
          cost: pte.kind === "present" ? "mmTlbFlushPage" : "plain",
          run: (mm2) => {
            if (pte.kind === "present" && f.test(PG.anon_exclusive)) {
              // folio_try_share_anon_rmap_pte: fails if the folio may be pinned.
              if (folioMaybeDmaPinned(f)) return false;
              f.clearBits(PG.anon_exclusive);
            }
            if (pte.kind === "present" && pte.dirty && !f.test(PG.dirty)) f.setBits(PG.dirty);
            slot.pte = { kind: "migration", folio: f, page: cur.page, writable: cur.writable };
            mm2.markWrite(slot);
            mm2.markWrite(f.flagsWord);
            mm2.event("set_migration_pte", f.name).arg("addr", hexAddr(addr)).arg("mm", mm.name);
            return true;
          },
        });
        if (!installed) {
          if (f !== fault) yield* folioUnlock(f);
          yield* folioPut(f, COLLECT_HOLDER);
          mpfn = 0;
        } else {
          migrate.cpages++;
          yield* folioRemoveRmapPte(f, vma);
          yield* folioPut(f, TRANSIENT_HOLDER); // the mapping's reference
        }
      }
    }
    migrate.src![i] = mpfn;
    migrate.dst![i] = 0;
  }
  if (st.ptl) yield* spinUnlock(st.ptl);
  yield* mmuNotifierInvalidateRangeEnd(mm);
}

// ------------------------------------------------------------------------ unmap

export interface UnmapOptions {
  /** Whether `migrate_device_unmap` may call `lru_add_drain_all` (mainline: true). */
  allowDrain?: boolean;
}

/**
 * `migrate_device_unmap(src_pfns, npages, fault_page)` (reference §6.4): a local
 * `lru_add_drain`; for each selected folio, a remote drain the first time a system
 * folio is found off the LRU — with every collected folio still locked — then
 * isolation, `try_to_migrate`, `migrate_vma_check_page`; failures are restored.
 * Returns the number of entries still selected (holes included).
 */
export function migrateDeviceUnmap(src: number[], npages: number, faultPage: Folio | null, opts: UnmapOptions = {}): TaskGen<number> {
  return traced("migrate_device_unmap", migrateDeviceUnmapBody(src, npages, faultPage, opts));
}

function* migrateDeviceUnmapBody(src: number[], npages: number, faultPage: Folio | null, opts: UnmapOptions): TaskGen<number> {
  const m = currentMachine();
  const lockedFault = faultPageLockedByCaller(m) ? faultPage : null;
  let allowDrain = opts.allowDrain ?? (!hmmLruCacheDisable(m) && !hmmDrainOutsideLock(m));
  let restore = 0;
  let unmapped = 0;
  yield* lruAddDrain();
  for (let i = 0; i < npages; i++) {
    if (!(src[i] & MIGRATE_PFN_MIGRATE)) continue;
    const folio = migratePfnToFolio(m, src[i]);
    if (!folio) {
      unmapped++;
      continue;
    }
    if (!folioIsZoneDevice(folio)) {
      if (!(yield* testLru(folio)) && allowDrain) {
        // Mainline: every collected folio (device-private ones and the fault page
        // included) stays locked while this waits for every CPU's kworker.
        yield* lruAddDrainAll();
        allowDrain = false;
      }
      if (!(yield* folioIsolateLru(folio))) {
        src[i] &= ~MIGRATE_PFN_MIGRATE;
        restore++;
        continue;
      }
      yield* folioPut(folio, COLLECT_HOLDER); // isolation holds it now
    }
    if (folioMapped(folio)) yield* tryToMigrate(folio);
    if (folioMapped(folio) || !(yield* migrateVmaCheckPage(folio, faultPage))) {
      if (!folioIsZoneDevice(folio)) {
        yield* folioGet(folio, COLLECT_HOLDER);
        yield* folioPutbackLru(folio);
      }
      src[i] &= ~MIGRATE_PFN_MIGRATE;
      restore++;
      continue;
    }
    unmapped++;
  }
  for (let i = 0; i < npages && restore > 0; i++) {
    const folio = migratePfnToFolio(m, src[i]);
    if (!folio || src[i] & MIGRATE_PFN_MIGRATE) continue;
    yield* removeMigrationPtes(folio, folio);
    src[i] = 0;
    if (folio !== lockedFault) yield* folioUnlock(folio);
    yield* folioPut(folio, COLLECT_HOLDER);
    restore--;
  }
  return unmapped;
}

// ------------------------------------------------------------------------ setup

function* restoreCollected(migrate: MigrateVma): TaskGen<void> {
  const m = currentMachine();
  const lockedFault = faultPageLockedByCaller(m) ? migrate.faultPage : null;
  for (let i = 0; i < migrate.npages; i++) {
    const folio = migratePfnToFolio(m, migrate.src![i]);
    if (!folio) continue;
    yield* removeMigrationPtes(folio, folio);
    if (folio !== lockedFault) yield* folioUnlock(folio);
    yield* folioPut(folio, COLLECT_HOLDER);
  }
}

/**
 * `migrate_vma_setup(args)`: validation (-EINVAL), collect, and — when anything was
 * collected — unmap, after which `args.cpages` is what `migrate_device_unmap` returned.
 * Returns 0 or -EINVAL.
 */
export function migrateVmaSetup(args: MigrateVma): TaskGen<number> {
  return traced("migrate_vma_setup", migrateVmaSetupBody(args));
}

function* migrateVmaSetupBody(args: MigrateVma): TaskGen<number> {
  const m = currentMachine();
  args.start = Math.floor(args.start / PAGE_SIZE) * PAGE_SIZE;
  args.end = Math.floor(args.end / PAGE_SIZE) * PAGE_SIZE;
  const nrPages = (args.end - args.start) >> PAGE_SHIFT;
  const vma = args.vma;
  if (!vma || vma.flags & VM_SPECIAL) return EINVAL;
  if (nrPages <= 0) return EINVAL;
  if (args.start < vma.start || args.start >= vma.end) return EINVAL;
  if (args.end <= vma.start || args.end > vma.end) return EINVAL;
  if (!args.src || !args.dst) return EINVAL;
  if (args.faultPage && !folioIsDevicePrivate(args.faultPage)) return EINVAL;
  if (args.faultPage && faultPageLockedByCaller(m)) noteRead(args.faultPage.lock);
  if (args.faultPage && faultPageLockedByCaller(m) && !args.faultPage.lock.locked) return EINVAL;
  for (let i = 0; i < nrPages; i++) args.src[i] = 0;
  args.src.length = nrPages;
  if (args.dst.length < nrPages) args.dst.length = nrPages;
  args.cpages = 0;
  args.npages = 0;
  const disable = hmmLruCacheDisable(m);
  if (disable) yield* lruCacheDisable();
  yield* migrateVmaCollect(args);
  if (hmmDrainOutsideLock(m) && args.cpages > 0 && (yield* offLruSystemFolio(args))) {
    // Thomas Hellström: unlock everything, drain with no folio lock held, collect again.
    m.count("hmm_drain_outside_lock_retry");
    yield* traced("migrate_vma_restore_collected", restoreCollected(args));
    yield* lruAddDrainAll();
    args.cpages = 0;
    args.npages = 0;
    yield* migrateVmaCollect(args);
  }
  if (args.cpages > 0) args.cpages = yield* traced("migrate_vma_unmap", migrateDeviceUnmap(args.src, args.npages, args.faultPage));
  if (disable) yield* lruCacheEnable();
  m.event("migrate_vma_setup").arg("npages", args.npages).arg("cpages", args.cpages);
  return 0;
}

function* offLruSystemFolio(args: MigrateVma): TaskGen<boolean> {
  const m = currentMachine();
  for (let i = 0; i < args.npages; i++) {
    const f = migratePfnToFolio(m, args.src![i]);
    if (f && !folioIsZoneDevice(f) && !(yield* testLru(f))) return true;
  }
  return false;
}

// ------------------------------------------------------------------------ pages

/** `folio_migrate_flags(new, old)`: the page state that moves with the contents. */
function folioMigrateFlags(dst: Folio, src: Folio): Op<void> {
  return op({
    kind: "folio_migrate_flags",
    label: "folio_migrate_flags",
    reads: [src.flagsWord],
    writes: [dst.flagsWord],
    cost: "plain",
    run: (m) => {
      for (const flag of [PG.uptodate, PG.dirty, PG.referenced, PG.swapbacked]) if (src.test(flag)) dst.setBits(flag);
      m.markWrite(dst.flagsWord);
    },
  });
}

/**
 * `migrate_vma_insert_page(migrate, addr, page, src)`: fill a hole of an anonymous vma
 * with the driver's destination (a device-private entry, or a present PTE plus
 * `folio_add_lru_vma`).
 */
function migrateVmaInsertPage(migrate: MigrateVma, addr: number, folio: Folio, i: number): TaskGen<void> {
  return traced("migrate_vma_insert_page", migrateVmaInsertPageBody(migrate, addr, folio, i));
}

function* migrateVmaInsertPageBody(migrate: MigrateVma, addr: number, folio: Folio, i: number): TaskGen<void> {
  const vma = migrate.vma!;
  const src = migrate.src!;
  if (!vma.isAnonymous) {
    src[i] &= ~MIGRATE_PFN_MIGRATE;
    return;
  }
  const mm = vma.mm;
  const slot = mm.slot(addr);
  yield* spinLock(mm.ptl(addr));
  const p = yield* walkPte(slot, "pte_none");
  if (p.kind !== "none") {
    yield* spinUnlock(mm.ptl(addr));
    src[i] &= ~MIGRATE_PFN_MIGRATE;
    return;
  }
  yield* folioGet(folio, TRANSIENT_HOLDER);
  yield* folioAddNewAnonRmap(folio, vma, addr);
  const writable = (vma.flags & VM_WRITE) !== 0;
  if (!folioIsZoneDevice(folio)) yield* folioAddLruVma(folio, vma);
  const pte: Pte = folioIsDevicePrivate(folio) ? { kind: "device-private", folio, page: 0, writable } : { kind: "present", folio, page: 0, writable, dirty: writable };
  yield* op({
    kind: "set_pte",
    label: "set_pte_at",
    writes: [slot],
    cost: "plain",
    run: (m) => {
      slot.pte = pte;
      m.markWrite(slot);
      m.event("set_pte").arg("addr", hexAddr(addr)).arg("mm", mm.name).arg("pte", pte.kind);
    },
  });
  yield* spinUnlock(mm.ptl(addr));
  src[i] = MIGRATE_PFN_MIGRATE;
}

function* migrateDevicePagesBody(src: number[], dst: number[], npages: number, migrate: MigrateVma | null): TaskGen<void> {
  const m = currentMachine();
  for (let i = 0; i < npages; i++) {
    const newFolio = migratePfnToFolio(m, dst[i]);
    const folio = migratePfnToFolio(m, src[i]);
    if (!newFolio) {
      src[i] &= ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    if (!folio) {
      if (!(src[i] & MIGRATE_PFN_MIGRATE)) continue;
      if (!migrate) {
        src[i] &= ~MIGRATE_PFN_MIGRATE;
        continue;
      }
      yield* migrateVmaInsertPage(migrate, migrate.start + i * PAGE_SIZE, newFolio, i);
      continue;
    }
    if (!(src[i] & MIGRATE_PFN_MIGRATE)) continue;
    noteRead(folio.map);
    const mapping = folio.mapping !== null && folio.mapping.kind !== "anon" ? folio.mapping : null;
    if (folioIsDevicePrivate(newFolio) || folioIsDeviceCoherent(newFolio)) {
      if (mapping) {
        // Only anonymous memory migrates to device memory (folio_free_swap: no swap cache here).
        src[i] &= ~MIGRATE_PFN_MIGRATE;
        continue;
      }
    } else if (folioIsZoneDevice(newFolio)) {
      src[i] &= ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    const extra = migrate && migrate.faultPage === folio ? 1 : 0;
    const r = yield* folioMigrateMapping(newFolio, folio, extra);
    if (r !== MIGRATEPAGE_SUCCESS) src[i] &= ~MIGRATE_PFN_MIGRATE;
    else yield* folioMigrateFlags(newFolio, folio);
  }
}

/** `migrate_vma_pages(migrate)`: move `struct page` state to the destinations the driver filled in `dst`. */
export function migrateVmaPages(migrate: MigrateVma): TaskGen<void> {
  return traced("migrate_vma_pages", migrateDevicePagesBody(migrate.src!, migrate.dst!, migrate.npages, migrate));
}

/** `migrate_device_pages(src, dst, npages)`: the same without a vma (after `migrate_device_range`/`pfns`). */
export function migrateDevicePages(src: number[], dst: number[], npages: number): TaskGen<void> {
  return traced("migrate_device_pages", migrateDevicePagesBody(src, dst, npages, null));
}

// ------------------------------------------------------------------------ finalize

function* migrateDeviceFinalizeBody(src: number[], dst: number[], npages: number, faultPage: Folio | null): TaskGen<void> {
  const m = currentMachine();
  const lockedFault = faultPageLockedByCaller(m) ? faultPage : null;
  for (let i = 0; i < npages; i++) {
    let dstFolio = migratePfnToFolio(m, dst[i]);
    const srcFolio = migratePfnToFolio(m, src[i]);
    if (!srcFolio) {
      if (dstFolio) {
        yield* folioUnlock(dstFolio);
        yield* folioPut(dstFolio, DST_HOLDER);
      }
      continue;
    }
    if (!(src[i] & MIGRATE_PFN_MIGRATE) || !dstFolio) {
      if (dstFolio) {
        yield* folioUnlock(dstFolio);
        yield* folioPut(dstFolio, DST_HOLDER);
      }
      dstFolio = srcFolio;
    }
    if (!folioIsZoneDevice(dstFolio)) yield* folioAddLru(dstFolio);
    yield* removeMigrationPtes(srcFolio, dstFolio);
    if (srcFolio !== lockedFault) yield* folioUnlock(srcFolio);
    yield* folioPut(srcFolio, folioIsZoneDevice(srcFolio) ? COLLECT_HOLDER : ISOLATED_HOLDER);
    if (dstFolio !== srcFolio) {
      yield* folioUnlock(dstFolio);
      yield* folioPut(dstFolio, DST_HOLDER);
    }
  }
}

/** `migrate_vma_finalize(migrate)`: migration entries become entries for the destination (or the source again); unlock and put. */
export function migrateVmaFinalize(migrate: MigrateVma): TaskGen<void> {
  return traced("migrate_vma_finalize", migrateDeviceFinalizeBody(migrate.src!, migrate.dst!, migrate.npages, migrate.faultPage));
}

/** `migrate_device_finalize(src, dst, npages)`. */
export function migrateDeviceFinalize(src: number[], dst: number[], npages: number): TaskGen<void> {
  return traced("migrate_device_finalize", migrateDeviceFinalizeBody(src, dst, npages, null));
}

// ------------------------------------------------------------------------ range / pfns

/** `migrate_device_pfn_lock(pfn)`: `folio_get_nontail_page` + `folio_trylock`; 0 if either fails. */
function* migrateDevicePfnLock(m: Machine, pfn: number): TaskGen<number> {
  const folio = pfnToFolio(m, pfn);
  if (!folio) return 0;
  const got = yield* folioTryGet(folio, COLLECT_HOLDER);
  if (!got) return 0;
  if (!(yield* folioTrylock(folio))) {
    yield* folioPut(folio, COLLECT_HOLDER);
    return 0;
  }
  return migratePfn(pfn) | MIGRATE_PFN_MIGRATE;
}

/**
 * `migrate_device_range(src_pfns, start, npages)`: select every in-use page of a
 * device pfn range (eviction, no vma), then `migrate_device_unmap`. Returns 0.
 */
export function migrateDeviceRange(src: number[], start: number, npages: number): TaskGen<number> {
  return traced("migrate_device_range", migrateDevicePfnsBody(src, Array.from({ length: npages }, (_, i) => start + i)));
}

/** `migrate_device_pfns(src_pfns, npages)`: the same for a list of pfns (`src` holds them on entry). */
export function migrateDevicePfns(src: number[], npages: number): TaskGen<number> {
  return traced("migrate_device_pfns", migrateDevicePfnsBody(src, src.slice(0, npages)));
}

function* migrateDevicePfnsBody(src: number[], pfns: number[]): TaskGen<number> {
  const m = currentMachine();
  const disable = hmmLruCacheDisable(m);
  if (disable) yield* lruCacheDisable();
  for (let i = 0; i < pfns.length; i++) src[i] = yield* migrateDevicePfnLock(m, pfns[i]);
  yield* migrateDeviceUnmap(src, pfns.length, null);
  if (disable) yield* lruCacheEnable();
  return 0;
}

/** `mm` of a migration's vma, for reports. */
export function migrateVmaMm(migrate: MigrateVma): MmStruct {
  if (!migrate.vma) throw new MmModelError("migrate_vma", "args", "no vma");
  return migrate.vma.mm;
}

// ------------------------------------------------------------------------ device-coherent pins

/**
 * `migrate_device_coherent_folio(folio)`, for GUP's FOLL_LONGTERM pins of
 * device-coherent memory: the pin becomes a reference (`folio_get`, then the caller's
 * `gup_put_folio`), the folio is locked and unmapped (`migrate_device_unmap`, no vma),
 * a GFP_USER system folio receives a copy (`migrate_device_pages`, `folio_copy`,
 * `migrate_device_finalize`). 0, or -EBUSY when the unmap or the move failed.
 */
export function migrateDeviceCoherentFolio(folio: Folio, memory: PhysicalMemory, dropPin: () => Op<void>): TaskGen<number> {
  return traced("migrate_device_coherent_folio", migrateDeviceCoherentFolioBody(folio, memory, dropPin));
}

function* migrateDeviceCoherentFolioBody(folio: Folio, memory: PhysicalMemory, dropPin: () => Op<void>): TaskGen<number> {
  yield* folioGet(folio, COLLECT_HOLDER);
  yield* dropPin();
  yield* folioLock(folio);
  const src = [migratePfn(folio.pfn) | MIGRATE_PFN_MIGRATE];
  yield* migrateDeviceUnmap(src, 1, null);
  if (!(src[0] & MIGRATE_PFN_MIGRATE)) return EBUSY;
  const dst = [0];
  const dfolio = yield* memory.allocFolio({ movable: false }, DST_HOLDER);
  if (dfolio) {
    yield* folioTrylock(dfolio);
    dst[0] = migratePfn(dfolio.pfn);
  }
  yield* migrateDevicePages(src, dst, 1);
  if (dfolio && src[0] & MIGRATE_PFN_MIGRATE) {
    yield* op({
      kind: "copy_highpage",
      label: "folio_copy",
      reads: [folio.flagsWord],
      writes: [dfolio.flagsWord],
      cost: "plain",
      run: (m) => {
        dfolio.data = folio.data;
        m.markWrite(dfolio.flagsWord);
      },
    });
  }
  const moved = (src[0] & MIGRATE_PFN_MIGRATE) !== 0;
  yield* migrateDeviceFinalize(src, dst, 1);
  return moved ? 0 : EBUSY;
}
