import { describe, expect, it } from "vitest";
import { firstChooser } from "@foliosim/sim";
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPages, unpinUserPages, type Pages } from "@foliosim/gup";
import { PAGE_SIZE, getPte, mmapReadLock, mmapReadUnlock } from "@foliosim/mm";
import { folioLock, GUP_PIN_COUNTING_BIAS } from "@foliosim/folio";
import { anonMap, device, newMm, setup, userRead, userWrite, world } from "./testing.js";
import { dmirrorDeviceEvictChunk, dmirrorMigrateToDevice, dmirrorOpen, dmirrorRead, dmirrorWrite } from "./test-hmm.js";
import {
  EINVAL,
  MIGRATE_PFN_COMPOUND,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_SHIFT,
  MIGRATE_PFN_VALID,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migrateVmaSetup,
  newMigrateVma,
} from "./migrate-device.js";
import { HMM_RANGE_DEFAULT_TIMEOUT } from "./hmm.js";
import type { HmmVariant } from "./variants/select.js";

function onePageOnDevice(variant: HmmVariant = "hmm-sleeping-wait") {
  const w = world({ variant });
  const mm = newMm(w, "proc");
  const dev = device(w, "dmirror0", 4);
  const dm = dmirrorOpen(dev, mm);
  let addr = 0;
  setup(w, 0, function* () {
    addr = yield* anonMap(mm, 2);
    yield* userWrite(mm, addr, "hello");
    yield* dmirrorMigrateToDevice(dm, addr, 1);
  });
  return { w, mm, dev, dm, addr };
}

describe("constants (reference §9)", () => {
  it("MIGRATE_PFN_* and MIGRATE_VMA_SELECT_* have the kernel's values", () => {
    expect([MIGRATE_PFN_VALID, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_WRITE, MIGRATE_PFN_COMPOUND, MIGRATE_PFN_SHIFT]).toEqual([1, 2, 8, 16, 6]);
    expect([MIGRATE_VMA_SELECT_SYSTEM, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, MIGRATE_VMA_SELECT_DEVICE_COHERENT, MIGRATE_VMA_SELECT_COMPOUND]).toEqual([1, 2, 4, 8]);
    expect(HMM_RANGE_DEFAULT_TIMEOUT).toBe(1000);
  });
});

describe("migrate_vma_setup validation", () => {
  it("returns -EINVAL for a missing vma, an empty range, a range outside the vma, a non-device fault page, an unlocked fault page (6.15+)", () => {
    const { w, mm, dev, addr } = onePageOnDevice();
    const got: number[] = [];
    w.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        const vma = mm.vmas[0];
        const pte = getPte(mm, addr);
        if (pte.kind !== "device-private") throw new Error("not on the device");
        const D = pte.folio;
        got.push(yield* migrateVmaSetup(newMigrateVma({ vma: null, start: addr, end: addr + PAGE_SIZE })));
        got.push(yield* migrateVmaSetup(newMigrateVma({ vma, start: addr, end: addr })));
        got.push(yield* migrateVmaSetup(newMigrateVma({ vma, start: vma.end, end: vma.end + PAGE_SIZE })));
        got.push(yield* migrateVmaSetup({ ...newMigrateVma({ vma, start: addr, end: addr + PAGE_SIZE }), src: null }));
        // An unlocked device-private fault page.
        got.push(yield* migrateVmaSetup(newMigrateVma({ vma, start: addr, end: addr + PAGE_SIZE, pgmapOwner: dev, flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE, faultPage: D })));
        // A system page as fault page.
        const s = w.mem.allFolios()[0];
        got.push(yield* migrateVmaSetup(newMigrateVma({ vma, start: addr, end: addr + PAGE_SIZE, faultPage: s })));
        // Locked: accepted.
        yield* folioLock(D);
        const ok = newMigrateVma({ vma, start: addr, end: addr + PAGE_SIZE, pgmapOwner: dev, flags: MIGRATE_VMA_SELECT_DEVICE_PRIVATE, faultPage: D });
        got.push(yield* migrateVmaSetup(ok));
        got.push(ok.cpages);
      },
    });
    const r = w.m.run(firstChooser);
    expect(r.status, r.failure?.message).toBe("done");
    expect(got.slice(0, 6)).toEqual([EINVAL, EINVAL, EINVAL, EINVAL, EINVAL, EINVAL]);
    expect(got.slice(6)).toEqual([0, 1]);
  });
});

