// Tests of the float64 reference itself: its gradient against central finite differences for every
// option combination, known answers worked by hand from the published formula, the 0/0 convention,
// and consistency between reductions, layouts and equivalent ways of saying the same thing.
import { describe, it, expect } from 'vitest';
import { diceLossReference, type DiceOptions, type DiceTarget } from '../src/reference/dice.ts';
import { mulberry32 } from './helpers.ts';


const randInt = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

function scalar(input: ArrayLike<number>, target: DiceTarget, options: DiceOptions): number {
  const { loss } = diceLossReference(input, target, options);
  if (typeof loss !== 'number') throw new Error('expected a scalar loss');
  return loss;
}

function gradOf(input: ArrayLike<number>, target: DiceTarget, options: DiceOptions): Float64Array {
  const { grad } = diceLossReference(input, target, options);
  if (grad === null) throw new Error('expected a gradient');
  return grad;
}

function entries(input: ArrayLike<number>, target: DiceTarget, options: DiceOptions): Float64Array {
  const { loss, grad } = diceLossReference(input, target, { ...options, reduction: 'none' });
  expect(grad).toBeNull();
  if (!(loss instanceof Float64Array)) throw new Error('expected per-entry losses');
  return loss;
}

/**
 * Literal transcription of the formula, written differently from the reference on purpose (arrays of
 * kept (P, G) pairs per entry, map/reduce): an independent check of the loss value itself, which
 * finite differences cannot see.
 */
function naiveLosses(input: ArrayLike<number>, target: DiceTarget, o: DiceOptions): number[] {
  const [N = 1, C = 1, ...spatial] = o.shape ?? [1, 1, input.length];
  const S = spatial.reduce((x, y) => x * y, 1);
  const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k);
  const x = (n: number, c: number, s: number): number => input[(n * C + c) * S + s]!;
  const prob = (n: number, c: number, s: number): number =>
    o.activation === 'sigmoid' ? 1 / (1 + Math.exp(-x(n, c, s)))
    : o.activation === 'softmax' ? Math.exp(x(n, c, s)) / range(0, C).reduce((z, k) => z + Math.exp(x(n, k, s)), 0)
    : x(n, c, s);
  const truth = (n: number, c: number, s: number): number =>
    o.target === 'indices' ? Number(target[n * S + s] === c) : target[(n * C + c) * S + s]!;
  const kept = (n: number, c: number, s: number): boolean =>
    (o.mask === undefined || o.mask[o.mask.length === N * S ? n * S + s : (n * C + c) * S + s] !== 0) &&
    !(o.target === 'indices' && o.ignoreIndex !== undefined && target[n * S + s] === o.ignoreIndex);
  const c0 = o.includeBackground === false ? 1 : 0;
  const groups = o.batch ? [range(0, N)] : range(0, N).map((n) => [n]);
  const sq = (v: number): number => (o.squared ? v * v : v);
  return groups.flatMap((ns) =>
    range(c0, C).map((c) => {
      const pairs = ns.flatMap((n) => range(0, S).filter((s) => kept(n, c, s)).map((s) => [prob(n, c, s), truth(n, c, s)] as const));
      const I = pairs.reduce((z, [p, g]) => z + p * g, 0);
      const sumP = pairs.reduce((z, [p]) => z + sq(p), 0);
      const sumG = pairs.reduce((z, [, g]) => z + sq(g), 0);
      const nr = o.smoothNr ?? 1e-5;
      const dr = o.smoothDr ?? 1e-5;
      const [num, den] = o.jaccard ? [I + nr, sumP + sumG - I + dr] : [2 * I + nr, sumP + sumG + dr];
      return (o.weight === undefined ? 1 : o.weight[c - c0]!) * (den === 0 ? 0 : 1 - num / den);
    }),
  );
}

type Activation = 'none' | 'sigmoid' | 'softmax';
type TargetKind = 'dense' | 'indices';
type MaskKind = 'none' | 'pixel' | 'element';

