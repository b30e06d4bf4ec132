/**
 * Function spans for traces: `yield* traced("pin_user_pages", body())` records entry
 * and exit of a modelled kernel function (exported as `tracing_mark_write` B/E and
 * Perfetto slices). Costs no step.
 *
 * The span is an iterator object, not a generator wrapped around the body: a wrapper
 * generator adds one generator resume per operation per open span (a pin inside a
 * fault inside a migration resumes every layer for each op it yields). The iterator
 * hands each of the body's results through as they are, and behaves as the wrapper
 * did: the span opens at the first `next()`, closes when the body returns or throws,
 * or when the iteration is abandoned (`return()`).
 */

import { current, currentMachine, type Machine, type Task } from "./machine.js";
import type { Op, TaskGen } from "./op.js";

const NEW = 0;
const OPEN = 1;
const CLOSED = 2;

class Span<R> {
  private state = NEW;
  private task: Task | null = null;
  private machine: Machine | null = null;
  /** The trace's id of `name`, from the opening event. */
  private nameId = 0;

  constructor(
    private readonly name: string,
    private readonly body: TaskGen<R>,
  ) {}

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<Op<unknown>, R> {
    if (this.state !== OPEN) {
      if (this.state === CLOSED) return { value: undefined as R, done: true };
      this.open();
    }
    let r: IteratorResult<Op<unknown>, R>;
    try {
      r = this.body.next(value);
    } catch (e) {
      this.close();
      throw e;
    }
    if (r.done === true) this.close();
    return r;
  }

  return(value: R): IteratorResult<Op<unknown>, R> {
    if (this.state !== OPEN) {
      this.state = CLOSED;
      return { value, done: true };
    }
    try {
      return this.body.return(value);
    } finally {
      this.close();
    }
  }

  throw(e: unknown): IteratorResult<Op<unknown>, R> {
    if (this.state !== OPEN) {
      // Like a generator that has not started or has finished: it ends without running its body.
      this.state = CLOSED;
      throw e;
    }
    let r: IteratorResult<Op<unknown>, R>;
    try {
      r = this.body.throw(e);
    } catch (err) {
      this.close();
      throw err;
    }
    if (r.done === true) this.close();
    return r;
  }

  private open(): void {
    const task = current();
    const m = currentMachine();
    this.task = task;
    this.machine = m;
    this.state = OPEN;
    task.frames.push(this.name);
    this.nameId = m.emitSpan(true, this.name);
  }

  private close(): void {
    if (this.state !== OPEN) return;
    this.state = CLOSED;
    const frames = this.task!.frames;
    const name = this.name;
    // The innermost span closes first, unless a body was abandoned out of order.
    if (frames[frames.length - 1] === name) frames.pop();
    else {
      const t = frames.lastIndexOf(name);
      if (t >= 0) frames.splice(t, 1);
    }
    this.machine!.emitSpan(false, name, this.nameId);
  }
}

export function traced<R>(name: string, body: TaskGen<R>): TaskGen<R> {
  return new Span(name, body) as unknown as TaskGen<R>;
}
