// Issue 6's verdicts at catalog level: hmm-drain-livelock under each variant, B policy
// and preemption model, plus the fault storm and the migrate cycle.
import { describe, expect, it } from "vitest";
import { TimedChooser } from "@foliosim/sim";
import { getScenario, runScenario } from "./index.js";

const PREEMPTION = ["none", "voluntary", "full"] as const;

function s6(kernel: string, b_policy: string, preemption: string) {
  return runScenario(getScenario("hmm-drain-livelock"), kernel, new TimedChooser(1), { b_policy, preemption });
}

describe("hmm-drain-livelock (S6)", () => {
  it("hmm-trylock-return (linux-6.19) livelocks with a non-preemptible kernel or a FIFO B, naming A in flush_work and B re-walking", () => {
    for (const [policy, p] of [["normal", "none"], ["fifo", "none"], ["fifo", "voluntary"], ["fifo", "full"]] as const) {
      const r = s6("linux-6.19", policy, p);
      expect(r.failure?.kind, `${policy}/${p}`).toBe("livelock");
      const hang = r.run.hang!;
      expect(hang.tasks.find((t) => t.task === "A")).toMatchObject({ state: "blocked", waitsFor: "flush_work(lru_add_drain_work/1) on CPU1" });
      const b = hang.tasks.find((t) => t.task === "B")!;
      expect(b.state).toBe("looping");
      expect(b.stack).toContain("hmm_range_fault");
    }
    expect(s6("linux-6.19", "normal", "full").verdict).toBe("holds");
  });

  it("hmm-cond-resched completes for a normal B and livelocks for a FIFO B", () => {
    for (const p of PREEMPTION) {
      expect(s6("hmm-cond-resched", "normal", p).verdict, p).toBe("holds");
      expect(s6("hmm-cond-resched", "fifo", p).failure?.kind, p).toBe("livelock");
    }
  });

  it.each(["hmm-msleep", "linux-7.0", "hmm-lru-cache-disable", "hmm-drain-outside-lock"])("%s completes for every B and preemption model", (k) => {
    for (const policy of ["normal", "fifo"]) for (const p of PREEMPTION) expect(s6(k, policy, p).verdict, `${policy}/${p}`).toBe("holds");
  });

  it("hmm-lru-cache-disable pays expedited grace periods; hmm-sleeping-wait (linux-7.0) none", () => {
    expect(s6("hmm-lru-cache-disable", "normal", "none").metrics.rcu_expedited_gp).toBeGreaterThanOrEqual(1);
    expect(s6("linux-7.0", "normal", "none").metrics.rcu_expedited_gp).toBe(0);
  });
});

describe("hmm-fault-storm and hmm-migrate-cycle", () => {
  it.each(["linux-6.19", "linux-7.0", "hmm-lru-cache-disable"])("hold on %s", (k) => {
    for (const id of ["hmm-fault-storm", "hmm-migrate-cycle"]) {
      for (let seed = 0; seed < 5; seed++) {
        const r = runScenario(getScenario(id), k, new TimedChooser(seed));
        expect(r.failure, `${id} seed ${seed}`).toBeNull();
      }
    }
  });
});
