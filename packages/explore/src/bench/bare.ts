/**
 * The speed limit: B0 counter(N,K) as bare generators driven by a bare random loop
 * (no machine, no footprints, no trace). Explorer steps/s are compared with this.
 */

import { Rng } from "@foliosim/sim";

export function bareCounterSteps(n: number, k: number, executions: number, seed: number): { steps: number; failures: number } {
  const rng = new Rng(seed);
  let steps = 0;
  let failures = 0;
  for (let e = 0; e < executions; e++) {
    const shared = { count: 0 };
    const tasks: Generator<void, void, void>[] = [];
    for (let t = 0; t < n; t++) {
      tasks.push(
        (function* () {
          for (let i = 0; i < k; i++) {
            const v = shared.count;
            yield;
            shared.count = v + 1;
            yield;
          }
        })(),
      );
    }
    const live = tasks.slice();
    for (const task of live) task.next(); // run to the first yield
    while (live.length > 0) {
      const index = rng.int(live.length);
      steps++;
      if (live[index].next().done) live.splice(index, 1);
    }
    if (shared.count !== n * k) failures++;
  }
  return { steps, failures };
}
