/**
 * GUP longterm pinning (mm/gup.c): `pin_user_pages`, `is_valid_gup_args`,
 * `__gup_longterm_locked`, `__get_user_pages` (page walk under the PTE lock, faults
 * through `faultin_page`), `try_grab_folio`, `check_vma_flags`,
 * `check_and_migrate_movable_folios`, `collect_longterm_unpinnable_folios`,
 * `migrate_longterm_unpinnable_folios`, `gup_put_folio`, `unpin_user_page(s)`,
 * `unpin_folio`; `get_user_pages_remote` (FOLL_GET) and `put_page`; `pin_user_pages_fast`
 * (`gup_fast_fallback`: the lockless walk, then the slow path for the rest).
 *
 * Return conventions (reference §4.1): the number of pages pinned, or a negative
 * errno; invalid flags give 0; any migration failure surfaces as -ENOMEM (option
 * `longterm-migrate-error`, ./variants/longterm-migrate-error.ts); -EAGAIN is
 * internal ("all pins dropped, pin again") and loops without bound — a folio that is
 * unpinnable but cannot be isolated keeps the loop going until something changes.
 *
 * Simplifications: GUP-fast walks page by page (no PMD/PUD leaves), no hugetlb, no fatal-signal check (-EINTR), no
 * P2PDMA; FOLL_* values are the kernel's bit positions, FOLL_PIN and FOLL_TOUCH
 * (mm/internal.h) included. The caller holds mmap_lock for reading, as
 * `pin_user_pages` requires. A device-coherent folio is migrated to system memory and
 * pinned again (`migrate_device_coherent_folio`, mm/migrate_device.c, installed from
 * @foliosim/hmm above this layer); -EBUSY only if that migration fails.
 */

import {
  folioHasPincount,
  folioIsDeviceCoherent,
  folioIsLongtermPinnable,
  GUP_PIN_COUNTING_BIAS,
  memallocPinRestore,
  memallocPinSave,
  putNow,
  tracePageRef,
  VM_IO,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Folio,
  type PhysicalMemory,
} from "@foliosim/folio";
import { folioIsolateLru } from "@foliosim/lru";
import {
  FAULT_FLAG_REMOTE,
  FAULT_FLAG_WRITE,
  findVma,
  followPagePte,
  handleMmFault,
  mmapReadLock,
  mmapReadUnlock,
  PAGE_SIZE,
  pteLock,
  pteUnlock,
  VM_FAULT_HWPOISON,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  type MmStruct,
  type Vma,
} from "@foliosim/mm";
import { allocMigrationTarget, migratePages, putbackMovablePages } from "@foliosim/migrate";
import { condResched, currentMachine, ModelError, op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import { gupCountIsolated } from "./variants/gup-loop.js";
import { longtermMigrateKeepsEagain } from "./variants/longterm-migrate-error.js";
import { drainAtCollectStart, drainBeforeIsolate, newDrainState } from "./variants/drain-rules.js";

export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_DUMP = 1 << 2;
export const FOLL_FORCE = 1 << 3;
export const FOLL_NOWAIT = 1 << 4;
export const FOLL_NOFAULT = 1 << 5;
export const FOLL_HWPOISON = 1 << 6;
export const FOLL_ANON = 1 << 7;
export const FOLL_LONGTERM = 1 << 8;
export const FOLL_SPLIT_PMD = 1 << 9;
export const FOLL_PCI_P2PDMA = 1 << 10;
export const FOLL_INTERRUPTIBLE = 1 << 11;
/** mm/internal.h */
export const FOLL_TOUCH = 1 << 16;
export const FOLL_TRIED = 1 << 17;
export const FOLL_REMOTE = 1 << 18;
export const FOLL_PIN = 1 << 19;

export const FOLL_FLAGS: Record<string, number> = {
  FOLL_WRITE,
  FOLL_GET,
  FOLL_FORCE,
  FOLL_NOWAIT,
  FOLL_LONGTERM,
  FOLL_PCI_P2PDMA,
  FOLL_PIN,
};

const EAGAIN = -11;
const ENOMEM = -12;
const EFAULT = -14;
const EBUSY = -16;
const EHWPOISON = -133;

export const PIN_HOLDER = "pin";
export const GET_HOLDER = "get";

/** Pages pinned by one call: `pages[i]` is the folio of page i (or null once unpinned). */
export type Pages = (Folio | null)[];

/**
 * `try_grab_folio`: take `refs` references in the way `flags` asks — FOLL_GET +refs;
 * FOLL_PIN +refs and `_pincount` +refs on a large folio, +refs × 1024 on a small one.
 */
export function tryGrabFolio(f: Folio, refs: number, flags: number): Op<number> {
  return op({
    kind: "try_grab_folio",
    label: "try_grab_folio",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      if (f.refcount <= 0) return ENOMEM; // WARN_ON_ONCE: a grab on a free folio
      if (flags & FOLL_GET) {
        f.refcount += refs;
        f.addHolder(GET_HOLDER, refs);
      } else if (flags & FOLL_PIN) {
        if (f.zero) return 0;
        const n = folioHasPincount(f) ? refs : refs * GUP_PIN_COUNTING_BIAS;
        f.refcount += n;
        if (folioHasPincount(f)) f.pincount += refs;
        f.addHolder(PIN_HOLDER, n);
        m.count("nr_foll_pin_acquired", refs);
        m.markWrite(f.ref);
        tracePageRef(m, "page_ref_mod", f, n);
        return 0;
      }
      m.markWrite(f.ref);
      tracePageRef(m, "page_ref_mod", f, refs);
      return 0;
    },
  });
}

