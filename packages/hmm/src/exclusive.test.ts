/**
 * Device-exclusive access: lib/test_hmm.c HMM_DMIRROR_EXCLUSIVE / CHECK_EXCLUSIVE over
 * mm/rmap.c `make_device_exclusive` (6.15+) and `make_device_exclusive_range` (≤ 6.14),
 * and mm/memory.c `remove_device_exclusive_entry` on the CPU fault that revokes it —
 * hmm-tests.c's exclusive, exclusive_mprotect and exclusive_cow, with the counts.
 */

import { describe, expect, it } from "vitest";
import { PG, folioTrylock, folioUnlock, transferHolder, type Folio } from "@foliosim/folio";
import { DEVICE_EXCLUSIVE_HOLDER, MAP_HOLDER, PAGE_SIZE, PROT_READ, forkMm, getPte, mprotect, munmap, type MmStruct } from "@foliosim/mm";
import { EBUSY, EPERM } from "./hmm.js";
import { dmirrorCheckExclusive, dmirrorExclusive, dmirrorOpen, dmirrorWrite, type Dmirror } from "./test-hmm.js";
import { anonMap, device, newMm, step, userRead, userWrite, world, type World } from "./testing.js";
import type { HmmVariant } from "./variants/select.js";

const NEW: HmmVariant = "hmm-sleeping-wait"; // 7.0: make_device_exclusive
const OLD: HmmVariant = "hmm-pre-6.15"; // ≤ 6.14: make_device_exclusive_range

/** A process with a 2-page anonymous buffer holding 10 and 11, and a mirror of it. */
function exclusiveWorld(variant: HmmVariant): { w: World; mm: MmStruct; dm: Dmirror; a: number; folios: Folio[] } {
  const w = world({ variant });
  const mm = newMm(w, "proc");
  const dm = dmirrorOpen(device(w, "dmirror0"), mm);
  const a = step(w, 0, function* () {
    const a = yield* anonMap(mm, 2);
    yield* userWrite(mm, a, 10);
    yield* userWrite(mm, a + PAGE_SIZE, 11);
    return a;
  });
  const folios = [0, 1].map((i) => {
    const p = getPte(mm, a + i * PAGE_SIZE);
    if (p.kind !== "present") throw new Error("set-up: page not present");
    return p.folio;
  });
  return { w, mm, dm, a, folios };
}

const counts = (f: Folio) => ({ ref: f.refcount, map: f.mapcount, mapHolder: f.holderCount(MAP_HOLDER), exclusiveHolder: f.holderCount(DEVICE_EXCLUSIVE_HOLDER), locked: f.lock.locked, dirty: f.test(PG.dirty) });

