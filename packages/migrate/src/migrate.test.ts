import { describe, expect, it } from "vitest";
import {
  folioClearFlag,
  folioExpectedRefCount,
  folioIsLongtermPinnable,
  folioLock,
  folioPut,
  folioSetFlag,
  folioTryGet,
  folioUnlock,
  formatFlags,
  PG,
  PhysicalMemory,
  type Folio,
} from "@foliosim/folio";
import { folioIsolateLru, lruAddDrain, lruAddDrainAll, whereIs } from "@foliosim/lru";
import { createMm, getPte, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, memfdCreate, mmap, munmap, PAGE_SIZE, PROT_READ, PROT_WRITE, touch } from "@foliosim/mm";
import { Machine, sleepNs, TimedChooser, type TaskGen } from "@foliosim/sim";
import {
  allocMigrationTarget,
  ENOMEM,
  migratePages,
  NR_MAX_BATCHED_MIGRATION,
  NR_MAX_MIGRATE_ASYNC_RETRY,
  NR_MAX_MIGRATE_PAGES_RETRY,
  NR_MAX_MIGRATE_SYNC_RETRY,
  putbackMovablePages,
  type MigrateMode,
} from "./index.js";
import { events, holdReference, isolate, isolateMigratePutback, mapped, ops, pteKinds, run, timeline, without, world, type Migrated } from "./testing.js";

/** The folio's counts, flags and reference holders, for before/after comparisons. */
function snapFolio(f: Folio) {
  return {
    ref: f.refcount,
    exp: folioExpectedRefCount(f),
    mapcount: f.mapcount,
    flags: formatFlags(f.flags),
    holders: Object.fromEntries([...f.holders].sort(([a], [b]) => a.localeCompare(b))),
  };
}

interface Setup {
  m: Machine;
  memory: PhysicalMemory;
  folio: Folio;
  addr: number;
  mm: ReturnType<typeof createMm>;
}

/** One page faulted in on CPU0 (anonymous, or shmem when `shmem`), its batches drained. */
function setup(shmem: boolean, kernel: Record<string, string> = {}): Setup {
  const m = new Machine({ cpus: 2, kernel: { migrate: "mainline", ...kernel } });
  const memory = new PhysicalMemory({ Movable: 8, Normal: 32 });
  const mm = createMm(m, { memory, name: "p0" });
  const file = shmem ? memfdCreate(m, { memory, name: "memfd", sizePages: 4 }) : undefined;
  let addr = 0;
  let folio!: Folio;
  m.spawn({
    name: "setup",
    cpu: 0,
    *body() {
      addr = yield* mmap(mm, { length: 4096, prot: PROT_READ | PROT_WRITE, flags: file ? MAP_SHARED : MAP_ANONYMOUS | MAP_PRIVATE, file });
      folio = yield* touch(mm, addr, true);
      yield* lruAddDrainAll();
    },
  });
  m.settle(new TimedChooser(0, 0));
  return { m, memory, folio, addr, mm };
}

function* isolateAndMigrate(s: Setup, mode: MigrateMode): TaskGen<{ rc: number; left: number }> {
  const list: Folio[] = [];
  if (yield* folioTryGet(s.folio, "transient")) {
    if (yield* folioIsolateLru(s.folio)) list.push(s.folio);
    yield* folioPut(s.folio, "transient");
  }
  const rc = yield* migratePages(list, allocMigrationTarget(s.memory, "MR_SYSCALL"), null, mode, "MR_SYSCALL");
  const left = list.length;
  yield* putbackMovablePages(list);
  return { rc, left };
}

