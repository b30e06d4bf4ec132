/**
 * Address spaces, faults, the page cache and rmap: vmas and their splitting, COW of
 * private file mappings, shared anonymous memory, racing faults, migration entries
 * (try_to_migrate, the fault waiting for the migration, remove_migration_ptes), the
 * device-private hook, and the typed errors of bad use.
 */

import { describe, expect, it } from "vitest";
import { PG, folioLock, folioPut, folioUnlock } from "@foliosim/folio";
import { folioIsolateLru, folioPutbackLru, lruAddDrain } from "@foliosim/lru";
import { Machine, SeededChooser, usleep } from "@foliosim/sim";
import { ISOLATED_HOLDER } from "@foliosim/lru";
import { TRANSIENT_HOLDER, VM_FAULT_SIGBUS, createFile } from "./filemap.js";
import { getPte, type MmStruct } from "./mm-types.js";
import { followPagePte, setDevicePrivateFaultHandler, touch, type VmFault } from "./memory.js";
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, mmap, munmap } from "./mmap.js";
import { removeMigrationPtes, tryToMigrate } from "./rmap.js";
import { deviceFolioFor, grabMapped, snap, world } from "./testing.js";
import { PhysicalMemory, memallocPinRestore, memallocPinSave } from "@foliosim/folio";
import { memfdCreate } from "./shmem.js";
import { createMm } from "./mm-types.js";
import { mmInvariants } from "./invariants.js";

const RW = PROT_READ | PROT_WRITE;
const PAGE = 4096;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe("vmas and faults", () => {
  it("munmap in the middle splits the vma, drops the mappings and frees the folios", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 3 * PAGE, prot: RW, flags: ANON }));
    const fs = [0, 1, 2].map((i) => w.step(0, () => touch(mm, a + i * PAGE, true)));
    w.step(0, () => lruAddDrain());
    expect(w.step(0, () => munmap(mm, a + PAGE, PAGE))).toBe(0);
    expect(mm.vmas.map((v) => [v.start - a, v.end - a])).toEqual([
      [0, PAGE],
      [2 * PAGE, 3 * PAGE],
    ]);
    expect(getPte(mm, a + PAGE).kind).toBe("none");
    expect(fs[1].state).toBe("free");
    expect(snap(fs[0])).toMatchObject({ ref: 1, mapcount: 1 });
    expect(snap(fs[2])).toMatchObject({ ref: 1, mapcount: 1 });
  });

  it("a write to a private file mapping copies the page (do_cow_fault), a later write after a read copies too (wp_page_copy)", () => {
    const w = world();
    const file = createFile(w.m, { memory: w.mem, name: "lib", sizePages: 2, raPages: 2 });
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 2 * PAGE, prot: RW, flags: MAP_PRIVATE, file }));
    const cow = w.step(0, () => touch(mm, a, true));
    expect(cow.mapping).toBe(mm.anon);
    expect(cow.data).toBe("lib[0]");
    const cached = file.peek(0)!;
    expect(snap(cached)).toMatchObject({ ref: 2, mapcount: 0, holders: { lru_add: 1, pagecache: 1 } });
    // Read maps the page-cache folio read-only; the write replaces it by a copy.
    const ro = w.step(0, () => touch(mm, a + PAGE, false));
    expect(ro).toBe(file.peek(1));
    expect(snap(ro)).toMatchObject({ mapcount: 1 });
    const copy = w.step(0, () => touch(mm, a + PAGE, true));
    expect(copy).not.toBe(ro);
    expect(copy.mapping).toBe(mm.anon);
    expect(snap(ro)).toMatchObject({ mapcount: 0, holders: { lru_add: 1, pagecache: 1 } });
    const pte = getPte(mm, a + PAGE);
    expect(pte).toMatchObject({ kind: "present", folio: copy, writable: true, dirty: true });
  });

  it("MAP_SHARED|MAP_ANONYMOUS is shmem: swapbacked page-cache folios shared by the mapping", () => {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS }));
    const f = w.step(0, () => touch(mm, a, true));
    w.step(0, () => lruAddDrain());
    expect(snap(f)).toMatchObject({ ref: 2, exp: 2, flags: "uptodate|dirty|lru|swapbacked", holders: { map: 1, pagecache: 1 } });
  });

  it("faults allocate movable memory (ZONE_MOVABLE, then CMA), but not under PF_MEMALLOC_PIN", () => {
    const w = world({}, { Movable: 2, CMA: 4, Normal: 8 });
    const mm = w.mm();
    const shm = memfdCreate(w.m, { memory: w.mem, name: "g", sizePages: 4 });
    const a = w.step(0, () => mmap(mm, { length: 4 * PAGE, prot: RW, flags: ANON }));
    const s = w.step(0, () => mmap(mm, { length: 4 * PAGE, prot: RW, flags: MAP_SHARED, file: shm }));
    const zones = w.step(0, function* () {
      const out: string[] = [];
      for (let i = 0; i < 3; i++) out.push((yield* touch(mm, a + i * PAGE, true)).migratetype + "/" + (yield* touch(mm, a + i * PAGE, false)).zone);
      const saved = memallocPinSave();
      out.push((yield* touch(mm, s, true)).zone); // a fault GUP triggers while pinning
      const f = (yield* touch(mm, a + 3 * PAGE, true));
      out.push(f.zone + "/" + f.migratetype);
      memallocPinRestore(saved);
      out.push((yield* touch(mm, s + PAGE, true)).migratetype);
      return out;
    });
    expect(zones).toEqual(["MOVABLE/Movable", "MOVABLE/Movable", "CMA/Normal", "Normal", "Normal/MOVABLE", "CMA"]);
  });

  it("two CPUs faulting the same anonymous page race on the PTE lock: one folio wins, the other is freed", () => {
    for (let seed = 1; seed <= 12; seed++) {
      const m = new Machine({ cpus: 2 });
      const mem = new PhysicalMemory({ Normal: 8 });
      m.addInvariant("mm", (mm) => mmInvariants(mm, mem.allFolios()));
      const mm = createMm(m, { memory: mem, name: "proc" });
      let a = 0;
      m.spawn({ name: "setup", cpu: 0, body: function* () { a = yield* mmap(mm, { length: PAGE, prot: RW, flags: ANON }); } });
      m.settle(new SeededChooser(seed));
      const t0 = m.spawn({ name: "t0", cpu: 0, body: () => touch(mm, a, true) });
      const t1 = m.spawn({ name: "t1", cpu: 1, body: () => touch(mm, a, true) });
      const r = m.run(new SeededChooser(seed));
      expect(r.status).toBe("done");
      expect(t0.result).toBe(t1.result);
      const used = mem.allFolios().filter((f) => f.state === "allocated");
      expect(used).toHaveLength(1);
      expect(used[0].mapcount).toBe(1);
    }
  });
});

