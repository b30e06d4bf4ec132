import { describe, expect, it } from "vitest";
import { Machine, op, type Op, type TaskGen } from "@foliosim/sim";
import { folioPut, PhysicalMemory, memallocPinSave, memallocPinRestore, startIsolatePageRange, undoIsolatePageRange, zoneBatchsize, type Folio, type MemorySpec } from "./index.js";

interface Step {
  task: string;
  label: string;
  /** Declared writes, then what the step wrote beyond them. */
  writes: string[];
  noted: string[];
  /** What the step read beyond its footprint. */
  read: string[];
}

/** Runs the tasks one after another (spawn order), recording every step's footprint. */
function runInOrder(spec: MemorySpec, cpus: number, tasks: [number, (mem: PhysicalMemory) => TaskGen<unknown>][]) {
  const m = new Machine({ cpus });
  const mem = new PhysicalMemory(spec);
  tasks.forEach(([cpu, body], i) => m.spawn({ name: `t${i}`, cpu, body: () => body(mem) }));
  const steps: Step[] = [];
  for (;;) {
    const cands = m.candidates();
    if (cands.length === 0) break;
    let best = 0;
    for (let i = 1; i < cands.length; i++) if (cands[i].task.id < cands[best].task.id) best = i;
    const op: Op<unknown> = cands[best].op;
    m.step(best);
    steps.push({ task: cands[best].task.name, label: op.label ?? op.kind, writes: op.writes.map((s) => s.name), noted: m.undeclaredWrites().map((s) => s.name), read: m.undeclaredReads().map((s) => s.name) });
  }
  const r = m.result();
  if (r.status !== "done") throw new Error(`run ended ${r.status}: ${JSON.stringify(r.failure)}`);
  return { m, mem, steps, r };
}

const hex = (f: Folio | null) => (f ? "0x" + f.pfn.toString(16) : null);

