import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage, pkvmGuestSetup, pkvmMachine } from "./longterm-pin.js";

/**
 * pkvm-same-cpu (seed 004) with the readahead in another thread on the same CPU: the
 * vCPU thread faults and pins on CPU7 while crosvm_VmRunApp, also on CPU7, reads ahead.
 */
export default defineScenario({
  id: "pkvm-same-cpu-concurrent",
  title: "pKVM longterm pin from the faulting CPU while another thread on that CPU reads ahead",
  description:
    "As pkvm-same-cpu, but the readahead that fills CPU7's lru_add batch runs in crosvm_VmRunApp, a second thread on CPU7, beside the vCPU thread that faults the guest page in (CPU7's lru_add batch, then mlock_folio() into CPU7's mlock batch) and pins it. The threads share CPU7 and switch where the kernel may sleep or reschedule, so the batch may be flushed before, during or after the pin's collection; the mlock batch that holds the extra reference is the pinning CPU's own throughout.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§10.1, §12.1" },
  machine: pkvmMachine(),
  setup: pkvmGuestSetup(),
  tasks: [
    {
      name: "crosvm_vcpu0",
      cpu: 7,
      script: [
        call("touch", { addr: "$guest", write: true }, { note: "the vCPU thread faults its own page: CPU7's lru_add batch, then mlock_folio()" }),
        longtermPinOnePage("$guest", { flags: ["FOLL_LONGTERM", "FOLL_WRITE"] }),
      ],
    },
    {
      name: "crosvm_VmRunApp",
      cpu: 7,
      script: [call("readahead", { file: "libfoo.so", pages: 31 }, { note: "fills CPU7's lru_add batch: the guest folio reaches the LRU" })],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
