import { describe, expect, it } from "vitest";
import { atomicAdd, atomicRead, Cell, Machine, SeededChooser, Trace, writeOnce, type Program } from "./index.js";

const program: Program = (m) => {
  const a = new Cell("a", 0);
  for (let i = 0; i < 3; i++) {
    m.spawn({
      name: `t${i}`,
      cpu: i % 2,
      *body() {
        for (let k = 0; k < 4; k++) {
          const v = yield* atomicRead(a);
          yield* writeOnce(a, v + k);
          yield* atomicAdd(a, 1);
        }
      },
    });
  }
};

function machine(): Machine {
  const m = new Machine({ cpus: 2, preemption: "full" });
  program(m);
  return m;
}

describe("trace interning", () => {
  it("numbers strings per trace, whatever other traces do in between", () => {
    const alone = machine().run(new SeededChooser(5)).traceHash;
    // Two machines stepped in alternation share the process-wide string table.
    const x = machine();
    const y = machine();
    const cx = new SeededChooser(5);
    const cy = new SeededChooser(5);
    for (;;) {
      const kx = x.candidates();
      const ky = y.candidates();
      if (kx.length === 0 && ky.length === 0) break;
      if (kx.length > 0) x.step(kx.length === 1 ? 0 : cx.choose(kx));
      if (ky.length > 0) y.step(ky.length === 1 ? 0 : cy.choose(ky));
    }
    expect(x.result().traceHash).toBe(alone);
    expect(y.result().traceHash).toBe(alone);
    expect(machine().run(new SeededChooser(5)).traceHash).toBe(alone);
  });

  it("gives a string its id at first sighting in each trace", () => {
    const first = new Trace(false);
    first.emit(0, 0, 0, 0, "b");
    first.emit(0, 0, 0, 0, "a");
    const second = new Trace(false);
    second.emit(0, 0, 0, 0, "a");
    second.emit(0, 0, 0, 0, "b");
    const again = new Trace(false);
    again.emit(0, 0, 0, 0, "a");
    again.emit(0, 0, 0, 0, "b");
    first.emit(0, 0, 0, 0, "c");
    again.emit(0, 0, 0, 0, "c");
    second.emit(0, 0, 0, 0, "c");
    expect(second.hash()).toBe(again.hash());
    expect(first.hash()).not.toBe(second.hash());
    expect(first.hash().endsWith(":3")).toBe(true);
  });

  it("keeps its ids when a newer trace starts the shared table afresh", () => {
    // More strings than the shared table keeps: the next trace to claim it clears it.
    const many = Array.from({ length: 70_000 }, (_, i) => `s${i}`);
    const sequence = (trace: Trace, from: number, to: number) => {
      for (let i = from; i < to; i++) trace.emit(0, i, 0, 0, "e", many[i % many.length]);
    };
    const a = new Trace(false);
    sequence(a, 0, 70_000);
    const b = new Trace(false);
    sequence(b, 0, 10);
    sequence(a, 69_990, 70_010);
    const alone = new Trace(false);
    sequence(alone, 0, 70_000);
    sequence(alone, 69_990, 70_010);
    expect(a.hash()).toBe(alone.hash());
    const fresh = new Trace(false);
    sequence(fresh, 0, 10);
    expect(b.hash()).toBe(fresh.hash());
  });
});

describe("events with args given one by one", () => {
  const args = { pfn: "0x1a", count: -1, big: 2 ** 40, locked: true, off: false, list: [1, "x"], none: undefined, nested: { b: 2, a: 1 } };

  it("hash and record what emit with the same args record gives", () => {
    for (const record of [false, true]) {
      const whole = new Trace(record);
      const split = new Trace(record);
      whole.emit(3, 100, 1, 2, "page_ref_mod", "folio0", args);
      const e = split.begin(3, 100, 1, 2, "page_ref_mod", "folio0");
      for (const [k, v] of Object.entries(args)) e.arg(k, v);
      whole.emit(4, 120, 0, 2, "mmap", undefined, { addr: "0x1a" });
      split.begin(4, 120, 0, 2, "mmap").arg("addr", "0x1a");
      whole.emit(5, 130, 0, 2, "rcu_gp_start", "normal");
      split.begin(5, 130, 0, 2, "rcu_gp_start", "normal");
      expect(split.hash()).toBe(whole.hash());
      expect(split.events).toEqual(whole.events);
      expect(JSON.stringify(split.events)).toBe(JSON.stringify(whole.events));
      expect(split.events.length).toBe(record ? 3 : 0);
    }
  });

  it("are what Machine.event emits from a task", () => {
    const run = (useEvent: boolean, record: boolean) => {
      const m = new Machine({ cpus: 1, trace: record });
      m.spawn({
        name: "t",
        cpu: 0,
        *body() {
          yield* atomicAdd(new Cell("c", 0), 1);
          if (useEvent) m.event("ipi", "x").arg("from", 0).arg("to", "all");
          else m.emit("ipi", "x", { from: 0, to: "all" });
          yield* atomicAdd(new Cell("d", 0), 1);
        },
      });
      return m.run(new SeededChooser(1));
    };
    for (const record of [false, true]) {
      const a = run(false, record);
      const b = run(true, record);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.trace).toEqual(a.trace);
    }
    expect(run(true, true).trace.find((e) => e.type === "ipi")?.args).toEqual({ from: 0, to: "all" });
  });
});

describe("adopting a trace", () => {
  const run = (trace: Trace, names: string[]) => {
    for (const n of names) trace.emit(0, 1, 0, 0, "e", n);
  };
  const setup = ["a", "b", "c"];
  const after = ["c", "x", "a", "y", "x"];

  it("continues as the adopted trace would, however often and from whichever source", () => {
    const whole = new Trace(false);
    run(whole, [...setup, ...after]);
    const s1 = new Trace(false);
    run(s1, setup);
    const s2 = new Trace(false);
    run(s2, ["z", ...setup]);
    const wholeZ = new Trace(false);
    run(wholeZ, ["z", ...setup, ...after]);
    for (const source of [s1, s1, s2, s1, s2, s2, s1]) {
      const t = new Trace(false);
      t.adopt(source);
      run(t, after);
      expect(t.hash()).toBe(source === s1 ? whole.hash() : wholeZ.hash());
    }
    // A source that went on after an adoption: the next adoption sees its new strings too.
    run(s1, ["x"]);
    const t = new Trace(false);
    t.adopt(s1);
    run(t, after);
    const grown = new Trace(false);
    run(grown, [...setup, "x", ...after]);
    expect(t.hash()).toBe(grown.hash());
  });
});
