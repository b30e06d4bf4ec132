import { describe, expect, it } from "vitest";
import { PG, folioLock, folioUnlock, type Folio } from "@foliosim/folio";
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  forkMm,
  getPte,
  mmap,
  mmapReadLock,
  mmapReadUnlock,
  munmap,
  removeMigrationPtes,
  touch,
  tryToMigrate,
} from "@foliosim/mm";
import { EFAULT, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE, hmmPfnFlags, hmmPfnToPfn, hmmRangeFault, type HmmRange } from "./hmm.js";
import { MIGRATE_VMA_SELECT_SYSTEM } from "./migrate-device.js";
import { ENOENT, dmirrorMigrateToDevice, dmirrorOpen, dmirrorRead, dmirrorWrite } from "./test-hmm.js";
import { anonMap, device, newMm, step, userRead, userWrite, world } from "./testing.js";

function devicePrivateFolio(mm: Parameters<typeof getPte>[0], addr: number): Folio {
  const p = getPte(mm, addr);
  if (p.kind !== "device-private") throw new Error(`expected a device-private entry at ${addr.toString(16)}, found ${p.kind}`);
  return p.folio;
}

describe("hmm_vma_handle_pte: the caller's own device-private entries", () => {
  it("a write request on a read-only entry of the caller's device reports the PFN without faulting", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const addr = step(w, 0, function* () {
      const a = yield* mmap(mm, { length: PAGE_SIZE, prot: PROT_READ, flags: MAP_PRIVATE | MAP_ANONYMOUS });
      yield* touch(mm, a, false);
      expect((yield* dmirrorMigrateToDevice(dm, a, 1)).migrated).toBe(1);
      return a;
    });
    const d = devicePrivateFolio(mm, addr);
    expect(getPte(mm, addr)).toMatchObject({ kind: "device-private", writable: false });
    const range: HmmRange = {
      notifier: dm.notifier,
      notifierSeq: 0,
      start: addr,
      end: addr + PAGE_SIZE,
      hmmPfns: [0],
      defaultFlags: HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
      pfnFlagsMask: 0,
      devPrivateOwner: dm.dev,
    };
    const ret = step(w, 0, function* () {
      yield* mmapReadLock(mm);
      const r = yield* hmmRangeFault(range);
      yield* mmapReadUnlock(mm);
      return r;
    });
    // Before: a write fault was forced, which a read-only vma refuses (-EPERM).
    expect(ret).toBe(0);
    expect(hmmPfnToPfn(range.hmmPfns[0])).toBe(d.pfn);
    expect(hmmPfnFlags(range.hmmPfns[0])).toBe(HMM_PFN_VALID);
    expect(getPte(mm, addr).kind).toBe("device-private");
    expect(w.m.counters.hmm_range_fault_rewalk ?? 0).toBe(0);
    // dmirror_do_fault: WARN_ON(default_flags & HMM_PFN_WRITE) → -EFAULT; the page stays on the device.
    const wr = step(w, 1, () => dmirrorWrite(dm, addr, "x"));
    expect(wr).toMatchObject({ ret: EFAULT, faults: 0 });
    expect(getPte(mm, addr).kind).toBe("device-private");
    expect(d.data).toBe(0);
    expect(w.check()).toBeNull();
  });

  it("a writable entry of the caller's device is reported writable", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const addr = step(w, 0, function* () {
      const a = yield* anonMap(mm, 1);
      yield* userWrite(mm, a, "v");
      yield* dmirrorMigrateToDevice(dm, a, 1);
      return a;
    });
    const wr = step(w, 1, () => dmirrorWrite(dm, addr, "dev"));
    expect(wr).toMatchObject({ ret: 0, faults: 0 });
    expect(devicePrivateFolio(mm, addr).data).toBe("dev");
    expect(HMM_PFN_WRITE).toBe(2);
  });
});

describe("mmu_interval_notifier invalidation on every PTE change a device mirrors", () => {
  it("a device read after munmap fails with -EFAULT instead of returning the freed folio's data", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const addr = step(w, 0, function* () {
      const a = yield* anonMap(mm, 1);
      yield* userWrite(mm, a, "secret");
      return a;
    });
    expect(step(w, 1, () => dmirrorRead(dm, addr))).toEqual({ ret: 0, value: "secret", values: ["secret"], faults: 1, cpages: 1 });
    expect(dm.pt.has(addr)).toBe(true);
    expect(step(w, 0, () => munmap(mm, addr, PAGE_SIZE))).toBe(0);
    expect(w.m.trace.events.some((e) => e.type === "mmu_notifier_invalidate_range_start" && e.args?.event === "MMU_NOTIFY_UNMAP")).toBe(true);
    expect(dm.pt.size).toBe(0);
    expect(step(w, 1, () => dmirrorRead(dm, addr))).toEqual({ ret: EFAULT, value: undefined, values: [], faults: 0, cpages: 0 });
    expect(w.check()).toBeNull();
  });

  it("try_to_migrate drops the mirror (MMU_NOTIFY_CLEAR): the next device read faults the page in again", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const addr = step(w, 0, function* () {
      const a = yield* anonMap(mm, 1);
      yield* userWrite(mm, a, "v1");
      return a;
    });
    expect(step(w, 1, () => dmirrorRead(dm, addr))).toEqual({ ret: 0, value: "v1", values: ["v1"], faults: 1, cpages: 1 });
    const f = step(w, 0, () => touch(mm, addr, false));
    step(w, 0, function* () {
      yield* folioLock(f);
      expect(yield* tryToMigrate(f)).toBe(true);
    });
    expect(dm.pt.has(addr)).toBe(false);
    step(w, 0, function* () {
      yield* removeMigrationPtes(f, f);
      yield* folioUnlock(f);
    });
    expect(step(w, 1, () => dmirrorRead(dm, addr))).toEqual({ ret: 0, value: "v1", values: ["v1"], faults: 1, cpages: 1 });
    expect(w.check()).toBeNull();
  });
});

