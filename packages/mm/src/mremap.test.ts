/**
 * mremap (`do_mremap` → `move_vma` → `move_page_tables`): grow in place, shrink, move
 * (the folio, its pin and mapcount follow), MREMAP_FIXED and MREMAP_DONTUNMAP.
 */

import { describe, expect, it } from "vitest";
import { VM_LOCKED } from "@foliosim/folio";
import { findVma, getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_LOCKED, MAP_PRIVATE, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, mremap } from "./mremap.js";
import { pinFolio, snap, unpinFolio, world } from "./testing.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;
const anon = (pages: number, extra = 0) => ({ length: pages * PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | extra });

describe("mremap", () => {
  it("moves the pages with MREMAP_MAYMOVE when the vma cannot grow: same folio, same mapcount, the pin stays", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(2)));
    w.step(0, () => mmap(mm, { ...anon(1), addr: a + 2 * PAGE }));
    const f = w.step(0, function* () {
      const g = yield* touch(mm, a + PAGE, true);
      g.data = "x";
      return g;
    });
    w.step(0, () => pinFolio(f));
    const before = snap(f);
    expect(w.step(0, () => mremap(mm, a, 2 * PAGE, 4 * PAGE, 0))).toBe(-12);
    const b = w.step(0, () => mremap(mm, a, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE));
    expect(b).not.toBe(a);
    expect(getPte(mm, a + PAGE)).toEqual({ kind: "none" });
    expect(getPte(mm, b + PAGE)).toMatchObject({ kind: "present", folio: f });
    expect(findVma(mm, a)).toBeUndefined();
    expect(findVma(mm, b)!.end).toBe(b + 4 * PAGE);
    expect(snap(f)).toEqual(before);
    expect(w.step(0, () => touch(mm, b + PAGE, false)).data).toBe("x");
    w.step(0, () => unpinFolio(f));
  });

  it("grows in place when free, shrinks by unmapping the tail, and -EFAULT past the vma", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(2)));
    const f = w.step(0, () => touch(mm, a + PAGE, true));
    expect(w.step(0, () => mremap(mm, a, 2 * PAGE, 3 * PAGE, 0))).toBe(a);
    expect(findVma(mm, a)!.end).toBe(a + 3 * PAGE);
    expect(w.step(0, () => mremap(mm, a, 3 * PAGE, PAGE, 0))).toBe(a);
    expect(getPte(mm, a + PAGE)).toEqual({ kind: "none" });
    expect(f.state).toBe("allocated"); // the lru_add batch still holds it
    expect(snap(f)).toMatchObject({ mapcount: 0 });
    expect(w.step(0, () => mremap(mm, a, 2 * PAGE, 2 * PAGE, 0))).toBe(-14);
    expect(w.step(0, () => mremap(mm, a, PAGE, PAGE, MREMAP_FIXED))).toBe(-22);
  });

  it("MREMAP_FIXED replaces the target; MREMAP_DONTUNMAP leaves the old vma empty and unlocked", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(1, MAP_LOCKED)));
    const t = w.step(0, () => mmap(mm, anon(1)));
    const old = w.step(0, () => touch(mm, t, true));
    const f = getPte(mm, a);
    expect(w.step(0, () => mremap(mm, a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, t))).toBe(t);
    expect(getPte(mm, t)).toEqual(f);
    expect(snap(old)).toMatchObject({ mapcount: 0 });
    expect(findVma(mm, t)!.flags & VM_LOCKED).toBe(VM_LOCKED);
    expect(mm.lockedVm).toBe(1);
    const c = w.step(0, () => mremap(mm, t, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
    expect(findVma(mm, t)!.flags & VM_LOCKED).toBe(0);
    expect(getPte(mm, t)).toEqual({ kind: "none" });
    expect(getPte(mm, c)).toEqual(f);
    expect(mm.lockedVm).toBe(1);
  });
});
