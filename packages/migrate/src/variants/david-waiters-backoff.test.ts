// David Hildenbrand's back-off (seed 001; reference §10.3, §12.5), in isolation: only a
// move-stage -EAGAIN on a folio with PG_waiters undoes it. As he wrote it the folio goes
// to ret_folios and only migrate_pages_sync's caller-side retry brings it back; the
// in-batch variation sends it through the same batch's remaining unmap passes.
import { describe, expect, it } from "vitest";
import { sleepNs, type RunResult } from "@foliosim/sim";
import type { MigrateMode } from "../index.js";
import { events, lockTimeline as lockTimelineOf, holdReference, isolateMigratePutback, lockWaiter, ops, run, world, type Migrated, type World } from "../testing.js";

const lockTimeline = (w: World, r: RunResult) => lockTimelineOf(w, r, "migrate_waiters_backoff");

/** A reader sleeps on the folio lock holding a reference (from 3 us) while the migrator (from 1 us) migrates. */
function withWaiter(migrate: string, mode: MigrateMode) {
  const w = world({ shmem: true, kernel: { migrate } });
  let out!: Migrated;
  w.m.spawn({ name: "reader", cpu: 0, *body() { yield* lockWaiter(w.folio, 3_000); } });
  w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(1_000); out = yield* isolateMigratePutback(w, mode); } });
  const r = run(w);
  expect(r.status).toBe("done");
  return { w, r, out };
}

const BACK_OFF = [
  "migrator: folio_trylock",
  "reader: block folio_lock", // PG_waiters is set from here on
  "migrator: migrate_refcount_mismatch",
  "migrator: folio_unlock", // the back-off's undo hands the lock to the reader
  "reader: wake folio_lock",
  "migrator: migrate_waiters_backoff",
];

describe("david-waiters-backoff, as David wrote it", () => {
  it("MIGRATE_SYNC: the async batch gives the folio up to ret_folios; migrate_pages_sync's one-by-one sync stage sleeps for the lock and migrates", () => {
    const { w, r, out } = withWaiter("david-waiters-backoff", "MIGRATE_SYNC");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(lockTimeline(w, r)).toEqual([
      ...BACK_OFF,
      // No further async unmap pass: the folio is on ret_folios. The sync stage:
      "migrator: folio_trylock",
      "migrator: block folio_lock",
      "reader: folio_unlock",
      "migrator: wake folio_lock",
      "migrator: folio_unlock",
    ]);
    // The one move-stage -EAGAIN; the sync stage migrates in its first pass.
    expect(r.counters.migrate_retry).toBe(1);
    expect(ops(r, (l) => l === `folio_test_waiters`)).toEqual(["folio_test_waiters"]);
    expect(w.folio.state).toBe("free");
  });

  it("MIGRATE_ASYNC: nobody retries a folio on ret_folios — one -EAGAIN, the back-off, and migration fails", () => {
    const { w, r, out } = withWaiter("david-waiters-backoff", "MIGRATE_ASYNC");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(lockTimeline(w, r)).toEqual([...BACK_OFF, "reader: folio_unlock"]);
    expect(r.counters.migrate_retry).toBe(1);
    expect(events(r, "migrate_waiters_backoff").map((e) => e.name)).toEqual([w.folio.name]);
    expect(w.folio.state).toBe("allocated");
  });
});

describe("a second lock waiter during migrate_pages_sync's one-by-one stage", () => {
  /** The reader of `withWaiter`, and a second one that takes its reference and sleeps on the lock 10 us in, while the sync stage holds it. */
  function twoWaiters(migrate: string) {
    const w = world({ shmem: true, cpus: 3, kernel: { migrate } });
    let out!: Migrated;
    w.m.spawn({ name: "reader", cpu: 0, *body() { yield* lockWaiter(w.folio, 3_000); } });
    w.m.spawn({ name: "reader2", cpu: 2, *body() { yield* sleepNs(10_000); yield* lockWaiter(w.folio, 0); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(1_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC"); } });
    const r = run(w);
    expect(r.status).toBe("done");
    return { r, out };
  }

  it("as David wrote it, the sync stage's back-off is final: the folio stays on ret_folios and migration fails", () => {
    const { r, out } = twoWaiters("david-waiters-backoff");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(events(r, "migrate_waiters_backoff")).toHaveLength(2);
    expect(r.counters.migrate_retry).toBe(2);
  });

  it("the in-batch variation retries within the sync stage's passes and migrates", () => {
    const { r, out } = twoWaiters("david-waiters-backoff-inbatch");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(events(r, "migrate_waiters_backoff")).toHaveLength(2);
    expect(r.counters.migrate_retry).toBe(4);
  });

  it("mainline: ten -EAGAIN passes, then failure", () => {
    const { r, out } = twoWaiters("mainline");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(10);
  });
});

describe("david-waiters-backoff-inbatch (a variation of the proposal)", () => {
  it("MIGRATE_SYNC: backs off after the first failed move pass and retries in the same batch's unmap passes", () => {
    const { w, r, out } = withWaiter("david-waiters-backoff-inbatch", "MIGRATE_SYNC");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(lockTimeline(w, r)).toEqual([
      ...BACK_OFF,
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
    // One move-stage -EAGAIN and the two unmap-stage trylock failures.
    expect(r.counters.migrate_retry).toBe(3);
    expect(w.folio.state).toBe("free");
  });

  it("MIGRATE_ASYNC: the nine unmap passes left each find the reader holding the lock, and migration fails", () => {
    const { w, r, out } = withWaiter("david-waiters-backoff-inbatch", "MIGRATE_ASYNC");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(lockTimeline(w, r)).toEqual([...BACK_OFF, ...Array(9).fill("migrator: folio_trylock"), "reader: folio_unlock"]);
    expect(r.counters.migrate_retry).toBe(10);
  });
});

describe.each(["david-waiters-backoff", "david-waiters-backoff-inbatch"])("%s without waiters", (migrate) => {
  it.each(["MIGRATE_SYNC", "MIGRATE_ASYNC"] as const)("a reference held, nobody on the lock, %s: mainline's steps plus a folio_test_waiters per move-stage -EAGAIN", (mode: MigrateMode) => {
    const results = ["mainline", migrate].map((m) => {
      const w = world({ shmem: true, kernel: { migrate: m } });
      let out!: Migrated;
      w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 50_000_000); } });
      w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, mode); } });
      return { r: run(w), out };
    });
    const [mainline, david] = results;
    expect(david.out).toEqual({ rc: 1, left: 1 });
    expect(david.r.counters.migrate_retry).toBe(10);
    expect(events(david.r, "migrate_waiters_backoff")).toHaveLength(0);
    expect(ops(david.r, (l) => l === "folio_test_waiters")).toHaveLength(10);
    expect(ops(david.r, (l) => l !== "folio_test_waiters")).toEqual(ops(mainline.r, () => true));
    expect({ ...david.r.counters, steps: david.r.counters.steps - 10 }).toEqual(mainline.r.counters);
  });
});
