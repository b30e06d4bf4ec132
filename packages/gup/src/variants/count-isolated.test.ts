// The reverted count-isolated loop (1aaf8c122918, reverted by 517f496e1e61; reference
// §4.5, §12.7) against mainline's count-collected, on an unpinnable folio that someone
// else keeps isolated.
import { describe, expect, it } from "vitest";
import { folioIsLongtermPinnable, GUP_PIN_COUNTING_BIAS, type Folio } from "@foliosim/folio";
import { folioIsolateLru, folioPutbackLru } from "@foliosim/lru";
import { withMmapReadLock } from "@foliosim/mm";
import { sleepNs, usleep } from "@foliosim/sim";
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPages, unpinUserPages, type Pages } from "../index.js";
import { events, holders, movableWorld, run } from "../testing.js";

const HOLD_NS = 200_000;

/** An isolator takes the folio off the LRU at once and keeps it HOLD_NS; the pin starts 5 us in. */
function s7(loop: string) {
  const w = movableWorld({ "gup-loop": loop });
  const original = w.folio;
  let ret = 0;
  let atReturn!: { folio: Folio | null; holders: Record<string, number>; putBack: boolean };
  let putBack = false;
  const pages: Pages = [null];
  w.m.spawn({
    name: "isolator",
    cpu: 1,
    *body() {
      expect(yield* folioIsolateLru(original)).toBe(true);
      yield* sleepNs(HOLD_NS);
      yield* folioPutbackLru(original);
      putBack = true;
    },
  });
  w.m.spawn({
    name: "pinner",
    cpu: 0,
    *body() {
      yield* usleep(5);
      ret = yield* withMmapReadLock(w.mm, pinUserPages(w.mm, w.addr, 1, FOLL_LONGTERM | FOLL_WRITE, pages, w.memory));
      atReturn = { folio: pages[0], holders: pages[0] ? holders(pages[0]) : {}, putBack };
      yield* unpinUserPages(pages);
    },
  });
  const r = run(w);
  expect(r.status).toBe("done");
  return { r, ret, atReturn, original };
}

describe("gup-loop=count-isolated", () => {
  it("returns success at once with the unpinnable folio longterm-pinned: the broken guarantee that got it reverted", () => {
    const { r, ret, atReturn, original } = s7("count-isolated");
    expect(ret).toBe(1);
    expect(atReturn.folio).toBe(original);
    expect(atReturn.putBack).toBe(false);
    expect([original.zone, folioIsLongtermPinnable(original)]).toEqual(["Movable", false]);
    expect(atReturn.holders).toEqual({ isolated: 1, map: 1, pin: GUP_PIN_COUNTING_BIAS });
    expect(r.counters.gup_longterm_retry ?? 0).toBe(0);
    expect(events(r, "gup_isolate_failed").map((e) => e.name)).toEqual([original.name]);
    expect(events(r, "mm_migrate_pages_start")).toHaveLength(0);
  });

  it("mainline (count-collected) keeps unpinning and re-pinning until the folio is put back, then migrates it out of ZONE_MOVABLE", () => {
    const { r, ret, atReturn, original } = s7("count-collected");
    expect(ret).toBe(1);
    expect(atReturn.putBack).toBe(true);
    expect(atReturn.folio).not.toBe(original);
    expect([atReturn.folio!.zone, folioIsLongtermPinnable(atReturn.folio!)]).toEqual(["Normal", true]);
    expect(original.state).toBe("free");
    // Every retry but the last found the folio isolated by someone else.
    const retries = r.counters.gup_longterm_retry;
    expect(retries).toBeGreaterThan(1);
    expect(events(r, "gup_isolate_failed")).toHaveLength(retries - 1);
    // One pin per attempt; all but the final one dropped by migrate_longterm_unpinnable_folios, the final one by the test.
    expect([r.counters.nr_foll_pin_acquired, r.counters.nr_foll_pin_released]).toEqual([retries + 1, retries + 1]);
    expect(events(r, "mm_migrate_pages").map((e) => e.args)).toEqual([{ failed: 0, rc: 0, mode: "MIGRATE_SYNC", reason: "MR_LONGTERM_PIN" }]);
  });
});
