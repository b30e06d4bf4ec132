/**
 * Choosers shipped with the machine: a seeded uniform chooser, a timed chooser
 * (earliest virtual start first, with seeded jitter), and a scripted one that
 * replays recorded decisions. The explorer adds PCT and DPOR on the same interface.
 */

import type { Candidate, Chooser } from "./machine.js";

/** xoshiro128** seeded through splitmix32: small, fast, deterministic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }
  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class SeededChooser implements Chooser {
  private readonly rng: Rng;
  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }
  choose(candidates: readonly Candidate[]): number {
    return this.rng.int(candidates.length);
  }
}

/** Earliest virtual start time first; `jitterNs` of seeded noise breaks ties and models timing spread. */
export class TimedChooser implements Chooser {
  private readonly rng: Rng;
  constructor(
    readonly seed: number,
    readonly jitterNs = 200,
  ) {
    this.rng = new Rng(seed);
  }
  choose(candidates: readonly Candidate[]): number {
    let best = 0;
    let bestKey = Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const key = candidates[i].time + this.rng.next() * this.jitterNs;
      if (key < bestKey) {
        bestKey = key;
        best = i;
      }
    }
    return best;
  }
}

/** Replays recorded decisions; past their end it picks the first candidate. */
export class ScriptedChooser implements Chooser {
  private i = 0;
  constructor(readonly decisions: readonly number[]) {}
  choose(candidates: readonly Candidate[]): number {
    const d = this.decisions[this.i++] ?? 0;
    if (d >= candidates.length) throw new RangeError(`scripted decision ${this.i - 1} (${d}) out of range: ${candidates.length} candidates`);
    return d;
  }
}

/** Always the first candidate: on one CPU, the current task keeps running. */
export const firstChooser: Chooser = { choose: () => 0 };
