/**
 * Observations: calls that read state a promise can assert, without changing it. In a
 * task they are one step whose footprint reads what they look at (the page-table entry,
 * the folio's refcount, flags, mapping and lock words, the per-CPU batches), so the
 * explorer orders them against writers; in a `check:` step they read the final state
 * after every task has finished.
 *
 * - `folio_state`: what `dump_page` and /proc/kpageflags show of the folio mapped at an
 *   address (include/linux/page-flags.h, mm.h `folio_maybe_dma_pinned`,
 *   `folio_mapcount`), plus which per-CPU batch or LRU list holds it (mm/swap.c
 *   `cpu_fbatches`, mm/mlock.c `mlock_fbatch`).
 * - `vma_state`: the VMA covering an address (`vm_flags` as /proc/PID/smaps' VmFlags).
 * - `residency`: how many of a range's pages are resident (mincore(2)).
 * - `metric`: an event counter of the run (/proc/vmstat-like); only in `check:`, since
 *   the explorer does not see counters as shared state.
 */

import {
  folioIsLongtermPinnable,
  folioMaybeDmaPinned,
  folioHasPincount,
  folioTestAnon,
  formatFlags,
  GUP_PIN_COUNTING_BIAS,
  PG,
  pfnHex,
  VM_EXEC,
  VM_IO,
  VM_LOCKED,
  VM_LOCKONFAULT,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  type Folio,
} from "@foliosim/folio";
import { PIN_HOLDER } from "@foliosim/gup";
import { getLru, LRU_BATCHES, whereIs } from "@foliosim/lru";
import { findVma, getPte, PAGE_SIZE, type MmStruct, type Pte } from "@foliosim/mm";
import { op, uncheckedReadsBegin, uncheckedReadsEnd, type Machine, type Shared } from "@foliosim/sim";
import { z } from "zod";
import { AddressResult, defineCall, PageCount, type ObserveContext } from "../calls.js";
import { processMm } from "../world-memory.js";

const Addr = z.number().int().min(0);
const Page = z.number().int().min(0).default(0);
/** Whose address space: the calling task's by default (p0 in `check:`). */
const Process = z.string().optional();

const FolioState = z.object({
  /** What the page-table entry is: none, present, migration, device-private or device-exclusive. */
  pte: z.enum(["none", "present", "migration", "device-private", "device-exclusive"]),
  present: z.boolean(),
  /** The entry allows writes (`pte_write`; a writable migration, device-private or device-exclusive entry). */
  pte_writable: z.boolean(),
  /** A PROT_NONE entry (`pte_protnone`): mapped, but no access. */
  pte_protnone: z.boolean(),
  pfn: z.string().nullable(),
  _refcount: z.number(),
  pincount: z.number(),
  mapcount: z.number(),
  folio_maybe_dma_pinned: z.boolean(),
  PG_lru: z.boolean(),
  PG_mlocked: z.boolean(),
  PG_unevictable: z.boolean(),
  PG_waiters: z.boolean(),
  PG_locked: z.boolean(),
  PG_dirty: z.boolean(),
  PG_active: z.boolean(),
  PG_referenced: z.boolean(),
  PG_uptodate: z.boolean(),
  PG_swapbacked: z.boolean(),
  PG_swapcache: z.boolean(),
  PG_anon_exclusive: z.boolean(),
  PG_head: z.boolean(),
  flags: z.string(),
  zone: z.string().nullable(),
  node: z.number().nullable(),
  migratetype: z.string().nullable(),
  mlock_count: z.number(),
  /** The per-CPU batch holding it, e.g. "cpu1 lru_add" or "cpu0 mlock_fbatch (LRU_FOLIO)", or null. */
  batch: z.string().nullable(),
  /** The LRU list holding it, "isolated", or null. */
  lru: z.string().nullable(),
  anon: z.boolean(),
  order: z.number(),
  device: z.string().nullable(),
  longterm_pinnable: z.boolean(),
  /** The page's contents (what user_write stored). */
  value: z.union([z.string(), z.number()]).nullable(),
});
type FolioState = z.infer<typeof FolioState>;

function folioOf(pte: Pte): Folio | null {
  return pte.kind === "none" ? null : pte.folio;
}

/** The small-folio pin count is what `folio_maybe_dma_pinned` infers from the bias (GUP_PIN_COUNTING_BIAS). */
function pincountOf(f: Folio): number {
  return folioHasPincount(f) ? f.pincount : Math.floor(f.holderCount(PIN_HOLDER) / GUP_PIN_COUNTING_BIAS);
}

