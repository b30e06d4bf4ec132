/**
 * mprotect (`do_mprotect_pkey` → `mprotect_fixup` → `change_protection`), mremap
 * (`do_mremap` → `move_vma` → `move_page_tables`) and mmap at a fixed address
 * (MAP_FIXED replaces, MAP_FIXED_NOREPLACE is -EEXIST).
 */

import { describe, expect, it } from "vitest";
import { VM_LOCKED, VM_READ, VM_WRITE } from "@foliosim/folio";
import { findVma, getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_LOCKED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { mprotect } from "./mprotect.js";
import { MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, mremap } from "./mremap.js";
import { pinFolio, snap, unpinFolio, world } from "./testing.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;
const anon = (pages: number, extra = 0) => ({ length: pages * PAGE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS | extra });

describe("mprotect", () => {
  it("PROT_NONE keeps the page mapped but protnone; touching it is SIGSEGV; PROT_READ brings it back read-only", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(3)));
    const f = w.step(0, () => touch(mm, a + PAGE, true));
    expect(w.step(0, () => mprotect(mm, a + PAGE, PAGE, PROT_NONE))).toBe(0);
    expect(mm.vmas.map((v) => [v.start - a, v.end - a, v.flags & (VM_READ | VM_WRITE)])).toEqual([
      [0, PAGE, VM_READ | VM_WRITE],
      [PAGE, 2 * PAGE, 0],
      [2 * PAGE, 3 * PAGE, VM_READ | VM_WRITE],
    ]);
    expect(getPte(mm, a + PAGE)).toMatchObject({ kind: "present", folio: f, writable: false, protnone: true });
    expect(snap(f)).toMatchObject({ mapcount: 1 });
    const r = w.tryStep(0, () => touch(mm, a + PAGE, false));
    expect(r.status).toBe("invariant");
    expect(r.failure?.message).toMatch(/SIGSEGV/);
  });

  it("restores write access to an exclusive anonymous page (MM_CP_TRY_CHANGE_WRITABLE)", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(1)));
    const f = w.step(0, () => touch(mm, a, true));
    expect(w.step(0, () => mprotect(mm, a, PAGE, PROT_READ))).toBe(0);
    expect(getPte(mm, a)).toMatchObject({ writable: false });
    expect(w.step(0, () => mprotect(mm, a, PAGE, PROT_NONE))).toBe(0);
    expect(w.step(0, () => mprotect(mm, a, PAGE, RW))).toBe(0);
    expect(getPte(mm, a)).toEqual({ kind: "present", folio: f, page: 0, writable: true, dirty: true });
  });

  it("returns -EINVAL, -ENOMEM as do_mprotect_pkey does, changing the vmas before a hole", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(3)));
    expect(w.step(0, () => mprotect(mm, a + 1, PAGE, PROT_READ))).toBe(-22);
    expect(w.step(0, () => mprotect(mm, a, PAGE, 0x40))).toBe(-22);
    expect(w.step(0, () => mprotect(mm, a + 0x1000000, PAGE, PROT_READ))).toBe(-12);
    expect(w.step(0, () => mprotect(mm, a, 4 * PAGE, PROT_READ))).toBe(-12);
    expect(findVma(mm, a)!.flags & (VM_READ | VM_WRITE)).toBe(VM_READ);
    expect(w.step(0, () => mprotect(mm, a, 0, PROT_READ))).toBe(0);
  });
});

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

describe("mmap at a fixed address", () => {
  it("MAP_FIXED_NOREPLACE over a mapping is -EEXIST; MAP_FIXED unmaps what was there", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, anon(2)));
    const f = w.step(0, () => touch(mm, a, true));
    expect(w.step(0, () => mmap(mm, { ...anon(1), addr: a + PAGE, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE }))).toBe(-17);
    expect(w.step(0, () => mmap(mm, { ...anon(1), addr: a + 1, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }))).toBe(-22);
    expect(w.step(0, () => mmap(mm, { ...anon(1), addr: a, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED }))).toBe(a);
    expect(getPte(mm, a)).toEqual({ kind: "none" });
    expect(snap(f)).toMatchObject({ mapcount: 0 });
    expect(mm.vmas.map((v) => [v.start - a, v.end - a])).toEqual([
      [0, PAGE],
      [PAGE, 2 * PAGE],
    ]);
    const free = a + 0x100000;
    expect(w.step(0, () => mmap(mm, { ...anon(1), addr: free, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE }))).toBe(free);
  });
});
