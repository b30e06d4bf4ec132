/**
 * Reverse mapping (mm/rmap.c): `folio_add_new_anon_rmap`, `folio_add_anon_rmap_ptes`,
 * `folio_add_file_rmap_ptes`, `folio_remove_rmap_ptes`, `try_to_migrate` /
 * `try_to_migrate_one`, `remove_migration_ptes` / `remove_migration_pte` (the latter
 * in mm/migrate.c), `rmap_walk`; and mm/internal.h `mlock_vma_folio` /
 * `munlock_vma_folio`.
 *
 * Mapcount and the "map" holder move together: every rmap addition hands one
 * reference per page from the caller's holder (by default "transient": the fault's
 * or the allocation's reference) to "map", and every removal hands it back, so the
 * folio's ledger always shows `map == mapcount` (reference §1.5: one reference per
 * page-table mapping). The kernel's rmap functions do not touch `_refcount`; the
 * hand-over is model bookkeeping, the count does not change.
 *
 * Simplifications:
 * - The rmap walk (anon_vma chains and the i_mmap interval tree) is a scan of every
 *   mm's page table in one step whose footprint is the folio's `mapping` word;
 *   each hit is then re-checked under its PTE lock, as `page_vma_mapped_walk` does.
 * - Mapcount is one total per folio (no per-page `_mapcount`, no PMD mappings).
 * - Each mm has one anon_vma; a folio a fork child maps keeps its parent's anon_vma
 *   as `mapping` (the rmap walk scans every mm anyway).
 */

