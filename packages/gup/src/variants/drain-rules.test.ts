// Each drain rule of collect_longterm_unpinnable_folios (reference §4.4) on the folio
// states of the seed scenarios: how many lru_add_drain() and lru_add_drain_all() calls
// it makes, and what the folio holds once collected.
import { describe, expect, it } from "vitest";
import { PG, type Folio } from "@foliosim/folio";
import { folioIsolateLru, folioPutbackLru, lruAddDrainAll } from "@foliosim/lru";
import { putbackMovablePages } from "@foliosim/migrate";
import { withMmapReadLock } from "@foliosim/mm";
import { collectLongtermUnpinnableFolios, COLLECT_RULES, FOLL_PIN, FOLL_WRITE, getUserPages, unpinUserPages, type CollectRule, type Pages } from "../index.js";
import { defineVariant, op, sleepNs } from "@foliosim/sim";
import { cleanWorld, holders, largeWorld, lruAddWorld, movableWorld, pinnableWorld, run, s1World, type World } from "../testing.js";

interface Collected {
  collected: number;
  isolated: number;
  drains: { lru_add_drain: number; lru_add_drain_all: number };
  /** The first folio's holders right after collection (pinned and, if it could be, isolated). */
  holders: Record<string, number>;
}

/** On `w.pinCpu`, 5 us in: pin every page (FOLL_PIN), collect, then put back and unpin. */
function collect(w: World): Collected {
  let out!: Omit<Collected, "drains">;
  const pages: Pages = w.folios.map(() => null);
  w.m.spawn({
    name: "pinner",
    cpu: w.pinCpu,
    *body() {
      yield* sleepNs(5_000);
      const nr = yield* withMmapReadLock(w.mm, getUserPages(w.mm, w.addr, w.folios.length, FOLL_PIN | FOLL_WRITE, pages));
      const list: Folio[] = [];
      const collected = yield* collectLongtermUnpinnableFolios(list, pages, nr);
      out = { collected, isolated: list.length, holders: holders(w.folio) };
      yield* putbackMovablePages(list);
      yield* unpinUserPages(pages);
    },
  });
  const r = run(w);
  expect(r.status).toBe("done");
  return { ...out, drains: { lru_add_drain: r.counters.lru_add_drain ?? 0, lru_add_drain_all: r.counters.lru_add_drain_all ?? 0 } };
}

const NONE = { lru_add_drain: 0, lru_add_drain_all: 0 };
const ALL = { lru_add_drain: 0, lru_add_drain_all: 1 };
const LADDER = { lru_add_drain: 1, lru_add_drain_all: 1 };
/** hugh-v1's unconditional local drain at the head of the call. */
const HEAD = { lru_add_drain: 1, lru_add_drain_all: 0 };
const HEAD_ALL = LADDER;