interface RandomCase {
  input: Float64Array;
  target: DiceTarget;
  options: DiceOptions;
  /** Whether element i is kept and in a kept class (independent re-derivation, for the exact-zero check). */
  counted: (i: number) => boolean;
}

/** Random shape (N 1..3, C 1..4, 1–3 spatial dims of 1..5) and data for the given options. */
function randomCase(
  rng: () => number,
  activation: Activation,
  targetKind: TargetKind,
  maskKind: MaskKind,
  ignoreIndex: number | undefined,
  weighted: boolean,
  options: DiceOptions,
): RandomCase {
  const N = randInt(rng, 1, 3);
  const C = randInt(rng, 1, 4);
  const spatial = Array.from({ length: randInt(rng, 1, 3) }, () => randInt(rng, 1, 5));
  const S = spatial.reduce((x, y) => x * y, 1);
  const len = N * C * S;
  const input = new Float64Array(len);
  // Probabilities away from 0 and 1 for 'none'; logits in [-4, 4] otherwise.
  for (let i = 0; i < len; i++) input[i] = activation === 'none' ? 0.02 + 0.96 * rng() : 8 * rng() - 4;
  let target: DiceTarget;
  if (targetKind === 'indices') {
    const labels = [Uint8Array, Uint16Array, Int32Array][randInt(rng, 0, 2)]!;
    const t = new labels(N * S);
    for (let j = 0; j < t.length; j++) t[j] = ignoreIndex !== undefined && rng() < 0.2 ? ignoreIndex : randInt(rng, 0, C - 1);
    target = t;
  } else if (rng() < 0.5) {
    target = Float32Array.from({ length: len }, () => rng()); // soft targets
  } else {
    target = Uint8Array.from({ length: len }, () => (rng() < 0.4 ? 1 : 0)); // binary targets
  }
  const mask =
    maskKind === 'none'
      ? undefined
      : Uint8Array.from({ length: maskKind === 'pixel' ? N * S : len }, () => (rng() < 0.7 ? randInt(rng, 1, 255) : 0));
  const c0 = options.includeBackground === false ? 1 : 0;
  const weight = weighted ? Array.from({ length: C - c0 }, () => 0.5 + 1.5 * rng()) : undefined;
  const counted = (i: number): boolean => {
    const s = i % S;
    const c = Math.floor(i / S) % C;
    const n = Math.floor(i / (S * C));
    if (c < c0) return false;
    if (mask !== undefined && (maskKind === 'pixel' ? mask[n * S + s] : mask[i]) === 0) return false;
    return !(ignoreIndex !== undefined && target[n * S + s] === ignoreIndex);
  };
  const full: DiceOptions = {
    ...options,
    shape: [N, C, ...spatial],
    activation,
    target: targetKind,
    ...(ignoreIndex === undefined ? {} : { ignoreIndex }),
    ...(mask === undefined ? {} : { mask }),
    ...(weight === undefined ? {} : { weight }),
  };
  return { input, target, options: full, counted };
}

/**
 * Compares the analytic gradient with central differences in float64 (h = 1e-6·max(1, |x_i|)), at every
 * coordinate (or 200 random ones for big cases), and the loss with the literal formula.
 * Returns a description of each mismatch.
 */
