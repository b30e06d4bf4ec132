/**
 * Test support (not exported from the package): the S6 world of reference §12.6 built
 * as a program on the machine, and small helpers.
 */

import { PhysicalMemory, type Folio } from "@foliosim/folio";
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, copyNonpresentPte, createMm, mmInvariants, mmap, touch, type MmStruct } from "@foliosim/mm";
import { Machine, firstChooser, type Chooser, type Policy, type PreemptionModel, type RunResult, type TaskGen } from "@foliosim/sim";
import { hmmInit } from "./memory-device.js";
import { MIGRATE_VMA_SELECT_DEVICE_PRIVATE, MIGRATE_VMA_SELECT_SYSTEM } from "./migrate-device.js";
import { dmirrorDeviceCreate, dmirrorMigrateToDevice, dmirrorOpen, dmirrorRead, type DeviceAccess, type Dmirror, type DmirrorDevice, type MigrateResult } from "./test-hmm.js";
import type { HmmVariant } from "./variants/select.js";

export interface World {
  m: Machine;
  mem: PhysicalMemory;
  mms: MmStruct[];
  devices: DmirrorDevice[];
  /** Every folio the world may touch (system and device), for the invariants. */
  folios(): Folio[];
  check(): string | null;
}

export function world(cfg: { cpus?: number; preemption?: PreemptionModel; variant?: HmmVariant; maxSteps?: number; costs?: Record<string, number> } = {}): World {
  const m = new Machine({
    cpus: cfg.cpus ?? 2,
    preemption: cfg.preemption ?? "voluntary",
    kernel: cfg.variant ? { hmm: cfg.variant } : {},
    maxSteps: cfg.maxSteps ?? 1_000_000,
    costs: cfg.costs,
  });
  hmmInit(m);
  const mem = new PhysicalMemory({ Normal: 64 });
  const w: World = {
    m,
    mem,
    mms: [],
    devices: [],
    folios: () => [...mem.allFolios(), ...w.devices.flatMap((d) => d.pgmap.folios)],
    check: () => mmInvariants(m, w.folios()),
  };
  return w;
}

export function newMm(w: World, name: string): MmStruct {
  const mm = createMm(w.m, { memory: w.mem, name });
  w.mms.push(mm);
  return mm;
}

export function device(w: World, name: string, pages = 16): DmirrorDevice {
  const d = dmirrorDeviceCreate(w.m, name, w.mem, pages);
  w.devices.push(d);
  return d;
}

/** Run a sequential set-up step on `cpu` outside the explored schedule. */
export function setup(w: World, cpu: number, body: () => TaskGen<void>): void {
  w.m.spawn({ name: `setup${cpu}`, cpu, body });
  w.m.settle(firstChooser);
  if (w.m.status !== "running") throw new Error(`set-up failed: ${w.m.status} ${w.m.failure?.message ?? w.m.hang?.message ?? ""}`);
}

/** Run `body` as a task on `cpu` to completion and return its result (a sequential step). */
export function step<R>(w: World, cpu: number, body: () => TaskGen<R>): R {
  const out: { r?: R } = {};
  setup(w, cpu, function* () {
    out.r = yield* body();
  });
  return out.r as R;
}

export function* anonMap(mm: MmStruct, pages: number): TaskGen<number> {
  return yield* mmap(mm, { length: pages * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
}

/** A user write of `value` to `addr` (faulting the page in on this CPU). */
export function* userWrite(mm: MmStruct, addr: number, value: unknown): TaskGen<Folio> {
  const f = yield* touch(mm, addr, true);
  f.data = value;
  return f;
}

/** A user read of `addr`: its value. */
export function* userRead(mm: MmStruct, addr: number): TaskGen<unknown> {
  const f = yield* touch(mm, addr, false);
  return f.data;
}

export interface S6 {
  w: World;
  mmA: MmStruct;
  mmB: MmStruct;
  dA: Dmirror;
  dB: Dmirror;
  /** The range A migrates: page 0 is S (system, in CPU1's lru_add batch), page 1 is D (device-private, mapped twice). */
  r: number;
  /** D's second mapping, in mmB, which B faults through hmm_range_fault. */
  rb: number;
  S: Folio;
  D: Folio;
  /** Filled in as A and B run. */
  out: { a?: MigrateResult; aStart?: number; aEnd?: number; b?: DeviceAccess; bStart?: number; bEnd?: number };
}

/**
 * S6 (reference §12.6): range R of process A = [S, D]; S is a system folio still in
 * CPU1's lru_add batch; D is device X's private folio, mapped by A and (after fork's
 * copy) by process B. Task A (CPU0) migrates R to device X with SELECT_SYSTEM |
 * SELECT_DEVICE_PRIVATE; task B (CPU1, `bPolicy`) reads D's other mapping through
 * device Y's `hmm_range_fault`.
 */
export function buildS6(cfg: { variant: HmmVariant; bPolicy?: Policy; preemption?: PreemptionModel; maxSteps?: number; spawn?: boolean }): S6 {
  const w = world({ variant: cfg.variant, preemption: cfg.preemption ?? "none", maxSteps: cfg.maxSteps });
  const mmA = newMm(w, "procA");
  const mmB = newMm(w, "procB");
  const X = device(w, "dmirror0");
  const Y = device(w, "dmirror1");
  const dA = dmirrorOpen(X, mmA);
  const dB = dmirrorOpen(Y, mmB);
  const s6 = { w, mmA, mmB, dA, dB, r: 0, rb: 0, out: {} } as S6;
  setup(w, 0, function* () {
    s6.r = yield* anonMap(mmA, 2);
    s6.rb = yield* anonMap(mmB, 1);
    yield* userWrite(mmA, s6.r + PAGE_SIZE, "D-value");
    const res = yield* dmirrorMigrateToDevice(dA, s6.r + PAGE_SIZE, 1);
    if (res.migrated !== 1) throw new Error("set-up: D did not migrate to the device");
    yield* copyNonpresentPte(mmA, s6.r + PAGE_SIZE, mmB, s6.rb);
  });
  setup(w, 1, function* () {
    s6.S = yield* userWrite(mmA, s6.r, "S-value");
  });
  const pte = mmA.ptes.get((s6.r + PAGE_SIZE) / PAGE_SIZE)!.pte;
  if (pte.kind !== "device-private") throw new Error("set-up: D is not device-private");
  s6.D = pte.folio;
  if (cfg.spawn ?? true) spawnS6(s6, cfg.bPolicy ?? "normal");
  return s6;
}

export function spawnS6(s6: S6, bPolicy: Policy): void {
  const { w, dA, dB } = s6;
  w.m.spawn({
    name: "A",
    cpu: 0,
    *body() {
      s6.out.aStart = w.m.cpuClock(0);
      s6.out.a = yield* dmirrorMigrateToDevice(dA, s6.r, 2, MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_DEVICE_PRIVATE);
      s6.out.aEnd = w.m.cpuClock(0);
    },
  });
  w.m.spawn({
    name: "B",
    cpu: 1,
    policy: bPolicy,
    *body() {
      s6.out.bStart = w.m.cpuClock(1);
      s6.out.b = yield* dmirrorRead(dB, s6.rb);
      s6.out.bEnd = w.m.cpuClock(1);
    },
  });
}

export function run(w: World, chooser: Chooser = firstChooser): RunResult {
  return w.m.run(chooser);
}
