// clDiceLoss: the float64 reference (a transcription of jocpae/clDice's soft_skel on a small
// reverse-mode tape) against central finite differences and hand-worked skeletons and losses; the
// Wasm soft skeleton and loss against the reference on random 2-D and 3-D inputs; alpha mixing with
// diceLoss; SIMD == scalar bits; WasmArray arguments; the error matrix.
import { describe, it, expect, beforeAll } from 'vitest';
import {
  init, alloc, diceLoss, clDiceLoss, clDiceLossReference, softSkeletonReference, type ClDiceOptions,
} from '../src/index.ts';
import type { ClDiceReferenceOptions } from '../src/reference/pool.ts';
import { runtime } from '../src/runtime.ts';
import { Rng, maxAbs, worstDiff, f32Bits } from './helpers.ts';
import {
  randomInput, randomPoolArrays, expectReferenceMatchesDifferences, runPoolCase, expectAgreesWithReference, expectNearReference,
  expectSameBitsAcrossBuilds, expectWasmArraysSameBits, expectErrorMatrix, type PoolCase, type PoolOutput,
} from './pool-helpers.ts';

/** Blobby binary targets (random rectangles) or soft targets in [0, 1]. */
function randomTarget(rng: Rng, shape: readonly number[], kind: 'binary' | 'soft'): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (kind === 'soft') return Float32Array.from({ length: n }, () => (rng.chance(0.3) ? 0 : rng.float()));
  const [H, W] = shape.slice(-2) as [number, number];
  const out = new Float32Array(n);
  for (let plane = 0; plane < n / (H * W); plane++) {
    for (let b = 0; b < 3; b++) {
      const h0 = rng.int(0, H - 1), w0 = rng.int(0, W - 1), h1 = rng.int(h0, H - 1), w1 = rng.int(w0, W - 1);
      for (let h = h0; h <= h1; h++) for (let w = w0; w <= w1; w++) out[plane * H * W + h * W + w] = 1;
    }
  }
  return out;
}

beforeAll(async () => { await init(); });

