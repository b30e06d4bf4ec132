/**
 * The built-in catalog: the races of the seed threads, each with a fixed id.
 */

import "../calls/basic.js";
import "../calls/memory.js";
import "../calls/hmm.js";
import "../calls/observe.js";
import "../world-memory.js";
import { suggest } from "../kernels.js";
import type { Scenario } from "../schema.js";
import activateBatch from "./activate-batch.js";
import anonLruAddBatch from "./anon-lru-add-batch.js";
import hmmDrainLivelock from "./hmm-drain-livelock.js";
import hmmFaultStorm from "./hmm-fault-storm.js";
import hmmMigrateCycle from "./hmm-migrate-cycle.js";
import lockWaiterRef from "./lock-waiter-ref.js";
import pinCleanUnpinnable from "./pin-clean-unpinnable.js";
import pkvmMlockCma from "./pkvm-mlock-cma.js";
import pkvmSameCpu from "./pkvm-same-cpu.js";
import transientRef from "./transient-ref.js";
import unisolatableFolio from "./unisolatable-folio.js";

export const CATALOG: readonly Scenario[] = [pkvmMlockCma, anonLruAddBatch, activateBatch, transientRef, lockWaiterRef, unisolatableFolio, pinCleanUnpinnable, hmmDrainLivelock, hmmFaultStorm, hmmMigrateCycle, pkvmSameCpu];

export class UnknownScenarioError extends Error {
  override readonly name = "UnknownScenarioError";
}

export function getScenario(id: string): Scenario {
  const s = CATALOG.find((x) => x.id === id);
  if (!s) throw new UnknownScenarioError(`unknown scenario "${id}"${suggest(id, CATALOG.map((x) => x.id))}; the catalog: ${CATALOG.map((x) => x.id).join(", ")}`);
  return s;
}
