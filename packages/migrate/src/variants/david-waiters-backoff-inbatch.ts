/**
 * Variant `david-waiters-backoff-inbatch` — a variation of David Hildenbrand's proposal
 * (./david-waiters-backoff.ts; seed 001), not what he wrote: on a move-stage -EAGAIN
 * with PG_waiters set, undo source and destination as he proposed, but instead of
 * leaving the folio on `ret_folios` for the caller, put it back on the batch's own list
 * and send it through the unmap passes this `migrate_pages_batch` call has left. It
 * retries under MIGRATE_ASYNC too, where David's form gives the folio up. Kept as the
 * model's first reading of the thread, for comparison. Selected by
 * `m.kernel.migrate === "david-waiters-backoff-inbatch"`.
 */

import type { Machine } from "@foliosim/sim";

export function davidWaitersBackoffInBatch(m: Machine): boolean {
  return m.kernel.migrate === "david-waiters-backoff-inbatch";
}
