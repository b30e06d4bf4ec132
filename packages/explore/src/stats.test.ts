// Metric summaries keep counts per value, not every value: the same min/median/max as
// summarising the values themselves, in memory bounded by the distinct values.
import { describe, expect, it } from "vitest";
import { MetricCollector, summarise } from "./stats.js";

describe("MetricCollector", () => {
  it("summarises exactly as summarise over every value, for odd and even counts and repeats", () => {
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 17;
    for (const n of [1, 2, 3, 10, 11, 1000, 1001]) {
      const c = new MetricCollector();
      const steps: number[] = [];
      const ns: number[] = [];
      for (let i = 0; i < n; i++) {
        const a = next();
        const b = next() * 250 - 1000;
        steps.push(a);
        ns.push(b);
        c.add({ steps: a, virtual_ns: b });
      }
      expect(c.summary()).toEqual({ steps: summarise(steps), virtual_ns: summarise(ns) });
    }
  });

  it("leaves out non-finite values and keeps names sorted", () => {
    const c = new MetricCollector();
    c.add({ z: 1, a: Number.NaN });
    c.addValue("a", Infinity);
    c.addValue("m", 4);
    c.addValue("m", 2);
    expect(Object.keys(c.summary())).toEqual(["m", "z"]);
    expect(c.summary().m).toEqual({ count: 2, min: 2, median: 3, max: 4 });
  });
});
