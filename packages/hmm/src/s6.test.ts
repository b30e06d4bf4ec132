import { describe, expect, it } from "vitest";
import { SeededChooser, firstChooser, type Policy, type PreemptionModel, type RunResult } from "@foliosim/sim";
import { ENOENT } from "./test-hmm.js";
import { buildS6, type S6 } from "./testing.js";
import { HMM_VARIANTS, type HmmVariant } from "./variants/select.js";

const POLICIES: Policy[] = ["normal", "fifo"];
const PREEMPTION: PreemptionModel[] = ["none", "voluntary", "full"];

/** The verdict of one S6 run, in the report's words. */
function verdict(r: RunResult): string {
  if (r.status === "done") return "completes";
  if (r.status === "livelock") return "livelock";
  if (r.status === "step-limit" || r.status === "time-limit") return "hang (busy loop)";
  return r.status;
}

function runS6(variant: HmmVariant, bPolicy: Policy, preemption: PreemptionModel, maxSteps = 300_000): { s: S6; r: RunResult } {
  const s = buildS6({ variant, bPolicy, preemption, maxSteps });
  return { s, r: s.w.m.run(firstChooser) };
}

/** The expected verdicts: the acceptance list, plus hmm-pre-6.15 as measured. */
const EXPECTED: Record<HmmVariant, Record<Policy, Record<PreemptionModel, string>>> = {
  // Before 1afaeb8293c9 the faulter takes a reference and migrate_to_ram's collect loses
  // the trylock: it retries with state changes (references, notifier sequence, mmap_lock)
  // that every pass undoes, so the global state recurs: a livelock found as a repeated
  // state (@foliosim/sim livelock.ts). Voluntary preemption yields at mmap_read_lock's
  // might_sleep and lets a normal kworker run.
  "hmm-pre-6.15": { normal: { none: "livelock", voluntary: "completes", full: "completes" }, fifo: { none: "livelock", voluntary: "livelock", full: "livelock" } },
  "hmm-trylock-return": { normal: { none: "livelock", voluntary: "livelock", full: "completes" }, fifo: { none: "livelock", voluntary: "livelock", full: "livelock" } },
  "hmm-cond-resched": { normal: { none: "completes", voluntary: "completes", full: "completes" }, fifo: { none: "livelock", voluntary: "livelock", full: "livelock" } },
  "hmm-msleep": { normal: { none: "completes", voluntary: "completes", full: "completes" }, fifo: { none: "completes", voluntary: "completes", full: "completes" } },
  "hmm-sleeping-wait": { normal: { none: "completes", voluntary: "completes", full: "completes" }, fifo: { none: "completes", voluntary: "completes", full: "completes" } },
  "hmm-lru-cache-disable": { normal: { none: "completes", voluntary: "completes", full: "completes" }, fifo: { none: "completes", voluntary: "completes", full: "completes" } },
  "hmm-drain-outside-lock": { normal: { none: "completes", voluntary: "completes", full: "completes" }, fifo: { none: "completes", voluntary: "completes", full: "completes" } },
};

