/**
 * Test support (not exported from the package): a machine with physical memory, the
 * LRU invariants installed.
 */

import { PhysicalMemory, formatFlags, type Folio } from "@foliosim/folio";
import { Machine, firstChooser, type Chooser, type MachineConfig, type RunResult, type TaskGen } from "@foliosim/sim";
import { lruInvariants, refcountMatchesHolders } from "./invariants.js";

export interface Env {
  m: Machine;
  mem: PhysicalMemory;
  /** Folios allocated through `alloc`, checked by the installed invariants. */
  folios: Folio[];
  /** Allocate a folio (holder "alloc" unless given) and register it for the invariants. */
  alloc(order?: number, holder?: string): TaskGen<Folio>;
  /** Run to the end; an invariant failure or model error throws with its message. */
  run(chooser?: Chooser): RunResult;
  /** Run to the end whatever happens. */
  runRaw(chooser?: Chooser): RunResult;
}

export function env(config: Partial<MachineConfig> = {}, pages = 128): Env {
  // The drain counts these tests pin are without 6.18's local-first drain unless a test asks for it.
  const m = new Machine({ cpus: 2, ...config, kernel: { "lru-drain-all-local-first": false, ...config.kernel } });
  const mem = new PhysicalMemory({ Normal: pages });
  const folios: Folio[] = [];
  m.addInvariant("lru", (mm) => lruInvariants(mm, folios));
  m.addInvariant("refcount", () => refcountMatchesHolders(folios));
  return {
    m,
    mem,
    folios,
    *alloc(order = 0, holder = "alloc") {
      const f = yield* mem.allocFolio({ movable: false, order }, holder);
      if (!f) throw new Error("out of memory in test");
      folios.push(f);
      return f;
    },
    run(chooser = firstChooser) {
      const r = m.run(chooser);
      if (r.status === "invariant") throw new Error(`run failed at step ${r.failure?.step} (${r.failure?.operation}): ${r.failure?.message}`);
      return r;
    },
    runRaw(chooser = firstChooser) {
      return m.run(chooser);
    },
  };
}

/** A compact view of a folio for assertions. */
export function st(f: Folio): { ref: number; flags: string; lru: string | null; mlock_count: number } {
  return { ref: f.refcount, flags: formatFlags(f.flags), lru: f.lruList, mlock_count: f.mlockCount };
}
