import { describe, expect, it } from "vitest";
import { Machine, currentMachine, type MachineConfig } from "./machine.js";
import { Block, Cell, Shared, op, type TaskGen } from "./op.js";
import { atomicAdd, readOnce, writeOnce } from "./atomic.js";
import { SeededChooser, TimedChooser } from "./choosers.js";
import { MachineSnapshot, SetupOnce } from "./snapshot.js";
import { queueWorkOn, Work } from "./workqueue.js";

const CONFIG: MachineConfig = { cpus: 2 };
const STATE = Symbol("state");

interface State {
  counter: Cell;
  log: string[];
  byName: Map<string, Cell>;
}

/** A set-up that builds shared state with some aliasing, through steps on both CPUs. */
function setup(m: Machine): void {
  const counter = new Cell("counter", 0);
  const state: State = { counter, log: [], byName: new Map([["counter", counter]]) };
  m.ext.set(STATE, state);
  for (let i = 0; i < 3; i++) {
    m.spawn({
      name: `setup${i}`,
      cpu: i % 2,
      *body() {
        yield* atomicAdd(counter, i + 1);
        state.log.push(`step ${i}`);
      },
    });
    m.settle(new TimedChooser(0, 0));
  }
}

/** A work function: one for every run (a closure made per run would refuse the snapshot). */
function* addHundred(): TaskGen<void> {
  const { counter } = currentMachine().ext.get(STATE) as State;
  yield* atomicAdd(counter, 100);
}

/** The concurrent part: two tasks racing on the set-up's counter. */
function race(m: Machine): void {
  const { counter, log } = m.ext.get(STATE) as State;
  for (const cpu of [0, 1]) {
    m.spawn({
      name: `racer${cpu}`,
      cpu,
      *body() {
        const v = yield* readOnce(counter);
        yield* writeOnce(counter, v + 10);
        log.push(`racer${cpu}`);
      },
    });
  }
}

function runFrom(prepare: (m: Machine) => void, seed: number): { hash: string; value: number; log: string[]; steps: number } {
  const m = new Machine({ ...CONFIG, trace: true });
  prepare(m);
  race(m);
  const r = m.run(new SeededChooser(seed));
  const s = m.ext.get(STATE) as State;
  return { hash: r.traceHash, value: s.counter.value, log: [...s.log], steps: r.steps };
}

