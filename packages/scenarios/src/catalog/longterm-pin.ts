/**
 * The promise most catalog races share: a FOLL_LONGTERM pin of one page returns 1 and
 * leaves the page in memory that may stay pinned (it was migrated out of CMA or
 * ZONE_MOVABLE first). One definition, so every entry checks the same thing; likewise
 * the set-up most of them start from.
 */

import { call } from "../builder.js";
import type { Step } from "../schema.js";

export const LONGTERM_PIN_PROMISE = { summary: "the longterm pin returns 1 page and the pinned folio is longterm-pinnable" };

/** `pin_user_pages(addr, 1, FOLL_LONGTERM | FOLL_WRITE)`, bound as `pin`, expected to keep the promise. */
export function longtermPinOnePage(addr: string, args: Record<string, unknown> = {}): Step {
  return call("pin_user_pages", { addr, pages: 1, ...args }, { as: "pin", expect: [{ field: "ret", equals: 1 }, { field: "longtermPinnable", equals: true }] });
}

/** Set-up: one anonymous page mapped at `$buf` on CPU0, written (faulted in) and drained to the inactive LRU. */
export function anonPageOnLru(drainNote?: string): Step[] {
  return [
    call("mmap", { pages: 1 }, { as: "buf", cpu: 0 }),
    call("touch", { addr: "$buf", write: true }, { cpu: 0 }),
    call("lru_add_drain", {}, drainNote === undefined ? { cpu: 0 } : { cpu: 0, note: drainNote }),
  ];
}