describe('hand-worked skeletons and losses (reference and Wasm)', () => {
  // 7×7 images: a vertical band of columns [c0, c1], or a one-pixel line.
  const band = (c0: number, c1: number, rows = (_: number) => true): Float32Array =>
    Float32Array.from({ length: 49 }, (_, i) => (i % 7 >= c0 && i % 7 <= c1 && rows(Math.floor(i / 7)) ? 1 : 0));
  const shape = [1, 1, 7, 7];

  it('the soft skeleton of a one-pixel line is the line; of a 3-pixel band, its centre line', () => {
    // A line pixel's cross has 0s left and right: erode = 0, open = 0, skel = relu(x − 0) = x.
    expect(Array.from(softSkeletonReference(band(3, 3), [1, 7, 7]))).toEqual(Array.from(band(3, 3)));
    // Band columns 2..4: erode leaves column 3, open(x) = dilate(column 3) = x, so skel_0 = 0; the first
    // iteration's delta is column 3 − open(column 3) = column 3 − 0.
    expect(Array.from(softSkeletonReference(band(2, 4), [1, 7, 7]))).toEqual(Array.from(band(3, 3)));
    // The Wasm kernel, directly.
    const k = runtime().kernels;
    const src = alloc(Float32Array, 49), out = alloc(Float32Array, 49), work = alloc(Uint8Array, k.skeletonWorkBytes(49, 3));
    src.view.set(band(2, 4));
    k.softSkeleton(src.byteOffset, out.byteOffset, work.byteOffset, 1, 7, 7, 3);
    expect(Array.from(out.view)).toEqual(Array.from(band(3, 3)));
    for (const a of [src, out, work]) a.free();
  });

  it('a thick prediction over a thin target: clDice 0, Dice 14/29 (s = 1)', () => {
    // S_P = S_G = column 3 (7 pixels): Tprec = (7 + 1)/(7 + 1) = 1, Tsens = (7 + 1)/(7 + 1) = 1.
    // Dice = 1 − (2·7 + 1)/(21 + 7 + 1) = 14/29.
    expect(clDiceLossReference(band(2, 4), band(3, 3), { shape }).loss).toBeCloseTo(0, 14);
    expect(clDiceLoss(band(2, 4), band(3, 3), { shape })).toBeCloseTo(0, 12);
    expect(clDiceLoss(band(2, 4), band(3, 3), { shape, alpha: 0 })).toBeCloseTo(14 / 29, 7);
    expect(clDiceLoss(band(2, 4), band(3, 3), { shape, alpha: 0.5 })).toBeCloseTo(7 / 29, 7);
  });

  it('a line broken by one pixel: Tprec = 1, Tsens = 7/8, clDice = 1/15 (s = 1)', () => {
    const broken = band(3, 3, (row) => row !== 3);
    // S_P = the 6 line pixels, all on the target: Tprec = (6 + 1)/(6 + 1); S_G = 7 pixels, 6 predicted:
    // Tsens = (6 + 1)/(7 + 1) = 7/8; clDice = 1 − 2·(7/8)/(1 + 7/8) = 1/15.
    expect(clDiceLossReference(broken, band(3, 3), { shape }).loss).toBeCloseTo(1 / 15, 14);
    expect(clDiceLoss(broken, band(3, 3), { shape })).toBeCloseTo(1 / 15, 7);
  });

  it('iterations beyond the diameter of the plane change nothing (up to 2^53 − 1)', () => {
    const rng = new Rng(21);
    const s = [1, 1, 2, 3, 4];
    const input = randomInput(rng, 24, true), target = randomTarget(rng, s, 'soft');
    // (2 − 1) + (3 − 1) + (4 − 1) = 6 erosions leave a constant plane; the reference runs 9 iterations.
    const ref = clDiceLossReference(input, target, { shape: s, activation: 'sigmoid', iterations: 9 });
    for (const iterations of [6, 9, 1e6, Number.MAX_SAFE_INTEGER]) {
      const grad = new Float32Array(24);
      expectNearReference(clDiceLoss(input, target, { shape: s, activation: 'sigmoid', iterations, grad }), grad, ref);
    }
  });

  it('empty target and empty prediction: loss 0 and a finite gradient', () => {
    const grad = new Float32Array(49).fill(NaN);
    expect(clDiceLoss(new Float32Array(49), new Float32Array(49), { shape, grad, alpha: 0.5 })).toBe(0);
    expect(grad.every(Number.isFinite)).toBe(true);
  });
});

describe('the float64 reference against finite differences', () => {
  const cases: { shape: number[]; iterations: number; activation: 'none' | 'sigmoid'; alpha: number; reduction: 'mean' | 'sum'; target: 'binary' | 'soft' }[] = [
    { shape: [1, 1, 6, 7], iterations: 3, activation: 'none', alpha: 1, reduction: 'mean', target: 'binary' },
    { shape: [1, 1, 7, 6], iterations: 1, activation: 'sigmoid', alpha: 1, reduction: 'mean', target: 'soft' },
    { shape: [2, 2, 5, 5], iterations: 2, activation: 'sigmoid', alpha: 0.5, reduction: 'sum', target: 'binary' },
    { shape: [1, 1, 4, 5, 5], iterations: 3, activation: 'none', alpha: 1, reduction: 'mean', target: 'binary' },
    { shape: [1, 1, 3, 4, 6], iterations: 2, activation: 'sigmoid', alpha: 0.3, reduction: 'mean', target: 'soft' },
    { shape: [1, 1, 5, 6], iterations: 0, activation: 'none', alpha: 1, reduction: 'mean', target: 'soft' },
  ];
  for (const [k, c] of cases.entries()) {
    it(`gradient == central differences: ${JSON.stringify(c)}`, () => {
      const rng = new Rng(300 + k);
      const n = c.shape.reduce((a, b) => a * b, 1);
      const input = randomInput(rng, n, c.activation === 'sigmoid');
      const target = randomTarget(rng, c.shape, c.target);
      const options = { shape: c.shape, iterations: c.iterations, activation: c.activation, alpha: c.alpha, reduction: c.reduction, smooth: 0.1 };
      expectReferenceMatchesDifferences((x) => clDiceLossReference(x, target, options), input);
    });
  }
});

