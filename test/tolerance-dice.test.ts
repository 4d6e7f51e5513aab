// toleranceDiceLoss and the pooling kernels of assembly/pool.ts: the float64 reference against central
// finite differences and against diceLossReference at tolerance 0; the pools (values and the selected
// index, ties included) against the reference's element-by-element windows; the Wasm loss against the
// reference on random 2-D and 3-D inputs; tolerance 0 against diceLoss; hand-checked shifted lines;
// SIMD == scalar bits; WasmArray arguments; the error matrix.
import { describe, it, expect, beforeAll } from 'vitest';
import {
  init, alloc, diceLoss, diceLossReference, toleranceDiceLoss, toleranceDiceLossReference,
  type ToleranceDiceOptions,
} from '../src/index.ts';
import { poolReference, type ToleranceDiceReferenceOptions } from '../src/reference/pool.ts';
import { runtime } from '../src/runtime.ts';
import { Rng, maxAbs, worstDiff } from './helpers.ts';
import {
  randomInput, randomPoolArrays, expectReferenceMatchesDifferences, runPoolCase, expectAgreesWithReference, expectNearReference,
  expectSameBitsAcrossBuilds, expectWasmArraysSameBits, expectErrorMatrix, type PoolCase, type PoolOutput,
} from './pool-helpers.ts';

/** Binary edge-like targets (~20% ones) or soft targets in [0, 1] with exact 0s and 1s. */
function randomTarget(rng: Rng, n: number, kind: 'binary' | 'soft'): Float32Array {
  return Float32Array.from({ length: n }, () => {
    if (kind === 'binary') return rng.chance(0.2) ? 1 : 0;
    const r = rng.float();
    return r < 0.4 ? 0 : r < 0.55 ? 1 : rng.float();
  });
}

beforeAll(async () => { await init(); });

describe('the float64 reference', () => {
  const cases: { shape: number[]; tolerance: number; activation: 'none' | 'sigmoid'; reduction: 'mean' | 'sum'; target: 'binary' | 'soft' }[] = [
    { shape: [1, 1, 5, 7], tolerance: 1, activation: 'none', reduction: 'mean', target: 'binary' },
    { shape: [1, 1, 6, 5], tolerance: 2, activation: 'sigmoid', reduction: 'mean', target: 'soft' },
    { shape: [2, 2, 4, 5], tolerance: 1, activation: 'sigmoid', reduction: 'sum', target: 'binary' },
    { shape: [1, 1, 3, 4, 5], tolerance: 1, activation: 'none', reduction: 'mean', target: 'binary' },
    { shape: [1, 2, 3, 3, 4], tolerance: 2, activation: 'sigmoid', reduction: 'sum', target: 'soft' },
    { shape: [1, 1, 4, 6], tolerance: 0, activation: 'none', reduction: 'mean', target: 'soft' },
  ];
  for (const [k, c] of cases.entries()) {
    it(`gradient == central differences: ${JSON.stringify(c)}`, () => {
      const rng = new Rng(100 + k);
      const n = c.shape.reduce((a, b) => a * b, 1);
      const input = randomInput(rng, n, c.activation === 'sigmoid');
      const target = randomTarget(rng, n, c.target);
      const options = { shape: c.shape, tolerance: c.tolerance, activation: c.activation, reduction: c.reduction, smooth: 1e-3 };
      expectReferenceMatchesDifferences((x) => toleranceDiceLossReference(x, target, options), input);
    });
  }

  it('tolerance 0 is diceLossReference with smoothNr = smoothDr = smooth (value and gradient, float64)', () => {
    const rng = new Rng(7);
    for (const activation of ['none', 'sigmoid'] as const) {
      for (const smooth of [1e-5, 1, 0.3]) {
        const shape = [2, 3, 4, 5];
        const n = 120;
        const input = randomInput(rng, n, activation === 'sigmoid');
        const target = randomTarget(rng, n, 'soft');
        const tol = toleranceDiceLossReference(input, target, { shape, tolerance: 0, smooth, activation });
        const dice = diceLossReference(input, target, { shape, smoothNr: smooth, smoothDr: smooth, activation });
        expect(Math.abs((tol.loss as number) - (dice.loss as number))).toBeLessThanOrEqual(1e-14);
        expect(worstDiff(tol.grad!, dice.grad!)).toBeLessThanOrEqual(1e-12 * maxAbs(dice.grad!));
      }
    }
  });
});