describe("per-CPU page lists", () => {
  it("sizes batch and high by the kernel's formulas: 1 and 4 for a miniature zone, 63 for 1 GiB", () => {
    expect(zoneBatchsize(40)).toBe(1);
    expect(zoneBatchsize(4095)).toBe(1);
    expect(zoneBatchsize(262144)).toBe(63);
    expect(new PhysicalMemory({ Normal: 32, CMA: 8 }).pcpLimits("Normal")).toEqual({ batch: 1, high: 4 });
  });

  it("a page freed on a CPU is the next one that CPU hands out, and not another CPU's", () => {
    const got: Record<string, string | null> = {};
    const { mem, steps } = runInOrder({ Normal: 16 }, 2, [
      [
        0,
        function* (mem) {
          const a = yield* mem.allocFolio({ movable: true });
          got.b = hex(yield* mem.allocFolio({ movable: true }));
          got.a = hex(a);
          yield* folioPut(a!, "alloc");
        },
      ],
      [
        1,
        function* (mem) {
          got.cpu1 = hex(yield* mem.allocFolio({ movable: true }));
        },
      ],
      [
        0,
        function* (mem) {
          yield* later(); // a task's first op is made at spawn: make the allocation once the others ran
          got.cpu0 = hex(yield* mem.allocFolio({ movable: true }));
        },
      ],
    ]);
    // CPU0's second refill took two pages (alloc_factor): 0x10002 stays on its list, so CPU1 refills 0x10003.
    expect(got).toEqual({ a: "0x10000", b: "0x10001", cpu1: "0x10003", cpu0: "0x10000" });
    expect(mem.pcpList(0, "Normal", "MOVABLE")).toEqual([0x10002]);
    // The free wrote only CPU0's pcp; CPU1's allocation refilled from the buddy list; CPU0's was served from its pcp alone.
    const put = steps.find((s) => s.label === "folio_put")!;
    expect(put.noted).toEqual(expect.arrayContaining(["pcp cpu0 Normal"]));
    expect(put.noted).not.toContain("zone Normal");
    const allocs = steps.filter((s) => s.label.startsWith("folio_alloc"));
    expect(allocs.map((s) => [s.task, s.writes])).toEqual([
      ["t0", ["pcp cpu0 Normal", "zone Normal"]],
      ["t0", ["pcp cpu0 Normal", "zone Normal"]],
      ["t1", ["pcp cpu1 Normal", "zone Normal"]],
      ["t2", ["pcp cpu0 Normal"]],
    ]);
    expect(allocs.map((s) => s.noted.filter((n) => !n.startsWith("folio")))).toEqual([[], [], [], []]);
  });

  it("spills the oldest pages to the buddy lists once the pcp holds high pages", () => {
    const { mem, steps, r } = runInOrder({ Normal: 16 }, 1, [
      [
        0,
        function* (mem) {
          const fs: Folio[] = [];
          for (let i = 0; i < 5; i++) fs.push((yield* mem.allocFolio({ movable: true }))!);
          for (const f of fs) yield* folioPut(f, "alloc");
        },
      ],
    ]);
    // Refills of 1, 2 and 3 pages leave 0x10005 on the list. The third free brings it to high (4) and
    // spills nr_pcp_free = clamp(free_count 3, batch 1, high - batch 3) = 3 pages from the tail: the oldest.
    const drained = r.trace.filter((e) => e.type === "mm_page_pcpu_drain").map((e) => e.args!.pfn);
    expect(drained).toEqual(["0x10005", "0x10000", "0x10001"]);
    expect(mem.pcpList(0, "Normal", "MOVABLE")).toEqual([0x10004, 0x10003, 0x10002]);
    expect(mem.pcpCount(0, "Normal")).toBe(3);
    expect(mem.freePages().Normal).toBe(16);
    const puts = steps.filter((s) => s.label === "folio_put");
    expect(puts.map((s) => s.noted.includes("zone Normal"))).toEqual([false, false, true, false, false]);
  });

  it("drain_all_pages empties every CPU's pcp into the buddy lists, one step per CPU", () => {
    const { mem, steps } = runInOrder({ Normal: 16 }, 3, [
      [0, freeOneOn],
      [1, freeOneOn],
      [2, freeOneOn],
      [
        0,
        function* (mem) {
          yield* later();
          expect([0, 1, 2].map((c) => mem.pcpCount(c, "Normal"))).toEqual([1, 1, 1]);
          yield* mem.drainAllPages("Normal");
        },
      ],
    ]);
    expect([0, 1, 2].map((c) => mem.pcpCount(c, "Normal"))).toEqual([0, 0, 0]);
    expect(mem.freePages().Normal).toBe(16);
    expect(steps.filter((s) => s.label.startsWith("drain_pages_zone")).map((s) => [s.label, s.writes])).toEqual([
      ["drain_pages_zone(cpu0)", ["pcp cpu0 Normal", "zone Normal"]],
      ["drain_pages_zone(cpu1)", ["pcp cpu1 Normal", "zone Normal"]],
      ["drain_pages_zone(cpu2)", ["pcp cpu2 Normal", "zone Normal"]],
    ]);
  });

  it("a freed CMA page sits on the MOVABLE list: a movable allocation gets it back, an unmovable one never", () => {
    const got: Record<string, string | null> = {};
    const { mem } = runInOrder({ CMA: 4, Normal: 4 }, 1, [
      [
        0,
        function* (mem) {
          const cma = (yield* mem.allocFolio({ movable: true }))!;
          got.cma = hex(cma);
          yield* folioPut(cma, "alloc");
          got.onList = mem.pcpList(0, "Normal", "MOVABLE").map((p) => "0x" + p.toString(16)).join();
          got.unmovable = hex(yield* mem.allocFolio({ movable: false }));
          const saved = memallocPinSave();
          got.pinned = hex(yield* mem.allocFolio({ movable: true }));
          memallocPinRestore(saved);
          got.movable = hex(yield* mem.allocFolio({ movable: true }));
        },
      ],
    ]);
    expect(got).toEqual({ cma: "0x9f8000", onList: "0x9f8000", unmovable: "0x10000", pinned: "0x10001", movable: "0x9f8000" });
    expect(mem.pcpList(0, "Normal", "UNMOVABLE")).toEqual([0x10002]);
    expect(mem.pcpList(0, "Normal", "MOVABLE")).toEqual([]);
  });

  it("a page of an isolated pageblock bypasses the pcp, and the buddy lists do not hand it out until undone", () => {
    const got: Record<string, string | null> = {};
    const { mem, steps } = runInOrder({ CMA: 4, Normal: 4 }, 2, [
      [
        0,
        function* (mem) {
          const a = (yield* mem.allocFolio({ movable: true }))!;
          const b = (yield* mem.allocFolio({ movable: true }))!;
          yield* folioPut(a, "alloc"); // to CPU0's pcp before the isolation
          yield* startIsolatePageRange(mem, 0x9f8000, 0x9f8004);
          expect(mem.getPfnblockMigratetype(0x9f8001)).toBe("ISOLATE");
          yield* folioPut(b, "alloc"); // straight to the buddy lists
          got.pcp = mem.pcpList(0, "Normal", "MOVABLE").map((p) => "0x" + p.toString(16)).join();
          yield* mem.drainAllPages("Normal");
        },
      ],
      [
        1,
        function* (mem) {
          got.isolated = hex(yield* mem.allocFolio({ movable: true }));
          yield* undoIsolatePageRange(mem, 0x9f8000, 0x9f8004);
          got.undone = hex(yield* mem.allocFolio({ movable: true }));
        },
      ],
    ]);
    expect(got).toEqual({ pcp: "0x9f8000,0x9f8002", isolated: "0x10000", undone: "0x9f8000" });
    const puts = steps.filter((s) => s.label === "folio_put");
    expect(puts.map((s) => s.noted.filter((n) => !n.startsWith("folio")))).toEqual([["pcp cpu0 Normal"], ["zone CMA"]]);
    // Every free reads the pageblock's migratetype, which the isolation step writes.
    expect(puts.map((s) => s.read)).toEqual([["pageblock flags Normal"], ["pageblock flags Normal"]]);
    expect(steps.find((s) => s.label === "start_isolate_page_range")!.writes).toEqual(["pageblock flags Normal", "zone Normal", "zone CMA"]);
    expect(mem.pcpCount(0, "Normal")).toBe(0);
  });
});

function* freeOneOn(mem: PhysicalMemory): TaskGen<void> {
  const f = (yield* mem.allocFolio({ movable: true }))!;
  yield* folioPut(f, "alloc");
}

/** A step that does nothing: the ops after it are made only when it has run. */
function later(): Op<void> {
  return op({ kind: "noop", run: () => undefined });
}
