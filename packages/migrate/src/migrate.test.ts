import { describe, expect, it } from "vitest";
import { folioExpectedRefCount, folioTryGet, folioPut, formatFlags, PhysicalMemory, type Folio } from "@foliosim/folio";
import { folioIsolateLru, lruAddDrainAll, whereIs } from "@foliosim/lru";
import { createMm, getPte, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, memfdCreate, mmap, PROT_READ, PROT_WRITE, touch } from "@foliosim/mm";
import { Machine, sleepNs, TimedChooser, type TaskGen } from "@foliosim/sim";
import { allocMigrationTarget, migratePages, putbackMovablePages, type MigrateMode } from "./index.js";

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
