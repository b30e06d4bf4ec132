// David Hildenbrand's back-off (reference §10.3, §12.5), in isolation: only a move-stage
// -EAGAIN on a folio with PG_waiters undoes it; without waiters nothing changes.
import { describe, expect, it } from "vitest";
import { sleepNs, type RunResult } from "@foliosim/sim";
import type { MigrateMode } from "../index.js";
import { events, lockTimeline as lockTimelineOf, holdReference, isolateMigratePutback, lockWaiter, run, world, type Migrated, type World } from "../testing.js";

const lockTimeline = (w: World, r: RunResult) => lockTimelineOf(w, r, "migrate_waiters_backoff");

describe("david-waiters-backoff", () => {
  it("with a waiter on the folio lock: backs off after the first failed move pass, and the waiter runs", () => {
    const w = world({ shmem: true, kernel: { migrate: "david-waiters-backoff" } });
    let out!: Migrated;
    w.m.spawn({ name: "reader", cpu: 0, *body() { yield* lockWaiter(w.folio, 3_000); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(1_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(lockTimeline(w, r)).toEqual([
      "migrator: folio_trylock",
      "reader: block folio_lock", // PG_waiters is set from here on
      "migrator: migrate_refcount_mismatch",
      "migrator: folio_unlock", // the back-off's undo hands the lock to the reader
      "reader: wake folio_lock",
      "migrator: migrate_waiters_backoff",
      // Back through the unmap stage: the 2 async passes left find the folio locked by the reader.
      "migrator: folio_trylock",
      "migrator: folio_trylock",
      // The sync stage sleeps for it.
      "migrator: folio_trylock",
      "migrator: block folio_lock",
      "reader: folio_unlock",
      "migrator: wake folio_lock",
      "migrator: folio_unlock",
    ]);
    expect(events(r, "migrate_waiters_backoff").map((e) => e.name)).toEqual([w.folio.name]);
    // One move-stage -EAGAIN and the two unmap-stage trylock failures.
    expect(r.counters.migrate_retry).toBe(3);
    expect(w.folio.state).toBe("free");
  });

  it.each(["MIGRATE_SYNC", "MIGRATE_ASYNC"] as const)("without waiters (a reference held, nobody on the lock), %s runs exactly as mainline", (mode: MigrateMode) => {
    const results = ["mainline", "david-waiters-backoff"].map((migrate) => {
      const w = world({ shmem: true, kernel: { migrate } });
      let out!: Migrated;
      w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 50_000_000); } });
      w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, mode); } });
      const r = run(w);
      return { r, out };
    });
    const [mainline, david] = results;
    expect(david.out).toEqual({ rc: 1, left: 1 });
    expect(david.r.counters.migrate_retry).toBe(10);
    expect(events(david.r, "migrate_waiters_backoff")).toHaveLength(0);
    expect(david.r.traceHash).toBe(mainline.r.traceHash);
    expect(david.r.counters).toEqual(mainline.r.counters);
  });
});
