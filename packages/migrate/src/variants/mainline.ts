/**
 * Variant `mainline` of the `migrate` point: mm/migrate.c as merged. A -EAGAIN in the
 * unmap stage (folio lock busy under MIGRATE_ASYNC) or the move stage (references do
 * not match) is retried in the next pass, up to NR_MAX_MIGRATE_PAGES_RETRY passes,
 * with no wait and no back-off.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const mainline = defineVariant({
  id: "mainline",
  point: "migrate",
  source: "mainline mm/migrate.c: migrate_pages_batch retries -EAGAIN up to NR_MAX_MIGRATE_PAGES_RETRY passes",
  hook: {},
});