function finiteDifferenceMismatches(c: RandomCase, rng: () => number): string[] {
  const grad = gradOf(c.input, c.target, c.options);
  const loss = scalar(c.input, c.target, c.options);
  let maxAbs = 0;
  for (const v of grad) maxAbs = Math.max(maxAbs, Math.abs(v));
  // 1e-6 relative to the gradient's size, plus a floor for the rounding of the loss itself (eps·|L|/h).
  const tol = 1e-6 * maxAbs + 1e-9 * Math.max(1, Math.abs(loss));
  const x = Float64Array.from(c.input);
  const coords = x.length <= 200 ? x.map((_, i) => i) : Float64Array.from({ length: 200 }, () => randInt(rng, 0, x.length - 1));
  const bad: string[] = [];
  const literal = naiveLosses(c.input, c.target, c.options);
  const total = literal.reduce((u, v) => u + v, 0);
  const expected = c.options.reduction === 'sum' ? total : total / Math.max(1, literal.length);
  if (!(Math.abs(loss - expected) <= 1e-12 * Math.max(1, Math.abs(expected)))) bad.push(`loss ${loss} vs literal formula ${expected}`);
  for (const i of coords) {
    const x0 = x[i]!;
    const h = 1e-6 * Math.max(1, Math.abs(x0));
    x[i] = x0 + h;
    const up = x[i]!;
    const lp = scalar(x, c.target, c.options);
    x[i] = x0 - h;
    const down = x[i]!;
    const lm = scalar(x, c.target, c.options);
    x[i] = x0;
    const fd = (lp - lm) / (up - down);
    if (!(Math.abs(fd - grad[i]!) <= tol)) bad.push(`i=${i}: analytic ${grad[i]} vs fd ${fd} (tol ${tol})`);
    // No activation mixing channels: non-kept elements and dropped channels get exactly zero gradient.
    if (c.options.activation !== 'softmax' && !c.counted(i) && grad[i] !== 0) bad.push(`i=${i}: not counted but grad ${grad[i]}`);
  }
  return bad;
}

describe('gradient against central finite differences', () => {
  const activations: Activation[] = ['none', 'sigmoid', 'softmax'];
  const targetKinds: TargetKind[] = ['dense', 'indices'];
  const reductions = ['mean', 'sum'] as const;
  const maskKinds: MaskKind[] = ['none', 'pixel', 'element'];
  const smoothings: DiceOptions[] = [{}, { smoothNr: 0, smoothDr: 0 }, { smoothNr: 0.5, smoothDr: 1 }];
  const combos = activations.flatMap((a) => targetKinds.flatMap((t) => reductions.map((r) => [a, t, r] as const)));

  it.each(combos)('activation %s, target %s, reduction %s: every other option combination', (activation, targetKind, reduction) => {
    const rng = mulberry32(0x5eed + combos.findIndex(([a, t, r]) => a === activation && t === targetKind && r === reduction));
    const failures: string[] = [];
    let cases = 0;
    for (const squared of [false, true])
      for (const jaccard of [false, true])
        for (const batch of [false, true])
          for (const includeBackground of [true, false])
            for (const maskKind of maskKinds)
              for (const ignoreIndex of targetKind === 'indices' ? [undefined, 255] : [undefined])
                for (const weighted of [false, true])
                  for (const smoothing of smoothings) {
                    const options: DiceOptions = { squared, jaccard, batch, includeBackground, reduction, ...smoothing };
                    const c = randomCase(rng, activation, targetKind, maskKind, ignoreIndex, weighted, options);
                    const bad = finiteDifferenceMismatches(c, rng);
                    cases++;
                    if (bad.length > 0) {
                      const { mask: _m, weight: _w, ...shown } = c.options;
                      failures.push(`${JSON.stringify({ ...shown, maskKind, weighted })}\n  ${bad.slice(0, 3).join('\n  ')}`);
                    }
                  }
    expect(cases).toBe(targetKind === 'indices' ? 576 : 288);
    expect(failures.slice(0, 5)).toEqual([]);
  }, 60_000);
});

