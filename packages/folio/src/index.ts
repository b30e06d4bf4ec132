/**
 * @foliosim/folio — struct folio, reference counting with page_ref tracepoints, page
 * flags, the folio lock, and physical memory.
 */

export { PG, formatFlags, parseFlags, type PageFlag } from "./page-flags.js";
export {
  Folio,
  GUP_PIN_COUNTING_BIAS,
  MIGRATETYPE,
  folioEvictable,
  folioExpectedRefCount,
  folioHasPincount,
  folioIsDeviceCoherent,
  folioIsDevicePrivate,
  folioIsLongtermPinnable,
  folioIsZoneDevice,
  folioMapped,
  folioMaybeDmaPinned,
  folioMayBeLruCached,
  folioNrPages,
  folioOfWord,
  folioTestAnon,
  folioTestLarge,
  mappingPointer,
  pfnHex,
  type DeviceType,
  type FolioFreeTarget,
  type FolioState,
  type Mapping,
  type MappingKind,
  type Migratetype,
  type ZoneName,
} from "./folio.js";
export {
  describeHolders,
  folioGet,
  folioPut,
  folioPutRefs,
  folioRefAdd,
  folioRefFreeze,
  folioRefUnfreeze,
  folioTryGet,
  getNow,
  holderTotal,
  onFolioPut,
  onFolioRelease,
  putNow,
  refFreezeNow,
  refUnfreezeNow,
  tracePageRef,
  transferHolder,
  type PageRefEvent,
} from "./page-ref.js";
export {
  folioClearFlag,
  folioSetFlag,
  folioSetLru,
  folioTestClearFlag,
  folioTestClearLru,
  folioTestClearMlocked,
  folioTestFlag,
  folioTestLru,
  folioTestMlocked,
  folioTestSetFlag,
  folioTestSetMlocked,
  folioTestUnevictable,
} from "./flags.js";
export { folioLock, folioLocked, folioTrylock, folioUnlock, folioWaitLocked } from "./folio-lock.js";
export {
  FOLIO_COSTS,
  NODE_PFN_STRIDE,
  PAGE_ALLOC_COSTLY_ORDER,
  PAGEBLOCK_ORDER,
  pcpAllowedOrder,
  zoneBatchsize,
  cpuToNode,
  PF_MEMALLOC,
  PF_MEMALLOC_PIN,
  PhysicalMemory,
  memallocPinRestore,
  memallocPinSave,
  type GfpRequest,
  type MemorySpec,
  type RegionName,
} from "./page-alloc.js";
export { startIsolatePageRange, undoIsolatePageRange } from "./page-isolation.js";
export * from "./vma-flags.js";
