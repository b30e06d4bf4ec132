/**
 * Expected verdicts: what each catalog scenario is expected to do on each headline
 * kernel, taken from the LKML threads the catalog comes from (the seeds) and the
 * reference's per-scenario outcome tables (kernel-mm reference §12).
 *
 * A failing cell on an old kernel is the point of the matrix, not an error: `compare`
 * judges each cell against its expectation and its exit code says whether the whole
 * matrix matches (0), whether some cell differs (1), or whether some cell could not be
 * judged within its budget (3). A cell with no declared expectation (a user file, a
 * non-headline kernel, non-default parameters) is expected to hold: its promise is
 * a promise.
 */

import type { Outcome } from "./report.js";

export interface Expectation {
  outcome: Outcome;
  /** Where the expectation comes from. */
  source: string;
}

type Row = Record<string, Expectation>;

const holdsEverywhere = (source: string): Row => ({
  "linux-6.10": { outcome: "holds", source },
  "linux-6.11": { outcome: "holds", source },
  "linux-6.17": { outcome: "holds", source },
  "linux-7.0": { outcome: "holds", source },
  "linux-7.3": { outcome: "holds", source },
});

/** scenario id (catalog, default parameters) → kernel id → expectation. */
export const EXPECTED: Readonly<Record<string, Row>> = {
  "pkvm-mlock-cma": {
    "linux-6.10": { outcome: "fails", source: "seed 004: the mlock batch holds a reference, ten move passes fail, -ENOMEM (§12.1)" },
    "linux-6.11": { outcome: "fails", source: "seed 004: 33dfe9204f29 does not cover the mlock batch, -ENOMEM (§12.1)" },
    "linux-6.17": { outcome: "holds", source: "seed 004: Hugh Dickins' ref_count ladder drains the batch (§12.1)" },
    "linux-7.0": { outcome: "holds", source: "seed 004: the ref_count ladder drains the batch (§12.1)" },
    "linux-7.3": { outcome: "holds", source: "seed 004: lru_cache_drain_for_folio() drains the batch (§12.1)" },
  },
  "pkvm-same-cpu": holdsEverywhere("seed 004: the pinning CPU's own mlock batch is drained by the local lru_add_drain() before migration"),
  "anon-lru-add-batch": holdsEverywhere("§12.2: a folio without PG_lru gets a global drain on every variant"),
  "activate-batch": {
    "linux-6.10": { outcome: "fails", source: "§12.3: PG_lru set, no drain, the activate batch's reference fails ten passes (Ge Yang's CMA report)" },
    "linux-6.11": { outcome: "holds", source: "§12.3: 33dfe9204f29 clears PG_lru at queue time, so collect drains" },
    "linux-6.17": { outcome: "holds", source: "§12.3: the reference mismatch triggers the drain" },
    "linux-7.0": { outcome: "holds", source: "§12.3: the reference mismatch triggers the drain" },
    "linux-7.3": { outcome: "holds", source: "§12.3: the reference mismatch triggers the drain" },
  },
  "transient-ref": {
    "linux-6.10": { outcome: "fails", source: "seed 000: mainline's ten passes run back to back, a 0.5 s reference outlives them (§12.4)" },
    "linux-6.11": { outcome: "fails", source: "seed 000: as 6.10 (§12.4)" },
    "linux-6.17": { outcome: "fails", source: "seed 000: as 6.10 (§12.4)" },
    "linux-7.0": { outcome: "fails", source: "seed 000: as 6.10; only John Hubbard's RFC waits (§12.4)" },
    "linux-7.3": { outcome: "fails", source: "seed 000: as 6.10; only John Hubbard's RFC waits (§12.4)" },
  },
  "lock-waiter-ref": {
    "linux-6.10": { outcome: "fails", source: "seed 001: MIGRATE_ASYNC (the default mode) has no undo between passes, all fail (§12.5)" },
    "linux-6.11": { outcome: "fails", source: "seed 001: as 6.10 (§12.5)" },
    "linux-6.17": { outcome: "fails", source: "seed 001: as 6.10 (§12.5)" },
    "linux-7.0": { outcome: "fails", source: "seed 001: as 6.10; neither proposal was merged (§12.5)" },
    "linux-7.3": { outcome: "fails", source: "seed 001: as 6.10; neither proposal was merged (§12.5)" },
  },
  "unisolatable-folio": holdsEverywhere("§12.7: mainline re-pins until the isolation ends"),
  "pin-clean-unpinnable": holdsEverywhere("seed 004: nothing batched, the folio migrates on the first pass (§4.4)"),
  "hmm-drain-livelock": {
    "linux-6.10": { outcome: "livelock", source: "seeds 002/003, before 1afaeb8293c9: B's migrate_to_ram loses the trylock on D and retries at once, a busy loop on the CPU whose drain A waits for (§12.6, pre-fix)" },
    "linux-6.11": { outcome: "livelock", source: "seeds 002/003: as 6.10 (§12.6, pre-fix)" },
    "linux-6.17": { outcome: "livelock", source: "seeds 002/003: 1afaeb8293c9 returns at once on a locked device page (§12.6, pre-fix)" },
    "linux-7.0": { outcome: "holds", source: "seeds 002/003: b570f37a2ce4 sleeps on the device-private folio lock (§12.6, merged)" },
    "linux-7.3": { outcome: "holds", source: "seeds 002/003: b570f37a2ce4 sleeps on the device-private folio lock (§12.6, merged)" },
  },
  "pkvm-mlock-cma-concurrent": {
    "linux-6.10": { outcome: "fails", source: "seed 004 (Will Deacon's traces): when the readahead's flush puts the folio on the LRU before the pin collects it, PG_lru is set and nothing drains CPU7's mlock batch, -ENOMEM (§12.1)" },
    "linux-6.11": { outcome: "fails", source: "seed 004: as 6.10; 33dfe9204f29 does not cover the mlock batch (§12.1)" },
    "linux-6.17": { outcome: "holds", source: "seed 004: the ref_count ladder drains wherever the flush lands (§12.1)" },
    "linux-7.0": { outcome: "holds", source: "seed 004: the ref_count ladder drains wherever the flush lands (§12.1)" },
    "linux-7.3": { outcome: "holds", source: "seed 004: lru_cache_drain_for_folio() drains wherever the flush lands (§12.1)" },
  },
  "pkvm-same-cpu-concurrent": holdsEverywhere("seed 004: the reference is in the pinning CPU's own mlock batch, drained locally before migration wherever the readahead lands"),
  "transient-ref-concurrent": {
    "linux-6.10": { outcome: "fails", source: "seed 000: a 0.5 s reference taken before the move passes outlives all ten (§12.4)" },
    "linux-6.11": { outcome: "fails", source: "seed 000: as 6.10 (§12.4)" },
    "linux-6.17": { outcome: "fails", source: "seed 000: as 6.10 (§12.4)" },
    "linux-7.0": { outcome: "fails", source: "seed 000: as 6.10; only John Hubbard's RFC waits (§12.4)" },
    "linux-7.3": { outcome: "fails", source: "seed 000: as 6.10; only John Hubbard's RFC waits (§12.4)" },
  },
  "hmm-fault-storm": holdsEverywhere("seed 002: the faults wait for the driver's migration and read the value (§7.2)"),
  "hmm-migrate-cycle": holdsEverywhere("seed 002: migrate_vma to the device and back keeps the data (§6.2–§6.6)"),
  // Outside the headline set (compare --all does not run it): PCT finds the -ENOMEM.
  "longterm-pin-enomem": {
    "linux-6.10": { outcome: "fails", source: "mm/gup.c migrate_longterm_unpinnable_folios: if (migrate_pages(...)) ret = -ENOMEM; the other pinner's pin, held through the move passes, fails the migration (§4.2)" },
    "linux-6.11": { outcome: "fails", source: "as 6.10: any migrate_pages() failure is -ENOMEM (§4.2)" },
    "linux-6.17": { outcome: "fails", source: "as 6.10: the ref_count ladder drains, but a pin is not a batch reference (§4.2)" },
    "linux-7.0": { outcome: "fails", source: "as 6.10 (§4.2)" },
    "linux-7.3": { outcome: "fails", source: "as 6.10: lru_cache_drain_for_folio() cannot drop another task's pin (§4.2)" },
  },
};

/** The expectation of one cell; undefined when none is declared (the cell is expected to hold). */
export function expectationOf(scenarioId: string, kernelId: string): Expectation | undefined {
  return EXPECTED[scenarioId]?.[kernelId];
}

/** How a cell's outcome compares with what was expected. */
export type Judgement = "as-expected" | "unexpected" | "inconclusive";

export function judge(outcome: Outcome, scenarioId: string, kernelId: string): Judgement {
  const expected = expectationOf(scenarioId, kernelId)?.outcome ?? "holds";
  if (outcome === expected) return "as-expected";
  // Inconclusive: nothing failed, but some runs hit their budget before the verdict was reached.
  if (outcome === "inconclusive") return "inconclusive";
  return "unexpected";
}
