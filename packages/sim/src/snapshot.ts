/**
 * Set-up once (a model-checking device; no kernel counterpart): a machine's state
 * after a program's sequential set-up, captured once and copied into every execution's
 * fresh machine instead of running the set-up again.
 *
 * A set-up is a function of the machine configuration alone (it runs before any
 * explored choice, under a fixed chooser), so its end state is the same in every
 * execution — provided the set-up is deterministic and leaves nothing that cannot be
 * copied. Both are checked, not assumed: the set-up runs on two machines, and their
 * object graphs are walked side by side.
 *
 * - An object found at the same place in both graphs (`===`) is not the run's: a
 *   module constant, a shared function, the scenario's own data. It is shared, as it
 *   is when the set-up is re-run.
 * - Two distinct objects at the same place are the run's: they must have the same
 *   prototype, the same keys in the same order, equal primitive values and the same
 *   aliasing (one object reached twice in one graph is one object reached twice in the
 *   other). Each execution gets a copy of the first graph's.
 * - A task still waiting at the end of the set-up is copied only if it is restartable
 *   and waits at its restart point (an idle kworker): its body is started afresh there.
 * - A function made during the set-up (a closure, which may hold the run's objects),
 *   any other task that has not finished (its generator cannot be copied), a generator, a
 *   promise, a weak collection or any difference between the two runs refuses the
 *   snapshot: the set-up is then re-run for every execution, as before, and `refused`
 *   says why.
 * - Allowed differences: a `Shared` object's `id` (a process-wide counter; ids are
 *   compared only within a run) and the traces' own bookkeeping (their hashes must
 *   match).
 *
 * The copy is one pass over a precomputed plan (no look-ups), so an execution starts
 * for the price of allocating the set-up's objects.
 */

import { Machine, Task } from "./machine.js";
import { Shared } from "./op.js";
import { Trace } from "./trace.js";

export type SetupFn = (m: Machine) => void;

/** Machine fields that come from the configuration (each machine keeps its own) and its trace (adopted, not copied). */
const MACHINE_OWN = new Set<PropertyKey>(["config", "cpuCount", "preemption", "costs", "kernel", "jumpLabel", "livelockSteps", "livelockNs", "maxSteps", "maxVirtualNs", "maxSkewNs", "trace", "tracer"]);

const enum Kind {
  Root,
  Object,
  Array,
  Map,
  Set,
}

/** One of the run's objects: how to allocate it and what to put in it. */
interface Node {
  kind: Kind;
  proto: object | null;
  frozen: boolean;
  /** Object keys (Kind.Object, Kind.Root); for Map and Set, unused. */
  keys: PropertyKey[];
  /** Per slot: the index of a run object, or -1 for `consts[slot]`. Map: key, value alternating. */
  refs: number[];
  consts: unknown[];
  /** Keys whose property is not a plain writable, enumerable one (defined with its attributes). */
  attrs?: Map<PropertyKey, PropertyDescriptor>;
  /** Kind.Object without `attrs`: the allocator and filler of its shape (see `shapeOf`). */
  shape?: Shape;
}

/**
 * Code for the objects of one shape (prototype and keys), written out with the keys as
 * names. A copy made by `Object.create` and a loop of keyed stores `obj[keys[j]] = v`
 * goes through V8's megamorphic store path for every field and grows the object's
 * property store field by field; and the copy is most of what starting an execution
 * from a snapshot costs. `allocate` makes the object with every field in place (a
 * constructor function whose `prototype` is the shape's, which V8 allocates inline;
 * an object literal with `__proto__` costs a runtime call each), `fill` sets them:
 * `obj.key = refs[j] < 0 ? consts[j] : out[refs[j]]`.
 */
interface Shape {
  allocate: () => object;
  fill: (obj: object, refs: readonly number[], consts: readonly unknown[], out: readonly object[]) => void;
}

const SHAPES = new Map<object, Map<string, Shape>>();

/** The shape's code, or undefined where the generic copy must do (a null prototype, a symbol or `__proto__` key). */
function shapeOf(proto: object | null, keys: readonly PropertyKey[]): Shape | undefined {
  if (proto === null || keys.some((k) => typeof k !== "string" || k === "__proto__")) return undefined;
  const names = (keys as readonly string[]).map((k) => JSON.stringify(k));
  const id = names.join(",");
  let byKeys = SHAPES.get(proto);
  if (byKeys === undefined) SHAPES.set(proto, (byKeys = new Map()));
  let shape = byKeys.get(id);
  if (shape === undefined) {
    const fields = names.map((k) => `this[${k}] = undefined;`).join(" ");
    const allocate = new Function("proto", `"use strict"; function Copy() { ${fields} } Copy.prototype = proto; return () => new Copy();`)(proto) as Shape["allocate"];
    const stores = names.map((k, j) => `i = r[${j}]; o[${k}] = i < 0 ? c[${j}] : out[i];`).join("\n");
    const fill = new Function("o", "r", "c", "out", `"use strict"; let i;\n${stores}`) as Shape["fill"];
    shape = { allocate, fill };
    byKeys.set(id, shape);
  }
  return shape;
}

