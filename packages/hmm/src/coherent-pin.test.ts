/**
 * GUP's FOLL_LONGTERM pin of device-coherent memory (mm/gup.c
 * `migrate_longterm_unpinnable_folios` → mm/migrate_device.c
 * `migrate_device_coherent_folio`): the pin becomes a reference, the folio migrates to
 * system memory, and GUP pins the new page (-EAGAIN, then the retry) — not -EBUSY.
 */

import { describe, expect, it } from "vitest";
import { FOLL_LONGTERM, FOLL_WRITE, pinUserPages, unpinUserPages, type Pages } from "@foliosim/gup";
import { getPte, withMmapReadLock } from "@foliosim/mm";
import { dmirrorDeviceCreate, dmirrorMigrateToDevice, dmirrorOpen } from "./test-hmm.js";
import { anonMap, newMm, step, userWrite, world } from "./testing.js";

describe("FOLL_LONGTERM pin of device-coherent memory", () => {
  it("migrates the folio to system memory and pins the copy", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dev = dmirrorDeviceCreate(w.m, "coherent0", w.mem, 4, "MEMORY_DEVICE_COHERENT");
    w.devices.push(dev);
    const dm = dmirrorOpen(dev, mm);
    const a = step(w, 0, function* () {
      const a = yield* anonMap(mm, 1);
      yield* userWrite(mm, a, "payload");
      expect((yield* dmirrorMigrateToDevice(dm, a, 1)).migrated).toBe(1);
      return a;
    });
    const before = getPte(mm, a);
    expect(before).toMatchObject({ kind: "present" });
    const coherent = before.kind === "present" ? before.folio : null;
    expect(coherent?.deviceType).toBe("coherent");
    const pages: Pages = [null];
    const ret = step(w, 0, () => withMmapReadLock(mm, pinUserPages(mm, a, 1, FOLL_LONGTERM | FOLL_WRITE, pages, w.mem)));
    expect(ret).toBe(1);
    const pinned = pages[0]!;
    expect(pinned).not.toBe(coherent);
    expect([pinned.zone, pinned.data, pinned.refcount >= 1025]).toEqual(["Normal", "payload", true]);
    expect(getPte(mm, a)).toMatchObject({ kind: "present", folio: pinned });
    expect(coherent?.holderCount("pin") ?? 0).toBe(0);
    step(w, 0, () => unpinUserPages(pages));
  });
});