describe('known answers from the published formula', () => {
  it('p = g exactly binary gives loss 0 with smoothing (dice, jaccard, squared)', () => {
    const g = new Float32Array([1, 0, 1, 1, 0, 0, 1, 0]);
    const p = Float64Array.from(g);
    for (const opts of [{}, { jaccard: true }, { squared: true }, { squared: true, jaccard: true }]) {
      expect(scalar(p, g, opts)).toBeCloseTo(0, 12);
    }
  });

  it('disjoint p and g give loss ≈ 1', () => {
    // I = 0, ΣP = 2, ΣG = 2: L = 1 − (0 + 1e-5)/(4 + 1e-5).
    const p = [1, 0, 1, 0];
    const g = new Uint8Array([0, 1, 0, 1]);
    expect(scalar(p, g, {})).toBeCloseTo(1 - 1e-5 / (4 + 1e-5), 14);
    expect(scalar(p, g, {})).toBeCloseTo(1, 5);
    // Jaccard: 1 − (0 + 1e-5)/(2 + 2 − 0 + 1e-5), the same number.
    expect(scalar(p, g, { jaccard: true })).toBeCloseTo(1 - 1e-5 / (4 + 1e-5), 14);
  });

  it('4-element hand example: loss and gradient', () => {
    // P = [0.9, 0.2, 0.6, 0.1], G = [1, 0, 1, 0]:
    // I = 0.9 + 0.6 = 1.5, ΣP = 1.8, ΣG = 2, ΣP² = 0.81 + 0.04 + 0.36 + 0.01 = 1.22, ΣG² = 2.
    // Dice, no smoothing: L = 1 − 3/3.8 = 0.8/3.8 = 4/19;
    //   dL/dP_i = −2G_i/3.8 + 3/3.8² → G = 1: (−7.6 + 3)/14.44 = −115/361, G = 0: 3/14.44 = 75/361.
    // Jaccard: L = 1 − 1.5/(1.8 + 2 − 1.5) = 1 − 1.5/2.3 = 8/23;
    //   dL/dP_i = −G_i/2.3 − 1.5·G_i/2.3² + 1.5/2.3² → G = 1: −1/2.3 = −10/23, G = 0: 1.5/5.29 = 150/529.
    // Squared: L = 1 − 3/(1.22 + 2) = 0.22/3.22 = 11/161;
    //   dL/dP_i = −2G_i/3.22 + 3·2P_i/3.22² → [(−6.44 + 5.4), 1.2, (−6.44 + 3.6), 0.6]/10.3684
    //   = [−2600, 3000, −7100, 1500]/25921.
    // Default smoothing (1e-5 both): L = 1 − (3 + 1e-5)/(3.8 + 1e-5).
    const p = new Float64Array([0.9, 0.2, 0.6, 0.1]);
    const g = new Float32Array([1, 0, 1, 0]);
    const none = { smoothNr: 0, smoothDr: 0 };
    expect(scalar(p, g, none)).toBeCloseTo(4 / 19, 14);
    expectClose(gradOf(p, g, none), [-115 / 361, 75 / 361, -115 / 361, 75 / 361]);
    expect(scalar(p, g, { ...none, jaccard: true })).toBeCloseTo(8 / 23, 14);
    expectClose(gradOf(p, g, { ...none, jaccard: true }), [-10 / 23, 150 / 529, -10 / 23, 150 / 529]);
    expect(scalar(p, g, { ...none, squared: true })).toBeCloseTo(11 / 161, 14);
    expectClose(gradOf(p, g, { ...none, squared: true }), [-2600 / 25921, 3000 / 25921, -7100 / 25921, 1500 / 25921]);
    expect(scalar(p, g, {})).toBeCloseTo(1 - (3 + 1e-5) / (3.8 + 1e-5), 14);
  });

  it('soft targets: squared uses ΣG²', () => {
    // P = [0.5, 0.25], G = [0.5, 1], no smoothing: I = 0.25 + 0.25 = 0.5.
    // Plain: ΣP = 0.75, ΣG = 1.5 → L = 1 − 1/2.25 = 5/9.
    // Squared: ΣP² = 0.25 + 0.0625 = 0.3125, ΣG² = 0.25 + 1 = 1.25 → L = 1 − 1/1.5625 = 0.36.
    const p = [0.5, 0.25];
    const g = new Float32Array([0.5, 1]);
    expect(scalar(p, g, { smoothNr: 0, smoothDr: 0 })).toBeCloseTo(5 / 9, 14);
    expect(scalar(p, g, { smoothNr: 0, smoothDr: 0, squared: true })).toBeCloseTo(0.36, 14);
  });

  it('sigmoid: x = 0, g = 1 (hand-worked chain rule)', () => {
    // P = 0.5, L = 1 − 2·0.5/(0.5 + 1) = 1/3; dL/dP = −2/1.5 + 1/1.5² = −8/9; dP/dx = 0.25 → dL/dx = −2/9.
    const r = diceLossReference([0], new Uint8Array([1]), { activation: 'sigmoid', smoothNr: 0, smoothDr: 0 });
    expect(r.loss).toBeCloseTo(1 / 3, 14);
    expectClose(r.grad!, [-2 / 9]);
  });

  it('softmax without background: channel 0 still gets gradient through the normalisation', () => {
    // Logits [0, 0] over C = 2 at one pixel, label 1, channel 0 dropped: P = [0.5, 0.5], L = 1/3 as above,
    // dL/dP = [0, −8/9], Σ_c P_c·dL/dP_c = −4/9 → dL/dx = [0.5·(0 + 4/9), 0.5·(−8/9 + 4/9)] = [2/9, −2/9].
    const r = diceLossReference([0, 0], new Uint8Array([1]), {
      shape: [1, 2, 1],
      activation: 'softmax',
      target: 'indices',
      includeBackground: false,
      smoothNr: 0,
      smoothDr: 0,
    });
    expect(r.loss).toBeCloseTo(1 / 3, 14);
    expectClose(r.grad!, [2 / 9, -2 / 9]);
  });

  it('softmax is shift-invariant and does not overflow on large logits', () => {
    const g = new Uint8Array([2, 0, 1]);
    const x = [0.3, -1, 2, 1.5, 0.1, -0.7, -2, 0.4, 0.9];
    const shifted = x.map((v) => v + 1000);
    const opts: DiceOptions = { shape: [1, 3, 3], activation: 'softmax', target: 'indices' };
    expect(scalar(shifted, g, opts)).toBeCloseTo(scalar(x, g, opts), 12);
    expectClose(gradOf(shifted, g, opts), gradOf(x, g, opts));
  });
});

