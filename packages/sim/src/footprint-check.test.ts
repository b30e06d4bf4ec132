// Footprint checking: accesses of shared state beyond an op's declared footprint are
// reported, where they happen (the op's step, an `enabled` predicate, the task's own code
// between steps); declared or noted accesses are not.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Block,
  Cell,
  footprintViolations,
  Machine,
  Mutex,
  mutexLock,
  mutexUnlock,
  op,
  resetFootprintViolations,
  SeededChooser,
  setFootprintCheck,
  type FootprintViolation,
  type TaskGen,
} from "./index.js";

beforeEach(() => {
  setFootprintCheck(true);
  resetFootprintViolations();
});
afterEach(() => setFootprintCheck(false));

/** Run two tasks on two CPUs: `writer` stores 1 into `x`, and `reader`'s body. */
function runWith(reader: (x: Cell, y: Cell, m: Machine) => TaskGen<unknown>): FootprintViolation[] {
  const m = new Machine({ cpus: 2 });
  const x = new Cell("x", 0);
  const y = new Cell("y", 0);
  m.spawn({
    name: "writer",
    cpu: 0,
    *body() {
      yield* op({ kind: "store", label: "store x", writes: [x], run: () => void (x.value = 1) });
    },
  });
  m.spawn({ name: "reader", cpu: 1, body: () => reader(x, y, m) });
  m.run(new SeededChooser(1));
  return footprintViolations();
}

const brief = (v: FootprintViolation) => `${v.where} ${v.access} ${v.task}: ${v.op} ${v.field} (${v.object})`;

describe("footprint checking", () => {
  it("catches a planted undeclared read: an op that declares y but reads x", () => {
    const v = runWith(function* (x, y) {
      return yield* op({ kind: "load", label: "load x", reads: [y], run: () => x.value });
    });
    expect(v.map(brief)).toEqual(["op read reader: load x Cell.value (x)"]);
  });

  it("reports nothing when the read is declared, or noted while the step runs", () => {
    expect(runWith(function* (x) {
      return yield* op({ kind: "load", label: "load x", reads: [x], run: () => x.value });
    })).toEqual([]);
    expect(runWith(function* (x) {
      return yield* op({ kind: "load", label: "load x", run: (m) => (m.noteRead(x), x.value) });
    })).toEqual([]);
  });

  it("catches an undeclared write, and a write declared only as a read", () => {
    const v = runWith(function* (x, y) {
      yield* op({ kind: "store", label: "store y", reads: [y], run: () => void (y.value = 2) });
      yield* op({ kind: "store", label: "store x again", writes: [y], run: () => void (x.value = 3) });
    });
    expect(v.map(brief).sort()).toEqual(["op write reader: store x again Cell.value (x)", "op write reader: store y Cell.value (y)"]);
  });

  it("catches a read in the task's own code between two steps", () => {
    const v = runWith(function* (x, y) {
      yield* op({ kind: "load", label: "load y", reads: [y], run: () => y.value });
      const seen = x.value; // task code: no step declares it
      yield* op({ kind: "nop", label: "nop", run: () => seen });
    });
    expect(v.map(brief)).toEqual(["task read reader: after load y Cell.value (x)"]);
  });

  it("catches an enabled predicate reading beyond its op's footprint", () => {
    const v = runWith(function* (x, y) {
      yield* op({ kind: "wait", label: "wait for x", reads: [y], block: Block.Sleep, timeoutNs: 1_000_000, enabled: () => x.value === 1, run: () => undefined });
    });
    expect(v.map(brief)).toContain("predicate read reader: wait for x Cell.value (x)");
  });

  it("accepts task-code reads under a lock every write of the object holds too", () => {
    const m = new Machine({ cpus: 2 });
    const lock = new Mutex("lock");
    const x = new Cell("x", 0);
    for (const cpu of [0, 1]) {
      m.spawn({
        name: `t${cpu}`,
        cpu,
        *body() {
          yield* mutexLock(lock);
          const v = x.value; // under the lock
          yield* op({ kind: "store", label: "store x", writes: [x], run: () => void (x.value = v + 1) });
          yield* mutexUnlock(lock);
        },
      });
    }
    m.run(new SeededChooser(2));
    expect(footprintViolations()).toEqual([]);
  });

  it("off, objects are plain and nothing is recorded", () => {
    setFootprintCheck(false);
    const v = runWith(function* (x, y) {
      return yield* op({ kind: "load", label: "load x", reads: [y], run: () => x.value });
    });
    expect(v).toEqual([]);
  });
});
