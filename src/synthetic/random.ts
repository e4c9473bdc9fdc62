// The one seeded pseudo-random generator of the project (mulberry32): synthetic images and cohorts,
// and the tests' mutations, are reproducible from a seed. Not for anything security-related.

/** Uniform draws in [0, 1) from a 32-bit seed; the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed mixed from several integers (murmur3's finaliser), so that e.g. (cohort seed, patient index) pairs give unrelated streams. */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Seeded draws from the distributions the synthetic cohort uses. */
export interface Draws {
  uniform(lo?: number, hi?: number): number;
  /** Standard normal (Box–Muller). */
  normal(mean?: number, sd?: number): number;
  bernoulli(p: number): boolean;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** One of the options, with the given weights (need not sum to 1). */
  pick<T>(options: readonly (readonly [T, number])[]): T;
}

export function draws(random: () => number): Draws {
  return {
    uniform: (lo = 0, hi = 1) => lo + (hi - lo) * random(),
    normal: (mean = 0, sd = 1) => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()),
    bernoulli: (p) => random() < p,
    exponential: (mean) => -mean * Math.log(1 - random()),
    pick: (options) => {
      const total = options.reduce((sum, [, weight]) => sum + weight, 0);
      let u = random() * total;
      for (const [value, weight] of options) {
        u -= weight;
        if (u < 0) return value;
      }
      return options[options.length - 1]![0];
    },
  };
}
