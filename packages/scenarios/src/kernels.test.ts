import { describe, expect, it } from "vitest";
import { clearRegisteredVariants, defineVariant, kernelDefaults, Machine, registerVariant, resolveVariant, variantFromFile, variationPoints } from "@foliosim/sim";
import { COLLECT_POINT } from "@foliosim/gup";
import { KERNEL_OPTIONS, KERNEL_PRESETS, NEWEST_PRESET, headlineKernels, machineKernelOptions, newestPreset, parseOverrides, presetOptions, resolveKernel } from "./index.js";

describe("variation points and presets", () => {
  it("every kernel option is a registered variation point whose built-ins are the option's values", () => {
    const points = Object.fromEntries(variationPoints().map((p) => [p.name, p.builtins.map((b) => b.id)]));
    for (const [name, values] of Object.entries(KERNEL_OPTIONS)) expect([...points[name]].sort(), name).toEqual([...values].sort());
  });

  it("a machine built with no kernel options runs exactly the newest preset", () => {
    const defaults = kernelDefaults();
    const newest = newestPreset();
    expect(Object.fromEntries(Object.keys(newest).map((k) => [k, defaults[k]]))).toEqual(newest);
    const m = new Machine({ cpus: 1 });
    for (const p of variationPoints()) if (p.name in newest) expect(resolveVariant(m, p).id, p.name).toBe(newest[p.name as keyof typeof newest]);
  });

  it("a registered user variant is a valid value of its option", () => {
    try {
      registerVariant(variantFromFile(defineVariant({ id: "my-drain", point: "collect", source: "test", hook: { *drain() {} } }), "/tmp/my-drain.ts"));
      const k = resolveKernel("linux-7.0", ["collect=my-drain"]);
      expect(k.id).toBe("linux-7.0+collect=my-drain");
      expect(resolveVariant(new Machine({ cpus: 1, kernel: machineKernelOptions(k) }), COLLECT_POINT).file).toBe("/tmp/my-drain.ts");
      expect(() => parseOverrides(["migrate=my-drain"])).toThrow(/invalid value "my-drain" for kernel option migrate/);
    } finally {
      clearRegisteredVariants();
    }
  });
});