/** `gup_put_folio`: drop what `try_grab_folio` took (may free the folio). */
export function gupPutFolio(f: Folio, refs: number, flags: number, label = "gup_put_folio"): Op<void> {
  return op({
    kind: "gup_put_folio",
    label,
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      if (flags & FOLL_PIN) {
        if (f.zero) return;
        m.count("nr_foll_pin_released", refs);
        if (folioHasPincount(f)) {
          if (f.pincount < refs) throw new ModelError(label, f.name, `unpinning ${refs} with _pincount ${f.pincount}`);
          f.pincount -= refs;
          putNow(m, f, refs, PIN_HOLDER, label);
        } else putNow(m, f, refs * GUP_PIN_COUNTING_BIAS, PIN_HOLDER, label);
        return;
      }
      putNow(m, f, refs, GET_HOLDER, label);
    },
  });
}

/** `unpin_user_page` / `unpin_folio`. */
export function unpinFolio(f: Folio): Op<void> {
  return gupPutFolio(f, 1, FOLL_PIN, "unpin_user_page");
}

/** `unpin_user_pages`: skips null entries. */
export function* unpinUserPages(pages: Pages): TaskGen<void> {
  for (const f of pages) if (f) yield* unpinFolio(f);
}

/**
 * `vma_needs_dirty_tracking`: a shared mapping of a file whose filesystem writes folios
 * back (and so write-protects them to notice the next write). shmem has no writeback.
 */
function vmaNeedsDirtyTracking(vma: Vma): boolean {
  return (vma.flags & VM_SHARED) !== 0 && vma.file?.kind === "file";
}

/**
 * `writable_file_mapping_allowed`: a longterm pin may not write to a mapping that needs
 * dirty tracking — the pin's writes would bypass write-notify and writeback.
 */
function writableFileMappingAllowed(vma: Vma, gupFlags: number): boolean {
  if ((gupFlags & (FOLL_PIN | FOLL_LONGTERM)) !== (FOLL_PIN | FOLL_LONGTERM)) return true;
  return !vmaNeedsDirtyTracking(vma);
}

/**
 * `check_vma_flags` for the cases foliosim models (no fsdax, secretmem or shadow
 * stacks): a write needs VM_WRITE, a read VM_READ (so a PROT_NONE vma is -EFAULT),
 * unless FOLL_FORCE (every vma is VM_MAYREAD/VM_MAYWRITE in the model).
 */
function checkVmaFlags(vma: Vma, gupFlags: number): number {
  if (vma.flags & (VM_IO | VM_PFNMAP)) return EFAULT;
  if (gupFlags & FOLL_WRITE) {
    if (!vma.isAnonymous && !writableFileMappingAllowed(vma, gupFlags)) return EFAULT;
    if (!(vma.flags & VM_WRITE) && !(gupFlags & FOLL_FORCE)) return EFAULT;
  } else if (!(vma.flags & VM_READ) && !(gupFlags & FOLL_FORCE)) return EFAULT;
  return 0;
}

