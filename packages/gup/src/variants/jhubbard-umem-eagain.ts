/**
 * Variant `jhubbard-umem-eagain` — John Hubbard, "[RFC] RDMA/umem: pin_user_pages*() can
 * temporarily fail due to migration glitches" (30 Apr 2024,
 * <20240501003117.257735-1-jhubbard@nvidia.com>, against 18daea77cca6). Its mm/gup.c hunk:
 *
 *     rc = migrate_pages(movable_page_list, ..., MIGRATE_SYNC, MR_LONGTERM_PIN, NULL);
 *     if (rc) {
 *             // Report any failure *except* -EAGAIN as "not enough memory".
 *             if (rc != -EAGAIN)
 *                     ret = -ENOMEM;
 *             goto err;
 *     }
 *
 * and its drivers/infiniband/core/umem.c hunk retries `pin_user_pages_fast()` up to three
 * times on -EAGAIN in `ib_umem_get()`. The posting says migration's -EAGAIN "is squashed"
 * into -ENOMEM; the kernel source says otherwise: `migrate_pages()` never returns -EAGAIN
 * for a folio whose references do not match. `migrate_pages_batch()` counts it
 * (`case -EAGAIN: retry++` … `nr_failed += retry; rc = rc_saved ? : nr_failed;`), so
 * `migrate_pages()` returns the number of folios not migrated (1 for one page), and the
 * hunk turns that into -ENOMEM exactly as mainline does. On the path the hunk opens
 * (`rc == -EAGAIN`) `ret` is never set (`int ret;` in `migrate_longterm_unpinnable_pages`),
 * and an -EAGAIN from there would loop inside `__gup_longterm_locked` (`while (rc ==
 * -EAGAIN)`), not reach the caller: the model raises a model error there rather than
 * guess. Nor is the `ib_umem_get()` retry modelled: it only acts on -EAGAIN, which the
 * caller never sees. The thread (Jason Gunthorpe, Alistair Popple, David Hildenbrand,
 * 1–2 May 2024) asked for the retry to live in mm instead; John Hubbard's 2026 RFC
 * (`migrate=jhubbard-refcount-wait`, @foliosim/migrate) is that follow-up.
 */

import { defineVariant } from "@foliosim/sim";
import type {} from "./points.js";

export const jhubbardUmemEagain = defineVariant({
  id: "jhubbard-umem-eagain",
  point: "longterm-migrate-error",
  source: "John Hubbard, \"[RFC] RDMA/umem: pin_user_pages*() can temporarily fail due to migration glitches\" (30 Apr 2024): migrate_longterm_unpinnable_pages reports any migrate_pages() failure except -EAGAIN as -ENOMEM",
  hook: { keepEagain: true },
});
