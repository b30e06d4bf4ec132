import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage, pkvmGuestSetup, pkvmMachine } from "./longterm-pin.js";

/**
 * S1 as the seed's traces show it (seed 004, Will Deacon's reply to Hugh Dickins): the
 * crosvm_VmRunApp thread faults the guest page in on CPU7 and its readahead puts the
 * folio on the LRU while crosvm_vcpu0 pins the page on CPU3, both running at once.
 */
export default defineScenario({
  id: "pkvm-mlock-cma-concurrent",
  title: "pKVM longterm pin of an mlocked memfd folio in CMA, racing the fault and the readahead",
  description:
    "As pkvm-mlock-cma, but the partner runs beside the pin instead of before it: crosvm_VmRunApp on CPU7 faults the guest page of the VM_LOCKED memfd mapping (CPU7's lru_add batch, then mlock_folio() into CPU7's mlock batch) and then reads libfoo.so ahead, which fills CPU7's lru_add batch and puts the guest folio on the LRU, unevictable with PG_lru set, while crosvm_vcpu0 on CPU3 pins the page FOLL_LONGTERM. Pinned before the fault, the pin faults the page in itself; between the fault and the readahead's flush, the folio has no PG_lru and every kernel drains; after the flush, only the mlock batch's reference is left, and only a kernel whose collection drains for it keeps the promise.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§10.1, §12.1" },
  machine: pkvmMachine(),
  setup: [
    ...pkvmGuestSetup(),
    call("touch", { addr: "$guest", write: true }, { cpu: 7, note: "shmem fault: lru_add batch, then mlock_folio()" }),
    call("readahead", { file: "libfoo.so", pages: 29 }, { cpu: 7, note: "a first readahead leaves 29 more folios in CPU7's lru_add batch" }),
  ],
  tasks: [
    {
      name: "crosvm_VmRunApp",
      cpu: 7,
      script: [
        call("readahead", { file: "libfoo.so", index: 29, pages: 1 }, { note: "the 31st folio fills CPU7's lru_add batch: the guest folio reaches the LRU" }),
      ],
    },
    {
      name: "crosvm_vcpu0",
      cpu: 3,
      script: [longtermPinOnePage("$guest", { flags: ["FOLL_LONGTERM", "FOLL_WRITE"] })],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
