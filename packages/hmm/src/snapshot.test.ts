/**
 * lib/test_hmm.c's multi-page HMM_DMIRROR_READ/WRITE (`cmd->cpages`, `cmd->faults`),
 * HMM_DMIRROR_SNAPSHOT (`dmirror_mkentry`'s bytes) and HMM_DMIRROR_RELEASE (eviction).
 */

import { describe, expect, it } from "vitest";
import { PAGE_SIZE, getPte, mprotect, munmap, PROT_NONE, PROT_READ } from "@foliosim/mm";
import { HMM_DMIRROR_PROT as P, dmirrorDeviceEvictChunk, dmirrorMigrateToDevice, dmirrorOpen, dmirrorRead, dmirrorSnapshot, dmirrorWrite } from "./test-hmm.js";
import { anonMap, device, newMm, step, userRead, userWrite, world } from "./testing.js";

describe("dmirror multi-page access, snapshot and release", () => {
  it("reads and writes a range with one fault for the pages not mirrored, counting cpages", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const a = step(w, 0, function* () {
      const a = yield* anonMap(mm, 4);
      for (let i = 0; i < 4; i++) yield* userWrite(mm, a + i * PAGE_SIZE, i);
      return a;
    });
    expect(step(w, 0, () => dmirrorRead(dm, a, 2))).toEqual({ ret: 0, value: 0, values: [0, 1], faults: 1, cpages: 2 });
    // Pages 0-1 are mirrored now: reading 4 faults once more, for pages 2-3 only.
    expect(step(w, 0, () => dmirrorRead(dm, a, 4))).toMatchObject({ ret: 0, values: [0, 1, 2, 3], faults: 1, cpages: 4 });
    expect(step(w, 0, () => dmirrorRead(dm, a, 4))).toMatchObject({ faults: 0, cpages: 4 });
    // The read mirrored the writable PTEs writable (HMM_PFN_WRITE): the write needs no fault.
    expect(step(w, 0, () => dmirrorWrite(dm, a, [10, 11, 12, 13], 4))).toMatchObject({ ret: 0, faults: 0, cpages: 4 });
    expect(step(w, 0, () => userRead(mm, a + 3 * PAGE_SIZE))).toBe(13);
    // A PROT_NONE page stops the access: -EFAULT, with the pages before it counted.
    expect(step(w, 0, () => mprotect(mm, a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_NONE))).toBe(0);
    expect(step(w, 0, () => dmirrorRead(dm, a, 4))).toMatchObject({ ret: -14, cpages: 2, faults: 0 });
  });

  it("snapshots per-page protection bytes as dmirror_mkentry does, and RELEASE brings device pages home", () => {
    const w = world();
    const mm = newMm(w, "proc");
    const dm = dmirrorOpen(device(w, "dmirror0"), mm);
    const other = dmirrorOpen(device(w, "dmirror1"), mm);
    const a = step(w, 0, function* () {
      const a = yield* anonMap(mm, 6);
      yield* userWrite(mm, a + PAGE_SIZE, "ro");
      yield* userWrite(mm, a + 2 * PAGE_SIZE, "rw");
      yield* userWrite(mm, a + 3 * PAGE_SIZE, "mine");
      yield* userWrite(mm, a + 4 * PAGE_SIZE, "theirs");
      return a;
    });
    step(w, 0, function* () {
      yield* mprotect(mm, a + PAGE_SIZE, PAGE_SIZE, PROT_READ);
      yield* munmap(mm, a + 5 * PAGE_SIZE, PAGE_SIZE);
      expect((yield* dmirrorMigrateToDevice(dm, a + 3 * PAGE_SIZE, 1)).migrated).toBe(1);
      expect((yield* dmirrorMigrateToDevice(other, a + 4 * PAGE_SIZE, 1)).migrated).toBe(1);
    });
    const snap = step(w, 0, () => dmirrorSnapshot(dm, a, 6));
    expect(snap).toEqual({
      ret: 0,
      cpages: 6,
      perms: [P.HMM_DMIRROR_PROT_NONE, P.HMM_DMIRROR_PROT_READ, P.HMM_DMIRROR_PROT_WRITE, P.HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | P.HMM_DMIRROR_PROT_WRITE, P.HMM_DMIRROR_PROT_NONE, P.HMM_DMIRROR_PROT_ERROR],
    });
    expect(step(w, 0, () => dmirrorSnapshot(other, a + 4 * PAGE_SIZE, 1)).perms).toEqual([P.HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL | P.HMM_DMIRROR_PROT_WRITE]);
    expect(step(w, 0, () => dmirrorDeviceEvictChunk(dm.dev))).toBe(1);
    expect(getPte(mm, a + 3 * PAGE_SIZE)).toMatchObject({ kind: "present" });
    expect(getPte(mm, a + 4 * PAGE_SIZE)).toMatchObject({ kind: "device-private" });
    expect(step(w, 0, () => userRead(mm, a + 3 * PAGE_SIZE))).toBe("mine");
  });
});
