/**
 * The `migrate` variation point: what `migrate_pages` (mm/migrate.c) does on -EAGAIN.
 * One file per variant beside this one, each citing its proposal:
 *
 * | id                       | file                        | source                                  |
 * |--------------------------|-----------------------------|-----------------------------------------|
 * | `mainline`               | ./mainline.ts               | mm/migrate.c: retry up to 10 passes     |
 * | `devjain-early-bail`     | ./devjain-early-bail.ts     | Dev Jain, Aug 2024: undo at unmap       |
 * | `david-waiters-backoff`  | ./david-waiters-backoff.ts  | David Hildenbrand, Aug 2024: PG_waiters |
 * | `david-waiters-backoff-inbatch` | ./david-waiters-backoff-inbatch.ts | a variation: retried in the batch |
 * | `jhubbard-refcount-wait` | ./jhubbard-refcount-wait.ts | John Hubbard, RFC Apr 2026: wait ≤ HZ   |
 *
 * An unset option runs `mainline`; an unknown one is an error naming these values.
 * The hook type is `MigrateHook` (./points.ts).
 */

import type { Folio } from "@foliosim/folio";
import { defineVariationPoint, resolveHook, resolveVariant, type Machine } from "@foliosim/sim";
import { davidWaitersBackoffVariant } from "./david-waiters-backoff.js";
import { davidWaitersBackoffInBatchVariant } from "./david-waiters-backoff-inbatch.js";
import { devjainEarlyBailVariant } from "./devjain-early-bail.js";
import { jhubbardRefcountWaitVariant } from "./jhubbard-refcount-wait.js";
import { mainline } from "./mainline.js";
import type { MigrateHook } from "./points.js";

export const MIGRATE_POINT = defineVariationPoint({
  name: "migrate",
  owner: "@foliosim/migrate",
  models: "mm/migrate.c migrate_pages: the -EAGAIN retry and back-off policy",
  shape: { begin: "function?", unmapped: "function?", unmapAgain: "function?", moveAgain: "function?", end: "function?" },
  builtins: [mainline, devjainEarlyBailVariant, davidWaitersBackoffVariant, jhubbardRefcountWaitVariant, davidWaitersBackoffInBatchVariant],
  defaultId: "mainline",
});

/** The retry policy the machine runs. */
export function migratePolicy(m: Machine): MigrateHook {
  return resolveHook(m, MIGRATE_POINT);
}

/** The id of the policy the machine runs. */
export function migrateVariantId(m: Machine): string {
  return resolveVariant(m, MIGRATE_POINT).id;
}

export function devjainEarlyBail(m: Machine): boolean {
  return migrateVariantId(m) === "devjain-early-bail";
}

export function davidWaitersBackoff(m: Machine): boolean {
  return migrateVariantId(m) === "david-waiters-backoff";
}

export function davidWaitersBackoffInBatch(m: Machine): boolean {
  return migrateVariantId(m) === "david-waiters-backoff-inbatch";
}

/**
 * Whether either form of the back-off would back off now (PG_waiters set). The model
 * itself tests PG_waiters with a `folio_test_waiters` operation.
 */
export function davidShouldBackOff(m: Machine, src: Folio): boolean {
  return (davidWaitersBackoff(m) || davidWaitersBackoffInBatch(m)) && src.lock.waiters;
}

export function jhubbardRefcountWait(m: Machine): boolean {
  return migrateVariantId(m) === "jhubbard-refcount-wait";
}
