// Exhaustive schedules of small races (sim's naive enumerator): every interleaving
// keeps the LRU invariants, and the outcomes are exactly the kernel's.
import { describe, expect, it } from "vitest";
import { PhysicalMemory, formatFlags, type Folio } from "@foliosim/folio";
import { Completion, completeAll, waitForCompletion, type Machine } from "@foliosim/sim";
import { enumerateSchedules } from "@foliosim/sim/test";
import { folioActivate, folioAddLru, folioIsolateLru, lruAddDrain, lruInvariants, mlockFolio, refcountMatchesHolders } from "./index.js";

function race(kernel: Record<string, boolean>, other: "activate" | "mlock") {
  const outcomes = new Map<string, number>();
  const failures: string[] = [];
  let f!: Folio;
  let iso = false;
  const program = (m: Machine) => {
    const mem = new PhysicalMemory({ Normal: 4 });
    const folios: Folio[] = [];
    m.addInvariant("lru", (mm) => lruInvariants(mm, folios) ?? refcountMatchesHolders(folios));
    const queued = new Completion("queued");
    m.spawn({
      name: "cpu0",
      cpu: 0,
      *body() {
        f = (yield* mem.allocFolio({ movable: false }))!;
        folios.push(f);
        yield* folioAddLru(f);
        yield* lruAddDrain();
        if (other === "activate") yield* folioActivate(f);
        else yield* mlockFolio(f);
        yield* completeAll(queued);
        yield* lruAddDrain(); // the flush races with the isolation below
      },
    });
    m.spawn({
      name: "cpu1",
      cpu: 1,
      *body() {
        yield* waitForCompletion(queued);
        iso = yield* folioIsolateLru(f);
      },
    });
  };
  const res = enumerateSchedules(program, { cpus: 2, kernel, trace: false }, (r) => {
    if (r.status !== "done") failures.push(`${r.status}: ${r.failure?.message ?? r.hang?.message}`);
    const key = `isolated=${iso} ref=${f.refcount} ${formatFlags(f.flags)} ${f.lruList}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  });
  return { res, outcomes: [...outcomes.keys()].sort(), failures };
}

describe("isolation racing a batch flush, every schedule", () => {
  it("mainline: isolation fails only while the flush holds PG_lru cleared; every outcome ends on the right list", () => {
    const { res, outcomes, failures } = race({}, "activate");
    expect(failures).toEqual([]);
    expect(res.complete).toBe(true);
    expect(outcomes).toEqual([
      // Isolation failed: the flush had PG_lru cleared; the folio was activated.
      "isolated=false ref=1 lru|active active_file",
      // Isolated before the flush's folio_test_clear_lru: the flush skipped it.
      "isolated=true ref=2  null",
      // Isolated after the flush moved it.
      "isolated=true ref=2 active null",
    ]);
  });

  it("lru-batch-clears-lru: a queued folio cannot be isolated before its flush, only after it", () => {
    const { res, outcomes, failures } = race({ "lru-batch-clears-lru": true }, "activate");
    expect(failures).toEqual([]);
    expect(res.complete).toBe(true);
    expect(outcomes).toEqual(["isolated=false ref=1 lru|active active_file", "isolated=true ref=2 active null"]);
  });

  it("mlock batch: an entry processed while the folio is isolated only drops its reference", () => {
    const { res, outcomes, failures } = race({}, "mlock");
    expect(failures).toEqual([]);
    expect(res.complete).toBe(true);
    expect(outcomes).toEqual([
      "isolated=false ref=1 lru|unevictable|mlocked unevictable",
      "isolated=true ref=2 mlocked null",
      "isolated=true ref=2 unevictable|mlocked null",
    ]);
  });
});
