/**
 * Per-CPU data (include/linux/percpu-defs.h). One instance per CPU; `thisCpu` picks
 * the running task's (tasks are bound, so no migration race). Access to the instance's
 * contents still goes through operations with footprints.
 */

import { current } from "./machine.js";

export class PerCpu<T> {
  private readonly items: T[];
  constructor(cpus: number, make: (cpu: number) => T) {
    this.items = Array.from({ length: cpus }, (_, cpu) => make(cpu));
  }
  get(cpu: number): T {
    const v = this.items[cpu];
    if (v === undefined) throw new RangeError(`per_cpu: no CPU ${cpu}`);
    return v;
  }
  /** `this_cpu_ptr`. */
  thisCpu(): T {
    return this.get(current().cpu);
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

/** `smp_processor_id()`. */
export function smpProcessorId(): number {
  return current().cpu;
}