describe("HMM_DMIRROR_EXCLUSIVE (hmm-tests exclusive)", () => {
  it("6.15+: the PTE becomes a device-exclusive entry that keeps the mapcount; a CPU access restores it and revokes the atomic mapping", () => {
    const { w, mm, dm, a, folios } = exclusiveWorld(NEW);
    const before = folios.map((f) => f.refcount);
    expect(step(w, 0, () => dmirrorExclusive(dm, a, 2))).toEqual({ ret: 0, cpages: 2, values: [10, 11] });
    expect(getPte(mm, a)).toEqual({ kind: "device-exclusive", folio: folios[0], page: 0, writable: true, mapped: true });
    // GUP's reference was put; the entry holds the PTE's reference and still counts as a mapping.
    expect(folios.map(counts)).toEqual(folios.map((_, i) => ({ ref: before[i], map: 1, mapHolder: 1, exclusiveHolder: 0, locked: false, dirty: true })));
    expect(dm.pt.get(a)).toEqual({ folio: folios[0], write: false, atomic: true });
    expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(EPERM);
    expect(w.check()).toBeNull();

    // ptr[0]++: the read faults (remove_device_exclusive_entry: MMU_NOTIFY_EXCLUSIVE drops the mirror's entry).
    expect(step(w, 0, () => userRead(mm, a))).toBe(10);
    expect(getPte(mm, a)).toEqual({ kind: "present", folio: folios[0], page: 0, writable: true, dirty: true });
    expect(counts(folios[0])).toEqual({ ref: before[0], map: 1, mapHolder: 1, exclusiveHolder: 0, locked: false, dirty: true });
    expect(dm.pt.has(a)).toBe(false);
    expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 1))).toBe(0);
    expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(EPERM);
    step(w, 0, () => userWrite(mm, a + PAGE_SIZE, 12));
    expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(0);
    expect(step(w, 0, () => userRead(mm, a + PAGE_SIZE))).toBe(12);
    expect(w.check()).toBeNull();
  });

  it("≤ 6.14: the entry no longer counts as a mapping (its reference is the entry's own); the fault adds the rmap back", () => {
    const { w, mm, dm, a, folios } = exclusiveWorld(OLD);
    const before = folios.map((f) => f.refcount);
    expect(step(w, 0, () => dmirrorExclusive(dm, a, 2))).toEqual({ ret: 0, cpages: 2, values: [10, 11] });
    expect(getPte(mm, a)).toEqual({ kind: "device-exclusive", folio: folios[0], page: 0, writable: true, mapped: false });
    expect(folios.map(counts)).toEqual(folios.map((_, i) => ({ ref: before[i], map: 0, mapHolder: 0, exclusiveHolder: 1, locked: false, dirty: true })));
    expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(EPERM);
    expect(w.check()).toBeNull();
    // The invariant ties the "device-exclusive" holder to the entries.
    transferHolder(folios[0], DEVICE_EXCLUSIVE_HOLDER, "transient", 1);
    expect(w.check()).toMatch(/"device-exclusive" holds 0 but 1 unmapped device-exclusive entr/);
    transferHolder(folios[0], "transient", DEVICE_EXCLUSIVE_HOLDER, 1);
    expect(step(w, 0, () => userRead(mm, a))).toBe(10);
    expect(getPte(mm, a)).toEqual({ kind: "present", folio: folios[0], page: 0, writable: true, dirty: true });
    expect(counts(folios[0])).toEqual({ ref: before[0], map: 1, mapHolder: 1, exclusiveHolder: 0, locked: false, dirty: true });
    // munmap of the page still exclusive: zap puts the entry's reference, no rmap to remove.
    expect(step(w, 0, () => munmap(mm, a + PAGE_SIZE, PAGE_SIZE))).toBe(0);
    expect(counts(folios[1])).toMatchObject({ map: 0, exclusiveHolder: 0 });
    expect(folios[1].refcount).toBe(before[1] - 1);
    expect(w.check()).toBeNull();
  });

  it("≤ 6.14: a page someone holds locked is not made exclusive (trylock_page): -EBUSY; 6.15+ waits for the lock (folio_lock_killable)", () => {
    for (const [variant, ret] of [
      [OLD, EBUSY],
      [NEW, 0],
    ] as const) {
      const { w, dm, a, folios } = exclusiveWorld(variant);
      expect(step(w, 1, function* () {
        return yield* folioTrylock(folios[1]);
      })).toBe(true);
      if (variant === OLD) {
        expect(step(w, 0, () => dmirrorExclusive(dm, a, 2))).toEqual({ ret, cpages: 0, values: [] });
        // GUP found both pages (ret == npages), so dmirror_atomic_map still maps the one
        // made exclusive before the ioctl says -EBUSY: page 0 stays exclusive and atomic.
        expect(counts(folios[0])).toMatchObject({ locked: false, map: 0, exclusiveHolder: 1 });
        expect(counts(folios[1])).toMatchObject({ locked: true, map: 1, exclusiveHolder: 0 });
        expect([...dm.pt.keys()]).toEqual([a]);
        expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(EPERM);
        continue;
      }
      w.m.spawn({ name: "unlocker", cpu: 1, *body() { yield* folioUnlock(folios[1]); } });
      expect(step(w, 0, () => dmirrorExclusive(dm, a, 2))).toMatchObject({ ret, cpages: 2 });
      expect(w.check()).toBeNull();
    }
  });
});

describe("exclusive_mprotect and exclusive_cow", () => {
  for (const variant of [OLD, NEW]) {
    it(`${variant}: after mprotect(PROT_READ) a device write is -EPERM (hmm_vma_fault: no VM_WRITE)`, () => {
      const { w, mm, dm, a } = exclusiveWorld(variant);
      expect(step(w, 0, () => dmirrorExclusive(dm, a, 2)).ret).toBe(0);
      expect(step(w, 0, () => mprotect(mm, a, 2 * PAGE_SIZE, PROT_READ))).toBe(0);
      expect(getPte(mm, a)).toMatchObject({ kind: "device-exclusive", writable: variant === NEW });
      expect(step(w, 0, () => dmirrorWrite(dm, a, 5, 2))).toMatchObject({ ret: EPERM, cpages: 0 });
      expect(step(w, 0, () => userRead(mm, a))).toBe(10);
      expect(getPte(mm, a)).toMatchObject({ kind: "present", writable: false });
      expect(w.check()).toBeNull();
    });

    it(`${variant}: fork restores the exclusive entries and shares the pages copy-on-write; each side's writes stay its own`, () => {
      const { w, mm, dm, a, folios } = exclusiveWorld(variant);
      expect(step(w, 0, () => dmirrorExclusive(dm, a, 2)).ret).toBe(0);
      const child = step(w, 0, () => forkMm(mm, "child"));
      for (const m of [mm, child]) expect(getPte(m, a)).toMatchObject({ kind: "present", folio: folios[0], writable: false });
      expect(counts(folios[0])).toMatchObject({ map: 2, mapHolder: 2, exclusiveHolder: 0, locked: false });
      expect(step(w, 0, () => dmirrorCheckExclusive(dm, a, 2))).toBe(0);
      step(w, 0, function* () {
        for (let i = 0; i < 2; i++) yield* userWrite(mm, a + i * PAGE_SIZE, 20 + i);
      });
      expect(step(w, 0, () => userRead(mm, a + PAGE_SIZE))).toBe(21);
      expect(step(w, 0, () => userRead(child, a + PAGE_SIZE))).toBe(11);
      expect(w.check()).toBeNull();
    });
  }
});