describe("migrate_pages", () => {
  it("moves an anonymous folio: the PTE points at the destination, the source is freed", () => {
    const s = setup(false);
    let out!: { rc: number; left: number };
    s.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateAndMigrate(s, "MIGRATE_SYNC"); } });
    const r = s.m.run(new TimedChooser(1));
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(s.folio.state).toBe("free");
    const pte = getPte(s.mm, s.addr);
    expect(pte.kind).toBe("present");
    const dst = (pte as { folio: Folio }).folio;
    expect(dst.zone).toBe("Movable");
    // The destination: mapped once, in CPU1's lru_add batch (reference E26's shape for anon).
    expect([dst.refcount, folioExpectedRefCount(dst), dst.mapcount]).toEqual([2, 1, 1]);
    expect(whereIs(s.m, dst)).toEqual(["cpu1 lru_add"]);
    expect(r.counters.migrate_retry ?? 0).toBe(0);
  });

  it("E26: a migrated shmem folio is mapped once, in the cache and an lru_add batch: ref 3, exp 2, PG_lru clear", () => {
    const s = setup(true);
    s.m.spawn({ name: "migrator", cpu: 1, *body() { yield* isolateAndMigrate(s, "MIGRATE_SYNC"); } });
    expect(s.m.run(new TimedChooser(1)).status).toBe("done");
    const dst = (getPte(s.mm, s.addr) as { folio: Folio }).folio;
    expect(dst).not.toBe(s.folio);
    expect([dst.refcount, folioExpectedRefCount(dst)]).toEqual([3, 2]);
    expect(formatFlags(dst.flags)).not.toContain("lru");
    expect(dst.holders).toEqual(new Map([["pagecache", 1], ["map", 1], ["lru_add", 1]]));
  });

  it.each([
    ["MIGRATE_SYNC", 10],
    ["MIGRATE_ASYNC", 10],
  ] as const)("a reference held throughout makes %s give up after %i retries and restores the folio", (mode, retries) => {
    const s = setup(true);
    let out!: { rc: number; left: number };
    s.m.spawn({
      name: "holder",
      cpu: 0,
      *body() {
        if (!(yield* folioTryGet(s.folio, "transient"))) return;
        yield* sleepNs(50_000_000);
        yield* folioPut(s.folio, "transient");
      },
    });
    // The migrator starts once the holder has its reference (CPU0's clock is ahead after set-up).
    s.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateAndMigrate(s, mode); } });
    const r = s.m.run(new TimedChooser(1));
    expect(r.failure).toBeUndefined();
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(retries);
    // Back where it was: mapped, in the page cache, on its way back to the LRU.
    expect((getPte(s.mm, s.addr) as { folio: Folio }).folio).toBe(s.folio);
    expect(s.folio.holders).toEqual(new Map([["pagecache", 1], ["map", 1], ["lru_add", 1]]));
    expect(s.folio.lock.locked).toBe(false);
  });
});

// ---------------------------------------------------------------------------------
// Reference §5, through the package's public API on worlds from ./testing.ts: the
// folio lock in MIGRATE_ASYNC, the 3 + 7 passes, the undo path, the destination of
// MR_LONGTERM_PIN and the return values of migrate_pages.

describe("migrate_folio_unmap: the source lock", () => {
  /** A task that holds the folio lock for 50 ms from t = 0; the migrator starts at 20 us. */
  function lockedWorld(mode: MigrateMode) {
    const w = world({ shmem: true });
    const start = snapFolio(w.folio);
    let out!: Migrated;
    w.m.spawn({
      name: "locker",
      cpu: 0,
      *body() {
        yield* folioLock(w.folio);
        yield* sleepNs(50_000_000);
        yield* folioUnlock(w.folio);
      },
    });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, mode); } });
    const r = run(w);
    return { w, r, out, start };
  }

  it("MIGRATE_ASYNC never sleeps on a locked folio: each trylock failure is -EAGAIN, retried 10 times, then counted as 1 failure", () => {
    const { w, r, out, start } = lockedWorld("MIGRATE_ASYNC");
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(NR_MAX_MIGRATE_PAGES_RETRY);
    // Every pass allocates a destination, fails folio_trylock(src), and frees the destination again.
    expect([r.counters.folio_alloc, r.counters.folio_freed]).toEqual([10, 10]);
    const src = `folio_trylock(${w.folio.name})`;
    expect(ops(r, (l) => l.includes(w.folio.name) && /folio_(try)?lock|folio_unlock/.test(l))).toEqual([
      `folio_lock(${w.folio.name})`, // the locker
      ...Array<string>(10).fill(src),
      `folio_unlock(${w.folio.name})`, // the locker, 50 ms later
    ]);
    // Never unmapped, never checked, never slept on.
    expect(events(r, "set_migration_pte")).toHaveLength(0);
    expect(events(r, "migrate_refcount_mismatch")).toHaveLength(0);
    expect(events(r, "block").filter((e) => e.name?.startsWith("folio_lock"))).toHaveLength(0);
    expect(events(r, "mm_migrate_pages")[0].args).toEqual({ failed: 1, rc: 1, mode: "MIGRATE_ASYNC", reason: "MR_SYSCALL" });
    // Put back: mapped as before, plus the lru_add slot of the putback.
    expect(mapped(w)).toBe(w.folio);
    expect(snapFolio(w.folio)).toEqual({ ...start, ref: start.ref + 1, flags: without(start.flags, "lru"), holders: { ...start.holders, lru_add: 1 } });
  });

  it("MIGRATE_SYNC: the 3 async passes fail the trylock, then the per-folio sync stage sleeps in folio_lock and migrates", () => {
    const { w, r, out } = lockedWorld("MIGRATE_SYNC");
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(r.counters.migrate_retry).toBe(NR_MAX_MIGRATE_ASYNC_RETRY);
    expect(events(r, "block").filter((e) => e.name === `folio_lock(${w.folio.name})`)).toHaveLength(1);
    expect(w.folio.state).toBe("free");
    expect(mapped(w)).not.toBe(w.folio);
  });
});

