/**
 * Calls into the memory model: system calls (mmap, munmap, mlock, mlock2, munlock,
 * mlockall, munlockall, memfd_create, readahead), user accesses, LRU operations,
 * reference holders, migration and GUP pinning. Lengths are in pages; addresses are
 * what `mmap` returned (plus `page` offsets).
 */

import { folioIsLongtermPinnable, folioPut, folioTryGet, folioUnlock, pfnHex, type Folio } from "@foliosim/folio";
import { FOLL_FLAGS, getUserPagesRemote, pinUserPages, pinUserPagesFast, putUserPage, unpinUserPages, type Pages } from "@foliosim/gup";
import { folioActivate, folioIsolateLru, folioPutbackLru, lruAddDrain, lruAddDrainAll } from "@foliosim/lru";
import { allocMigrationTarget, migratePages, movePages, MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, MR, putbackMovablePages, type MigrateMode, type MigrateReason } from "@foliosim/migrate";
import {
  createFile,
  filemapGetFolioLocked,
  forkMm,
  madviseDontneed,
  followPagePte,
  forcePageCacheRa,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_LOCKED,
  MAP_PRIVATE,
  MAP_SHARED,
  MCL_CURRENT,
  MCL_FUTURE,
  MCL_ONFAULT,
  memfdCreate,
  mlock,
  mlock2,
  MLOCK_ONFAULT,
  mlockall,
  mmap,
  mprotect,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  mremap,
  munlock,
  munlockall,
  munmap,
  PAGE_SIZE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  touch,
  withMmapReadLock,
  type AddressSpace,
} from "@foliosim/mm";
import { op, sleepNs, type TaskGen } from "@foliosim/sim";
import { z } from "zod";
import { AddressResult, defineCall, PageCount, type CallContext } from "../calls.js";
import { ScenarioUsageError } from "../runner.js";
import { memoryWorld, processMm } from "../world-memory.js";

const Addr = z.number().int().min(0);
const Pages = PageCount;
/** A page offset from `addr` (every call that takes an address accepts one). */
const Page = z.number().int().min(0).default(0);
const at = (a: { addr: number; page: number }) => a.addr + a.page * PAGE_SIZE;

function file(ctx: CallContext, name: string): AddressSpace {
  const f = memoryWorld(ctx.world).files.get(name);
  if (!f) throw new ScenarioUsageError("file", ctx.task.name, `no file or memfd named "${name}" (create it with memfd_create or open_file first)`);
  return f;
}

/** The folio mapped at `addr` right now, or null (a page-table read). */
function* folioAt(ctx: CallContext, addr: number): TaskGen<Folio | null> {
  const pte = yield* followPagePte(processMm(ctx.world, ctx.process), addr);
  return pte.kind === "present" || pte.kind === "device-private" ? pte.folio : null;
}

defineCall({
  name: "memfd_create",
  summary: "memfd_create(name): a shmem file of `pages` pages; returns its name for mmap's `file`. `order`: the mTHP order its faults allocate when the aligned range fits (tmpfs huge=always with one enabled size; 0: small folios)",
  args: z.object({ name: z.string(), pages: Pages, order: z.number().int().min(0).max(9).default(0) }).strict(),
  returns: z.string(),
  defines: { kind: "file", arg: "name" },
  lint: (a) => (typeof a.order === "number" && typeof a.pages === "number" && a.order > 0 && a.pages < 2 ** a.order ? [{ arg: "order", message: `order: ${a.order} needs at least ${2 ** a.order} pages; a ${a.pages}-page memfd never gets one (the model keeps a large folio inside i_size, as huge=within_size does)` }] : []),
  *run(ctx, a) {
    memoryWorld(ctx.world).files.set(a.name, memfdCreate(ctx.m, { memory: memoryWorld(ctx.world).memory, name: a.name, sizePages: a.pages, folioOrder: a.order }));
    return a.name;
  },
});

