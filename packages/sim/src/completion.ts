/**
 * Completions (kernel/sched/completion.c): `complete`, `complete_all`,
 * `wait_for_completion`, `try_wait_for_completion`.
 */

import { Block, op, Shared, type Op } from "./op.js";

const COMPLETE_ALL = Number.MAX_SAFE_INTEGER;

export class Completion extends Shared {
  done = 0;
}

export function complete(c: Completion): Op<void> {
  return op({
    kind: "complete",
    label: c.label("complete"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      if (c.done !== COMPLETE_ALL) c.done++;
      m.markWrite(c);
    },
  });
}

export function completeAll(c: Completion): Op<void> {
  return op({
    kind: "complete_all",
    label: c.label("complete_all"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      c.done = COMPLETE_ALL;
      m.markWrite(c);
    },
  });
}

export function waitForCompletion(c: Completion): Op<void> {
  return op({
    kind: "wait_for_completion",
    label: c.label("wait_for_completion"),
    writes: [c],
    cost: "schedule",
    block: Block.Sleep,
    mightSleep: true,
    enabled: () => c.done > 0,
    waitFor: c.label("wait_for_completion"),
    run: (m) => {
      if (c.done !== COMPLETE_ALL) c.done--;
      m.markWrite(c);
    },
  });
}

export function tryWaitForCompletion(c: Completion): Op<boolean> {
  return op({
    kind: "try_wait_for_completion",
    label: c.label("try_wait_for_completion"),
    writes: [c],
    cost: "atomic",
    run: (m) => {
      if (c.done === 0) return false;
      if (c.done !== COMPLETE_ALL) c.done--;
      m.markWrite(c);
      return true;
    },
  });
}
