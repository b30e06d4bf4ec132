import { describe, expect, it } from "vitest";
import { Machine, SeededChooser, type TaskGen } from "@foliosim/sim";
import {
  folioExpectedRefCount,
  folioGet,
  folioIsLongtermPinnable,
  folioLock,
  folioMaybeDmaPinned,
  folioPut,
  folioRefAdd,
  folioRefFreeze,
  folioTryGet,
  folioUnlock,
  holderTotal,
  PhysicalMemory,
  memallocPinSave,
  memallocPinRestore,
  transferHolder,
  type Folio,
} from "./index.js";

function runTask(body: (mem: PhysicalMemory) => TaskGen<unknown>, spec = { Normal: 4, CMA: 4 }) {
  const m = new Machine({ cpus: 1 });
  const mem = new PhysicalMemory(spec);
  const t = m.spawn({ name: "t", cpu: 0, body: () => body(mem) });
  const r = m.run(new SeededChooser(1));
  return { m, r, result: t.result, mem };
}

describe("folio references", () => {
  it("counts gets and puts, frees on zero, and traces page_ref events", () => {
    let f!: Folio;
    const { r, mem } = runTask(function* (mem) {
      f = (yield* mem.allocFolio({ movable: false }))!;
      yield* folioGet(f, "lru_add");
      yield* folioRefAdd(f, 1024, "pin", "try_grab_folio");
      expect(f.refcount).toBe(1026);
      expect(folioMaybeDmaPinned(f)).toBe(true);
      yield* folioPut(f, "lru_add");
      yield* folioRefAdd(f, -1024, "pin", "unpin_user_page");
      return yield* folioPut(f, "alloc");
    });
    expect(r.status).toBe("done");
    expect(r.tasks[0].result).toBe(true);
    expect(f.state).toBe("free");
    expect(mem.freePages().Normal).toBe(4);
    const events = r.trace.filter((e) => e.type.startsWith("page_ref"));
    expect(events.map((e) => [e.type, e.args!.count, e.args!.val])).toEqual([
      ["page_ref_mod", 2, 1],
      ["page_ref_mod", 1026, 1024],
      ["page_ref_mod_and_test", 1025, -1],
      ["page_ref_mod", 1, -1024],
      ["page_ref_mod_and_test", 0, -1],
    ]);
    expect(events[0].args).toMatchObject({ pfn: "0x10000", mapcount: -1, mt: 1, flags: "" });
  });

  it("putting a free folio is a model error naming the folio and operation", () => {
    const { r } = runTask(function* (mem) {
      const f = (yield* mem.allocFolio({ movable: false }))!;
      yield* folioPut(f, "alloc");
      yield* folioPut(f, "alloc");
    });
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "folio_put", object: "folio 0x10000" });
  });

  it("unlocking an unlocked folio is a model error", () => {
    const { r } = runTask(function* (mem) {
      const f = (yield* mem.allocFolio({ movable: false }))!;
      yield* folioLock(f);
      yield* folioUnlock(f);
      yield* folioUnlock(f);
    });
    expect(r.status).toBe("invariant");
    expect(r.failure).toMatchObject({ operation: "folio_unlock", object: "folio 0x10000 lock" });
  });

  it("folio_try_get fails on a frozen folio", () => {
    const { result } = runTask(function* (mem) {
      const f = (yield* mem.allocFolio({ movable: false }))!;
      const frozen = yield* folioRefFreeze(f, 1);
      const got = yield* folioTryGet(f, "transient");
      return [frozen, got, f.refcount];
    });
    expect(result).toEqual([true, false, 0]);
  });
});

describe("the holders ledger and livelock detection", () => {
  // transferHolder changes no count (no write, no progress), but the repeated-state
  // livelock detector digests the ledger: a loop that takes and drops a reference on g
  // every pass while handing f's references, one a pass, from "a" to "b" (as a batch
  // takes over references queued to it) is not a repeated state.
  function handOver(passes: number) {
    const m = new Machine({ cpus: 1, livelock: { steps: 200, ns: 1 } });
    const mem = new PhysicalMemory({ Normal: 4 });
    let f!: Folio;
    m.spawn({
      name: "t",
      cpu: 0,
      *body() {
        f = (yield* mem.allocFolio({ movable: false }))!;
        const g = (yield* mem.allocFolio({ movable: false }))!;
        yield* folioRefAdd(f, 300, "a", "folio_ref_add");
        for (let pass = 0; pass < passes; pass++) {
          yield* folioGet(g, "x");
          transferHolder(f, "a", "b");
          yield* folioPut(g, "x");
        }
      },
    });
    return { r: m.run(new SeededChooser(1)), f: () => f };
  }

  it("references handed to another holder on every pass (transferHolder between two ops): the loop runs to its end, no livelock", () => {
    const { r, f } = handOver(300);
    expect(r.status).toBe("done");
    expect(r.steps).toBe(603);
    expect(f().refcount).toBe(301);
    expect(Object.fromEntries(f().holders)).toEqual({ alloc: 1, b: 300 });
  });
});

describe("physical memory", () => {
  it("movable allocations land in CMA, PF_MEMALLOC_PIN ones in normal memory", () => {
    const { result } = runTask(function* (mem) {
      const user = (yield* mem.allocFolio({ movable: true }))!;
      const saved = memallocPinSave();
      const pinned = (yield* mem.allocFolio({ movable: true }))!;
      memallocPinRestore(saved);
      return [user.migratetype, folioIsLongtermPinnable(user), pinned.migratetype, pinned.zone, folioIsLongtermPinnable(pinned)];
    });
    expect(result).toEqual(["CMA", false, "MOVABLE", "Normal", true]);
  });

  it("expected reference count of an unmapped anonymous folio is 0 and holders sum to refcount", () => {
    const { result } = runTask(function* (mem) {
      const f = (yield* mem.allocFolio({ movable: false }))!;
      f.mapping = { name: "anon", kind: "anon" };
      return [folioExpectedRefCount(f), holderTotal(f), f.refcount];
    });
    expect(result).toEqual([0, 1, 1]);
  });
});

describe("NUMA nodes", () => {
  it("allocates on the allocating CPU's node, falls back to the next node, and not with thisNode", () => {
    const m = new Machine({ cpus: 2 });
    const mem = new PhysicalMemory({ Normal: 1, nodes: 2 });
    const got: (number | null)[] = [];
    const alloc = (req: Parameters<PhysicalMemory["allocFolio"]>[0]) =>
      function* () {
        const f = yield* mem.allocFolio(req);
        got.push(f ? f.nid : null);
      };
    m.spawn({ name: "a", cpu: 1, body: alloc({ movable: true }) });
    m.run(new SeededChooser(1));
    const m2 = new Machine({ cpus: 2 });
    m2.spawn({ name: "b", cpu: 1, body: alloc({ movable: true, nid: 1, thisNode: true }) });
    m2.spawn({ name: "c", cpu: 1, body: alloc({ movable: true }) });
    m2.run(new SeededChooser(1));
    expect(got.sort()).toEqual([0, 1, null].sort());
    expect(mem.freePages()).toEqual({ Normal: 0, "node1 Normal": 0 });
    expect(() => new PhysicalMemory({ Normal: 1, nodes: 9 })).toThrow(/1 to 8 NUMA nodes/);
  });
});
