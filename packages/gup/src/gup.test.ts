// S1 (reference §12.1, seed 004): Will Deacon's pKVM pin of an mlocked shmem folio
// in CMA, built through modelled operations only, under each drain rule.
import { describe, expect, it } from "vitest";
import { folioExpectedRefCount, folioIsLongtermPinnable, formatFlags, PhysicalMemory, type Folio } from "@foliosim/folio";
import { whereIs } from "@foliosim/lru";
import {
  createFile,
  createMm,
  forcePageCacheRa,
  MAP_SHARED,
  memfdCreate,
  mlock2,
  MLOCK_ONFAULT,
  mmap,
  PROT_READ,
  PROT_WRITE,
  touch,
  withMmapReadLock,
} from "@foliosim/mm";
import { Machine, TimedChooser, type RunResult } from "@foliosim/sim";
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPages, unpinUserPages, type Pages } from "./index.js";

interface S1 {
  r: RunResult;
  ret: number;
  before: { ref: number; exp: number; flags: string; where: string[] };
  pinned: Folio | null;
  original: Folio;
}

function s1(collect: string, lruBatchClearsLru: boolean): S1 {
  const m = new Machine({ cpus: 8, kernel: { collect, "lru-batch-clears-lru": lruBatchClearsLru, migrate: "mainline" } });
  const memory = new PhysicalMemory({ CMA: 8, Normal: 128 });
  const mm = createMm(m, { memory, name: "crosvm" });
  const memfd = memfdCreate(m, { memory, name: "crosvm_guest", sizePages: 16 });
  const other = createFile(m, { memory, name: "libfoo.so", sizePages: 64 });
  let addr = 0;
  let original!: Folio;
  // CPU7: map guest memory locked-on-fault, fault one page in, then readahead of another file fills the lru_add batch.
  m.spawn({
    name: "crosvm_VmRunApp",
    cpu: 7,
    *body() {
      addr = yield* mmap(mm, { length: 16 * 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: memfd });
      yield* mlock2(mm, addr, 16 * 4096, MLOCK_ONFAULT);
      original = yield* touch(mm, addr, true);
      yield* forcePageCacheRa(other, 0, 31);
    },
  });
  m.settle(new TimedChooser(0, 0));
  const before = { ref: original.refcount, exp: folioExpectedRefCount(original), flags: formatFlags(original.flags), where: whereIs(m, original) };
  let ret = 0;
  const pages: Pages = [null];
  m.spawn({
    name: "crosvm_vcpu0",
    cpu: 3,
    *body() {
      ret = yield* withMmapReadLock(mm, pinUserPages(mm, addr, 1, FOLL_LONGTERM | FOLL_WRITE, pages, memory));
      const pinned = pages[0];
      if (ret > 0) {
        (m.annotations as Record<string, unknown>).pinnable = pinned ? folioIsLongtermPinnable(pinned) : null;
        yield* unpinUserPages(pages);
      }
    },
  });
  const r = m.run(new TimedChooser(1));
  return { r, ret, before, pinned: pages[0], original };
}

describe("S1: pKVM pin of an mlocked shmem folio in CMA", () => {
  it("builds Will's state: ref 3, exp 2, lru|unevictable|mlocked, still in CPU7's mlock batch", () => {
    const { before } = s1("pre-6.11", false);
    expect(before.ref).toBe(3);
    expect(before.exp).toBe(2);
    expect(before.flags).toBe("uptodate|dirty|lru|swapbacked|unevictable|mlocked");
    expect(before.where).toEqual(["cpu7 mlock_fbatch (LRU_FOLIO)", "unevictable"]);
  });

  it.each([
    ["pre-6.11", false, -12],
    ["pre-6.11", true, -12],
    ["hugh-v1", true, -12],
    ["john-memalloc-pin", true, -12],
    ["will-v1", true, 1],
    ["6.17", false, 1],
    ["2026", false, 1],
  ])("collect=%s (lru-batch-clears-lru=%s): pin_user_pages returns %i", (collect, clears, expected) => {
    const { r, ret } = s1(collect as string, clears as boolean);
    expect(r.status).toBe("done");
    expect(ret).toBe(expected);
    if (expected < 0) {
      // The migration retries were exhausted: 3 async and 7 sync move passes.
      expect(r.counters.migrate_retry).toBe(10);
      expect(r.counters.lru_add_drain_all ?? 0).toBe(0);
    } else {
      expect(r.annotations.pinnable).toBe(true);
      expect(r.counters.lru_add_drain_all).toBe(1);
    }
  });
});