defineCall({
  name: "open_file",
  summary: "a regular file of `pages` pages with an empty page cache; returns its name. `order`: the largest folio order its readahead may allocate (mapping_set_folio_order_range; 0: small folios)",
  args: z.object({ name: z.string(), pages: Pages, raPages: PageCount.optional(), order: z.number().int().min(0).max(9).default(0) }).strict(),
  returns: z.string(),
  defines: { kind: "file", arg: "name" },
  lint: (a) => (typeof a.order === "number" && typeof a.pages === "number" && a.order > 0 && a.pages < 2 ** a.order ? [{ arg: "order", message: `order: ${a.order} needs at least ${2 ** a.order} pages; a ${a.pages}-page file never gets a folio that large (readahead stops at EOF)` }] : []),
  *run(ctx, a) {
    memoryWorld(ctx.world).files.set(a.name, createFile(ctx.m, { memory: memoryWorld(ctx.world).memory, name: a.name, sizePages: a.pages, raPages: a.raPages, folioOrder: a.order }));
    return a.name;
  },
});

const FIXED = { hint: 0, MAP_FIXED, MAP_FIXED_NOREPLACE } as const;

defineCall({
  name: "mmap",
  summary: "mmap: anonymous or file/memfd, private or shared, anywhere or at `addr` (+page) as a hint, MAP_FIXED (replacing what is there) or MAP_FIXED_NOREPLACE (-EEXIST over a mapping); returns the address",
  args: z
    .object({
      pages: Pages,
      file: z.string().optional(),
      shared: z.boolean().default(false),
      write: z.boolean().default(true),
      /** PROT_READ | PROT_WRITE unless false; `prot:` sets the protection exactly. */
      prot: z.array(z.enum(["PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_EXEC"])).min(1).optional(),
      locked: z.boolean().default(false),
      /** mTHP order of anonymous memory (0: small): private, the vma's; shared, its shmem object's. */
      order: z.number().int().min(0).max(9).default(0),
      /** The address asked for (with `page`); how it binds is `fixed`. */
      addr: Addr.optional(),
      page: Page,
      fixed: z.enum(["hint", "MAP_FIXED", "MAP_FIXED_NOREPLACE"]).default("hint"),
    })
    .strict(),
  returns: AddressResult,
  uses: { file: "file" },
  lint: (a, given) => {
    const out = [...protLint(a)];
    if (!given.has("addr") && typeof a.fixed === "string" && a.fixed !== "hint") out.push({ arg: "fixed", message: `fixed: ${a.fixed} needs addr: (the address to map at)` });
    if (!given.has("addr") && typeof a.page === "number" && a.page > 0) out.push({ arg: "page", message: "page: is an offset from addr:, and this mmap has no addr:" });
    if (a.prot !== undefined && a.write === false) out.push({ arg: "write", message: "write: is ignored when prot: is given (leave PROT_WRITE out of prot: instead)" });
    if (a.file !== undefined && typeof a.order === "number" && a.order > 0) out.push({ arg: "order", message: "order: sets the mTHP order of anonymous memory; a file or memfd mapping's folio sizes come from the object (give order: to memfd_create or open_file instead)" });
    return out;
  },
  *run(ctx, a) {
    const mm = processMm(ctx.world, ctx.process);
    const flags = (a.file ? 0 : MAP_ANONYMOUS) | (a.shared ? MAP_SHARED : MAP_PRIVATE) | (a.locked ? MAP_LOCKED : 0) | FIXED[a.fixed];
    return yield* mmap(mm, {
      addr: a.addr === undefined ? undefined : at({ addr: a.addr, page: a.page }),
      length: a.pages * PAGE_SIZE,
      prot: a.prot ? protOf(a.prot) : PROT_READ | (a.write ? PROT_WRITE : 0),
      flags,
      file: a.file ? file(ctx, a.file) : undefined,
      folioOrder: a.order,
    });
  },
});

const PROT = { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC } as const;
type ProtName = keyof typeof PROT;
const Prot = z.array(z.enum(["PROT_NONE", "PROT_READ", "PROT_WRITE", "PROT_EXEC"])).min(1);
const protOf = (names: ProtName[]) => names.reduce((acc, n) => acc | PROT[n], 0);

