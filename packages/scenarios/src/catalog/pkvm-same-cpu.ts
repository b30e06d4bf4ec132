import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage, pkvmGuestSetup, pkvmMachine } from "./longterm-pin.js";

/**
 * S1 with one CPU (seed 004): the vCPU thread faults its own guest page in on CPU7 and
 * pins it from CPU7, so the mlock batch that holds the extra reference is the pinning
 * CPU's own — the case Hugh Dickins' head-of-collection local lru_add_drain() is for.
 */
export default defineScenario({
  id: "pkvm-same-cpu",
  title: "pKVM longterm pin of an mlocked memfd folio from the CPU that faulted it",
  description:
    "As pkvm-mlock-cma, but the vCPU thread that faults the guest page in on CPU7 (lru_add batch, then mlock_folio() into CPU7's mlock batch; a readahead on CPU7 fills the lru_add batch so the folio reaches the LRU unevictable with PG_lru set) also pins it, from CPU7. The reference that pkvm-mlock-cma's pin cannot explain now sits in the pinning CPU's own mlock batch: a local lru_add_drain() (hugh-v1's at the head of collect_longterm_unpinnable_folios, the 6.17 ladder's first rung) or try_to_migrate_one()'s mlock_drain_local() in the VM_LOCKED vma removes it.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§10.1, §12.1" },
  machine: pkvmMachine(),
  setup: pkvmGuestSetup(),
  tasks: [
    {
      name: "crosvm_vcpu0",
      cpu: 7,
      script: [
        call("touch", { addr: "$guest", write: true }, { note: "the vCPU thread faults its own page: CPU7's lru_add batch, then mlock_folio()" }),
        call("readahead", { file: "libfoo.so", pages: 31 }, { note: "fills CPU7's lru_add batch: the guest folio reaches the LRU" }),
        longtermPinOnePage("$guest", { flags: ["FOLL_LONGTERM", "FOLL_WRITE"] }),
      ],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