class Refused extends Error {}

/** The state after one set-up, ready to be copied into fresh machines. */
export class MachineSnapshot {
  /** The configuration that last fitted (configurations are not changed once machines are built from them). */
  private fitting: Machine["config"] | undefined = undefined;

  private constructor(
    private readonly source: Machine,
    private readonly nodes: Node[],
    /** Nodes that are restartable tasks waiting at their restart point (their bodies start afresh). */
    private readonly restarts: number[],
  ) {}

  /** Compare two machines after the same set-up; a snapshot of the first, or why there can be none. */
  static capture(a: Machine, b: Machine): MachineSnapshot | string {
    if (a.status !== "running") return `the set-up ended the run (${a.status})`;
    try {
      const planner = new Planner(a, b);
      const nodes = planner.plan();
      return new MachineSnapshot(a, nodes, planner.restarts);
    } catch (e) {
      if (e instanceof Refused) return e.message;
      throw e;
    }
  }

  /** Steps and virtual time the set-up took: a machine whose budgets end earlier must run it itself. */
  get setupSteps(): number {
    return this.source.stepCount;
  }

  /** Whether `m` (fresh) has the same configuration and enough budget to start from this snapshot. */
  fits(m: Machine): boolean {
    if (m.stepCount !== 0 || m.tasks.length > 0) return false;
    // Everything compared below comes from the configuration: an explorer's executions share one.
    if (m.config === this.fitting) return true;
    if (!this.sameConfiguration(m)) return false;
    this.fitting = m.config;
    return true;
  }

  private sameConfiguration(m: Machine): boolean {
    const a = this.source;
    if (m.cpuCount !== a.cpuCount || m.preemption !== a.preemption || m.maxSkewNs !== a.maxSkewNs) return false;
    if (m.livelockSteps !== a.livelockSteps || m.livelockNs !== a.livelockNs || m.trace.record !== a.trace.record) return false;
    if (!sameValues(m.costs, a.costs) || !sameValues(m.jumpLabel, a.jumpLabel) || !sameValues(m.kernel, a.kernel)) return false;
    return a.stepCount < m.maxSteps && a.now < m.maxVirtualNs;
  }

  /** Make `m` (fresh, `fits`) what the source machine was right after the set-up. */
  restoreInto(m: Machine): void {
    const nodes = this.nodes;
    const out: object[] = new Array(nodes.length);
    out[0] = m;
    for (let i = 1; i < nodes.length; i++) out[i] = allocate(nodes[i]);
    for (let i = 0; i < nodes.length; i++) fill(nodes[i], out[i], out);
    for (let i = 1; i < nodes.length; i++) if (nodes[i].frozen) Object.freeze(out[i]);
    m.trace.adopt(this.source.trace);
    for (const i of this.restarts) m.restartAtIdle(out[i] as Task);
  }
}

function allocate(n: Node): object {
  switch (n.kind) {
    case Kind.Array:
      return new Array(n.refs.length);
    case Kind.Map:
      return new Map();
    case Kind.Set:
      return new Set();
    default:
      return n.shape !== undefined ? n.shape.allocate() : (Object.create(n.proto) as object);
  }
}

function fill(n: Node, target: object, out: object[]): void {
  const refs = n.refs;
  const consts = n.consts;
  switch (n.kind) {
    case Kind.Array: {
      const arr = target as unknown[];
      for (let j = 0; j < refs.length; j++) arr[j] = refs[j] < 0 ? consts[j] : out[refs[j]];
      return;
    }
    case Kind.Map: {
      const map = target as Map<unknown, unknown>;
      for (let j = 0; j < refs.length; j += 2) {
        map.set(refs[j] < 0 ? consts[j] : out[refs[j]], refs[j + 1] < 0 ? consts[j + 1] : out[refs[j + 1]]);
      }
      return;
    }
    case Kind.Set: {
      const set = target as Set<unknown>;
      for (let j = 0; j < refs.length; j++) set.add(refs[j] < 0 ? consts[j] : out[refs[j]]);
      return;
    }
    default: {
      if (n.shape !== undefined) {
        n.shape.fill(target, refs, consts, out);
        return;
      }
      const obj = target as Record<PropertyKey, unknown>;
      const keys = n.keys;
      for (let j = 0; j < keys.length; j++) {
        const v = refs[j] < 0 ? consts[j] : out[refs[j]];
        const d = n.attrs?.get(keys[j]);
        if (d === undefined) obj[keys[j]] = v;
        else Object.defineProperty(obj, keys[j], { ...d, value: v });
      }
    }
  }
}