describe("set-up once", () => {
  it("starts every execution from the snapshot exactly where re-running the set-up would", () => {
    const once = new SetupOnce(setup);
    for (let seed = 0; seed < 6; seed++) {
      expect(runFrom((m) => once.apply(m), seed)).toEqual(runFrom(setup, seed));
    }
    expect(once.refused).toBe(null);
  });

  it("copies the run's objects, keeps aliasing, and never changes the snapshot", () => {
    const once = new SetupOnce(setup);
    const first = new Machine({ ...CONFIG, trace: true });
    once.apply(first); // the first execution runs its own set-up
    const machines = [0, 1].map(() => {
      const m = new Machine({ ...CONFIG, trace: true });
      once.apply(m);
      return m;
    });
    const [a, b] = machines.map((m) => m.ext.get(STATE) as State);
    expect(a.counter).not.toBe(b.counter);
    expect(a.byName.get("counter")).toBe(a.counter);
    a.counter.value = 99;
    a.log.push("changed");
    const c = new Machine({ ...CONFIG, trace: true });
    once.apply(c);
    expect((c.ext.get(STATE) as State).counter.value).toBe(6);
    expect((c.ext.get(STATE) as State).log).toEqual(["step 0", "step 1", "step 2"]);
    expect(c.stepCount).toBe(first.stepCount);
    expect(c.trace.events).toEqual(first.trace.events);
  });

  it("refuses a set-up that leaves a closure made during it, and re-runs the set-up instead", () => {
    const closing = (m: Machine) => {
      setup(m);
      const state = m.ext.get(STATE) as State;
      m.ext.set("peek", () => state.counter.value);
    };
    const a = new Machine(CONFIG);
    closing(a);
    const b = new Machine(CONFIG);
    closing(b);
    expect(MachineSnapshot.capture(a, b)).toBe("machine.ext.get(peek) is a function made during the set-up (a closure may hold the run's objects)");
    const once = new SetupOnce(closing);
    for (let seed = 0; seed < 3; seed++) expect(runFrom((m) => once.apply(m), seed)).toEqual(runFrom(closing, seed));
    expect(once.refused).toMatch(/is a function made during the set-up/);
  });

  it("refuses a set-up that differs between two runs", () => {
    let n = 0;
    const drifting = (m: Machine) => {
      setup(m);
      m.ext.set("run", { n: n++ });
    };
    const a = new Machine(CONFIG);
    drifting(a);
    const b = new Machine(CONFIG);
    drifting(b);
    expect(MachineSnapshot.capture(a, b)).toBe("the set-up is not deterministic: machine.ext.get(run).n is 0 in one run and 1 in another");
  });

  it("restarts an idle kworker left by the set-up, and refuses any other task still waiting", () => {
    const queueing = (m: Machine) => {
      setup(m);
      const w = new Work("w", addHundred);
      m.ext.set("work", w);
      m.spawn({ name: "queuer", cpu: 0, *body() { yield* queueWorkOn(0, w); } });
      m.settle(new TimedChooser(0, 0));
    };
    const again = (m: Machine) => {
      m.spawn({ name: "requeuer", cpu: 1, *body() { yield* queueWorkOn(0, m.ext.get("work") as Work); } });
    };
    const once = new SetupOnce(queueing);
    for (let seed = 0; seed < 4; seed++) {
      expect(runFrom((m) => { once.apply(m); again(m); }, seed)).toEqual(runFrom((m) => { queueing(m); again(m); }, seed));
    }
    expect(once.refused).toBe(null);

    const waiting = (m: Machine) => {
      setup(m);
      m.spawn({ name: "waiter", cpu: 1, daemon: true, *body() { yield* op({ kind: "wait", block: Block.Sleep, enabled: () => false, run: () => undefined }); } });
      m.settle(new TimedChooser(0, 0));
    };
    const a = new Machine(CONFIG);
    waiting(a);
    const b = new Machine(CONFIG);
    waiting(b);
    expect(MachineSnapshot.capture(a, b)).toBe("task waiter has not finished after the set-up (a running generator cannot be copied)");
  });

  it("refuses a set-up that ends the run", () => {
    const c = new Machine({ ...CONFIG, maxSteps: 1 });
    setup(c);
    const d = new Machine({ ...CONFIG, maxSteps: 1 });
    setup(d);
    expect(MachineSnapshot.capture(c, d)).toBe("the set-up ended the run (step-limit)");
  });

  it("keeps each machine's own configuration, and runs the set-up itself when its budget ends inside it", () => {
    const once = new SetupOnce(setup);
    for (let i = 0; i < 2; i++) once.apply(new Machine(CONFIG));
    const small = new Machine({ ...CONFIG, maxSteps: 2 });
    once.apply(small);
    expect(small.status).toBe("step-limit");
    const big = new Machine({ ...CONFIG, maxSteps: 1000 });
    once.apply(big);
    expect(big.maxSteps).toBe(1000);
    expect(big.status).toBe("running");
    expect((big.ext.get(STATE) as State).counter.value).toBe(6);
  });

  it("gives set-up objects their ids from the snapshot (ids are compared only within a run)", () => {
    const once = new SetupOnce(setup);
    once.apply(new Machine(CONFIG));
    const m1 = new Machine(CONFIG);
    once.apply(m1);
    const m2 = new Machine(CONFIG);
    once.apply(m2);
    const c1 = (m1.ext.get(STATE) as State).counter;
    const c2 = (m2.ext.get(STATE) as State).counter;
    expect(c1.id).toBe(c2.id);
    expect(new Shared("later").id).toBeGreaterThan(c1.id);
  });
});
