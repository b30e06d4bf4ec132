// S1 (reference §12.1, seed 004): Will Deacon's pKVM pin of an mlocked shmem folio
// in CMA, built through modelled operations only, under each drain rule.
import { describe, expect, it } from "vitest";
import { folioExpectedRefCount, folioIsLongtermPinnable, folioMaybeDmaPinned, folioPut, formatFlags, GUP_PIN_COUNTING_BIAS, type Folio } from "@foliosim/folio";
import { whereIs } from "@foliosim/lru";
import { createFile, getPte, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, memfdCreate, mmap, PAGE_SIZE, PROT_READ, PROT_WRITE, withMmapReadLock } from "@foliosim/mm";
import { TimedChooser, usleep, type RunResult } from "@foliosim/sim";
import { FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, pinUserPages, tryGrabFolio, unpinUserPages, type Pages } from "./index.js";
import { events, holders, largeWorld, pinnableWorld, run, s1World, type World } from "./testing.js";

interface S1 {
  r: RunResult;
  ret: number;
  before: { ref: number; exp: number; flags: string; where: string[] };
  pinned: Folio | null;
  original: Folio;
}

function s1(collect: string, lruBatchClearsLru: boolean): S1 {
  const w = s1World({ collect, "lru-batch-clears-lru": lruBatchClearsLru });
  const { m, mm, addr, memory, folio: original } = w;
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

describe("footprints of the 6.17 ref_count ladder", () => {
  it("folio_ref_count against folio_expected_ref_count reads the count, the mapping word and the flags word (PG_swapcache, PG_private)", () => {
    const w = s1World({ collect: "6.17", "lru-batch-clears-lru": false });
    const pages: Pages = [null];
    w.m.spawn({ name: "crosvm_vcpu0", cpu: 3, *body() { yield* withMmapReadLock(w.mm, pinUserPages(w.mm, w.addr, 1, FOLL_LONGTERM | FOLL_WRITE, pages, w.memory)); } });
    const reads: string[][] = [];
    for (let c = w.m.candidates(); c.length > 0; c = w.m.candidates()) {
      if (c[0].op.label === "folio_ref_count" && c[0].op.reads.length > 1) reads.push(c[0].op.reads.map((o) => o.name));
      w.m.step(0);
    }
    const f = w.folio.name;
    expect(reads[0]).toEqual([`${f} _refcount`, `${f} mapping`, `${f} flags`]);
  });
});

// ---------------------------------------------------------------------------------
// Reference §4.1–§4.5: what pin_user_pages returns, what it leaves pinned, and what
// unpin_user_pages gives back.

interface Pinned {
  r: RunResult;
  ret: number;
  pages: Pages;
}

/** pin_user_pages(addr, n, flags) from `w.pinCpu` under mmap_lock, 5 us after the set-up. */
function pin(w: World, n: number, flags = FOLL_LONGTERM | FOLL_WRITE, addr = w.addr): Pinned {
  let ret = 0;
  const pages: Pages = Array<Folio | null>(n).fill(null);
  w.m.spawn({
    name: "pinner",
    cpu: w.pinCpu,
    *body() {
      yield* usleep(5);
      ret = yield* withMmapReadLock(w.mm, pinUserPages(w.mm, addr, n, flags, pages, w.memory));
    },
  });
  const r = run(w);
  expect(r.status).toBe("done");
  return { r, ret, pages };
}

describe("pin_user_pages: return conventions (reference §4.1)", () => {
  it("success returns the number of pages pinned; each small folio gains GUP_PIN_COUNTING_BIAS", () => {
    const w = pinnableWorld({}, 2);
    const before = w.folios.map(holders);
    const { r, ret, pages } = pin(w, 2);
    expect(ret).toBe(2);
    expect(pages).toEqual(w.folios);
    w.folios.forEach((f, i) => {
      expect(holders(f)).toEqual({ ...before[i], pin: GUP_PIN_COUNTING_BIAS });
      expect(folioMaybeDmaPinned(f)).toBe(true);
    });
    expect(r.counters.nr_foll_pin_acquired).toBe(2);
    // Pinnable already: nothing collected, nothing migrated, no retry.
    expect(r.counters.gup_longterm_retry ?? 0).toBe(0);
    expect(events(r, "mm_migrate_pages_start")).toHaveLength(0);
  });

  it("a range that runs past the mapping pins what it can and returns that count", () => {
    const w = pinnableWorld({}, 2);
    const { ret, pages } = pin(w, 3);
    expect(ret).toBe(2);
    expect(pages).toEqual([...w.folios, null]);
  });

  it("a range whose second page is in a read-only vma: the write pin stops there and returns 1", () => {
    const w = pinnableWorld({}, 1);
    let addr = 0;
    w.m.spawn({
      name: "mapper",
      cpu: 0,
      *body() {
        addr = yield* mmap(w.mm, { addr: w.addr + PAGE_SIZE, length: PAGE_SIZE, prot: PROT_READ, flags: MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED });
      },
    });
    w.m.settle(new TimedChooser(0, 0));
    expect(addr).toBe(w.addr + PAGE_SIZE);
    const { ret, pages } = pin({ ...w, setupEvents: w.m.trace.events.length }, 2);
    expect(ret).toBe(1);
    expect(pages).toEqual([w.folio, null]);
  });

  it("no vma at the address: -EFAULT, nothing pinned", () => {
    const w = pinnableWorld({}, 1);
    const { r, ret, pages } = pin(w, 1, FOLL_LONGTERM | FOLL_WRITE, w.addr + 16 * PAGE_SIZE);
    expect(ret).toBe(-14);
    expect(pages).toEqual([null]);
    expect(r.counters.nr_foll_pin_acquired ?? 0).toBe(0);
  });

  it("a write pin of a read-only mapping without FOLL_FORCE: -EFAULT (check_vma_flags)", () => {
    const w = pinnableWorld({}, 1);
    let addr = 0;
    w.m.spawn({
      name: "mapper",
      cpu: 0,
      *body() {
        addr = yield* mmap(w.mm, { length: PAGE_SIZE, prot: PROT_READ, flags: MAP_ANONYMOUS | MAP_PRIVATE });
      },
    });
    w.m.settle(new TimedChooser(0, 0));
    const { ret, pages } = pin({ ...w, setupEvents: w.m.trace.events.length }, 1, FOLL_LONGTERM | FOLL_WRITE, addr);
    expect(ret).toBe(-14);
    expect(pages).toEqual([null]);
  });

  // check_vma_flags → writable_file_mapping_allowed: a longterm write pin of a mapping that needs
  // dirty tracking (shared, on a filesystem that writes back) is refused; shmem, private
  // (COW) mappings, read pins and pins that are not longterm are not.
  it.each([
    ["a shared file mapping", "FOLL_LONGTERM | FOLL_WRITE", -14, "file", MAP_SHARED, FOLL_LONGTERM | FOLL_WRITE],
    ["a shared file mapping", "FOLL_LONGTERM", 1, "file", MAP_SHARED, FOLL_LONGTERM],
    ["a shared file mapping", "FOLL_WRITE", 1, "file", MAP_SHARED, FOLL_WRITE],
    ["a private file mapping (the pin lands on the COW copy)", "FOLL_LONGTERM | FOLL_WRITE", 1, "file", MAP_PRIVATE, FOLL_LONGTERM | FOLL_WRITE],
    ["a shared shmem mapping", "FOLL_LONGTERM | FOLL_WRITE", 1, "shmem", MAP_SHARED, FOLL_LONGTERM | FOLL_WRITE],
  ] as const)("%s, %s: pin_user_pages returns %i", (_what, _flagsText, expected, kind, share, flags) => {
    const w = pinnableWorld({}, 1);
    let addr = 0;
    w.m.spawn({
      name: "mapper",
      cpu: 0,
      *body() {
        const file = kind === "file" ? createFile(w.m, { memory: w.memory, name: "data.bin", sizePages: 4 }) : memfdCreate(w.m, { memory: w.memory, name: "memfd", sizePages: 4 });
        addr = yield* mmap(w.mm, { length: PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: share, file });
      },
    });
    w.m.settle(new TimedChooser(0, 0));
    const { r, ret, pages } = pin({ ...w, setupEvents: w.m.trace.events.length }, 1, flags, addr);
    expect(ret).toBe(expected);
    expect(r.counters.nr_foll_pin_acquired ?? 0).toBe(expected > 0 ? 1 : 0);
    if (expected < 0) expect(pages).toEqual([null]);
  });

  it.each([
    ["FOLL_PIN", FOLL_PIN],
    ["FOLL_GET", FOLL_GET],
  ])("passing %s is invalid (is_valid_gup_args): returns 0, not -EINVAL, and pins nothing", (_name, flag) => {
    const w = pinnableWorld({}, 1);
    const before = holders(w.folio);
    const { r, ret, pages } = pin(w, 1, FOLL_LONGTERM | FOLL_WRITE | flag);
    expect(ret).toBe(0);
    expect(pages).toEqual([null]);
    expect(holders(w.folio)).toEqual(before);
    expect(r.counters.nr_foll_pin_acquired ?? 0).toBe(0);
  });

  it("any migration failure is -ENOMEM (S1, pre-6.11): every pin dropped, the folio put back where it was plus an lru_add slot", () => {
    const w = s1World({ collect: "pre-6.11" });
    const before = holders(w.folio);
    const { r, ret, pages } = pin(w, 1);
    expect(ret).toBe(-12);
    expect(pages).toEqual([null]);
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released]).toEqual([1, 1]);
    expect(events(r, "mm_migrate_pages").map((e) => e.args)).toEqual([{ failed: 1, rc: 1, mode: "MIGRATE_SYNC", reason: "MR_LONGTERM_PIN" }]);
    expect(r.counters.gup_longterm_retry ?? 0).toBe(0);
    expect(holders(w.folio)).toEqual({ ...before, lru_add: 1 });
    expect(getPte(w.mm, w.addr)).toMatchObject({ kind: "present", folio: w.folio });
  });

  it("-EAGAIN stays inside: S1 under 2026 migrates, drops the pin, pins the new folio, and returns 1", () => {
    const w = s1World({ collect: "2026" });
    const original = w.folio;
    const { r, ret, pages } = pin(w, 1);
    expect(ret).toBe(1);
    expect(r.counters.gup_longterm_retry).toBe(1);
    // Pinned twice (the CMA folio, then its replacement); the first pin was dropped before migration.
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released]).toEqual([2, 1]);
    const dst = pages[0]!;
    expect(dst).not.toBe(original);
    expect(original.state).toBe("free");
    expect([dst.zone, dst.migratetype, folioIsLongtermPinnable(dst)]).toEqual(["Normal", "MOVABLE", true]);
    expect(holders(dst)).toEqual({ map: 1, pagecache: 1, pin: GUP_PIN_COUNTING_BIAS });
    expect(getPte(w.mm, w.addr)).toMatchObject({ kind: "present", folio: dst });
  });
});