describe("migrate_pages: NR_MAX_MIGRATE_ASYNC_RETRY + NR_MAX_MIGRATE_SYNC_RETRY passes", () => {
  it("the constants are the kernel's: 10 passes for async callers, split 3 + 7 for sync ones", () => {
    expect([NR_MAX_MIGRATE_PAGES_RETRY, NR_MAX_MIGRATE_ASYNC_RETRY, NR_MAX_MIGRATE_SYNC_RETRY, NR_MAX_BATCHED_MIGRATION]).toEqual([10, 3, 7, 512]);
  });

  /** A shmem folio with a reference held for 50 ms from t = 0 (reference §12.4); migration starts at 20 us. */
  function heldWorld(mode: MigrateMode) {
    const w = world({ shmem: true });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 50_000_000); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, mode); } });
    const r = run(w);
    return { w, r, out };
  }

  it("MIGRATE_SYNC: 3 move passes under one lock, undo, then 7 under a second lock and a second destination", () => {
    const { w, r, out } = heldWorld("MIGRATE_SYNC");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(10);
    const name = w.folio.name;
    const check = "folio_ref_count (__migrate_folio)";
    expect(ops(r, (l) => l === check || l === `folio_trylock(${name})` || l === `folio_unlock(${name})` || l.startsWith("folio_alloc"))).toEqual([
      "folio_alloc(GFP_HIGHUSER_MOVABLE)",
      `folio_trylock(${name})`,
      ...Array<string>(3).fill(check),
      `folio_unlock(${name})`, // migrate_pages_sync: the async stage undid the folio
      "folio_alloc(GFP_HIGHUSER_MOVABLE)",
      `folio_trylock(${name})`,
      ...Array<string>(7).fill(check),
      `folio_unlock(${name})`,
    ]);
    // Each check saw the page cache + isolation references expected, and the holder's on top;
    // none went on to the copy and the freeze.
    expect(ops(r, (l) => l === "folio_mc_copy" || l === "__folio_migrate_mapping")).toEqual([]);
    const mismatches = events(r, "migrate_refcount_mismatch");
    expect(mismatches).toHaveLength(10);
    for (const e of mismatches) expect(e.args).toEqual({ count: 3, expected: 2 });
    expect(events(r, "mm_migrate_pages_start").map((e) => e.args)).toEqual([{ mode: "MIGRATE_SYNC", reason: "MR_SYSCALL" }]);
  });

  it("MIGRATE_ASYNC: 10 move passes under a single lock and a single destination", () => {
    const { w, r, out } = heldWorld("MIGRATE_ASYNC");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(10);
    const name = w.folio.name;
    expect(ops(r, (l) => l === "folio_ref_count (__migrate_folio)" || l === `folio_trylock(${name})` || l === `folio_unlock(${name})`)).toEqual([
      `folio_trylock(${name})`,
      ...Array<string>(10).fill("folio_ref_count (__migrate_folio)"),
      `folio_unlock(${name})`,
    ]);
    expect([r.counters.folio_alloc, r.counters.folio_freed]).toEqual([1, 1]);
  });
});

