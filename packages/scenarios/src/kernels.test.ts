import { describe, expect, it } from "vitest";
import { KERNEL_PRESETS, headlineKernels, machineKernelOptions, parseOverrides, presetOptions, resolveKernel } from "./kernels.js";

describe("kernel presets", () => {
  it("has the fixed ids of the migration/GUP and HMM issues", () => {
    const ids = KERNEL_PRESETS.map((k) => k.id);
    for (const id of [
      "linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "will-v1", "hugh-v1", "john-memalloc-pin", "gup-count-isolated",
      "devjain-early-bail", "david-waiters-backoff", "jhubbard-refcount-wait", "linux-6.15", "linux-6.16", "linux-6.18", "linux-6.19",
      "hmm-cond-resched", "hmm-msleep", "hmm-lru-cache-disable", "hmm-drain-outside-lock",
    ]) expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("resolves bases in order", () => {
    expect(presetOptions("linux-6.10")).toMatchObject({ collect: "pre-6.11", "lru-batch-clears-lru": "off", migrate: "mainline" });
    expect(presetOptions("linux-6.11")).toMatchObject({ collect: "pre-6.11", "lru-batch-clears-lru": "on" });
    expect(presetOptions("will-v1")).toMatchObject({ collect: "will-v1", "lru-batch-clears-lru": "on" });
    expect(presetOptions("linux-6.17")).toMatchObject({ collect: "6.17", "lru-batch-clears-lru": "off", hmm: "hmm-trylock-return" });
    expect(presetOptions("linux-7.0")).toEqual({
      collect: "2026", "gup-loop": "count-collected", migrate: "mainline", "lru-batch-clears-lru": "off", "lru-drain-all-local-first": "on", hmm: "hmm-sleeping-wait",
    });
    expect(presetOptions("jhubbard-refcount-wait")).toMatchObject({ collect: "2026", migrate: "jhubbard-refcount-wait" });
    expect(presetOptions("hmm-msleep")).toMatchObject({ hmm: "hmm-msleep", collect: "6.17" });
    expect(presetOptions("gup-count-isolated")).toMatchObject({ "gup-loop": "count-isolated", collect: "pre-6.11" });
  });

  it("applies overrides and names the result", () => {
    const k = resolveKernel("linux-6.11", ["collect=will-v1", "lru-batch-clears-lru=off"]);
    expect(k.id).toBe("linux-6.11+collect=will-v1,lru-batch-clears-lru=off");
    expect(machineKernelOptions(k)).toMatchObject({ collect: "will-v1", "lru-batch-clears-lru": false });
  });

  it("rejects unknown ids, options and values, listing the valid ones", () => {
    expect(() => resolveKernel("linux-6.1")).toThrow(/unknown kernel "linux-6.1" \(did you mean "linux-6.10"\?\); valid kernels: linux-6.10, linux-6.11/);
    expect(() => parseOverrides(["colect=will-v1"])).toThrow(/unknown kernel option "colect" \(did you mean "collect"\?\); valid options: collect, gup-loop/);
    expect(() => parseOverrides(["collect=will-v2"])).toThrow(/invalid value "will-v2" for kernel option collect \(did you mean "will-v1"\?\); valid values: pre-6.11, will-v1/);
  });

  it("headline kernels are the four releases", () => {
    expect(headlineKernels()).toEqual(["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0"]);
  });
});