describe("collect_longterm_unpinnable_folios: the drain rules", () => {
  it("COLLECT_RULES lists the six rules", () => {
    expect([...COLLECT_RULES]).toEqual(["pre-6.11", "will-v1", "hugh-v1", "john-memalloc-pin", "6.17", "2026"]);
  });

  // Will's folio, pinned: ref 1027, exp 2; lru|unevictable|mlocked; CPU7's mlock batch holds one reference.
  it.each([
    ["pre-6.11", NONE],
    ["will-v1", ALL],
    ["hugh-v1", HEAD], // the head drain is CPU3's; the mlock batch is CPU7's
    ["john-memalloc-pin", NONE],
    ["6.17", LADDER],
    ["2026", LADDER],
  ] as const)("S1 (reference §12.1), collect=%s: drains %j", (rule: CollectRule, drains) => {
    const c = collect(s1World({ collect: rule }));
    expect(c.drains).toEqual(drains);
    // PG_lru is set, so every rule isolates it; only a global drain takes the mlock batch's reference away.
    expect([c.collected, c.isolated]).toEqual([1, 1]);
    const base = { isolated: 1, map: 1, pagecache: 1, pin: 1024 };
    expect(c.holders).toEqual(drains.lru_add_drain_all ? base : { ...base, mlock: 1 });
  });

  // Every reference explained: ref 1026 = exp 2 + 1024; PG_lru set.
  it.each([
    ["pre-6.11", NONE],
    ["will-v1", NONE],
    ["hugh-v1", HEAD],
    ["john-memalloc-pin", NONE],
    ["6.17", LADDER], // ref != exp + 1 for any FOLL_PIN small folio: the "always draining" 2026 fixed
    ["2026", NONE],
  ] as const)("a clean unpinnable folio, collect=%s: drains %j", (rule: CollectRule, drains) => {
    const c = collect(cleanWorld({ collect: rule }));
    expect(c.drains).toEqual(drains);
    expect([c.collected, c.isolated]).toEqual([1, 1]);
    expect(c.holders).toEqual({ isolated: 1, map: 1, pagecache: 1, pin: 1024 });
  });

  // S2: PG_lru clear, CPU0's lru_add batch holds a reference; the pin runs on CPU1.
  it.each([
    ["pre-6.11", ALL],
    ["will-v1", ALL],
    ["hugh-v1", HEAD_ALL],
    ["john-memalloc-pin", ALL],
    ["6.17", LADDER],
    ["2026", LADDER],
  ] as const)("S2 (reference §12.2), collect=%s: drains %j, then isolates", (rule: CollectRule, drains) => {
    const c = collect(lruAddWorld({ collect: rule }));
    expect(c.drains).toEqual(drains);
    expect([c.collected, c.isolated]).toEqual([1, 1]);
    expect(c.holders).toEqual({ isolated: 1, map: 1, pin: 1024 });
  });

  it.each([
    ["pre-6.11", ALL],
    ["6.17", LADDER],
    ["2026", LADDER],
  ] as const)("two S2 folios in one call, collect=%s: still %j (drain_allow / the ladder are per call)", (rule: CollectRule, drains) => {
    const c = collect(lruAddWorld({ collect: rule }, 2));
    expect(c.drains).toEqual(drains);
    expect([c.collected, c.isolated]).toEqual([2, 2]);
  });

  it.each([
    ["pre-6.11", ALL],
    ["will-v1", ALL],
    ["6.17", LADDER],
    ["2026", LADDER],
  ] as const)("two folios someone else keeps isolated (PG_lru clear, no batch), collect=%s: %j, both collected, neither isolated", (rule: CollectRule, drains) => {
    const w = movableWorld({ collect: rule }, 2);
    w.m.spawn({
      name: "isolator",
      cpu: 0,
      *body() {
        for (const f of w.folios) expect(yield* folioIsolateLru(f)).toBe(true);
        yield* sleepNs(1_000_000);
        for (const f of w.folios) yield* folioPutbackLru(f);
      },
    });
    const c = collect(w);
    expect(c.drains).toEqual(drains);
    expect([c.collected, c.isolated]).toEqual([2, 0]);
    expect(c.holders).toEqual({ isolated: 1, map: 1, pin: 1024 });
  });

  it.each(COLLECT_RULES.map((rule) => [rule]))("an order-2 folio (E21), collect=%s: never drained for, collected once for its 4 consecutive pages", (rule: CollectRule) => {
    const w = largeWorld({ collect: rule });
    expect(w.folios).toEqual(Array(4).fill(w.folio));
    const c = collect(w);
    expect(c.drains).toEqual(rule === "hugh-v1" ? HEAD : NONE);
    expect([c.collected, c.isolated]).toEqual([1, 1]);
    // _pincount takes the pins: one reference per page pinned.
    expect(c.holders).toEqual({ isolated: 1, map: 4, pin: 4 });
  });

  it("hugh-v1 drains locally at the head of every call, even when every folio is pinnable", () => {
    const c = collect(pinnableWorld({ collect: "hugh-v1" }, 2));
    expect(c.drains).toEqual(HEAD);
    expect([c.collected, c.isolated]).toEqual([0, 0]);
    expect(collect(pinnableWorld({ collect: "pre-6.11" }, 2)).drains).toEqual(NONE);
  });

  it.each([
    ["pre-6.11", ALL, { isolated: 1, map: 1, pin: 1024 }],
    ["hugh-v1", HEAD, { isolated: 1, map: 1, pin: 1024 }],
    ["6.17", LADDER, { isolated: 1, map: 1, pin: 1024 }],
  ] as const)("S2 pinned from the faulting CPU, collect=%s: %j (the head drain flushes CPU0's own lru_add batch)", (rule: CollectRule, drains, held) => {
    const w = lruAddWorld({ collect: rule });
    const c = collect({ ...w, pinCpu: 0 });
    expect(c.drains).toEqual(drains);
    expect([c.collected, c.isolated]).toEqual([1, 1]);
    expect(c.holders).toEqual(held);
  });

  it("two clean folios in one call under 6.17: one ladder, not two", () => {
    const c = collect(cleanWorld({ collect: "6.17" }, 2));
    expect(c.drains).toEqual(LADDER);
    expect([c.collected, c.isolated]).toEqual([2, 2]);
  });

  it("with no collect option the machine runs 2026", () => {
    expect(collect(s1World({})).drains).toEqual(LADDER);
    expect(collect(cleanWorld({})).drains).toEqual(NONE);
  });

  it("an unknown collect value is an error naming the valid values, not a silent fallback to 2026", () => {
    expect(() => collect(s1World({ collect: "6.18" }))).toThrow(
      'kernel.collect: expected one of pre-6.11 | will-v1 | hugh-v1 | john-memalloc-pin | 6.17 | 2026, found "6.18"',
    );
  });

  it("a variant object runs through the same point: a rule written against the public API drains like will-v1 on S1", () => {
    const rule = defineVariant({
      id: "test-drain-mlocked",
      point: "collect",
      source: "test",
      hook: {
        *drain(f, _pinRefs, s) {
          if (!s.allow) return;
          const flags = yield* op({ kind: "folio_test_flag", label: "folio_test_mlocked", reads: [f.flagsWord], cost: "plain", run: () => f.flags });
          if (flags & PG.mlocked) {
            yield* lruAddDrainAll();
            s.allow = false;
          }
        },
      },
    });
    const c = collect(s1World({ collect: rule }));
    expect(c.drains).toEqual(ALL);
    expect(c.holders).toEqual({ isolated: 1, map: 1, pagecache: 1, pin: 1024 });
  });
});
