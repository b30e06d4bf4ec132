import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage, pkvmGuestSetup, pkvmMachine } from "./longterm-pin.js";

/** S1 (reference §12.1, seed 004): Will Deacon's pKVM pin of an mlocked shmem folio in CMA. */
export default defineScenario({
  id: "pkvm-mlock-cma",
  title: "pKVM longterm pin of an mlocked memfd folio in CMA",
  description:
    "crosvm faults a guest page of a memfd in a VM_LOCKED mapping on CPU7: the folio is queued in CPU7's lru_add batch, then mlock_folio() queues it in CPU7's mlock batch. A readahead of another file fills the lru_add batch, so the folio reaches the LRU as unevictable with PG_lru set — while its mlock batch slot still holds a reference. pKVM then pins it FOLL_LONGTERM on CPU3: the folio is in CMA, so it must migrate, and the unexplained batch reference fails every migration pass unless the pin drains CPU7's batches first.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§10.1, §12.1" },
  params: {
    order: {
      default: 0,
      description:
        "mTHP order of the memfd's folios (tmpfs huge=always with one enabled size; memfd mTHP below PMD size exists from 6.14, PMD size before). 2: the guest page is an order-2 folio, which folio_add_lru() and mlock_folio() never leave in a per-CPU batch",
      values: [0, 2],
    },
  },
  machine: pkvmMachine(),
  setup: [
    ...pkvmGuestSetup({ order: "${order}" }),
    call("touch", { addr: "$guest", write: true }, { cpu: 7, note: "shmem fault: lru_add batch, then mlock_folio()" }),
    call("readahead", { file: "libfoo.so", pages: 31 }, { cpu: 7, note: "fills CPU7's lru_add batch: the guest folio reaches the LRU" }),
  ],
  tasks: [
    {
      name: "crosvm_vcpu0",
      cpu: 3,
      script: [
        longtermPinOnePage("$guest", { flags: ["FOLL_LONGTERM", "FOLL_WRITE"] }),
      ],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
