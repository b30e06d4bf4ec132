/**
 * Reference counting (include/linux/page_ref.h, include/linux/mm.h `folio_get`,
 * `folio_try_get`, `folio_put`, `folio_put_refs`, `folio_ref_freeze`/`unfreeze`;
 * mm/swap.c `__folio_put`).
 *
 * Every change emits the event the kernel's page_ref tracepoints emit
 * (include/trace/events/page_ref.h): `page_ref_mod`, `page_ref_mod_and_test`,
 * `page_ref_mod_unless`, `page_ref_freeze`, `page_ref_unfreeze`, with
 * `pfn flags count mapcount mapping mt val [ret]`. `mapcount` is printed raw, as the
 * kernel does (`_mapcount`, biased by -1: an unmapped page prints -1).
 *
 * Each reference is attributed to a holder ("pagecache", "map", "lru_add", "pin", ...)
 * so invariants can check `_refcount` against who should hold it. Misuse — a get on a
 * free folio, a put below zero, a put by a holder that holds nothing — is a ModelError.
 */

import { ModelError, noteChange, op, uncheckedReadsBegin, uncheckedReadsEnd, type Machine, type Op } from "@foliosim/sim";
import { Folio, MIGRATETYPE, mappingPointer, pfnHex } from "./folio.js";
import { formatFlags } from "./page-flags.js";

export type PageRefEvent = "page_ref_mod" | "page_ref_mod_and_test" | "page_ref_mod_unless" | "page_ref_freeze" | "page_ref_unfreeze";

/** Emit a page_ref tracepoint for `f` after a change of `val`. */
export function tracePageRef(m: Machine, event: PageRefEvent, f: Folio, val: number, ret?: number): void {
  const quiet = uncheckedReadsBegin(); // the tracepoint's fields decide nothing (footprint checking)
  const e = m
    .event(event, f.name)
    .arg("pfn", pfnHex(f.pfn))
    .arg("flags", formatFlags(f.flags))
    .arg("count", f.refcount)
    .arg("mapcount", f.mapcount - 1)
    .arg("mapping", mappingPointer(f.mapping))
    .arg("mt", MIGRATETYPE[f.migratetype])
    .arg("val", val);
  if (ret !== undefined) e.arg("ret", ret);
  uncheckedReadsEnd(quiet);
}

const RELEASE_HOOKS = Symbol("folio-release-hooks");

/** Called when a folio's last reference goes, before it returns to its zone (e.g. LRU removal). */
export function onFolioRelease(m: Machine, hook: (m: Machine, f: Folio) => void): void {
  let hooks = m.ext.get(RELEASE_HOOKS) as ((m: Machine, f: Folio) => void)[] | undefined;
  if (!hooks) m.ext.set(RELEASE_HOOKS, (hooks = []));
  if (!hooks.includes(hook)) hooks.push(hook);
}

const PUT_HOOKS = Symbol("folio-put-hooks");

/**
 * Called inside every `folio_put` after the decrement (a model variant that hooks
 * `folio_put`, such as a `wake_up_var` behind a static key, registers here).
 */
export function onFolioPut(m: Machine, hook: (m: Machine, f: Folio) => void): void {
  let hooks = m.ext.get(PUT_HOOKS) as ((m: Machine, f: Folio) => void)[] | undefined;
  if (!hooks) m.ext.set(PUT_HOOKS, (hooks = []));
  if (!hooks.includes(hook)) hooks.push(hook);
}

/** `__folio_put`: the last reference is gone. */
function folioFree(m: Machine, f: Folio): void {
  const hooks = m.ext.get(RELEASE_HOOKS) as ((m: Machine, f: Folio) => void)[] | undefined;
  if (hooks) for (const h of hooks) h(m, f);
  m.event("mm_page_free", f.name).arg("pfn", pfnHex(f.pfn)).arg("order", f.order);
  m.count("folio_freed");
  f.resetForFree();
  // The free clears the flags and the mapping too (free_pages_prepare): a pfn walker sees it.
  m.noteWrite(f.flagsWord);
  m.noteWrite(f.map);
  const freeList = f.freeTarget.freeFootprint?.(f);
  if (freeList !== undefined) m.noteWrite(freeList);
  f.freeTarget.freeFolio(f, m);
}

function changeRef(m: Machine, f: Folio, who: string, holder: string, delta: number): void {
  if (delta > 0 && f.refcount <= 0) throw new ModelError(who, f.name, `taking a reference on a folio whose count is ${f.refcount}`);
  if (delta < 0) {
    if (f.refcount + delta < 0) throw new ModelError(who, f.name, `putting ${-delta} reference(s) on a folio whose count is ${f.refcount}`);
    if (f.holderCount(holder) + delta < 0) {
      throw new ModelError(who, f.name, `dropping a "${holder}" reference that is not held (holders: ${describeHolders(f)})`);
    }
  }
  f.refcount += delta;
  f.addHolder(holder, delta);
  m.markWrite(f.ref);
}

export function describeHolders(f: Folio): string {
  if (f.holders.size === 0) return "none";
  return [...f.holders].map(([h, n]) => `${h}=${n}`).join(", ");
}

