/**
 * `hmm-pre-6.15`: the device-private branch of `do_swap_page` before 1afaeb8293c9
 * (Matthew Brost, "mm/migrate: Trylock device page in do_swap_page", v6.15), as in
 * linux-6.10 … 6.14: under the PTE lock, `get_page(vmf->page)`; drop the PTE lock;
 * `pgmap->ops->migrate_to_ram(vmf)`; `put_page`. The folio is NOT locked by the fault:
 * `migrate_vma_setup` does not require a locked `fault_page`, and the collect step
 * trylocks the fault page like any other (and unmap/finalize unlock it).
 *
 * Consequence (the 1afaeb8293c9 commit message): every concurrent CPU fault holds an
 * extra reference, which makes `migrate_vma_check_page`/`folio_migrate_mapping` of
 * the other faulters fail, and a fault that loses the collect trylock migrates
 * nothing and returns 0: a busy retry too, but one that takes and drops references.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const hmmPre615 = defineVariant({
  id: "hmm-pre-6.15",
  point: "hmm",
  source: "mainline ≤ 6.14: do_swap_page takes a reference on the device-private page, no lock (before 1afaeb8293c9)",
  hook: { fault: "get-page", drain: "in-unmap" },
});