type Case = PoolCase<ClDiceOptions>;
const run = (c: Case): PoolOutput => runPoolCase(clDiceLoss, c);

function randomCase(rng: Rng): Case {
  const { shape, activation, input, target } = randomPoolArrays(rng, 0.35, [2, 2, 6, 9, 11], [3, 2, 21, 26], 0.6,
    (s, _n, kind) => randomTarget(rng, s, kind));
  const options: ClDiceOptions = {
    shape, activation, iterations: rng.int(0, 5), smooth: rng.pick([1, 1e-2, 1e-5]),
    alpha: rng.pick([1, 1, 0.5, 0.2, 0]), reduction: rng.pick(['mean', 'sum', 'none'] as const),
  };
  return { options, input, target };
}

describe('clDiceLoss (Wasm) against the float64 reference', () => {
  it('random 2-D and 3-D shapes, iterations 0..5, both activations, alpha, every reduction, f32 and u8 targets', () => {
    expectAgreesWithReference('clDiceLoss', 4242, 120, randomCase, run, (c) => clDiceLossReference(c.input, c.target, c.options as ClDiceReferenceOptions));
  });

  it('the Wasm soft skeleton equals the reference soft_skel on random planes (2-D and 3-D)', () => {
    const rng = new Rng(77);
    const k = runtime().kernels;
    for (let t = 0; t < 40; t++) {
      const dims: [number, number, number] = [rng.chance(0.5) ? 1 : rng.int(2, 5), rng.int(1, 12), rng.int(1, 17)];
      const n = dims[0] * dims[1] * dims[2];
      const K = rng.int(0, 4);
      const plane = randomInput(rng, n, false);
      const src = alloc(Float32Array, n), out = alloc(Float32Array, n), work = alloc(Uint8Array, k.skeletonWorkBytes(n, K));
      src.view.set(plane);
      k.softSkeleton(src.byteOffset, out.byteOffset, work.byteOffset, ...dims, K);
      const ref = softSkeletonReference(plane, dims, K);
      expect(worstDiff(out.view, ref)).toBeLessThanOrEqual(1e-6);
      for (const a of [src, out, work]) a.free();
    }
  });

  it('a 2×1×96×96 image of random vessels (3-wide bands), sigmoid, alpha 0.5', () => {
    const rng = new Rng(12);
    const shape = [2, 1, 96, 96];
    const n = 2 * 96 * 96;
    const target = new Float32Array(n);
    for (let s = 0; s < 2; s++) {
      for (let b = 0; b < 4; b++) {
        const vertical = rng.chance(0.5), at = rng.int(1, 94);
        for (let i = 0; i < 96; i++) for (let d = -1; d <= 1; d++) {
          target[s * 9216 + (vertical ? i * 96 + at + d : (at + d) * 96 + i)] = 1;
        }
      }
    }
    const input = randomInput(rng, n, true);
    const grad = new Float32Array(n);
    const options = { shape, activation: 'sigmoid', alpha: 0.5 } as const;
    expectNearReference(clDiceLoss(input, target, { ...options, grad }), grad, clDiceLossReference(input, target, options));
  });
});

