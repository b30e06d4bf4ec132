/**
 * Device-exclusive access (mm/rmap.c `make_device_exclusive`, and up to 6.14
 * `make_device_exclusive_range` → `page_make_device_exclusive` →
 * `page_make_device_exclusive_one`). A driver that wants atomic access to a page of a
 * process replaces the page's PTE by a device-exclusive entry: the CPU cannot access it
 * until a fault restores the PTE (mm/memory.c `remove_device_exclusive_entry`, in
 * @foliosim/mm), which tells the device through an MMU_NOTIFY_EXCLUSIVE invalidation.
 * The kernel code lives in mm/rmap.c; the model keeps it in @foliosim/hmm because it
 * starts with GUP (`get_user_page_vma_remote`), a layer above @foliosim/mm.
 *
 * Two releases, read from the `hmm` variation point (the `get-page` fault path is
 * ≤ 6.14; David Hildenbrand's series "mm: fixes for device-exclusive entries (hmm)"
 * went into 6.15 together with 1afaeb8293c9):
 * - since 6.15, `make_device_exclusive(mm, addr, owner, &folio)`: one page. GUP it
 *   writable (FOLL_GET | FOLL_WRITE | FOLL_SPLIT_PMD; a device-exclusive entry already
 *   there is restored by the fault GUP takes), refuse a non-anonymous folio
 *   (-EOPNOTSUPP), `folio_lock_killable` (sleeps), an MMU_NOTIFY_EXCLUSIVE invalidation
 *   of the page with `owner`, then a second walk (`folio_walk_start`) under the PTE
 *   lock: if the PTE no longer maps this page writable, undo and retry from GUP
 *   ("mm/rmap: avoid -EBUSY from make_device_exclusive()"); else clear it (a dirty PTE
 *   dirties the folio) and install a device-exclusive entry that keeps the mapcount
 *   ("mm/rmap: keep mapcount untouched for device-exclusive entries"). Returns the
 *   folio locked and with GUP's reference;
 * - up to 6.14, `make_device_exclusive_range(mm, start, end, pages, owner)`: GUP the
 *   range, then per page `trylock_page` (a locked page is dropped: NULL) and
 *   `page_make_device_exclusive`: for an anonymous page, an rmap walk that replaces every
 *   present PTE of the folio by a device-exclusive entry (readable or writable as the
 *   PTE was) and removes its rmap — the entry keeps the PTE's reference but no longer
 *   counts as a mapping — each inside an MMU_NOTIFY_EXCLUSIVE invalidation; success
 *   when the expected address was mapped writable and the folio is no longer mapped.
 *
 * Simplifications: no THP (FOLL_SPLIT_PMD has nothing to split), no hugetlb, no
 * soft-dirty or uffd-wp bits; `folio_lock_killable` is never interrupted; the ≤ 6.14
 * notifier range is the page (the kernel's is the folio's span in the vma).
 */

import { folioLock, folioTestAnon, folioTrylock, folioUnlock, type Folio } from "@foliosim/folio";
import { FOLL_SPLIT_PMD, FOLL_WRITE, getUserPagesRemote, putUserPage, type Pages } from "@foliosim/gup";
import {
  DEVICE_EXCLUSIVE_HOLDER,
  PAGE_SIZE,
  folioMarkDirty,
  folioRemoveRmapPte,
  mmuNotifierInvalidateEnd,
  mmuNotifierInvalidateStart,
  pteLock,
  pteUnlock,
  readPte,
  rmapWalk,
  setPte,
  type MmStruct,
  type PtePresent,
} from "@foliosim/mm";
import { currentMachine, op, traced, type TaskGen } from "@foliosim/sim";
import { hmmPolicy } from "./variants/select.js";

export const EOPNOTSUPP = -95;

/** Whether the machine runs `make_device_exclusive` (6.15+) rather than `make_device_exclusive_range`. */
export function deviceExclusiveSinglePage(): boolean {
  return hmmPolicy(currentMachine()).fault !== "get-page";
}

/** `make_device_exclusive`'s result: the folio (locked, GUP's reference held) or an errno. */
export type ExclusiveResult = { folio: Folio; err: 0 } | { folio: null; err: number };

/**
 * `make_device_exclusive(mm, addr, owner, &folio)` (6.15+): mmap_lock held for reading.
 * Returns the folio locked and referenced ("get": release with `folio_unlock` and
 * `put_page`), or GUP's errno / -EOPNOTSUPP.
 */
export function makeDeviceExclusive(mm: MmStruct, addr: number, owner: object | null): TaskGen<ExclusiveResult> {
  return traced("make_device_exclusive", makeDeviceExclusiveBody(mm, Math.floor(addr / PAGE_SIZE) * PAGE_SIZE, owner));
}

