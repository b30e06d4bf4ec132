/**
 * Function spans for traces: `yield* traced("pin_user_pages", body())` records entry
 * and exit of a modelled kernel function (exported as `tracing_mark_write` B/E and
 * Perfetto slices). Costs no step.
 */

import { current, currentMachine } from "./machine.js";
import type { TaskGen } from "./op.js";

export function* traced<R>(name: string, body: TaskGen<R>): TaskGen<R> {
  const task = current();
  const m = currentMachine();
  task.frames.push(name);
  m.emit("func_entry", name);
  try {
    return yield* body;
  } finally {
    // A finished or abandoned generator closes its span.
    const t = task.frames.lastIndexOf(name);
    if (t >= 0) task.frames.splice(t, 1);
    m.emit("func_exit", name);
  }
}
