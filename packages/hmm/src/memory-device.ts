/**
 * The device-private branch of `do_swap_page` (mm/memory.c), registered with
 * @foliosim/mm through `setDevicePrivateFaultHandler`, by kernel variant (reference
 * §7.2, §12.6). (The device-private case of `copy_nonpresent_pte`, fork's copy that
 * maps a device-private folio twice — S6 prerequisite 2 — lives in @foliosim/mm's
 * fork.ts; it is re-exported here.)
 *
 * - hmm-pre-6.15 (./variants/hmm-pre-6.15.ts): reference, drop the PTE lock,
 *   `migrate_to_ram`, put. No folio lock.
 * - 6.15+ (./variants/hmm-trylock-return.ts): `folio_trylock`; on success a
 *   reference, drop the PTE lock, `migrate_to_ram`, unlock, put; on failure drop the
 *   PTE lock and return 0 at once — or, with b570f37a2ce4
 *   (./variants/hmm-sleeping-wait.ts), `softleaf_entry_wait_on_locked` first.
 *
 * Simplifications: no per-VMA-lock faults (the model's faults hold mmap_lock, so the
 * VM_FAULT_RETRY exit of step 1 never happens); `pte_same` is the identity of the
 * entry read under the PTE lock. Taking and dropping the PTE lock around a pte_same
 * check that changes nothing is not counted as progress by the livelock detector
 * (`ptlLockQuiet`): the lock returns to its previous state, so a busy retry made of
 * such checks is what it is — no state change.
 */

import { folioGet, folioPut, folioTrylock, folioUnlock } from "@foliosim/folio";
import { MmModelError, readPte, setDevicePrivateFaultHandler, type PteDevicePrivate, type VmFault } from "@foliosim/mm";
import { spinLock, spinUnlock, traced, type Machine, type Op, type SpinLock, type TaskGen } from "@foliosim/sim";
import { setDeviceCoherentMigrator } from "@foliosim/gup";
import { folioPgmap } from "./memremap.js";
import { migrateDeviceCoherentFolio } from "./migrate-device.js";
import { softleafEntryWaitOnLocked } from "./variants/hmm-sleeping-wait.js";
import { faultPageLockedByCaller, sleepsOnLockedFolio } from "./variants/select.js";

/** Holder of the reference `do_swap_page` takes on the device-private folio around `migrate_to_ram`. */
export const FAULT_HOLDER = "fault";

/** `pte_offset_map_lock` for a check that may change nothing (see the file header): not progress. */
export function ptlLockQuiet(l: SpinLock): Op<void> {
  return spinLock(l, { progress: false });
}

/** `pte_unmap_unlock` pairing with `ptlLockQuiet`. */
export function ptlUnlockQuiet(l: SpinLock): Op<void> {
  return spinUnlock(l, { progress: false });
}

/** `do_swap_page` for a device-private entry (reference §7.2). Returns VM_FAULT_* bits; 0 retries the access. */
export function doSwapPageDevicePrivate(vmf: VmFault & { origPte: PteDevicePrivate }): TaskGen<number> {
  return traced("do_swap_page_device_private", doSwapPageDevicePrivateBody(vmf));
}

function* doSwapPageDevicePrivateBody(vmf: VmFault & { origPte: PteDevicePrivate }): TaskGen<number> {
  const m = vmf.mm.machine;
  const folio = vmf.origPte.folio;
  const pgmap = folioPgmap(folio);
  if (!pgmap || !pgmap.ops) throw new MmModelError("do_swap_page", folio.name, "device-private entry without a dev_pagemap");
  const ptl = vmf.mm.ptl(vmf.address);
  yield* ptlLockQuiet(ptl);
  const p = yield* readPte(vmf.slot, "pte_same");
  if (p !== vmf.origPte) {
    yield* ptlUnlockQuiet(ptl);
    return 0;
  }
  if (!faultPageLockedByCaller(m)) {
    // Before 1afaeb8293c9: get a reference while the PTL keeps the page, no lock.
    yield* folioGet(folio, FAULT_HOLDER);
    yield* ptlUnlockQuiet(ptl);
    const ret = yield* pgmap.ops.migrateToRam(vmf, folio);
    yield* folioPut(folio, FAULT_HOLDER);
    return ret;
  }
  if (yield* folioTrylock(folio)) {
    yield* folioGet(folio, FAULT_HOLDER);
    yield* ptlUnlockQuiet(ptl);
    const ret = yield* pgmap.ops.migrateToRam(vmf, folio);
    yield* folioUnlock(folio);
    yield* folioPut(folio, FAULT_HOLDER);
    return ret;
  }
  m.count("hmm_device_private_trylock_failed");
  if (sleepsOnLockedFolio(m)) {
    yield* softleafEntryWaitOnLocked(folio, ptl);
    return 0;
  }
  yield* ptlUnlockQuiet(ptl);
  return 0;
}

/** Install the device-private fault path (`do_swap_page` → `migrate_to_ram`) and GUP's device-coherent migration on a machine. */
export function hmmInit(m: Machine): void {
  setDevicePrivateFaultHandler(m, doSwapPageDevicePrivate);
  setDeviceCoherentMigrator(m, migrateDeviceCoherentFolio); // GUP's FOLL_LONGTERM pins of device-coherent memory
}
