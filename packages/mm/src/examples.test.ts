/**
 * Reference §11's worked reference-count examples, each state built through modelled
 * operations (faults, readahead, mlock, batches, isolation, a pin helper), asserting
 * `ref`, `exp`, flags and mapcount. E19 (fork) and E22-E25 (PMD THP, zero page,
 * 32-bit) are outside this model; E26 needs @foliosim/migrate.
 */

import { describe, expect, it } from "vitest";
import { PG, folioLock, folioMaybeDmaPinned, folioPut, folioUnlock, type Folio } from "@foliosim/folio";
import { folioActivate, folioIsolateLru, folioPutbackLru, lruAddDrain } from "@foliosim/lru";
import { TRANSIENT_HOLDER, createFile, filemapGetEntry } from "./filemap.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { removeMigrationPtes, tryToMigrate } from "./rmap.js";
import { memfdCreate, shmemGetFolio, shmemWriteout } from "./shmem.js";
import { addToSwapCache } from "./swap-state.js";
import { grabMapped, pinFolio, snap, unpinFolio, where, world } from "./testing.js";
import { mlock2, MLOCK_ONFAULT } from "./mlock.js";
import { forcePageCacheRa } from "./readahead.js";

const RW = PROT_READ | PROT_WRITE;

/** A file page read into the cache on CPU0 and put on the LRU: the E1 state. */
function e1() {
  const w = world();
  const file = createFile(w.m, { memory: w.mem, name: "data", sizePages: 8 });
  w.step(0, () => forcePageCacheRa(file, 0, 1));
  w.step(0, () => lruAddDrain());
  const f = file.peek(0)!;
  return { w, file, f };
}

/** Take a "transient" page-cache reference, run `body`, drop it. */
function* withCacheRef<R>(file: ReturnType<typeof createFile>, index: number, body: (f: Folio) => Generator<any, R, any>) {
  const f = (yield* filemapGetEntry(file, index))!;
  const r = yield* body(f);
  yield* folioPut(f, TRANSIENT_HOLDER);
  return r;
}

