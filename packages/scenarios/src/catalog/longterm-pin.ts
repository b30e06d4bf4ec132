/**
 * The promise most catalog races share: a FOLL_LONGTERM pin of one page returns 1 and
 * leaves the page in memory that may stay pinned (it was migrated out of CMA or
 * ZONE_MOVABLE first). One definition, so every entry checks the same thing; likewise
 * the set-up most of them start from.
 */

import { call } from "../builder.js";
import type { Scenario, Step } from "../schema.js";

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

/** S1's machine (seed 004): eight CPUs, the guest memfd's folios in CMA. */
export function pkvmMachine(): Scenario["machine"] {
  return { cpus: 8, preemption: "voluntary", memory: { CMA: 8, Normal: 128 } };
}

/**
 * S1's set-up on CPU7 (seed 004): crosvm's guest memfd (`memfd` adds to its arguments)
 * and libfoo.so, the guest mapped at `$guest` VM_LOCKED | VM_LOCKONFAULT.
 */
export function pkvmGuestSetup(memfd: Record<string, unknown> = {}): Step[] {
  return [
    call("memfd_create", { name: "crosvm_guest", pages: 16, ...memfd }, { cpu: 7 }),
    call("open_file", { name: "libfoo.so", pages: 64 }, { cpu: 7 }),
    call("mmap", { pages: 16, file: "crosvm_guest", shared: true }, { as: "guest", cpu: 7 }),
    call("mlock2", { addr: "$guest", pages: 16, onfault: true }, { cpu: 7, note: "VM_LOCKED | VM_LOCKONFAULT" }),
  ];
}

/** S4's parameter (seed 000): how long the transient reference is held. */
export function transientHoldParam() {
  return { default: 500_000_000, description: "how long the transient reference is held (ns)", values: [1_000, 500_000_000, 2_000_000_000] };
}
