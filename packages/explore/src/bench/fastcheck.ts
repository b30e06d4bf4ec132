/**
 * The same four programs for fast-check's `scheduler()`: each shared access is
 * preceded by one scheduling point (`await s.schedule(...)`), the same atomicity as
 * the machine's one-access-per-step.
 */

import fc from "fast-check";

type Scheduler = fc.Scheduler;
type Program = (s: Scheduler) => Promise<boolean>;

/** Scheduling points taken so far (the peer's "steps"). */
export const fcCounters = { ticks: 0 };

const tick = (s: Scheduler) => {
  fcCounters.ticks++;
  return s.schedule(Promise.resolve());
};

async function runAll(s: Scheduler, tasks: (() => Promise<unknown>)[]): Promise<unknown[]> {
  const all = Promise.all(tasks.map((task) => task()));
  await s.waitFor(all);
  return all;
}

export function fcCounter(n: number, k: number, variant: "buggy" | "fixed"): Program {
  return async (s) => {
    let count = 0;
    const task = async () => {
      for (let i = 0; i < k; i++) {
        await tick(s);
        if (variant === "fixed") count++;
        else {
          const v = count;
          await tick(s);
          count = v + 1;
        }
      }
    };
    await runAll(s, Array.from({ length: n }, () => task));
    return count === n * k;
  };
}

export function fcRunahead(l: number, variant: "buggy" | "fixed"): Program {
  return async (s) => {
    let flag = 0;
    let work = 0;
    let seen = 0;
    await runAll(s, [
      async () => {
        for (let i = 0; i < l; i++) {
          await tick(s);
          work = i + 1;
        }
        await tick(s);
        flag = 1;
      },
      async () => {
        await tick(s);
        seen = flag;
      },
    ]);
    void work;
    return variant === "fixed" || seen === 0;
  };
}

export function fcWindow(l: number, variant: "buggy" | "fixed"): Program {
  return async (s) => {
    let x = 0;
    let seen = 0;
    const noise = async () => {
      let mine = 0;
      for (let i = 0; i < 4; i++) {
        await tick(s);
        mine = i + 1;
      }
      return mine;
    };
    await runAll(s, [
      async () => {
        let work = 0;
        for (let i = 0; i < l; i++) {
          await tick(s);
          work = i + 1;
        }
        await tick(s);
        if (variant === "buggy") {
          x = 1;
          await tick(s);
          x = 0;
        }
        return work;
      },
      async () => {
        await tick(s);
        seen = x;
      },
      noise,
      noise,
    ]);
    return seen === 0;
  };
}

export function fcBatchRef(m: number, r: number, variant: "buggy" | "fixed"): Program {
  return async (s) => {
    let ref = 1;
    let batch0 = 0;
    let migrated = false;
    const drain0 = () => {
      if (batch0 === 1) {
        batch0 = 0;
        ref--;
      }
    };
    await runAll(s, [
      async () => {
        await tick(s);
        ref++; // folio_add_lru: reference and batch slot in one step
        batch0 = 1;
        for (let i = 0; i < m; i++) await tick(s);
        await tick(s);
        drain0();
      },
      async () => {
        for (let attempt = 0; attempt < r; attempt++) {
          if (variant === "fixed") {
            await tick(s);
            drain0();
          }
          await tick(s); // drain CPU1's own (empty) batch
          await tick(s);
          if (ref === 1) {
            migrated = true;
            return;
          }
        }
      },
    ]);
    return migrated;
  };
}

export interface FcOutcome {
  failed: boolean;
  runs: number;
}

/** Runs until the first failing run (no shrinking) or `maxRuns`. */
export async function fcFirstFailure(program: Program, seed: number, maxRuns: number): Promise<FcOutcome> {
  const details = await fc.check(
    fc.asyncProperty(fc.scheduler(), (s) => program(s)),
    { seed, numRuns: maxRuns, endOnFailure: true },
  );
  return { failed: details.failed, runs: details.numRuns };
}
