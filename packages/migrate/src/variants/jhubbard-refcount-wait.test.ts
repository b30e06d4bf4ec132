// John Hubbard's RFC (reference §10.2, §12.4), in isolation: the static key's patching
// (counted users) and the bounded wait for the refcount between move passes.
import { describe, expect, it } from "vitest";
import { folioLock, folioPut, folioTryGet, folioUnlock } from "@foliosim/folio";
import { sleepNs, staticKeyEnabled, TimedChooser, type Chooser, type RunResult, type TaskGen } from "@foliosim/sim";
import { folioPutWakeupKey, REFCOUNT_WAIT_TIMEOUT_NS, type MigrateReason } from "../index.js";
import { events, holdReference, isolateMigratePutback, mapped, run, timeline, world, type Migrated, type World } from "../testing.js";

const KERNEL = { migrate: "jhubbard-refcount-wait" };
const PATCH = { sites: 500, batches: 2, ipiBroadcasts: 6 };

/** Who patched the key, and how. */
function patches(r: RunResult): string[] {
  return timeline(r, (e) => (e.type === "static_key" ? `${(e.args as { enabled: boolean }).enabled ? "enable" : "disable"} ${JSON.stringify({ ...e.args, enabled: undefined })}` : null));
}

/** The migrator's waits on `_refcount`: how each ended. */
function waits(w: World, r: RunResult): string[] {
  const label = `wait_var_event_timeout(${w.folio.name} _refcount)`;
  return timeline(r, (e) => (e.name === label && (e.type === "block" || e.type === "timer" || e.type === "wake") ? e.type : null));
}

describe("jhubbard-refcount-wait: folio_put_wakeup_key", () => {
  it("one MR_LONGTERM_PIN migrate_pages patches the key twice (enable, disable): 2 × 2 batches × 3 IPI rounds = 12 broadcasts", () => {
    const w = world({ kernel: KERNEL });
    let out!: Migrated;
    w.m.spawn({ name: "migrator", cpu: 1, *body() { out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 0, left: 0 });
    expect([r.counters.static_key_patch, r.counters.ipi_broadcast]).toEqual([2, 12]);
    const text = JSON.stringify({ ...PATCH, enabled: undefined });
    expect(patches(r)).toEqual([`migrator: enable ${text}`, `migrator: disable ${text}`]);
    expect(staticKeyEnabled(folioPutWakeupKey(w.m))).toBe(false);
    expect(waits(w, r)).toEqual([]); // nothing to wait for
  });

  it.each(["MR_SYSCALL", "MR_COMPACTION"] as const)("%s never touches the key", (reason: MigrateReason) => {
    const w = world({ kernel: KERNEL });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* isolateMigratePutback(w, "MIGRATE_SYNC", reason); } });
    const r = run(w);
    expect(r.counters.static_key_patch ?? 0).toBe(0);
    expect(r.counters.ipi_broadcast ?? 0).toBe(0);
  });

  /**
   * Two MR_LONGTERM_PIN migrations of two folios, each held by someone: A starts at
   * once (its folio released at 1.5 s), B at 0.5 s (released at 2.5 s).
   * `overlap` false: B starts only once A has finished.
   */
  function twoMigrations(overlap: boolean) {
    const w = world({ shmem: true, pages: 2, cpus: 4, kernel: KERNEL });
    const outs: Migrated[] = [];
    const bStart = overlap ? 500_000_000 : 3_000_000_000;
    w.m.spawn({ name: "holderA", cpu: 0, *body() { yield* holdReference(w.folios[0], 1_500_000_000); } });
    w.m.spawn({ name: "holderB", cpu: 0, *body() { yield* holdReference(w.folios[1], bStart + 2_000_000_000); } });
    w.m.spawn({ name: "A", cpu: 1, *body() { yield* sleepNs(20_000); outs[0] = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN", [w.folios[0]]); } });
    w.m.spawn({ name: "B", cpu: 2, *body() { yield* sleepNs(bStart); outs[1] = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN", [w.folios[1]]); } });
    const r = run(w);
    return { w, r, outs };
  }

  it("counted users: while A's migration is in progress B's pays no patching; only A's enable and B's (the last) disable patch", () => {
    const { r, outs } = twoMigrations(true);
    expect(r.status).toBe("done");
    expect(outs).toEqual([{ rc: 0, left: 0 }, { rc: 0, left: 0 }]);
    expect([r.counters.static_key_patch, r.counters.ipi_broadcast]).toEqual([2, 12]);
    expect(patches(r).map((p) => p.split(" {")[0])).toEqual(["A: enable", "B: disable"]);
  });

  it("the same two migrations one after the other patch four times", () => {
    const { r, outs } = twoMigrations(false);
    expect(outs).toEqual([{ rc: 0, left: 0 }, { rc: 0, left: 0 }]);
    expect([r.counters.static_key_patch, r.counters.ipi_broadcast]).toEqual([4, 24]);
    expect(patches(r).map((p) => p.split(" {")[0])).toEqual(["A: enable", "A: disable", "B: enable", "B: disable"]);
  });
});

describe("jhubbard-refcount-wait: waiting for the refcount between move passes", () => {
  function held(holdNs: number) {
    const w = world({ shmem: true, kernel: KERNEL });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, holdNs); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    const r = run(w);
    return { w, r, out };
  }

  it("a reference held longer than all the waits (11 s): every -EAGAIN waits HZ and times out, 10 of them, and the migration fails", () => {
    const { w, r, out } = held(11_000_000_000);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(10);
    expect(waits(w, r)).toEqual(Array.from({ length: 10 }, () => ["migrator: block", "migrator: timer", "migrator: wake"]).flat());
    // Ten waits of HZ: migrate_pages gives up 10 s into its run, before the holder lets go.
    const end = events(r, "mm_migrate_pages")[0];
    const start = events(r, "mm_migrate_pages_start")[0];
    expect(Math.floor((end.t - start.t) / REFCOUNT_WAIT_TIMEOUT_NS)).toBe(10);
    expect(mapped(w)).toBe(w.folio);
  });

  it("a reference dropped during a wait (at 1.5 s): folio_put wakes the waiter, the next pass migrates", () => {
    const { w, r, out } = held(1_500_000_000);
    expect(r.status).toBe("done");
    expect(out).toEqual({ rc: 0, left: 0 });
    expect(r.counters.migrate_retry).toBe(2);
    // The first wait times out (1 s); the second is ended by the holder's folio_put.
    expect(waits(w, r)).toEqual(["migrator: block", "migrator: timer", "migrator: wake", "migrator: block", "migrator: wake"]);
    const wake = r.trace.filter((e) => e.type === "wake" && e.name === `wait_var_event_timeout(${w.folio.name} _refcount)`)[1];
    const put = timeline(r, (e) => (e.step === wake.step && e.type === "op" ? e.name! : null));
    expect(put).toEqual(["holder: folio_put"]);
    expect(w.folio.state).toBe("free");
  });

  it("expected (folio_expected_ref_count + 1) is read in a step whose footprint names the words it reads, just before each wait", () => {
    const w = world({ shmem: true, kernel: KERNEL });
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 1_500_000_000); } });
    const migrator = w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    const chooser: Chooser = new TimedChooser(1);
    const steps: { label: string; reads: string[] }[] = [];
    for (let c = w.m.candidates(); c.length > 0; c = w.m.candidates()) {
      const i = c.length > 1 ? chooser.choose(c, w.m) : 0;
      if (c[i].task === migrator) steps.push({ label: c[i].op.label ?? c[i].op.kind, reads: c[i].op.reads.map((s) => s.name) });
      w.m.step(i);
    }
    const wait = `wait_var_event_timeout(${w.folio.name} _refcount)`;
    const before = steps.flatMap((s, i) => (s.label === wait && steps[i - 1].label !== wait && !steps[i - 1].label.startsWith("schedule") ? [steps[i - 1]] : []));
    expect(before).toEqual([0, 1].map(() => ({ label: "folio_expected_ref_count", reads: [`${w.folio.name} flags`, `${w.folio.name} mapping`] })));
  });

  it("without the RFC (mainline) the same 1.5 s reference makes the pin migration fail at once", () => {
    const w = world({ shmem: true, kernel: { migrate: "mainline" } });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* holdReference(w.folio, 1_500_000_000); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    const r = run(w);
    expect(out).toEqual({ rc: 1, left: 1 });
    expect(r.counters.migrate_retry).toBe(10);
    expect(r.counters.static_key_patch ?? 0).toBe(0);
  });
});

