/**
 * Variant `enomem` of `migrate_longterm_unpinnable_folios` (mm/gup.c), mainline: any
 * `migrate_pages()` failure — a count of folios not migrated, or a negative errno — is
 * returned as -ENOMEM (`if (migrate_pages(...)) ret = -ENOMEM;`).
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const migrateEnomem = defineVariant({
  id: "enomem",
  point: "longterm-migrate-error",
  source: "mainline mm/gup.c migrate_longterm_unpinnable_folios: if (migrate_pages(...)) ret = -ENOMEM;",
  hook: { keepEagain: false },
});
