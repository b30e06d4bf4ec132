import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage } from "./longterm-pin.js";

/** A CMA folio with nothing batched anywhere, pinned longterm: what does the drain rule cost? */
export default defineScenario({
  id: "pin-clean-unpinnable",
  title: "Longterm pin of a clean CMA folio (nothing batched anywhere)",
  description:
    "An anonymous folio in a CMA pageblock sits on the LRU with every per-CPU batch empty. Pinning it FOLL_LONGTERM must migrate it, but no drain is needed. The 6.17 ladder compared the count with expected + 1, which a FOLL_PIN (+1024) never matches, so every such pin paid a local and a global drain; the 2026 fix compares with expected + 1024.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§2.7, §4.4" },
  machine: { cpus: 4, preemption: "voluntary", memory: { CMA: 8, Normal: 32 } },
  setup: [
    call("mmap", { pages: 1 }, { as: "buf", cpu: 0 }),
    call("touch", { addr: "$buf", write: true }, { cpu: 0 }),
    call("lru_add_drain_all", {}, { cpu: 0 }),
  ],
  tasks: [
    {
      name: "pinner",
      cpu: 1,
      script: [longtermPinOnePage("$buf")],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
