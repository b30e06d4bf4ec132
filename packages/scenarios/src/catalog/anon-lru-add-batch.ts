import { call, defineScenario } from "../builder.js";
import { LONGTERM_PIN_PROMISE, longtermPinOnePage } from "./longterm-pin.js";

/** S2 (reference §12.2): the classic case, an anonymous folio still in another CPU's lru_add batch. */
export default defineScenario({
  id: "anon-lru-add-batch",
  title: "Longterm pin of a fresh anonymous folio still in another CPU's lru_add batch",
  description:
    "CPU0 faults an anonymous page; the movable allocation lands in ZONE_MOVABLE and the folio waits in CPU0's lru_add batch with PG_lru clear. CPU1 pins it FOLL_LONGTERM: it must be isolated and migrated, which needs CPU0's batch drained first.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§12.2" },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: [
    call("mmap", { pages: 1 }, { as: "buf", cpu: 0 }),
    call("touch", { addr: "$buf", write: true }, { cpu: 0, note: "do_anonymous_page → folio_add_lru_vma → CPU0's lru_add batch" }),
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