describe('0/0 convention', () => {
  it('all p and g zero with no smoothing: loss 0 and zero gradient, not NaN', () => {
    const p = new Float64Array(5);
    const g = new Float32Array(5);
    for (const opts of [{}, { jaccard: true }, { squared: true }] as DiceOptions[]) {
      const r = diceLossReference(p, g, { ...opts, smoothNr: 0, smoothDr: 0 });
      expect(r.loss).toBe(0);
      expect(Array.from(r.grad!)).toEqual([0, 0, 0, 0, 0]);
    }
  });

  it('nothing kept: loss 0 with smoothDr = 0 (even if smoothNr > 0) and with default smoothing', () => {
    const p = [0.3, 0.8, 0.1];
    const g = new Uint8Array([1, 1, 0]);
    const mask = new Uint8Array(3);
    for (const opts of [{ smoothNr: 0, smoothDr: 0 }, { smoothNr: 1e-5, smoothDr: 0 }, {}] as DiceOptions[]) {
      const r = diceLossReference(p, g, { ...opts, mask });
      expect(r.loss).toBe(0);
      expect(Array.from(r.grad!)).toEqual([0, 0, 0]);
    }
  });

  it("a 0/0 entry is 0 in 'none' and still counts in the 'mean' denominator", () => {
    // Two samples, one class, S = 2. Sample 0 all zero → 0/0 → 0. Sample 1: P = [0.5, 0.5], G = [1, 0]:
    // L = 1 − 2·0.5/(1 + 1) = 0.5. Mean over the 2 entries = 0.25.
    const p = [0, 0, 0.5, 0.5];
    const g = new Uint8Array([0, 0, 1, 0]);
    const opts: DiceOptions = { shape: [2, 1, 2], smoothNr: 0, smoothDr: 0 };
    expect(Array.from(entries(p, g, opts))).toEqual([0, 0.5]);
    expect(scalar(p, g, opts)).toBe(0.25);
    const grad = gradOf(p, g, opts);
    expect([grad[0], grad[1]]).toEqual([0, 0]);
  });
});

