// diceBceLoss (fused Dice + BCE on sigmoid logits): value and gradient against
// lambdaDice·diceLoss + lambdaBce·bceLoss computed by the separate Wasm calls and
// by the float64 references, over random shapes and every supported option,
// tails, multi-chunk JS-heap input, zero-copy == JS-heap bits, SIMD == scalar
// bits, and bad inputs (which must throw before `grad` is written).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  init, simdSupported, alloc, diceLoss, bceLoss, diceBceLoss, diceLossReference, bceLossReference,
  type DiceBceOptions,
} from '../src/index.ts';

import { mulberry32, randInt, pick } from './helpers.ts';
const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length).slice();
const f64Bits = (v: number): bigint => new BigUint64Array(new Float64Array([v]).buffer)[0]!;

/** One random problem and the options of the fused call. */
interface Case {
  x: Float32Array;
  g: Float32Array | Uint8Array;
  mask: Uint8Array | undefined;
  options: Omit<DiceBceOptions, 'shape'> & { shape: number[] };
}

function makeCase(seed: number, S?: number, fixed: Omit<DiceBceOptions, 'shape'> = {}): Case {
  const rng = mulberry32(seed);
  const includeBackground = fixed.includeBackground ?? rng() < 0.7;
  const N = randInt(rng, 1, 3);
  const C = randInt(rng, includeBackground ? 1 : 2, 4);
  const spatial = S ?? randInt(rng, 1, 40);
  const n = N * C * spatial;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng() < 0.05 ? 0 : (rng() * 2 - 1) * pick(rng, [1, 4, 12]);
  const u8 = rng() < 0.5;
  const g = u8 ? new Uint8Array(n) : new Float32Array(n);
  const soft = !u8 && rng() < 0.5;
  for (let i = 0; i < n; i++) g[i] = soft ? pick(rng, [0, 1, rng()]) : (rng() < 0.3 ? 1 : 0);
  const maskKind = pick(rng, ['none', 'pixel', 'element'] as const);
  let mask: Uint8Array | undefined;
  if (maskKind !== 'none') {
    mask = new Uint8Array(maskKind === 'pixel' ? N * spatial : n);
    for (let i = 0; i < mask.length; i++) mask[i] = rng() < 0.8 ? 1 : 0;
  }
  const kept = C - (includeBackground ? 0 : 1);
  const options: Case['options'] = {
    shape: [N, C, spatial], activation: 'sigmoid', includeBackground,
    squared: rng() < 0.3, jaccard: rng() < 0.3, transform: pick(rng, ['none', 'none', 'log', 'logcosh'] as const),
    smoothNr: pick(rng, [1e-5, 0, 0.5]), smoothDr: pick(rng, [1e-5, 1, 0.5]), batch: rng() < 0.3,
    weight: rng() < 0.3 ? Array.from({ length: kept }, () => rng() * 2) : undefined,
    lambdaDice: pick(rng, [1, 0, 0.3, 2.5]), lambdaBce: pick(rng, [1, 0, 0.7, 4]),
    balance: pick(rng, ['none', 'hed'] as const), posWeight: pick(rng, [1, 1, 3.5, 0]),
    reduction: pick(rng, ['mean', 'sum'] as const),
    ...fixed,
  };
  if (mask) options.mask = mask;
  return { x, g, mask, options };
}

/** The Dice and BCE options of a case (what diceLoss and bceLoss take). */
function splitOptions(c: Case) {
  const o = c.options;
  const dice = {
    shape: o.shape, activation: 'sigmoid' as const, mask: c.mask, includeBackground: o.includeBackground,
    squared: o.squared, jaccard: o.jaccard, transform: o.transform, smoothNr: o.smoothNr, smoothDr: o.smoothDr,
    batch: o.batch, weight: o.weight, reduction: o.reduction,
  };
  const bce = { shape: o.shape, activation: 'sigmoid' as const, mask: c.mask, balance: o.balance, posWeight: o.posWeight, reduction: o.reduction };
  return { dice, bce, lambdaDice: o.lambdaDice ?? 1, lambdaBce: o.lambdaBce ?? 1 };
}

/** lambdaDice·Dice + lambdaBce·BCE from the two separate Wasm calls. */
function separateWasm(c: Case): { loss: number; grad: Float64Array } {
  const s = splitOptions(c);
  const gd = new Float32Array(c.x.length), gb = new Float32Array(c.x.length);
  const d = diceLoss(c.x, c.g, { ...s.dice, grad: gd });
  const b = bceLoss(c.x, c.g, { ...s.bce, grad: gb });
  return { loss: s.lambdaDice * d + s.lambdaBce * b, grad: Float64Array.from(gd, (v, i) => s.lambdaDice * v + s.lambdaBce * gb[i]!) };
}

