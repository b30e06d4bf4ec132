/**
 * The page cache and readahead: speculative lookups, adding and removing folios, the
 * readahead batch flush, filemap_fault on a miss and a hit, and rmap of a page-cache
 * folio mapped by two processes through try_to_migrate / remove_migration_ptes.
 */

import { describe, expect, it } from "vitest";
import { folioLock, folioPut, folioUnlock } from "@foliosim/folio";
import { FOLIO_BATCH_SIZE, folioIsolateLru, folioPutbackLru, lruAddDrain } from "@foliosim/lru";
import { Machine, SeededChooser } from "@foliosim/sim";
import {
  EEXIST,
  TRANSIENT_HOLDER,
  VM_FAULT_LOCKED,
  VM_FAULT_MAJOR,
  createFile,
  filemapAddFolio,
  filemapFault,
  filemapGetEntry,
  filemapRemoveFolio,
} from "./filemap.js";
import { getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_SHARED, PROT_READ, mmap } from "./mmap.js";
import { forcePageCacheRa } from "./readahead.js";
import { removeMigrationPtes, tryToMigrate } from "./rmap.js";
import { snap, where, world } from "./testing.js";

describe("page cache", () => {
  it("filemap_get_entry takes a transient reference; a miss returns null", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 4 });
    w.step(0, () => forcePageCacheRa(file, 1, 1));
    const r = w.step(0, function* () {
      const miss = yield* filemapGetEntry(file, 0);
      const hit = (yield* filemapGetEntry(file, 1))!;
      const during = snap(hit);
      yield* folioPut(hit, TRANSIENT_HOLDER);
      return { miss, during };
    });
    expect(r.miss).toBeNull();
    expect(r.during).toMatchObject({ ref: 3, holders: { lru_add: 1, pagecache: 1, transient: 1 } });
  });

  it("filemap_add_folio: cache reference, locked, in this CPU's lru_add batch; -EEXIST when taken", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 4 });
    const r = w.step(1, function* () {
      const a = (yield* w.mem.allocFolio({ movable: true }, TRANSIENT_HOLDER))!;
      const b = (yield* w.mem.allocFolio({ movable: true }, TRANSIENT_HOLDER))!;
      const ra = yield* filemapAddFolio(file, a, 2);
      const sa = snap(a);
      const rb = yield* filemapAddFolio(file, b, 2);
      const sb = snap(b);
      yield* folioPut(b, TRANSIENT_HOLDER);
      yield* folioUnlock(a);
      yield* folioPut(a, TRANSIENT_HOLDER);
      return { ra, sa, rb, sb, a, b };
    });
    expect(r.ra).toBe(0);
    expect(r.sa).toMatchObject({ ref: 3, flags: "locked", holders: { lru_add: 1, pagecache: 1, transient: 1 } });
    expect(where(w.m, r.a)).toEqual(["cpu1 lru_add"]);
    expect(r.rb).toBe(-EEXIST);
    expect(r.sb).toMatchObject({ ref: 1, flags: "", holders: { transient: 1 } });
    expect(r.b.state).toBe("free");
  });

  it("filemap_remove_folio drops the cache references; it refuses a mapped or unlocked folio", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 2, raPages: 2 });
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4096, prot: PROT_READ, flags: MAP_SHARED, file }));
    const mapped = w.step(0, () => touch(mm, a, false));
    const unmappedFolio = file.peek(1)!;
    w.step(0, () => lruAddDrain());
    w.step(0, function* () {
      const f = (yield* filemapGetEntry(file, 1))!;
      yield* folioLock(f);
      yield* filemapRemoveFolio(f);
      yield* folioUnlock(f);
      yield* folioPut(f, TRANSIENT_HOLDER);
    });
    expect(file.peek(1)).toBeUndefined();
    expect(unmappedFolio.state).toBe("free"); // the LRU release hook took it off its list
    const r = w.tryStep(0, function* () {
      const f = (yield* filemapGetEntry(file, 0))!;
      yield* folioLock(f);
      yield* filemapRemoveFolio(f);
    });
    expect(r.failure).toMatchObject({ operation: "filemap_remove_folio", object: mapped.name });
    expect(r.failure!.message).toMatch(/still mapped/);
  });

  it("readahead fills the lru_add batch: the 31st add flushes it and drops the batch references", () => {
    const w = world({}, { Normal: 64 });
    const file = createFile(w.m, { memory: w.mem, name: "big", sizePages: 40 });
    expect(w.step(0, () => forcePageCacheRa(file, 0, FOLIO_BATCH_SIZE - 1))).toBe(FOLIO_BATCH_SIZE - 1);
    const first = file.peek(0)!;
    expect(snap(first)).toMatchObject({ ref: 2, flags: "uptodate", holders: { lru_add: 1, pagecache: 1 } });
    // Already cached pages are skipped; the next new page fills the batch.
    expect(w.step(0, () => forcePageCacheRa(file, 0, FOLIO_BATCH_SIZE))).toBe(1);
    expect(snap(first)).toMatchObject({ ref: 1, flags: "uptodate|lru", holders: { pagecache: 1 } });
    expect(where(w.m, file.peek(FOLIO_BATCH_SIZE - 1)!)).toEqual(["inactive_file"]);
  });

  it("filemap_fault: a miss reads ahead (VM_FAULT_MAJOR) and returns the folio locked with a reference; a hit is minor", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 8, raPages: 4 });
    const miss = w.step(0, function* () {
      const r = yield* filemapFault(file, 2);
      const s = snap(r.folio!);
      yield* folioUnlock(r.folio!);
      yield* folioPut(r.folio!, TRANSIENT_HOLDER);
      return { ret: r.ret, s };
    });
    expect(miss.ret).toBe(VM_FAULT_MAJOR | VM_FAULT_LOCKED);
    expect(miss.s).toMatchObject({ ref: 3, flags: "locked|uptodate", holders: { lru_add: 1, pagecache: 1, transient: 1 } });
    // The mmap read-around: ra_pages (4) pages from max(0, 2 - 4 / 2).
    expect([...file.pages.keys()].sort()).toEqual([0, 1, 2, 3]);
    const hit = w.step(0, function* () {
      const r = yield* filemapFault(file, 3);
      yield* folioUnlock(r.folio!);
      yield* folioPut(r.folio!, TRANSIENT_HOLDER);
      return r.ret;
    });
    expect(hit).toBe(VM_FAULT_LOCKED);
  });

  it("a lookup racing with truncation keeps the accounting under every seed; the folio is freed once both are done", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const w = world({ cpus: 2 }, { Normal: 16 }, new SeededChooser(seed));
      const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 1 });
      w.step(0, () => forcePageCacheRa(file, 0, 1));
      w.step(0, () => lruAddDrain());
      const m: Machine = w.m;
      const remover = m.spawn({
        name: "truncate",
        cpu: 0,
        body: function* () {
          const f = (yield* filemapGetEntry(file, 0))!;
          yield* folioLock(f);
          yield* filemapRemoveFolio(f);
          yield* folioUnlock(f);
          yield* folioPut(f, TRANSIENT_HOLDER);
        },
      });
      const reader = m.spawn({
        name: "reader",
        cpu: 1,
        body: function* () {
          const f = yield* filemapGetEntry(file, 0);
          if (f === null) return "miss";
          // The kernel's callers re-check f->mapping under the folio lock: it may be gone by now.
          yield* folioPut(f, TRANSIENT_HOLDER);
          return "hit";
        },
      });
      m.settle(new SeededChooser(seed));
      expect(m.status).toBe("running");
      expect(remover.state).toBe("done");
      expect(["hit", "miss"]).toContain(reader.result);
      expect(w.mem.allFolios().every((f) => f.state === "free")).toBe(true);
    }
  });
});

