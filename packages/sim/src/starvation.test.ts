// Seed 002/003's mechanism in miniature: task A on CPU0 holds a bit lock and flushes a
// work item queued on CPU1; task B on CPU1 wants the lock.
import { describe, expect, it } from "vitest";
import { SeededChooser, type PreemptionModel, type RunResult } from "./index.js";
import { buildStarvation, type StarvationBMode } from "./starvation.js";

function run(policy: "normal" | "fifo", preemption: PreemptionModel, mode: StarvationBMode, seed = 1): RunResult {
  return buildStarvation(policy, preemption, mode).run(new SeededChooser(seed));
}

describe("RT starvation of a kworker (seeds 002/003 in miniature)", () => {
  it("B FIFO spinning: livelock naming A, B and what each waits for", () => {
    for (const preemption of ["none", "voluntary", "full"] as const) {
      const r = run("fifo", preemption, "spin");
      expect(r.status).toBe("livelock");
      const a = r.hang!.tasks.find((t) => t.task === "A")!;
      const b = r.hang!.tasks.find((t) => t.task === "B")!;
      expect(a).toMatchObject({ state: "blocked", cpu: 0, waitsFor: "flush_work(lru_add_drain_work/1) on CPU1" });
      expect(b).toMatchObject({ state: "looping", cpu: 1 });
      expect(b.waitsFor).toBe("trylock(folio_lock) held by A");
      const kw = r.hang!.tasks.find((t) => t.task === "kworker/1:1")!;
      expect(kw).toMatchObject({ state: "runnable", waitsFor: "CPU1, held by B" });
      expect(r.hang!.stalled).toContainEqual({ object: "lru_add_drain_work/1", writes: 1 });
      expect(r.hang!.message).toContain("livelock");
    }
  });

  it("B normal under full preemption completes", () => {
    for (let seed = 1; seed <= 20; seed++) expect(run("normal", "full", "spin", seed).status).toBe("done");
  });

  it("B normal with cond_resched() under voluntary completes; FIFO with cond_resched() livelocks", () => {
    for (let seed = 1; seed <= 20; seed++) expect(run("normal", "voluntary", "spin-cond-resched", seed).status).toBe("done");
    expect(run("fifo", "voluntary", "spin-cond-resched").status).toBe("livelock");
  });

  it("B normal spinning without cond_resched() under none livelocks", () => {
    expect(run("normal", "none", "spin").status).toBe("livelock");
  });

  it("B sleeping on the lock completes under every preemption model and policy", () => {
    for (const preemption of ["none", "voluntary", "full"] as const) {
      for (const policy of ["normal", "fifo"] as const) {
        for (let seed = 1; seed <= 10; seed++) {
          const r = run(policy, preemption, "sleep", seed);
          expect(r.status, `${policy}/${preemption}/${seed}`).toBe("done");
          expect(r.counters.work_run).toBe(1);
        }
      }
    }
  });
});
