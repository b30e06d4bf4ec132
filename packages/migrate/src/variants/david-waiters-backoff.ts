/**
 * Variant `david-waiters-backoff` — David Hildenbrand's reply to Dev Jain's patch
 * (linux-mm, Aug 2024; seed 001): "if we detect that a folio has unexpected
 * references *and* it has waiters (PG_waiters), back off then and retry the folio
 * later. If it only has unexpected references, just keep retrying". Not merged.
 *
 * In the move stage of `migrate_pages_batch`, a -EAGAIN on a folio whose lock has
 * waiters undoes source and destination (the waiter is handed the lock and runs) and
 * sends the folio back through the unmap stage while passes remain. Selected by
 * `m.kernel.migrate === "david-waiters-backoff"`.
 */

import type { Folio } from "@foliosim/folio";
import type { Machine } from "@foliosim/sim";

export function davidWaitersBackoff(m: Machine): boolean {
  return m.kernel.migrate === "david-waiters-backoff";
}

/** Back off only when someone sleeps on the folio lock (PG_waiters). */
export function davidShouldBackOff(m: Machine, src: Folio): boolean {
  return davidWaitersBackoff(m) && src.lock.waiters;
}