describe('pooling kernels against the reference windows', () => {
  /** Runs a kernel pool on a plane and returns its values and selected indices. */
  function kernelPool(plane: Float32Array, dims: [number, number, number], kind: 'cross' | 'box', r: number) {
    const k = runtime().kernels;
    const n = plane.length;
    const src = alloc(Float32Array, n), dst = alloc(Float32Array, n), arg = alloc(Int32Array, n);
    const temp = alloc(Uint8Array, k.maxPoolTempBytes(n));
    src.view.set(plane);
    if (kind === 'cross') k.erodeCross(src.byteOffset, dst.byteOffset, arg.byteOffset, ...dims);
    else k.maxPoolBox(src.byteOffset, dst.byteOffset, arg.byteOffset, ...dims, r, temp.byteOffset);
    const out = { values: dst.view.slice(), arg: arg.view.slice() };
    for (const a of [src, dst, arg, temp]) a.free();
    return out;
  }

  it('box max (r = 0..3) and cross min match in value and index, with ties (few distinct values) and without', () => {
    const rng = new Rng(11);
    let checked = 0;
    for (let t = 0; t < 120; t++) {
      const dims: [number, number, number] = [rng.chance(0.5) ? 1 : rng.int(2, 4), rng.int(1, 7), rng.int(1, 13)];
      const n = dims[0] * dims[1] * dims[2];
      const ties = rng.chance(0.5);
      const plane = Float32Array.from({ length: n }, () => (ties ? rng.int(0, 2) / 2 : rng.float()));
      const kind = rng.chance(0.5) ? 'cross' : 'box';
      const r = kind === 'cross' ? 1 : rng.int(0, 3);
      const got = kernelPool(plane, dims, kind, r);
      const want = poolReference(plane, dims, kind, r, kind === 'cross' ? 'min' : 'max');
      expect({ dims, kind, r, values: Array.from(got.values), arg: Array.from(got.arg) })
        .toEqual({ dims, kind, r, values: Array.from(want.values), arg: Array.from(want.arg) });
      checked++;
    }
    expect(checked).toBe(120);
  });
});

interface Case extends PoolCase<ToleranceDiceOptions> { shape: number[] }
const run = (c: Case): PoolOutput => runPoolCase(toleranceDiceLoss, c);

function randomCase(rng: Rng): Case {
  const { shape, activation, input, target } = randomPoolArrays(rng, 0.4, [2, 2, 5, 9, 11], [3, 3, 19, 23], 0.5,
    (_s, n, kind) => randomTarget(rng, n, kind));
  const options: ToleranceDiceOptions = {
    shape, activation, tolerance: rng.int(0, 3), smooth: rng.pick([1e-5, 1e-2, 1]), reduction: rng.pick(['mean', 'sum', 'none'] as const),
  };
  return { shape, options, input, target };
}

describe('toleranceDiceLoss (Wasm) against the float64 reference', () => {
  it('random 2-D and 3-D shapes, tolerance 0..3, both activations, every reduction, f32 and u8 targets', () => {
    expectAgreesWithReference('toleranceDiceLoss', 2024, 150, randomCase, run, (c) => toleranceDiceLossReference(c.input, c.target, c.options as ToleranceDiceReferenceOptions));
  });

  it('a 4×1×64×64 batch of thin random lines (the edge use case), tolerance 2, sigmoid', () => {
    const rng = new Rng(5);
    const shape = [4, 1, 64, 64];
    const n = 4 * 64 * 64;
    const target = new Uint8Array(n);
    for (let s = 0; s < 4; s++) {
      // One-pixel lines: a row, a column and a diagonal per image.
      const row = rng.int(0, 63), col = rng.int(0, 63);
      for (let i = 0; i < 64; i++) {
        target[s * 4096 + row * 64 + i] = 1;
        target[s * 4096 + i * 64 + col] = 1;
        target[s * 4096 + i * 64 + i] = 1;
      }
    }
    const input = randomInput(rng, n, true);
    const grad = new Float32Array(n);
    const loss = toleranceDiceLoss(input, target, { shape, activation: 'sigmoid', tolerance: 2, grad });
    expectNearReference(loss, grad, toleranceDiceLossReference(input, target, { shape, activation: 'sigmoid', tolerance: 2 }));
  });
});

