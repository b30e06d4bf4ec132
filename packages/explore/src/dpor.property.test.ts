// A proof must be a proof, on programs nobody wrote by hand: for seeded random small
// programs (locks, mutexes, an rwsem whose readers update their count commutatively,
// plain, atomic and commutative accesses, timed work, waits on a variable (some with a timeout), timed sleeps,
// work items queued on a CPU's kworker and flushed, loads through a pointer whose target
// the footprint cannot name, preemption points; SCHED_NORMAL and SCHED_FIFO tasks; one to three CPUs; every preemption model; tight and
// loose skew bounds) a DPOR run that reports `complete` reaches exactly the final
// states naive enumeration of every schedule reaches.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Cell, Mutex, RwSemaphore, Work, flushWork, queueWorkOn, downRwSem, upRwSem, type Op, SpinLock, atomicAdd, condResched, mutexLock, mutexUnlock, op, readOnce, sleepNs, spinLock, waitVarEventTimeout, spinUnlock, waitVarEvent, wakeUpVar, writeOnce, type Machine, type PreemptionModel, type TaskGen } from "@foliosim/sim";
import { enumerateSchedules } from "@foliosim/sim/test";
import { explore } from "./explore.js";
import { executionConfig, runExecution } from "./execution.js";
import type { ExploreTarget } from "./target.js";

type Plain = { k: "w"; cell: number; v: number } | { k: "r"; cell: number } | { k: "add"; cell: number } | { k: "cadd"; cell: number } | { k: "work"; ns: number } | { k: "resched" } | { k: "put" } | { k: "alloc" };
type Instr =
  | Plain
  | { k: "spin"; lock: number; body: Plain[] }
  | { k: "mutex"; lock: number; body: Plain[] }
  | { k: "rsem"; body: Plain[] }
  | { k: "wsem"; body: Plain[] }
  | { k: "waitflag" }
  | { k: "setflag" }
  | { k: "sleep"; ns: number }
  | { k: "waitflagto"; ns: number }
  // Work items run by the kworker of a CPU (queue_work_on; the result says whether it was queued) and flush_work (whether it waited).
  | { k: "qwork"; work: number; cpu: number }
  | { k: "flush"; work: number }
  // A read of an object found only while running (Machine.noteRead): the cell `ptr` names.
  | { k: "peek" }
  | { k: "aim"; cell: number };
interface Program {
  cpus: number;
  preemption: PreemptionModel;
  maxSkewNs: number;
  /** `fifo`: a SCHED_FIFO priority (absent or 0: SCHED_NORMAL). */
  tasks: { cpu: number; body: Instr[]; fifo?: number }[];
  /** The bodies of two work items (absent: no work). */
  works?: Plain[][];
}