describe('reductions, layout and equivalences', () => {
  const rng = mulberry32(20240611);

  it("'none' entries average to 'mean' and add up to 'sum' (shape [N, C_kept], or [C_kept] with batch)", () => {
    for (let k = 0; k < 200; k++) {
      const batch = k % 2 === 1;
      const includeBackground = k % 4 < 2;
      const c = randomCase(rng, (['none', 'sigmoid', 'softmax'] as const)[k % 3]!, k % 5 < 2 ? 'indices' : 'dense',
        (['none', 'pixel', 'element'] as const)[k % 7 % 3]!, k % 5 === 0 ? 255 : undefined, k % 3 === 0,
        { batch, includeBackground, jaccard: k % 6 < 3, squared: k % 10 < 5 });
      const [N, C] = c.options.shape as number[];
      const kept = C! - (includeBackground ? 0 : 1);
      const e = entries(c.input, c.target, c.options);
      expect(e.length).toBe(batch ? kept : N! * kept);
      expectClose(e, naiveLosses(c.input, c.target, c.options));
      const total = e.reduce((x, y) => x + y, 0);
      expect(scalar(c.input, c.target, { ...c.options, reduction: 'sum' })).toBeCloseTo(total, 12);
      expect(scalar(c.input, c.target, { ...c.options, reduction: 'mean' })).toBeCloseTo(e.length > 0 ? total / e.length : 0, 12);
    }
  });

  it("'none' is sample-major: entry (n, c) equals the loss of sample n alone", () => {
    const [N, C, S] = [3, 4, 6];
    const x = Float64Array.from({ length: N * C * S }, () => 4 * rng() - 2);
    const t = Uint8Array.from({ length: N * S }, () => randInt(rng, 0, C - 1));
    const opts: DiceOptions = { shape: [N, C, S], activation: 'softmax', target: 'indices', includeBackground: false };
    const all = entries(x, t, opts);
    for (let n = 0; n < N; n++) {
      const one = entries(x.subarray(n * C * S, (n + 1) * C * S), t.subarray(n * S, (n + 1) * S), { ...opts, shape: [1, C, S] });
      expectClose(all.subarray(n * (C - 1), (n + 1) * (C - 1)), one);
    }
  });

  it('batch: true equals one sample holding all N·S pixels', () => {
    const [N, C, S] = [3, 2, 5];
    const p = Float64Array.from({ length: N * C * S }, () => rng());
    const g = Float32Array.from({ length: N * C * S }, () => rng());
    // Rearrange [N, C, S] to [1, C, N·S]: element (n, c, s) goes to c·N·S + n·S + s.
    const move = (i: number): number => (Math.floor(i / S) % C) * N * S + Math.floor(i / (C * S)) * S + (i % S);
    const p2 = new Float64Array(p.length);
    const g2 = new Float32Array(g.length);
    for (let i = 0; i < p.length; i++) [p2[move(i)], g2[move(i)]] = [p[i]!, g[i]!];
    const opts: DiceOptions = { squared: true, weight: [0.7, 1.9] };
    expectClose(entries(p, g, { ...opts, shape: [N, C, S], batch: true }), entries(p2, g2, { ...opts, shape: [1, C, N * S] }));
    const grad = gradOf(p, g, { ...opts, shape: [N, C, S], batch: true, reduction: 'sum' });
    const grad2 = gradOf(p2, g2, { ...opts, shape: [1, C, N * S], reduction: 'sum' });
    expectClose(Float64Array.from(grad, (_, i) => grad2[move(i)]!), grad);
  });

  it('indices targets equal their one-hot dense targets; ignoreIndex equals a pixel mask', () => {
    for (const activation of ['none', 'sigmoid', 'softmax'] as const) {
      const [N, C, S] = [2, 3, 7];
      const x = Float64Array.from({ length: N * C * S }, () => (activation === 'none' ? rng() : 6 * rng() - 3));
      const t = Int32Array.from({ length: N * S }, () => (rng() < 0.25 ? -1 : randInt(rng, 0, C - 1)));
      const oneHot = Float32Array.from({ length: N * C * S }, (_, i) => (t[Math.floor(i / (C * S)) * S + (i % S)] === Math.floor(i / S) % C ? 1 : 0));
      const mask = Uint8Array.from(t, (v) => (v === -1 ? 0 : 1));
      const base: DiceOptions = { shape: [N, C, S], activation, jaccard: true };
      const a = diceLossReference(x, t, { ...base, target: 'indices', ignoreIndex: -1 });
      const b = diceLossReference(x, oneHot, { ...base, mask });
      expect(a.loss).toBeCloseTo(b.loss as number, 14);
      expectClose(a.grad!, b.grad!);
    }
  });

  it('a pixel mask equals the element mask repeated over channels', () => {
    const [N, C, S] = [2, 3, 4];
    const p = Float64Array.from({ length: N * C * S }, () => rng());
    const g = Uint8Array.from({ length: N * C * S }, () => (rng() < 0.5 ? 1 : 0));
    const pixel = Uint8Array.from({ length: N * S }, () => (rng() < 0.6 ? 1 : 0));
    const element = Uint8Array.from({ length: N * C * S }, (_, i) => pixel[Math.floor(i / (C * S)) * S + (i % S)]!);
    const a = diceLossReference(p, g, { shape: [N, C, S], mask: pixel });
    const b = diceLossReference(p, g, { shape: [N, C, S], mask: element });
    expect(a.loss).toBe(b.loss);
    expect(Array.from(a.grad!)).toEqual(Array.from(b.grad!));
  });

  it('weights multiply entries; includeBackground: false drops the first column', () => {
    const [N, C, S] = [2, 3, 5];
    const p = Float64Array.from({ length: N * C * S }, () => rng());
    const g = Float32Array.from({ length: N * C * S }, () => rng());
    const shape = [N, C, S];
    const plain = entries(p, g, { shape });
    const weighted = entries(p, g, { shape, weight: [2, 0.5, 3] });
    expectClose(weighted, Float64Array.from(plain, (v, e) => v * [2, 0.5, 3][e % C]!));
    const noBg = entries(p, g, { shape, includeBackground: false, weight: [0.5, 3] });
    expectClose(noBg, Float64Array.from([1, 2, 4, 5], (e) => plain[e]! * [0.5, 3][(e % C) - 1]!));
  });

  it('defaults: shape [1, 1, length], dice, mean, smoothing 1e-5; input types agree', () => {
    const p32 = new Float32Array([0.25, 0.5, 0.75, 1]);
    const g = new Uint8Array([0, 1, 1, 1]);
    // I = 0.5 + 0.75 + 1 = 2.25, ΣP = 2.5, ΣG = 3: L = 1 − (4.5 + 1e-5)/(5.5 + 1e-5).
    const explicit: DiceOptions = { shape: [1, 1, 4], activation: 'none', target: 'dense', squared: false, jaccard: false,
      smoothNr: 1e-5, smoothDr: 1e-5, batch: false, includeBackground: true, reduction: 'mean' };
    expect(scalar(p32, g, {})).toBeCloseTo(1 - (4.5 + 1e-5) / (5.5 + 1e-5), 15);
    expect(diceLossReference(p32, g)).toEqual(diceLossReference(p32, g, explicit));
    expect(diceLossReference(Float64Array.from(p32), g)).toEqual(diceLossReference(p32, g));
    expect(diceLossReference(Array.from(p32), Array.from(g))).toEqual(diceLossReference(p32, g));
  });
});

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)))) {
      expect.fail(`index ${i}: ${actual[i]} vs expected ${expected[i]}`);
    }
  }
}