/** The same from the float64 references. */
function separateReference(c: Case): { loss: number; grad: Float64Array } {
  const s = splitOptions(c);
  const d = diceLossReference(c.x, c.g, s.dice);
  const b = bceLossReference(c.x, c.g, s.bce);
  if (typeof d.loss !== 'number' || typeof b.loss !== 'number' || !d.grad || !b.grad) throw new Error('expected scalar losses with gradients');
  const dg = d.grad, bg = b.grad;
  return { loss: s.lambdaDice * d.loss + s.lambdaBce * b.loss, grad: Float64Array.from(dg, (v, i) => s.lambdaDice * v + s.lambdaBce * bg[i]!) };
}

function fused(c: Case): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(c.x.length);
  const loss = diceBceLoss(c.x, c.g, { ...c.options, grad });
  return { loss, grad };
}

/** Loss within 1e-6 (relative, plus 1e-7 absolute); gradient within 1e-5 × max|expected|. */
function expectClose(actual: { loss: number; grad: Float32Array }, expected: { loss: number; grad: Float64Array }, what: string): void {
  expect(Number.isFinite(actual.loss), what).toBe(true);
  expect(Math.abs(actual.loss - expected.loss), `${what}: loss ${actual.loss} vs ${expected.loss}`)
    .toBeLessThanOrEqual(1e-6 * Math.abs(expected.loss) + 1e-7);
  const tol = 1e-5 * maxAbs(expected.grad) + 1e-30;
  let worst = 0, nonFinite = 0;
  for (let i = 0; i < actual.grad.length; i++) {
    if (!Number.isFinite(actual.grad[i]!)) nonFinite++;
    worst = Math.max(worst, Math.abs(actual.grad[i]! - expected.grad[i]!));
  }
  expect(nonFinite, what).toBe(0);
  expect(worst, `${what}: gradient error (tolerance ${tol})`).toBeLessThanOrEqual(tol);
}

const describeOptions = (c: Case): string => JSON.stringify({ ...c.options, mask: c.mask ? c.mask.length : undefined, target: c.g.constructor.name });

describe('diceBceLoss against separate Dice and BCE', () => {
  beforeAll(() => init());

  it('equals lambdaDice·diceLoss + lambdaBce·bceLoss (Wasm and float64 references) over random cases', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = makeCase(seed);
      const what = `seed ${seed} ${describeOptions(c)}`;
      const out = fused(c);
      expectClose(out, separateWasm(c), `${what} (Wasm)`);
      expectClose(out, separateReference(c), `${what} (reference)`);
    }
  });

  it('covers both balances, weights, reductions and lambdas explicitly', () => {
    let seed = 1000;
    for (const balance of ['none', 'hed'] as const) {
      for (const reduction of ['mean', 'sum'] as const) {
        for (const [lambdaDice, lambdaBce] of [[1, 1], [0, 1], [1, 0], [0.25, 3]] as const) {
          for (const posWeight of [1, 2.5]) {
            const c = makeCase(seed++, undefined, { balance, reduction, lambdaDice, lambdaBce, posWeight });
            const out = fused(c);
            expectClose(out, separateReference(c), describeOptions(c));
          }
        }
      }
    }
  });

  it('handles row tails: spatial lengths 1..17', () => {
    for (let S = 1; S <= 17; S++) {
      for (let k = 0; k < 4; k++) {
        const c = makeCase(2000 + S * 10 + k, S);
        expectClose(fused(c), separateReference(c), `S = ${S} ${describeOptions(c)}`);
      }
    }
  });

  it('uses the library defaults (sigmoid, mean, lambdas 1, no balance)', () => {
    const c = makeCase(77, 23, { reduction: undefined, lambdaDice: undefined, lambdaBce: undefined, balance: undefined, posWeight: undefined });
    const grad = new Float32Array(c.x.length);
    const { activation: _a, ...rest } = c.options;
    const loss = diceBceLoss(c.x, c.g, { ...rest, grad });
    expectClose({ loss, grad }, separateReference(c), 'defaults');
  });

  it('gives 0 BCE (and no BCE gradient) when every element is masked out', () => {
    const c = makeCase(5, 9, { lambdaDice: 0, lambdaBce: 1, reduction: 'mean' });
    const mask = new Uint8Array(c.options.shape[0]! * 9);
    const grad = new Float32Array(c.x.length).fill(3);
    expect(diceBceLoss(c.x, c.g, { ...c.options, mask, grad })).toBe(0);
    expect(maxAbs(grad)).toBe(0);
  });
});