describe('tolerance 0 is soft Dice', () => {
  it('equals diceLoss and diceLossReference with smoothNr = smoothDr = smooth', () => {
    const rng = new Rng(99);
    for (let t = 0; t < 30; t++) {
      const c = randomCase(rng);
      const reduction = c.options.reduction === 'none' ? 'mean' : c.options.reduction!;
      const s = c.options.smooth!;
      const grad = new Float32Array(c.input.length);
      const diceGrad = new Float32Array(c.input.length);
      const loss = toleranceDiceLoss(c.input, c.target, { ...c.options, tolerance: 0, reduction, grad });
      const dice = diceLoss(c.input, c.target, { shape: c.shape, activation: c.options.activation!, smoothNr: s, smoothDr: s, reduction, grad: diceGrad });
      const ref = diceLossReference(c.input, c.target, { shape: c.shape, activation: c.options.activation!, smoothNr: s, smoothDr: s, reduction });
      const scale = Math.max(1, Math.abs(ref.loss as number));
      expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6 * scale);
      expect(Math.abs(loss - dice)).toBeLessThanOrEqual(1e-6 * scale);
      const g = maxAbs(ref.grad!);
      expect(worstDiff(grad, ref.grad!)).toBeLessThanOrEqual(1e-5 * g);
      expect(worstDiff(grad, diceGrad)).toBeLessThanOrEqual(1e-5 * g);
    }
  });
});

describe('hand-checked cases', () => {
  // A vertical one-pixel line in a 7×7 image, and a prediction of exact 0s and 1s shifted by `shift` columns.
  const line = (col: number): Float32Array => Float32Array.from({ length: 49 }, (_, i) => (i % 7 === col ? 1 : 0));
  const shape = [1, 1, 7, 7];
  const smooth = 1e-5, h = smooth / 2;

  it('a line shifted by one pixel: loss 0 with tolerance 1, Dice ≈ 1 with tolerance 0', () => {
    // Tolerance 1: every predicted pixel is next to the line (Prec = (7 + h)/(7 + h)) and every line
    // pixel has a prediction next to it (Rec = 1): F = 1.
    expect(toleranceDiceLoss(line(4), line(3), { shape, tolerance: 1, smooth })).toBeCloseTo(0, 12);
    // Tolerance 0: TP = 0, so F = (0 + s)/(7 + 7 + s).
    expect(toleranceDiceLoss(line(4), line(3), { shape, tolerance: 0, smooth })).toBeCloseTo(1 - smooth / (14 + smooth), 12);
  });

  it('a line shifted by two pixels is a miss with tolerance 1 and a hit with tolerance 2', () => {
    // Tolerance 1: Prec = h/(7 + h), Rec = h/(7 + h), F = Prec.
    expect(toleranceDiceLoss(line(5), line(3), { shape, tolerance: 1, smooth })).toBeCloseTo(1 - h / (7 + h), 12);
    expect(toleranceDiceLoss(line(5), line(3), { shape, tolerance: 2, smooth })).toBeCloseTo(0, 12);
  });

  it('a double edge (the line and a parallel copy one pixel away): recall 1, precision 1 with tolerance 1', () => {
    const pred = line(3).map((v, i) => Math.max(v, line(4)[i]!));
    // Tolerance 0: Prec = (7 + h)/(14 + h), Rec = 1: F = 2·Prec/(Prec + 1).
    const prec = (7 + h) / (14 + h);
    expect(toleranceDiceLoss(pred, line(3), { shape, tolerance: 0, smooth })).toBeCloseTo(1 - (2 * prec) / (prec + 1), 12);
    expect(toleranceDiceLoss(pred, line(3), { shape, tolerance: 1, smooth })).toBeCloseTo(0, 12);
  });

  it('a tolerance beyond the image (up to 2^53 − 1) is the whole-image window', () => {
    const rng = new Rng(17);
    const input = randomInput(rng, 35 * 3, false), target = randomTarget(rng, 35 * 3, 'binary');
    const s = [1, 1, 3, 5, 7];
    // The largest extent is 7: radius 6 already covers every axis.
    const ref = toleranceDiceLossReference(input, target, { shape: s, tolerance: 6 });
    for (const tolerance of [6, 7, 1e6, Number.MAX_SAFE_INTEGER]) {
      const grad = new Float32Array(105);
      expectNearReference(toleranceDiceLoss(input, target, { shape: s, tolerance, grad }), grad, ref);
    }
  });

  it('empty target and empty prediction: loss 0 and a finite gradient', () => {
    const grad = new Float32Array(49).fill(NaN);
    expect(toleranceDiceLoss(new Float32Array(49), new Float32Array(49), { shape, grad })).toBe(0);
    expect(grad.every(Number.isFinite)).toBe(true);
  });
});