describe("__migrate_folio: the check, folio_mc_copy and the freeze are separate steps", () => {
  // mm/migrate.c __migrate_folio(): `if (folio_ref_count(src) != expected_count) return
  // -EAGAIN;` then `folio_mc_copy(dst, src)`, then __folio_migrate_mapping(), which
  // freezes a page-cache folio at expected_count under the xarray lock and freezes
  // nothing for a small anonymous folio. The holder's folio_try_get lands during the
  // 1 us copy of the first move pass (about 430 ns after the check).
  function lateReference(shmem: boolean, holdNs: number) {
    const w = world({ shmem });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* sleepNs(3_000); yield* holdReference(w.folio, holdNs); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_ASYNC"); } });
    const r = run(w);
    expect(r.status).toBe("done");
    const window = timeline(r, (e) => (e.type === "op" && ["folio_ref_count (__migrate_folio)", "folio_mc_copy", "folio_try_get", "__folio_migrate_mapping"].includes(e.name!) ? e.name! : e.type === "page_ref_freeze" ? `page_ref_freeze ${JSON.stringify(e.args)}` : null));
    return { w, r, out, window };
  }

  it("shmem: a reference taken during the copy fails the freeze (-EAGAIN); the next pass, the reference gone, migrates", () => {
    const { w, r, out, window } = lateReference(true, 500);
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(window.slice(0, 5)).toEqual([
      "migrator: folio_try_get", // the isolation's transient reference, dropped again before migrate_pages
      "migrator: folio_ref_count (__migrate_folio)", // 2 = page cache + isolation: go on
      "migrator: folio_mc_copy",
      "holder: folio_try_get", // during the copy
      expect.stringMatching(/^migrator: page_ref_freeze .*"ret":0/), // 3 != 2: the freeze fails
    ]);
    expect(events(r, "migrate_refcount_mismatch").map((e) => e.args)).toEqual([{ count: 3, expected: 2, at: "folio_ref_freeze" }]);
    expect(r.counters.migrate_retry).toBe(1);
    expect(w.folio.state).toBe("free");
  });

  it("shmem: held on, the reference fails the first pass at the freeze and the nine others at the check", () => {
    const { r, out } = lateReference(true, 50_000_000);
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(events(r, "migrate_refcount_mismatch").map((e) => (e.args as { at?: string }).at ?? "check")).toEqual(["folio_ref_freeze", ...Array(9).fill("check")]);
    expect(ops(r, (l) => l === "folio_mc_copy")).toHaveLength(1);
  });

  it("a small anonymous folio is not frozen: the same late reference does not stop the migration, and the holder's put frees the old folio", () => {
    const { w, r, out, window } = lateReference(false, 50_000_000);
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(window.slice(1)).toEqual([
      "migrator: folio_ref_count (__migrate_folio)",
      "migrator: folio_mc_copy",
      "holder: folio_try_get",
      "migrator: __folio_migrate_mapping",
    ]);
    expect(events(r, "migrate_refcount_mismatch")).toEqual([]);
    expect(r.counters.migrate_retry ?? 0).toBe(0);
    expect(mapped(w)).not.toBe(w.folio);
    const freed = events(r, "mm_page_free", w.folio.name)[0];
    expect(freed.t).toBeGreaterThan(50_000_000);
  });
});

describe("migrate_folio_undo_src / _dst", () => {
  it.each([
    ["anonymous", false, { map: 1 }],
    ["shmem", true, { map: 1, pagecache: 1 }],
  ] as const)("a failed %s migration restores the PTE, unlocks, frees the destination; after putback and a drain the folio is as it started", (_kind, shmem, holders) => {
    const w = world({ shmem });
    const start = snapFolio(w.folio);
    // try_to_migrate_one moves the PTE's dirty bit into PG_dirty (a shmem folio has it already from its write fault).
    const dirtied = formatFlags(w.folio.flags | PG.dirty);
    expect(start.holders).toEqual(holders);
    const freeBefore = w.memory.freePages();
    let inside!: { rc: number; folio: ReturnType<typeof snapFolio>; locked: boolean; ptes: string[]; pte: Folio | null };
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 50_000_000); } });
    w.m.spawn({
      name: "migrator",
      cpu: 1,
      *body() {
        yield* sleepNs(20_000);
        const list: Folio[] = [];
        yield* isolate(w.folio, list);
        const rc = yield* migratePages(list, allocMigrationTarget(w.memory, "MR_SYSCALL"), null, "MIGRATE_SYNC", "MR_SYSCALL");
        // Between migrate_pages and putback_movable_pages: still isolated, nothing else left behind.
        inside = { rc, folio: snapFolio(w.folio), locked: w.folio.lock.locked, ptes: pteKinds(w), pte: mapped(w) };
        yield* putbackMovablePages(list);
        yield* lruAddDrain();
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(inside.rc).toBe(1);
    expect(inside.locked).toBe(false);
    expect(inside.ptes).toEqual(["present"]);
    expect(inside.pte).toBe(w.folio);
    expect(inside.folio).toEqual({ ...start, ref: start.ref + 2, flags: without(dirtied, "lru"), holders: { ...holders, isolated: 1, transient: 1 } });
    // The holder's reference is gone too by the end: the folio is as it started (but dirty).
    expect(snapFolio(w.folio)).toEqual({ ...start, flags: dirtied });
    expect(w.folio.lruList).toBe("inactive_anon");
    expect(w.memory.freePages()).toEqual(freeBefore);
    // Two destinations were allocated (async stage, sync stage) and both freed unused.
    expect(events(r, "mm_page_alloc").map((e) => e.name)).toEqual(events(r, "mm_page_free").map((e) => e.name));
    expect(events(r, "mm_page_alloc")).toHaveLength(2);
  });
});

