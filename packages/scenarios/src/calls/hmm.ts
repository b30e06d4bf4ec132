/**
 * Calls into the HMM model through the reference driver (lib/test_hmm.c "dmirror"):
 * create a device, migrate ranges to it and back, device reads and writes through
 * hmm_range_fault, exclusive (atomic) device access, fork's copy of a device-private
 * entry, and user reads and writes whose values can be checked.
 */

import {
  copyNonpresentPte,
  dmirrorCheckExclusive,
  dmirrorDeviceCreate,
  dmirrorDeviceEvictChunk,
  dmirrorExclusive,
  dmirrorSnapshot,
  HMM_DMIRROR_PROT,
  dmirrorMigrateToDevice,
  dmirrorMigrateToSystem,
  dmirrorOpen,
  dmirrorRead,
  dmirrorWrite,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  type Dmirror,
  type DmirrorDevice,
} from "@foliosim/hmm";
import { PAGE_SIZE, touch } from "@foliosim/mm";
import { op } from "@foliosim/sim";
import { z } from "zod";
import { defineCall, PageCount, type CallContext } from "../calls.js";
import { ScenarioUsageError } from "../runner.js";
import { memoryWorld, processMm } from "../world-memory.js";

const Addr = z.number().int().min(0);
const Page = z.number().int().min(0).default(0);
const Device = z.string();
const MigrateResult = z.object({ ret: z.number(), migrated: z.number(), cpages: z.number() });

function devices(ctx: CallContext): Map<string, DmirrorDevice> {
  return ctx.world.slot("dmirror-devices", () => new Map<string, DmirrorDevice>());
}

/** The device's mirror of the calling task's process (dmirror_fops_open), opened once. */
function mirror(ctx: CallContext, device: string): Dmirror {
  const dev = devices(ctx).get(device);
  if (!dev) throw new ScenarioUsageError("dmirror", ctx.task.name, `no device named "${device}" (create it with dmirror_create first)`);
  const mirrors = ctx.world.slot("dmirror-mirrors", () => new Map<string, Dmirror>());
  const key = `${device}/${ctx.process}`;
  let d = mirrors.get(key);
  if (!d) mirrors.set(key, (d = dmirrorOpen(dev, processMm(ctx.world, ctx.process))));
  return d;
}

defineCall({
  name: "dmirror_create",
  summary: "a dmirror device with `pages` pages of device-private memory (or device-coherent with coherent: true: CPU-mapped, and migrated to system memory by a FOLL_LONGTERM pin)",
  args: z.object({ name: z.string(), pages: PageCount.default(16), coherent: z.boolean().default(false) }).strict(),
  returns: z.string(),
  defines: { kind: "device", arg: "name" },
  *run(ctx, a) {
    devices(ctx).set(a.name, dmirrorDeviceCreate(ctx.m, a.name, memoryWorld(ctx.world).memory, a.pages, a.coherent ? "MEMORY_DEVICE_COHERENT" : "MEMORY_DEVICE_PRIVATE"));
    return a.name;
  },
});

const SELECT = { system: MIGRATE_VMA_SELECT_SYSTEM, device_private: MIGRATE_VMA_SELECT_DEVICE_PRIVATE } as const;

defineCall({
  name: "dmirror_migrate_to_device",
  summary: "migrate_vma_setup/pages/finalize of addr..+pages into the device; returns { ret, migrated, cpages }",
  args: z
    .object({ device: Device, addr: Addr, page: Page, pages: PageCount, select: z.array(z.enum(["system", "device_private"])).default(["system"]) })
    .strict(),
  returns: MigrateResult,
  uses: { device: "device" },
  *run(ctx, a) {
    const flags = a.select.reduce((f, s) => f | SELECT[s], 0);
    const r = yield* dmirrorMigrateToDevice(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages, flags);
    return { ret: r.ret, migrated: r.migrated, cpages: r.cpages };
  },
});

