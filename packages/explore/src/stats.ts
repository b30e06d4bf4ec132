/**
 * Small statistics for exploration reports: the Wilson score interval for a failure
 * rate, and min/median/max summaries of per-execution metrics.
 */

export interface RateEstimate {
  failures: number;
  executions: number;
  /** failures / executions. */
  estimate: number;
  /** Wilson score interval at `confidence`. */
  low: number;
  high: number;
  confidence: number;
}

/** Wilson score interval (z = 1.96 for 95%): well behaved at 0 failures and small n. */
export function wilsonInterval(failures: number, executions: number, z = 1.959963984540054): RateEstimate {
  if (executions === 0) return { failures, executions, estimate: 0, low: 0, high: 1, confidence: 0.95 };
  const p = failures / executions;
  const z2 = z * z;
  const denominator = 1 + z2 / executions;
  const centre = (p + z2 / (2 * executions)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / executions + z2 / (4 * executions * executions))) / denominator;
  return { failures, executions, estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), confidence: 0.95 };
}

export interface Distribution {
  count: number;
  min: number;
  median: number;
  max: number;
}

/**
 * Collects values per metric name, then summarises them. Each metric keeps how many
 * executions gave each value, not the values themselves: memory grows with the distinct
 * values (a handful for most metrics), not with the executions, and the summary is the
 * same as `summarise` over every value.
 */
export class MetricCollector {
  private readonly counts = new Map<string, Map<number, number>>();

  add(metrics: Record<string, number>): void {
    for (const name in metrics) this.addValue(name, metrics[name]);
  }

  /** One metric of one execution (non-finite values are left out). */
  addValue(name: string, value: number): void {
    if (typeof value !== "number" || !Number.isFinite(value)) return;
    let counts = this.counts.get(name);
    if (counts === undefined) this.counts.set(name, (counts = new Map()));
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }

  /** Summaries, keys sorted so the report is stable. */
  summary(): Record<string, Distribution> {
    const out: Record<string, Distribution> = {};
    for (const name of [...this.counts.keys()].sort()) out[name] = summariseCounts(this.counts.get(name)!);
    return out;
  }
}

/** `summarise` of the values that `counts` counts (value → how many times). */
function summariseCounts(counts: ReadonlyMap<number, number>): Distribution {
  const values = [...counts.keys()].sort((a, b) => a - b);
  let n = 0;
  for (const c of counts.values()) n += c;
  if (n === 0) return { count: 0, min: 0, median: 0, max: 0 };
  /** The `i`-th smallest value (0-based). */
  const nth = (i: number): number => {
    let seen = 0;
    for (const v of values) {
      seen += counts.get(v)!;
      if (i < seen) return v;
    }
    return values[values.length - 1];
  };
  const median = n % 2 === 1 ? nth((n - 1) / 2) : (nth(n / 2 - 1) + nth(n / 2)) / 2;
  return { count: n, min: values[0], median, max: values[values.length - 1] };
}

export function summarise(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { count: 0, min: 0, median: 0, max: 0 };
  const median = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { count: n, min: sorted[0], median, max: sorted[n - 1] };
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