/** `follow_page_pte` under the PTE lock, grabbing the folio of a present PTE the access allows. */
function* followPageGrab(mm: MmStruct, addr: number, flags: number): TaskGen<{ folio: Folio | null; err: number }> {
  yield* pteLock(mm, addr);
  const pte = yield* followPagePte(mm, addr);
  let folio: Folio | null = null;
  let err = 0;
  if (pte.kind === "present" && (!(flags & FOLL_WRITE) || pte.writable)) {
    err = yield* tryGrabFolio(pte.folio, 1, flags);
    if (err === 0) folio = pte.folio;
  }
  yield* pteUnlock(mm, addr);
  return { folio, err };
}

/** `faultin_page`: fault the page in; VM_FAULT_* errors become errnos. */
function* faultinPage(mm: MmStruct, addr: number, flags: number): TaskGen<number> {
  const ret = yield* handleMmFault(mm, addr, (flags & FOLL_WRITE ? FAULT_FLAG_WRITE : 0) | FAULT_FLAG_REMOTE);
  if (ret & VM_FAULT_OOM) return ENOMEM;
  if (ret & VM_FAULT_HWPOISON) return EHWPOISON;
  if (ret & (VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)) return EFAULT;
  return 0;
}

/** `__get_user_pages`: the number of pages grabbed, or an errno when none was. */
export function* getUserPages(mm: MmStruct, start: number, nrPages: number, flags: number, pages: Pages): TaskGen<number> {
  let i = 0;
  for (; i < nrPages; i++) {
    const addr = start + i * PAGE_SIZE;
    const vma = findVma(mm, addr);
    if (!vma) return i || EFAULT;
    const bad = checkVmaFlags(vma, flags);
    if (bad) return i || bad;
    yield* condResched();
    for (;;) {
      const r = yield* followPageGrab(mm, addr, flags);
      if (r.folio) {
        pages[i] = r.folio;
        break;
      }
      if (r.err) return i || r.err;
      const err = yield* faultinPage(mm, addr, flags);
      if (err) return i || err;
    }
  }
  return i;
}

/**
 * `collect_longterm_unpinnable_folios`: count every unpinnable folio, drain by the
 * kernel's rule, and isolate what can be isolated onto `list`.
 */
export function* collectLongtermUnpinnableFolios(list: Folio[], pages: Pages, nr: number): TaskGen<number> {
  const m = currentMachine();
  const drain = newDrainState();
  const countIsolated = gupCountIsolated(m);
  yield* drainAtCollectStart(m, drain);
  let collected = 0;
  let prev: Folio | null = null;
  for (let i = 0; i < nr; i++) {
    const folio = pages[i];
    if (!folio || folio === prev) continue; // pofs_next_folio: consecutive entries of one folio
    prev = folio;
    const pinRefs = folioHasPincount(folio) ? 1 : GUP_PIN_COUNTING_BIAS;
    if (folioIsLongtermPinnable(folio)) continue;
    if (!countIsolated) collected++;
    if (folioIsDeviceCoherent(folio)) continue;
    yield* drainBeforeIsolate(m, folio, pinRefs, drain);
    if (!(yield* folioIsolateLru(folio))) {
      m.emit("gup_isolate_failed", folio.name);
      continue;
    }
    if (countIsolated) collected++;
    list.push(folio);
  }
  return collected;
}

/**
 * `migrate_device_coherent_folio` (mm/migrate_device.c), installed by @foliosim/hmm (a
 * layer above): take a reference on `folio`, call `dropPin`, migrate the folio to
 * system memory; 0, or -EBUSY if it could not.
 */
export type DeviceCoherentMigrator = (folio: Folio, memory: PhysicalMemory, dropPin: () => Op<void>) => TaskGen<number>;

const COHERENT_MIGRATOR = Symbol("migrate_device_coherent_folio");

/** Install (or remove) the device-coherent migration GUP calls for FOLL_LONGTERM pins. */
export function setDeviceCoherentMigrator(m: Machine, fn: DeviceCoherentMigrator | null): void {
  if (fn) m.ext.set(COHERENT_MIGRATOR, fn);
  else m.ext.delete(COHERENT_MIGRATOR);
}

/**
 * `migrate_longterm_unpinnable_folios`: unpin every entry (a device-coherent folio's pin
 * becomes a reference and the folio migrates at once: `migrate_device_coherent_folio`), migrate the isolated
 * folios with MR_LONGTERM_PIN; -EAGAIN to pin again, -ENOMEM if migration failed.
 */