describe("alloc_migration_target: MR_LONGTERM_PIN", () => {
  it.each([
    ["ZONE_MOVABLE", { Movable: 8, Normal: 32 }, "Movable"],
    ["CMA", { CMA: 8, Normal: 32 }, "CMA"],
  ] as const)("a folio in %s moves to ZONE_NORMAL memory that may be pinned; MR_SYSCALL stays movable", (_where, memory, region) => {
    for (const [reason, expectRegion, pinnable] of [
      ["MR_LONGTERM_PIN", "Normal", true],
      ["MR_SYSCALL", region, false],
    ] as const) {
      const w = world({ memory });
      expect(folioIsLongtermPinnable(w.folio)).toBe(false);
      let out!: Migrated;
      w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", reason); } });
      const r = run(w);
      expect(out).toEqual({ rc: 0, left: 0 });
      const dst = mapped(w)!;
      expect(events(r, "mm_page_alloc").map((e) => (e.args as { zone: string }).zone)).toEqual([expectRegion]);
      expect(folioIsLongtermPinnable(dst)).toBe(pinnable);
      expect(dst.migratetype).toBe(region === "CMA" && !pinnable ? "CMA" : "MOVABLE");
    }
  });

  it("with no pinnable memory left the destination allocation fails: -ENOMEM, and the folio is left on the list, mapped", () => {
    const w = world({ memory: { Movable: 8 } });
    let out!: Migrated;
    w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: ENOMEM, left: 1 });
    expect(events(r, "mm_page_alloc_fail").map((e) => e.args)).toEqual([{ movable: false, order: 0 }]);
    expect(events(r, "mm_page_alloc")).toHaveLength(0);
    expect(r.counters.migrate_retry ?? 0).toBe(0);
    expect(mapped(w)).toBe(w.folio);
    expect(events(r, "mm_migrate_pages")[0].args).toEqual({ failed: 1, rc: ENOMEM, mode: "MIGRATE_SYNC", reason: "MR_LONGTERM_PIN" });
  });
});

describe("migrate_pages: return values (reference §5.2)", () => {
  it("an empty list returns 0 without allocating", () => {
    const w = world();
    let rc = -1;
    w.m.spawn({ name: "migrator", cpu: 1, *body() { rc = yield* migratePages([], allocMigrationTarget(w.memory, "MR_SYSCALL"), null, "MIGRATE_SYNC", "MR_SYSCALL"); } });
    const r = run(w);
    expect(rc).toBe(0);
    expect(r.counters.folio_alloc ?? 0).toBe(0);
    expect(events(r, "mm_migrate_pages")[0].args).toEqual({ failed: 0, rc: 0, mode: "MIGRATE_SYNC", reason: "MR_SYSCALL" });
  });

  it.each([
    [[false, false], 0],
    [[true, false], 1],
    [[false, true], 1],
    [[true, true], 2],
    [[true, true, true], 3],
  ])("of folios held %j, the number that did not migrate: %i", (held, failed) => {
    const w = world({ shmem: true, pages: held.length, cpus: 3 });
    let out!: Migrated;
    held.forEach((h, i) => {
      if (h) w.m.spawn({ name: `holder${i}`, cpu: 2, *body() { yield* holdReference(w.folios[i], 50_000_000); } });
    });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_SYSCALL", w.folios); } });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: failed, left: failed });
    expect(r.counters.migrate_retry ?? 0).toBe(10 * failed);
    held.forEach((h, i) => expect(mapped(w, w.addrs[i]) === w.folios[i]).toBe(h));
  });

  it("a folio whose other references all went while it was isolated is freed, counted as migrated, with no destination", () => {
    const w = world();
    let out!: { rc: number; left: number; ref: number };
    w.m.spawn({
      name: "migrator",
      cpu: 1,
      *body() {
        const list: Folio[] = [];
        yield* isolate(w.folio, list);
        yield* munmap(w.mm, w.addr, PAGE_SIZE); // the last mapping goes: only the isolation reference is left
        const ref = w.folio.refcount;
        const rc = yield* migratePages(list, allocMigrationTarget(w.memory, "MR_SYSCALL"), null, "MIGRATE_SYNC", "MR_SYSCALL");
        out = { rc, left: list.length, ref };
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0, ref: 1 });
    expect(w.folio.state).toBe("free");
    expect(r.counters.folio_alloc ?? 0).toBe(0);
  });

  it("PG_writeback under MIGRATE_ASYNC is -EBUSY: a permanent failure, not retried", () => {
    const w = world({ shmem: true });
    let out!: Migrated;
    w.m.spawn({
      name: "migrator",
      cpu: 1,
      *body() {
        yield* folioSetFlag(w.folio, "writeback");
        out = yield* isolateMigratePutback(w, "MIGRATE_ASYNC");
        yield* folioClearFlag(w.folio, "writeback");
      },
    });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry ?? 0).toBe(0);
    expect([r.counters.folio_alloc, r.counters.folio_freed]).toEqual([1, 1]);
    expect(mapped(w)).toBe(w.folio);
  });
});

