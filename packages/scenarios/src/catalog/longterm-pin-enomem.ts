import { call, defineScenario } from "../builder.js";
import { anonPageOnLru, longtermPinOnePage } from "./longterm-pin.js";

/**
 * Two FOLL_LONGTERM pinners of one movable page. Both `pin_user_pages()` calls pin the
 * folio first (mm/gup.c `__gup_longterm_locked`), then `collect_longterm_unpinnable_folios`:
 * one isolates it from the LRU, the other finds it isolated, drops its pins and pins
 * again (-EAGAIN). The isolating pinner drops its own pin and migrates; if the other's
 * pin is still held through `migrate_pages()`' passes, `migrate_longterm_unpinnable_folios`
 * turns the failure into -ENOMEM (`if (migrate_pages(...)) ret = -ENOMEM;`, quoted by
 * Hyesoo Yu's "[PATCH v2 1/2] mm: gup: clean up stale logic in
 * migrate_longterm_unpinnable_folio()", 5 Jun 2025, against mm/gup.c e065a49842a8) —
 * although the page was never short of memory and a second attempt would succeed.
 */
export default defineScenario({
  id: "longterm-pin-enomem",
  title: "Two longterm pinners of one movable page: the loser gets -ENOMEM",
  description:
    "CPU0 and CPU1 both pin_user_pages(FOLL_LONGTERM) the same anonymous page in ZONE_MOVABLE. Each pins it, then collects it for migration: the first to isolate it from the LRU drops its pin and migrates it, the other finds it isolated, drops its pin and pins again. Where the second pinner's pin is still held while the first migrates, every move pass sees one reference too many and migrate_longterm_unpinnable_folios() returns -ENOMEM for a page that only needed another try.",
  source: { seeds: ["000_e2c7794d387b9f3a.txt"], reference: "§4.2, §10.2" },
  machine: { cpus: 2, preemption: "voluntary", memory: { Movable: 8, Normal: 32 } },
  setup: anonPageOnLru(),
  tasks: [
    { name: "pinner0", cpu: 0, script: [longtermPinOnePage("$buf")] },
    { name: "pinner1", cpu: 1, script: [longtermPinOnePage("$buf")] },
  ],
  promise: { summary: "both longterm pins return 1 page and the pinned folio is longterm-pinnable" },
});

