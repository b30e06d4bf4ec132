/**
 * Variant `david-waiters-backoff-inbatch` — a variation of David Hildenbrand's proposal
 * (./david-waiters-backoff.ts; seed 001), not what he wrote: on a move-stage -EAGAIN
 * with PG_waiters set, undo source and destination as he proposed, but instead of
 * leaving the folio on `ret_folios` for the caller, put it back on the batch's own list
 * and send it through the unmap passes this `migrate_pages_batch` call has left. It
 * retries under MIGRATE_ASYNC too, where David's form gives the folio up. Kept as the
 * model's first reading of the thread, for comparison. The `moveAgain` hook answers
 * "back-off" when `folio_test_waiters`.
 */

import { folioTestFlag, type Folio } from "@foliosim/folio";
import { defineVariant, type TaskGen } from "@foliosim/sim";
import type { MoveAgain } from "./points.js";

function* moveAgain(src: Folio): TaskGen<MoveAgain> {
  return (yield* folioTestFlag(src, "waiters")) ? "back-off" : "retry";
}

export const davidWaitersBackoffInBatchVariant = defineVariant({
  id: "david-waiters-backoff-inbatch",
  point: "migrate",
  source: "a variation of David Hildenbrand's reply to Dev Jain (linux-mm, Aug 2024): the backed-off folio retried within the same migrate_pages_batch call",
  hook: { moveAgain },
});
