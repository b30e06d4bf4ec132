/**
 * Variant `david-waiters-backoff` — David Hildenbrand's reply to Dev Jain's "[PATCH 1/2]
 * mm: Retry migration earlier upon refcount mismatch" (linux-mm, 11 Aug 2024; seed 001).
 * Not merged.
 *
 * As David wrote it: "if we detect that there are waiters, we would undo src+dst and add
 * them to ret_folios, similar to what we do in 'Cleanup remaining folios' at the end of
 * migrate_pages_batch() ... So instead of retrying migration of that folio, just give it
 * up immediately and retry again later ... we would leave retrying these folios to the
 * caller, such as in migrate_pages_sync(), where we move ret_folios to the tail of
 * 'folios' and retry migration."
 *
 * In the move stage of `migrate_pages_batch`, a -EAGAIN on a folio whose lock has waiters
 * (`folio_test_waiters`) undoes source and destination (the waiter is handed the lock and
 * runs), puts the folio on `ret_folios` and counts it failed. Under MIGRATE_SYNC the
 * folio comes back in `migrate_pages_sync`'s one-by-one synchronous stage (whose own
 * back-offs are final); under MIGRATE_ASYNC nobody retries it and migration fails.
 * Without waiters nothing changes ("If it only has unexpected references, just keep
 * retrying"). `david-waiters-backoff-inbatch` (./david-waiters-backoff-inbatch.ts) is a
 * variation that retries within the same batch instead. Selected by
 * `m.kernel.migrate === "david-waiters-backoff"`.
 */

import type { Folio } from "@foliosim/folio";
import type { Machine } from "@foliosim/sim";
import { davidWaitersBackoffInBatch } from "./david-waiters-backoff-inbatch.js";

export function davidWaitersBackoff(m: Machine): boolean {
  return m.kernel.migrate === "david-waiters-backoff";
}

/**
 * Whether either form of the back-off would back off now (PG_waiters set). The model
 * itself tests PG_waiters with a `folio_test_waiters` operation.
 */
export function davidShouldBackOff(m: Machine, src: Folio): boolean {
  return (davidWaitersBackoff(m) || davidWaitersBackoffInBatch(m)) && src.lock.waiters;
}
