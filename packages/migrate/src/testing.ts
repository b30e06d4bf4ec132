/**
 * Test support (not exported from the package): one user page faulted in and settled,
 * the memory-model invariants checked after every step, the callers `migrate_pages`
 * has in the kernel (isolate, migrate, put back), and the other tasks of the seed
 * scenarios — a transient reference holder (reference §12.4) and a reader that holds a
 * reference while it sleeps on the folio lock (§12.5).
 */

import { folioLock, folioPut, folioTryGet, folioUnlock, PhysicalMemory, type Folio, type MemorySpec } from "@foliosim/folio";
import { folioIsolateLru, lruAddDrainAll } from "@foliosim/lru";
import {
  createMm,
  getPte,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  memfdCreate,
  PAGE_SIZE,
  mmap,
  mmInvariants,
  PROT_READ,
  PROT_WRITE,
  touch,
  type MmStruct,
  type Pte,
} from "@foliosim/mm";
import { Machine, sleepNs, TimedChooser, type Chooser, type RunResult, type TaskGen, type TraceEvent } from "@foliosim/sim";
import { allocMigrationTarget, migratePages, putbackMovablePages, type MigrateMode, type MigrateReason } from "./index.js";

export interface World {
  m: Machine;
  memory: PhysicalMemory;
  mm: MmStruct;
  /** The faulted-in folio, mapped once at `addr`, on the LRU, in no batch. */
  folio: Folio;
  addr: number;
  /** Every faulted-in folio (`folios[0]` is `folio`), page i mapped at `addrs[i]`. */
  folios: Folio[];
  addrs: number[];
  /** Trace events of the set-up (not part of `run`'s result). */
  setupEvents: number;
}

export interface WorldOptions {
  /** A shared memfd page (page cache + one PTE) instead of a private anonymous one. */
  shmem?: boolean;
  kernel?: Record<string, string | boolean | number>;
  memory?: MemorySpec;
  cpus?: number;
  /** Pages to map and fault in (default 1). */
  pages?: number;
  /** With `shmem`: the memfd's mTHP order (its first fault maps a whole folio of this order). */
  order?: number;
}

/** Pages faulted in on CPU0 and every batch drained; invariants checked after every later step. */
export function world(options: WorldOptions = {}): World {
  const pages = options.pages ?? 1;
  const m = new Machine({ cpus: options.cpus ?? 2, kernel: { migrate: "mainline", ...options.kernel } });
  const memory = new PhysicalMemory(options.memory ?? { Movable: 8, Normal: 32 });
  const mm = createMm(m, { memory, name: "p0" });
  const file = options.shmem ? memfdCreate(m, { memory, name: "memfd", sizePages: Math.max(4, pages), folioOrder: options.order ?? 0 }) : undefined;
  const folios: Folio[] = [];
  const addrs: number[] = [];
  m.spawn({
    name: "setup",
    cpu: 0,
    *body() {
      const base = yield* mmap(mm, { length: pages * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: file ? MAP_SHARED : MAP_ANONYMOUS | MAP_PRIVATE, file });
      for (let i = 0; i < pages; i++) {
        addrs.push(base + i * PAGE_SIZE);
        folios.push(yield* touch(mm, base + i * PAGE_SIZE, true));
      }
      yield* lruAddDrainAll();
    },
  });
  m.settle(new TimedChooser(0, 0));
  m.addInvariant("mm", (mm) => mmInvariants(mm, memory.allFolios()));
  return { m, memory, mm, folio: folios[0], addr: addrs[0], folios, addrs, setupEvents: m.trace.events.length };
}

/** Run everything spawned since the set-up (seeded, earliest-first): the result's trace starts after the set-up. */
export function run(w: World, chooser: Chooser = new TimedChooser(1)): RunResult {
  const r = w.m.run(chooser);
  return { ...r, trace: r.trace.slice(w.setupEvents) };
}

/** `flags` (as `formatFlags` prints them) without `flag`. */
export function without(flags: string, flag: string): string {
  return flags
    .split("|")
    .filter((f) => f !== flag)
    .join("|");
}

