/**
 * Iterative preemption bounding over DPOR (Musuvathi and Qadeer's iterative context
 * bounding, PLDI 2007, with the bounded reduction of dpor.ts): explore every schedule
 * with 0 preemptions, then every one with at most 1, at most 2, and so on, each level a
 * fresh bounded DPOR run, until a level cuts nothing (the whole space: `complete`) or
 * the caller's budget ends. What a budget-cut run can still claim is the largest level
 * it exhausted: every schedule with at most that many preemptions was explored up to
 * equivalence (`provenBound`). Most concurrency bugs need few preemptions (CHESS), so
 * a race too big to prove whole gets a claim with a scope rather than none.
 *
 * Each level re-explores the schedules of the levels below it; they are the cheap ones.
 */

import { Dpor, type DporProgress } from "./dpor.js";
import type { Execution, ExecutionPlan } from "./execution.js";

export class DeepeningDpor {
  private level = 0;
  private inner: Dpor;
  private finished = false;
  private blockedBefore = 0;
  /** The largest bound whose run was exhausted (undefined before the first is). */
  provenBound: number | undefined;

  constructor(private readonly options: { plain?: boolean } = {}) {
    this.inner = this.levelRun();
  }

  private levelRun(): Dpor {
    return new Dpor({ preemptionBound: this.level, plain: this.options.plain });
  }

  /** Plan for the next execution, or null once a level explored the whole space. */
  next(): ExecutionPlan | null {
    for (;;) {
      if (this.finished) return null;
      const plan = this.inner.next();
      if (plan !== null) return plan;
      if (!this.inner.boundCut) {
        this.finished = true;
        return null;
      }
      this.provenBound = this.level;
      this.blockedBefore += this.inner.sleepBlocked;
      this.level++;
      this.inner = this.levelRun();
    }
  }

  finish(plan: ExecutionPlan, execution: Execution): void {
    this.inner.finish(plan, execution);
  }

  /** True until a level ran to its end without its bound cutting anything. */
  get boundCut(): boolean {
    return !this.finished;
  }

  get sleepBlocked(): number {
    return this.blockedBefore + this.inner.sleepBlocked;
  }

  /** The bound being explored now. */
  get currentBound(): number {
    return this.level;
  }

  /** The current level's estimate of what is left of it. */
  progress(executions: number): DporProgress {
    return this.inner.progress(executions);
  }
}