describe("unpin_user_pages (reference §4.1)", () => {
  it("gives back exactly what pin_user_pages took: refcount, holders and flags as before, released == acquired", () => {
    const w = pinnableWorld({}, 2);
    const before = w.folios.map((f) => ({ ref: f.refcount, flags: formatFlags(f.flags), holders: holders(f) }));
    const pages: Pages = [null, null];
    const seen: number[] = [];
    w.m.spawn({
      name: "pinner",
      cpu: 1,
      *body() {
        expect(yield* withMmapReadLock(w.mm, pinUserPages(w.mm, w.addr, 2, FOLL_LONGTERM | FOLL_WRITE, pages, w.memory))).toBe(2);
        seen.push(...w.folios.map((f) => f.refcount));
        yield* unpinUserPages(pages);
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(seen).toEqual(before.map((b) => b.ref + GUP_PIN_COUNTING_BIAS));
    expect(w.folios.map((f) => ({ ref: f.refcount, flags: formatFlags(f.flags), holders: holders(f) }))).toEqual(before);
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released]).toEqual([2, 2]);
    expect(w.folios.map(folioMaybeDmaPinned)).toEqual([false, false]);
  });

  it("a large folio counts pins in _pincount (one reference per page); null entries are skipped", () => {
    const w = pinnableWorld({}, 1);
    let during!: { ref: number; pincount: number; grab: number };
    let large!: Folio;
    w.m.spawn({
      name: "pinner",
      cpu: 1,
      *body() {
        large = (yield* w.memory.allocFolio({ movable: false, order: 2 }, "alloc"))!;
        const grab = yield* tryGrabFolio(large, 4, FOLL_PIN);
        during = { ref: large.refcount, pincount: large.pincount, grab };
        yield* unpinUserPages([large, null, large, large, null, large]);
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(during).toEqual({ ref: 5, pincount: 4, grab: 0 });
    expect([large.refcount, large.pincount]).toEqual([1, 0]);
    expect(holders(large)).toEqual({ alloc: 1 });
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released]).toEqual([4, 4]);
  });

  it("the 4 pages of an order-2 folio in ZONE_MOVABLE: migrated whole, re-pinned with _pincount 4, and unpinned back to the mapping references", () => {
    const w = largeWorld();
    const original = w.folio;
    const pages: Pages = [null, null, null, null];
    let pinned!: { pages: Pages; ref: number; pincount: number; holders: Record<string, number> };
    w.m.spawn({
      name: "pinner",
      cpu: 1,
      *body() {
        expect(yield* withMmapReadLock(w.mm, pinUserPages(w.mm, w.addr, 4, FOLL_LONGTERM | FOLL_WRITE, pages, w.memory))).toBe(4);
        const dst = pages[0]!;
        pinned = { pages: [...pages], ref: dst.refcount, pincount: dst.pincount, holders: holders(dst) };
        yield* unpinUserPages(pages);
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    const dst = pinned.pages[0]!;
    expect(pinned.pages).toEqual(Array(4).fill(dst));
    expect([dst.order, dst.zone, folioIsLongtermPinnable(dst), original.state]).toEqual([2, "Normal", true, "free"]);
    expect(pinned).toMatchObject({ ref: 8, pincount: 4, holders: { map: 4, pin: 4 } });
    expect([dst.refcount, dst.pincount, holders(dst)]).toEqual([4, 0, { map: 4 }]);
    // 4 pins on the original, each entry unpinned before migration; 4 on the copy, unpinned by the test.
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released, r.counters.gup_longterm_retry]).toEqual([8, 8, 1]);
  });

  it("try_grab_folio on a folio whose count is 0 is -ENOMEM and takes nothing", () => {
    const w = pinnableWorld({}, 1);
    let grab = 0;
    let freed!: Folio;
    w.m.spawn({
      name: "pinner",
      cpu: 1,
      *body() {
        freed = (yield* w.memory.allocFolio({ movable: false }, "alloc"))!;
        yield* folioPut(freed, "alloc");
        grab = yield* tryGrabFolio(freed, 1, FOLL_PIN);
      },
    });
    const r = run(w);
    expect(grab).toBe(-12);
    expect([freed.state, freed.refcount]).toEqual(["free", 0]);
    expect(r.counters.nr_foll_pin_acquired ?? 0).toBe(0);
  });
});