function describe(m: Machine, pte: Pte): FolioState {
  const f = folioOf(pte);
  const flag = (bit: number) => (f ? f.test(bit) : false);
  const where = f ? whereIs(m, f) : [];
  const batch = where.find((w) => /^cpu\d+ /.test(w)) ?? null;
  const lru = where.find((w) => !/^cpu\d+ /.test(w)) ?? null;
  const data = f?.data;
  return {
    pte: pte.kind,
    present: pte.kind === "present",
    pte_writable: pte.kind !== "none" && pte.writable,
    pte_protnone: pte.kind === "present" && pte.protnone === true,
    pfn: f ? pfnHex(f.pfn) : null,
    _refcount: f?.refcount ?? 0,
    pincount: f ? pincountOf(f) : 0,
    mapcount: f?.mapcount ?? 0,
    folio_maybe_dma_pinned: f ? folioMaybeDmaPinned(f) : false,
    PG_lru: flag(PG.lru),
    PG_mlocked: flag(PG.mlocked),
    PG_unevictable: flag(PG.unevictable),
    PG_waiters: flag(PG.waiters),
    PG_locked: flag(PG.locked),
    PG_dirty: flag(PG.dirty),
    PG_active: flag(PG.active),
    PG_referenced: flag(PG.referenced),
    PG_uptodate: flag(PG.uptodate),
    PG_swapbacked: flag(PG.swapbacked),
    PG_swapcache: flag(PG.swapcache),
    PG_anon_exclusive: flag(PG.anon_exclusive),
    PG_head: flag(PG.head),
    flags: f ? formatFlags(f.flags) : "",
    zone: f?.zone ?? null,
    node: f ? f.nid : null,
    migratetype: f?.migratetype ?? null,
    mlock_count: f?.mlockCount ?? 0,
    batch,
    lru,
    anon: f ? folioTestAnon(f) : false,
    order: f?.order ?? 0,
    device: f?.deviceType ?? null,
    longterm_pinnable: f ? folioIsLongtermPinnable(f) : false,
    value: typeof data === "string" || typeof data === "number" ? data : null,
  };
}

/** Everything a folio observation reads, for the explorer. */
function folioFootprint(m: Machine, f: Folio | null): Shared[] {
  if (!f) return [];
  const s = getLru(m);
  const out: Shared[] = [f.ref, f.flagsWord, f.map, f.lock, s.lruvec];
  for (let cpu = 0; cpu < m.cpuCount; cpu++) {
    const fb = s.cpuFbatches.get(cpu);
    for (const b of LRU_BATCHES) out.push(fb.batches[b]);
    out.push(s.mlockFbatch.get(cpu).fbatch);
  }
  return out;
}

function mmOf(ctx: ObserveContext, process: string | undefined): MmStruct {
  return processMm(ctx.world, process ?? ctx.process);
}

defineCall({
  name: "folio_state",
  summary: "the folio mapped at addr (+page): _refcount, pincount, mapcount, PG_* flags, zone/node, mlock_count, which per-CPU batch or LRU list holds it",
  args: z.object({ addr: Addr, page: Page, process: Process }).strict(),
  returns: FolioState,
  observe: (ctx, a) => describe(ctx.m, getPte(mmOf(ctx, a.process), a.addr + a.page * PAGE_SIZE)),
  *run(ctx, a) {
    const mm = mmOf(ctx, a.process);
    const slot = mm.slot(a.addr + a.page * PAGE_SIZE);
    // Only to name the step's footprint, which footprint checking then checks against what the step reads.
    const quiet = uncheckedReadsBegin();
    const f = folioOf(slot.pte);
    uncheckedReadsEnd(quiet);
    return yield* op({ kind: "observe", label: "folio_state", reads: [slot, ...folioFootprint(ctx.m, f)], cost: 0, run: (m) => describe(m, slot.pte) });
  },
});

const VM_NAMES: [string, number][] = [
  ["VM_READ", VM_READ],
  ["VM_WRITE", VM_WRITE],
  ["VM_EXEC", VM_EXEC],
  ["VM_SHARED", VM_SHARED],
  ["VM_LOCKED", VM_LOCKED],
  ["VM_LOCKONFAULT", VM_LOCKONFAULT],
  ["VM_IO", VM_IO],
  ["VM_PFNMAP", VM_PFNMAP],
];

const VmaState = z.object({
  mapped: z.boolean(),
  start: AddressResult.nullable(),
  pages: z.number(),
  anon: z.boolean(),
  file: z.string().nullable(),
  /** `vm_flags` names joined by |, e.g. "VM_READ|VM_WRITE|VM_LOCKED". */
  flags: z.string(),
  VM_READ: z.boolean(),
  VM_WRITE: z.boolean(),
  VM_EXEC: z.boolean(),
  VM_SHARED: z.boolean(),
  VM_LOCKED: z.boolean(),
  VM_LOCKONFAULT: z.boolean(),
  VM_IO: z.boolean(),
  VM_PFNMAP: z.boolean(),
});
type VmaState = z.infer<typeof VmaState>;

