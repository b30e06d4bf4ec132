/**
 * The machine's own trace events (context switches, spawn, exit, block, wake, timer).
 *
 * They hash exactly as `Trace.emit` would hash them, but the ids of their fixed strings
 * and of task names are remembered per trace instead of being looked up at every event:
 * a context switch alone names eight strings. A remembered id is the one `intern` gave
 * at the string's first sighting in this trace, which is where this class asks for it.
 */

import type { Task } from "./machine.js";
import { Trace } from "./trace.js";

/** The fixed strings of the machine's events; the constants below index them. */
const FIXED_TEXT = ["switch", "prev", "prevState", "next", "swapper", "R", "S", "X", "spawn", "exit", "block", "wake", "timer", "func_entry", "func_exit"];
const SWITCH = 0;
const PREV = 1;
const PREV_STATE = 2;
const NEXT = 3;
const SWAPPER = 4;
const STATE_R = 5;
const STATE_S = 6;
const STATE_X = 7;
const SPAWN = 8;
const EXIT = 9;
const BLOCK = 10;
const WAKE = 11;
const TIMER = 12;
const FUNC_ENTRY = 13;
const FUNC_EXIT = 14;

export class MachineTrace extends Trace {
  /** This trace's id of each fixed string, 0 until first sighted. */
  private readonly fixedIds: number[] = FIXED_TEXT.map(() => 0);
  /** This trace's id of each task's name, by task id. */
  private readonly nameIds: number[] = [];

  override adopt(other: Trace): void {
    super.adopt(other);
    if (other instanceof MachineTrace) {
      for (let i = 0; i < other.fixedIds.length; i++) this.fixedIds[i] = other.fixedIds[i];
      for (let i = 0; i < other.nameIds.length; i++) if (other.nameIds[i] !== undefined) this.nameIds[i] = other.nameIds[i];
    }
  }

  /** `emit(step, t, cpu, next.id, "switch", next.name, { prev, prevState, next })`; a null `prev` is the idle task. */
  switchEvent(step: number, t: number, cpu: number, next: Task, prev: Task | null, prevState: "R" | "S" | "X"): void {
    this.mixInt(this.fixed(SWITCH));
    this.mixInt(next.id);
    this.mixInt(t);
    this.mixInt(this.nameOf(next));
    this.mixInt(this.fixed(PREV));
    this.mixInt(prev === null ? this.fixed(SWAPPER) : this.nameOf(prev));
    this.mixInt(this.fixed(PREV_STATE));
    this.mixInt(this.fixed(prevState === "R" ? STATE_R : prevState === "S" ? STATE_S : STATE_X));
    this.mixInt(this.fixed(NEXT));
    this.mixInt(this.nameOf(next));
    if (this.record) {
      const args = { prev: prev === null ? "swapper" : prev.name, prevState, next: next.name };
      this.events.push({ step, t, cpu, task: next.id, type: "switch", name: next.name, args });
    }
  }

  /** `emit(step, t, task.cpu, task.id, type, task.name)`. */
  taskEvent(step: number, t: number, type: "spawn" | "exit", task: Task): void {
    this.mixInt(this.fixed(type === "spawn" ? SPAWN : EXIT));
    this.mixInt(task.id);
    this.mixInt(t);
    this.mixInt(this.nameOf(task));
    if (this.record) this.events.push({ step, t, cpu: task.cpu, task: task.id, type, name: task.name });
  }

  /** `emit(step, t, cpu, task, type, name)` for a task going to sleep, waking up, or timing out. */
  waitEvent(step: number, t: number, cpu: number, task: number, type: "block" | "wake" | "timer", name: string): void {
    this.mixInt(this.fixed(type === "block" ? BLOCK : type === "wake" ? WAKE : TIMER));
    this.mixInt(task);
    this.mixInt(t);
    this.mixInt(this.intern(name));
    if (this.record) this.events.push({ step, t, cpu, task, type, name });
  }

  /**
   * `emit(step, t, cpu, task, entry ? "func_entry" : "func_exit", name)`: a `traced` span
   * opening or closing. Answers the id of `name` in this trace, which a span closing
   * passes back as `nameId` (0: look it up).
   */
  spanEvent(step: number, t: number, cpu: number, task: number, entry: boolean, name: string, nameId = 0): number {
    this.mixInt(this.fixed(entry ? FUNC_ENTRY : FUNC_EXIT));
    this.mixInt(task);
    this.mixInt(t);
    const id = nameId !== 0 ? nameId : this.intern(name);
    this.mixInt(id);
    if (this.record) this.events.push({ step, t, cpu, task, type: entry ? "func_entry" : "func_exit", name });
    return id;
  }

  private fixed(index: number): number {
    let id = this.fixedIds[index];
    if (id === 0) {
      id = this.intern(FIXED_TEXT[index]);
      this.fixedIds[index] = id;
    }
    return id;
  }

  private nameOf(task: Task): number {
    let id = this.nameIds[task.id];
    if (id === undefined) {
      id = this.intern(task.name);
      this.nameIds[task.id] = id;
    }
    return id;
  }
}