export function* migrateLongtermUnpinnableFolios(list: Folio[], pages: Pages, nr: number, memory: PhysicalMemory): TaskGen<number> {
  let ret = 0;
  for (let i = 0; i < nr; i++) {
    const folio = pages[i];
    if (!folio) continue;
    if (folioIsDeviceCoherent(folio)) {
      // "Migration will fail if the folio is pinned, so convert the pin on the source
      // folio to a normal reference" (the migrator takes the reference, then drops the pin).
      pages[i] = null;
      const migrate = currentMachine().ext.get(COHERENT_MIGRATOR) as DeviceCoherentMigrator | undefined;
      if (!migrate) throw new ModelError("migrate_longterm_unpinnable_folios", folio.name, "a device-coherent folio to migrate, but no migrate_device_coherent_folio is installed (hmmInit)");
      if ((yield* migrate(folio, memory, () => gupPutFolio(folio, 1, FOLL_PIN))) !== 0) {
        ret = EBUSY;
        break;
      }
      continue;
    }
    yield* unpinFolio(folio);
    pages[i] = null;
  }
  if (ret === 0 && list.length > 0) {
    const rc = yield* migratePages(list, allocMigrationTarget(memory, "MR_LONGTERM_PIN"), null, "MIGRATE_SYNC", "MR_LONGTERM_PIN");
    if (rc !== 0) ret = migrateFailureErrno(rc, list);
  }
  if (ret !== 0) {
    yield* unpinUserPages(pages.slice(0, nr)); // pofs_unpin: entries not cleared yet
    for (let i = 0; i < nr; i++) pages[i] = null;
    yield* putbackMovablePages(list);
    return ret;
  }
  yield* putbackMovablePages(list);
  return EAGAIN;
}

/**
 * The errno of a failed `migrate_pages()` (option `longterm-migrate-error`): -ENOMEM
 * (mainline), or, with John Hubbard's 2024 RFC, -ENOMEM unless `migrate_pages()` said
 * -EAGAIN — which it never does for a reference-count failure (it returns the number
 * of folios not migrated); the RFC leaves `ret` unset on that path.
 */
function migrateFailureErrno(rc: number, list: Folio[]): number {
  if (rc !== EAGAIN || !longtermMigrateKeepsEagain(currentMachine())) return ENOMEM;
  throw new ModelError("migrate_longterm_unpinnable_folios", list[0]?.name, "migrate_pages() returned -EAGAIN, and the RFC leaves ret uninitialised on that path");
}

/** `check_and_migrate_movable_folios`: 0 when every pinned folio may stay pinned. */
export function* checkAndMigrateMovableFolios(pages: Pages, nr: number, memory: PhysicalMemory): TaskGen<number> {
  const list: Folio[] = [];
  const collected = yield* collectLongtermUnpinnableFolios(list, pages, nr);
  if (collected === 0) return 0;
  return yield* migrateLongtermUnpinnableFolios(list, pages, nr, memory);
}

/** `__gup_longterm_locked`: pin, check, migrate and pin again while -EAGAIN. */
export function* gupLongtermLocked(mm: MmStruct, start: number, nrPages: number, pages: Pages, flags: number, memory: PhysicalMemory): TaskGen<number> {
  if (!(flags & FOLL_LONGTERM)) return yield* getUserPages(mm, start, nrPages, flags, pages);
  const saved = memallocPinSave();
  let rc: number;
  let nrPinned: number;
  do {
    nrPinned = yield* getUserPages(mm, start, nrPages, flags, pages);
    if (nrPinned <= 0) {
      rc = nrPinned;
      break;
    }
    rc = yield* checkAndMigrateMovableFolios(pages, nrPinned, memory);
    if (rc === EAGAIN) currentMachine().count("gup_longterm_retry");
  } while (rc === EAGAIN);
  memallocPinRestore(saved);
  return rc !== 0 ? rc : nrPinned;
}

/**
 * `pin_user_pages(start, nr_pages, gup_flags, pages)`: FOLL_PIN is implied; passing
 * FOLL_PIN or FOLL_GET is invalid and returns 0 (`is_valid_gup_args`). The caller
 * holds mmap_lock for reading. `pages` receives the pinned folios.
 */
export function pinUserPages(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages, memory: PhysicalMemory): TaskGen<number> {
  return traced("pin_user_pages", pinUserPagesBody(mm, start, nrPages, gupFlags, pages, memory));
}

