/**
 * HMM_DMIRROR_EXCLUSIVE racing with a CPU access that revokes the device's exclusive
 * access (remove_device_exclusive_entry holds the folio lock while it restores the
 * PTE). Up to 6.14 make_device_exclusive_range only trylocks the page and dmirror
 * answers -EBUSY when one was not made exclusive; since 6.15 make_device_exclusive
 * sleeps on the folio lock and retries GUP when the PTE changed under it ("mm/rmap:
 * avoid -EBUSY from make_device_exclusive()": "the hmm selftest can sometimes be
 * observed to fail because of this"), so the ioctl grants the access in every
 * schedule (its read-back may still find it revoked: -ENOENT, on every release).
 */

import { describe, expect, it } from "vitest";
import { explore } from "@foliosim/explore";
import { call, defineScenario, type ScenarioInput } from "./index.js";
import { scenarioTarget } from "./runner.js";

const race: ScenarioInput = {
  id: "hmm-exclusive-race",
  title: "exclusive access against a CPU read",
  description: "a test scenario",
  source: { seeds: [] },
  machine: { cpus: 2 },
  setup: [
    call("dmirror_create", { name: "d0", pages: 1 }),
    call("mmap", { pages: 1 }, { as: "buf" }),
    call("user_write", { addr: "$buf", value: 5 }),
    call("dmirror_exclusive", { device: "d0", addr: "$buf" }, { expect: { field: "ret", equals: 0 } }),
  ],
  tasks: [
    // 0, or -ENOENT when the CPU revoked the access before the ioctl's read-back (the
    // pages are unlocked by then, in the kernel too) — never -EBUSY.
    { name: "device", cpu: 0, script: [call("dmirror_exclusive", { device: "d0", addr: "$buf" }, { expect: { field: "ret", oneOf: [0, -2] } })] },
    { name: "cpu", cpu: 1, script: [call("user_read", { addr: "$buf" }, { expect: { equals: 5 } })] },
  ],
  check: [call("folio_state", { addr: "$buf" }, { expect: [{ field: "PG_locked", equals: false }, { field: "value", equals: 5 }] })],
  promise: { summary: "HMM_DMIRROR_EXCLUSIVE succeeds whatever the CPU does meanwhile" },
};

describe("HMM_DMIRROR_EXCLUSIVE against a concurrent CPU fault (seeded random schedules)", () => {
  const run = (kernel: string, maxExecutions: number) =>
    explore(scenarioTarget(defineScenario(race), kernel), { strategy: { kind: "random", seed: 1 }, maxExecutions, stopAtFirstFailure: true, shrink: false });

  it("linux-6.11: -EBUSY in some schedule (the page was GUP'd between the fault's PTE restore and its folio_unlock, so trylock_page failed)", () => {
    const e = run("linux-6.11", 1000);
    expect(e.failures.map((f) => f.message)).toEqual(["device: dmirror_exclusive ret returned -16 (EBUSY); expected one of 0, -2 (ENOENT)"]);
  });

  it("linux-7.0: never -EBUSY (folio_lock, and GUP again when the PTE changed)", () => {
    const e = run("linux-7.0", 200);
    expect(e.failures).toEqual([]);
    expect(e.executions).toBe(200);
  });
});
