/**
 * MMU interval notifiers (mm/mmu_notifier.c, include/linux/mmu_notifier.h):
 * `mmu_interval_notifier_insert`, `mmu_interval_read_begin`,
 * `mmu_interval_check_retry`, `mmu_interval_read_retry`, `mmu_interval_set_seq`, and
 * `mmu_notifier_invalidate_range_start/end` with `mm_has_notifiers`. Every path of
 * the model that changes a PTE a device may mirror brackets the change with them, as
 * the kernel does: `unmap_vmas` (MMU_NOTIFY_UNMAP), `try_to_migrate_one` and
 * `wp_page_copy` (MMU_NOTIFY_CLEAR), `copy_page_range` of a COW mapping
 * (MMU_NOTIFY_PROTECTION_PAGE), `migrate_vma_collect` (MMU_NOTIFY_MIGRATE with the
 * pgmap owner), `make_device_exclusive` and `remove_device_exclusive_entry`
 * (MMU_NOTIFY_EXCLUSIVE).
 *
 * Simplifications: the per-mm `invalidate_seq` machinery is reduced to one sequence
 * per interval notifier and a count of invalidations in progress per mm;
 * `mmu_interval_read_begin` sleeps while one is in progress (the kernel waits for the
 * mm's invalidation sequence to move). Callbacks run inside the start step (one step
 * per subscriber). Only interval notifiers exist. `mm_has_notifiers` is true once an
 * interval notifier was inserted in the mm; without one the start/end calls of the mm
 * paths are no steps at all (the kernel's static check), so runs without a mirror keep
 * their traces.
 */

import { Block, Cell, Shared, defineCosts, op, type Machine, type Op, type TaskGen } from "@foliosim/sim";
import type { MmStruct } from "./mm-types.js";

defineCosts({
  /** One `mmu_notifier_invalidate_range_start`/`_end` pair: SRCU read lock, the
   *  interval-tree lookup and the subscribers' callbacks (dmirror takes its mutex and
   *  zaps its mirror table): ~500 ns on a quiet system. (Also listed in HMM_COSTS.) */
  hmmNotifierInvalidate: 500,
});

/** `enum mmu_notifier_event` (the values the model's paths raise). */
export type MmuNotifyEvent = "MMU_NOTIFY_UNMAP" | "MMU_NOTIFY_CLEAR" | "MMU_NOTIFY_PROTECTION_PAGE" | "MMU_NOTIFY_PROTECTION_VMA" | "MMU_NOTIFY_MIGRATE" | "MMU_NOTIFY_EXCLUSIVE";

export interface MmuNotifierRange {
  mm: MmStruct;
  start: number;
  end: number;
  event: MmuNotifyEvent;
  /** `range->owner` (the migrating driver's pgmap owner), or null. */
  owner: object | null;
}

/** `struct mmu_interval_notifier_ops`. */
export interface MmuIntervalNotifierOps {
  /** Returns whether it handled the invalidation; a subscriber that cares calls `setSeq`. */
  invalidate(m: Machine, sub: MmuIntervalNotifier, range: MmuNotifierRange, curSeq: number): void;
}

/** `struct mmu_interval_notifier`. */
export class MmuIntervalNotifier extends Shared {
  /** `invalidate_seq`. */
  readonly seq: Cell<number>;
  constructor(
    readonly mm: MmStruct,
    readonly start: number,
    readonly end: number,
    readonly ops: MmuIntervalNotifierOps,
    name: string,
  ) {
    super(`mmu_interval_notifier ${name}`);
    this.seq = new Cell(`${name} invalidate_seq`, 0, { sequence: true });
  }
}

class MmSubscriptions extends Shared {
  readonly notifiers: MmuIntervalNotifier[] = [];
  /** Invalidations in progress (between range_start and range_end). */
  active = 0;
  /** The mm-wide sequence handed to callbacks. */
  seq = 0;
  /** The sequence only moves forward: the livelock detector sees invalidations in progress. */
  override stateDigest(): number {
    return this.active;
  }
}

const SUBS = Symbol("hmm-mmu-subscriptions");

function subscriptions(mm: MmStruct): MmSubscriptions {
  const m = mm.machine;
  let map = m.ext.get(SUBS) as Map<MmStruct, MmSubscriptions> | undefined;
  if (!map) m.ext.set(SUBS, (map = new Map()));
  let s = map.get(mm);
  if (!s) map.set(mm, (s = new MmSubscriptions(`${mm.name} notifier_subscriptions`)));
  return s;
}

/** `mm_has_notifiers(mm)`: whether any notifier was ever registered on `mm` (no step). */
export function mmHasNotifiers(mm: MmStruct): boolean {
  const map = mm.machine.ext.get(SUBS) as Map<MmStruct, MmSubscriptions> | undefined;
  return (map?.get(mm)?.notifiers.length ?? 0) > 0;
}

