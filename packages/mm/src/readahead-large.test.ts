/**
 * Page-cache large folios (mm/readahead.c `page_cache_ra_order`): a cold mmap fault on
 * a large-folio file reads order-2 folios up to 6.16 and small ones from 6.17 (option
 * `ra-order`), readahead(2) always reads small folios, an already cached index ends the
 * large allocations, and the faulting page of a large folio is mapped alone up to 6.17
 * and the whole folio from 6.18 (`finish-fault`; no fault-around), with exact counts.
 */

import { describe, expect, it } from "vitest";
import { lruAddDrain } from "@foliosim/lru";
import { createFile } from "./filemap.js";
import { getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_SHARED, PROT_READ, mmap } from "./mmap.js";
import { forcePageCacheRa } from "./readahead.js";
import { snap, where, world } from "./testing.js";

const PAGE = 4096;

function faultAt(raOrder: "plus-2" | "honour", page: number, pre?: (file: ReturnType<typeof createFile>, w: ReturnType<typeof world>) => void, finishFault = raOrder === "plus-2" ? "anon-shmem" : "file") {
  // plus-2 is ≤ 6.16, whose finish_fault maps a page-cache folio one page at a time.
  const w = world({ kernel: { "ra-order": raOrder, "finish-fault": finishFault } });
  const mm = w.mm();
  const file = createFile(w.m, { memory: w.mem, name: "lib.so", sizePages: 12, raPages: 8, folioOrder: 4 });
  pre?.(file, w);
  const a = w.step(0, () => mmap(mm, { length: 12 * PAGE, prot: PROT_READ, flags: MAP_SHARED, file }));
  const f = w.step(0, () => touch(mm, a + page * PAGE, false));
  return { w, mm, file, a, f, orders: [...new Set([...Array(12).keys()].map((i) => file.peek(i)))].map((x) => (x ? `${x.index}:${x.order}` : "-")) };
}

describe("page_cache_ra_order", () => {
  it("up to 6.16 (ra-order=plus-2) a cold fault at index 0 reads order-2 folios over the 8-page window; the faulting page alone is mapped: refcount 4 cache + 1 map", () => {
    const { w, mm, a, f, orders } = faultAt("plus-2", 0);
    expect(orders).toEqual(["0:2", "4:2", "-"]);
    expect([f.order, f.index]).toEqual([2, 0]);
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toEqual({ ref: 5, exp: 5, flags: "uptodate|lru|head", mapcount: 1, holders: { map: 1, pagecache: 4 } });
    expect(where(w.m, f)).toEqual(["inactive_file"]);
    expect(getPte(mm, a)).toMatchObject({ kind: "present", folio: f, page: 0 });
    expect(getPte(mm, a + PAGE).kind).toBe("none");
    // A second fault in the same folio is a page-cache hit: one more PTE, one more reference.
    w.step(0, () => touch(mm, a + 3 * PAGE, false));
    expect(getPte(mm, a + 3 * PAGE)).toMatchObject({ kind: "present", folio: f, page: 3 });
    expect(snap(f)).toMatchObject({ ref: 6, exp: 6, mapcount: 2, holders: { map: 2, pagecache: 4 } });
  });

  it("from 6.18 (finish-fault=file, 19773df031bc) the order-2 page-cache folio of the same fault is mapped whole, read-only: refcount 4 cache + 4 map, mapcount 4", () => {
    const { w, mm, a, f } = faultAt("plus-2", 0, undefined, "file");
    expect([f.order, f.index]).toEqual([2, 0]);
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toEqual({ ref: 8, exp: 8, flags: "uptodate|lru|head", mapcount: 4, holders: { map: 4, pagecache: 4 } });
    expect([0, 1, 2, 3].map((i) => getPte(mm, a + i * PAGE))).toEqual([0, 1, 2, 3].map((i) => ({ kind: "present", folio: f, page: i, writable: false, dirty: false })));
    expect(getPte(mm, a + 4 * PAGE).kind).toBe("none"); // the next folio is not faulted
  });

  it("from 6.17 (ra-order=honour, the default) the same fault reads small folios", () => {
    const { f, file, orders } = faultAt("honour", 1);
    expect(f.order).toBe(0);
    expect(orders.length).toBe(9); // 8 small folios and the hole at 8-11
    expect(file.nrpages).toBe(8);
  });

  it("the read-around starts ra_pages/2 before the fault; a misaligned start uses smaller aligned folios (__ffs(index)) and EOF shrinks the last one", () => {
    // Fault at index 1: the window is 0-7.
    const one = faultAt("plus-2", 1);
    expect(one.orders).toEqual(["0:2", "4:2", "-"]);
    expect([one.f.order, one.f.index]).toEqual([2, 0]);
    // Fault at index 9: the window 5-11 (EOF) is read as 5 (order 0), 6-7 (order 1), 8-11 (order 2).
    const nine = faultAt("plus-2", 9);
    expect(nine.orders).toEqual(["-", "5:0", "6:1", "8:2"]);
    expect([nine.f.order, nine.f.index]).toEqual([2, 8]);
  });

  it("an index already cached ends the large allocations; the rest of the window is read with small folios", () => {
    const { orders } = faultAt("plus-2", 0, (file, w) => {
      w.step(0, () => forcePageCacheRa(file, 5, 1)); // readahead(2): always small folios
    });
    expect(orders).toEqual(["0:2", "4:0", "5:0", "6:0", "7:0", "-"]);
  });

  it("an order past PMD size on a file is refused", () => {
    const w = world();
    expect(() => createFile(w.m, { memory: w.mem, name: "x", sizePages: 4, folioOrder: 12 })).toThrow(/folio order 12: expected an integer from 0 to 9/);
  });
});
