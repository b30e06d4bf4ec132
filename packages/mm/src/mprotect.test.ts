/**
 * mprotect (`do_mprotect_pkey` → `mprotect_fixup` → `change_protection`) and mmap at a
 * fixed address (MAP_FIXED replaces, MAP_FIXED_NOREPLACE is -EEXIST).
 */

import { describe, expect, it } from "vitest";
import { VM_READ, VM_WRITE } from "@foliosim/folio";
import { findVma, getPte } from "./mm-types.js";
import { touch } from "./memory.js";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { mprotect } from "./mprotect.js";
import { snap, world } from "./testing.js";

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