describe("migration entries", () => {
  function mapped() {
    const w = world();
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: ANON }));
    const f = w.step(0, () => touch(mm, a, true));
    w.step(0, () => lruAddDrain());
    // Isolate it as migration would (the isolation reference keeps it alive unmapped).
    w.step(0, function* () {
      const g = (yield* grabMapped(mm, a))!;
      expect(yield* folioIsolateLru(g)).toBe(true);
      yield* folioPut(g, TRANSIENT_HOLDER);
    });
    return { w, mm, a, f };
  }

  it("try_to_migrate replaces the PTE by a migration entry; remove_migration_ptes(src, src) restores it", () => {
    const { w, mm, a, f } = mapped();
    expect(w.step(0, function* () {
      yield* folioLock(f);
      return yield* tryToMigrate(f);
    })).toBe(true);
    expect(getPte(mm, a)).toMatchObject({ kind: "migration", folio: f, writable: true });
    expect(snap(f)).toMatchObject({ ref: 1, exp: 0, mapcount: 0, holders: { isolated: 1 } });
    expect(f.test(PG.dirty)).toBe(true); // the dirty PTE dirtied the folio
    expect(w.step(0, () => removeMigrationPtes(f, f))).toBe(1);
    expect(getPte(mm, a)).toMatchObject({ kind: "present", folio: f, writable: true });
    expect(snap(f)).toMatchObject({ ref: 2, mapcount: 1, holders: { isolated: 1, map: 1 } });
    w.step(0, function* () {
      yield* folioUnlock(f);
      yield* folioPutbackLru(f);
    });
  });

  it("a fault on a migration entry sleeps until the folio is unlocked, then retries and maps it", () => {
    const { w, mm, a, f } = mapped();
    const m = w.m;
    const migrator = m.spawn({
      name: "migrator",
      cpu: 0,
      body: function* () {
        yield* folioLock(f);
        yield* tryToMigrate(f);
        yield* usleep(50);
        yield* removeMigrationPtes(f, f);
        yield* folioUnlock(f);
        yield* folioPutbackLru(f);
      },
    });
    const user = m.spawn({
      name: "user",
      cpu: 1,
      body: function* () {
        yield* usleep(10);
        return yield* touch(mm, a, false);
      },
    });
    m.settle(new SeededChooser(3));
    expect(m.status).toBe("running");
    expect(migrator.state).toBe("done");
    expect(user.result).toBe(f);
    const blocked = m.trace.events.filter((e) => e.type === "block" && e.task === user.id);
    expect(blocked.map((e) => e.name)).toContain(`folio_wait_locked(${f.name})`);
    expect(snap(f)).toMatchObject({ mapcount: 1 });
  });

  it("a fault on a device-private entry calls the registered handler, and is a ModelError without one", () => {
    const { w, mm, a, f } = mapped();
    const dev = w.step(0, function* () {
      yield* folioLock(f);
      yield* tryToMigrate(f);
      const d = yield* deviceFolioFor(f);
      yield* removeMigrationPtes(f, d);
      yield* folioPut(d, TRANSIENT_HOLDER);
      yield* folioUnlock(f);
      yield* folioPut(f, ISOLATED_HOLDER); // migration done: the source goes
      return d;
    });
    expect(f.state).toBe("free");
    expect(getPte(mm, a)).toMatchObject({ kind: "device-private", folio: dev });
    expect(snap(dev)).toMatchObject({ ref: 1, mapcount: 1, holders: { map: 1 } });
    // GUP's page-table read sees the entry kind.
    expect(w.step(1, () => followPagePte(mm, a)).kind).toBe("device-private");

    const none = w.tryStep(1, () => touch(mm, a, false));
    expect(none.status).toBe("invariant");
    expect(none.failure).toMatchObject({ operation: "do_swap_page", object: dev.name });
    expect(none.failure!.message).toMatch(/no device-private fault handler/);
  });

  it("the registered device-private handler receives the fault", () => {
    const { w, mm, a, f } = mapped();
    const dev = w.step(0, function* () {
      yield* folioLock(f);
      yield* tryToMigrate(f);
      const d = yield* deviceFolioFor(f);
      yield* removeMigrationPtes(f, d);
      yield* folioPut(d, TRANSIENT_HOLDER);
      yield* folioUnlock(f);
      yield* folioPut(f, ISOLATED_HOLDER);
      return d;
    });
    const seen: VmFault[] = [];
    setDevicePrivateFaultHandler(w.m, function* (vmf) {
      seen.push(vmf);
      return VM_FAULT_SIGBUS;
    });
    const r = w.tryStep(2, () => touch(mm, a, true));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ address: a, origPte: { kind: "device-private", folio: dev } });
    expect(r.failure).toMatchObject({ operation: "touch" });
  });
});