const plain: fc.Arbitrary<Plain> = fc.oneof(
  fc.record({ k: fc.constant("w" as const), cell: fc.nat(1), v: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ k: fc.constant("r" as const), cell: fc.nat(1) }),
  fc.record({ k: fc.constant("add" as const), cell: fc.nat(1) }),
  fc.record({ k: fc.constant("cadd" as const), cell: fc.nat(1) }),
  fc.record({ k: fc.constant("work" as const), ns: fc.constantFrom(10, 200, 3_000) }),
  fc.constant({ k: "resched" as const }),
  fc.constantFrom({ k: "put" as const }, { k: "alloc" as const }),
);
const instr: fc.Arbitrary<Instr> = fc.oneof(
  { weight: 4, arbitrary: plain },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("spin" as const), lock: fc.nat(1), body: fc.array(plain, { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("mutex" as const), lock: fc.nat(1), body: fc.array(plain, { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom("rsem" as const, "rsem" as const, "wsem" as const), body: fc.array(plain, { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.constantFrom({ k: "waitflag" as const }, { k: "setflag" as const }) },
  // Timers: a timed sleep, and a wait on the flag that gives up (its result is seen).
  { weight: 1, arbitrary: fc.oneof(fc.record({ k: fc.constant("sleep" as const), ns: fc.constantFrom(100, 2_000) }), fc.record({ k: fc.constant("waitflagto" as const), ns: fc.constantFrom(100, 2_000) })) },
  { weight: 1, arbitrary: fc.oneof(fc.record({ k: fc.constant("qwork" as const), work: fc.nat(1), cpu: fc.nat(2) }), fc.record({ k: fc.constant("flush" as const), work: fc.nat(1) })) },
  { weight: 1, arbitrary: fc.oneof(fc.constant({ k: "peek" as const }), fc.record({ k: fc.constant("aim" as const), cell: fc.nat(1) })) },
);
const program: fc.Arbitrary<Program> = fc.integer({ min: 1, max: 3 }).chain((cpus) =>
  fc.record({
    cpus: fc.constant(cpus),
    preemption: fc.constantFrom<PreemptionModel>("none", "voluntary", "full"),
    maxSkewNs: fc.constantFrom(50_000, 500, 50),
    tasks: fc.array(fc.record({ cpu: fc.nat(cpus - 1), body: fc.array(instr, { minLength: 1, maxLength: 4 }), fifo: fc.constantFrom(0, 0, 0, 10, 20) }), { minLength: 2, maxLength: 3 }),
    works: fc.array(fc.array(plain, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 }),
  }),
);



/** `atomic_add` whose result nobody reads: it commutes with every other such add of the cell (`Op.commutes`). */
function commutativeAdd(cell: Cell): Op<void> {
  return op({ kind: "cadd", writes: [cell], commutes: [cell], run: (m) => ((cell.value += 1), m.markCommutingWrite(cell)) });
}

/**
 * A put of a two-reference count whose last put "frees" to a free list its footprint
 * does not name (`Machine.noteWrite`, as a folio's zone), and an allocation from that
 * list: the two are ordered only through the write the machine reports after the step.
 */
function put(rc: Cell, freeList: Cell): Op<void> {
  return op({
    kind: "put",
    writes: [rc],
    run: (m) => {
      rc.value -= 1;
      m.markWrite(rc);
      if (rc.value !== 0) return;
      freeList.value += 1;
      m.noteWrite(freeList);
    },
  });
}

function alloc(freeList: Cell): Op<number> {
  return op({ kind: "alloc", writes: [freeList], run: (m) => (m.markWrite(freeList), freeList.value) });
}

/** A load through a pointer: the footprint names the pointer; the cell it points to is read too (`Machine.noteRead`). */
function peek(ptr: Cell, cells: readonly Cell[]): Op<number> {
  return op({
    kind: "peek",
    reads: [ptr],
    run: (m) => {
      const target = cells[ptr.value];
      m.noteRead(target);
      return target.value;
    },
  });
}

/** The program as an explore target whose final state is read after each run. */
function build(p: Program): { target: ExploreTarget; state: () => string } {
  let read = () => "";
  const target: ExploreTarget = {
    scenarioId: "generated",
    kernelId: "test",
    config: { cpus: p.cpus, preemption: p.preemption, maxSkewNs: p.maxSkewNs, maxSteps: 400 },
    program: (m: Machine) => {
      const cells = [new Cell("x", 0), new Cell("y", 0)];
      const rc = new Cell("rc", 2);
      const freeList = new Cell("free", 0);
      const flag = new Cell("flag", 0);
      const spins = [new SpinLock("S0"), new SpinLock("S1")];
      const mutexes = [new Mutex("M0"), new Mutex("M1")];
      const seen: number[][] = p.tasks.map(() => []);
      const sem = new RwSemaphore("sem");
      const ptr = new Cell("ptr", 0);
      const workSeen: number[] = [];
      const works = (p.works ?? []).map((body, w) => new Work(`W${w}`, function* () {
        for (const b of body) yield* runPlain(b, workSeen);
      }));
      function* runPlain(i: Plain, out: number[]): TaskGen<void> {
        if (i.k === "w") yield* writeOnce(cells[i.cell], i.v);
        else if (i.k === "r") out.push(yield* readOnce(cells[i.cell]));
        else if (i.k === "add") yield* atomicAdd(cells[i.cell], 1);
        else if (i.k === "cadd") yield commutativeAdd(cells[i.cell]);
        else if (i.k === "work") yield op({ kind: "work", cost: i.ns, run: () => undefined });
        else if (i.k === "put") yield put(rc, freeList);
        else if (i.k === "alloc") out.push((yield alloc(freeList)) as number);
        else yield* condResched();
      }
      p.tasks.forEach((t, n) =>
        m.spawn({
          name: `t${n}`,
          cpu: t.cpu,
          ...(t.fifo ? { policy: "fifo" as const, priority: t.fifo } : {}),
          *body() {
            for (const i of t.body) {
              if (i.k === "spin") {
                yield* spinLock(spins[i.lock]);
                for (const b of i.body) yield* runPlain(b, seen[n]);
                yield* spinUnlock(spins[i.lock]);
              } else if (i.k === "mutex") {
                yield* mutexLock(mutexes[i.lock]);
                for (const b of i.body) yield* runPlain(b, seen[n]);
                yield* mutexUnlock(mutexes[i.lock]);
              } else if (i.k === "rsem" || i.k === "wsem") {
                yield downRwSem(sem, i.k === "wsem");
                for (const b of i.body) yield* runPlain(b, seen[n]);
                yield upRwSem(sem, i.k === "wsem");
              } else if (i.k === "waitflag") {
                yield* waitVarEvent(flag, () => flag.value !== 0);
              } else if (i.k === "sleep") {
                yield sleepNs(i.ns);
              } else if (i.k === "waitflagto") {
                seen[n].push((yield* waitVarEventTimeout(flag, () => flag.value !== 0, i.ns)) > 0 ? 1 : 0);
              } else if (i.k === "setflag") {
                yield* writeOnce(flag, 1);
                yield wakeUpVar(flag);
              } else if (i.k === "qwork") {
                if (works.length > 0) seen[n].push((yield queueWorkOn(i.cpu % p.cpus, works[i.work])) ? 1 : 0);
              } else if (i.k === "flush") {
                if (works.length > 0) seen[n].push((yield* flushWork(works[i.work])) ? 1 : 0);
              } else if (i.k === "peek") {
                seen[n].push((yield peek(ptr, cells)) as number);
              } else if (i.k === "aim") {
                yield* writeOnce(ptr, i.cell);
              } else yield* runPlain(i, seen[n]);
            }
          },
        }),
      );
      read = () => `${cells.map((c) => c.value).join(",")},${rc.value},${freeList.value}|${seen.map((s) => s.join(".")).join("/")}${works.length > 0 ? `|${ptr.value};${workSeen.join(".")};${works.map((w) => w.doneSeq).join(",")}` : ""}`;
    },
  };
  return { target, state: read === undefined ? () => "" : () => read() };
}

function finalStates(p: Program): { naive: Set<string> | undefined; dpor: Set<string>; complete: boolean } {
  const naiveStates = new Set<string>();
  const n = build(p);
  const { complete: enumerated } = enumerateSchedules(n.target.program, n.target.config, (r) => {
    naiveStates.add(`${r.status}|${n.state()}`);
  }, 2_000);
  const d = build(p);
  const dporStates = new Set<string>();
  const target = { ...d.target, metrics: (r: { status: string }) => (dporStates.add(`${r.status}|${d.state()}`), {}) };
  const result = explore(target as ExploreTarget, { strategy: { kind: "dpor" }, maxExecutions: 2_000, stopAtFirstFailure: false, shrink: false });
  return { naive: enumerated ? naiveStates : undefined, dpor: dporStates, complete: result.dpor!.complete };
}

describe("DPOR against naive enumeration on generated programs", () => {
  // Counterexamples the generator found, each a bug DPOR had: kept as regressions.
  const REGRESSIONS: [string, Program][] = [
    ["a racing task whose initial is held back by the skew bound until the raced task runs", {"cpus":2,"preemption":"none","maxSkewNs":500,"tasks":[{"cpu":0,"body":[{"k":"r","cell":0}]},{"cpu":1,"body":[{"k":"spin","lock":0,"body":[{"k":"work","ns":10}]}]},{"cpu":0,"body":[{"k":"spin","lock":0,"body":[{"k":"add","cell":0}]},{"k":"spin","lock":0,"body":[{"k":"work","ns":10}]}]}]}],
    ["a read that waits for its CPU is not enabled by the event it races with", {"cpus":3,"preemption":"none","maxSkewNs":50000,"tasks":[{"cpu":1,"body":[{"k":"mutex","lock":0,"body":[{"k":"w","cell":1,"v":2}]}]},{"cpu":2,"body":[{"k":"mutex","lock":1,"body":[{"k":"add","cell":1},{"k":"add","cell":0}]},{"k":"spin","lock":0,"body":[{"k":"r","cell":0}]}]},{"cpu":1,"body":[{"k":"r","cell":0},{"k":"r","cell":1}]}]}],
    ["a sleeper stays awake while a task blocks on the mutex it holds", {"cpus":3,"preemption":"none","maxSkewNs":50,"tasks":[{"cpu":0,"body":[{"k":"mutex","lock":1,"body":[{"k":"r","cell":0}]},{"k":"spin","lock":0,"body":[{"k":"add","cell":0}]},{"k":"w","cell":1,"v":1}]},{"cpu":1,"body":[{"k":"resched"},{"k":"w","cell":0,"v":1},{"k":"mutex","lock":1,"body":[{"k":"add","cell":1}]}]}]}],
    ["the step before a mutex_lock decides whether it blocks: it races with the unlock", {"cpus":3,"preemption":"none","maxSkewNs":50,"tasks":[{"cpu":0,"body":[{"k":"mutex","lock":1,"body":[{"k":"add","cell":0}]},{"k":"r","cell":0}]},{"cpu":0,"body":[{"k":"r","cell":0}]},{"cpu":1,"body":[{"k":"mutex","lock":0,"body":[{"k":"resched"}]},{"k":"mutex","lock":1,"body":[{"k":"add","cell":0}]},{"k":"work","ns":10}]}]}],
    ["a task kept off its CPU by a non-preemptible one is tried before that one took the CPU", {"cpus":3,"preemption":"none","maxSkewNs":50,"tasks":[{"cpu":2,"body":[{"k":"w","cell":0,"v":2},{"k":"work","ns":3000}]},{"cpu":2,"body":[{"k":"add","cell":0},{"k":"spin","lock":0,"body":[{"k":"w","cell":0,"v":1}]}]},{"cpu":0,"body":[{"k":"setflag"},{"k":"resched"}]}]}],
    ["a step that holds another CPU back under a tight skew bound is dependent with it (1)", {"cpus":2,"preemption":"none","maxSkewNs":50,"tasks":[{"cpu":1,"body":[{"k":"spin","lock":1,"body":[{"k":"add","cell":0},{"k":"r","cell":0}]},{"k":"spin","lock":0,"body":[{"k":"work","ns":10}]}]},{"cpu":1,"body":[{"k":"w","cell":1,"v":1},{"k":"r","cell":0}]},{"cpu":0,"body":[{"k":"w","cell":1,"v":2},{"k":"spin","lock":1,"body":[{"k":"resched"}]},{"k":"r","cell":0},{"k":"resched"}]}]}],
    ["a step that holds another CPU back under a tight skew bound is dependent with it (2)", {"cpus":3,"preemption":"none","maxSkewNs":50,"tasks":[{"cpu":1,"body":[{"k":"mutex","lock":1,"body":[{"k":"w","cell":0,"v":1}]},{"k":"add","cell":0}]},{"cpu":0,"body":[{"k":"spin","lock":0,"body":[{"k":"add","cell":0}]},{"k":"mutex","lock":0,"body":[{"k":"r","cell":0}]}]},{"cpu":1,"body":[{"k":"mutex","lock":0,"body":[{"k":"add","cell":0}]}]}]}],
    ["the first work queued on an idle CPU starts its kworker and moves that CPU's clock: a step on another CPU that competes with its tasks", {"cpus":3,"preemption":"none","maxSkewNs":500,"tasks":[{"cpu":0,"body":[{"k":"rsem","body":[{"k":"w","cell":0,"v":1}]}]},{"cpu":2,"body":[{"k":"mutex","lock":1,"body":[{"k":"put"}]},{"k":"resched"}]},{"cpu":1,"body":[{"k":"qwork","work":1,"cpu":0},{"k":"mutex","lock":1,"body":[{"k":"r","cell":1}]},{"k":"waitflag"}]}],"works":[[{"k":"work","ns":10}],[{"k":"w","cell":1,"v":1}]]}],
    ["a kworker taking a work item clears its PENDING bit: a write that races with the next queue_work_on of it", {"cpus":2,"preemption":"none","maxSkewNs":50000,"tasks":[{"cpu":1,"body":[{"k":"qwork","work":0,"cpu":0},{"k":"waitflag"}]},{"cpu":1,"body":[{"k":"qwork","work":0,"cpu":0},{"k":"work","ns":10}]}],"works":[[{"k":"w","cell":0,"v":1}],[{"k":"work","ns":10}]]}],
    ["a free the step's footprint could not name races with an allocation from that list", {"cpus":2,"preemption":"none","maxSkewNs":50000,"tasks":[{"cpu":0,"body":[{"k":"put"},{"k":"put"}]},{"cpu":1,"body":[{"k":"alloc"}]}]}],
  ];
  it.each(REGRESSIONS)("%s", (_name, p) => {
    const { naive, dpor, complete } = finalStates(p);
    expect(complete).toBe(true);
    expect([...dpor].sort()).toEqual([...naive!].sort());
  });

  it("reaches every final state naive enumeration reaches whenever it reports complete (seeded)", () => {
    const runs = Number(process.env.FOLIOSIM_SOUNDNESS_RUNS ?? 60);
    let compared = 0;
    fc.assert(
      fc.property(program, (p) => {
        const { naive, dpor, complete } = finalStates(p);
        if (naive === undefined || !complete) return;
        compared++;
        expect([...dpor].sort()).toEqual([...naive].sort());
      }),
      { seed: Number(process.env.FOLIOSIM_SOUNDNESS_SEED ?? 20261207), numRuns: runs },
    );
    // Most generated programs are small enough for both to finish: the check is not vacuous.
    expect(compared).toBeGreaterThanOrEqual(Math.floor(runs * 0.8));
  }, 600_000);
});

/**
 * Final states of every schedule with at most `bound` preemptions (the rule of
 * `isPreemption`), by naive enumeration of every decision sequence; undefined when
 * there are more than `maxRuns`.
 */
function boundedNaive(p: Program, bound: number, maxRuns = 2_000): Set<string> | undefined {
  const out = new Set<string>();
  let prefix: number[] = [];
  for (let runs = 0; runs < maxRuns; runs++) {
    const n = build(p);
    const widths: number[] = [];
    const taken: number[] = [];
    const plan = {
      choose: (candidates: readonly unknown[]) => {
        const i = taken.length < prefix.length ? prefix[taken.length] : 0;
        widths.push(candidates.length);
        taken.push(i);
        return i;
      },
    };
    const e = runExecution(n.target, executionConfig(n.target, {}), plan);
    if (e.preemptions <= bound) out.add(`${e.result!.status}|${n.state()}`);
    let d = taken.length - 1;
    while (d >= 0 && taken[d] + 1 >= widths[d]) d--;
    if (d < 0) return out;
    prefix = [...taken.slice(0, d), taken[d] + 1];
  }
  return undefined;
}

function boundedDpor(p: Program, bound: number): { states: Set<string>; boundedComplete: boolean } {
  const d = build(p);
  const states = new Set<string>();
  const target = { ...d.target, metrics: (r: { status: string }) => (states.add(`${r.status}|${d.state()}`), {}) };
  const result = explore(target as ExploreTarget, { strategy: { kind: "dpor", preemptionBound: bound }, maxExecutions: 2_000, stopAtFirstFailure: false, shrink: false });
  return { states, boundedComplete: result.dpor!.boundedComplete };
}

describe("preemption-bounded DPOR against bounded enumeration on generated programs", () => {
  // Counterexamples the generator found: bounded DPOR reported boundedComplete without
  // reaching a final state that a schedule within the bound reaches.
  const REGRESSIONS: [string, Program, number][] = [
    ["a sleeping sibling stands for schedules that need more preemptions than the bound", {"cpus":1,"preemption":"full","maxSkewNs":50000,"tasks":[{"cpu":0,"body":[{"k":"mutex","lock":0,"body":[{"k":"w","cell":0,"v":1}]},{"k":"waitflag"}]},{"cpu":0,"body":[{"k":"spin","lock":0,"body":[{"k":"w","cell":0,"v":2}]},{"k":"mutex","lock":0,"body":[{"k":"r","cell":0}]}]}]}, 0],
    ["a task that preempts where the race is could start without preempting before the other CPU's step", {"cpus":3,"preemption":"full","maxSkewNs":500,"tasks":[{"cpu":1,"body":[{"k":"sleep","ns":100}]},{"cpu":0,"body":[{"k":"put"},{"k":"r","cell":1},{"k":"work","ns":10}]},{"cpu":0,"body":[{"k":"rsem","body":[{"k":"add","cell":1}]},{"k":"sleep","ns":100}]}]}, 0],
    ["the reversal within the bound starts at an earlier switch, where the other task was tried", {"cpus":2,"preemption":"none","maxSkewNs":500,"tasks":[{"cpu":1,"body":[{"k":"mutex","lock":0,"body":[{"k":"w","cell":0,"v":1}]}]},{"cpu":0,"body":[{"k":"spin","lock":0,"body":[{"k":"w","cell":0,"v":2}]}]}]}, 0],
  ];
  it.each(REGRESSIONS)("%s", (_name, p, bound) => {
    const naive = boundedNaive(p, bound)!;
    const { states, boundedComplete } = boundedDpor(p, bound);
    expect(boundedComplete).toBe(true);
    expect(naive.size).toBe(2);
    expect([...states].sort()).toEqual([...naive].sort());
  });

  it("reaches every final state of the schedules within the bound whenever it reports boundedComplete (seeded)", () => {
    // A third of the unbounded check's count: each program is enumerated and explored once per bound.
    const runs = Math.ceil(Number(process.env.FOLIOSIM_SOUNDNESS_RUNS ?? 90) / 3);
    let compared = 0;
    fc.assert(
      fc.property(program, fc.integer({ min: 0, max: 2 }), (p, bound) => {
        const naive = boundedNaive(p, bound);
        const { states, boundedComplete } = boundedDpor(p, bound);
        if (naive === undefined || !boundedComplete) return;
        compared++;
        expect([...states].sort()).toEqual([...naive].sort());
      }),
      { seed: Number(process.env.FOLIOSIM_SOUNDNESS_SEED ?? 20261207), numRuns: runs },
    );
    expect(compared).toBeGreaterThanOrEqual(Math.floor(runs * 0.8));
  }, 600_000);
});

