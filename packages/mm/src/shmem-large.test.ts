/**
 * shmem/memfd large folios (mm/shmem.c `shmem_suitable_orders`, `shmem_alloc_folio`;
 * mm/memory.c `finish_fault` mapping a whole shmem folio): the fault's order and its
 * fallbacks, exact reference, `_pincount` and mapcount accounting for nr > 1, and the
 * rule that keeps a large folio out of every per-CPU batch (`folio_add_lru`,
 * `mlock_folio`).
 */

import { describe, expect, it } from "vitest";
import { folioMaybeDmaPinned, folioNrPages } from "@foliosim/folio";
import { lruAddDrain } from "@foliosim/lru";
import { getPte, type MmStruct } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap, munmap } from "./mmap.js";
import { madviseDontneed } from "./madvise.js";
import { memfdCreate } from "./shmem.js";
import { pinFolio, snap, unpinFolio, where, world, type World } from "./testing.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;

function setup(order: number, pages = 8, mapPages = pages, flags = MAP_SHARED, kernel: Record<string, string> = {}): { w: World; mm: MmStruct; a: number; memfd: ReturnType<typeof memfdCreate> } {
  const w = world({ kernel });
  const mm = w.mm();
  const memfd = memfdCreate(w.m, { memory: w.mem, name: "guest", sizePages: pages, folioOrder: order });
  const a = w.step(0, () => mmap(mm, { length: mapPages * PAGE, prot: RW, flags, file: memfd }));
  return { w, mm, a, memfd };
}