describe('diceBceLoss: chunked, zero-copy and SIMD/scalar paths', () => {
  beforeAll(() => init());
  afterAll(() => init({ simd: simdSupported() }));

  it('streams a multi-chunk JS-heap input (> 32768 elements per sample) and matches zero-copy bits', () => {
    for (const [seed, shape] of [[11, [2, 1, 40000]], [12, [1, 3, 20011]]] as const) {
      const [N, C, S] = shape;
      const c = makeCase(seed, S);
      // makeCase picks N and C at random: rebuild the arrays for this shape.
      const rng = mulberry32(seed * 7);
      const n = N * C * S;
      const x = Float32Array.from({ length: n }, () => (rng() * 2 - 1) * 8);
      const g = Float32Array.from({ length: n }, () => (rng() < 0.2 ? 1 : rng() < 0.5 ? rng() : 0));
      const mask = Uint8Array.from({ length: N * S }, () => (rng() < 0.9 ? 1 : 0));
      const weight = c.options.weight ? Array.from({ length: C - (c.options.includeBackground ? 0 : 1) }, () => 1.5) : undefined;
      const big: Case = { x, g, mask, options: { ...c.options, includeBackground: C > 1 ? c.options.includeBackground : true, shape: [N, C, S], mask, weight } };
      const heapOut = fused(big);
      expectClose(heapOut, separateReference(big), `chunked ${describeOptions(big)}`);

      const xw = alloc(Float32Array, n), gw = alloc(Float32Array, n), mw = alloc(Uint8Array, N * S), gradW = alloc(Float32Array, n);
      try {
        xw.view.set(x); gw.view.set(g); mw.view.set(mask);
        const loss = diceBceLoss(xw, gw, { ...big.options, mask: mw, grad: gradW });
        expect(f64Bits(loss)).toBe(f64Bits(heapOut.loss));
        expect(bits(gradW.view)).toEqual(bits(heapOut.grad));
      } finally {
        xw.free(); gw.free(); mw.free(); gradW.free();
      }
    }
  });

  it('gives the same bits with the SIMD and the scalar build', async () => {
    if (!simdSupported()) return;
    const cases = Array.from({ length: 60 }, (_, i) => makeCase(3000 + i, i < 20 ? i + 1 : i < 50 ? undefined : 2000));
    await init({ simd: true });
    const simd = cases.map(fused);
    await init({ simd: false });
    const scalar = cases.map(fused);
    cases.forEach((c, i) => {
      expect(f64Bits(scalar[i]!.loss), describeOptions(c)).toBe(f64Bits(simd[i]!.loss));
      expect(bits(scalar[i]!.grad), describeOptions(c)).toEqual(bits(simd[i]!.grad));
    });
  });
});

describe('diceBceLoss: bad inputs', () => {
  beforeAll(() => init());

  const x = Float32Array.of(0.5, -1, 2, 0);
  const g = Float32Array.of(1, 0, 1, 0);
  const bad: [string, unknown, ErrorConstructor, RegExp][] = [
    ['lambdaDice negative', { lambdaDice: -1 }, RangeError, /options\.lambdaDice/],
    ['lambdaBce NaN', { lambdaBce: NaN }, RangeError, /options\.lambdaBce/],
    ['lambdaBce a string', { lambdaBce: '1' }, TypeError, /options\.lambdaBce/],
    ['posWeight negative', { posWeight: -2 }, RangeError, /options\.posWeight/],
    ['unknown balance', { balance: 'median' }, RangeError, /options\.balance/],
    ['rcf balance', { balance: 'rcf' }, RangeError, /options\.balance 'rcf' is not supported/],
    ['labelSmoothing', { labelSmoothing: 0.1 }, RangeError, /options\.labelSmoothing is not supported/],
    ["reduction 'none'", { reduction: 'none' }, RangeError, /options\.reduction/],
    ['activation none', { activation: 'none' }, RangeError, /options\.activation/],
    ['activation softmax', { activation: 'softmax' }, RangeError, /options\.activation/],
    ['indices target', { target: 'indices' }, RangeError, /options\.target/],
    ['softLabel', { softLabel: true }, RangeError, /options\.softLabel/],
    ['squared not boolean', { squared: 1 }, TypeError, /options\.squared/],
  ];
  for (const [name, extra, ErrorType, message] of bad) {
    it(`rejects ${name} and leaves grad untouched`, () => {
      const grad = new Float32Array(4).fill(7);
      const call = () => diceBceLoss(x, g, { ...(extra as DiceBceOptions), grad });
      expect(call).toThrow(ErrorType);
      expect(call).toThrow(message);
      expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
    });
  }

  it('rejects an index-typed target array, out-of-range targets and non-finite logits', () => {
    const grad = new Float32Array(4).fill(7);
    expect(() => diceBceLoss(x, Int32Array.of(1, 0, 1, 0) as unknown as Float32Array, { grad })).toThrow(TypeError);
    expect(() => diceBceLoss(x, Float32Array.of(1, 0, 2, 0), { grad })).toThrow(/target\[2\] is 2/);
    expect(() => diceBceLoss(Float32Array.of(0, NaN, 1, 1), g, { grad })).toThrow(/input\[1\] is NaN/);
    expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
  });
});