describe("bad use raises a typed model error naming the address or folio and the operation", () => {
  function fresh(): { w: ReturnType<typeof world>; mm: MmStruct } {
    const w = world();
    return { w, mm: w.mm() };
  }

  it("touching an address no vma maps", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: ANON }));
    const r = w.tryStep(0, () => touch(mm, a + PAGE, false));
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "touch", object: `proc address 0x${(a + PAGE).toString(16)}` });
    expect(r.failure!.message).toMatch(/no vma/);
  });

  it("writing to a read-only vma", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: PROT_READ, flags: ANON }));
    const r = w.tryStep(0, () => touch(mm, a, true));
    expect(r.failure).toMatchObject({ operation: "touch" });
    expect(r.failure!.message).toMatch(/SIGSEGV: write/);
  });

  it("reading a PROT_NONE vma", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: 0, flags: ANON }));
    const r = w.tryStep(0, () => touch(mm, a, false));
    expect(r.failure).toMatchObject({ operation: "touch" });
    expect(r.failure!.message).toMatch(/SIGSEGV: access/);
  });

  it("touching a file mapping past the end of the file", () => {
    const { w, mm } = fresh();
    const file = createFile(w.m, { memory: w.mem, name: "short", sizePages: 1 });
    const a = w.step(0, () => mmap(mm, { length: 2 * PAGE, prot: PROT_READ, flags: MAP_SHARED, file }));
    const r = w.tryStep(0, () => touch(mm, a + PAGE, false));
    expect(r.failure).toMatchObject({ operation: "touch" });
    expect(r.failure!.message).toMatch(/SIGBUS/);
  });

  it("munmap of a range that is not mapped returns 0 and changes nothing, as do_vmi_munmap does; twice too", () => {
    const { w, mm } = fresh();
    expect(w.step(0, () => munmap(mm, 0x7000_0000, PAGE))).toBe(0);
    const a = w.step(0, () => mmap(mm, { length: 2 * PAGE, prot: RW, flags: ANON }));
    w.step(0, () => touch(mm, a, true));
    expect(w.step(0, () => munmap(mm, a, 2 * PAGE))).toBe(0);
    expect(mm.vmas).toHaveLength(0);
    expect(w.step(0, () => munmap(mm, a, 2 * PAGE))).toBe(0);
    expect(mm.vmas).toHaveLength(0);
    expect(mm.mmapLock.writer).toBeNull();
    expect(w.step(0, () => munmap(mm, a + 1, PAGE))).toBe(-22);
  });

  it("an unaligned address hint is rounded up to a page, as generic_mmap_hint's PAGE_ALIGN does; MAP_FIXED there is -EINVAL", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { addr: 0x7000_0001, length: PAGE, prot: RW, flags: ANON }));
    expect(a).toBe(0x7000_1000);
    expect(mm.vmas.map((v) => [v.start, v.end])).toEqual([[0x7000_1000, 0x7000_2000]]);
    expect(w.step(0, () => mmap(mm, { addr: 0x7100_0001, length: PAGE, prot: RW, flags: ANON | MAP_FIXED }))).toBe(-22);
    expect(mm.vmas).toHaveLength(1);
  });

  it("running out of memory in a user fault is the program's error (usage: the machine is too small), not a kernel invariant", () => {
    const w = world({}, { Normal: 1 });
    const mm = w.mm();
    const a = w.step(0, () => mmap(mm, { length: 2 * PAGE, prot: RW, flags: ANON }));
    w.step(0, () => touch(mm, a, true));
    const r = w.tryStep(0, () => touch(mm, a + PAGE, true));
    expect(r.failure).toMatchObject({ operation: "touch", usage: true });
    expect(r.failure!.message).toMatch(/VM_FAULT_OOM: no memory for the fault \(the scenario's machine has run out of memory: give machine\.memory more pages\)/);
  });

  it("an access the kernel answers with SIGSEGV or SIGBUS is the program's error (usage), not a kernel invariant", () => {
    const { w, mm } = fresh();
    const r = w.tryStep(0, () => touch(mm, 0x7000_0000, true));
    expect(r.failure).toMatchObject({ operation: "touch", usage: true });
    const { w: w2, mm: mm2 } = fresh();
    const a = w2.step(0, () => mmap(mm2, { length: PAGE, prot: RW, flags: ANON }));
    const f = w2.step(0, () => touch(mm2, a, true));
    const bad = w2.tryStep(0, () => tryToMigrate(f));
    expect(bad.failure).toMatchObject({ operation: "try_to_migrate" });
    expect(bad.failure!.usage).toBeUndefined();
  });

  it("a large-folio order on a file, shmem or memfd mapping is refused (the object decides its folio sizes), never silently run with order 0", () => {
    const { w, mm } = fresh();
    const memfd = memfdCreate(w.m, { memory: w.mem, name: "guest", sizePages: 4 });
    const r = w.tryStep(0, () => mmap(mm, { length: 4 * PAGE, prot: RW, flags: MAP_SHARED, file: memfd, folioOrder: 2 }));
    expect(r.failure).toMatchObject({ operation: "mmap", object: "proc mmap(NULL, 16384)" });
    expect(r.failure!.message).toMatch(/folio order 2 on a mapping of memfd:guest: .*give the order to memfd_create or the file instead/);
  });

  it("mmap without MAP_SHARED or MAP_PRIVATE", () => {
    const { w, mm } = fresh();
    const r = w.tryStep(0, () => mmap(mm, { length: PAGE, prot: RW, flags: MAP_ANONYMOUS }));
    expect(r.failure).toMatchObject({ operation: "mmap" });
  });

  it("try_to_migrate on a folio that is not locked", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: ANON }));
    const f = w.step(0, () => touch(mm, a, true));
    const r = w.tryStep(0, () => tryToMigrate(f));
    expect(r.failure).toMatchObject({ operation: "try_to_migrate", object: f.name });
  });

  it("dropping a reference the task does not hold names the folio", () => {
    const { w, mm } = fresh();
    const a = w.step(0, () => mmap(mm, { length: PAGE, prot: RW, flags: ANON }));
    const f = w.step(0, () => touch(mm, a, true));
    const r = w.tryStep(0, function* () {
      yield* folioPut(f, TRANSIENT_HOLDER);
    });
    expect(r.failure).toMatchObject({ operation: "folio_put", object: f.name });
  });
});
