/**
 * The `longterm-migrate-error` variation point: the errno `migrate_longterm_unpinnable_folios`
 * (mm/gup.c) returns when `migrate_pages()` fails. One file per variant beside this one:
 *
 * | id                     | file                     | source                                      |
 * |------------------------|--------------------------|---------------------------------------------|
 * | `enomem`               | ./migrate-enomem.ts      | mainline: `if (migrate_pages(...)) ret = -ENOMEM;` |
 * | `jhubbard-umem-eagain` | ./jhubbard-umem-eagain.ts | John Hubbard's RFC (30 Apr 2024): -ENOMEM unless -EAGAIN |
 *
 * An unset option runs `enomem` (the newest release); an unknown one is an error naming
 * these values.
 */

import { defineVariationPoint, resolveHook, type Machine } from "@foliosim/sim";
import { jhubbardUmemEagain } from "./jhubbard-umem-eagain.js";
import { migrateEnomem } from "./migrate-enomem.js";

export const LONGTERM_MIGRATE_ERROR_POINT = defineVariationPoint({
  name: "longterm-migrate-error",
  owner: "@foliosim/gup",
  models: "mm/gup.c migrate_longterm_unpinnable_folios: the errno of a failed migrate_pages()",
  shape: { keepEagain: "boolean" },
  builtins: [migrateEnomem, jhubbardUmemEagain],
  defaultId: "enomem",
});

/** Whether the machine keeps a -EAGAIN from `migrate_pages()` instead of turning it into -ENOMEM. */
export function longtermMigrateKeepsEagain(m: Machine): boolean {
  return resolveHook(m, LONGTERM_MIGRATE_ERROR_POINT).keepEagain;
}
