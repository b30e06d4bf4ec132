import { call, defineScenario } from "../builder.js";

/** Round trips of a mixed range between system and device memory under a CPU reader. */
export default defineScenario({
  id: "hmm-migrate-cycle",
  title: "Migrating a mixed range to the device and back while a CPU reads it",
  description:
    "Process p0 maps four pages: two hold values in system memory, one already lives in device memory, one is a hole. The driver migrates the range to the device and back twice, while a thread on CPU1 reads the three valued pages (its faults on device-private entries bring pages back through migrate_to_ram). Every value must survive every round trip, and after finalize nothing may keep a reference or a lock. A migration to the device reads the range back as lib/test_hmm.c does: a page the reader held (so it did not migrate) and the device does not mirror makes it return -ENOENT.",
  source: { seeds: ["002_e61ec314a3e084f6.txt"], reference: "§6.2–§6.6" },
  machine: { cpus: 2, preemption: "voluntary", memory: { Normal: 64 } },
  setup: [
    call("dmirror_create", { name: "dmirror0", pages: 16 }, { cpu: 0 }),
    call("mmap", { pages: 4 }, { as: "r", cpu: 0 }),
    call("user_write", { addr: "$r", page: 0, value: "v0" }, { cpu: 0 }),
    call("user_write", { addr: "$r", page: 1, value: "v1" }, { cpu: 0 }),
    call("user_write", { addr: "$r", page: 2, value: "v2" }, { cpu: 0 }),
    call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$r", page: 2, pages: 1 }, { cpu: 0, note: "page 2 starts in device memory" }),
  ],
  tasks: [
    {
      name: "driver",
      cpu: 0,
      script: [
        call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$r", pages: 4 }, { expect: { field: "ret", oneOf: [0, -2] } }),
        call("dmirror_migrate_to_system", { device: "dmirror0", addr: "$r", pages: 4 }, { expect: { field: "ret", equals: 0 } }),
        call("dmirror_migrate_to_device", { device: "dmirror0", addr: "$r", pages: 4 }, { expect: { field: "ret", oneOf: [0, -2] } }),
        call("dmirror_migrate_to_system", { device: "dmirror0", addr: "$r", pages: 4 }, { expect: { field: "ret", equals: 0 } }),
      ],
    },
    {
      name: "reader",
      cpu: 1,
      script: [
        call("user_read", { addr: "$r", page: 0 }, { expect: { equals: "v0" } }),
        call("user_read", { addr: "$r", page: 1 }, { expect: { equals: "v1" } }),
        call("user_read", { addr: "$r", page: 2 }, { expect: { equals: "v2" } }),
        call("user_read", { addr: "$r", page: 0 }, { expect: { equals: "v0" } }),
        call("user_read", { addr: "$r", page: 2 }, { expect: { equals: "v2" } }),
      ],
    },
  ],
  promise: { summary: "every value survives every round trip and no reference or lock is left behind" },
});
