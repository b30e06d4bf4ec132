/**
 * Pageblock isolation (mm/page_isolation.c: `start_isolate_page_range` and
 * `undo_isolate_page_range`, through `set_migratetype_isolate` and
 * `unset_migratetype_isolate`), as `alloc_contig_range` (CMA allocation) and memory
 * offlining use it before they migrate a range away and drain the per-CPU lists
 * (`drain_all_pages`, page-alloc.ts).
 *
 * An isolated pageblock's migratetype reads MIGRATE_ISOLATE (`get_pfnblock_migratetype`):
 * a page freed into it goes straight to the buddy lists, never to a per-CPU list
 * (`free_frozen_pages`), and the buddy lists do not hand it out. Pages already on a
 * CPU's list stay there, and can still be allocated on that CPU, until a drain.
 *
 * Simplifications: isolation always succeeds (no `has_unmovable_pages` check, no
 * -EBUSY); free pages are not moved between buddy free lists (the allocator skips
 * isolated pageblocks instead). The step writes the zone's pageblock flags, which
 * every free reads (`Machine.noteRead`), and its buddy regions.
 */

import { ModelError, op, type Op, type Shared } from "@foliosim/sim";
import { pfnHex } from "./folio.js";
import { PAGEBLOCK_ORDER, type PhysicalMemory } from "./page-alloc.js";

const PAGEBLOCK_NR_PAGES = 1 << PAGEBLOCK_ORDER;

function setRange(mem: PhysicalMemory, who: string, startPfn: number, endPfn: number, on: boolean): Op<void> {
  if (!Number.isInteger(startPfn) || !Number.isInteger(endPfn) || endPfn <= startPfn) {
    throw new ModelError(who, `[${startPfn}, ${endPfn})`, "expected a non-empty pfn range [start, end)");
  }
  const blocks: number[] = [];
  for (let pfn = startPfn - (startPfn % PAGEBLOCK_NR_PAGES); pfn < endPfn; pfn += PAGEBLOCK_NR_PAGES) blocks.push(pfn);
  const writes: Shared[] = [];
  for (const pfn of blocks) for (const s of mem.pageblockZoneObjects(pfn)) if (!writes.includes(s)) writes.push(s);
  return op({
    kind: on ? "set_migratetype_isolate" : "unset_migratetype_isolate",
    label: who,
    writes,
    cost: "atomic",
    run: (m) => {
      for (const pfn of blocks) mem.setPageblockIsolate(pfn, on);
      m.event(who).arg("start", pfnHex(startPfn)).arg("end", pfnHex(endPfn));
    },
  });
}

/** `start_isolate_page_range`: set every pageblock of [startPfn, endPfn) to MIGRATE_ISOLATE. */
export function startIsolatePageRange(mem: PhysicalMemory, startPfn: number, endPfn: number): Op<void> {
  return setRange(mem, "start_isolate_page_range", startPfn, endPfn, true);
}

/** `undo_isolate_page_range`: give the pageblocks of [startPfn, endPfn) their migratetype back. */
export function undoIsolatePageRange(mem: PhysicalMemory, startPfn: number, endPfn: number): Op<void> {
  return setRange(mem, "undo_isolate_page_range", startPfn, endPfn, false);
}