/** `mmu_interval_notifier_insert(sub, mm, start, length, ops)` (set-up: no step). */
export function mmuIntervalNotifierInsert(mm: MmStruct, start: number, end: number, ops: MmuIntervalNotifierOps, name: string): MmuIntervalNotifier {
  const sub = new MmuIntervalNotifier(mm, start, end, ops, name);
  subscriptions(mm).notifiers.push(sub);
  return sub;
}

/** `mmu_interval_set_seq(sub, cur_seq)`: called by the subscriber's invalidate under its lock. */
export function mmuIntervalSetSeq(m: Machine, sub: MmuIntervalNotifier, curSeq: number): void {
  sub.seq.value = curSeq;
  m.markWrite(sub.seq);
}

/** `mmu_interval_read_begin(sub)`: wait for invalidations in progress, return the sequence. */
export function mmuIntervalReadBegin(sub: MmuIntervalNotifier): Op<number> {
  const s = subscriptions(sub.mm);
  return op({
    kind: "mmu_interval_read_begin",
    label: "mmu_interval_read_begin",
    reads: [s, sub.seq],
    cost: "atomic",
    block: Block.Sleep,
    mightSleep: true,
    enabled: () => s.active === 0,
    waitFor: `mmu_interval_read_begin(${sub.name})`,
    run: () => sub.seq.value,
  });
}

/** `mmu_interval_check_retry(sub, seq)`: a lockless test whether an invalidation happened. */
export function mmuIntervalCheckRetry(sub: MmuIntervalNotifier, seq: number): Op<boolean> {
  return op({ kind: "mmu_interval_check_retry", label: "mmu_interval_check_retry", reads: [sub.seq], cost: "plain", run: () => sub.seq.value !== seq });
}

/** `mmu_interval_read_retry(sub, seq)`: the same, under the driver's lock. */
export const mmuIntervalReadRetry = mmuIntervalCheckRetry;

/** `mmu_notifier_invalidate_range_start(range)`: every overlapping interval subscriber's invalidate. */
export function mmuNotifierInvalidateRangeStart(mm: MmStruct, start: number, end: number, event: MmuNotifyEvent, owner: object | null): Op<void> {
  const s = subscriptions(mm);
  const subs = s.notifiers.filter((n) => n.start < end && start < n.end);
  return op({
    kind: "mmu_notifier_invalidate_range_start",
    label: "mmu_notifier_invalidate_range_start",
    writes: [s, ...subs.map((n) => n.seq)],
    cost: "hmmNotifierInvalidate",
    run: (m) => {
      s.active++;
      s.seq += 2;
      m.markWrite(s);
      const range: MmuNotifierRange = { mm, start, end, event, owner };
      for (const n of subs) n.ops.invalidate(m, n, range, s.seq);
      m.event("mmu_notifier_invalidate_range_start", mm.name).arg("start", "0x" + start.toString(16)).arg("end", "0x" + end.toString(16)).arg("event", event);
    },
  });
}

/** `mmu_notifier_invalidate_range_end(range)`. */
export function mmuNotifierInvalidateRangeEnd(mm: MmStruct): Op<void> {
  const s = subscriptions(mm);
  return op({
    kind: "mmu_notifier_invalidate_range_end",
    label: "mmu_notifier_invalidate_range_end",
    writes: [s],
    cost: "plain",
    run: (m) => {
      s.active--;
      m.markWrite(s);
    },
  });
}

/**
 * `mmu_notifier_invalidate_range_start(range)` as the mm paths call it: nothing at all
 * unless `mm_has_notifiers(mm)`. Returns whether it notified; pass that to
 * `mmuNotifierInvalidateEnd` (a notifier inserted in between must not see an end only).
 */
export function* mmuNotifierInvalidateStart(mm: MmStruct, start: number, end: number, event: MmuNotifyEvent, owner: object | null = null): TaskGen<boolean> {
  if (!mmHasNotifiers(mm)) return false;
  yield* mmuNotifierInvalidateRangeStart(mm, start, end, event, owner);
  return true;
}

/** `mmu_notifier_invalidate_range_end(range)` pairing with `mmuNotifierInvalidateStart`. */
export function* mmuNotifierInvalidateEnd(mm: MmStruct, notified: boolean): TaskGen<void> {
  if (notified) yield* mmuNotifierInvalidateRangeEnd(mm);
}

/** Run `body` bracketed by invalidate start/end (as the kernel's callers do). */
export function* withInvalidation<R>(mm: MmStruct, start: number, end: number, event: MmuNotifyEvent, owner: object | null, body: TaskGen<R>): TaskGen<R> {
  yield* mmuNotifierInvalidateRangeStart(mm, start, end, event, owner);
  const r = yield* body;
  yield* mmuNotifierInvalidateRangeEnd(mm);
  return r;
}
