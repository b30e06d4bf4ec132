import { call, defineScenario } from "../builder.js";

/** S6 (reference §12.6, seeds 002/003): device-private migration against hmm_range_fault. */
export default defineScenario({
  id: "hmm-drain-livelock",
  title: "Device-private migration vs hmm_range_fault: the lru_add_drain_all livelock",
  description:
    "Process A's range holds a system folio S still in CPU1's lru_add batch and a device-private folio D that process B also maps (after fork). Task A migrates the range to device X: migrate_vma_setup collects and locks S and D, then migrate_device_unmap calls lru_add_drain_all() with both locked and waits in flush_work() for CPU1's drain. Task B on CPU1 reads D through device Y's hmm_range_fault: do_swap_page finds D locked. With 1afaeb8293c9 it returns at once and hmm_range_fault re-walks without sleeping, so B keeps CPU1 and CPU1's kworker never runs — unless B's policy and the preemption model let the kworker in.",
  source: { seeds: ["002_e61ec314a3e084f6.txt", "003_215132a57281dc81.txt"], reference: "§6.4, §7.2, §10.4, §12.6" },
  params: {
    b_policy: { default: "normal", description: "B's scheduling policy: normal or fifo", values: ["normal", "fifo"] },
    preemption: { default: "none", description: "the preemption model: none, voluntary or full", values: ["none", "voluntary", "full"] },
    b_delay_ns: { default: 2_500, description: "when B starts its device read (ns after A starts migrating): the default lands while A holds D locked in lru_add_drain_all()" },
  },
  // Livelock: 4,000 steps and 0.8 ms without a state change, just above the 750 us
  // scheduler slice after which a starved normal kworker must get the CPU.
  machine: { cpus: 2, preemption: "${preemption}", memory: { Normal: 64 }, livelock: { steps: 4_000, ns: 800_000 } },
  setup: [
    call("dmirror_create", { name: "dmirror0", pages: 16 }, { cpu: 0 }),
    call("dmirror_create", { name: "dmirror1", pages: 16 }, { cpu: 0 }),
    call("mmap", { pages: 2 }, { as: "r", cpu: 0, process: "procA" }),
    call("mmap", { pages: 1 }, { as: "rb", cpu: 0, process: "procB" }),
    call("user_write", { addr: "$r", page: 1, value: "D-value" }, { cpu: 0, process: "procA" }),
    call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$r", page: 1, pages: 1 }, { cpu: 0, process: "procA", note: "D becomes device-private" }),
    call("fork_device_entry", { addr: "$r", page: 1, to: "procB", to_addr: "$rb" }, { cpu: 0, process: "procA", note: "D mapped twice" }),
    call("user_write", { addr: "$r", page: 0, value: "S-value" }, { cpu: 1, process: "procA", note: "S waits in CPU1's lru_add batch" }),
  ],
  tasks: [
    {
      name: "A",
      cpu: 0,
      process: "procA",
      script: [call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$r", pages: 2, select: ["system", "device_private"] }, { as: "mig" })],
    },
    {
      name: "B",
      cpu: 1,
      policy: "${b_policy}",
      process: "procB",
      script: [call("sleep_ns", { ns: "${b_delay_ns}" }), call("dmirror_read", { device: "dmirror1", addr: "$rb" }, { as: "read", expect: [{ field: "ret", equals: 0 }, { field: "value", equals: "D-value" }] })],
    },
  ],
  promise: { summary: "both tasks finish, and B reads D's value" },
});
