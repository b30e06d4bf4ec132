import { call, defineScenario } from "../builder.js";

/** Many CPU threads fault the same device-private page while the driver migrates it. */
export default defineScenario({
  id: "hmm-fault-storm",
  title: "A fault storm on one device-private page while the driver migrates",
  description:
    "A page of process p0 lives in device memory. The driver migrates it back to system memory while three threads on three other CPUs read it at once: each CPU fault reaches do_swap_page's device-private branch and contends for the folio lock with the driver and with each other (the case 1afaeb8293c9's trylock was written for). Every thread must read the value and finish.",
  source: { seeds: ["002_e61ec314a3e084f6.txt"], reference: "§7.2, §10.4" },
  machine: { cpus: 4, preemption: "voluntary", memory: { Normal: 64 } },
  setup: [
    call("dmirror_create", { name: "dmirror0", pages: 16 }, { cpu: 0 }),
    call("mmap", { pages: 1 }, { as: "buf", cpu: 0 }),
    call("user_write", { addr: "$buf", value: "v" }, { cpu: 0 }),
    call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$buf", pages: 1 }, { cpu: 0 }),
  ],
  tasks: [
    { name: "driver", cpu: 0, script: [call("dmirror_migrate_to_system", { device: "dmirror0", addr: "$buf", pages: 1 }, { expect: { field: "ret", equals: 0 } })] },
    { name: "t1", cpu: 1, script: [call("user_read", { addr: "$buf" }, { expect: { equals: "v" } })] },
    { name: "t2", cpu: 2, script: [call("user_read", { addr: "$buf" }, { expect: { equals: "v" } })] },
    { name: "t3", cpu: 3, script: [call("user_read", { addr: "$buf" }, { expect: { equals: "v" } })] },
  ],
  promise: { summary: "every thread reads the value and every task finishes" },
});
