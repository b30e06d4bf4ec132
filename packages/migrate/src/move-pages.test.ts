/**
 * move_pages(2) (mm/migrate.c `do_pages_move`, `add_page_for_migration`,
 * `move_pages_and_store_status`, `do_pages_stat_array`) on a two-node machine: per-page
 * status as the kernel stores it, batches by target node, lru_cache_disable around the
 * whole call, and the return when a batch leaves pages behind.
 */

import { describe, expect, it } from "vitest";
import { getNow, putNow } from "@foliosim/folio";
import { whereIs } from "@foliosim/lru";
import { getPte } from "@foliosim/mm";
import { TimedChooser, type TaskGen } from "@foliosim/sim";
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL, movePages, type MovePagesResult } from "./index.js";
import { world, type World } from "./testing.js";

/** Run `fn` as a task on `cpu` until every task is done or blocked; its result. */
function call(w: World, fn: () => TaskGen<MovePagesResult>, cpu = 0): MovePagesResult {
  const t = w.m.spawn({ name: "move_pages", cpu, body: fn });
  w.m.settle(new TimedChooser(1));
  if (w.m.status !== "running" || t.state !== "done") throw new Error(`move_pages did not finish: ${w.m.status} ${w.m.failure?.message ?? ""}`);
  return t.result as MovePagesResult;
}

const twoNodes = (pages: number) => world({ pages, memory: { Normal: 32, nodes: 2 } });

describe("move_pages", () => {
  it("moves each page to its node in batches, under lru_cache_disable, and reports the nodes", () => {
    const w = twoNodes(3);
    expect(w.folios.map((f) => f.nid)).toEqual([0, 0, 0]);
    const r = call(w, () => movePages(w.mm, w.memory, w.addrs, [1, 1, 0], MPOL_MF_MOVE));
    expect(r).toEqual({ ret: 0, status: [1, 1, 0] });
    const now = w.addrs.map((a) => getPte(w.mm, a));
    expect(now.map((p) => (p.kind === "present" ? p.folio.nid : null))).toEqual([1, 1, 0]);
    expect(now[2].kind === "present" && now[2].folio).toBe(w.folios[2]); // already on node 0: not migrated
    const events = w.m.trace.events.map((e) => e.type);
    expect(events.filter((t) => t === "mm_migrate_pages_start")).toHaveLength(1);
    // The moved folios went back to the LRU directly: lru_cache_disable was still in force.
    for (const p of now.slice(0, 2)) if (p.kind === "present") expect(whereIs(w.m, p.folio).some((x) => /^cpu\d/.test(x))).toBe(false);
    expect(call(w, () => movePages(w.mm, w.memory, w.addrs, null, 0))).toEqual({ ret: 0, status: [1, 1, 0] });
  });

  it("stores -EFAULT and -ENOENT per page (-EACCES: examples/selftests/migration.yaml); -ENODEV and -EINVAL end the call", () => {
    const w = twoNodes(1);
    const hole = w.addr + 0x100000;
    expect(call(w, () => movePages(w.mm, w.memory, [hole], [1], MPOL_MF_MOVE))).toEqual({ ret: 0, status: [-14] });
    expect(call(w, () => movePages(w.mm, w.memory, [w.addr], [2], MPOL_MF_MOVE))).toEqual({ ret: -19, status: [null] });
    expect(call(w, () => movePages(w.mm, w.memory, [w.addr], [1], 0x80))).toEqual({ ret: -22, status: [null] });
    expect(call(w, () => movePages(w.mm, w.memory, [w.addr, hole], null, 0))).toEqual({ ret: 0, status: [0, -14] });
  });

  it("returns the pages left behind (and those not attempted) when a batch fails, leaving their status unwritten", () => {
    const w = twoNodes(2);
    // An extra reference the migration cannot explain: __folio_migrate_mapping refuses.
    getNow(w.m, w.folio, 1, "transient", "test");
    const r = call(w, () => movePages(w.mm, w.memory, [w.addrs[0], w.addrs[1]], [1, 0], MPOL_MF_MOVE_ALL));
    putNow(w.m, w.folio, 1, "transient", "test");
    // Page 0 fails in the node-1 batch, flushed when page 1 (node 0) starts a new one:
    // 1 page left + the 1 page not attempted (nr_pages - i).
    expect(r).toEqual({ ret: 2, status: [null, null] });
    expect(getPte(w.mm, w.addr)).toMatchObject({ kind: "present", folio: w.folio });
  });
});
