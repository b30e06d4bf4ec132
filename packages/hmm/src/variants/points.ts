/**
 * The `hmm` variation point: the device-private fault path (the device-private branch
 * of mm/memory.c `do_swap_page`), the `hmm_range_fault` re-walk (mm/hmm.c) and where
 * device migration drains the per-CPU LRU caches (mm/migrate_device.c
 * `migrate_vma_setup` / `migrate_device_unmap`). See `defineVariant` in @foliosim/sim;
 * built-ins in ./select.ts.
 */

import type { TaskGen } from "@foliosim/sim";

/** The `hmm` point's hook. */
export interface HmmHook {
  /**
   * `do_swap_page` on a device-private entry:
   * - `"get-page"` (≤ 6.14): take a reference under the PTE lock, no folio lock;
   *   `migrate_vma_setup` trylocks the fault page like any other;
   * - `"trylock-return"` (6.15, 1afaeb8293c9): trylock under the PTE lock, return 0 at
   *   once when it fails (the caller re-faults);
   * - `"sleeping-wait"` (7.0, b570f37a2ce4): when the trylock fails, sleep on the folio
   *   lock without a reference, then return 0.
   */
  fault: "get-page" | "trylock-return" | "sleeping-wait";
  /** `hmm_range_fault`, after each -EBUSY re-walk (a `cond_resched()`, a `msleep()`). */
  rewalk?(): TaskGen<void>;
  /**
   * Where device migration drains off-LRU system folios:
   * - `"in-unmap"` (mainline): `lru_add_drain_all()` in `migrate_device_unmap`, folio locks held;
   * - `"lru-cache-disable"`: `lru_cache_disable()`/`enable()` around collect + unmap, no drain inside;
   * - `"outside-lock"`: `migrate_vma_setup` restores what it collected, drains with no lock held, collects again.
   */
  drain: "in-unmap" | "lru-cache-disable" | "outside-lock";
}

declare module "@foliosim/sim" {
  interface VariationPoints {
    hmm: HmmHook;
  }
}
