/**
 * A migration back-off policy for migrate_pages (mm/migrate.c): on a move-stage
 * -EAGAIN of a longterm-pin migration, sleep before the next pass, doubling the
 * sleep each time (1, 2, 4, … ms: about 1 s over the 10 passes), so a transient
 * reference has time to go.
 *
 *   if (rc == -EAGAIN && reason == MR_LONGTERM_PIN)
 *           msleep(1 << nr_eagain++);
 *
 * On S4 (transient-ref, a 500 ms reference) the pin succeeds where mainline fails,
 * at the price of the sleeps in virtual time.
 */

import type { Folio } from "@foliosim/folio";
import type { MigrateHook } from "@foliosim/migrate";
import { defineVariant, msleep } from "@foliosim/sim";

/** -EAGAINs per source folio so far (task-local bookkeeping: folios are per execution). */
const eagains = new WeakMap<Folio, number>();

const moveAgain: MigrateHook["moveAgain"] = function* (src, call) {
  if (call.reason !== "MR_LONGTERM_PIN") return "retry";
  const n = eagains.get(src) ?? 0;
  eagains.set(src, n + 1);
  yield* msleep(1 << n);
  return "retry";
};

export default defineVariant({
  id: "migrate-exp-backoff",
  point: "migrate",
  source: "example: exponential msleep() between move passes of a longterm-pin migration",
  hook: { moveAgain },
});
