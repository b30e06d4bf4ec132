/**
 * The HMM reference driver, lib/test_hmm.c ("dmirror"): a device with
 * device-private (or device-coherent) memory that mirrors a process address space.
 * Modelled: `dmirror_device_init` + `dmirror_allocate_chunk` (`memremap_pages`),
 * `dmirror_fops_open` (an interval notifier over the whole mm),
 * `dmirror_interval_invalidate` (skips its own MMU_NOTIFY_MIGRATE), `dmirror_fault` →
 * `dmirror_range_fault` (the driver loop around `hmm_range_fault`) → `dmirror_do_fault`,
 * `dmirror_read`/`dmirror_write` (device accesses through the mirror table),
 * `dmirror_migrate_to_device` (+ `dmirror_migrate_alloc_and_copy`, which skips
 * ZONE_DEVICE sources, `dmirror_migrate_finalize_and_map`, and the read-back through
 * `dmirror_do_read` that reports -ENOENT and `cmd->cpages`), `dmirror_migrate_to_system`,
 * `dmirror_devmem_fault` (the `migrate_to_ram` callback) with
 * `dmirror_devmem_fault_alloc_and_copy`, `dmirror_devmem_free` (`page_free`), and
 * `dmirror_device_evict_chunk` (release of device memory through
 * `migrate_device_range`).
 *
 * Page contents are values (`folio.data`): the "device" copies them with
 * `copy_highpage` as dmirror does (its device memory is system RAM behind the
 * device-private struct pages), so a round trip can be checked value by value.
 *
 * Also `dmirror_read`/`dmirror_write` over many pages (`cmd->cpages`, `cmd->faults`),
 * `dmirror_snapshot` (HMM_DMIRROR_SNAPSHOT: `dmirror_range_snapshot`,
 * `dmirror_mkentry`'s HMM_DMIRROR_PROT_* bytes) and HMM_DMIRROR_RELEASE
 * (`dmirror_device_remove_chunks` → `dmirror_device_evict_chunk`).
 *
 * Also HMM_DMIRROR_EXCLUSIVE (`dmirror_exclusive`: `make_device_exclusive` per page since
 * 6.15, `make_device_exclusive_range` per 64 pages before, and `dmirror_atomic_map`'s
 * DPT_XA_TAG_ATOMIC entries) and HMM_DMIRROR_CHECK_EXCLUSIVE (`dmirror_check_atomic`).
 *
 * Simplifications: the mirror table is a map from address to folio (xa_store of the
 * page pointer, no reference held, as in test_hmm); the mirror mutex is the sim's
 * mutex; no THP chunks; RELEASE
 * evicts the device's pages but keeps its chunk mapped (no memunmap_pages: the device
 * can take pages again at once); the ioctl entry is one costed step.
 */

