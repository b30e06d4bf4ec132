/**
 * Will Deacon's trace (reference §10.1, seed 004): a memfd page mlocked on a user fault
 * on CPU7 (count 4, `mlocked` without `lru`), a readahead on CPU7 whose `lru_add`
 * batch flush drops the batch reference (count 3, `lru|unevictable|mlocked`), and a
 * pKVM pin on CPU3 (count 1027). The `page_ref_mod` events carry those counts and
 * flags, and the kernel stacks of the seed.
 */

import { describe, expect, it } from "vitest";
import type { TraceEvent } from "@foliosim/sim";
import { createFile } from "./filemap.js";
import { touch } from "./memory.js";
import { MLOCK_ONFAULT, mlock2 } from "./mlock.js";
import { MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE, mmap } from "./mmap.js";
import { memfdCreate } from "./shmem.js";
import { pinFolio, snap, where, world } from "./testing.js";

/** Modelled kernel functions open on `ev`'s task when it was emitted, outermost first. */
function stackAt(trace: readonly TraceEvent[], ev: TraceEvent): string[] {
  const frames: string[] = [];
  for (const e of trace) {
    if (e === ev) return frames;
    if (e.task !== ev.task) continue;
    if (e.type === "func_entry") frames.push(e.name!);
    else if (e.type === "func_exit") {
      const i = frames.lastIndexOf(e.name!);
      if (i >= 0) frames.splice(i, 1);
    }
  }
  throw new Error("event not in trace");
}

function isSubsequence(needle: string[], hay: string[]): boolean {
  let i = 0;
  for (const h of hay) if (h === needle[i]) i++;
  return i === needle.length;
}

describe("Will Deacon's trace (reference §10.1)", () => {
  it("counts 4, 3, 1027 with the seed's flags, in page_ref_mod events with the seed's stacks", () => {
    const w = world({ cpus: 8 }, { CMA: 64, Normal: 64 });
    const memfd = memfdCreate(w.m, { memory: w.mem, name: "crosvm_guest", sizePages: 4 });
    const bin = createFile(w.m, { memory: w.mem, name: "crosvm", sizePages: 32 });
    const mm = w.mm("crosvm");
    const guest = w.step(7, () => mmap(mm, { length: 4 * 4096, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: memfd }), "crosvm_VmRunApp");
    const text = w.step(7, () => mmap(mm, { length: 32 * 4096, prot: PROT_READ | PROT_EXEC, flags: MAP_PRIVATE, file: bin }), "crosvm_VmRunApp");
    w.step(7, () => mlock2(mm, guest, 4 * 4096, MLOCK_ONFAULT), "crosvm_VmRunApp");

    const f = w.step(7, () => touch(mm, guest, true), "crosvm_VmRunApp");
    expect(f.migratetype).toBe("CMA");
    expect(snap(f)).toMatchObject({ ref: 4, flags: "uptodate|dirty|swapbacked|mlocked" });
    expect(f.test(1 << 5)).toBe(false); // PG_lru

    w.step(7, () => touch(mm, text, false), "crosvm_VmRunApp"); // filemap_fault → readahead
    expect(snap(f)).toMatchObject({ ref: 3, flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked" });
    expect(where(w.m, f)).toEqual(["cpu7 mlock_fbatch (LRU_FOLIO)", "unevictable"]);

    w.step(3, () => pinFolio(f), "crosvm_vcpu0");
    expect(snap(f)).toMatchObject({ ref: 1027, exp: 2, flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked" });

    const trace = w.m.trace.events;
    const refs = trace.filter((e) => e.type.startsWith("page_ref") && e.args?.pfn === "0x" + f.pfn.toString(16));
    const at = (count: number) => refs.find((e) => e.args!.count === count)!;

    const e4 = at(4);
    expect(e4).toMatchObject({ type: "page_ref_mod", cpu: 7 });
    expect(e4.args).toMatchObject({ flags: "locked|uptodate|swapbacked|mlocked", count: 4, mapcount: 0, mt: 4, val: 1 });
    expect(isSubsequence(["user_access", "handle_mm_fault", "do_pte_missing", "do_shared_fault", "finish_fault", "set_pte_range", "folio_add_file_rmap_ptes", "mlock_folio"], stackAt(trace, e4))).toBe(true);

    // The last event at count 3 is the lru_add flush's folios_put (earlier count-3 events are the fault's own steps).
    const e3 = refs.filter((e) => e.args!.count === 3).at(-1)!;
    expect(e3).toMatchObject({ type: "page_ref_mod_and_test", cpu: 7 });
    expect(e3.args).toMatchObject({ flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked", count: 3, mapcount: 0, mt: 4, val: -1, ret: 0 });
    expect(isSubsequence(["filemap_fault", "do_sync_mmap_readahead", "page_cache_ra_unbounded", "filemap_add_folio", "folio_add_lru", "folio_batch_move_lru"], stackAt(trace, e3))).toBe(true);

    const e1027 = at(1027);
    expect(e1027).toMatchObject({ type: "page_ref_mod", cpu: 3 });
    expect(e1027.args).toMatchObject({ flags: "uptodate|dirty|lru|swapbacked|unevictable|mlocked", count: 1027, mapcount: 0, mt: 4, val: 1024 });

    // In order, as in the seed.
    expect(refs.indexOf(e4)).toBeLessThan(refs.indexOf(e3));
    expect(refs.indexOf(e3)).toBeLessThan(refs.indexOf(e1027));
  });
});
