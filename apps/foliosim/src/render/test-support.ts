/**
 * Test support for the trace writers: a small deterministic program on the simulated
 * machine that exercises every event the writers render, and golden-file comparison
 * (`FOLIOSIM_UPDATE_GOLDEN=1` rewrites the files).
 *
 * The program is a migration-vs-GUP race in miniature, with page_ref events emitted
 * by hand (this app does not depend on @foliosim/folio): `gup_test` on CPU0 pins folio
 * 0x9f83a8, queues and flushes an LRU drain on CPU1 and sends CPU1 an IPI; `migrate`
 * on CPU1 takes a reference, tries to freeze the count at the expected value and
 * reports a model error when the pin makes it fail.
 */

import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Cell,
  Completion,
  Machine,
  ModelError,
  SeededChooser,
  SpinLock,
  Work,
  complete,
  flushWork,
  op,
  queueWorkOn,
  smpCallFunctionSingle,
  spinLock,
  spinUnlock,
  traced,
  waitForCompletion,
  type RunResult,
  type TaskGen,
} from "@foliosim/sim";
import { buildStarvation } from "@foliosim/sim/test";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "__fixtures__");

/** Compare `actual` with `__fixtures__/<name>`; rewrite it when FOLIOSIM_UPDATE_GOLDEN=1. */
export function golden(name: string, actual: string): { expected: string; path: string } {
  const path = join(FIXTURES, name);
  if (process.env.FOLIOSIM_UPDATE_GOLDEN === "1") {
    mkdirSync(FIXTURES, { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`missing golden file ${path}: run the tests with FOLIOSIM_UPDATE_GOLDEN=1 to create it`);
  return { expected: readFileSync(path, "utf8"), path };
}

/** A folio reduced to what the page_ref tracepoints print. */
export interface FakeFolio {
  readonly pfn: number;
  count: number;
  /** folio_mapcount (the tracepoint prints it minus one). */
  mapcount: number;
  flags: string;
  readonly ref: Cell<number>;
}

export function fakeFolio(pfn: number, count = 1, mapcount = 0, flags = "uptodate|lru"): FakeFolio {
  return { pfn, count, mapcount, flags, ref: new Cell(`folio 0x${pfn.toString(16)}._refcount`, count) };
}

function name(f: FakeFolio): string {
  return `folio 0x${f.pfn.toString(16)}`;
}

function args(f: FakeFolio, val: number, ret?: number): Record<string, unknown> {
  const a: Record<string, unknown> = {
    pfn: `0x${f.pfn.toString(16)}`,
    flags: f.flags,
    count: f.count,
    mapcount: f.mapcount - 1,
    mapping: "00000000c0ffee42",
    mt: 1,
    val,
  };
  if (ret !== undefined) a.ret = ret;
  return a;
}

/** `page_ref_mod` (+n, e.g. 1024 for a pin) or `page_ref_mod_and_test` (negative n). */
export function* refMod(f: FakeFolio, n: number, label: string): TaskGen<void> {
  yield* op({
    kind: "ref_mod",
    label,
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      f.count += n;
      f.ref.value = f.count;
      m.markWrite(f.ref);
      if (n < 0) m.emit("page_ref_mod_and_test", name(f), args(f, n, f.count === 0 ? 1 : 0));
      else m.emit("page_ref_mod", name(f), args(f, n));
    },
  });
}

export function* tryGet(f: FakeFolio, label = "folio_try_get"): TaskGen<boolean> {
  return yield* op({
    kind: "try_get",
    label,
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      if (f.count === 0) {
        m.emit("page_ref_mod_unless", name(f), args(f, 1, 0));
        return false;
      }
      f.count++;
      f.ref.value = f.count;
      m.markWrite(f.ref);
      m.emit("page_ref_mod_unless", name(f), args(f, 1, 1));
      return true;
    },
  });
}

export function* freeze(f: FakeFolio, expected: number): TaskGen<boolean> {
  return yield* op({
    kind: "freeze",
    label: "folio_ref_freeze",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      const ok = f.count === expected;
      if (ok) {
        f.count = 0;
        m.markWrite(f.ref);
      }
      m.emit("page_ref_freeze", name(f), args(f, expected, ok ? 1 : 0));
      return ok;
    },
  });
}

export function* unfreeze(f: FakeFolio, count: number): TaskGen<void> {
  yield* op({
    kind: "unfreeze",
    label: "folio_ref_unfreeze",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      f.count = count;
      m.markWrite(f.ref);
      m.emit("page_ref_unfreeze", name(f), args(f, count));
    },
  });
}