describe("hmm-drain-livelock (S6): verdict per variant × B policy × preemption", () => {
  for (const variant of HMM_VARIANTS) {
    it(`${variant}`, () => {
      const got: Record<string, Record<string, string>> = {};
      for (const pol of POLICIES) {
        got[pol] = {};
        for (const pre of PREEMPTION) {
          const { s, r } = runS6(variant, pol, pre, variant === "hmm-pre-6.15" ? 60_000 : 300_000);
          got[pol][pre] = verdict(r);
          if (r.status === "done") {
            // Both tasks finish, B reads D's value, and the world is consistent.
            expect(s.out.b).toMatchObject({ ret: 0, value: "D-value" });
            // A's read-back (dmirror_do_read) stops at D with -ENOENT: D is this device's
            // own page, which dmirror_migrate_alloc_and_copy does not copy, and fork's
            // MMU_NOTIFY_PROTECTION_PAGE dropped it from A's mirror. S alone migrated —
            // unless B brought D back to system memory before A's second collect
            // (hmm-drain-outside-lock): then both migrate and both read back.
            const bWonD = variant === "hmm-drain-outside-lock";
            expect(s.out.a).toMatchObject(bWonD ? { ret: 0, migrated: 2, cpages: 2 } : { ret: ENOENT, migrated: 1, cpages: 1 });
            expect(s.w.check()).toBeNull();
          }
          if (r.status === "livelock") {
            const byName = Object.fromEntries(r.hang!.tasks.map((t) => [t.task, t]));
            expect(byName.A).toMatchObject({ cpu: 0, state: "blocked", waitsFor: "flush_work(lru_add_drain_work/1) on CPU1" });
            expect(byName.A.stack).toEqual(["dmirror_migrate_to_device", "migrate_vma_setup", "migrate_vma_unmap", "migrate_device_unmap", "lru_add_drain_all"]);
            expect(byName.B).toMatchObject({ cpu: 1, state: "looping", waitsFor: `folio_trylock(${s.D.name}) held by A` });
            expect(byName.B.stack.slice(0, 4)).toEqual(["dmirror_read", "dmirror_fault", "dmirror_range_fault", "hmm_range_fault"]);
            expect(byName["kworker/1:1"]).toMatchObject({ state: "runnable", waitsFor: "CPU1, held by B" });
          }
        }
      }
      expect(got).toEqual(EXPECTED[variant]);
    });
  }

  it("reports the livelock in the machine's words (hmm-trylock-return, PREEMPT_NONE, normal B)", () => {
    const { s, r } = runS6("hmm-trylock-return", "normal", "none");
    expect(r.hang!.message).toBe(
      `livelock: no state change for 81634 steps and 2.000 ms: A (CPU0) sleeps in flush_work(lru_add_drain_work/1) on CPU1; ` +
        `B (CPU1) keeps retrying folio_trylock(${s.D.name}) held by A; kworker/1:1 (CPU1) is runnable but never runs: waits for CPU1, held by B`,
    );
    expect(r.counters.hmm_device_private_trylock_failed).toBeGreaterThan(10_000);
  });

  it("names the pre-6.15 loop a livelock with its cycle: B alone goes round, taking and dropping D's reference", () => {
    const { s, r } = runS6("hmm-pre-6.15", "normal", "none", 60_000);
    expect(r.status).toBe("livelock");
    expect(r.hang!.cycle).toEqual({ steps: 128, ns: 5998, repeats: expect.any(Number), tasks: ["B"] });
    expect(r.hang!.cycle!.repeats).toBeGreaterThanOrEqual(3);
    expect(r.hang!.message).toMatch(
      new RegExp(
        `^livelock: a cycle of 128 steps \\(5\\.998 us\\) by B returned to the same state \\d+ times: A \\(CPU0\\) sleeps in flush_work\\(lru_add_drain_work/1\\) on CPU1; ` +
          `B \\(CPU1\\) keeps retrying folio_trylock\\(${s.D.name}\\) held by A; kworker/1:1 \\(CPU1\\) is runnable but never runs: waits for CPU1, held by B$`,
      ),
    );
  });

  it("every completing variant also completes under 8 seeded random schedules per B policy (PREEMPT_NONE)", () => {
    const completing: HmmVariant[] = ["hmm-msleep", "hmm-sleeping-wait", "hmm-lru-cache-disable", "hmm-drain-outside-lock"];
    const statuses: Record<string, string[]> = {};
    for (const v of completing) {
      statuses[v] = [];
      for (const pol of POLICIES) {
        for (let seed = 1; seed <= 8; seed++) {
          const s = buildS6({ variant: v, bPolicy: pol, preemption: "none" });
          const r = s.w.m.run(new SeededChooser(seed));
          statuses[v].push(r.status);
          if (r.status === "done") {
            expect(s.out.b?.value).toBe("D-value");
            expect(s.w.check()).toBeNull();
          }
        }
      }
    }
    for (const v of completing) expect(statuses[v]).toEqual(new Array(16).fill("done"));
  });
});