import { PG, folioGet, folioIsDevicePrivate, folioMaybeDmaPinned, folioNrPages, folioPut, folioTestAnon, folioTestLarge, transferHolder, type Folio } from "@foliosim/folio";
import { mlockDrainLocal, mlockFolio, munlockFolio } from "@foliosim/lru";
import { VM_LOCKED, VM_SPECIAL } from "@foliosim/folio";
import { currentMachine, op, spinLock, spinUnlock, traced, uncheckedReadsBegin, uncheckedReadsEnd, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import { TRANSIENT_HOLDER } from "./filemap.js";
import { mmuNotifierInvalidateEnd, mmuNotifierInvalidateStart } from "./mmu-notifier.js";
import { rmapMlockLargePolicy } from "./variants/rmap-mlock-large.js";
import { MmModelError, PAGE_SIZE, allMms, findVma, formatPte, hexAddr, type MmStruct, type Pte, type PteSlot, type Vma } from "./mm-types.js";

/** Holder of the references page-table mappings hold (one per mapped page). */
export const MAP_HOLDER = "map";

// ------------------------------------------------------------------------ mlock hooks

/** `READ_ONCE(vma->vm_flags)` as a step (rmap walks read it without mmap_lock). */
export function readVmFlags(vma: Vma): Op<number> {
  return op({ kind: "read_vm_flags", label: "READ_ONCE(vma->vm_flags)", reads: [vma], cost: "plain", run: () => vma.flags });
}

/**
 * `mlock_vma_folio(folio, vma)` (mm/internal.h): in a vma whose flags masked with
 * VM_LOCKED|VM_SPECIAL are exactly VM_LOCKED, `mlock_folio`. Whether an rmap addition
 * calls it for a large folio is the rmap's rule (`rmapMlocks`, option
 * `rmap-mlock-large`). No per-CPU batch keeps a large folio: `mlock_folio` flushes at
 * once.
 */
export function* mlockVmaFolio(folio: Folio, vma: Vma): TaskGen<void> {
  const flags = yield* readVmFlags(vma);
  if ((flags & (VM_LOCKED | VM_SPECIAL)) !== VM_LOCKED) return;
  yield* mlockFolio(folio);
}

/**
 * Whether `__folio_add_anon_rmap` / `__folio_add_file_rmap` adding `nr` mappings call
 * `mlock_vma_folio`: a small folio always; a large one never up to 6.17 (left to
 * `mlock_pte_range` and reclaim: `if (!folio_test_large(folio))`), and from 6.18 when
 * the call maps all of it (`folio_nr_pages(folio) == nr_pages`, ab521b4142aa). Option
 * `rmap-mlock-large`, ./variants/rmap-mlock-large.ts.
 */
function rmapMlocks(m: Machine, folio: Folio, nr: number): boolean {
  if (!folioTestLarge(folio)) return true;
  return rmapMlockLargePolicy(m).whenFullyMapped && nr === folioNrPages(folio);
}

/** `munlock_vma_folio(folio, vma)`: in a VM_LOCKED vma, `munlock_folio`. */
export function* munlockVmaFolio(folio: Folio, vma: Vma): TaskGen<void> {
  const flags = yield* readVmFlags(vma);
  if ((flags & VM_LOCKED) === 0) return;
  yield* munlockFolio(folio);
}

// ------------------------------------------------------------------------ rmap add/remove

function checkHolder(folio: Folio, holder: string, n: number, label: string): void {
  if (folio.holderCount(holder) < n) {
    throw new MmModelError(label, folio.name, `mapping ${n} page(s) needs ${n} reference(s) held by "${holder}", which holds ${folio.holderCount(holder)}`);
  }
}

/**
 * `folio_add_new_anon_rmap(folio, vma, address, RMAP_EXCLUSIVE)`: a brand-new
 * anonymous folio gets its anon_vma `mapping` and `index`, PG_swapbacked and
 * PG_anon_exclusive, and one mapping per page (a large folio is mapped whole). One step.
 */
export function folioAddNewAnonRmap(folio: Folio, vma: Vma, address: number, from = TRANSIENT_HOLDER): Op<void> {
  const label = "folio_add_new_anon_rmap";
  return op({
    kind: "rmap_add",
    label,
    writes: [folio.map, folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (folio.mapping !== null) throw new MmModelError(label, folio.name, `not a new folio: mapping is ${folio.mapping.name}`);
      if (folio.mapcount !== 0) throw new MmModelError(label, folio.name, "not a new folio: already mapped");
      const nr = folioNrPages(folio);
      checkHolder(folio, from, nr, label);
      folio.mapping = vma.mm.anon;
      folio.index = vma.linearPageIndex(address);
      folio.setBits(PG.swapbacked | PG.anon_exclusive);
      folio.mapcount += nr;
      transferHolder(folio, from, MAP_HOLDER, nr);
      m.markWrite(folio.map);
      m.markWrite(folio.flagsWord);
      m.event("rmap_add", folio.name).arg("rmap", "new_anon").arg("vma", vma.describe()).arg("nr", nr).arg("mapcount", folio.mapcount);
    },
  });
}

function rmapAddOp(folio: Folio, nr: number, vma: Vma, from: string, label: string, anon: boolean): Op<void> {
  return op({
    kind: "rmap_add",
    label,
    writes: [folio.map],
    cost: "atomic",
    run: (m) => {
      if (anon !== folioTestAnon(folio)) throw new MmModelError(label, folio.name, anon ? "not an anonymous folio" : "an anonymous folio");
      if (!anon && folio.mapping === null) throw new MmModelError(label, folio.name, "not in a page cache (truncated?)");
      checkHolder(folio, from, nr, label);
      folio.mapcount += nr;
      transferHolder(folio, from, MAP_HOLDER, nr);
      m.markWrite(folio.map);
      m.event("rmap_add", folio.name).arg("rmap", anon ? "anon" : "file").arg("vma", vma.describe()).arg("nr", nr).arg("mapcount", folio.mapcount);
    },
  });
}

/** `folio_add_anon_rmap_ptes(folio, page, nr, vma, address, flags)` then `mlock_vma_folio`. */
export function folioAddAnonRmapPtes(folio: Folio, nr: number, vma: Vma, from = TRANSIENT_HOLDER): TaskGen<void> {
  return traced("folio_add_anon_rmap_ptes", addRmap(folio, nr, vma, from, true));
}

/** `folio_add_file_rmap_ptes(folio, page, nr, vma)` then `mlock_vma_folio`. */
export function folioAddFileRmapPtes(folio: Folio, nr: number, vma: Vma, from = TRANSIENT_HOLDER): TaskGen<void> {
  return traced("folio_add_file_rmap_ptes", addRmap(folio, nr, vma, from, false));
}

function* addRmap(folio: Folio, nr: number, vma: Vma, from: string, anon: boolean): TaskGen<void> {
  yield* rmapAddOp(folio, nr, vma, from, anon ? "folio_add_anon_rmap_ptes" : "folio_add_file_rmap_ptes", anon);
  if (rmapMlocks(currentMachine(), folio, nr)) yield* mlockVmaFolio(folio, vma);
}

/**
 * fork's rmap duplication of one entry, as one step: `folio_try_dup_anon_rmap_ptes`
 * (the page stops being PageAnonExclusive; returns false — nothing done — when it was
 * exclusive and may be DMA-pinned, `folio_needs_cow_for_dma`, except for a
 * device-private folio, which cannot be pinned) or `folio_dup_file_rmap_ptes`. The
 * caller's `folio_get` reference (held by `from`) becomes the new mapping's. No mlock:
 * the child's vma is never VM_LOCKED.
 */
export function folioDupRmapPte(folio: Folio, dstVma: Vma, from = TRANSIENT_HOLDER): Op<boolean> {
  const anon = folioTestAnon(folio);
  const label = anon ? "folio_try_dup_anon_rmap_ptes" : "folio_dup_file_rmap_ptes";
  return op({
    kind: "rmap_add",
    label,
    // folio_maybe_dma_pinned reads _refcount (or _pincount).
    reads: [folio.ref],
    writes: [folio.map, folio.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (anon && folio.test(PG.anon_exclusive) && !folioIsDevicePrivate(folio) && folioMaybeDmaPinned(folio)) return false;
      checkHolder(folio, from, 1, label);
      if (anon && folio.test(PG.anon_exclusive)) {
        folio.clearBits(PG.anon_exclusive);
        m.markWrite(folio.flagsWord);
      }
      folio.mapcount += 1;
      transferHolder(folio, from, MAP_HOLDER, 1);
      m.markWrite(folio.map);
      m.event("rmap_add", folio.name).arg("rmap", anon ? "dup_anon" : "dup_file").arg("vma", dstVma.describe()).arg("nr", 1).arg("mapcount", folio.mapcount);
      return true;
    },
  });
}

/**
 * `folio_remove_rmap_ptes(folio, page, nr, vma)`: drop `nr` mappings, handing their
 * references to `to` (the caller then puts them), then `munlock_vma_folio`.
 */
export function folioRemoveRmapPtes(folio: Folio, nr: number, vma: Vma, to = TRANSIENT_HOLDER): TaskGen<void> {
  return traced("folio_remove_rmap_ptes", removeRmap(folio, nr, vma, to));
}

/** `folio_remove_rmap_pte`. */
export function folioRemoveRmapPte(folio: Folio, vma: Vma, to = TRANSIENT_HOLDER): TaskGen<void> {
  return folioRemoveRmapPtes(folio, 1, vma, to);
}

function rmapRemoveOp(folio: Folio, nr: number, vma: Vma, to: string): Op<void> {
  const label = "folio_remove_rmap_ptes";
  return op({
    kind: "rmap_remove",
    label,
    writes: [folio.map],
    cost: "atomic",
    run: (m) => {
      if (folio.mapcount < nr) throw new MmModelError(label, folio.name, `removing ${nr} mapping(s) from a folio mapped ${folio.mapcount} time(s)`);
      folio.mapcount -= nr;
      transferHolder(folio, MAP_HOLDER, to, nr);
      m.markWrite(folio.map);
      m.event("rmap_remove", folio.name).arg("vma", vma.describe()).arg("nr", nr).arg("mapcount", folio.mapcount);
    },
  });
}

function* removeRmap(folio: Folio, nr: number, vma: Vma, to: string): TaskGen<void> {
  yield* rmapRemoveOp(folio, nr, vma, to);
  yield* munlockVmaFolio(folio, vma);
}

// ------------------------------------------------------------------------ PTE steps

/** `set_pte_at` / `set_ptes` / `ptep_get_and_clear`: write one entry (caller holds the PTE lock). */
export function setPte(slot: PteSlot, pte: Pte, label = "set_pte_at"): Op<void> {
  return op({
    kind: "set_pte",
    label,
    writes: [slot],
    cost: "plain",
    run: (m) => {
      slot.pte = pte;
      m.markWrite(slot);
      m.event("set_pte").arg("addr", hexAddr(slot.addr)).arg("mm", slot.mm.name).arg("pte", formatPte(pte));
    },
  });
}

/** `ptep_get` as a step (`pte_same` re-checks under the PTE lock read through this). */
export function readPte(slot: PteSlot, label = "ptep_get"): Op<Pte> {
  return op({ kind: "read_pte", label, reads: [slot], cost: "plain", run: () => slot.pte });
}

/** `pte_offset_map_lock`: take the split PTE lock covering `addr`. */
export function pteLock(mm: MmStruct, addr: number): Op<void> {
  return spinLock(mm.ptl(addr));
}

export function pteUnlock(mm: MmStruct, addr: number): Op<void> {
  return spinUnlock(mm.ptl(addr));
}

/** A read made only to check the model's use (a VM_BUG_ON): it decides nothing a step does. */
function assertionRead(check: () => boolean): boolean {
  const quiet = uncheckedReadsBegin();
  const r = check();
  uncheckedReadsEnd(quiet);
  return r;
}

// ------------------------------------------------------------------------ rmap walk

/** One page-table entry referring to a folio, as the rmap walk finds it. */
export interface RmapHit {
  mm: MmStruct;
  vma: Vma;
  slot: PteSlot;
}

/** Every entry of every mm that refers to `folio` with one of `kinds` (no step: a query). */
export function rmapScan(m: Machine, folio: Folio, kinds: readonly Pte["kind"][]): RmapHit[] {
  const hits: RmapHit[] = [];
  for (const mm of allMms(m)) {
    for (const slot of mm.ptes.values()) {
      const p = slot.pte;
      if (p.kind === "none" || !kinds.includes(p.kind) || p.folio !== folio) continue;
      // An up-to-6.14 device-exclusive entry is no mapping: rmap walks stop at mapcount 0.
      if (p.kind === "device-exclusive" && !p.mapped) continue;
      const vma = findVma(mm, slot.addr);
      if (!vma) throw new MmModelError("rmap_walk", folio.name, `${mm.name} maps it at ${hexAddr(slot.addr)} outside any vma`);
      hits.push({ mm, vma, slot });
    }
  }
  hits.sort((a, b) => (a.mm.id - b.mm.id) || (a.slot.addr - b.slot.addr));
  return hits;
}

/** `rmap_walk` as one step: the entries referring to `folio` right now. */
export function rmapWalk(folio: Folio, kinds: readonly Pte["kind"][]): Op<RmapHit[]> {
  return op({
    kind: "rmap_walk",
    label: "rmap_walk",
    reads: [folio.map],
    cost: "atomic",
    run: (m) => {
      // The scan of every page table stands for the walk of the folio's rmap, which
      // changes only with its mapping word; the entries it finds are read.
      const quiet = uncheckedReadsBegin();
      const hits = rmapScan(m, folio, kinds);
      uncheckedReadsEnd(quiet);
      for (const h of hits) m.noteRead(h.slot);
      return hits;
    },
  });
}

/** Page-table entries that account for a folio's mapcount (present, device-private, and device-exclusive since 6.15). */
export function countMappingPtes(m: Machine, folio: Folio): number {
  return rmapScan(m, folio, MAPPING_KINDS).length;
}

/** The entry kinds that count in a folio's mapcount (a device-exclusive one only when `mapped`). */
export const MAPPING_KINDS: readonly Pte["kind"][] = ["present", "device-private", "device-exclusive"];

/** Entries of `folio` in VM_LOCKED vmas (what `mlock_count` approximates). */
export function countLockedMappings(m: Machine, folio: Folio): number {
  return rmapScan(m, folio, ["present"]).filter((h) => (h.vma.flags & VM_LOCKED) !== 0).length;
}

// ------------------------------------------------------------------------ migration

/**
 * `try_to_migrate(folio, flags)`: replace every present (and device-private, and since
 * 6.15 device-exclusive) entry of `folio` in every mm by a migration entry. Per entry (`try_to_migrate_one`, under the
 * PTE lock): clear it (the dirty bit goes to the folio), install the migration entry,
 * `folio_remove_rmap_pte` (which munlocks in a VM_LOCKED vma), `mlock_drain_local` in a
 * VM_LOCKED vma, and `folio_put` of the mapping's reference; each entry's change is
 * bracketed by an MMU_NOTIFY_CLEAR invalidation of its page, so device mirrors drop
 * it. The folio must be locked.
 * Returns whether the folio is now unmapped (`!folio_mapped`).
 */
export function tryToMigrate(folio: Folio): TaskGen<boolean> {
  return traced("try_to_migrate", tryToMigrateBody(folio));
}

function* tryToMigrateBody(folio: Folio): TaskGen<boolean> {
  if (assertionRead(() => !folio.lock.locked)) throw new MmModelError("try_to_migrate", folio.name, "folio is not locked");
  const hits = yield* rmapWalk(folio, MAPPING_KINDS);
  for (const { mm, vma, slot } of hits) {
    const notified = yield* mmuNotifierInvalidateStart(mm, slot.addr, slot.addr + PAGE_SIZE, "MMU_NOTIFY_CLEAR");
    yield* pteLock(mm, slot.addr);
    const replaced = yield* op({
      kind: "try_to_migrate_one",
      label: "try_to_migrate_one",
      writes: [slot, folio.map, folio.flagsWord],
      cost: "mmTlbFlushPage",
      run: (m) => {
        const p = slot.pte;
        if ((p.kind !== "present" && p.kind !== "device-private" && p.kind !== "device-exclusive") || p.folio !== folio) return false;
        if (p.kind === "present" && p.dirty && !folio.test(PG.dirty)) {
          folio.setBits(PG.dirty);
          m.markWrite(folio.flagsWord);
        }
        // A device-exclusive entry: `is_writable_device_private_entry` is false for it.
        slot.pte = { kind: "migration", folio, page: p.page, writable: p.kind !== "device-exclusive" && p.writable };
        m.markWrite(slot);
        m.event("set_migration_pte", folio.name).arg("addr", hexAddr(slot.addr)).arg("mm", mm.name);
        return true;
      },
    });
    if (replaced) {
      yield* folioRemoveRmapPte(folio, vma);
      const flags = yield* readVmFlags(vma);
      if (flags & VM_LOCKED) yield* mlockDrainLocal();
      yield* folioPut(folio, TRANSIENT_HOLDER);
    }
    yield* pteUnlock(mm, slot.addr);
    yield* mmuNotifierInvalidateEnd(mm, notified);
  }
  return yield* op({ kind: "folio_mapped", label: "folio_mapped", reads: [folio.map], cost: "plain", run: () => folio.mapcount === 0 });
}

/**
 * `remove_migration_ptes(src, dst, flags)`: every migration entry for `src` becomes an
 * entry for `dst` (a present PTE, or a device-private entry when `dst` is device
 * private). Per entry (`remove_migration_pte`, under the PTE lock): `folio_get(dst)`,
 * the rmap addition (anon or file, which mlocks in a VM_LOCKED vma), `set_pte_at`, and
 * `mlock_drain_local` in a VM_LOCKED vma. `dst === src` undoes a failed migration.
 */
export function removeMigrationPtes(src: Folio, dst: Folio): TaskGen<number> {
  return traced("remove_migration_ptes", removeMigrationPtesBody(src, dst));
}

function* removeMigrationPtesBody(src: Folio, dst: Folio): TaskGen<number> {
  if (src !== dst && folioTestAnon(src) && assertionRead(() => dst.mapping === null)) {
    throw new MmModelError("remove_migration_ptes", dst.name, "destination has no anon mapping (folio_migrate_mapping not done)");
  }
  const hits = yield* rmapWalk(src, ["migration"]);
  let restored = 0;
  for (const { mm, vma, slot } of hits) {
    yield* pteLock(mm, slot.addr);
    const p = yield* readPte(slot);
    if (p.kind === "migration" && p.folio === src) {
      yield* folioGet(dst, TRANSIENT_HOLDER);
      if (folioTestAnon(dst)) yield* folioAddAnonRmapPtes(dst, 1, vma);
      else yield* folioAddFileRmapPtes(dst, 1, vma);
      const pte: Pte =
        dst.zone === "Device" && dst.deviceType === "private"
          ? { kind: "device-private", folio: dst, page: p.page, writable: p.writable }
          : { kind: "present", folio: dst, page: p.page, writable: p.writable, dirty: false };
      yield* setPte(slot, pte, "remove_migration_pte");
      const flags = yield* readVmFlags(vma);
      if (flags & VM_LOCKED) yield* mlockDrainLocal();
      restored++;
    }
    yield* pteUnlock(mm, slot.addr);
  }
  return restored;
}