/** The race in miniature (see the file comment). */
export function raceProgram(m: Machine): void {
  const folio = fakeFolio(0x9f83a8, 1, 1);
  const lock = new SpinLock("lruvec->lru_lock");
  const pinned = new Completion("pinned");
  m.emit("mm_page_alloc", name(folio), { pfn: "0x9f83a8", order: 0, zone: "Normal", migratetype: "MOVABLE" });
  const drain = new Work("lru_add_drain_work/1", function* () {
    yield* traced(
      "lru_add_drain_per_cpu",
      (function* () {
        yield* spinLock(lock);
        yield* op({
          kind: "lru_move",
          label: "lruvec_add_folio",
          writes: [folio.ref],
          run: (mm) => mm.emit("lru_move", name(folio), { list: "inactive_anon", "nr pages": 1 }),
        });
        yield* spinUnlock(lock);
      })(),
    );
  });
  m.spawn({
    name: "gup_test",
    cpu: 0,
    *body() {
      yield* traced(
        "pin_user_pages",
        (function* () {
          yield* traced("try_grab_folio", refMod(folio, 1024, "try_grab_folio"));
          yield* smpCallFunctionSingle(1, (mm) => mm.count("mlock_drained"), "mlock_drain_remote");
          yield* complete(pinned);
          yield* traced(
            "lru_add_drain_all",
            (function* () {
              yield* queueWorkOn(1, drain);
              yield* flushWork(drain);
            })(),
          );
        })(),
      );
      yield* traced("unpin_user_page", refMod(folio, -1024, "gup_put_folio"));
    },
  });
  m.spawn({
    name: "migrate_pages_test",
    cpu: 1,
    *body() {
      yield* waitForCompletion(pinned);
      yield* traced(
        "migrate_pages",
        (function* () {
          const got = yield* traced("folio_isolate_lru", tryGet(folio));
          if (!got) return;
          yield* traced(
            "folio_migrate_mapping",
            (function* () {
              const ok = yield* freeze(folio, 2);
              const seen = folio.count;
              if (ok) {
                yield* unfreeze(folio, 2);
                return;
              }
              yield* op({
                kind: "check",
                label: "folio_migrate_mapping",
                reads: [folio.ref],
                run: () => {
                  throw new ModelError("folio_migrate_mapping", name(folio), `expected 2 references, found ${seen}: a longterm pin holds the folio`);
                },
              });
            })(),
          );
        })(),
      );
    },
  });
}

/** One run of the race with a seeded chooser. */
export function runRace(seed = 7): RunResult {
  const m = new Machine({ cpus: 2, preemption: "full" });
  raceProgram(m);
  return m.run(new SeededChooser(seed));
}

/** A run whose trace has about `events` events: two tasks churning on a folio (for size limits). */
export function runBig(events = 10_000, seed = 1): RunResult {
  const m = new Machine({ cpus: 2, preemption: "full", maxSteps: 1_000_000 });
  const folio = fakeFolio(0x1000, 2, 0);
  const iterations = Math.ceil(events / 10);
  for (let cpu = 0; cpu < 2; cpu++) {
    m.spawn({
      name: cpu === 0 ? "get_put_loop" : "end; # <loop>",
      cpu,
      *body() {
        for (let i = 0; i < iterations; i++) {
          yield* traced(
            i % 2 === 0 ? "folio_get_put" : "end",
            (function* () {
              yield* refMod(folio, 1, "folio_get");
              yield* refMod(folio, -1, "folio_put");
            })(),
          );
        }
      },
    });
  }
  return m.run(new SeededChooser(seed));
}

/** A run that deadlocks: a flush of work that never gets queued. */
export function runHang(): RunResult {
  const m = new Machine({ cpus: 2 });
  const never = new Completion("never_completed");
  const folio = fakeFolio(0x2000, 1, 0);
  m.spawn({
    name: "waiter",
    cpu: 0,
    *body() {
      yield* traced(
        "wait_on_page_writeback",
        (function* () {
          yield* refMod(folio, 1, "folio_get");
          yield* waitForCompletion(never);
        })(),
      );
    },
  });
  m.spawn({
    name: "putter",
    cpu: 1,
    *body() {
      yield* refMod(folio, -1, "folio_put");
    },
  });
  return m.run(new SeededChooser(3));
}

/**
 * The livelock of seeds 002/003 in miniature (@foliosim/sim's starvation program): A
 * (CPU0) holds a bit lock and flushes a drain queued on CPU1; B (SCHED_FIFO, CPU1) spins
 * on a trylock of that lock, so the kworker on CPU1 never runs. Ends at the step cap
 * (or as the machine's livelock).
 */
export function runLivelock(maxSteps = 3000): RunResult {
  return buildStarvation("fifo", "full", "spin", { machine: { maxSteps } }).run(new SeededChooser(1));
}
