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
 * variation that retries within the same batch instead. The `moveAgain` hook answers
 * "give-up" when `folio_test_waiters`.
 */

import { folioTestFlag, type Folio } from "@foliosim/folio";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { MoveAgain } from "./points.js";

/** Give the folio up to the caller only when someone sleeps on its lock (PG_waiters). */
function* moveAgain(src: Folio): TaskGen<MoveAgain> {
  return (yield* folioTestFlag(src, "waiters")) ? "give-up" : "retry";
}

export const davidWaitersBackoffVariant = defineVariant({
  id: "david-waiters-backoff",
  point: "migrate",
  source: "David Hildenbrand's reply to Dev Jain's \"[PATCH 1/2] mm: Retry migration earlier upon refcount mismatch\" (linux-mm, 11 Aug 2024)",
  hook: { moveAgain },
});
