import { call, defineScenario } from "../builder.js";
import { anonPageOnLru, LONGTERM_PIN_PROMISE, longtermPinOnePage, transientHoldParam } from "./longterm-pin.js";

/** S4 (reference §12.4, seed 000) with the transient reference taken at any point of the pin. */
export default defineScenario({
  id: "transient-ref-concurrent",
  title: "A transient reference taken while a longterm pin collects and migrates the folio",
  description:
    "As transient-ref, but the holder is not given its reference first: CPU1's folio_try_get() (as a page-cache lookup or GUP-fast would) races CPU0's FOLL_LONGTERM pin from the start, so it may land before the pin, while the pin collects and isolates the folio, during the migration passes (where a migration entry makes the lookup fail), or after the folio moved. A reference that lands before the move passes and outlives them fails the pin on every mainline kernel.",
  source: { seeds: ["000_e2c7794d387b9f3a.txt"], reference: "§5.8, §10.2, §12.4" },
  params: {
    hold_ns: transientHoldParam(),
  },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: anonPageOnLru(),
  tasks: [
    { name: "holder", cpu: 1, script: [call("hold_reference", { addr: "$buf", ns: "${hold_ns}" })] },
    { name: "pinner", cpu: 0, script: [longtermPinOnePage("$buf")] },
  ],
  promise: LONGTERM_PIN_PROMISE,
});