describe('builds and arguments', () => {
  it('the SIMD and scalar builds give the same bits (loss and gradient)', async () => {
    const rng = new Rng(31);
    const cases = Array.from({ length: 20 }, () => randomCase(rng));
    cases.push({ shape: [2, 1, 41, 67], options: { shape: [2, 1, 41, 67], activation: 'sigmoid', tolerance: 3 }, input: randomInput(rng, 2 * 41 * 67, true), target: randomTarget(rng, 2 * 41 * 67, 'binary') });
    await expectSameBitsAcrossBuilds(cases, run);
  });

  it('WasmArray input, target and grad give the same bits as JS arrays', () => {
    const rng = new Rng(3);
    const shape = [2, 1, 13, 9];
    const n = 2 * 13 * 9;
    const input = randomInput(rng, n, true), target = randomTarget(rng, n, 'binary');
    expectWasmArraysSameBits(toleranceDiceLoss, input, target, { shape, activation: 'sigmoid', tolerance: 1 });
  });

  it('reduction none gives the per-(sample, class) losses, whose mean is the mean loss', () => {
    const rng = new Rng(8);
    const shape = [3, 2, 6, 7];
    const input = randomInput(rng, 252, false), target = randomTarget(rng, 252, 'binary');
    const each = toleranceDiceLoss(input, target, { shape, reduction: 'none' });
    expect(each).toBeInstanceOf(Float64Array);
    expect(each.length).toBe(6);
    const ref = toleranceDiceLossReference(input, target, { shape, reduction: 'none' }).loss as Float64Array;
    expect(worstDiff(each, ref)).toBeLessThanOrEqual(1e-6);
    expect(toleranceDiceLoss(input, target, { shape })).toBeCloseTo(each.reduce((a, b) => a + b) / 6, 12);
  });

  it('throws TypeError / RangeError naming the argument, before grad is written', () => {
    const x = new Float32Array(20).fill(0.5), g = new Float32Array(20);
    const shape = [1, 1, 4, 5];
    const grad = new Float32Array(20).fill(7);
    const bad: [unknown, unknown, Record<string, unknown>, ErrorConstructor, RegExp][] = [
      [x, g, {}, TypeError, /options\.shape is required/],
      [x, g, { shape: [1, 1, 20] }, RangeError, /options\.shape must be \[N, C, H, W\]/],
      [x, g, { shape: [1, 1, 1, 4, 5, 1] }, RangeError, /options\.shape must be \[N, C, H, W\]/],
      [x, g, { shape: [1, 1, 4, 4] }, RangeError, /options\.shape/],
      [x, g, { shape, tolerance: -1 }, RangeError, /options\.tolerance must be an integer >= 0/],
      [x, g, { shape, tolerance: 1.5 }, RangeError, /options\.tolerance/],
      [x, g, { shape, tolerance: '1' }, TypeError, /options\.tolerance/],
      [x, g, { shape, smooth: 0 }, RangeError, /options\.smooth must be a finite number > 0/],
      [x, g, { shape, smooth: -1 }, RangeError, /options\.smooth/],
      [x, g, { shape, smooth: NaN }, RangeError, /options\.smooth/],
      [x, g, { shape, activation: 'softmax' }, RangeError, /options\.activation/],
      [x, g, { shape, reduction: 'max' }, RangeError, /options\.reduction/],
      [[0.5], g, { shape }, TypeError, /input must be a Float32Array/],
      [x, new Float64Array(20), { shape }, TypeError, /target must be a Float32Array or Uint8Array/],
      [x, new Float32Array(19), { shape }, RangeError, /target must have 20 elements/],
      [x.map((v, i) => (i === 3 ? NaN : v)), g, { shape }, RangeError, /input\[3\] is NaN/],
      [x.map((v, i) => (i === 4 ? 1.5 : v)), g, { shape }, RangeError, /input\[4\] is 1\.5; with activation 'none' inputs must be probabilities in \[0, 1\]/],
      [x.map((v, i) => (i === 5 ? Infinity : v)), g, { shape, activation: 'sigmoid' }, RangeError, /input\[5\] is Infinity; logits must be finite/],
      [x, g.map((v, i) => (i === 6 ? 2 : v)), { shape }, RangeError, /target\[6\] is 2; targets must be in \[0, 1\]/],
      [x, g, { shape, grad: new Float32Array(19) }, RangeError, /options\.grad must have 20 elements/],
      [x, g, { shape, reduction: 'none', grad: new Float32Array(20) }, RangeError, /options\.grad needs reduction/],
      [x, g, { shape, grad: x }, RangeError, /options\.grad overlaps input/],
      [x, g, null as unknown as Record<string, unknown>, TypeError, /options must be an object/],
    ];
    expectErrorMatrix('toleranceDiceLoss', toleranceDiceLoss, bad, grad);
  });
});