function* pinUserPagesBody(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages, memory: PhysicalMemory): TaskGen<number> {
  if (gupFlags & (FOLL_PIN | FOLL_GET)) return 0; // WARN_ON_ONCE in is_valid_gup_args
  return yield* traced("__gup_longterm_locked", gupLongtermLocked(mm, start, nrPages, pages, gupFlags | FOLL_PIN, memory));
}

const EINVAL = -22;

/**
 * `get_user_pages_remote(mm, start, nr_pages, gup_flags, pages)`: references taken with
 * FOLL_GET (dropped with `put_page`, `putUserPage`). `is_valid_gup_args` refuses
 * FOLL_PIN from the caller and FOLL_LONGTERM without FOLL_PIN ("LONGTERM can only be
 * specified when pinning"): -EINVAL. The caller holds mmap_lock for reading.
 */
export function getUserPagesRemote(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages): TaskGen<number> {
  return traced("get_user_pages_remote", getUserPagesRemoteBody(mm, start, nrPages, gupFlags, pages));
}

function* getUserPagesRemoteBody(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages): TaskGen<number> {
  if (gupFlags & (FOLL_PIN | FOLL_TRIED | FOLL_REMOTE)) return EINVAL;
  if (gupFlags & FOLL_LONGTERM) return EINVAL;
  return yield* getUserPages(mm, start, nrPages, gupFlags | FOLL_GET | FOLL_TOUCH | FOLL_REMOTE, pages);
}

/** `put_page` of a FOLL_GET reference (may free the folio). */
export function putUserPage(f: Folio): Op<void> {
  return gupPutFolio(f, 1, FOLL_GET, "put_page");
}

/**
 * `gup_fast_pte_range` for one page, without mmap_lock or the PTE lock (interrupts off
 * in the kernel): read the PTE, grab the folio (`try_grab_folio_fast`), and re-read
 * the PTE — a changed entry drops the grab. A folio FOLL_LONGTERM may not pin
 * (`folio_is_longterm_pinnable`), a non-present or `pte_protnone` entry or a write to
 * a read-only PTE stops the fast walk: the slow path takes over from there.
 */
function* gupFastPage(mm: MmStruct, addr: number, flags: number): TaskGen<Folio | null> {
  const pte = yield* followPagePte(mm, addr);
  if (pte.kind !== "present" || pte.protnone || ((flags & FOLL_WRITE) && !pte.writable)) return null;
  const f = pte.folio;
  if ((flags & FOLL_LONGTERM) && !folioIsLongtermPinnable(f)) return null;
  if ((yield* tryGrabFolio(f, 1, flags)) !== 0) return null;
  const again = yield* followPagePte(mm, addr);
  if (again.kind !== "present" || again.folio !== f) {
    yield* gupPutFolio(f, 1, flags);
    return null;
  }
  return f;
}

/**
 * `pin_user_pages_fast` → `gup_fast_fallback`: pin what the lockless walk can, then
 * the rest through `__gup_longterm_locked` under mmap_lock for reading. Returns the
 * pages pinned in total, or the slow path's errno when the fast walk pinned none.
 * Simplification: the fast walk is per page (no PMD/PUD leaves, no `gup_fast_permitted`).
 */
export function pinUserPagesFast(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages, memory: PhysicalMemory): TaskGen<number> {
  return traced("pin_user_pages_fast", pinUserPagesFastBody(mm, start, nrPages, gupFlags, pages, memory));
}

function* pinUserPagesFastBody(mm: MmStruct, start: number, nrPages: number, gupFlags: number, pages: Pages, memory: PhysicalMemory): TaskGen<number> {
  if (gupFlags & (FOLL_PIN | FOLL_GET)) return 0;
  const flags = gupFlags | FOLL_PIN;
  let nrPinned = 0;
  while (nrPinned < nrPages) {
    const f = yield* gupFastPage(mm, start + nrPinned * PAGE_SIZE, flags);
    if (!f) break;
    pages[nrPinned++] = f;
  }
  if (nrPinned === nrPages) return nrPinned;
  const rest: Pages = new Array(nrPages - nrPinned).fill(null);
  yield* mmapReadLock(mm);
  const ret = yield* traced("__gup_longterm_locked", gupLongtermLocked(mm, start + nrPinned * PAGE_SIZE, nrPages - nrPinned, rest, flags, memory));
  yield* mmapReadUnlock(mm);
  if (ret < 0) return nrPinned > 0 ? nrPinned : ret;
  rest.forEach((f, i) => (pages[nrPinned + i] = f));
  return nrPinned + ret;
}
