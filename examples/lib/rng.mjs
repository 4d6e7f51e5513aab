// Seeded random numbers for the examples: the same seed gives the same data
// set, the same initial weights and the same batch order in Node and browsers.

/**
 * mulberry32: a tiny 32-bit PRNG, uniform in [0, 1).
 * @param {number} seed any integer
 * @returns {() => number}
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal sampler (Box–Muller: z = √(−2 ln u₁)·cos(2π u₂)) driven by `rng`.
 * @param {() => number} rng uniform in [0, 1)
 * @returns {() => number}
 */
export function normal(rng) {
  return () => {
    const u1 = 1 - rng(); // in (0, 1]: ln never sees 0
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
  };
}

/**
 * A uniform integer in [lo, hi] (both included).
 * @param {() => number} rng
 * @param {number} lo
 * @param {number} hi
 */
export function randInt(rng, lo, hi) {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/**
 * A uniform number in [lo, hi).
 * @param {() => number} rng
 * @param {number} lo
 * @param {number} hi
 */
export function uniform(rng, lo, hi) {
  return lo + (hi - lo) * rng();
}