describe("shmem/memfd large folios", () => {
  it("an order-2 memfd: a write fault to page 1 allocates one order-2 folio at index 0 and maps all four pages (refcount 4 cache + 4 map, mapcount 4), straight onto the LRU", () => {
    const { w, mm, a, memfd } = setup(2);
    const f = w.step(0, () => touch(mm, a + PAGE, true));
    expect([f.order, folioNrPages(f), f.index]).toEqual([2, 4, 0]);
    expect(snap(f)).toEqual({ ref: 8, exp: 8, flags: expect.stringContaining("lru"), mapcount: 4, holders: { map: 4, pagecache: 4 } });
    expect(where(w.m, f)).toEqual(["inactive_anon"]); // swapbacked; folio_add_lru flushed its batch at once
    expect([0, 1, 2, 3].map((i) => memfd.peek(i) === f)).toEqual([true, true, true, true]);
    expect([memfd.nrpages, memfd.peek(4)]).toEqual([4, undefined]);
    expect([0, 1, 2, 3].map((i) => getPte(mm, a + i * PAGE))).toEqual([0, 1, 2, 3].map((i) => ({ kind: "present", folio: f, page: i, writable: true, dirty: true })));
    // The next aligned range gets its own folio.
    const g = w.step(0, () => touch(mm, a + 6 * PAGE, false));
    expect([g.order, g.index, memfd.nrpages]).toEqual([2, 4, 8]);
    expect(snap(g)).toMatchObject({ ref: 8, exp: 8, mapcount: 4 });
  });

  it("FOLL_PIN of one page of it adds 1 to _refcount and 1 to _pincount (no GUP_PIN_COUNTING_BIAS); unpinning restores both", () => {
    const { w, mm, a } = setup(2);
    const f = w.step(0, () => touch(mm, a, true));
    w.step(1, () => pinFolio(f));
    expect([f.refcount, f.pincount, folioMaybeDmaPinned(f)]).toEqual([9, 1, true]);
    expect(snap(f).holders).toEqual({ map: 4, pagecache: 4, pin: 1 });
    w.step(1, () => pinFolio(f, 3));
    expect([f.refcount, f.pincount]).toEqual([12, 4]);
    w.step(1, () => unpinFolio(f, 4));
    expect([f.refcount, f.pincount, folioMaybeDmaPinned(f)]).toEqual([8, 0, false]);
  });

  it("in a VM_LOCKED vma the folio is mlocked and its mlock batch flushed at once: no per-CPU batch keeps a reference", () => {
    const { w, mm, a } = setup(2, 8, 8, MAP_SHARED | MAP_LOCKED);
    // MAP_LOCKED populated the mapping: both order-2 folios are mapped already.
    const p = getPte(mm, a);
    if (p.kind !== "present") throw new Error("MAP_LOCKED did not populate");
    const f = p.folio;
    expect(f.order).toBe(2);
    expect(snap(f)).toMatchObject({ ref: 8, exp: 8, mapcount: 4, holders: { map: 4, pagecache: 4 } });
    expect(snap(f).flags.split("|")).toEqual(expect.arrayContaining(["lru", "mlocked", "unevictable"]));
    expect(where(w.m, f)).toEqual(["unevictable"]);
  });

  it("falls back to order 0 when the vma does not cover the aligned range, and when an index of it is already cached", () => {
    // A 2-page mapping of an 8-page order-2 memfd: the 4-page range would stick out of the vma.
    const short = setup(2, 8, 2);
    const f = short.w.step(0, () => touch(short.mm, short.a, true));
    expect([f.order, short.memfd.nrpages]).toEqual([0, 1]);
    {
      // A small folio already at index 1 (faulted through the short mapping) keeps index 0 small too.
      const g = short.w.step(0, () => touch(short.mm, short.a + PAGE, true));
      expect(g.order).toBe(0);
      const mm2 = short.w.mm("other");
      const b = short.w.step(0, () => mmap(mm2, { length: 8 * PAGE, prot: RW, flags: MAP_SHARED, file: short.memfd }));
      expect(short.w.step(0, () => touch(mm2, b + 2 * PAGE, true)).order).toBe(0); // 0 and 1 are cached: the range 0-3 conflicts
      const h = short.w.step(0, () => touch(mm2, b + 5 * PAGE, true));
      expect([h.order, h.index]).toEqual([2, 4]);
    }
  });

  it("shared anonymous memory with order 2 is an order-2 shmem object; munmap drops all four mappings at once", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 4 * PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS, folioOrder: 2 }));
    const f = w.step(0, () => touch(mm, a + 3 * PAGE, true));
    expect([f.order, f.index]).toEqual([2, 0]);
    expect(snap(f)).toMatchObject({ ref: 8, exp: 8, mapcount: 4 });
    w.step(0, () => lruAddDrain());
    w.step(0, () => munmap(mm, a, 4 * PAGE));
    expect(snap(f)).toMatchObject({ ref: 4, exp: 4, mapcount: 0, holders: { pagecache: 4 } });
  });

  it("a private mapping: a read fault maps the order-2 folio whole, read-only; a write to page 1 copies that page alone (wp_page_copy) and the large folio loses one mapping", () => {
    const { w, mm, a } = setup(2, 8, 8, MAP_PRIVATE);
    const f = w.step(0, () => touch(mm, a, false));
    expect([f.order, f.mapcount]).toEqual([2, 4]);
    expect(getPte(mm, a + PAGE)).toMatchObject({ kind: "present", folio: f, page: 1, writable: false });
    const c = w.step(0, () => touch(mm, a + PAGE, true));
    expect([c.order, c.mapping?.kind]).toEqual([0, "anon"]);
    expect(getPte(mm, a + PAGE)).toMatchObject({ kind: "present", folio: c, writable: true });
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 7, exp: 7, mapcount: 3, holders: { map: 3, pagecache: 4 } });
  });

  it("an order beyond PMD size is refused with the valid range", () => {
    const w = world();
    expect(() => memfdCreate(w.m, { memory: w.mem, name: "x", sizePages: 1024, folioOrder: 10 })).toThrow(/folio order 10: expected an integer from 0 to 9/);
  });
});

// Release rules (options `finish-fault` and `rmap-mlock-large`): the option values of
// linux-6.10 (per-page, small-only), 6.11–6.16 (anon-shmem, small-only), 6.17 (shmem,
// small-only) and 6.18 on (file, fully-mapped).
const K610 = { "finish-fault": "per-page", "rmap-mlock-large": "small-only" };
const K616 = { "finish-fault": "anon-shmem", "rmap-mlock-large": "small-only" };
const K617 = { "finish-fault": "shmem", "rmap-mlock-large": "small-only" };
const K618 = { "finish-fault": "file", "rmap-mlock-large": "fully-mapped" };

