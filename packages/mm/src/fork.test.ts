/**
 * fork (`dup_mmap` → `copy_page_range`): private anonymous memory becomes
 * copy-on-write in both processes, a write in one is never visible in the other,
 * shared mappings stay shared, mlock is not inherited, and a maybe-pinned exclusive
 * page is copied for the child at once (`copy_present_page`).
 */

import { describe, expect, it } from "vitest";
import { PG, VM_LOCKED } from "@foliosim/folio";
import { forkMm } from "./fork.js";
import { findVma, getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { folioDupRmapPte } from "./rmap.js";
import { MAP_ANONYMOUS, MAP_LOCKED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { pinFolio, snap, world } from "./testing.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;

describe("fork of private anonymous memory", () => {
  it("write-protects both entries, shares the folio, and a write in either process copies it", () => {
    const w = world();
    const parent = w.mm("parent");
    const a = w.step(0, () => mmap(parent, { length: PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    const f = w.step(0, function* () {
      const g = yield* touch(parent, a, true);
      g.data = "v0";
      return g;
    });
    const child = w.step(0, () => forkMm(parent, "child"));
    expect(getPte(parent, a)).toMatchObject({ kind: "present", folio: f, writable: false });
    expect(getPte(child, a)).toMatchObject({ kind: "present", folio: f, writable: false });
    expect(snap(f)).toMatchObject({ mapcount: 2, holders: { lru_add: 1, map: 2 } });
    expect(f.test(PG.anon_exclusive)).toBe(false);

    // The child writes: do_wp_page finds the folio shared (3 references) and copies it.
    const c = w.step(1, function* () {
      const g = yield* touch(child, a, true);
      g.data = "child";
      return g;
    });
    expect(c).not.toBe(f);
    expect(f.data).toBe("v0");
    expect(getPte(child, a)).toMatchObject({ kind: "present", folio: c, writable: true });
    expect(snap(f)).toMatchObject({ mapcount: 1 });
    // The parent writes next: the folio is its alone now — wp_can_reuse_anon_folio
    // drains the local batch, finds one reference, and reuses it.
    const p = w.step(0, function* () {
      const g = yield* touch(parent, a, true);
      g.data = "parent";
      return g;
    });
    expect(p).toBe(f);
    expect(f.test(PG.anon_exclusive)).toBe(true);
    expect(c.data).toBe("child");
    expect(snap(f)).toMatchObject({ ref: 1, mapcount: 1, holders: { map: 1 } });
  });

  it("a shared mapping stays shared and writable; mlock is not inherited", () => {
    const w = world();
    const parent = w.mm("parent");
    const s = w.step(0, () => mmap(parent, { length: PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_LOCKED }));
    const f = w.step(0, () => touch(parent, s, true));
    const child = w.step(0, () => forkMm(parent, "child"));
    expect(findVma(child, s)!.flags & VM_LOCKED).toBe(0);
    expect(child.lockedVm).toBe(0);
    // No anonymous memory in a shmem vma: nothing copied, the child faults it in.
    expect(getPte(child, s).kind).toBe("none");
    expect(getPte(parent, s)).toMatchObject({ kind: "present", writable: true });
    const g = w.step(1, function* () {
      const x = yield* touch(child, s, true);
      x.data = "shared";
      return x;
    });
    expect(g).toBe(f);
  });

  it("an exclusive page that may be DMA-pinned is copied for the child; the parent keeps it writable", () => {
    const w = world();
    const parent = w.mm("parent");
    const a = w.step(0, () => mmap(parent, { length: PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    const f = w.step(0, () => touch(parent, a, true));
    w.step(0, () => pinFolio(f));
    const child = w.step(0, () => forkMm(parent, "child"));
    expect(getPte(parent, a)).toMatchObject({ kind: "present", folio: f, writable: true });
    const cp = getPte(child, a);
    expect(cp).toMatchObject({ kind: "present", writable: true });
    expect(cp.kind === "present" && cp.folio !== f).toBe(true);
    expect(f.test(PG.anon_exclusive)).toBe(true);
    expect(f.mapcount).toBe(1);
  });
});

describe("fork's rmap duplication footprint", () => {
  it("folio_try_dup_anon_rmap_ptes reads _refcount: folio_maybe_dma_pinned decides whether the page is copied", () => {
    const w = world();
    const parent = w.mm("parent");
    const a = w.step(0, () => mmap(parent, { length: PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    const f = w.step(0, () => touch(parent, a, true));
    const dup = folioDupRmapPte(f, findVma(parent, a)!);
    expect(dup.label).toBe("folio_try_dup_anon_rmap_ptes");
    expect(dup.reads).toEqual([f.ref]);
    expect(dup.writes).toEqual([f.map, f.flagsWord]);
  });
});