describe("fork of a device-private entry is copy-on-write (copy_nonpresent_pte)", () => {
  function forked() {
    const w = world();
    const parent = newMm(w, "parent");
    const dm = dmirrorOpen(device(w, "dmirror0"), parent);
    const addr = step(w, 0, function* () {
      const a = yield* anonMap(parent, 1);
      yield* userWrite(parent, a, "v0");
      expect((yield* dmirrorMigrateToDevice(dm, a, 1)).migrated).toBe(1);
      return a;
    });
    const d = devicePrivateFolio(parent, addr);
    const child = step(w, 0, () => forkMm(parent, "child"));
    return { w, parent, child, dm, addr, d };
  }

  it("both entries become read-only, the folio is shared (mapcount 2, not exclusive) and the parent's mirror is invalidated", () => {
    const { w, parent, child, dm, addr, d } = forked();
    expect(getPte(parent, addr)).toMatchObject({ kind: "device-private", folio: d, writable: false });
    expect(getPte(child, addr)).toMatchObject({ kind: "device-private", folio: d, writable: false });
    expect(d.mapcount).toBe(2);
    expect(d.test(PG.anon_exclusive)).toBe(false);
    expect(dm.pt.size).toBe(0);
    expect(w.m.trace.events.some((e) => e.type === "mmu_notifier_invalidate_range_start" && e.args?.event === "MMU_NOTIFY_PROTECTION_PAGE")).toBe(true);
    // A device write through the parent's mirror sees the read-only entry: -EFAULT.
    expect(step(w, 1, () => dmirrorWrite(dm, addr, "dev"))).toMatchObject({ ret: EFAULT });
    expect(step(w, 0, () => userRead(child, addr))).toBe("v0");
    expect(w.check()).toBeNull();
  });

  it("a CPU write by the child is never visible in the parent (CPU or device)", () => {
    const { w, parent, child, dm, addr } = forked();
    step(w, 1, () => userWrite(child, addr, "child"));
    const pc = getPte(child, addr);
    const pp = getPte(parent, addr);
    expect(pc).toMatchObject({ kind: "present", writable: true });
    expect(pp).toMatchObject({ kind: "present", writable: false });
    expect(pc.kind !== "none" && pp.kind !== "none" && pc.folio !== pp.folio).toBe(true);
    expect(step(w, 0, () => userRead(parent, addr))).toBe("v0");
    expect(step(w, 0, () => dmirrorRead(dm, addr))).toMatchObject({ ret: 0, value: "v0" });
    expect(step(w, 1, () => userRead(child, addr))).toBe("child");
    expect(w.check()).toBeNull();
  });

  it("a CPU write by the parent is never visible in the child", () => {
    const { w, parent, child, addr } = forked();
    step(w, 0, () => userWrite(parent, addr, "parent"));
    expect(step(w, 1, () => userRead(child, addr))).toBe("v0");
    expect(step(w, 0, () => userRead(parent, addr))).toBe("parent");
    expect(w.check()).toBeNull();
  });
});

describe("dmirror_migrate_to_device reads the range back (lib/test_hmm.c)", () => {
  it("a page that did not migrate and is not mirrored ends the read-back with -ENOENT; cpages counts the pages before it", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm0 = dmirrorOpen(device(w, "dmirror0"), mm);
    const dm1 = dmirrorOpen(device(w, "dmirror1"), mm);
    const base = step(w, 0, function* () {
      const a = yield* anonMap(mm, 3);
      for (let i = 0; i < 3; i++) yield* userWrite(mm, a + i * PAGE_SIZE, `p${i}`);
      // Page 1 goes to the other device: SELECT_SYSTEM never selects it for dmirror0.
      expect((yield* dmirrorMigrateToDevice(dm1, a + PAGE_SIZE, 1)).migrated).toBe(1);
      return a;
    });
    const r = step(w, 0, () => dmirrorMigrateToDevice(dm0, base, 3, MIGRATE_VMA_SELECT_SYSTEM));
    expect(r).toMatchObject({ ret: ENOENT, migrated: 2, cpages: 1, collected: 2 });
    expect(getPte(mm, base).kind).toBe("device-private");
    expect(getPte(mm, base + 2 * PAGE_SIZE).kind).toBe("device-private");
    expect(w.check()).toBeNull();
  });

  it("every page mirrored: 0 and cpages = npages", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const base = step(w, 0, function* () {
      const a = yield* anonMap(mm, 2);
      yield* userWrite(mm, a, "a");
      return a;
    });
    // Page 1 is a hole: migrated as a cleared device page.
    expect(step(w, 0, () => dmirrorMigrateToDevice(dm, base, 2))).toMatchObject({ ret: 0, migrated: 2, cpages: 2, collected: 2 });
  });
});