describe('alpha, builds and arguments', () => {
  it('alpha 0 is diceLoss with smoothNr = smoothDr = smooth; alpha mixes linearly', () => {
    const rng = new Rng(5);
    const shape = [2, 2, 9, 11];
    const n = 396;
    const input = randomInput(rng, n, true), target = randomTarget(rng, shape, 'binary');
    const o = { shape, activation: 'sigmoid', smooth: 0.5 } as const;
    const g0 = new Float32Array(n), g1 = new Float32Array(n), gh = new Float32Array(n), gd = new Float32Array(n);
    const l0 = clDiceLoss(input, target, { ...o, alpha: 0, grad: g0 });
    const d = diceLoss(input, target, { shape, activation: 'sigmoid', smoothNr: 0.5, smoothDr: 0.5, grad: gd });
    expect(l0).toBe(d);
    expect(Array.from(f32Bits(g0))).toEqual(Array.from(f32Bits(gd)));
    const l1 = clDiceLoss(input, target, { ...o, alpha: 1, grad: g1 });
    const lh = clDiceLoss(input, target, { ...o, alpha: 0.25, grad: gh });
    expect(lh).toBeCloseTo(0.75 * l0 + 0.25 * l1, 12);
    expect(worstDiff(gh, g0.map((v, i) => 0.75 * v + 0.25 * g1[i]!))).toBeLessThanOrEqual(1e-6 * maxAbs(gh));
  });

  it('the SIMD and scalar builds give the same bits (loss and gradient)', async () => {
    const rng = new Rng(31);
    const cases = Array.from({ length: 20 }, () => randomCase(rng));
    const big = [1, 2, 37, 53];
    cases.push({ options: { shape: big, activation: 'sigmoid', iterations: 4 }, input: randomInput(rng, 2 * 37 * 53, true), target: randomTarget(rng, big, 'binary') });
    await expectSameBitsAcrossBuilds(cases, run);
  });

  it('WasmArray input, target and grad give the same bits as JS arrays (alpha 0.5: the Dice part too)', () => {
    const rng = new Rng(3);
    const shape = [2, 1, 13, 9];
    const n = 2 * 13 * 9;
    const input = randomInput(rng, n, true), target = Uint8Array.from(randomTarget(rng, shape, 'binary'));
    expectWasmArraysSameBits(clDiceLoss, input, target, { shape, activation: 'sigmoid', alpha: 0.5 });
  });

  it('throws TypeError / RangeError naming the argument, before grad is written', () => {
    const x = new Float32Array(20).fill(0.5), g = new Float32Array(20);
    const shape = [1, 1, 4, 5];
    const grad = new Float32Array(20).fill(7);
    const bad: [unknown, unknown, Record<string, unknown> | null, ErrorConstructor, RegExp][] = [
      [x, g, {}, TypeError, /options\.shape is required/],
      [x, g, { shape: [1, 1, 20] }, RangeError, /options\.shape must be \[N, C, H, W\]/],
      [x, g, { shape, iterations: -1 }, RangeError, /options\.iterations must be an integer >= 0/],
      [x, g, { shape, iterations: 2.5 }, RangeError, /options\.iterations/],
      [x, g, { shape, iterations: '3' }, TypeError, /options\.iterations/],
      [x, g, { shape, smooth: 0 }, RangeError, /options\.smooth must be a finite number > 0/],
      [x, g, { shape, alpha: 1.5 }, RangeError, /options\.alpha must be a finite number in \[0, 1\]/],
      [x, g, { shape, alpha: -0.1 }, RangeError, /options\.alpha/],
      [x, g, { shape, alpha: '0.5' }, TypeError, /options\.alpha must be a number/],
      [x, g, { shape, activation: 'softmax' }, RangeError, /options\.activation/],
      [x, g, { shape, reduction: 'max' }, RangeError, /options\.reduction/],
      [new Float64Array(20), g, { shape }, TypeError, /input must be a Float32Array/],
      [x, new Int32Array(20), { shape }, TypeError, /target must be a Float32Array or Uint8Array/],
      [x.map((v, i) => (i === 3 ? NaN : v)), g, { shape }, RangeError, /input\[3\] is NaN/],
      [x.map((v, i) => (i === 4 ? -0.5 : v)), g, { shape, alpha: 0 }, RangeError, /input\[4\] is -0\.5/],
      [x, g.map((v, i) => (i === 6 ? 1.5 : v)), { shape, alpha: 0.5 }, RangeError, /target\[6\] is 1\.5; targets must be in \[0, 1\]/],
      [x, g, { shape, grad: new Float32Array(21) }, RangeError, /options\.grad must have 20 elements/],
      [x, g, { shape, reduction: 'none', grad: new Float32Array(20) }, RangeError, /options\.grad needs reduction/],
      [x, g, { shape, grad: g }, RangeError, /options\.grad overlaps target/],
      [x, g, null, TypeError, /options must be an object/],
    ];
    expectErrorMatrix('clDiceLoss', clDiceLoss, bad, grad);
  });
});