describe("large folios by release: finish_fault and the rmap's mlock", () => {
  it("a write fault to page 1 of an order-2 memfd maps page 1 alone up to 6.16 (4 cache + 1 map, mapcount 1) and all four pages from 6.17 (4 cache + 4 map)", () => {
    for (const [kernel, mapped] of [[K610, [1]], [K616, [1]], [K617, [0, 1, 2, 3]], [K618, [0, 1, 2, 3]]] as const) {
      const { w, mm, a } = setup(2, 8, 8, MAP_SHARED, kernel);
      const f = w.step(0, () => touch(mm, a + PAGE, true));
      expect(f.order).toBe(2);
      expect(snap(f), kernel["finish-fault"]).toMatchObject({ ref: 4 + mapped.length, exp: 4 + mapped.length, mapcount: mapped.length, holders: { map: mapped.length, pagecache: 4 } });
      expect([0, 1, 2, 3].filter((i) => getPte(mm, a + i * PAGE).kind === "present"), kernel["finish-fault"]).toEqual(mapped);
    }
  });

  it("a second fault in the same large folio (page-at-a-time finish_fault) finds it in the cache (folio_contains, not folio->index == index): one more mapping and reference", () => {
    const { w, mm, a } = setup(2, 8, 8, MAP_SHARED, K616);
    const f = w.step(0, () => touch(mm, a, false));
    const g = w.step(0, () => touch(mm, a + 2 * PAGE, false));
    expect(g).toBe(f);
    expect(snap(f)).toMatchObject({ ref: 6, exp: 6, mapcount: 2, holders: { map: 2, pagecache: 4 } });
    expect(getPte(mm, a + 2 * PAGE)).toMatchObject({ kind: "present", folio: f, page: 2, writable: false });
  });

  it("a fault whose range is partly mapped falls back to the faulting page (needs_fallback; it used to retry for ever): MADV_DONTNEED of page 2, then a touch maps page 2 alone", () => {
    const { w, mm, a } = setup(2);
    const f = w.step(0, () => touch(mm, a, true));
    w.step(0, () => madviseDontneed(mm, a + 2 * PAGE, PAGE));
    expect(snap(f)).toMatchObject({ mapcount: 3, holders: { map: 3, pagecache: 4 } });
    expect(w.step(0, () => touch(mm, a + 2 * PAGE, false))).toBe(f);
    expect(snap(f)).toMatchObject({ ref: 8, exp: 8, mapcount: 4, holders: { map: 4, pagecache: 4 } });
    expect(getPte(mm, a + 2 * PAGE)).toMatchObject({ kind: "present", folio: f, page: 2 });
  });

  it("shared anonymous memory (vma_is_anon_shmem) is mapped whole from 6.11, one page on 6.10", () => {
    for (const [kernel, mapcount] of [[K610, 1], [K616, 4]] as const) {
      const w = world({ kernel });
      const mm = w.mm();
      const a = w.step(0, () => mmap(mm, { length: 4 * PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS, folioOrder: 2 }));
      const f = w.step(0, () => touch(mm, a + 3 * PAGE, true));
      expect([f.order, f.mapcount, f.refcount], kernel["finish-fault"]).toEqual([2, mapcount, 4 + mapcount]);
    }
  });

  it("MAP_LOCKED of an order-2 memfd: up to 6.17 the populated folio is not mlocked (no PG_mlocked, evictable LRU); from 6.18 it is mlocked and unevictable", () => {
    for (const kernel of [K610, K616, K617]) {
      const { w, mm, a } = setup(2, 8, 8, MAP_SHARED | MAP_LOCKED, kernel);
      const p = getPte(mm, a);
      if (p.kind !== "present") throw new Error("MAP_LOCKED did not populate");
      expect(snap(p.folio), kernel["finish-fault"]).toEqual({ ref: 8, exp: 8, flags: "uptodate|lru|head|swapbacked", mapcount: 4, holders: { map: 4, pagecache: 4 } });
      expect(where(w.m, p.folio)).toEqual(["inactive_anon"]);
    }
    const { w, mm, a } = setup(2, 8, 8, MAP_SHARED | MAP_LOCKED, K618);
    const p = getPte(mm, a);
    if (p.kind !== "present") throw new Error("MAP_LOCKED did not populate");
    expect(snap(p.folio)).toEqual({ ref: 8, exp: 8, flags: "uptodate|lru|head|swapbacked|unevictable|mlocked", mapcount: 4, holders: { map: 4, pagecache: 4 } });
    expect(where(w.m, p.folio)).toEqual(["unevictable"]);
  });

  it("fully-mapped mlocks only a call that maps the whole folio: page-at-a-time mapping (per-page finish_fault) leaves it unmlocked", () => {
    const { w, mm, a } = setup(2, 8, 8, MAP_SHARED | MAP_LOCKED, { "finish-fault": "per-page", "rmap-mlock-large": "fully-mapped" });
    const p = getPte(mm, a);
    if (p.kind !== "present") throw new Error("MAP_LOCKED did not populate");
    expect(snap(p.folio)).toMatchObject({ ref: 8, mapcount: 4, flags: "uptodate|lru|head|swapbacked" });
    expect(where(w.m, p.folio)).toEqual(["inactive_anon"]);
  });
});