function describeVma(mm: MmStruct, addr: number): VmaState {
  const v = findVma(mm, addr);
  const flags = v?.flags ?? 0;
  const bits = Object.fromEntries(VM_NAMES.map(([n, b]) => [n, (flags & b) !== 0])) as Record<string, boolean>;
  return {
    mapped: v !== undefined,
    start: v?.start ?? null,
    pages: v?.pages ?? 0,
    anon: v !== undefined && v.file === null,
    file: v?.file?.name ?? null,
    flags: VM_NAMES.filter(([, b]) => flags & b).map(([n]) => n).join("|"),
    ...(bits as Omit<VmaState, "mapped" | "start" | "pages" | "anon" | "file" | "flags">),
  };
}

defineCall({
  name: "vma_state",
  summary: "the VMA covering addr (+page): mapped, start, pages, anon or file, vm_flags (VM_LOCKED, VM_LOCKONFAULT, VM_WRITE, …)",
  args: z.object({ addr: Addr, page: Page, process: Process }).strict(),
  returns: VmaState,
  observe: (ctx, a) => describeVma(mmOf(ctx, a.process), a.addr + a.page * PAGE_SIZE),
  *run(ctx, a) {
    const mm = mmOf(ctx, a.process);
    const quiet = uncheckedReadsBegin(); // only to name the step's footprint (checked against what it reads)
    const v = findVma(mm, a.addr + a.page * PAGE_SIZE);
    uncheckedReadsEnd(quiet);
    return yield* op({ kind: "observe", label: "vma_state", reads: v ? [mm, v] : [mm], cost: 0, run: () => describeVma(mm, a.addr + a.page * PAGE_SIZE) });
  },
});

function resident(mm: MmStruct, addr: number, pages: number): number {
  let n = 0;
  for (let i = 0; i < pages; i++) if (getPte(mm, addr + i * PAGE_SIZE).kind === "present") n++;
  return n;
}

defineCall({
  name: "residency",
  summary: "mincore(2): how many of the pages addr (+page) .. +pages are resident (mapped by a present PTE)",
  args: z.object({ addr: Addr, page: Page, pages: PageCount.default(1), process: Process }).strict(),
  returns: z.number(),
  observe: (ctx, a) => resident(mmOf(ctx, a.process), a.addr + a.page * PAGE_SIZE, a.pages),
  *run(ctx, a) {
    const mm = mmOf(ctx, a.process);
    const start = a.addr + a.page * PAGE_SIZE;
    const slots = Array.from({ length: a.pages }, (_, i) => mm.slot(start + i * PAGE_SIZE));
    return yield* op({ kind: "observe", label: "mincore", reads: slots, cost: 0, run: () => resident(mm, start, a.pages) });
  },
});

/** Every counter the layers count (a counter never incremented in a run reads 0). */
export const COUNTER_NAMES = [
  "context_switch", "device_page_alloc", "device_page_free", "folio_alloc", "folio_freed", "gup_longterm_retry",
  "hmm_device_private_trylock_failed", "hmm_drain_outside_lock_retry", "hmm_range_fault_rewalk", "ipi", "ipi_broadcast",
  "lru_add_drain", "lru_add_drain_all", "lru_add_drain_all_forced", "lru_add_drain_all_skipped", "lru_add_freed", "lru_batch_flush",
  "migrate_retry", "mlock_folio_batch", "nr_foll_pin_acquired", "nr_foll_pin_released", "nr_mlock", "pgactivate", "pgdeactivate",
  "pglazyfree", "pgrotated", "rcu_expedited_gp", "rcu_gp", "shmem_fallback", "spins", "static_key_patch", "unevictable_pgs_cleared",
  "unevictable_pgs_culled", "unevictable_pgs_mlocked", "unevictable_pgs_munlocked", "unevictable_pgs_rescued", "unevictable_pgs_stranded",
  "virtual_ns", "work_queued", "work_run",
] as const;

defineCall({
  name: "metric",
  summary: "the value of an event counter of the run (lru_add_drain_all, static_key_patch, nr_foll_pin_acquired, …); only in check: steps",
  args: z.object({ name: z.enum(COUNTER_NAMES) }).strict(),
  returns: z.number(),
  checkOnly: true,
  observe: (ctx, a) => (a.name === "virtual_ns" ? ctx.m.now : (ctx.m.counters[a.name] ?? 0)),
  *run() {
    throw new Error("metric is only for check: steps (validation refuses it elsewhere)");
  },
});
