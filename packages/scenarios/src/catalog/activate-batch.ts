import { call, defineScenario } from "../builder.js";
import { anonPageOnLru, LONGTERM_PIN_PROMISE, longtermPinOnePage } from "./longterm-pin.js";

/** S3 (reference §12.3): the case behind 33dfe9204f29, a folio in another CPU's activate batch. */
export default defineScenario({
  id: "activate-batch",
  title: "Longterm pin of a folio waiting in another CPU's lru_activate batch",
  description:
    "An anonymous folio in ZONE_MOVABLE is on the inactive LRU (PG_lru set). CPU0 marks it accessed: folio_activate() queues it in CPU0's lru_activate batch, which holds a reference. CPU1 pins it FOLL_LONGTERM. Before 6.11 the folio still shows PG_lru, so nothing is drained and the batch reference fails every migration pass; 33dfe9204f29 cleared PG_lru at queue time, and the 6.17 ladder compares reference counts instead.",
  source: { seeds: ["004_57a7ff976f7ed58f.txt"], reference: "§12.3" },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: [
    ...anonPageOnLru("the folio reaches the inactive LRU"),
    call("folio_activate", { addr: "$buf" }, { cpu: 0, note: "queued in CPU0's lru_activate batch" }),
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