describe("kernel presets", () => {
  it("has the fixed ids of the migration/GUP and HMM issues", () => {
    const ids = KERNEL_PRESETS.map((k) => k.id);
    for (const id of [
      "linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3", "will-v1", "hugh-v1", "john-memalloc-pin", "gup-count-isolated",
      "devjain-early-bail", "david-waiters-backoff", "jhubbard-refcount-wait", "linux-6.15", "linux-6.16", "linux-6.18", "linux-6.19",
      "hmm-cond-resched", "hmm-msleep", "hmm-lru-cache-disable", "hmm-drain-outside-lock",
    ]) expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  // Every preset's full option values: collect, gup-loop, migrate, lru-batch-clears-lru,
  // lru-drain-all-local-first, hmm, ra-order, finish-fault, rmap-mlock-large (and
  // longterm-migrate-error, "enomem" on every preset). A change here changes what a
  // kernel id means.
  const FULL: Record<string, string[]> = {
    "linux-6.10": ["pre-6.11", "count-collected", "mainline", "off", "off", "hmm-pre-6.15", "plus-2", "per-page", "small-only"],
    "linux-6.11": ["pre-6.11", "count-collected", "mainline", "on", "off", "hmm-pre-6.15", "plus-2", "anon-shmem", "small-only"],
    "linux-6.15": ["pre-6.11", "count-collected", "mainline", "on", "off", "hmm-trylock-return", "plus-2", "anon-shmem", "small-only"],
    "linux-6.16": ["pre-6.11", "count-collected", "mainline", "on", "off", "hmm-trylock-return", "plus-2", "anon-shmem", "small-only"],
    "linux-6.17": ["6.17", "count-collected", "mainline", "off", "off", "hmm-trylock-return", "honour", "shmem", "small-only"],
    "linux-6.18": ["6.17", "count-collected", "mainline", "off", "on", "hmm-trylock-return", "honour", "file", "fully-mapped"],
    "linux-6.19": ["6.17", "count-collected", "mainline", "off", "on", "hmm-trylock-return", "honour", "file", "fully-mapped"],
    "linux-7.0": ["6.17", "count-collected", "mainline", "off", "on", "hmm-sleeping-wait", "honour", "file", "fully-mapped"],
    "linux-7.3": ["2026", "count-collected", "mainline", "off", "on", "hmm-sleeping-wait", "honour", "file", "fully-mapped"],
    "will-v1": ["will-v1", "count-collected", "mainline", "on", "off", "hmm-pre-6.15", "plus-2", "anon-shmem", "small-only"],
    "hugh-v1": ["hugh-v1", "count-collected", "mainline", "on", "off", "hmm-pre-6.15", "plus-2", "anon-shmem", "small-only"],
    "john-memalloc-pin": ["john-memalloc-pin", "count-collected", "mainline", "on", "off", "hmm-pre-6.15", "plus-2", "anon-shmem", "small-only"],
    "gup-count-isolated": ["pre-6.11", "count-isolated", "mainline", "on", "off", "hmm-pre-6.15", "plus-2", "anon-shmem", "small-only"],
    "devjain-early-bail": ["2026", "count-collected", "devjain-early-bail", "off", "on", "hmm-sleeping-wait", "honour", "file", "fully-mapped"],
    "david-waiters-backoff": ["2026", "count-collected", "david-waiters-backoff", "off", "on", "hmm-sleeping-wait", "honour", "file", "fully-mapped"],
    "jhubbard-refcount-wait": ["2026", "count-collected", "jhubbard-refcount-wait", "off", "on", "hmm-sleeping-wait", "honour", "file", "fully-mapped"],
    "hmm-cond-resched": ["6.17", "count-collected", "mainline", "off", "on", "hmm-cond-resched", "honour", "file", "fully-mapped"],
    "hmm-msleep": ["6.17", "count-collected", "mainline", "off", "on", "hmm-msleep", "honour", "file", "fully-mapped"],
    "hmm-lru-cache-disable": ["6.17", "count-collected", "mainline", "off", "on", "hmm-lru-cache-disable", "honour", "file", "fully-mapped"],
    "hmm-drain-outside-lock": ["6.17", "count-collected", "mainline", "off", "on", "hmm-drain-outside-lock", "honour", "file", "fully-mapped"],
  };

  it("pins the full option values of every preset", () => {
    expect(KERNEL_PRESETS.map((k) => k.id)).toEqual(Object.keys(FULL));
    for (const [id, [collect, gupLoop, migrate, clears, localFirst, hmm, raOrder, finishFault, rmapMlock]] of Object.entries(FULL)) {
      expect(presetOptions(id), id).toEqual({
        collect, "gup-loop": gupLoop, migrate, "lru-batch-clears-lru": clears, "lru-drain-all-local-first": localFirst, hmm, "ra-order": raOrder,
        "finish-fault": finishFault, "rmap-mlock-large": rmapMlock, "longterm-migrate-error": "enomem",
      });
    }
  });

  it("linux-7.0 runs the 6.17 ladder (the 2026 target came in 7.3); the proposals sit on the newest release", () => {
    expect(presetOptions("linux-7.0").collect).toBe("6.17");
    expect(presetOptions("linux-7.3").collect).toBe("2026");
    expect(NEWEST_PRESET).toBe("linux-7.3");
    expect(newestPreset()).toEqual(presetOptions("linux-7.3"));
    for (const id of ["devjain-early-bail", "david-waiters-backoff", "jhubbard-refcount-wait"]) {
      expect(KERNEL_PRESETS.find((k) => k.id === id)!.base).toBe(NEWEST_PRESET);
    }
  });

  it("every release preset's source names a commit or says it changes nothing modelled", () => {
    for (const k of KERNEL_PRESETS.filter((p) => p.id.startsWith("linux-") && p.base !== "—")) {
      expect(k.source, k.id).toMatch(/\b[0-9a-f]{12}\b|no change to the modelled paths|"mm: lru_add_drain_all\(\) do local lru_add_drain\(\) first"/);
    }
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

  it("headline kernels are the five releases", () => {
    expect(headlineKernels()).toEqual(["linux-6.10", "linux-6.11", "linux-6.17", "linux-7.0", "linux-7.3"]);
  });
});
