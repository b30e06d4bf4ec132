/**
 * `metric` exposes every counter the layers count: each `count("name")` in the model's
 * sources is one of COUNTER_NAMES, and a run reads it.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SeededChooser } from "@foliosim/sim";
import { COUNTER_NAMES, call, defineScenario, runScenario } from "./index.js";

const PACKAGES = fileURLToPath(new URL("../../", import.meta.url));

/** Every `count("name"` literal in the packages' non-test sources. */
function countedNames(): string[] {
  const names = new Set<string>();
  for (const pkg of readdirSync(PACKAGES)) {
    const src = join(PACKAGES, pkg, "src");
    let files: string[];
    try {
      files = readdirSync(src, { recursive: true }) as string[];
    } catch {
      continue;
    }
    for (const f of files) {
      if (!f.endsWith(".ts") || f.endsWith(".test.ts")) continue;
      for (const m of readFileSync(join(src, f), "utf8").matchAll(/\bcount\(\s*"([a-z_0-9]+)"/g)) names.add(m[1]);
    }
  }
  return [...names].sort();
}

describe("metric", () => {
  it("names every counter the model's layers count", () => {
    const counted = countedNames();
    expect(counted.length).toBeGreaterThan(20);
    expect(counted.filter((n) => !(COUNTER_NAMES as readonly string[]).includes(n))).toEqual([]);
  });

  it("reads unevictable_pgs_mlocked and unevictable_pgs_munlocked after mlock and munlock", () => {
    const r = runScenario(
      defineScenario({
        id: "metrics",
        title: "mlock counters",
        description: "a test scenario",
        source: { seeds: [] },
        machine: { cpus: 1 },
        setup: [call("mmap", { pages: 1 }, { as: "buf" }), call("touch", { addr: "$buf", write: true })],
        tasks: [{ name: "a", cpu: 0, script: [call("mlock", { addr: "$buf", pages: 1 }), call("munlock", { addr: "$buf", pages: 1 }), call("lru_add_drain_all")] }],
        check: [
          call("metric", { name: "unevictable_pgs_mlocked" }, { expect: { equals: 1 } }),
          call("metric", { name: "unevictable_pgs_munlocked" }, { expect: { equals: 1 } }),
          call("metric", { name: "shmem_fallback" }, { expect: { equals: 0 } }),
        ],
        promise: { summary: "as written" },
      }),
      "linux-7.0",
      new SeededChooser(1),
    );
    expect({ verdict: r.verdict, failure: r.failure }).toEqual({ verdict: "holds", failure: null });
  });
});