function protLint(a: Readonly<Record<string, unknown>>) {
  return Array.isArray(a.prot) && a.prot.includes("PROT_NONE") && a.prot.length > 1 ? [{ arg: "prot", message: "prot: PROT_NONE is no access at all and cannot be combined with PROT_READ, PROT_WRITE or PROT_EXEC" }] : [];
}

defineCall({
  name: "mprotect",
  summary: "mprotect(addr (+page), pages, prot): new protection for the range (vmas split at its edges; PTEs changed under MMU_NOTIFY_PROTECTION_VMA; PROT_NONE keeps pages mapped but inaccessible, and GUP on it is -EFAULT); -EINVAL unaligned, -ENOMEM over a hole",
  args: z.object({ addr: Addr, page: Page, pages: Pages, prot: Prot }).strict(),
  returns: z.number(),
  lint: protLint,
  *run(ctx, a) {
    return yield* mprotect(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE, protOf(a.prot));
  },
});

defineCall({
  name: "mremap",
  summary: "mremap(addr (+page), pages, new_pages, MREMAP_MAYMOVE if maymove, MREMAP_FIXED to `to` (+to_page), MREMAP_DONTUNMAP if dontunmap): grow in place, shrink, or move the pages (same folios: pins, mlock and batches follow); returns the new address or -errno",
  args: z
    .object({
      addr: Addr,
      page: Page,
      pages: Pages,
      new_pages: Pages,
      maymove: z.boolean().default(false),
      /** MREMAP_FIXED: the new address (with `to_page`); needs maymove. */
      to: Addr.optional(),
      to_page: Page,
      dontunmap: z.boolean().default(false),
    })
    .strict(),
  returns: AddressResult,
  lint: (a, given) => {
    const out = [];
    const to = given.has("to");
    if ((to || a.dontunmap === true) && a.maymove !== true) out.push({ arg: to ? "to" : "dontunmap", message: `${to ? "to: (MREMAP_FIXED)" : "dontunmap: (MREMAP_DONTUNMAP)"} needs maymove: true (the kernel returns -EINVAL)` });
    if (!to && typeof a.to_page === "number" && a.to_page > 0) out.push({ arg: "to_page", message: "to_page: is an offset from to:, and this mremap has no to:" });
    return out;
  },
  *run(ctx, a) {
    const flags = (a.maymove ? MREMAP_MAYMOVE : 0) | (a.to !== undefined ? MREMAP_FIXED : 0) | (a.dontunmap ? MREMAP_DONTUNMAP : 0);
    const to = a.to === undefined ? undefined : at({ addr: a.to, page: a.to_page });
    return yield* mremap(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE, a.new_pages * PAGE_SIZE, flags, to);
  },
});