import { VM_READ, VM_WRITE, folioIsDeviceCoherent, folioIsDevicePrivate, folioIsZoneDevice, folioTrylock, folioUnlock, type Folio, type PhysicalMemory } from "@foliosim/folio";
import { VM_FAULT_OOM, VM_FAULT_SIGBUS, findVma, mmapReadLock, mmapReadUnlock, type MmStruct, type VmFault } from "@foliosim/mm";
import { ModelError, Mutex, currentMachine, mutexLock, mutexUnlock, noteRead, op, traced, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import "./costs.js";
import { EBUSY, EFAULT, EPERM, HMM_PFN_ERROR, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE, hmmPfnToPfn, hmmRangeFaultRetry, type HmmRange } from "./hmm.js";
import { DevPagemap, devicePageAlloc, folioPgmap, memremapPages, type DevPagemapOps, type MemoryType, allPagemaps } from "./memremap.js";
import {
  DST_HOLDER,
  EINVAL,
  MIGRATE_PFN_MIGRATE,
  MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_DEVICE_COHERENT,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM,
  migrateDeviceFinalize,
  migrateDevicePages,
  migrateDeviceRange,
  migratePfn,
  migratePfnToFolio,
  migrateVmaFinalize,
  migrateVmaPages,
  migrateVmaSetup,
  newMigrateVma,
  pfnToFolio,
  type MigrateVma,
} from "./migrate-device.js";
import { mmuIntervalNotifierInsert, mmuIntervalSetSeq, type MmuIntervalNotifier, type MmuIntervalNotifierOps, type MmuNotifierRange } from "@foliosim/mm";
import { PAGE_SIZE } from "@foliosim/mm";
import { putUserPage } from "@foliosim/gup";
import { deviceExclusiveSinglePage, makeDeviceExclusive, makeDeviceExclusiveRange } from "./device-exclusive.js";

export const ENOENT = -2;

/** `struct dmirror_device` (the owner every pgmap_owner / dev_private_owner compares with). */
export class DmirrorDevice {
  readonly pgmap: DevPagemap;
  readonly mirrors: Dmirror[] = [];
  constructor(
    readonly machine: Machine,
    readonly name: string,
    /** System memory for `migrate_to_ram` and eviction targets. */
    readonly memory: PhysicalMemory,
    pages: number,
    type: MemoryType,
  ) {
    this.pgmap = new DevPagemap(name, type, pages, this, allPagemaps(machine).length);
    memremapPages(machine, this.pgmap, new DmirrorPagemapOps(this));
  }
}

/** `dmirror_devmem_ops`: methods over a device (not closures per device, so a machine snapshot can copy it). */
class DmirrorPagemapOps implements DevPagemapOps {
  constructor(readonly mdevice: DmirrorDevice) {}
  pageFree(m: Machine, f: Folio): void {
    dmirrorDevmemFree(m, this.mdevice, f);
  }
  migrateToRam(vmf: VmFault, f: Folio): TaskGen<number> {
    return dmirrorDevmemFault(this.mdevice, vmf, f);
  }
}

/** One mirrored entry: the folio the device reaches at that address, and whether it may write. */
export interface MirrorEntry {
  folio: Folio;
  write: boolean;
  /** DPT_XA_TAG_ATOMIC: mapped by HMM_DMIRROR_EXCLUSIVE (readable, not writable, by the device). */
  atomic?: boolean;
}

/** `struct dmirror`: one open of the device by a process. */
export class Dmirror {
  readonly pt = new Map<number, MirrorEntry>();
  readonly mutex: Mutex;
  notifier!: MmuIntervalNotifier;
  constructor(
    readonly dev: DmirrorDevice,
    readonly mm: MmStruct,
    readonly name: string,
  ) {
    this.mutex = new Mutex(`${name} mutex`);
  }
}

/** `dmirror_device_init` + `dmirror_allocate_chunk`: a device with `pages` pages of device memory. */
export function dmirrorDeviceCreate(m: Machine, name: string, memory: PhysicalMemory, pages: number, type: MemoryType = "MEMORY_DEVICE_PRIVATE"): DmirrorDevice {
  return new DmirrorDevice(m, name, memory, pages, type);
}

/** `dmirror_fops_open`: mirror `mm` (an interval notifier over the whole address space). */
export function dmirrorOpen(dev: DmirrorDevice, mm: MmStruct, name = `${dev.name}/${mm.name}`): Dmirror {
  const d = new Dmirror(dev, mm, name);
  d.notifier = mmuIntervalNotifierInsert(mm, 0, 2 ** 47, new DmirrorMinOps(d), name);
  dev.mirrors.push(d);
  return d;
}

/** `dmirror_mrn_ops` (a method over the mirror, not a closure, so a machine snapshot can copy it). */
class DmirrorMinOps implements MmuIntervalNotifierOps {
  constructor(readonly dmirror: Dmirror) {}
  /** `dmirror_interval_invalidate`: its own migrations do not concern the mirror. */
  invalidate(m: Machine, sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): void {
    const d = this.dmirror;
    if (range.event === "MMU_NOTIFY_MIGRATE" && range.owner === d.dev) return;
    mmuIntervalSetSeq(m, sub, curSeq);
    for (const addr of [...d.pt.keys()]) if (addr >= range.start && addr < range.end) d.pt.delete(addr);
  }
}

/** `dmirror_devmem_free` (`page_free`): the device page returns to the driver; no mirror may still point at it. */
function dmirrorDevmemFree(m: Machine, dev: DmirrorDevice, f: Folio): void {
  for (const d of dev.mirrors) for (const [addr, e] of d.pt) if (e.folio === f) d.pt.delete(addr);
  m.emit("dmirror_devmem_free", f.name);
}

function ioctl(label: string): Op<void> {
  return op({ kind: "ioctl", label, cost: "hmmIoctl", run: () => undefined });
}

function copyPage(dst: Folio, src: Folio | null): Op<void> {
  return op({
    kind: "copy_highpage",
    label: src ? "copy_highpage" : "clear_highpage",
    reads: src ? [src.flagsWord] : [],
    writes: [dst.flagsWord],
    cost: "hmmDeviceCopyPage",
    run: (m) => {
      dst.data = src ? src.data : 0;
      m.markWrite(dst.flagsWord);
    },
  });
}

function mirrorUpdate<R>(d: Dmirror, label: string, fn: (m: Machine) => R): Op<R> {
  return op({ kind: "mirror_update", label, writes: [d.mutex], cost: "hmmMirrorUpdate", run: (m) => fn(m) });
}

// ------------------------------------------------------------------------ device faults

/**
 * `dmirror_fault(dmirror, start, end, write)`: `dmirror_range_fault` (the
 * `hmm_range_fault` loop, HMM_PFN_REQ_FAULT [| REQ_WRITE], dev_private_owner = this
 * device) and `dmirror_do_fault` (store the pages in the mirror table).
 */
export function dmirrorFault(d: Dmirror, start: number, end: number, write: boolean): TaskGen<number> {
  return traced("dmirror_fault", dmirrorFaultBody(d, start, end, write));
}

function* dmirrorFaultBody(d: Dmirror, start: number, end: number, write: boolean): TaskGen<number> {
  const n = (end - start) / PAGE_SIZE;
  const range: HmmRange = {
    notifier: d.notifier,
    notifierSeq: 0,
    start,
    end,
    hmmPfns: new Array(n).fill(0),
    defaultFlags: HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
    pfnFlagsMask: 0,
    devPrivateOwner: d.dev,
  };
  const ret = yield* traced("dmirror_range_fault", hmmRangeFaultRetry(range, () => once(mutexLock(d.mutex)), () => once(mutexUnlock(d.mutex))));
  if (ret) return ret;
  const m = currentMachine();
  const err = yield* mirrorUpdate(d, "dmirror_do_fault", () => {
    for (let i = 0; i < n; i++) {
      const v = range.hmmPfns[i];
      const f = pfnToFolio(m, hmmPfnToPfn(v));
      if (!f) throw new ModelError("dmirror_do_fault", d.name, `no page at pfn 0x${hmmPfnToPfn(v).toString(16)}`);
      // A read-only answer to a write request (this device's own read-only
      // device-private entry, which hmm_range_fault reports without faulting):
      // WARN_ON(range->default_flags & HMM_PFN_WRITE) and -EFAULT.
      if (!(v & HMM_PFN_WRITE) && range.defaultFlags & HMM_PFN_REQ_WRITE) {
        m.event("dmirror_do_fault_read_only", f.name).arg("addr", "0x" + (start + i * PAGE_SIZE).toString(16));
        return EFAULT;
      }
      d.pt.set(start + i * PAGE_SIZE, { folio: f, write: (v & HMM_PFN_WRITE) !== 0 });
    }
    return 0;
  });
  yield* mutexUnlock(d.mutex);
  return err;
}

function* once<R>(o: Op<R>): TaskGen<R> {
  return yield* o;
}

export interface DeviceAccess {
  ret: number;
  /** The first page's value (what a one-page access reads or wrote). */
  value: unknown;
  /** Every page's value read (or written), up to the first page not reached. */
  values: unknown[];
  /** Device faults taken (`cmd->faults`). */
  faults: number;
  /** Pages the device accessed (`cmd->cpages`, the bounce buffer's count). */
  cpages: number;
}

/** `dmirror_read` of one page: read through the mirror, faulting it in (`dmirror_fault`) when absent. */
export function dmirrorRead(d: Dmirror, addr: number, npages = 1): TaskGen<DeviceAccess> {
  return traced("dmirror_read", dmirrorAccess(d, addr, npages, false, undefined));
}

/** `dmirror_write` of `npages` pages (`values[i]` to page i, or one value to all): needs writable mirror entries. */
export function dmirrorWrite(d: Dmirror, addr: number, value: unknown, npages = 1): TaskGen<DeviceAccess> {
  return traced("dmirror_write", dmirrorAccess(d, addr, npages, true, value));
}

/**
 * `dmirror_read` / `dmirror_write`: `dmirror_do_read`/`_write` over the range under the
 * mirror mutex, counting pages in the bounce buffer (`cpages`); at the first page not
 * mirrored (or not writable, for a write) it stops with -ENOENT, and `dmirror_fault`
 * faults the rest of the range in one `hmm_range_fault` (`cmd->faults++`) before the
 * next try.
 */
function* dmirrorAccess(d: Dmirror, start: number, npages: number, write: boolean, value: unknown): TaskGen<DeviceAccess> {
  const end = start + npages * PAGE_SIZE;
  const valueOf = (i: number) => (Array.isArray(value) ? value[i] : value);
  const values: unknown[] = [];
  let faults = 0;
  for (;;) {
    yield* mutexLock(d.mutex);
    const ok = yield* op({
      kind: "device_access",
      label: write ? "dmirror_do_write" : "dmirror_do_read",
      writes: [d.mutex],
      cost: "hmmDeviceAccess",
      run: (m) => {
        for (let i = values.length; i < npages; i++) {
          const e = d.pt.get(start + i * PAGE_SIZE);
          if (!e || (write && !e.write)) return false;
          if (write) {
            e.folio.data = valueOf(i);
            m.markWrite(e.folio.flagsWord);
          }
          if (!write) m.noteRead(e.folio.flagsWord); // the page's contents
          values.push(e.folio.data);
        }
        return true;
      },
    });
    yield* mutexUnlock(d.mutex);
    if (ok) return { ret: 0, value: values[0], values, faults, cpages: values.length };
    const ret = yield* dmirrorFault(d, start + values.length * PAGE_SIZE, end, write);
    if (ret) return { ret, value: values[0], values, faults, cpages: values.length };
    faults++;
  }
}

// ------------------------------------------------------------------------ snapshot

/** include/uapi test_hmm_uapi.h: what HMM_DMIRROR_SNAPSHOT reports per page. */
export const HMM_DMIRROR_PROT = {
  HMM_DMIRROR_PROT_ERROR: 0xff,
  HMM_DMIRROR_PROT_NONE: 0x00,
  HMM_DMIRROR_PROT_READ: 0x01,
  HMM_DMIRROR_PROT_WRITE: 0x02,
  HMM_DMIRROR_PROT_PMD: 0x04,
  HMM_DMIRROR_PROT_PUD: 0x08,
  HMM_DMIRROR_PROT_ZERO: 0x10,
  HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL: 0x20,
  HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE: 0x30,
  HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL: 0x40,
  HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE: 0x50,
} as const;

/** `dmirror_mkentry`: the HMM_DMIRROR_PROT_* byte of one `hmm_pfns` entry. */
function dmirrorMkentry(d: Dmirror, entry: number): number {
  const P = HMM_DMIRROR_PROT;
  if (entry & HMM_PFN_ERROR) return P.HMM_DMIRROR_PROT_ERROR;
  if (!(entry & HMM_PFN_VALID)) return P.HMM_DMIRROR_PROT_NONE;
  const f = pfnToFolio(d.dev.machine, hmmPfnToPfn(entry));
  const local = f !== null && folioPgmap(f)?.owner === d.dev;
  let perm: number = P.HMM_DMIRROR_PROT_NONE;
  if (f && folioIsDevicePrivate(f)) perm = local ? P.HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL : P.HMM_DMIRROR_PROT_DEV_PRIVATE_REMOTE;
  else if (f && folioIsDeviceCoherent(f)) perm = local ? P.HMM_DMIRROR_PROT_DEV_COHERENT_LOCAL : P.HMM_DMIRROR_PROT_DEV_COHERENT_REMOTE;
  else if (f?.zero) perm = P.HMM_DMIRROR_PROT_ZERO;
  return perm | (entry & HMM_PFN_WRITE ? P.HMM_DMIRROR_PROT_WRITE : P.HMM_DMIRROR_PROT_READ);
}

export interface SnapshotResult {
  ret: number;
  /** Pages reported (`cmd->cpages`). */
  cpages: number;
  /** One HMM_DMIRROR_PROT_* byte per page reported. */
  perms: number[];
}

/** `dmirror_snapshot`'s chunk: 32 `hmm_pfns` at a time. */
const SNAPSHOT_CHUNK = 32;

/**
 * `dmirror_snapshot` (HMM_DMIRROR_SNAPSHOT): `dmirror_range_snapshot` over 32-page
 * chunks — `hmm_range_fault` with no fault requested (`default_flags` 0,
 * `dev_private_owner` this device) retried until the interval sequence holds, then one
 * HMM_DMIRROR_PROT_* byte per page (`dmirror_mkentry`) under the mirror mutex.
 * Simplification: the walk uses the mirror's own interval notifier rather than a
 * temporary one over the chunk (the same invalidations make it retry).
 */
export function dmirrorSnapshot(d: Dmirror, start: number, npages: number): TaskGen<SnapshotResult> {
  return traced("dmirror_snapshot", dmirrorSnapshotBody(d, start, npages));
}

function* dmirrorSnapshotBody(d: Dmirror, start: number, npages: number): TaskGen<SnapshotResult> {
  yield* ioctl("HMM_DMIRROR_SNAPSHOT");
  const end = start + npages * PAGE_SIZE;
  const perms: number[] = [];
  for (let addr = start; addr < end; ) {
    const next = Math.min(addr + SNAPSHOT_CHUNK * PAGE_SIZE, end);
    const n = (next - addr) / PAGE_SIZE;
    const range: HmmRange = { notifier: d.notifier, notifierSeq: 0, start: addr, end: next, hmmPfns: new Array(n).fill(0), defaultFlags: 0, pfnFlagsMask: 0, devPrivateOwner: d.dev };
    const ret = yield* traced("dmirror_range_snapshot", hmmRangeFaultRetry(range, () => once(mutexLock(d.mutex)), () => once(mutexUnlock(d.mutex))));
    if (ret) return { ret, cpages: perms.length, perms };
    yield* op({ kind: "device_access", label: "dmirror_mkentry", writes: [d.mutex], cost: "hmmDeviceAccess", run: () => void perms.push(...range.hmmPfns.map((v) => dmirrorMkentry(d, v))) });
    yield* mutexUnlock(d.mutex);
    addr = next;
  }
  return { ret: 0, cpages: perms.length, perms };
}

// ------------------------------------------------------------------------ exclusive access

export interface ExclusiveAccess {
  /** 0, -EBUSY (≤ 6.14: a page not made exclusive), GUP's errno, -EOPNOTSUPP, or the read-back's -ENOENT. */
  ret: number;
  /** Pages the read-back found mirrored (`cmd->cpages`). */
  cpages: number;
  /** The values the read-back returned ("the migrated data for verification"). */
  values: unknown[];
}

/** `dmirror_atomic_map`: store DPT_XA_TAG_ATOMIC entries for the pages made exclusive; how many. */
function dmirrorAtomicMap(d: Dmirror, start: number, pages: (Folio | null)[]): TaskGen<number> {
  return traced(
    "dmirror_atomic_map",
    (function* () {
      yield* mutexLock(d.mutex);
      const mapped = yield* mirrorUpdate(d, "xa_store(DPT_XA_TAG_ATOMIC)", () => {
        let n = 0;
        pages.forEach((f, i) => {
          if (f === null) return;
          d.pt.set(start + i * PAGE_SIZE, { folio: f, write: false, atomic: true });
          n++;
        });
        return n;
      });
      yield* mutexUnlock(d.mutex);
      return mapped;
    })(),
  );
}

/**
 * `dmirror_exclusive` (HMM_DMIRROR_EXCLUSIVE): make `npages` pages from `start`
 * exclusive to the device and map them atomic in the mirror, under mmap_lock for
 * reading; then read the range back (`dmirror_do_read`) for verification. Since 6.15
 * one page at a time (`make_device_exclusive`, its error ends the loop); up to 6.14 per
 * 64 pages (`make_device_exclusive_range`), mapping them only when every page was
 * made exclusive, and -EBUSY when one was not.
 */
export function dmirrorExclusive(d: Dmirror, start: number, npages: number): TaskGen<ExclusiveAccess> {
  return traced("dmirror_exclusive", dmirrorExclusiveBody(d, start, npages));
}

function* dmirrorExclusiveBody(d: Dmirror, start: number, npages: number): TaskGen<ExclusiveAccess> {
  yield* ioctl("HMM_DMIRROR_EXCLUSIVE");
  const end = start + npages * PAGE_SIZE;
  yield* mmapReadLock(d.mm);
  const ret = deviceExclusiveSinglePage() ? yield* exclusivePages(d, start, end) : yield* exclusiveRanges(d, start, end);
  yield* mmapReadUnlock(d.mm);
  if (ret) return { ret, cpages: 0, values: [] };
  yield* mutexLock(d.mutex);
  const back = yield* dmirrorDoRead(d, start, npages);
  yield* mutexUnlock(d.mutex);
  const values = [...Array(back.cpages).keys()].map((i) => {
    const f = d.pt.get(start + i * PAGE_SIZE)?.folio;
    if (f) noteRead(f.flagsWord); // the page's contents, read with the unlock
    return f?.data;
  });
  return { ret: back.ret, cpages: back.cpages, values };
}

/** 6.15+: `make_device_exclusive` + `dmirror_atomic_map` + `folio_unlock`/`folio_put` per page. */
function* exclusivePages(d: Dmirror, start: number, end: number): TaskGen<number> {
  for (let addr = start; addr < end; addr += PAGE_SIZE) {
    const r = yield* makeDeviceExclusive(d.mm, addr, null);
    if (r.folio === null) return r.err;
    yield* dmirrorAtomicMap(d, addr, [r.folio]);
    yield* folioUnlock(r.folio);
    yield* putUserPage(r.folio);
  }
  return 0;
}

/** ≤ 6.14: `make_device_exclusive_range` per 64 pages; -EBUSY unless every page was mapped. */
function* exclusiveRanges(d: Dmirror, start: number, end: number): TaskGen<number> {
  for (let addr = start; addr < end; ) {
    const next = Math.min(end, addr + 64 * PAGE_SIZE);
    const n = (next - addr) / PAGE_SIZE;
    const pages: (Folio | null)[] = new Array(n).fill(null);
    const ret = yield* makeDeviceExclusiveRange(d.mm, addr, next, pages, null);
    const mapped = ret === n ? yield* dmirrorAtomicMap(d, addr, pages) : 0;
    for (let i = 0; i < ret; i++) {
      const f = pages[i];
      if (!f) continue;
      yield* folioUnlock(f);
      yield* putUserPage(f);
    }
    if (mapped < n) return EBUSY;
    addr = next;
  }
  return 0;
}

/** `dmirror_check_atomic` (HMM_DMIRROR_CHECK_EXCLUSIVE): -EPERM while a page of the range is still mapped atomic. */
export function dmirrorCheckExclusive(d: Dmirror, start: number, npages: number): TaskGen<number> {
  return traced(
    "dmirror_check_atomic",
    (function* () {
      yield* ioctl("HMM_DMIRROR_CHECK_EXCLUSIVE");
      return yield* op({
        kind: "device_access",
        label: "dmirror_check_atomic",
        reads: [d.mutex],
        cost: "hmmDeviceAccess",
        run: () => {
          for (let i = 0; i < npages; i++) if (d.pt.get(start + i * PAGE_SIZE)?.atomic) return EPERM;
          return 0;
        },
      });
    })(),
  );
}

// ------------------------------------------------------------------------ migration

export interface MigrateResult {
  /**
   * The ioctl's return: 0; -EINVAL, or `migrate_vma_setup`'s error. After a migration
   * to the device, -ENOENT when the read-back (`dmirror_do_read`) finds a page of the
   * range the device does not mirror — a page that did not migrate and was not mirrored
   * before.
   */
  ret: number;
  /** Pages that migrated (`dmirror_successful_migrated_pages`). */
  migrated: number;
  /**
   * `cmd->cpages` as lib/test_hmm.c sets it: to the device, the pages the read-back
   * found mirrored before it stopped (`bounce.cpages`; the kernel copies `cmd` back to
   * user space only when `ret` is 0); to system memory, the pages that migrated.
   */
  cpages: number;
  /** `args.cpages` after `migrate_vma_setup`: the pages collected (holes included). */
  collected: number;
  /** `args.src` after `migrate_vma_pages` (for checks). */
  src: number[];
}

function successfulMigrated(args: MigrateVma): number {
  let n = 0;
  for (let i = 0; i < args.npages; i++) if (args.dst![i] && args.src![i] & MIGRATE_PFN_MIGRATE) n++;
  return n;
}

function* migrateRange(d: Dmirror, start: number, npages: number, label: string, flags: number, toDevice: boolean): TaskGen<MigrateResult> {
  const mm = d.mm;
  const end = start + npages * PAGE_SIZE;
  yield* ioctl(label);
  yield* mmapReadLock(mm);
  const vma = findVma(mm, start);
  if (!vma || !(vma.flags & VM_READ) || end > vma.end) {
    yield* mmapReadUnlock(mm);
    return { ret: EINVAL, migrated: 0, cpages: 0, collected: 0, src: [] };
  }
  const args = newMigrateVma({ vma, start, end, pgmapOwner: d.dev, flags });
  const ret = yield* migrateVmaSetup(args);
  if (ret) {
    yield* mmapReadUnlock(mm);
    return { ret, migrated: 0, cpages: 0, collected: 0, src: [] };
  }
  const collected = args.cpages;
  if (toDevice) yield* dmirrorMigrateAllocAndCopy(args, d);
  else yield* dmirrorDevmemFaultAllocAndCopy(args, d.dev);
  yield* migrateVmaPages(args);
  if (toDevice) yield* dmirrorMigrateFinalizeAndMap(args, d);
  const src = args.src!.slice();
  const migrated = successfulMigrated(args);
  yield* migrateVmaFinalize(args);
  yield* mmapReadUnlock(mm);
  if (!toDevice) return { ret: 0, migrated, cpages: migrated, collected, src };
  // "Return the migrated data for verification": dmirror_do_read of the whole range.
  yield* mutexLock(d.mutex);
  const back = yield* dmirrorDoRead(d, start, npages);
  yield* mutexUnlock(d.mutex);
  return { ret: back.ret, migrated, cpages: back.cpages, collected, src };
}

/** `dmirror_do_read(dmirror, start, end, bounce)` (mirror mutex held): -ENOENT at the first page not mirrored. */
function dmirrorDoRead(d: Dmirror, start: number, npages: number): Op<{ ret: number; cpages: number }> {
  return op({
    kind: "device_access",
    label: "dmirror_do_read",
    writes: [d.mutex],
    cost: "hmmDeviceAccess",
    run: () => {
      for (let i = 0; i < npages; i++) if (!d.pt.has(start + i * PAGE_SIZE)) return { ret: ENOENT, cpages: i };
      return { ret: 0, cpages: npages };
    },
  });
}

/**
 * `dmirror_migrate_to_device` (HMM_DMIRROR_MIGRATE_TO_DEV): migrate `npages` from
 * `start` into device memory. `select` defaults to MIGRATE_VMA_SELECT_SYSTEM as in
 * test_hmm; a GPU driver moving a whole range (drm_gpusvm, S6) also selects its own
 * device-private pages.
 */
export function dmirrorMigrateToDevice(d: Dmirror, start: number, npages: number, select = MIGRATE_VMA_SELECT_SYSTEM): TaskGen<MigrateResult> {
  return traced("dmirror_migrate_to_device", migrateRange(d, start, npages, "HMM_DMIRROR_MIGRATE_TO_DEV", select, true));
}

/** `dmirror_migrate_to_system` (HMM_DMIRROR_MIGRATE_TO_SYS): bring this device's pages of the range back. */
export function dmirrorMigrateToSystem(d: Dmirror, start: number, npages: number): TaskGen<MigrateResult> {
  const select = d.dev.pgmap.type === "MEMORY_DEVICE_COHERENT" ? MIGRATE_VMA_SELECT_DEVICE_COHERENT : MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
  return traced("dmirror_migrate_to_system", migrateRange(d, start, npages, "HMM_DMIRROR_MIGRATE_TO_SYS", select, false));
}

/** `dmirror_migrate_alloc_and_copy`: a device page per selected entry, contents copied (or cleared for a hole). */
function* dmirrorMigrateAllocAndCopy(args: MigrateVma, d: Dmirror): TaskGen<void> {
  const m = currentMachine();
  for (let i = 0; i < args.npages; i++) {
    const s = args.src![i];
    if (!(s & MIGRATE_PFN_MIGRATE)) continue;
    const spage = migratePfnToFolio(m, s);
    // "Don't migrate device private pages from our own driver or others."
    if (spage && folioIsZoneDevice(spage)) continue;
    const dpage = yield* devicePageAlloc(d.dev.pgmap, DST_HOLDER);
    if (!dpage) continue;
    yield* copyPage(dpage, spage);
    const write = (s & MIGRATE_PFN_WRITE) !== 0 || (!spage && (args.vma!.flags & VM_WRITE) !== 0);
    args.dst![i] = migratePfn(dpage.pfn) | (write ? MIGRATE_PFN_WRITE : 0);
  }
}

/** `dmirror_migrate_finalize_and_map`: the device maps what it now holds. */
function* dmirrorMigrateFinalizeAndMap(args: MigrateVma, d: Dmirror): TaskGen<void> {
  const m = currentMachine();
  yield* mutexLock(d.mutex);
  yield* mirrorUpdate(d, "dmirror_migrate_finalize_and_map", () => {
    for (let i = 0; i < args.npages; i++) {
      if (!(args.src![i] & MIGRATE_PFN_MIGRATE)) continue;
      const dpage = migratePfnToFolio(m, args.dst![i]);
      if (!dpage) continue;
      d.pt.set(args.start + i * PAGE_SIZE, { folio: dpage, write: (args.dst![i] & MIGRATE_PFN_WRITE) !== 0 });
    }
  });
  yield* mutexUnlock(d.mutex);
}

/** `dmirror_devmem_fault_alloc_and_copy`: a system page per selected device page; mirrors drop the device page. */
function* dmirrorDevmemFaultAllocAndCopy(args: MigrateVma, dev: DmirrorDevice): TaskGen<number> {
  const m = currentMachine();
  for (let i = 0; i < args.npages; i++) {
    const s = args.src![i];
    const spage = migratePfnToFolio(m, s);
    if (!spage || !(s & MIGRATE_PFN_MIGRATE)) continue;
    const dpage = yield* dev.memory.allocFolio({ movable: true }, DST_HOLDER);
    if (!dpage) return VM_FAULT_OOM;
    if (!(yield* folioTrylock(dpage))) throw new ModelError("lock_page", dpage.name, "a fresh page is locked");
    for (const mir of dev.mirrors) {
      yield* mirrorUpdate(mir, "xa_erase(&dmirror->pt)", () => {
        for (const [addr, e] of mir.pt) if (e.folio === spage) mir.pt.delete(addr);
      });
    }
    yield* copyPage(dpage, spage);
    args.dst![i] = migratePfn(dpage.pfn) | (s & MIGRATE_PFN_WRITE);
  }
  return 0;
}

/**
 * `dmirror_devmem_fault`, the `migrate_to_ram` callback: migrate the faulting page
 * (`fault_page`, locked and referenced by `do_swap_page` since 6.15) back to system
 * memory. Returns 0, VM_FAULT_SIGBUS if `migrate_vma_setup` fails, VM_FAULT_OOM.
 */
export function dmirrorDevmemFault(dev: DmirrorDevice, vmf: VmFault, folio: Folio): TaskGen<number> {
  return traced("dmirror_devmem_fault", dmirrorDevmemFaultBody(dev, vmf, folio));
}

function* dmirrorDevmemFaultBody(dev: DmirrorDevice, vmf: VmFault, folio: Folio): TaskGen<number> {
  const select = dev.pgmap.type === "MEMORY_DEVICE_COHERENT" ? MIGRATE_VMA_SELECT_DEVICE_COHERENT : MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
  const args = newMigrateVma({ vma: vmf.vma, start: vmf.address, end: vmf.address + PAGE_SIZE, pgmapOwner: dev, flags: select, faultPage: folio });
  if (yield* migrateVmaSetup(args)) return VM_FAULT_SIGBUS;
  const r = yield* dmirrorDevmemFaultAllocAndCopy(args, dev);
  if (r) return r;
  yield* migrateVmaPages(args);
  yield* migrateVmaFinalize(args);
  return 0;
}

/**
 * `dmirror_device_evict_chunk` (release of device memory, HMM_DMIRROR_RELEASE and
 * device removal): `migrate_device_range` over the whole chunk, a system page and a
 * copy for every selected page, `migrate_device_pages`, `migrate_device_finalize`.
 * Returns how many pages were evicted.
 */
export function dmirrorDeviceEvictChunk(dev: DmirrorDevice): TaskGen<number> {
  return traced("dmirror_device_evict_chunk", dmirrorDeviceEvictChunkBody(dev));
}

function* dmirrorDeviceEvictChunkBody(dev: DmirrorDevice): TaskGen<number> {
  const m = currentMachine();
  const n = dev.pgmap.nr;
  const src = new Array<number>(n).fill(0);
  const dst = new Array<number>(n).fill(0);
  yield* migrateDeviceRange(src, dev.pgmap.basePfn, n);
  for (let i = 0; i < n; i++) {
    const spage = migratePfnToFolio(m, src[i]);
    if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE)) continue;
    const dpage = yield* dev.memory.allocFolio({ movable: true }, DST_HOLDER);
    // __GFP_NOFAIL would loop and OOM-kill in the kernel: the scenario's machine is too small.
    if (!dpage) throw new ModelError("dmirror_device_evict_chunk", dev.name, "__GFP_NOFAIL allocation failed (no system memory left: the scenario's machine has run out of memory: give machine.memory more pages)", true);
    yield* folioTrylock(dpage);
    yield* copyPage(dpage, spage);
    dst[i] = migratePfn(dpage.pfn);
  }
  yield* migrateDevicePages(src, dst, n);
  let evicted = 0;
  for (let i = 0; i < n; i++) if (dst[i] && src[i] & MIGRATE_PFN_MIGRATE) evicted++;
  yield* migrateDeviceFinalize(src, dst, n);
  return evicted;
}

