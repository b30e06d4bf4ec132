/**
 * The `migrate` variation point of mm/migrate.c: the retry and back-off policy of
 * `migrate_pages` (see `defineVariant` in @foliosim/sim). Mainline retries a folio
 * whose references do not match for up to NR_MAX_MIGRATE_PAGES_RETRY passes
 * (3 async + 7 sync under MIGRATE_SYNC) without waiting; the proposals change what
 * happens on -EAGAIN in the unmap and move stages, and around the whole call.
 *
 * A hook yields machine operations (`yield* waitVarEventTimeout(...)`, `yield*
 * op({...})`); every hook is optional, and a policy with none is mainline.
 * Built-ins: ./retry-policy.ts.
 */

import type { Folio } from "@foliosim/folio";
import type { TaskGen } from "@foliosim/sim";
import type { MigrateMode, MigrateReason } from "../migrate.js";

/** What the hooks know of the `migrate_pages` call. */
export interface MigrateCall {
  mode: MigrateMode;
  reason: MigrateReason;
}

/** What `migrate_pages_batch` does with a folio whose move failed with -EAGAIN. */
export type MoveAgain =
  /** Mainline: it stays locked and unmapped for the next move pass. */
  | "retry"
  /** Undo source and destination (unlock, restore the mappings) and put it on `ret_folios`, counted failed: the caller (`migrate_pages_sync`) may retry it. */
  | "give-up"
  /** Undo source and destination and send it back through the unmap stage of this batch while passes remain. */
  | "back-off";

/** The `migrate` point's hook. */
export interface MigrateHook {
  /** `migrate_pages` entry, before the first batch (e.g. enable a static key). */
  begin?(call: MigrateCall): TaskGen<void>;
  /**
   * `migrate_folio_unmap`, once the locked source is unmapped: return true to take the
   * undo path with -EAGAIN at once (the folio is retried in the next unmap pass).
   */
  unmapped?(src: Folio, call: MigrateCall): TaskGen<boolean>;
  /**
   * `migrate_pages_batch`'s unmap stage: `migrate_folio_unmap` of `src` returned -EAGAIN
   * (source and destination already undone: `src` is unlocked and mapped as before) and
   * `src` stays on `from` for the next unmap pass. May wait first.
   */
  unmapAgain?(src: Folio, call: MigrateCall): TaskGen<void>;
  /** `migrate_folios_move`: the move of the locked, unmapped `src` failed with -EAGAIN. May wait first. */
  moveAgain?(src: Folio, call: MigrateCall): TaskGen<MoveAgain>;
  /** `migrate_pages` exit, after the last batch. */
  end?(call: MigrateCall): TaskGen<void>;
}

declare module "@foliosim/sim" {
  interface VariationPoints {
    migrate: MigrateHook;
  }
}
