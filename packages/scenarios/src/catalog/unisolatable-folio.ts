import { call, defineScenario } from "../builder.js";
import { anonPageOnLru, LONGTERM_PIN_PROMISE, longtermPinOnePage } from "./longterm-pin.js";

/** S7 (reference §12.7): an unpinnable folio that cannot be isolated for a while. */
export default defineScenario({
  id: "unisolatable-folio",
  title: "Longterm pin of an unpinnable folio someone else keeps isolated",
  description:
    "An anonymous folio in ZONE_MOVABLE is isolated from the LRU by another task (as compaction would), which lets go after hold_ns. CPU0 pins it FOLL_LONGTERM: the folio is unpinnable but folio_isolate_lru() fails, so nothing can be migrated. Mainline counts it as collected, drops every pin and pins again (-EAGAIN) until the isolation ends; the reverted 1aaf8c122918 counted only isolated folios and returned success with the unpinnable folio longterm-pinned.",
  source: { seeds: [], reference: "§4.5, §12.7" },
  params: { hold_ns: { default: 20_000, description: "how long the folio stays isolated (ns)" } },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: anonPageOnLru(),
  tasks: [
    { name: "isolator", cpu: 1, script: [call("isolate_and_hold", { addr: "$buf", ns: "${hold_ns}" })] },
    {
      name: "pinner",
      cpu: 0,
      script: [
        call("usleep", { us: 5 }, { note: "the isolator has the folio first" }),
        longtermPinOnePage("$buf"),
      ],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