describe("jhubbard-refcount-wait: the third hunk, read as the same wait at the unmap-stage -EAGAIN", () => {
  /** A reader that takes a reference and holds the folio lock for `holdNs`, then unlocks and puts. */
  function* lockHolder(w: World, holdNs: number): TaskGen<void> {
    if (!(yield* folioTryGet(w.folio, "transient"))) return;
    yield* folioLock(w.folio);
    yield* sleepNs(holdNs);
    yield* folioUnlock(w.folio);
    yield* folioPut(w.folio, "transient");
  }

  function lockedFor(kernel: Record<string, string>, holdNs: number) {
    const w = world({ shmem: true, kernel });
    let out!: Migrated;
    w.m.spawn({ name: "holder", cpu: 0, *body() { yield* lockHolder(w, holdNs); } });
    w.m.spawn({ name: "migrator", cpu: 1, *body() { yield* sleepNs(20_000); out = yield* isolateMigratePutback(w, "MIGRATE_SYNC", "MR_LONGTERM_PIN"); } });
    return { w, r: run(w), out: () => out };
  }

  it("an async pass whose folio_trylock fails waits up to HZ for the holder's reference; the holder's folio_put at 1.5 s ends the second wait and the third pass migrates", () => {
    const { w, r, out } = lockedFor(KERNEL, 1_500_000_000);
    expect(r.status).toBe("done");
    expect(out()).toEqual({ rc: 0, left: 0 });
    expect(r.counters.migrate_retry).toBe(2);
    expect(waits(w, r)).toEqual(["migrator: block", "migrator: timer", "migrator: wake", "migrator: block", "migrator: wake"]);
    const wake = r.trace.filter((e) => e.type === "wake" && e.name === `wait_var_event_timeout(${w.folio.name} _refcount)`)[1];
    expect(timeline(r, (e) => (e.step === wake.step && e.type === "op" ? e.name! : null))).toEqual(["holder: folio_put"]);
    expect(w.folio.state).toBe("free");
  });

  it("mainline spends the three async passes at once (three failed trylocks, no wait), then sleeps in folio_lock in the one-by-one stage and migrates", () => {
    const { w, r, out } = lockedFor({ migrate: "mainline" }, 1_500_000_000);
    expect(r.status).toBe("done");
    expect(out()).toEqual({ rc: 0, left: 0 });
    expect(r.counters.migrate_retry).toBe(3);
    expect(waits(w, r)).toEqual([]);
  });
});
