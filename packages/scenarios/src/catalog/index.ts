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
import longtermPinEnomem from "./longterm-pin-enomem.js";
import pinCleanUnpinnable from "./pin-clean-unpinnable.js";
import pkvmMlockCma from "./pkvm-mlock-cma.js";
import pkvmMlockCmaConcurrent from "./pkvm-mlock-cma-concurrent.js";
import pkvmSameCpu from "./pkvm-same-cpu.js";
import pkvmSameCpuConcurrent from "./pkvm-same-cpu-concurrent.js";
import transientRef from "./transient-ref.js";
import transientRefConcurrent from "./transient-ref-concurrent.js";
import unisolatableFolio from "./unisolatable-folio.js";

/**
 * The concurrent forms of the seed races: the same race with the partner (the
 * readahead that flushes the batch, the holder of the transient reference) running as a
 * task beside the pin instead of in the sequential set-up or behind a fixed delay, so
 * that exploration covers the race window itself. Seed race → its concurrent form.
 */
const CONCURRENT: readonly [Scenario, Scenario][] = [
  [pkvmMlockCma, pkvmMlockCmaConcurrent],
  [transientRef, transientRefConcurrent],
  [pkvmSameCpu, pkvmSameCpuConcurrent],
];

/**
 * Catalog entries outside the headline set: their verdicts are found by PCT, but DPOR
 * does not prove them within seconds on every headline kernel, so `compare --all` does
 * not run them (`compare <id>` does).
 */
const OUTSIDE_HEADLINE: readonly Scenario[] = [longtermPinEnomem];

/**
 * Every catalog scenario: the seed races (ids are contracts, their order too), then
 * their concurrent forms, then the entries outside the headline set.
 */
export const CATALOG: readonly Scenario[] = [
  ...[pkvmMlockCma, anonLruAddBatch, activateBatch, transientRef, lockWaiterRef, unisolatableFolio, pinCleanUnpinnable, hmmDrainLivelock, hmmFaultStorm, hmmMigrateCycle, pkvmSameCpu],
  ...CONCURRENT.map(([, c]) => c),
  ...OUTSIDE_HEADLINE,
];

/** The concurrent form of a seed race, by the seed's id (undefined when it has none). */
export function concurrentFormOf(id: string): Scenario | undefined {
  return CONCURRENT.find(([s]) => s.id === id)?.[1];
}

/**
 * The headline scenarios (`compare --all`, the main job): the catalog in its order,
 * each seed race replaced by its concurrent form where it has one.
 */
export const HEADLINE_SCENARIOS: readonly Scenario[] = CATALOG.filter((s) => !CONCURRENT.some(([, c]) => c === s) && !OUTSIDE_HEADLINE.includes(s)).map((s) => concurrentFormOf(s.id) ?? s);

export class UnknownScenarioError extends Error {
  override readonly name = "UnknownScenarioError";
}

export function getScenario(id: string): Scenario {
  const s = CATALOG.find((x) => x.id === id);
  if (!s) throw new UnknownScenarioError(`unknown scenario "${id}"${suggest(id, CATALOG.map((x) => x.id))}; the catalog: ${CATALOG.map((x) => x.id).join(", ")}`);
  return s;
}
