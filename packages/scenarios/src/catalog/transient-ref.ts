import { call, defineScenario } from "../builder.js";
import { anonPageOnLru, LONGTERM_PIN_PROMISE, longtermPinOnePage, transientHoldParam } from "./longterm-pin.js";

/** S4 (reference §12.4, seed 000): a transient reference during longterm-pin migration. */
export default defineScenario({
  id: "transient-ref",
  title: "A transient reference held while a longterm pin migrates the folio",
  description:
    "An anonymous folio in ZONE_MOVABLE, already on the LRU. CPU1 takes a speculative reference (folio_try_get, as a page-cache lookup or GUP-fast would) and holds it for hold_ns. CPU0 pins the folio FOLL_LONGTERM: migration sees one reference more than it expects on every move pass. Mainline retries 3 async and 7 sync passes back to back; John Hubbard's RFC sleeps up to 1 s on the refcount after each -EAGAIN.",
  source: { seeds: ["000_e2c7794d387b9f3a.txt"], reference: "§5.8, §10.2, §12.4" },
  params: {
    hold_ns: transientHoldParam(),
  },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: anonPageOnLru(),
  tasks: [
    { name: "holder", cpu: 1, script: [call("hold_reference", { addr: "$buf", ns: "${hold_ns}" })] },
    {
      name: "pinner",
      cpu: 0,
      script: [
        call("usleep", { us: 1 }, { note: "the holder has its reference first" }),
        longtermPinOnePage("$buf"),
      ],
    },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
