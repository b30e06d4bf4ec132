// S1 on an order-2 shmem folio (issue 12, "Large folios everywhere"): pkvm-mlock-cma with
// `order=2`. The guest page is an order-2 memfd folio: folio_add_lru() and mlock_folio()
// flush their batches at once for a large folio, so no per-CPU batch holds a reference
// when CPU3 pins it, and every kernel migrates it out of CMA on the first pass.
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
  return { ...s, tasks: [{ ...s.tasks[0], script: [pin, ...observe, call("unpin_user_pages", { pins: "$pin.handle" })] }] };
}

function final(kernel: string, seed = 1) {
  const r = runScenario(withChecks(), kernel, new TimedChooser(seed), { order: 2 });
  const state = (as: string) => r.calls.find((c) => c.as === as)!.result as Record<string, unknown>;
  return { r, page0: state("guest_page0"), page3: state("guest_page3"), page4: state("guest_page4") };
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

  it("the pinned folio, read while the pin is held: order 2 out of CMA, mapped whole (mapcount 4), 4 cache + 4 map + 1 pin references, _pincount 1; the next folio is untouched", () => {
    for (const k of headlineKernels()) {
      const { r, page0, page3, page4 } = final(k);
      expect(r.failure, k).toBeNull();
      expect(page0, k).toMatchObject({ present: true, order: 2, _refcount: 9, pincount: 1, mapcount: 4, folio_maybe_dma_pinned: true, migratetype: "MOVABLE", zone: "Normal", longterm_pinnable: true, batch: null });
      expect(page3.pfn).toBe(page0.pfn); // the same folio maps page 3
      expect(page4).toMatchObject({ present: false });
    }
  });

  it("order 0 (the default) still fails on linux-6.10 and holds on linux-7.3: the parameter changes only the folio size", () => {
    expect(runScenario(getScenario("pkvm-mlock-cma"), "linux-6.10", new TimedChooser(1)).verdict).toBe("fails");
    expect(runScenario(getScenario("pkvm-mlock-cma"), "linux-7.3", new TimedChooser(1)).verdict).toBe("holds");
  });
});