defineCall({
  name: "dmirror_migrate_to_system",
  summary: "bring the device's pages of addr..+pages back to system memory; returns { ret, migrated, cpages }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: PageCount }).strict(),
  returns: MigrateResult,
  uses: { device: "device" },
  *run(ctx, a) {
    const r = yield* dmirrorMigrateToSystem(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages);
    return { ret: r.ret, migrated: r.migrated, cpages: r.cpages };
  },
});

const Value = z.union([z.string(), z.number()]);
const Pages = PageCount.default(1);

defineCall({
  name: "dmirror_read",
  summary: "HMM_DMIRROR_READ of `pages` pages at addr (+page) through hmm_range_fault, faulting the rest of the range at the first page not mirrored; returns { ret, value (the first page's), values, faults, cpages }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.object({ ret: z.number(), value: Value.nullable(), values: z.array(Value.nullable()), faults: z.number(), cpages: z.number() }),
  uses: { device: "device" },
  *run(ctx, a) {
    const r = yield* dmirrorRead(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages);
    const v = (x: unknown) => (typeof x === "string" || typeof x === "number" ? x : null);
    return { ret: r.ret, value: v(r.value), values: r.values.map(v), faults: r.faults, cpages: r.cpages };
  },
});

defineCall({
  name: "dmirror_write",
  summary: "HMM_DMIRROR_WRITE of `value` (or `values`, one per page) to `pages` pages at addr (+page) through hmm_range_fault; returns { ret, faults, cpages }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: Pages, value: Value.optional(), values: z.array(Value).min(1).optional() }).strict(),
  returns: z.object({ ret: z.number(), faults: z.number(), cpages: z.number() }),
  uses: { device: "device" },
  lint: (a, given) => {
    const out = [];
    if (given.has("value") === given.has("values")) out.push({ arg: given.has("value") ? "values" : "value", message: "give value: (every page) or values: (one per page), exactly one of them" });
    const pages = typeof a.pages === "number" ? a.pages : 1;
    if (Array.isArray(a.values) && a.values.length !== pages) out.push({ arg: "values", message: `values: lists ${a.values.length} value(s) for ${pages} page(s)` });
    return out;
  },
  *run(ctx, a) {
    if (a.value === undefined && a.values === undefined) throw new ScenarioUsageError("dmirror_write", ctx.task.name, "give value: or values:");
    const r = yield* dmirrorWrite(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.values ?? a.value, a.pages);
    return { ret: r.ret, faults: r.faults, cpages: r.cpages };
  },
});

const PROT_NAMES = Object.entries(HMM_DMIRROR_PROT) as [string, number][];

/** `HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL|HMM_DMIRROR_PROT_WRITE` for 0x22, as test_hmm_uapi.h names the bits. */
function protName(v: number): string {
  if (v === HMM_DMIRROR_PROT.HMM_DMIRROR_PROT_ERROR) return "HMM_DMIRROR_PROT_ERROR";
  if (v === 0) return "HMM_DMIRROR_PROT_NONE";
  const kind = PROT_NAMES.find(([n, b]) => b === (v & 0xf0) && /DEV_|ZERO/.test(n));
  const low = PROT_NAMES.filter(([n, b]) => b !== 0 && b < 0x10 && (v & b) === b && !/ERROR/.test(n)).map(([n]) => n);
  return [...(kind ? [kind[0]] : []), ...low].join("|");
}

defineCall({
  name: "dmirror_snapshot",
  summary: "HMM_DMIRROR_SNAPSHOT of `pages` pages at addr (+page): hmm_range_fault without faulting, one HMM_DMIRROR_PROT_* byte per page; returns { ret, cpages, perms (the bytes), prot (their names) }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.object({ ret: z.number(), cpages: z.number(), perms: z.array(z.number()), prot: z.array(z.string()) }),
  uses: { device: "device" },
  *run(ctx, a) {
    const r = yield* dmirrorSnapshot(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages);
    return { ret: r.ret, cpages: r.cpages, perms: r.perms, prot: r.perms.map(protName) };
  },
});

