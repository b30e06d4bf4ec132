import { call, defineScenario } from "../builder.js";

/** S5 (reference §12.5, seed 001): a reader holding a reference while it sleeps on the folio lock. */
export default defineScenario({
  id: "lock-waiter-ref",
  title: "Migration against a reader that sleeps on the folio lock holding a reference",
  description:
    "A page-cache folio of a file, mapped once. CPU0 migrates it (migrate_pages, MR_SYSCALL, in the chosen mode). CPU1 reads the same page through the page cache: filemap_get_folio(FGP_LOCK) takes a reference, then sleeps in folio_lock() because migration holds the lock. Every move pass sees that extra reference; mainline keeps the folio locked across the passes of a batch, so the reader cannot finish and drop it. A sync migration undoes the folio once, between its async and sync stages; Dev Jain's early bail and David Hildenbrand's PG_waiters backoff let the reader run earlier.",
  source: { seeds: ["001_a1b4cc273848591f.txt"], reference: "§5.8, §10.3, §12.5" },
  params: {
    mode: { default: "MIGRATE_ASYNC", description: "migration mode: MIGRATE_ASYNC, MIGRATE_SYNC_LIGHT or MIGRATE_SYNC", values: ["MIGRATE_ASYNC", "MIGRATE_SYNC"] },
    reader_delay_ns: { default: 1_000, description: "when the reader starts (ns after the migrator): the default lands in the window where migration holds the folio lock" },
  },
  machine: { cpus: 2, preemption: "voluntary", memory: { Normal: 64 } },
  setup: [
    call("open_file", { name: "data.bin", pages: 4 }, { cpu: 0 }),
    call("mmap", { pages: 1, file: "data.bin", shared: true, write: false }, { as: "map", cpu: 0 }),
    call("touch", { addr: "$map" }, { cpu: 0 }),
    call("lru_add_drain", {}, { cpu: 0 }),
  ],
  tasks: [
    { name: "migrator", cpu: 0, script: [call("migrate_pages", { addr: "$map", pages: 1, mode: "${mode}" }, { as: "rc", expect: { equals: 0 } })] },
    {
      name: "reader",
      cpu: 1,
      script: [call("sleep_ns", { ns: "${reader_delay_ns}" }), call("read_cached_locked", { file: "data.bin", index: 0 })],
    },
  ],
  promise: { summary: "migrate_pages() migrates the folio (returns 0)" },
});