describe("dmirror", () => {
  it("device read of its own device-private page needs no fault; a CPU read migrates it back (migrate_to_ram) with its value", () => {
    const { w, mm, dm, dev, addr } = onePageOnDevice();
    const out: unknown[] = [];
    w.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        out.push(yield* dmirrorRead(dm, addr));
        out.push(yield* dmirrorWrite(dm, addr, "written by the device"));
        out.push(getPte(mm, addr).kind);
        out.push(yield* userRead(mm, addr));
        out.push(getPte(mm, addr).kind, dev.pgmap.inUse);
        // The mirror lost the page at migrate_to_ram: the next device read faults it in from system memory.
        out.push(yield* dmirrorRead(dm, addr));
      },
    });
    expect(w.m.run(firstChooser).status).toBe("done");
    expect(out).toEqual([
      { ret: 0, value: "hello", values: ["hello"], faults: 0, cpages: 1 },
      { ret: 0, value: "written by the device", values: ["written by the device"], faults: 0, cpages: 1 },
      "device-private",
      "written by the device",
      "present",
      0,
      { ret: 0, value: "written by the device", values: ["written by the device"], faults: 1, cpages: 1 },
    ]);
    expect(w.check()).toBeNull();
  });

  it("release of device memory (dmirror_device_evict_chunk → migrate_device_range) brings every page back", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dev = device(w, "dmirror0", 4);
    const dm = dmirrorOpen(dev, mm);
    let base = 0;
    setup(w, 0, function* () {
      base = yield* anonMap(mm, 3);
      for (let i = 0; i < 3; i++) yield* userWrite(mm, base + i * PAGE_SIZE, `p${i}`);
      yield* dmirrorMigrateToDevice(dm, base, 3);
    });
    const out: unknown[] = [];
    w.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        out.push(dev.pgmap.inUse);
        out.push(yield* dmirrorDeviceEvictChunk(dev));
        out.push(dev.pgmap.inUse, [0, 1, 2].map((i) => getPte(mm, base + i * PAGE_SIZE).kind));
        for (let i = 0; i < 3; i++) out.push(yield* userRead(mm, base + i * PAGE_SIZE));
      },
    });
    expect(w.m.run(firstChooser).status).toBe("done");
    expect(out).toEqual([3, 3, 0, ["present", "present", "present"], "p0", "p1", "p2"]);
    expect(w.check()).toBeNull();
  });
});

describe("FOLL_LONGTERM pin of a device-private page (hmm-tests' gup case)", () => {
  it("pin_user_pages(FOLL_LONGTERM) faults the page back to system memory through migrate_to_ram and pins the system page", () => {
    const { w, mm, dev, addr } = onePageOnDevice();
    const pages: Pages = [null];
    const out: unknown[] = [];
    w.m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        yield* mmapReadLock(mm);
        out.push(yield* pinUserPages(mm, addr, 1, FOLL_LONGTERM | FOLL_WRITE, pages, w.mem));
        yield* mmapReadUnlock(mm);
        const f = pages[0]!;
        out.push(f.zone, f.data, f.refcount - GUP_PIN_COUNTING_BIAS, getPte(mm, addr).kind, dev.pgmap.inUse);
        yield* unpinUserPages(pages);
        out.push(f.refcount);
      },
    });
    const r = w.m.run(firstChooser);
    expect(r.status, r.failure?.message).toBe("done");
    // Beyond the pin: the mapping and the lru_add batch slot migrate_vma_finalize's folio_add_lru took.
    expect(out).toEqual([1, "Normal", "hello", 2, "present", 0, 2]);
    expect(w.check()).toBeNull();
  });
});