describe("rmap of a shared page-cache folio", () => {
  it("try_to_migrate unmaps it from both processes; remove_migration_ptes maps both back", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "f", sizePages: 1 });
    const p = [w.mm("p0"), w.mm("p1")];
    const addrs = p.map((mm) => w.step(0, () => mmap(mm, { length: 4096, prot: PROT_READ, flags: MAP_SHARED, file })));
    const f = w.step(0, () => touch(p[0], addrs[0], false));
    expect(w.step(1, () => touch(p[1], addrs[1], false))).toBe(f);
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 3, exp: 3, mapcount: 2 });
    w.step(1, function* () {
      expect(yield* folioIsolateLru(f)).toBe(true);
      yield* folioLock(f);
      expect(yield* tryToMigrate(f)).toBe(true);
    });
    expect(p.map((mm, i) => getPte(mm, addrs[i]).kind)).toEqual(["migration", "migration"]);
    expect(snap(f)).toMatchObject({ ref: 2, exp: 1, mapcount: 0, holders: { isolated: 1, pagecache: 1 } });
    expect(w.step(1, () => removeMigrationPtes(f, f))).toBe(2);
    w.step(1, function* () {
      yield* folioUnlock(f);
      yield* folioPutbackLru(f);
      yield* lruAddDrain();
    });
    expect(snap(f)).toMatchObject({ ref: 3, exp: 3, mapcount: 2, flags: "uptodate|lru" });
  });
});