describe("large folios: folio_expected_refs for nr > 1", () => {
  it("an order-2 memfd folio mapped whole migrates: the new folio takes the 4 cache and 4 mapping references, the old one is freed", () => {
    const w = world({ shmem: true, pages: 4, order: 2 });
    expect([w.folio.order, w.folio.refcount, w.folio.mapcount]).toEqual([2, 8, 4]);
    let out!: Migrated;
    w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 0, left: 0 });
    const nu = mapped(w)!;
    expect(nu).not.toBe(w.folio);
    expect([nu.order, nu.refcount, nu.pincount, nu.mapcount, nu.holderCount("pagecache"), nu.holderCount("map")]).toEqual([2, 8, 0, 4, 4, 4]);
    expect(w.addrs.map((a) => mapped(w, a))).toEqual([nu, nu, nu, nu]);
    expect(w.folio.state).toBe("free");
    expect(events(r, "migrate_refcount_mismatch")).toEqual([]);
  });

  it("one transient reference on it fails every move pass: _refcount 6 where 4 cache + 1 isolation = 5 are expected", () => {
    const w = world({ shmem: true, pages: 4, order: 2 });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 1_000_000_000); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 1, left: 1 });
    const mismatches = events(r, "migrate_refcount_mismatch");
    expect(mismatches).toHaveLength(10);
    expect(new Set(mismatches.map((e) => JSON.stringify({ count: (e.args as { count: number }).count, expected: (e.args as { expected: number }).expected })))).toEqual(new Set([JSON.stringify({ count: 6, expected: 5 })]));
    expect(mapped(w)).toBe(w.folio);
    expect([w.folio.refcount, w.folio.mapcount]).toEqual([8, 4]);
  });
});

// Every folio word a step reads is in its footprint, or a complete DPOR run would not
// order it against the writers of that word.
describe("footprints of the move stage", () => {
  it("__migrate_folio's reference check reads the flags word (PG_swapcache, PG_private) beside the count and the mapping; folio_mc_copy reads the source's contents", () => {
    const w = world({ shmem: true });
    w.m.spawn({ name: "migrator", cpu: 0, *body() { yield* isolateMigratePutback(w, "MIGRATE_ASYNC"); } });
    const steps: { label: string; reads: string[]; writes: string[] }[] = [];
    for (let c = w.m.candidates(); c.length > 0; c = w.m.candidates()) {
      const op = c[0].op;
      steps.push({ label: op.label ?? op.kind, reads: op.reads.map((s) => s.name), writes: op.writes.map((s) => s.name) });
      w.m.step(0);
    }
    const src = w.folio.name;
    expect(steps.find((s) => s.label === "folio_ref_count (__migrate_folio)")!.reads).toEqual([`${src} _refcount`, `${src} mapping`, `${src} flags`]);
    expect(steps.find((s) => s.label === "folio_mc_copy")!.reads).toContain(`${src} flags`);
  });
});
