// S1 on an order-2 shmem folio (issue 12, "Large folios everywhere"): pkvm-mlock-cma with
// `order=2`. The guest page is an order-2 memfd folio: folio_add_lru() and mlock_folio()
// flush their batches at once for a large folio, so no per-CPU batch holds a reference
// when CPU3 pins it, and every kernel migrates it out of CMA on the first pass. How much
// of it the fault maps and whether it is mlocked follow the release (options
// `finish-fault`, `rmap-mlock-large`): one page and no mlock up to 6.16, the whole folio
// and no mlock in 6.17, the whole folio mlocked from 6.18.
import { describe, expect, it } from "vitest";
import { TimedChooser } from "@foliosim/sim";
import { call } from "./builder.js";
import { longtermPinOnePage } from "./catalog/longterm-pin.js";
import { getScenario, headlineKernels, runScenario, type Scenario } from "./index.js";

/** pkvm-mlock-cma whose vCPU thread keeps its pin, reads the guest folio, then unpins. */
function withChecks(): Scenario {
  const s = getScenario("pkvm-mlock-cma");
  const pin = longtermPinOnePage("$guest", { flags: ["FOLL_LONGTERM", "FOLL_WRITE"], keep: true });
  const observe = [
    call("folio_state", { addr: "$guest" }, { as: "guest_page0" }),
    call("folio_state", { addr: "$guest", page: 3 }, { as: "guest_page3" }),
    call("folio_state", { addr: "$guest", page: 4 }, { as: "guest_page4" }),
  ];
  const before = call("folio_state", { addr: "$guest" }, { as: "before_pin" });
  return { ...s, tasks: [{ ...s.tasks[0], script: [before, pin, ...observe, call("unpin_user_pages", { pins: "$pin.handle" })] }] };
}

function final(kernel: string, seed = 1) {
  const r = runScenario(withChecks(), kernel, new TimedChooser(seed), { order: 2 });
  const state = (as: string) => r.calls.find((c) => c.as === as)!.result as Record<string, unknown>;
  return { r, before: state("before_pin"), page0: state("guest_page0"), page3: state("guest_page3"), page4: state("guest_page4") };
}

describe("pkvm-mlock-cma[order=2]: S1 on an order-2 shmem folio", () => {
  it.each(headlineKernels())("holds on %s: one migration pass, no lru_add_drain_all, no mismatch", (k) => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const r = runScenario(getScenario("pkvm-mlock-cma"), k, new TimedChooser(seed), { order: 2 });
      expect(r.failure, `${k} seed ${seed}`).toBeNull();
      expect(r.verdict).toBe("holds");
      expect(r.metrics.migrate_retry ?? 0).toBe(0);
      expect(r.run.trace.filter((e) => e.type === "migrate_refcount_mismatch")).toEqual([]);
    }
  });

  // Per headline kernel: pages the fault mapped, and whether the rmap mlocked the folio.
  const BY_KERNEL: Record<string, { mapped: number; mlocked: boolean }> = {
    "linux-6.10": { mapped: 1, mlocked: false }, // finish-fault=per-page, rmap-mlock-large=small-only
    "linux-6.11": { mapped: 1, mlocked: false }, // anon-shmem: a memfd is not anonymous shmem
    "linux-6.17": { mapped: 4, mlocked: false }, // shmem: mapped whole, still no rmap mlock
    "linux-7.0": { mapped: 4, mlocked: true }, // file + fully-mapped (6.18 on)
    "linux-7.3": { mapped: 4, mlocked: true },
  };

  it("before the pin: the fault mapped one page (4 cache + 1 map) up to 6.16 and the whole folio (4 + 4) from 6.17; only from 6.18 is it mlocked (unevictable, mlock_count 1)", () => {
    expect(Object.keys(BY_KERNEL)).toEqual(headlineKernels());
    for (const [k, { mapped, mlocked }] of Object.entries(BY_KERNEL)) {
      const { before } = final(k);
      expect(before, k).toMatchObject({ order: 2, _refcount: 4 + mapped, mapcount: mapped, pincount: 0, migratetype: "CMA", batch: null, PG_mlocked: mlocked, PG_unevictable: mlocked, mlock_count: mlocked ? 1 : 0, lru: mlocked ? "unevictable" : "inactive_anon" });
    }
  });

  it("the pinned folio, read while the pin is held: order 2 out of CMA, 4 cache + the mapped pages + 1 pin references, _pincount 1, not mlocked (remove_migration_pte maps one page at a time, which never mlocks a large folio); the next folio is untouched", () => {
    for (const [k, { mapped }] of Object.entries(BY_KERNEL)) {
      const { r, page0, page3, page4 } = final(k);
      expect(r.failure, k).toBeNull();
      expect(page0, k).toMatchObject({ present: true, order: 2, _refcount: 4 + mapped + 1, pincount: 1, mapcount: mapped, folio_maybe_dma_pinned: true, migratetype: "MOVABLE", zone: "Normal", longterm_pinnable: true, batch: null, PG_mlocked: false, lru: "inactive_anon" });
      if (mapped === 4) expect(page3.pfn, k).toBe(page0.pfn); // the same folio maps page 3
      else expect(page3, k).toMatchObject({ present: false });
      expect(page4).toMatchObject({ present: false });
    }
  });

  it("order 0 (the default) still fails on linux-6.10 and holds on linux-7.3: the parameter changes only the folio size", () => {
    expect(runScenario(getScenario("pkvm-mlock-cma"), "linux-6.10", new TimedChooser(1)).verdict).toBe("fails");
    expect(runScenario(getScenario("pkvm-mlock-cma"), "linux-7.3", new TimedChooser(1)).verdict).toBe("holds");
  });
});
