// Dev Jain's early bail (reference §10.3, §12.5), in isolation: the unmap-stage check
// against the expected count, the undo it takes, and what that buys a task that holds
// a reference while it sleeps on the folio lock.
import { describe, expect, it } from "vitest";
import { sleepNs, type RunResult } from "@foliosim/sim";
import { events, lockTimeline as lockTimelineOf, holdReference, isolateMigratePutback, lockWaiter, mapped, ops, run, world, type Migrated, type World } from "../testing.js";

const lockTimeline = (w: World, r: RunResult) => lockTimelineOf(w, r, "migrate_early_bail");

/** Reference §12.5: the reader takes its reference at once and sleeps on the lock 3 us later; migration starts at 1 us. */
function s5(migrate: string) {
  const w = world({ shmem: true, kernel: { migrate } });
  let out!: Migrated;
  w.m.spawn({ name: "reader", cpu: 0, *body() { yield* lockWaiter(w.folio, 3_000); } });
  w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(1_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
  const r = run(w);
  return { w, r, out };
}

describe("devjain-early-bail", () => {
  it("bails in the unmap stage while the count is unexpected, unlocking the folio each time; the reader gets the lock between passes", () => {
    const { w, r, out } = s5("devjain-early-bail");
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(lockTimeline(w, r)).toEqual([
      "migrator: folio_trylock",
      "migrator: migrate_early_bail",
      "migrator: folio_unlock",
      "migrator: folio_trylock",
      "migrator: migrate_early_bail",
      "migrator: folio_unlock",
      "migrator: folio_trylock",
      "reader: block folio_lock",
      "migrator: migrate_early_bail",
      "migrator: folio_unlock", // handed to the reader, which was waiting
      "reader: wake folio_lock",
      "migrator: folio_trylock", // the sync stage: held by the reader, so sleep for it
      "migrator: block folio_lock",
      "reader: folio_unlock",
      "migrator: wake folio_lock",
      "migrator: folio_unlock", // migrated
    ]);
    // Each bail saw page cache + isolation expected, plus the reader's reference.
    expect(events(r, "migrate_early_bail").map((e) => e.args)).toEqual(Array(3).fill({ count: 3, expected: 2 }));
    expect(r.counters.migrate_retry).toBe(3);
    expect(w.folio.state).toBe("free");
  });

  it("mainline, same race: the move stage checks 3 times with the folio locked, and the reader runs only after the async stage's undo", () => {
    const { w, r, out } = s5("mainline");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(lockTimeline(w, r)).toEqual([
      "migrator: folio_trylock",
      "reader: block folio_lock",
      "migrator: migrate_refcount_mismatch",
      "migrator: migrate_refcount_mismatch",
      "migrator: migrate_refcount_mismatch",
      "migrator: folio_unlock",
      "reader: wake folio_lock",
      "migrator: folio_trylock",
      "migrator: block folio_lock",
      "reader: folio_unlock",
      "migrator: wake folio_lock",
      "migrator: folio_unlock",
    ]);
    expect(events(r, "migrate_early_bail")).toHaveLength(0);
  });

  it("a reference nobody drops: 10 bails (3 async + 7 sync), the move stage never runs, 1 failure", () => {
    const w = world({ shmem: true, kernel: { migrate: "devjain-early-bail" } });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 50_000_000); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(events(r, "migrate_early_bail")).toHaveLength(10);
    expect(r.counters.migrate_retry).toBe(10);
    expect(ops(r, (l) => l === "__folio_migrate_mapping" || l === "try_to_unmap_flush")).toEqual([]);
    // A destination per pass, each freed by the undo.
    expect([r.counters.folio_alloc, r.counters.folio_freed]).toEqual([10, 10]);
    expect(lockTimeline(w, r).filter((t) => t.startsWith("migrator"))).toEqual(
      Array.from({ length: 10 }, () => ["migrator: folio_trylock", "migrator: migrate_early_bail", "migrator: folio_unlock"]).flat(),
    );
    expect(mapped(w)).toBe(w.folio);
  });

  it("no unexpected reference: no bail, migrated in the first pass", () => {
    const w = world({ shmem: true, kernel: { migrate: "devjain-early-bail" } });
    let out!: Migrated;
    w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(events(r, "migrate_early_bail")).toHaveLength(0);
    expect(r.counters.migrate_retry ?? 0).toBe(0);
    expect(ops(r, (l) => l === "folio_ref_count (early bail check)")).toHaveLength(1);
  });
});
