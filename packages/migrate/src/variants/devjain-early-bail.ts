/**
 * Variant `devjain-early-bail` — Dev Jain, "[PATCH 1/2] mm: Retry migration earlier
 * upon refcount mismatch" (linux-mm, Aug 2024; seed 001). Not merged.
 *
 * In `migrate_folio_unmap`, once the source is unmapped, a reference count other than
 * the expected one takes the undo path at once (unlock, restore the mappings) and
 * returns -EAGAIN, so a task that holds a reference while sleeping on the folio lock
 * can run, finish and drop it before the next pass: the `unmapped` hook.
 */

import { folioExpectedRefCount, type Folio } from "@foliosim/folio";
import { defineVariant, op, type TaskGen } from "@foliosim/sim";
import type {} from "./points.js";

/** The patch's check: `folio_ref_count(src) != folio_expected_refs(mapping, src)` on an unmapped source. */
export function* devjainRefcountMismatch(src: Folio): TaskGen<boolean> {
  return yield* op({
    kind: "folio_ref_count",
    label: "folio_ref_count (early bail check)",
    reads: [src.ref, src.map, src.flagsWord],
    cost: "plain",
    run: (m) => {
      const expected = folioExpectedRefCount(src) + 1;
      const mismatch = src.refcount !== expected;
      if (mismatch) m.event("migrate_early_bail", src.name).arg("count", src.refcount).arg("expected", expected);
      return mismatch;
    },
  });
}

export const devjainEarlyBailVariant = defineVariant({
  id: "devjain-early-bail",
  point: "migrate",
  source: "Dev Jain, \"[PATCH 1/2] mm: Retry migration earlier upon refcount mismatch\" (linux-mm, Aug 2024)",
  hook: { unmapped: devjainRefcountMismatch },
});
