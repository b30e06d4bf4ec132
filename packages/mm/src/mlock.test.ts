/**
 * The mlock system calls: MLOCK_ONFAULT locks only what is faulted, PG_unevictable
 * appears only once the mlock batch is processed (tools/testing/selftests/mm/mlock2-tests.c
 * behaviour), munlock clears, mlock populates, mlockall with MCL_FUTURE/MCL_ONFAULT.
 */

import { describe, expect, it } from "vitest";
import { PG, VM_IO, VM_LOCKED, VM_LOCKONFAULT, folioLock } from "@foliosim/folio";
import { lruAddDrain, mlockDrainLocal } from "@foliosim/lru";
import { findVma, getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT, MLOCK_ONFAULT, mlock, mlock2, mlockall, munlock, munlockall } from "./mlock.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, mmap, munmap } from "./mmap.js";
import { tryToMigrate } from "./rmap.js";
import { grabMapped, snap, where, world } from "./testing.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;

function setup(pages = 4) {
  const w = world();
  const mm = w.mm();
  const a = w.step(0, () => mmap(mm, { length: pages * PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
  return { w, mm, a };
}

describe("mlock2(MLOCK_ONFAULT)", () => {
  it("locks only the pages faulted; PG_unevictable only after the mlock batch runs; munlock clears", () => {
    const { w, mm, a } = setup();
    // A page present before the call is mlocked by the walk (drained after it).
    const p0 = w.step(0, () => touch(mm, a, true));
    expect(w.step(0, () => mlock2(mm, a, 4 * PAGE, MLOCK_ONFAULT))).toBe(0);
    const vma = findVma(mm, a)!;
    expect(vma.flags & (VM_LOCKED | VM_LOCKONFAULT | VM_IO)).toBe(VM_LOCKED | VM_LOCKONFAULT);
    expect(vma.start).toBe(a);
    expect(vma.end).toBe(a + 4 * PAGE);
    expect(snap(p0)).toMatchObject({ ref: 1, flags: "uptodate|lru|swapbacked|unevictable|mlocked|anon_exclusive" });
    expect(p0.mlockCount).toBe(1);
    // Nothing else was populated.
    for (let i = 1; i < 4; i++) expect(getPte(mm, a + i * PAGE).kind).toBe("none");

    // A fault in the ONFAULT vma: mlock_new_folio, still batched: mlocked but not unevictable, not on the LRU.
    const p1 = w.step(0, () => touch(mm, a + PAGE, true));
    expect(snap(p1)).toMatchObject({ ref: 2, flags: "uptodate|swapbacked|mlocked|anon_exclusive" });
    expect(p1.test(PG.unevictable)).toBe(false);
    expect(where(w.m, p1)).toEqual(["cpu0 mlock_fbatch (NEW_FOLIO)"]);
    w.step(0, () => mlockDrainLocal());
    expect(snap(p1)).toMatchObject({ ref: 1, flags: "uptodate|lru|swapbacked|unevictable|mlocked|anon_exclusive" });
    expect(p1.mlockCount).toBe(1);
    expect(getPte(mm, a + 2 * PAGE).kind).toBe("none");

    // munlock clears both and the vma flags.
    expect(w.step(0, () => munlock(mm, a, 4 * PAGE))).toBe(0);
    expect(findVma(mm, a)!.flags & (VM_LOCKED | VM_LOCKONFAULT)).toBe(0);
    for (const p of [p0, p1]) {
      expect(snap(p)).toMatchObject({ ref: 1, flags: "uptodate|lru|swapbacked|anon_exclusive" });
      expect(where(w.m, p)).toEqual(["inactive_anon"]);
    }
  });

  it("a fault on another CPU leaves the folio mlocked but evictable until that CPU drains", () => {
    const { w, mm, a } = setup(2);
    w.step(0, () => mlock2(mm, a, 2 * PAGE, MLOCK_ONFAULT));
    const f = w.step(2, () => touch(mm, a, false));
    w.step(0, () => lruAddDrain());
    expect(f.test(PG.unevictable)).toBe(false);
    expect(where(w.m, f)).toEqual(["cpu2 mlock_fbatch (NEW_FOLIO)"]);
    w.step(2, () => lruAddDrain());
    expect(f.test(PG.unevictable)).toBe(true);
  });
});

describe("mlock, munlock, munmap of locked memory", () => {
  it("mlock populates the range and splits the vma; munmap munlocks through rmap removal", () => {
    const { w, mm, a } = setup(4);
    expect(w.step(0, () => mlock(mm, a + PAGE, 2 * PAGE))).toBe(0);
    expect(mm.vmas.map((v) => [v.start - a, v.end - a, (v.flags & VM_LOCKED) !== 0])).toEqual([
      [0, PAGE, false],
      [PAGE, 3 * PAGE, true],
      [3 * PAGE, 4 * PAGE, false],
    ]);
    expect(mm.lockedVm).toBe(2);
    expect(getPte(mm, a).kind).toBe("none");
    const pte = getPte(mm, a + PAGE);
    if (pte.kind !== "present") throw new Error("not populated");
    const f = pte.folio;
    expect(snap(f)).toMatchObject({ ref: 2, flags: "uptodate|swapbacked|mlocked|anon_exclusive", holders: { map: 1, mlock: 1 } });
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 1, flags: "uptodate|lru|swapbacked|unevictable|mlocked|anon_exclusive" });
    // munmap: folio_remove_rmap_pte → munlock_vma_folio → munlock_folio (+1), then the map reference goes.
    w.step(1, () => munmap(mm, a + PAGE, PAGE));
    expect(snap(f)).toMatchObject({ ref: 1, mapcount: 0, holders: { mlock: 1 } });
    w.step(1, () => lruAddDrain()); // __munlock_folio, then folios_put frees it
    expect(f.state).toBe("free");
    expect(mm.lockedVm).toBe(1);
  });

  it("mlock of a range with a hole fails with -ENOMEM and changes nothing", () => {
    const { w, mm, a } = setup(2);
    expect(w.step(0, () => mlock(mm, a, 4 * PAGE))).toBe(-12);
    expect(mm.vmas.every((v) => (v.flags & VM_LOCKED) === 0)).toBe(true);
  });

  it("mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT) locks existing vmas on fault and later mmaps; munlockall undoes it", () => {
    const { w, mm, a } = setup(2);
    expect(w.step(0, () => mlockall(mm, MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))).toBe(0);
    expect(getPte(mm, a).kind).toBe("none");
    const b = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS }));
    expect(findVma(mm, b)!.flags & (VM_LOCKED | VM_LOCKONFAULT)).toBe(VM_LOCKED | VM_LOCKONFAULT);
    expect(getPte(mm, b).kind).toBe("none"); // ONFAULT: not populated
    const f = w.step(0, () => touch(mm, b, true));
    expect(f.test(PG.mlocked)).toBe(true);
    w.step(0, () => lruAddDrain());
    expect(w.step(0, () => munlockall(mm))).toBe(0);
    expect(mm.defFlags).toBe(0);
    expect(snap(f)).toMatchObject({ ref: 1, flags: "uptodate|lru|swapbacked|anon_exclusive" });
  });

  it("mlockall(MCL_CURRENT) populates; MCL_ONFAULT alone is -EINVAL", () => {
    const { w, mm, a } = setup(3);
    expect(w.step(0, () => mlockall(mm, MCL_ONFAULT))).toBe(-22);
    expect(w.step(0, () => mlockall(mm, MCL_CURRENT))).toBe(0);
    for (let i = 0; i < 3; i++) expect(getPte(mm, a + i * PAGE).kind).toBe("present");
    expect(mm.lockedVm).toBe(3);
  });
});

describe("try_to_migrate in a VM_LOCKED vma", () => {
  it("drains the local mlock batch after the rmap removal munlocks (mlock_drain_local, mm/rmap.c)", () => {
    const { w, mm, a } = setup(1);
    expect(w.step(0, () => mlock(mm, a, PAGE))).toBe(0);
    const f = w.step(0, () => touch(mm, a, false));
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ flags: "uptodate|lru|swapbacked|unevictable|mlocked|anon_exclusive", holders: { map: 1 } });
    // CPU1 migrates it: folio_remove_rmap_pte → munlock_vma_folio → munlock_folio puts it
    // in CPU1's mlock batch, and try_to_migrate_one drains that batch before returning.
    // (The migration's caller holds a reference: here a follow_page_pte + FOLL_GET one.)
    w.step(1, function* () {
      yield* grabMapped(mm, a);
      yield* folioLock(f);
      expect(yield* tryToMigrate(f)).toBe(true);
    });
    expect(where(w.m, f)).toEqual(["inactive_anon"]);
    expect(snap(f)).toMatchObject({ ref: 1, mapcount: 0, flags: "locked|uptodate|dirty|lru|swapbacked|anon_exclusive", holders: { transient: 1 } });
  });
});