defineCall({
  name: "fork",
  summary: "fork(): a child process `child` with a copy of this process's address space (dup_mmap: page tables copied, anonymous pages shared copy-on-write, a DMA-pinned exclusive page copied at once)",
  args: z.object({ child: z.string().min(1) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const mw = memoryWorld(ctx.world);
    if (mw.mms.has(a.child)) throw new ScenarioUsageError("fork", ctx.task.name, `process "${a.child}" already exists`);
    const child = yield* forkMm(processMm(ctx.world, ctx.process), a.child);
    mw.mms.set(a.child, child);
    return 0;
  },
});

defineCall({
  name: "madvise",
  summary: "madvise(addr (+page), pages, MADV_DONTNEED): zap the range's pages (a later touch of anonymous memory faults in a fresh page); -EINVAL on a VM_LOCKED vma, -ENOMEM over a hole",
  args: z.object({ addr: Addr, page: Page, pages: Pages, advice: z.enum(["MADV_DONTNEED"]).default("MADV_DONTNEED") }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    return yield* madviseDontneed(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE);
  },
});

defineCall({
  name: "munmap",
  summary: "munmap(addr, pages)",
  args: z.object({ addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    return yield* munmap(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE);
  },
});

defineCall({
  name: "mlock",
  summary: "mlock(addr, pages): lock and populate",
  args: z.object({ addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    return yield* mlock(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE);
  },
});

defineCall({
  name: "mlock2",
  summary: "mlock2(addr, pages, MLOCK_ONFAULT if onfault): lock pages as they fault",
  args: z.object({ addr: Addr, page: Page, pages: Pages, onfault: z.boolean().default(true) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    return yield* mlock2(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE, a.onfault ? MLOCK_ONFAULT : 0);
  },
});

defineCall({
  name: "munlock",
  summary: "munlock(addr, pages)",
  args: z.object({ addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    return yield* munlock(processMm(ctx.world, ctx.process), at(a), a.pages * PAGE_SIZE);
  },
});

defineCall({
  name: "mlockall",
  summary: "mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT as asked)",
  args: z.object({ current: z.boolean().default(true), future: z.boolean().default(false), onfault: z.boolean().default(false) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const flags = (a.current ? MCL_CURRENT : 0) | (a.future ? MCL_FUTURE : 0) | (a.onfault ? MCL_ONFAULT : 0);
    return yield* mlockall(processMm(ctx.world, ctx.process), flags);
  },
});

defineCall({
  name: "munlockall",
  summary: "munlockall()",
  args: z.object({}).strict(),
  returns: z.number(),
  *run(ctx) {
    return yield* munlockall(processMm(ctx.world, ctx.process));
  },
});

defineCall({
  name: "touch",
  summary: "a user read or write of page `page` at `addr` (faults as needed); returns the pfn accessed",
  args: z.object({ addr: Addr, page: Page, write: z.boolean().default(false) }).strict(),
  returns: z.string(),
  *run(ctx, a) {
    const f = yield* touch(processMm(ctx.world, ctx.process), at(a), a.write);
    return pfnHex(f.pfn);
  },
});

defineCall({
  name: "readahead",
  summary: "readahead(2) of `pages` pages of `file` from `index` (fills this CPU's lru_add batch)",
  args: z.object({ file: z.string(), index: z.number().int().min(0).default(0), pages: Pages }).strict(),
  returns: z.number(),
  uses: { file: "file" },
  *run(ctx, a) {
    return yield* forcePageCacheRa(file(ctx, a.file), a.index, a.pages);
  },
});

defineCall({
  name: "lru_add_drain",
  summary: "lru_add_drain() on this CPU",
  args: z.object({}).strict(),
  returns: z.number(),
  *run() {
    yield* lruAddDrain();
    return 0;
  },
});

defineCall({
  name: "lru_add_drain_all",
  summary: "lru_add_drain_all()",
  args: z.object({}).strict(),
  returns: z.number(),
  *run() {
    yield* lruAddDrainAll();
    return 0;
  },
});

defineCall({
  name: "folio_activate",
  summary: "folio_activate() of the folio mapped at addr (queues it in this CPU's lru_activate batch), holding a reference meanwhile as its callers do",
  args: z.object({ addr: Addr, page: Page }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const f = yield* folioAt(ctx, at(a));
    if (!f) return -14;
    // folio_mark_accessed()'s callers (GUP's FOLL_TOUCH, the page-cache read paths)
    // hold a reference on the folio: without one, a folio migrated and freed meanwhile
    // would be queued with a count of 0.
    if (!(yield* folioTryGet(f, "transient"))) return -11;
    yield* folioActivate(f);
    yield* folioPut(f, "transient");
    return 0;
  },
});

defineCall({
  name: "hold_reference",
  summary: "a speculative reference (folio_try_get) on the folio mapped at addr, held for ns, then put",
  args: z.object({ addr: Addr, page: Page, ns: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const f = yield* folioAt(ctx, at(a));
    if (!f || !(yield* folioTryGet(f, "transient"))) return -11;
    yield* sleepNs(a.ns, `hold reference on ${f.name}`);
    yield* folioPut(f, "transient");
    return 0;
  },
});

defineCall({
  name: "read_cached_locked",
  summary: "a page-cache read path: filemap_get_folio(FGP_LOCK) of page `index` of `file` (a reference, then a sleeping folio_lock), hold ns, unlock, put",
  args: z.object({ file: z.string(), index: z.number().int().min(0).default(0), ns: z.number().min(0).default(0) }).strict(),
  returns: z.number(),
  uses: { file: "file" },
  *run(ctx, a) {
    const f = yield* filemapGetFolioLocked(file(ctx, a.file), a.index);
    if (!f) return -2;
    if (a.ns > 0) yield* sleepNs(a.ns, `hold ${f.name} locked`);
    yield* folioUnlock(f);
    yield* folioPut(f, "transient");
    return 0;
  },
});

defineCall({
  name: "isolate_and_hold",
  summary: "isolate the folio mapped at addr from its LRU (as compaction would), hold it isolated for ns, put it back",
  args: z.object({ addr: Addr, page: Page, ns: z.number().min(0) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const f = yield* folioAt(ctx, at(a));
    if (!f || !(yield* folioTryGet(f, "transient"))) return -11;
    const isolated = yield* folioIsolateLru(f);
    yield* folioPut(f, "transient");
    if (!isolated) return -16;
    yield* sleepNs(a.ns, `hold ${f.name} isolated`);
    yield* folioPutbackLru(f);
    return 0;
  },
});

const MODES = ["MIGRATE_ASYNC", "MIGRATE_SYNC_LIGHT", "MIGRATE_SYNC"] as const;

defineCall({
  name: "migrate_pages",
  summary: "isolate the folios mapped at addr..+pages and migrate_pages() them in `mode` for `reason`; returns migrate_pages' result",
  args: z
    .object({
      addr: Addr,
      page: Page,
      pages: Pages.default(1),
      mode: z.enum(MODES).default("MIGRATE_SYNC"),
      reason: z.enum(Object.keys(MR) as [MigrateReason, ...MigrateReason[]]).default("MR_SYSCALL"),
    })
    .strict(),
  returns: z.number(),
  *run(ctx, a) {
    const list: Folio[] = [];
    for (let i = 0; i < a.pages; i++) {
      const f = yield* folioAt(ctx, at(a) + i * PAGE_SIZE);
      if (!f || list.includes(f) || !(yield* folioTryGet(f, "transient"))) continue;
      const isolated = yield* folioIsolateLru(f);
      yield* folioPut(f, "transient");
      if (isolated) list.push(f);
    }
    const rc = yield* migratePages(list, allocMigrationTarget(memoryWorld(ctx.world).memory, a.reason), null, a.mode as MigrateMode, a.reason);
    yield* putbackMovablePages(list);
    return rc;
  },
});

defineCall({
  name: "move_pages",
  summary: "move_pages(0, pages, addr (+page)…, nodes, status, MPOL_MF_MOVE[_ALL]): migrate each page to its node (one node for all, or a list) under lru_cache_disable(), or with no nodes report each page's node; returns { ret, status } with status[i] a node id or -errno (-EFAULT, -ENOENT, -EACCES, -EBUSY), null where the kernel wrote none",
  args: z
    .object({
      addr: Addr,
      page: Page,
      pages: Pages.default(1),
      /** The target node of every page, or one per page; omitted: only report the nodes. */
      nodes: z.union([z.number().int().min(0), z.array(z.number().int().min(0)).min(1)]).optional(),
      /** MPOL_MF_MOVE_ALL: move pages other processes map too. */
      move_all: z.boolean().default(false),
    })
    .strict(),
  returns: z.object({ ret: z.number(), status: z.array(z.number().nullable()) }),
  lint: (a) => {
    const out = [];
    if (Array.isArray(a.nodes) && typeof a.pages === "number" && a.nodes.length !== a.pages) out.push({ arg: "nodes", message: `nodes: lists ${a.nodes.length} node(s) for ${a.pages} page(s); give one per page, or a single node for all` });
    if (Array.isArray(a.nodes) && a.pages === undefined && a.nodes.length !== 1) out.push({ arg: "nodes", message: `nodes: lists ${a.nodes.length} nodes for 1 page (pages: defaults to 1)` });
    if (a.nodes === undefined && a.move_all === true) out.push({ arg: "move_all", message: "move_all: is ignored without nodes: (the call only reports each page's node)" });
    return out;
  },
  *run(ctx, a) {
    const addrs = Array.from({ length: a.pages }, (_, i) => at(a) + i * PAGE_SIZE);
    const nodes = a.nodes === undefined ? null : Array.isArray(a.nodes) ? a.nodes : addrs.map(() => a.nodes as number);
    const r = yield* movePages(processMm(ctx.world, ctx.process), memoryWorld(ctx.world).memory, addrs, nodes, a.move_all ? MPOL_MF_MOVE_ALL : MPOL_MF_MOVE);
    return { ret: r.ret, status: r.status };
  },
});

const FollFlags = z.array(z.enum(Object.keys(FOLL_FLAGS) as [string, ...string[]]));

const PinResult = z.object({ ret: z.number(), longtermPinnable: z.boolean(), pfns: z.array(z.string()), handle: z.string().optional() });

/** Pages a step keeps (pinned or referenced) for a later step to read through or release: handle → pages. */
interface HeldPages {
  pages: Pages;
  how: "pin" | "get";
}

function held(ctx: CallContext): Map<string, HeldPages> {
  return ctx.world.slot("held-pages", () => new Map<string, HeldPages>());
}

/** Keep the pages under a new handle (deterministic: numbered in the order steps keep them). */
function keep(ctx: CallContext, pages: Pages, how: HeldPages["how"]): string {
  const map = held(ctx);
  const handle = `${how}s${map.size + 1}`;
  map.set(handle, { pages, how });
  return handle;
}

function takeHeld(ctx: CallContext, handle: string, how: HeldPages["how"], call: string): HeldPages {
  const h = held(ctx).get(handle);
  if (!h || h.how !== how) throw new ScenarioUsageError(call, ctx.task.name, `no ${how === "pin" ? "pins" : "references"} kept under "${handle}" (keep: true on ${how === "pin" ? "pin_user_pages" : "get_user_pages"} returns the handle)`);
  held(ctx).delete(handle);
  return h;
}

const flagsOf = (names: string[]) => names.reduce((acc, name) => acc | FOLL_FLAGS[name], 0);

/** The result of a GUP call; pages are released after hold_ns unless kept. */
function* gupResult(ctx: CallContext, ret: number, pages: Pages, a: { hold_ns: number; keep: boolean }, how: HeldPages["how"]): TaskGen<z.infer<typeof PinResult>> {
  const got = pages.filter((p): p is Folio => p !== null);
  const out: z.infer<typeof PinResult> = { ret, longtermPinnable: got.every((f) => folioIsLongtermPinnable(f)), pfns: got.map((f) => pfnHex(f.pfn)) };
  if (ret <= 0) return out;
  if (a.keep) return { ...out, handle: keep(ctx, pages, how) };
  if (a.hold_ns > 0) yield* sleepNs(a.hold_ns, how === "pin" ? "hold the pins" : "hold the references");
  if (how === "pin") yield* unpinUserPages(pages);
  else for (const f of got) yield* putUserPage(f);
  return out;
}

const GupArgs = {
  addr: Addr,
  page: Page,
  pages: Pages.default(1),
  hold_ns: z.number().min(0).default(0),
  /** Keep the pages after the call; the result's `handle` releases them later (unpin_user_pages / put_user_pages). */
  keep: z.boolean().default(false),
};

const keepLint = (a: Readonly<Record<string, unknown>>) =>
  a.keep === true && typeof a.hold_ns === "number" && a.hold_ns > 0 ? [{ arg: "hold_ns", message: "hold_ns: is ignored with keep: true (the pages stay until released by handle)" }] : [];

defineCall({
  name: "pin_user_pages",
  summary: "pin_user_pages(addr, pages, flags) under mmap_lock, holding the pins for hold_ns (or keeping them: keep: true returns a handle); returns { ret, longtermPinnable, pfns, handle? }",
  args: z.object({ ...GupArgs, flags: FollFlags.default(["FOLL_LONGTERM", "FOLL_WRITE"]) }).strict(),
  returns: PinResult,
  lint: keepLint,
  *run(ctx, a) {
    const mm = processMm(ctx.world, ctx.process);
    const pages: Pages = new Array(a.pages).fill(null);
    const ret = yield* withMmapReadLock(mm, pinUserPages(mm, at(a), a.pages, flagsOf(a.flags), pages, memoryWorld(ctx.world).memory));
    return yield* gupResult(ctx, ret, pages, a, "pin");
  },
});

defineCall({
  name: "pin_user_pages_fast",
  summary: "pin_user_pages_fast(addr, pages, flags): the lockless GUP-fast walk, then the slow path for the rest; returns { ret, longtermPinnable, pfns, handle? }",
  args: z.object({ ...GupArgs, flags: FollFlags.default(["FOLL_LONGTERM", "FOLL_WRITE"]) }).strict(),
  returns: PinResult,
  lint: keepLint,
  *run(ctx, a) {
    const mm = processMm(ctx.world, ctx.process);
    const pages: Pages = new Array(a.pages).fill(null);
    const ret = yield* pinUserPagesFast(mm, at(a), a.pages, flagsOf(a.flags), pages, memoryWorld(ctx.world).memory);
    return yield* gupResult(ctx, ret, pages, a, "pin");
  },
});

defineCall({
  name: "get_user_pages",
  summary: "get_user_pages(addr, pages, flags) with FOLL_GET references under mmap_lock (FOLL_LONGTERM is -EINVAL), put after hold_ns or kept (keep: true); returns { ret, longtermPinnable, pfns, handle? }",
  args: z.object({ ...GupArgs, flags: FollFlags.default(["FOLL_WRITE"]) }).strict(),
  returns: PinResult,
  lint: keepLint,
  *run(ctx, a) {
    const mm = processMm(ctx.world, ctx.process);
    const pages: Pages = new Array(a.pages).fill(null);
    const ret = yield* withMmapReadLock(mm, getUserPagesRemote(mm, at(a), a.pages, flagsOf(a.flags), pages));
    return yield* gupResult(ctx, ret, pages, a, "get");
  },
});

defineCall({
  name: "unpin_user_pages",
  summary: "unpin_user_pages() of the pins a pin_user_pages step kept (pins: its result's handle)",
  args: z.object({ pins: z.string() }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    yield* unpinUserPages(takeHeld(ctx, a.pins, "pin", "unpin_user_pages").pages);
    return 0;
  },
});

defineCall({
  name: "put_user_pages",
  summary: "put_page() of each reference a get_user_pages step kept (refs: its result's handle)",
  args: z.object({ refs: z.string() }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    for (const f of takeHeld(ctx, a.refs, "get", "put_user_pages").pages) if (f) yield* putUserPage(f);
    return 0;
  },
});

defineCall({
  name: "read_pinned",
  summary: "a device (DMA) read through page `index` of the pages a GUP step kept (pins: its handle): the page's value, even if the process's mapping moved on",
  args: z.object({ pins: z.string(), index: z.number().int().min(0).default(0) }).strict(),
  returns: z.union([z.string(), z.number()]).nullable(),
  *run(ctx, a) {
    const h = held(ctx).get(a.pins);
    const f = h?.pages[a.index];
    if (!f) throw new ScenarioUsageError("read_pinned", ctx.task.name, `no page ${a.index} kept under "${a.pins}"`);
    return yield* op({ kind: "dma_read", label: "dma_read", reads: [f.map, f.flagsWord], cost: "plain", run: () => (typeof f.data === "string" || typeof f.data === "number" ? f.data : null) });
  },
});