describe("reference §11 worked examples", () => {
  it("E1: page-cache folio, unmapped, on the LRU: ref 1 = exp 1; isolated it is exp + 1", () => {
    const { w, file, f } = e1();
    expect(snap(f)).toMatchObject({ ref: 1, exp: 1, flags: "uptodate|lru", mapcount: 0, holders: { pagecache: 1 } });
    expect(where(w.m, f)).toEqual(["inactive_file"]);
    const isolated = w.step(1, () =>
      withCacheRef(file, 0, function* (g) {
        const ok = yield* folioIsolateLru(g);
        return { ok, ref: g.refcount - 1 /* minus our lookup reference */ };
      }),
    );
    expect(isolated).toEqual({ ok: true, ref: 2 });
    expect(snap(f)).toMatchObject({ ref: 2, exp: 1, flags: "uptodate", holders: { isolated: 1, pagecache: 1 } });
  });

  it("E2/E3/E4: mapped once (2/2), pinned (1026/2), and also in a batch on another CPU (1027/2)", () => {
    const { w, file, f } = e1();
    const mm = w.mm();
    const addr = w.step(0, () => mmap(mm, { length: 8 * 4096, prot: PROT_READ, flags: MAP_SHARED, file }));
    expect(w.step(0, () => touch(mm, addr, false))).toBe(f);
    expect(snap(f)).toMatchObject({ ref: 2, exp: 2, flags: "uptodate|lru", mapcount: 1, holders: { map: 1, pagecache: 1 } });
    w.step(2, () => pinFolio(f));
    expect(snap(f)).toMatchObject({ ref: 1026, exp: 2, flags: "uptodate|lru", mapcount: 1 });
    expect(folioMaybeDmaPinned(f)).toBe(true);
    // folio_mark_accessed on CPU1 queues it in CPU1's lru_activate batch.
    w.step(1, () => withCacheRef(file, 0, (g) => folioActivate(g)));
    expect(snap(f)).toMatchObject({ ref: 1027, exp: 2, flags: "uptodate|lru", mapcount: 1, holders: { lru_activate: 1, map: 1, pagecache: 1, pin: 1024 } });
    expect(where(w.m, f)).toEqual(["cpu1 lru_activate", "inactive_file"]);
  });

  it("E5-E10': Will's folio through pin, isolation, unpin, try_to_migrate and the mlock drain", () => {
    const w = world({ cpus: 8 }, { CMA: 64, Normal: 64 });
    const memfd = memfdCreate(w.m, { memory: w.mem, name: "guest", sizePages: 4 });
    const bin = createFile(w.m, { memory: w.mem, name: "crosvm", sizePages: 32 });
    const mm = w.mm("crosvm");
    const guest = w.step(7, () => mmap(mm, { length: 4 * 4096, prot: RW, flags: MAP_SHARED, file: memfd }));
    const text = w.step(7, () => mmap(mm, { length: 32 * 4096, prot: PROT_READ, flags: MAP_PRIVATE, file: bin }));
    expect(w.step(7, () => mlock2(mm, guest, 4 * 4096, MLOCK_ONFAULT))).toBe(0);

    // E5: the user fault on CPU7: cache + lru_add batch + PTE + mlock batch.
    const f = w.step(7, () => touch(mm, guest, true));
    expect(f.migratetype).toBe("CMA");
    expect(snap(f)).toMatchObject({ ref: 4, exp: 2, flags: "uptodate|dirty|swapbacked|mlocked", mapcount: 1 });
    expect(snap(f).holders).toEqual({ lru_add: 1, map: 1, mlock: 1, pagecache: 1 });

    // E6: a readahead fault on CPU7 fills its lru_add batch; the flush adds F as unevictable.
    w.step(7, () => touch(mm, text, false));
    expect(snap(f)).toMatchObject({ ref: 3, exp: 2, flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked", mapcount: 1 });
    expect(f.mlockCount).toBe(0);
    expect(where(w.m, f)).toEqual(["cpu7 mlock_fbatch (LRU_FOLIO)", "unevictable"]);

    // E7: pinned on CPU3.
    w.step(3, () => pinFolio(f));
    expect(snap(f)).toMatchObject({ ref: 1027, exp: 2, flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked" });

    // E8: isolated by collect_longterm_unpinnable_folios on CPU3.
    expect(w.step(3, () => folioIsolateLru(f))).toBe(true);
    expect(snap(f)).toMatchObject({ ref: 1028, exp: 2, flags: "uptodate|dirty|swapbacked|unevictable|mlocked" });

    // E9: the unpin loop.
    w.step(3, () => unpinFolio(f));
    expect(snap(f)).toMatchObject({ ref: 4, exp: 2 });

    // E10: migration locks and unmaps it on CPU3 (munlock of the removed rmap is drained locally).
    w.step(3, function* () {
      yield* folioLock(f);
      return yield* tryToMigrate(f);
    });
    expect(snap(f)).toMatchObject({ ref: 3, exp: 1, mapcount: 0, flags: "locked|uptodate|dirty|swapbacked|unevictable" });
    expect(snap(f).holders).toEqual({ isolated: 1, mlock: 1, pagecache: 1 });

    // E10': the fix drains CPU7's mlock batch: only cache + isolation remain, the move check (exp + 1) passes.
    w.step(7, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 2, exp: 1, mapcount: 0 });
    expect(snap(f).holders).toEqual({ isolated: 1, pagecache: 1 });

    // Undo (migration failed): the PTE comes back, the folio is put back.
    w.step(3, function* () {
      yield* removeMigrationPtes(f, f);
      yield* folioUnlock(f);
      yield* folioPutbackLru(f);
      yield* lruAddDrain();
    });
    expect(snap(f)).toMatchObject({ ref: 2, exp: 2, mapcount: 1, flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked" });
  });

  it("E11-E13: anonymous folio faulted in a normal vma (2/1, not isolatable), drained (1/1), pinned (1025/1)", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4096, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    const f = w.step(0, () => touch(mm, a, true));
    expect(snap(f)).toMatchObject({ ref: 2, exp: 1, flags: "uptodate|swapbacked|anon_exclusive", mapcount: 1, holders: { lru_add: 1, map: 1 } });
    const isolated = w.step(1, function* () {
      const g = (yield* grabMapped(mm, a))!;
      const ok = yield* folioIsolateLru(g);
      yield* folioPut(g, TRANSIENT_HOLDER);
      return ok;
    });
    expect(isolated).toBe(false);
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 1, exp: 1, flags: "uptodate|lru|swapbacked|anon_exclusive", mapcount: 1 });
    w.step(1, () => pinFolio(f));
    expect(snap(f)).toMatchObject({ ref: 1025, exp: 1, mapcount: 1 });
  });

  it("E14/E15: anonymous folio faulted in a VM_LOCKED vma (2/1, mlock batch only), pinned before the drain (1026/1)", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4096, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED }));
    const f = w.step(0, () => touch(mm, a, true));
    expect(snap(f)).toMatchObject({ ref: 2, exp: 1, flags: "uptodate|swapbacked|mlocked|anon_exclusive", mapcount: 1, holders: { map: 1, mlock: 1 } });
    expect(where(w.m, f)).toEqual(["cpu0 mlock_fbatch (NEW_FOLIO)"]);
    w.step(1, () => pinFolio(f));
    expect(snap(f)).toMatchObject({ ref: 1026, exp: 1 });
    expect(w.step(1, () => folioIsolateLru(f))).toBe(false);
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 1025, exp: 1, flags: "uptodate|lru|swapbacked|unevictable|mlocked|anon_exclusive" });
    expect(f.mlockCount).toBe(1);
  });

  it("E16: anonymous folio in the swap cache, mapped once: 2/2", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4096, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    const f = w.step(0, () => touch(mm, a, true));
    w.step(0, () => lruAddDrain());
    w.step(0, function* () {
      yield* folioLock(f);
      yield* addToSwapCache(f);
      yield* folioUnlock(f);
    });
    expect(snap(f)).toMatchObject({ ref: 2, exp: 2, mapcount: 1, flags: "uptodate|dirty|lru|swapbacked|swapcache|anon_exclusive", holders: { map: 1, swapcache: 1 } });
  });

  it("E17: shmem folio moved to the swap cache (mapping NULL), unmapped: 1/1", () => {
    const w = world();
    const shm = memfdCreate(w.m, { memory: w.mem, name: "shm", sizePages: 1 });
    const f = w.step(0, function* () {
      const { folio } = yield* shmemGetFolio(shm, 0);
      yield* folioUnlock(folio!);
      yield* folioPut(folio!, TRANSIENT_HOLDER);
      yield* lruAddDrain();
      return folio!;
    });
    expect(snap(f)).toMatchObject({ ref: 1, exp: 1, flags: "uptodate|lru|swapbacked" });
    w.step(0, function* () {
      const g = (yield* filemapGetEntry(shm, 0))!;
      yield* folioLock(g);
      yield* shmemWriteout(g);
      yield* folioUnlock(g);
      yield* folioPut(g, TRANSIENT_HOLDER);
    });
    expect(f.mapping).toBeNull();
    expect(shm.peek(0)).toBeUndefined();
    expect(snap(f)).toMatchObject({ ref: 1, exp: 1, flags: "uptodate|lru|swapbacked|swapcache", holders: { swapcache: 1 } });
  });

  it("E18: file folio with buffer heads (PG_private), mapped once: 3/3", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "ext4file", sizePages: 1, bufferHeads: true });
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4096, prot: PROT_READ, flags: MAP_SHARED, file }));
    const f = w.step(0, () => touch(mm, a, false));
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 3, exp: 3, mapcount: 1, flags: "uptodate|lru|private", holders: { map: 1, pagecache: 1, private: 1 } });
  });

  it("E20/E21: order-2 anonymous folio PTE-mapped once (4/4, mapcount 4), all pages pinned (8/4, _pincount 4)", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4 * 4096, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS, folioOrder: 2 }));
    const f = w.step(0, () => touch(mm, a + 4096, true));
    expect(f.order).toBe(2);
    // A large folio never stays in an LRU batch: it is on the LRU already.
    expect(snap(f)).toMatchObject({ ref: 4, exp: 4, mapcount: 4, flags: "uptodate|lru|head|swapbacked|anon_exclusive", holders: { map: 4 } });
    expect(where(w.m, f)).toEqual(["inactive_anon"]);
    for (let i = 0; i < 4; i++) expect(w.step(0, () => touch(mm, a + i * 4096, false))).toBe(f);
    w.step(1, () => pinFolio(f, 4));
    expect(snap(f)).toMatchObject({ ref: 8, exp: 4, mapcount: 4 });
    expect(f.pincount).toBe(4);
    expect(folioMaybeDmaPinned(f)).toBe(true);
    expect(f.test(PG.lru)).toBe(true);
  });
});