export interface Migrated {
  /** `migrate_pages`' return value. */
  rc: number;
  /** Folios left on the list for `putback_movable_pages`. */
  left: number;
}

/** Isolate `folio` as a kernel caller does (a transient reference around `folio_isolate_lru`). */
export function* isolate(folio: Folio, list: Folio[]): TaskGen<void> {
  if (!(yield* folioTryGet(folio, "transient"))) return;
  if (yield* folioIsolateLru(folio)) list.push(folio);
  yield* folioPut(folio, "transient");
}

/** Isolate, `migrate_pages`, put back what is left. */
export function* isolateMigratePutback(w: World, mode: MigrateMode, reason: MigrateReason = "MR_SYSCALL", folios: Folio[] = [w.folio]): TaskGen<Migrated> {
  const list: Folio[] = [];
  for (const f of folios) yield* isolate(f, list);
  const rc = yield* migratePages(list, allocMigrationTarget(w.memory, reason), null, mode, reason);
  const left = list.length;
  yield* putbackMovablePages(list);
  return { rc, left };
}

/** Take a reference (a speculative lookup), keep it `holdNs`, drop it: reference §12.4. */
export function* holdReference(folio: Folio, holdNs: number): TaskGen<void> {
  if (!(yield* folioTryGet(folio, "transient"))) return;
  yield* sleepNs(holdNs);
  yield* folioPut(folio, "transient");
}

/**
 * Take a reference, `delayNs` later lock the folio — sleeping on it (PG_waiters) while
 * migration holds it — then unlock and drop the reference: reference §12.5.
 */
export function* lockWaiter(folio: Folio, delayNs = 0): TaskGen<void> {
  if (!(yield* folioTryGet(folio, "transient"))) return;
  if (delayNs > 0) yield* sleepNs(delayNs);
  yield* folioLock(folio);
  yield* folioUnlock(folio);
  yield* folioPut(folio, "transient");
}

/** The folio the PTE at `addr` (default: the first page) maps, or null if it is not a present entry. */
export function mapped(w: World, addr = w.addr): Folio | null {
  const p: Pte = getPte(w.mm, addr);
  return p.kind === "present" ? p.folio : null;
}

/** Page-table entries of every kind, over the whole mm. */
export function pteKinds(w: World): string[] {
  return [...w.mm.ptes.values()].map((s) => s.pte.kind);
}

/** Trace events of `type` (and `name`, if given). */
export function events(r: RunResult, type: string, name?: string): TraceEvent[] {
  return r.trace.filter((e) => e.type === type && (name === undefined || e.name === name));
}

/** Op labels in step order, keeping those `keep` accepts. */
export function ops(r: RunResult, keep: (label: string) => boolean): string[] {
  return r.trace.filter((e) => e.type === "op" && keep(e.name ?? "")).map((e) => e.name!);
}

/** `task: text` for each event `describe` names (null skips it), in trace order. */
/**
 * The source folio's lock as the migrator and the other tasks see it (trylock, unlock,
 * sleeping on and waking from folio_lock), with `variantEvent` and the move stage's
 * refcount mismatches.
 */
export function lockTimeline(w: World, r: RunResult, variantEvent: string): string[] {
  const n = w.folio.name;
  return timeline(r, (e: TraceEvent) => {
    if (e.type === variantEvent || e.type === "migrate_refcount_mismatch") return e.type;
    if (e.type === "op" && e.name === `folio_trylock(${n})`) return "folio_trylock";
    if (e.type === "op" && e.name === `folio_unlock(${n})`) return "folio_unlock";
    if ((e.type === "block" || e.type === "wake") && e.name === `folio_lock(${n})`) return `${e.type} folio_lock`;
    return null;
  });
}

export function timeline(r: RunResult, describe: (e: TraceEvent) => string | null): string[] {
  const names = new Map(r.taskTable.map((t) => [t.id, t.name]));
  const out: string[] = [];
  for (const e of r.trace) {
    const text = describe(e);
    if (text !== null) out.push(`${names.get(e.task) ?? "?"}: ${text}`);
  }
  return out;
}
