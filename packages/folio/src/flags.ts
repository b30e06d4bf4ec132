/**
 * Atomic page-flag operations (include/linux/page-flags.h `folio_test_*`,
 * `folio_set_*`, `folio_clear_*`, `folio_test_set_*`, `folio_test_clear_*`).
 * PG_locked and PG_waiters are read from the folio lock (see folio-lock.ts).
 */

import { op, type Op } from "@foliosim/sim";
import type { Folio } from "./folio.js";
import { PG, type PageFlag } from "./page-flags.js";

function footprint(f: Folio, flag: PageFlag) {
  return flag === "locked" || flag === "waiters" ? f.lock : f.flagsWord;
}

export function folioTestFlag(f: Folio, flag: PageFlag): Op<boolean> {
  return op({
    kind: "folio_test_flag",
    label: `folio_test_${flag}`,
    reads: [footprint(f, flag)],
    cost: "plain",
    run: () => f.test(PG[flag]),
  });
}

export function folioSetFlag(f: Folio, flag: PageFlag): Op<void> {
  return op({
    kind: "folio_set_flag",
    label: `folio_set_${flag}`,
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (!f.test(PG[flag])) m.markWrite(f.flagsWord);
      f.setBits(PG[flag]);
    },
  });
}

export function folioClearFlag(f: Folio, flag: PageFlag): Op<void> {
  return op({
    kind: "folio_clear_flag",
    label: `folio_clear_${flag}`,
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      if (f.test(PG[flag])) m.markWrite(f.flagsWord);
      f.clearBits(PG[flag]);
    },
  });
}

/** `folio_test_set_<flag>`: returns the old value. */
export function folioTestSetFlag(f: Folio, flag: PageFlag): Op<boolean> {
  return op({
    kind: "folio_test_set_flag",
    label: `folio_test_set_${flag}`,
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      const old = f.test(PG[flag]);
      if (!old) {
        f.setBits(PG[flag]);
        m.markWrite(f.flagsWord);
      }
      return old;
    },
  });
}

/** `folio_test_clear_<flag>`: returns the old value. */
export function folioTestClearFlag(f: Folio, flag: PageFlag): Op<boolean> {
  return op({
    kind: "folio_test_clear_flag",
    label: `folio_test_clear_${flag}`,
    writes: [f.flagsWord],
    cost: "atomic",
    run: (m) => {
      const old = f.test(PG[flag]);
      if (old) {
        f.clearBits(PG[flag]);
        m.markWrite(f.flagsWord);
      }
      return old;
    },
  });
}

export const folioTestLru = (f: Folio) => folioTestFlag(f, "lru");
export const folioSetLru = (f: Folio) => folioSetFlag(f, "lru");
export const folioTestClearLru = (f: Folio) => folioTestClearFlag(f, "lru");
export const folioTestMlocked = (f: Folio) => folioTestFlag(f, "mlocked");
export const folioTestSetMlocked = (f: Folio) => folioTestSetFlag(f, "mlocked");
export const folioTestClearMlocked = (f: Folio) => folioTestClearFlag(f, "mlocked");
export const folioTestUnevictable = (f: Folio) => folioTestFlag(f, "unevictable");
