/**
 * Page flags (include/linux/page-flags.h) and their trace names
 * (include/trace/events/mmflags.h `__def_pageflag_names`, in the kernel's print order).
 *
 * Simplification: PG_swapcache is printed as "swapcache" (the kernel prints its
 * owner_priv_1 alias); PG_anon_exclusive is per page and kept on the folio.
 */

export const PG = {
  locked: 1 << 0,
  waiters: 1 << 1,
  referenced: 1 << 2,
  uptodate: 1 << 3,
  dirty: 1 << 4,
  lru: 1 << 5,
  active: 1 << 6,
  workingset: 1 << 7,
  private: 1 << 8,
  private_2: 1 << 9,
  writeback: 1 << 10,
  head: 1 << 11,
  swapbacked: 1 << 12,
  swapcache: 1 << 13,
  unevictable: 1 << 14,
  mlocked: 1 << 15,
  anon_exclusive: 1 << 16,
} as const;

export type PageFlag = keyof typeof PG;

const ORDER = Object.keys(PG) as PageFlag[];

/** `formatFlags` by flag word: trace events print a folio's flags at every reference change. */
const FORMATTED = new Map<number, string>();

/** `flags=` as the page_ref tracepoints print it: `locked|uptodate|lru`. */
export function formatFlags(flags: number): string {
  let s = FORMATTED.get(flags);
  if (s === undefined) {
    const names: string[] = [];
    for (const name of ORDER) if (flags & PG[name]) names.push(name);
    s = names.join("|");
    if (FORMATTED.size >= 1 << 12) FORMATTED.clear();
    FORMATTED.set(flags, s);
  }
  return s;
}

/** Parse a `|`-joined flag list (for scenario files and tests). */
export function parseFlags(text: string): number {
  let flags = 0;
  for (const part of text.split("|")) {
    const name = part.trim();
    if (!name) continue;
    if (!(name in PG)) throw new Error(`unknown page flag "${name}"`);
    flags |= PG[name as PageFlag];
  }
  return flags;
}
