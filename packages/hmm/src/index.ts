/**
 * @foliosim/hmm — device memory and the HMM paths: `dev_pagemap` with device-private
 * folios, device migration (mm/migrate_device.c), `hmm_range_fault` (mm/hmm.c), the
 * device-private branch of `do_swap_page` by kernel variant, MMU interval notifiers,
 * device-exclusive access (`make_device_exclusive`), and the lib/test_hmm.c reference
 * driver ("dmirror").
 */

export { HMM_COSTS } from "./costs.js";
export { DEVICE_ALLOC_HOLDER, DevPagemap, allPagemaps, devicePageAlloc, folioPgmap, memremapPages, type DevPagemapOps, type MemoryType } from "./memremap.js";
export {
  MmuIntervalNotifier,
  mmuIntervalCheckRetry,
  mmuIntervalNotifierInsert,
  mmuIntervalReadBegin,
  mmuIntervalReadRetry,
  mmuIntervalSetSeq,
  mmuNotifierInvalidateRangeEnd,
  mmuNotifierInvalidateRangeStart,
  type MmuIntervalNotifierOps,
  type MmuNotifierRange,
  type MmuNotifyEvent,
} from "@foliosim/mm";
export {
  COLLECT_HOLDER,
  DST_HOLDER,
  EINVAL,
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDevicePfns,
  migrateDeviceRange,
  migrateDeviceUnmap,
  migratePfn,
  migratePfnToFolio,
  migratePfnToPfn,
  migrateVmaCheckPage,
  migrateVmaCollect,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
  newMigrateVma,
  pfnToFolio,
  type MigrateVma,
  type UnmapOptions,
} from "./migrate-device.js";
export {
  EBUSY,
  EFAULT,
  EPERM,
  HMM_PFN_ERROR,
  HMM_PFN_FLAGS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_SHIFT,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
  HMM_RANGE_DEFAULT_TIMEOUT,
  hmmPfnFlags,
  hmmPfnToPfn,
  hmmRangeFault,
  hmmRangeFaultRetry,
  type HmmRange,
} from "./hmm.js";
export { EOPNOTSUPP, deviceExclusiveSinglePage, makeDeviceExclusive, makeDeviceExclusiveRange, type ExclusiveResult } from "./device-exclusive.js";
export { FAULT_HOLDER, doSwapPageDevicePrivate, hmmInit, ptlLockQuiet, ptlUnlockQuiet } from "./memory-device.js";
export { copyNonpresentPte } from "@foliosim/mm";
export {
  Dmirror,
  DmirrorDevice,
  ENOENT,
  dmirrorCheckExclusive,
  dmirrorDevmemFault,
  dmirrorDeviceCreate,
  dmirrorDeviceEvictChunk,
  dmirrorExclusive,
  dmirrorFault,
  dmirrorMigrateToDevice,
  dmirrorMigrateToSystem,
  dmirrorOpen,
  dmirrorRead,
  dmirrorSnapshot,
  dmirrorWrite,
  HMM_DMIRROR_PROT,
  type DeviceAccess,
  type ExclusiveAccess,
  type SnapshotResult,
  type MigrateResult,
  type MirrorEntry,
} from "./test-hmm.js";
export { HMM_POINT, HMM_VARIANTS, hmmPolicy, hmmVariant, type HmmVariant } from "./variants/select.js";
export type { HmmHook } from "./variants/points.js";
export { softleafEntryWaitOnLocked } from "./variants/hmm-sleeping-wait.js";
export { HMM_MSLEEP_MS } from "./variants/hmm-msleep.js";