/** `folio_get`. */
export function folioGet(f: Folio, holder: string): Op<void> {
  return folioRefAdd(f, 1, holder, "folio_get");
}

/** `folio_ref_add` (`page_ref_mod` with any value: a GUP pin adds 1024). */
export function folioRefAdd(f: Folio, n: number, holder: string, label = "folio_ref_add"): Op<void> {
  return op({
    kind: "folio_ref_add",
    label,
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      changeRef(m, f, label, holder, n);
      tracePageRef(m, "page_ref_mod", f, n);
    },
  });
}

/** `folio_try_get`: +1 unless the count is 0 (free or frozen). */
export function folioTryGet(f: Folio, holder: string): Op<boolean> {
  return op({
    kind: "folio_try_get",
    label: "folio_try_get",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => {
      if (f.refcount === 0) {
        tracePageRef(m, "page_ref_mod_unless", f, 1, 0);
        return false;
      }
      changeRef(m, f, "folio_try_get", holder, 1);
      tracePageRef(m, "page_ref_mod_unless", f, 1, 1);
      return true;
    },
  });
}

/** `folio_put`: frees the folio when the count reaches zero. Returns whether it was freed. */
export function folioPut(f: Folio, holder: string, label = "folio_put"): Op<boolean> {
  return folioPutRefs(f, 1, holder, label);
}

/** `folio_put_refs`. */
export function folioPutRefs(f: Folio, n: number, holder: string, label = "folio_put_refs"): Op<boolean> {
  return op({
    kind: "folio_put",
    label,
    writes: [f.ref],
    cost: "atomic",
    run: (m) => putNow(m, f, n, holder, label),
  });
}

/** The body of a put, for ops that drop references as part of a larger atomic step. */
export function putNow(m: Machine, f: Folio, n: number, holder: string, who: string): boolean {
  changeRef(m, f, who, holder, -n);
  const freed = f.refcount === 0;
  tracePageRef(m, "page_ref_mod_and_test", f, -n, freed ? 1 : 0);
  const hooks = m.ext.get(PUT_HOOKS) as ((m: Machine, f: Folio) => void)[] | undefined;
  if (hooks) for (const h of hooks) h(m, f);
  if (freed) folioFree(m, f);
  return freed;
}

/** The body of a get, for ops that take references as part of a larger atomic step. */
export function getNow(m: Machine, f: Folio, n: number, holder: string, who: string): void {
  changeRef(m, f, who, holder, n);
  tracePageRef(m, "page_ref_mod", f, n);
}

/** Move `n` references from one holder to another (ownership changes hands, count unchanged). */
export function transferHolder(f: Folio, from: string, to: string, n = 1): void {
  if (f.holderCount(from) < n) throw new ModelError("transfer_reference", f.name, `"${from}" holds ${f.holderCount(from)}, cannot hand ${n} to "${to}"`);
  f.addHolder(from, -n);
  f.addHolder(to, n);
  // Called inside ops and between them: the ledger is model bookkeeping, not a write.
  noteChange(f.ref);
}

/** `folio_ref_freeze`: replace exactly `count` by 0. */
export function folioRefFreeze(f: Folio, count: number): Op<boolean> {
  return op({
    kind: "folio_ref_freeze",
    label: "folio_ref_freeze",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => refFreezeNow(m, f, count),
  });
}

export function refFreezeNow(m: Machine, f: Folio, count: number): boolean {
  const ok = f.refcount === count;
  if (ok) {
    f.refcount = 0;
    f.frozenAt = count;
    m.markWrite(f.ref);
  }
  tracePageRef(m, "page_ref_freeze", f, count, ok ? 1 : 0);
  return ok;
}

/**
 * `folio_ref_unfreeze`: set the count back to `count`. References that do not come
 * back (migration hands the cache references to the new folio) leave their holders:
 * `dropped` names them.
 */
export function refUnfreezeNow(m: Machine, f: Folio, count: number, dropped: Record<string, number> = {}): void {
  if (f.refcount !== 0 || f.frozenAt === undefined) throw new ModelError("folio_ref_unfreeze", f.name, "folio is not frozen");
  for (const [holder, n] of Object.entries(dropped)) {
    if (f.holderCount(holder) < n) throw new ModelError("folio_ref_unfreeze", f.name, `"${holder}" holds fewer than ${n}`);
    f.addHolder(holder, -n);
  }
  f.refcount = count;
  f.frozenAt = undefined;
  m.markWrite(f.ref);
  tracePageRef(m, "page_ref_unfreeze", f, count);
}

export function folioRefUnfreeze(f: Folio, count: number, dropped: Record<string, number> = {}): Op<void> {
  return op({
    kind: "folio_ref_unfreeze",
    label: "folio_ref_unfreeze",
    writes: [f.ref],
    cost: "atomic",
    run: (m) => refUnfreezeNow(m, f, count, dropped),
  });
}

/** Sum of the holders ledger; equals `_refcount` whenever the folio is not frozen. */
export function holderTotal(f: Folio): number {
  let n = 0;
  for (const v of f.holders.values()) n += v;
  return n;
}