function* makeDeviceExclusiveBody(mm: MmStruct, addr: number, owner: object | null): TaskGen<ExclusiveResult> {
  for (;;) {
    const pages: Pages = [null];
    const n = yield* getUserPagesRemote(mm, addr, 1, FOLL_WRITE | FOLL_SPLIT_PMD, pages);
    if (n < 0) return { folio: null, err: n };
    const folio = pages[0]!;
    if (!folioTestAnon(folio)) {
      yield* putUserPage(folio);
      return { folio: null, err: EOPNOTSUPP };
    }
    yield* folioLock(folio);
    const notified = yield* mmuNotifierInvalidateStart(mm, addr, addr + PAGE_SIZE, "MMU_NOTIFY_EXCLUSIVE", owner);
    yield* pteLock(mm, addr);
    const slot = mm.slot(addr);
    const p = yield* readPte(slot, "folio_walk_start");
    if (p.kind !== "present" || p.folio !== folio || !p.writable) {
      yield* pteUnlock(mm, addr);
      yield* mmuNotifierInvalidateEnd(mm, notified);
      yield* folioUnlock(folio);
      yield* putUserPage(folio);
      continue;
    }
    yield* setPte(slot, { kind: "none" }, "ptep_clear_flush");
    if (p.dirty) yield* folioMarkDirty(folio);
    yield* setPte(slot, { kind: "device-exclusive", folio, page: p.page, writable: true, mapped: true }, "set_pte_at(make_device_exclusive_entry)");
    yield* pteUnlock(mm, addr);
    yield* mmuNotifierInvalidateEnd(mm, notified);
    return { folio, err: 0 };
  }
}

/**
 * `make_device_exclusive_range(mm, start, end, pages, owner)` (≤ 6.14): the number of
 * pages GUP found (or its errno); `pages[i]` stays set — locked and referenced — only
 * for the pages made exclusive.
 */
export function makeDeviceExclusiveRange(mm: MmStruct, start: number, end: number, pages: Pages, owner: object | null): TaskGen<number> {
  return traced("make_device_exclusive_range", makeDeviceExclusiveRangeBody(mm, start, end, pages, owner));
}

function* makeDeviceExclusiveRangeBody(mm: MmStruct, start: number, end: number, pages: Pages, owner: object | null): TaskGen<number> {
  const npages = yield* getUserPagesRemote(mm, start, (end - start) / PAGE_SIZE, FOLL_WRITE | FOLL_SPLIT_PMD, pages);
  if (npages < 0) return npages;
  for (let i = 0; i < npages; i++) {
    const folio = pages[i]!;
    if (!(yield* folioTrylock(folio))) {
      yield* putUserPage(folio);
      pages[i] = null;
      continue;
    }
    if (!(yield* pageMakeDeviceExclusive(folio, mm, start + i * PAGE_SIZE, owner))) {
      yield* folioUnlock(folio);
      yield* putUserPage(folio);
      pages[i] = null;
    }
  }
  return npages;
}

/**
 * `page_make_device_exclusive(page, mm, address, owner)` (folio locked): false for a
 * non-anonymous page; else the rmap walk, and success when `address` in `mm` was mapped
 * writable and no mapping is left.
 */
function pageMakeDeviceExclusive(folio: Folio, mm: MmStruct, address: number, owner: object | null): TaskGen<boolean> {
  return traced("page_make_device_exclusive", pageMakeDeviceExclusiveBody(folio, mm, address, owner));
}

function* pageMakeDeviceExclusiveBody(folio: Folio, mm: MmStruct, address: number, owner: object | null): TaskGen<boolean> {
  if (!folioTestAnon(folio)) return false;
  let valid = false;
  const hits = yield* rmapWalk(folio, ["present"]);
  for (const hit of hits) {
    const addr = hit.slot.addr;
    const notified = yield* mmuNotifierInvalidateStart(hit.mm, addr, addr + PAGE_SIZE, "MMU_NOTIFY_EXCLUSIVE", owner);
    yield* pteLock(hit.mm, addr);
    const p = yield* readPte(hit.slot, "page_vma_mapped_walk");
    const present = p.kind === "present" && p.folio === folio;
    if (present) {
      const pte = p as PtePresent;
      yield* setPte(hit.slot, { kind: "none" }, "ptep_clear_flush");
      if (pte.dirty) yield* folioMarkDirty(folio);
      if (hit.mm === mm && addr === address && pte.writable) valid = true;
      yield* setPte(hit.slot, { kind: "device-exclusive", folio, page: pte.page, writable: pte.writable, mapped: false }, "set_pte_at(make_device_exclusive_entry)");
      yield* folioRemoveRmapPte(folio, hit.vma, DEVICE_EXCLUSIVE_HOLDER);
    }
    yield* pteUnlock(hit.mm, addr);
    yield* mmuNotifierInvalidateEnd(hit.mm, notified);
    if (!present) break;
  }
  const unmapped = yield* op({ kind: "folio_mapped", label: "folio_mapcount", reads: [folio.map], cost: "plain", run: () => folio.mapcount === 0 });
  return valid && unmapped;
}