defineCall({
  name: "dmirror_release",
  summary: "HMM_DMIRROR_RELEASE: evict every page of the device's memory back to system memory (dmirror_device_evict_chunk: migrate_device_range, copy, migrate_device_pages, finalize); returns { ret, evicted }",
  args: z.object({ device: Device }).strict(),
  returns: z.object({ ret: z.number(), evicted: z.number() }),
  uses: { device: "device" },
  *run(ctx, a) {
    const dev = devices(ctx).get(a.device);
    if (!dev) throw new ScenarioUsageError("dmirror_release", ctx.task.name, `no device named "${a.device}" (create it with dmirror_create first)`);
    const evicted = yield* dmirrorDeviceEvictChunk(dev);
    return { ret: 0, evicted };
  },
});

defineCall({
  name: "dmirror_exclusive",
  summary:
    "HMM_DMIRROR_EXCLUSIVE of `pages` pages at addr (+page): make_device_exclusive per page (6.15+; make_device_exclusive_range per 64 pages up to 6.14, -EBUSY when a page was not made exclusive), each mapped atomic in the mirror, then read back; returns { ret, cpages, values }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.object({ ret: z.number(), cpages: z.number(), values: z.array(Value.nullable()) }),
  uses: { device: "device" },
  *run(ctx, a) {
    const r = yield* dmirrorExclusive(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages);
    const v = (x: unknown) => (typeof x === "string" || typeof x === "number" ? x : null);
    return { ret: r.ret, cpages: r.cpages, values: r.values.map(v) };
  },
});

defineCall({
  name: "dmirror_check_exclusive",
  summary: "HMM_DMIRROR_CHECK_EXCLUSIVE of `pages` pages at addr (+page): ret -EPERM while the device still maps one of them atomic (no CPU access revoked it), else 0; returns { ret }",
  args: z.object({ device: Device, addr: Addr, page: Page, pages: Pages }).strict(),
  returns: z.object({ ret: z.number() }),
  uses: { device: "device" },
  *run(ctx, a) {
    return { ret: yield* dmirrorCheckExclusive(mirror(ctx, a.device), a.addr + a.page * PAGE_SIZE, a.pages) };
  },
});

defineCall({
  name: "fork_device_entry",
  summary: "fork's copy_nonpresent_pte of the device-private entry at addr (+page) into process `to` at `to_addr` (+to_page) (a second mapping)",
  args: z.object({ addr: Addr, page: Page, to: z.string(), to_addr: Addr, to_page: Page }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    yield* copyNonpresentPte(processMm(ctx.world, ctx.process), a.addr + a.page * PAGE_SIZE, processMm(ctx.world, a.to), a.to_addr + a.to_page * PAGE_SIZE);
    return 0;
  },
});

defineCall({
  name: "user_write",
  summary: "a user write of value to page `page` at addr (faulting as needed)",
  args: z.object({ addr: Addr, page: Page, value: z.union([z.string(), z.number()]) }).strict(),
  returns: z.number(),
  *run(ctx, a) {
    const f = yield* touch(processMm(ctx.world, ctx.process), a.addr + a.page * PAGE_SIZE, true);
    // The store itself: the page's contents are a value, kept with the folio's flags word.
    yield* op({ kind: "store", label: "copy_to_user", writes: [f.flagsWord], cost: "plain", run: () => void (f.data = a.value) });
    return 0;
  },
});

defineCall({
  name: "user_read",
  summary: "a user read of page `page` at addr (faulting as needed, device pages migrate back); returns the value",
  args: z.object({ addr: Addr, page: Page }).strict(),
  returns: z.union([z.string(), z.number()]).nullable(),
  *run(ctx, a) {
    // The load is the access itself: one step reads the PTE and the contents of the folio it maps.
    let data: unknown;
    yield* touch(processMm(ctx.world, ctx.process), a.addr + a.page * PAGE_SIZE, false, (m, f) => {
      m.noteRead(f.flagsWord);
      data = f.data;
    });
    return (data ?? null) as string | number | null;
  },
});
