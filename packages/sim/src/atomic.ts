/**
 * Atomic and plain accesses to shared cells (include/linux/atomic.h, READ_ONCE/WRITE_ONCE).
 *
 * Each helper is one operation with its footprint. `atomicAdd` returns the old value
 * (the kernel's `atomic_fetch_add`), `atomicAddReturn` the new one.
 */

import { Cell, op, type Op } from "./op.js";

export type Atomic = Cell<number>;

export function atomic(name: string, value = 0): Atomic {
  return new Cell(name, value);
}

export function atomicRead(c: Cell<number>): Op<number> {
  return op({ kind: "atomic_read", label: c.label("atomic_read"), reads: [c], cost: "plain", run: () => c.value });
}

export function atomicSet(c: Cell<number>, v: number): Op<void> {
  return op({
    kind: "atomic_set",
    label: c.label("atomic_set"),
    writes: [c],
    cost: "plain",
    run: (m) => {
      if (c.value !== v) m.markWrite(c);
      c.value = v;
    },
  });
}

/** `atomic_fetch_add`: returns the old value. */
export function atomicAdd(c: Cell<number>, d: number): Op<number> {
  return op({
    kind: "atomic_add",
    label: c.label("atomic_add"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      const old = c.value;
      c.value = old + d;
      if (d !== 0) m.markWrite(c);
      return old;
    },
  });
}

/** `atomic_add_return`: returns the new value. */
export function atomicAddReturn(c: Cell<number>, d: number): Op<number> {
  return op({
    kind: "atomic_add_return",
    label: c.label("atomic_add_return"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      c.value += d;
      if (d !== 0) m.markWrite(c);
      return c.value;
    },
  });
}

/** `atomic_cmpxchg`: returns the value found; it stored `next` iff that equals `expected`. */
export function atomicCmpxchg(c: Cell<number>, expected: number, next: number): Op<number> {
  return op({
    kind: "atomic_cmpxchg",
    label: c.label("atomic_cmpxchg"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      const old = c.value;
      if (old === expected) {
        c.value = next;
        if (old !== next) m.markWrite(c);
      }
      return old;
    },
  });
}

/** READ_ONCE of any cell. */
export function readOnce<T>(c: Cell<T>): Op<T> {
  return op({ kind: "load", label: c.label("READ_ONCE"), reads: [c], cost: "plain", run: () => c.value });
}

/** WRITE_ONCE of any cell. */
export function writeOnce<T>(c: Cell<T>, v: T): Op<void> {
  return op({
    kind: "store",
    label: c.label("WRITE_ONCE"),
    writes: [c],
    cost: "plain",
    run: (m) => {
      if (!Object.is(c.value, v)) m.markWrite(c);
      c.value = v;
    },
  });
}