/** A restartable task waiting, untimed, at its restart point: it can be started afresh there. */
function atRestartPoint(t: Task): boolean {
  const op = t.pending;
  return t.restartBody !== undefined && op !== null && op.restartPoint && op.timeoutNs === undefined && !op.timedOut;
}

function sameValues(x: object, y: object): boolean {
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** The side-by-side walk of two set-up results that finds the run's objects. */
class Planner {
  private readonly index = new Map<object, number>();
  private readonly paired = new Map<object, object>();
  private readonly pairedBack = new Map<object, object>();
  private readonly nodes: Node[] = [];
  private readonly queue: { a: object; b: object; path: string }[] = [];
  readonly restarts: number[] = [];

  constructor(
    private readonly a: Machine,
    private readonly b: Machine,
  ) {}

  plan(): Node[] {
    if (this.a.trace.hash() !== this.b.trace.hash()) throw new Refused("the set-up is not deterministic: two runs of it traced differently");
    this.pair(this.a, this.b, "machine");
    this.paired.set(this.a.trace, this.b.trace);
    for (let i = 0; i < this.queue.length; i++) {
      const { a, b, path } = this.queue[i];
      this.nodes[i] = this.node(a, b, path);
    }
    return this.nodes;
  }

  /** Register a pair of the run's objects (or check it matches the pairing already seen); its index. */
  private pair(a: object, b: object, path: string): number {
    const seen = this.paired.get(a);
    if (seen !== undefined) {
      if (seen !== b) throw new Refused(`the set-up is not deterministic: ${path} is shared differently in two runs`);
      const i = this.index.get(a);
      if (i === undefined) throw new Refused(`${path} refers to the machine's trace`);
      return i;
    }
    if (this.pairedBack.has(b)) throw new Refused(`the set-up is not deterministic: ${path} is shared differently in two runs`);
    this.paired.set(a, b);
    this.pairedBack.set(b, a);
    const i = this.queue.length;
    this.index.set(a, i);
    this.queue.push({ a, b, path });
    return i;
  }

  /** The slot for a pair of values: an index (the run's object) or -1 (a constant, in `consts`). */
  private slot(va: unknown, vb: unknown, path: string, volatile = false): number {
    if (va === vb) return -1;
    const ta = typeof va;
    if (ta !== "object" || va === null || typeof vb !== "object" || vb === null) {
      if (volatile && typeof va === typeof vb) return -1;
      if (ta === "function" && typeof vb === "function") throw new Refused(`${path} is a function made during the set-up (a closure may hold the run's objects)`);
      if (Number.isNaN(va) && Number.isNaN(vb)) return -1;
      throw new Refused(`the set-up is not deterministic: ${path} is ${String(va)} in one run and ${String(vb)} in another`);
    }
    return this.pair(va as object, vb, path);
  }

  private node(a: object, b: object, path: string): Node {
    const proto = Object.getPrototypeOf(a) as object | null;
    if (proto !== Object.getPrototypeOf(b)) throw new Refused(`the set-up is not deterministic: ${path} has different types in two runs`);
    const frozen = Object.isFrozen(a);
    const refs: number[] = [];
    const consts: unknown[] = [];
    const put = (va: unknown, vb: unknown, p: string, volatile = false) => {
      const r = this.slot(va, vb, p, volatile);
      refs.push(r);
      consts.push(r < 0 ? va : undefined);
    };
    if (Array.isArray(a)) {
      const bb = b as unknown[];
      if (proto !== Array.prototype || a.length !== bb.length) throw new Refused(`the set-up is not deterministic: ${path} has different lengths in two runs`);
      for (let j = 0; j < a.length; j++) put(a[j], bb[j], `${path}[${j}]`);
      this.plainArray(a, path);
      return { kind: Kind.Array, proto, frozen, keys: [], refs, consts };
    }
    if (a instanceof Map) {
      const eb = [...(b as Map<unknown, unknown>)];
      if (proto !== Map.prototype || eb.length !== a.size) throw new Refused(`the set-up is not deterministic: ${path} has different sizes in two runs`);
      let j = 0;
      for (const [k, v] of a) {
        const label = typeof k === "string" || typeof k === "number" ? String(k) : `#${j}`;
        put(k, eb[j][0], `${path} key ${label}`);
        put(v, eb[j][1], `${path}.get(${label})`);
        j++;
      }
      return { kind: Kind.Map, proto, frozen, keys: [], refs, consts };
    }
    if (a instanceof Set) {
      const eb = [...(b as Set<unknown>)];
      if (proto !== Set.prototype || eb.length !== a.size) throw new Refused(`the set-up is not deterministic: ${path} has different sizes in two runs`);
      let j = 0;
      for (const v of a) put(v, eb[j++], `${path} element ${j}`);
      return { kind: Kind.Set, proto, frozen, keys: [], refs, consts };
    }
    this.copyable(a, path);
    const keys = Reflect.ownKeys(a);
    const kb = Reflect.ownKeys(b);
    if (keys.length !== kb.length || keys.some((k, j) => k !== kb[j])) throw new Refused(`the set-up is not deterministic: ${path} has different fields in two runs`);
    const root = a === this.a;
    const outKeys: PropertyKey[] = [];
    let attrs: Map<PropertyKey, PropertyDescriptor> | undefined;
    for (const k of keys) {
      if (root && MACHINE_OWN.has(k)) continue;
      const d = Object.getOwnPropertyDescriptor(a, k)!;
      if (!("value" in d)) throw new Refused(`${path}.${String(k)} is an accessor property`);
      if (!d.writable || !d.enumerable || !d.configurable) (attrs ??= new Map()).set(k, { writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
      const va = d.value as unknown;
      const vb = (b as Record<PropertyKey, unknown>)[k];
      outKeys.push(k);
      if (a instanceof Task && (k === "gen" || (k === "pending" && a.state !== "done"))) {
        // A finished task's generator is never resumed: keep it as it is. A restartable
        // one's generator and pending op are made afresh after the copy.
        refs.push(-1);
        consts.push(va);
        continue;
      }
      put(va, vb, `${path}.${String(k)}`, a instanceof Shared && k === "id");
    }
    if (a instanceof Task && a.state !== "done") this.restarts.push(this.index.get(a)!);
    const node: Node = { kind: root ? Kind.Root : Kind.Object, proto, frozen, keys: outKeys, refs, consts };
    if (attrs) node.attrs = attrs;
    else if (!root) node.shape = shapeOf(proto, outKeys);
    return node;
  }

  /** Arrays are copied element by element: extra own properties or holes would be lost. */
  private plainArray(a: unknown[], path: string): void {
    if (Reflect.ownKeys(a).length !== a.length + 1) throw new Refused(`${path} is an array with extra properties or holes`);
  }

  /** What a field-by-field copy would get wrong. */
  private copyable(a: object, path: string): void {
    if (a instanceof Trace) throw new Refused(`${path} refers to a trace`);
    if (a instanceof Task && a.state !== "done" && !atRestartPoint(a)) throw new Refused(`task ${a.name} has not finished after the set-up (a running generator cannot be copied)`);
    if (a instanceof Machine && a !== this.a) throw new Refused(`${path} refers to another machine`);
    const tag = Object.prototype.toString.call(a);
    if (tag !== "[object Object]") throw new Refused(`${path} is a ${tag.slice(8, -1)}, which the snapshot cannot copy`);
  }
}

/**
 * A set-up run once per configuration: `apply` brings a fresh machine to the state
 * after the set-up, from a snapshot when one could be taken, else by running it.
 */
export class SetupOnce {
  private readonly snapshots: MachineSnapshot[] = [];
  /** Why the set-up is re-run for every execution (null: executions start from a snapshot; undefined: not tried yet). */
  refused: string | null | undefined = undefined;

  /** Configurations tried so far (a machine whose budget ends inside the set-up is one). */
  private attempts = 0;

  constructor(private readonly setup: SetupFn) {}

  apply(m: Machine): void {
    for (const s of this.snapshots) {
      if (s.fits(m)) {
        s.restoreInto(m);
        return;
      }
    }
    if (this.refused || this.attempts >= 4) {
      this.setup(m);
      return;
    }
    this.attempts++;
    // The first execution of a configuration runs its own set-up; a run of it on a fresh
    // machine, compared with that one, is the snapshot later executions start from. (The
    // fresh machine goes first: the execution's trace then owns the shared string table.)
    const a = new Machine(m.config);
    this.setup(a);
    this.setup(m);
    const taken = MachineSnapshot.capture(a, m);
    if (typeof taken !== "string") {
      this.snapshots.push(taken);
      this.refused = null;
    } else if (this.snapshots.length === 0) {
      this.refused = taken;
    }
  }
}
