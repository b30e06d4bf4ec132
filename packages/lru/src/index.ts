/**
 * @foliosim/lru — lruvec lists, the per-CPU LRU and mlock folio batches, their drains
 * (`lru_add_drain_all` with its generation counter, `lru_cache_disable`), and folio
 * isolation and putback.
 */

export {
  FOLIO_BATCH_SIZE,
  FolioBatch,
  ISOLATED_HOLDER,
  LRU_BATCHES,
  LRU_LISTS,
  Lruvec,
  MLOCK_HOLDER,
  MlockBatch,
  folioLruList,
  getLru,
  lruCacheDisabled,
  pendingHolder,
  whereIs,
  type CpuFbatches,
  type LruBatchName,
  type LruListName,
  type LruState,
  type MlockFbatch,
  type MlockTag,
} from "./lruvec.js";
export {
  cpuNeedsDrain,
  deactivateFileFolio,
  folioActivate,
  folioAddLru,
  folioAddLruVma,
  folioBatchMoveLru,
  folioDeactivate,
  folioMarkLazyfree,
  folioRotateReclaimable,
  lruAddDrain,
  lruAddDrainAll,
  lruAddDrainCpu,
  lruCacheDisable,
  lruCacheDrainForFolio,
  lruCacheEnable,
  type LruCacheDrained,
} from "./swap.js";
export { mlockDrainLocal, mlockDrainRemote, mlockFolio, mlockFolioBatch, mlockNewFolio, munlockFolio, needMlockDrain } from "./mlock.js";
export { PUTBACK_HOLDER, folioIsolateLru, folioPutbackLru } from "./vmscan.js";
export { LruPlaces, lruInvariants, refcountMatchesHolders, unexplainedRefs } from "./invariants.js";
export { LRU_COSTS } from "./costs.js";
export { LRU_BATCH_CLEARS_LRU, LRU_BATCH_POINT, LRU_DRAIN_ALL_POINT, lruAddDrainAllLocalFirst, lruBatchClearsLru, lruBatchPolicy, lruDrainAllPolicy } from "./variants/batch-policy.js";
export { johnMemallocPin } from "./variants/john-memalloc-pin.js";
export type { BatchQueueing, LruBatchHook, LruDrainAllHook, LruDrainOps } from "./variants/points.js";
