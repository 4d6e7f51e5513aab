// bceLoss and focalLoss: the float64 references against finite differences and hand-worked PyTorch /
// torchvision values, then the Wasm kernels against the references over random shapes and every option,
// tails, multi-chunk inputs, misaligned and zero-copy arrays, SIMD == scalar bits, and extreme inputs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { init, simdSupported, alloc, bceLoss, focalLoss, type BceOptions, type FocalOptions } from '../src/index.ts';
import {
  bceLossReference, focalLossReference, type ReferenceResult, type BceReferenceOptions, type FocalReferenceOptions,
} from '../src/reference/bce.ts';

import { mulberry32, randInt, pick, type RngFn as Rng } from './helpers.ts';

const scalarOf = (r: ReferenceResult): number => {
  if (typeof r.loss !== 'number') throw new Error('expected a scalar loss');
  return r.loss;
};
const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const f64Bits = (v: number): bigint => new BigUint64Array(new Float64Array([v]).buffer)[0]!;

/** Loss within 1e-6 relative, or `abs` absolute (f32 rounding of 1 − p, ε/2, ... per element). */
function expectLoss(actual: number, expected: number, abs = 1e-7): void {
  expect(Number.isFinite(actual)).toBe(true);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-6 * Math.abs(expected) + abs);
}
/** Gradient within 1e-5 × max|expected| (one assertion per array: per-element expect() is slow). */
function expectGrad(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const tol = 1e-5 * maxAbs(expected) + 1e-30;
  let worst = 0, nonFinite = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Number.isFinite(actual[i]!)) nonFinite++;
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  expect(nonFinite).toBe(0);
  expect(worst).toBeLessThanOrEqual(tol);
}
/** Per-element losses within 1e-6 relative plus `abs`: the largest excess over the tolerance must be ≤ 0. */
function expectElementLosses(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number): void {
  expect(actual.length).toBe(expected.length);
  let excess = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!);
    excess = Math.max(excess, Number.isNaN(err) ? Infinity : err - (1e-6 * Math.abs(expected[i]!) + abs));
  }
  expect(excess).toBeLessThanOrEqual(0);
}
/** Index of the first element whose bits differ, −1 if none. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  const x = bits(a), y = bits(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

// ------------------------------------------------------------ random cases ---

interface Case {
  input: Float32Array;
  target: Float32Array | Uint8Array | Uint16Array | Int32Array;
  mask?: Uint8Array;
  shape: number[];
}

function randomShape(rng: Rng, maxS = 40): number[] {
  const N = randInt(rng, 1, 3), C = randInt(rng, 1, 3);
  return rng() < 0.5 ? [N, C, randInt(rng, 1, maxS)] : [N, C, randInt(rng, 1, 6), randInt(rng, 1, 7)];
}
const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Inputs: logits in [−8, 8] or probabilities in [0.02, 0.98] (away from the clamps, for finite differences). */
function randomInput(rng: Rng, len: number, logits: boolean): Float32Array {
  return Float32Array.from({ length: len }, () => (logits ? rng() * 16 - 8 : 0.02 + 0.96 * rng()));
}

/** Dense labels: hard f32, soft f32 (with exact 0 and 1 and values around 0.5), or u8. */
function randomDenseTarget(rng: Rng, len: number, kind: 'hard' | 'soft' | 'u8'): Float32Array | Uint8Array {
  if (kind === 'u8') return Uint8Array.from({ length: len }, () => (rng() < 0.3 ? 1 : 0));
  if (kind === 'hard') return Float32Array.from({ length: len }, () => (rng() < 0.3 ? 1 : 0));
  return Float32Array.from({ length: len }, () => pick(rng, [0, 0, 1, rng(), 0.5, 0.2 * rng(), 1 - 0.2 * rng()]));
}

function randomMask(rng: Rng, shape: readonly number[], perElement: boolean): Uint8Array | undefined {
  const kind = pick(rng, perElement ? ['none', 'pixel', 'element'] as const : ['none', 'pixel'] as const);
  if (kind === 'none') return undefined;
  const [N, C, ...sp] = shape;
  const S = sizeOf(sp);
  return Uint8Array.from({ length: kind === 'pixel' ? N! * S : N! * C! * S }, () => (rng() < 0.8 ? 1 : 0));
}

function randomBceOptions(rng: Rng): BceReferenceOptions {
  const o: BceReferenceOptions = { activation: pick(rng, ['none', 'sigmoid'] as const) };
  if (rng() < 0.5) o.posWeight = pick(rng, [0, 0.5, 3 * rng()]);
  if (rng() < 0.5) o.labelSmoothing = pick(rng, [0.1, 0.3 * rng()]);
  o.balance = pick(rng, ['none', 'hed', 'rcf'] as const);
  if (o.balance === 'rcf') {
    if (rng() < 0.5) o.rcfLambda = 2 * rng();
    if (rng() < 0.5) o.rcfEta = 0.1 + 0.8 * rng();
  }
  return o;
}

function randomFocalOptions(rng: Rng, C: number): FocalReferenceOptions {
  const activation = C >= 2 && rng() < 0.4 ? 'softmax' : pick(rng, ['none', 'sigmoid'] as const);
  const o: FocalReferenceOptions = { activation, gamma: pick(rng, [0, 0.5, 1, 2, 3.7 * rng()]) };
  if (activation === 'softmax') {
    if (rng() < 0.5) o.weight = Array.from({ length: C }, () => 2 * rng());
    if (rng() < 0.5) o.ignoreIndex = pick(rng, [255, C - 1]);
  } else if (rng() < 0.7) {
    o.alpha = pick(rng, [0.25, rng(), null, -1, 0, 1]);
  }
  return o;
}

function randomFocalCase(rng: Rng, shape: number[], o: FocalReferenceOptions): Case {
  const [N, C, ...sp] = shape;
  const S = sizeOf(sp);
  const len = sizeOf(shape);
  if (o.activation === 'softmax') {
    const input = randomInput(rng, len, true);
    const ctor = pick(rng, [Uint8Array, Uint16Array, Int32Array] as const);
    const labels = Array.from({ length: N! * S }, () => (o.ignoreIndex === 255 && rng() < 0.15 ? 255 : randInt(rng, 0, C! - 1)));
    return { input, target: ctor.from(labels), mask: randomMask(rng, shape, false), shape };
  }
  return {
    input: randomInput(rng, len, o.activation === 'sigmoid'),
    target: randomDenseTarget(rng, len, pick(rng, ['hard', 'soft', 'u8'] as const)),
    mask: randomMask(rng, shape, true),
    shape,
  };
}

// ------------------------------------------------ the references themselves ---

/** Central finite differences of a scalar function of the input, in float64. */
function finiteDifferences(f: (x: Float64Array) => number, x: ArrayLike<number>, h: number): Float64Array {
  const xs = Float64Array.from(x);
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    xs[i] = v + h; const up = f(xs);
    xs[i] = v - h; const down = f(xs);
    xs[i] = v;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function expectFiniteDifferences(analytic: Float64Array, fd: Float64Array): void {
  let worst = 0;
  for (let i = 0; i < fd.length; i++) worst = Math.max(worst, Math.abs(analytic[i]! - fd[i]!));
  expect(worst).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(fd)));
}

describe('float64 references', () => {
  it('bceLossReference: gradient equals central finite differences for every option', () => {
    const rng = mulberry32(11);
    for (let k = 0; k < 120; k++) {
      const shape = randomShape(rng, 12);
      const len = sizeOf(shape);
      const o: BceReferenceOptions = { ...randomBceOptions(rng), shape, reduction: pick(rng, ['mean', 'sum'] as const) };
      const input = randomInput(rng, len, o.activation === 'sigmoid');
      const target = randomDenseTarget(rng, len, o.balance === 'rcf' ? 'soft' : pick(rng, ['hard', 'soft', 'u8'] as const));
      const mask = randomMask(rng, shape, true);
      const opts = { ...o, mask };
      const { grad } = bceLossReference(input, target, opts);
      const fd = finiteDifferences((x) => scalarOf(bceLossReference(x, target, opts)), input, 1e-6);
      expectFiniteDifferences(grad!, fd);
    }
  });

  it('focalLossReference: gradient equals central finite differences for every form', () => {
    const rng = mulberry32(12);
    for (let k = 0; k < 120; k++) {
      const shape = randomShape(rng, 12);
      const o: FocalReferenceOptions = { ...randomFocalOptions(rng, shape[1]!), shape, reduction: pick(rng, ['mean', 'sum'] as const) };
      const c = randomFocalCase(rng, shape, o);
      const opts = { ...o, mask: c.mask };
      const { grad } = focalLossReference(c.input, c.target, opts);
      const fd = finiteDifferences((x) => scalarOf(focalLossReference(x, c.target, opts)), c.input, 1e-6);
      expectFiniteDifferences(grad!, fd);
    }
  });

  it("reductions agree: 'mean' = 'sum' / kept, 'none' sums to 'sum' with 0 where ignored", () => {
    const rng = mulberry32(13);
    for (let k = 0; k < 40; k++) {
      const shape = randomShape(rng);
      const len = sizeOf(shape);
      const o = { ...randomBceOptions(rng), shape, balance: 'rcf' as const, rcfEta: 0.5 };
      const input = randomInput(rng, len, o.activation === 'sigmoid');
      const target = randomDenseTarget(rng, len, 'soft');
      const mask = randomMask(rng, shape, true);
      const sum = scalarOf(bceLossReference(input, target, { ...o, mask, reduction: 'sum' }));
      const mean = scalarOf(bceLossReference(input, target, { ...o, mask, reduction: 'mean' }));
      const none = bceLossReference(input, target, { ...o, mask, reduction: 'none' }).loss as Float64Array;
      let kept = 0, total = 0;
      const [N, C, ...sp] = shape;
      const S = sizeOf(sp);
      for (let i = 0; i < len; i++) {
        const s = i % S, n = Math.floor(i / (C! * S));
        const masked = mask !== undefined && (mask.length === len ? mask[i] === 0 : mask[n * S + s] === 0);
        const band = target[i]! > 0 && target[i]! < 0.5;
        if (masked || band) expect(none[i]).toBe(0);
        else kept++;
        total += none[i]!;
      }
      expect(N).toBeGreaterThan(0);
      expect(total).toBeCloseTo(sum, 10);
      expect(mean).toBeCloseTo(kept > 0 ? sum / kept : 0, 10);
    }
  });
});

// ------------------------------------------------------------ known answers ---
// Values worked out from the published formulas (PyTorch BCELoss / BCEWithLogitsLoss, HED, RCF,
// torchvision sigmoid_focal_loss, multi-class focal loss), evaluated in float64 with a calculator.

describe('known answers', () => {
  beforeAll(() => init());

  it("PyTorch BCELoss on probabilities, reduction 'mean'", () => {
    // p = [0.8, 0.3], g = [1, 0]: ℓ = [−ln 0.8, −ln 0.7] = [0.2231435513, 0.3566749439]; mean 0.2899092476.
    // grad = (p − g)/(p(1 − p))/2 = [−0.2/0.16/2, 0.3/0.21/2] = [−0.625, 0.7142857143].
    const grad = new Float32Array(2);
    expectLoss(bceLoss(new Float32Array([0.8, 0.3]), new Float32Array([1, 0]), { grad }), 0.2899092476264711);
    expectGrad(grad, [-0.625, 0.7142857142857143]);
  });

  it('PyTorch BCELoss at p = 0 and 1: logs clamped at −100, gradient denominator floored at 1e−12', () => {
    // p = [0, 1, 0, 1], g = [1, 0, 0, 1]: ℓ = [100, 100, 0, 0], sum 200;
    // grad = (p − g)/max(p(1 − p), 1e−12) = [−1e12, 1e12, 0, 0].
    const grad = new Float32Array(4);
    const loss = bceLoss(new Float32Array([0, 1, 0, 1]), new Uint8Array([1, 0, 0, 1]), { reduction: 'sum', grad });
    expectLoss(loss, 200);
    expectGrad(grad, [-1e12, 1e12, 0, 0]);
  });

  it('PyTorch BCEWithLogitsLoss with pos_weight 3', () => {
    // x = [2, −1, 0], g = [1, 1, 0], w = 3: ℓ = [3·ln(1 + e^−2), 3·ln(1 + e^1), ln 2]
    //   = [3·0.1269280110, 3·1.3132616875, 0.6931471806] = [0.3807840331, 3.9397850626, 0.6931471806];
    // sum 5.0137162762. grad = b(1 − g)σ(x) − a·g·σ(−x) = [−3·0.1192029220, −3·0.7310585786, 0.5]
    //   = [−0.3576087661, −2.1931757359, 0.5].
    const grad = new Float32Array(3);
    const loss = bceLoss(new Float32Array([2, -1, 0]), new Float32Array([1, 1, 0]), { activation: 'sigmoid', posWeight: 3, reduction: 'sum', grad });
    expectLoss(loss, 5.013716276243532);
    expectGrad(grad, [-0.35760876606635306, -2.193175735890015, 0.5]);
  });

  it('HED class-balanced BCE', () => {
    // p = [0.9, 0.2, 0.4, 0.6], g = [1, 0, 0, 0]: |Y+| = 1, |Y| = 4, β = |Y−|/|Y| = 0.75.
    // ℓ = −0.75·ln 0.9 − 0.25·(ln 0.8 + ln 0.6 + ln 0.4) = 0.0790203867 + 0.25·1.6502599069 = 0.4915853635.
    // grad = [−0.75/0.9, 0.25/0.8, 0.25/0.6, 0.25/0.4] = [−0.8333333, 0.3125, 0.4166667, 0.625].
    const grad = new Float32Array(4);
    const loss = bceLoss(new Float32Array([0.9, 0.2, 0.4, 0.6]), new Float32Array([1, 0, 0, 0]), { balance: 'hed', reduction: 'sum', grad });
    expectLoss(loss, 0.4915853634819585);
    expectGrad(grad, [-0.8333333333333333, 0.3125, 0.4166666666666667, 0.625]);
  });

  it('RCF class-balanced BCE (λ = 1.1, η = 0.5)', () => {
    // p = [0.9, 0.2, 0.5, 0.6], g = [1, 0, 0.3, 0.7]: 0.3 ∈ (0, η) is ignored; 1 and 0.7 are positives
    // (target 1), 0 negative: |Y+| = 2, |Y−| = 1, |Y| = 3, a = 1/3, b = 1.1·2/3 = 0.7333333.
    // ℓ = −(1/3)(ln 0.9 + ln 0.6) − 0.7333333·ln 0.8 = 0.2053953798 + 0.1636386043 = 0.3690339841;
    // mean over the 3 kept elements 0.1230113280.
    // grad (sum) = [−a/0.9, b/0.8, 0, −a/0.6] = [−0.3703704, 0.9166667, 0, −0.5555556], mean: /3.
    const grad = new Float32Array(4);
    const loss = bceLoss(new Float32Array([0.9, 0.2, 0.5, 0.6]), new Float32Array([1, 0, 0.3, 0.7]), { balance: 'rcf', grad });
    expectLoss(loss, 0.12301132803500871);
    expectGrad(grad, [-0.37037037037037035 / 3, 0.9166666666666667 / 3, 0, -0.5555555555555556 / 3]);
  });

  it('torchvision sigmoid_focal_loss (α = 0.25, γ = 2)', () => {
    // x = [1, −2], g = [1, 0]. Element 1: p = σ(1) = 0.7310585786, p_t = p, (1 − p_t)² = 0.0723294881,
    // ce = ln(1 + e^−1) = 0.3132616875, α_t = 0.25: FL = 0.25·0.0723294881·0.3132616875 = 0.0056645144.
    // Element 2: p = σ(−2) = 0.1192029220, p_t = 1 − p, (1 − p_t)² = p² = 0.0142093366,
    // ce = ln(1 + e^−2) = 0.1269280110, α_t = 0.75: FL = 0.0013526721. mean = 0.0035085933.
    // dFL/dx = α_t·(−γ(1 − p_t)·(dp_t/dx)·ce + (1 − p_t)^γ·(p − g)), dp_t/dx = ±p(1 − p):
    //   el. 1: 0.25·(−2·0.2689414·(0.7310586·0.2689414)·0.3132617 + 0.0723295·(−0.2689414)) = −0.0131452825,
    //   el. 2: 0.75·(2·0.1192029·(0.1192029·0.8807971)·0.1269280 + 0.0142093·0.1192029) = 0.0036532051; mean: /2.
    const grad = new Float32Array(2);
    const loss = focalLoss(new Float32Array([1, -2]), new Float32Array([1, 0]), { activation: 'sigmoid', grad });
    expectLoss(loss, 0.003508593251773557);
    expectGrad(grad, [-0.013145282494390155 / 2, 0.003653205146544574 / 2]);
  });

  it('multi-class focal loss over softmax (γ = 2)', () => {
    // One pixel, C = 3, x = [1, 2, 0.5], y = 1: Z = e + e² + e^0.5 = 11.7560591981, p_y = e²/Z = 0.6285317192,
    // ln p_y = −0.4643687841, FL = −(1 − p_y)²·ln p_y = 0.1379839·0.4643688 = 0.0640776372.
    // dFL/dx_k = (p_k − δ_yk)·F, F = (1 − p_y)² − 2(1 − p_y)·p_y·ln p_y = 0.3548299569:
    //   [0.2312239·F, −0.3714683·F, 0.1402444·F] = [0.0820451656, −0.1318080741, 0.0497629084].
    const grad = new Float32Array(3);
    const loss = focalLoss(new Float32Array([1, 2, 0.5]), new Uint8Array([1]), { activation: 'softmax', shape: [1, 3, 1], grad });
    expectLoss(loss, 0.06407763723874034);
    expectGrad(grad, [0.08204516563281057, -0.13180807407031142, 0.049762908437500884]);
  });
});

// ----------------------------------------------- Wasm against the references ---

/** Runs bceLoss with every reduction and compares with the reference. */
function checkBce(c: Case, o: BceReferenceOptions): void {
  const opts = { ...o, shape: c.shape, mask: c.mask };
  const target = c.target as Float32Array | Uint8Array;
  const maxW = Math.max(1, o.posWeight ?? 1, o.rcfLambda ?? 1.1);
  for (const reduction of ['mean', 'sum'] as const) {
    const ref = bceLossReference(c.input, target, { ...opts, reduction });
    const grad = new Float32Array(c.input.length);
    const loss = bceLoss(c.input, target, { ...(opts as BceOptions), reduction, grad });
    const kept = reduction === 'sum' ? c.input.length : 1;
    expectLoss(loss, scalarOf(ref), 2e-7 * maxW * kept);
    expectGrad(grad, ref.grad!);
  }
  const ref = bceLossReference(c.input, target, { ...opts, reduction: 'none' }).loss as Float64Array;
  const none = bceLoss(c.input, target, { ...(opts as BceOptions), reduction: 'none' });
  expect(none).toBeInstanceOf(Float32Array);
  expect(none.length).toBe(ref.length);
  expectElementLosses(none, ref, 2e-7 * maxW);
}

function checkFocal(c: Case, o: FocalReferenceOptions): void {
  const opts = { ...o, shape: c.shape, mask: c.mask };
  const maxW = Math.max(1, ...(o.weight ? Array.from(o.weight) : []));
  for (const reduction of ['mean', 'sum'] as const) {
    const ref = focalLossReference(c.input, c.target, { ...opts, reduction });
    const grad = new Float32Array(c.input.length);
    const loss = focalLoss(c.input, c.target, { ...(opts as FocalOptions), reduction, grad });
    const kept = reduction === 'sum' ? c.input.length : 1;
    expectLoss(loss, scalarOf(ref), 2e-7 * maxW * kept);
    expectGrad(grad, ref.grad!);
  }
  const ref = focalLossReference(c.input, c.target, { ...opts, reduction: 'none' }).loss as Float64Array;
  const none = focalLoss(c.input, c.target, { ...(opts as FocalOptions), reduction: 'none' });
  expectElementLosses(none, ref, 2e-7 * maxW);
}

function randomBceCase(rng: Rng, shape: number[], o: BceReferenceOptions): Case {
  const len = sizeOf(shape);
  return {
    input: randomInput(rng, len, o.activation === 'sigmoid'),
    target: randomDenseTarget(rng, len, o.balance === 'rcf' && rng() < 0.7 ? 'soft' : pick(rng, ['hard', 'soft', 'u8'] as const)),
    mask: randomMask(rng, shape, true),
    shape,
  };
}

describe('Wasm kernels against the float64 references', () => {
  beforeAll(() => init());

  it('bceLoss: random shapes, every option, every reduction', () => {
    const rng = mulberry32(21);
    for (let k = 0; k < 300; k++) {
      const shape = randomShape(rng);
      const o = randomBceOptions(rng);
      checkBce(randomBceCase(rng, shape, o), o);
    }
  });

  it('focalLoss: random shapes, binary and softmax forms, every option', () => {
    const rng = mulberry32(22);
    for (let k = 0; k < 300; k++) {
      const shape = randomShape(rng);
      const o = randomFocalOptions(rng, shape[1]!);
      checkFocal(randomFocalCase(rng, shape, o), o);
    }
  });

  it('tails: every row length 1..17, with and without masks', () => {
    const rng = mulberry32(23);
    for (let S = 1; S <= 17; S++) {
      for (const activation of ['none', 'sigmoid'] as const) {
        const shape = [2, 2, S];
        const o: BceReferenceOptions = { activation, balance: pick(rng, ['none', 'hed', 'rcf'] as const) };
        checkBce(randomBceCase(rng, shape, o), o);
        const f: FocalReferenceOptions = { activation, gamma: 2 };
        checkFocal(randomFocalCase(rng, shape, f), f);
      }
      const sm: FocalReferenceOptions = { activation: 'softmax', gamma: 1.5, ignoreIndex: 255 };
      checkFocal(randomFocalCase(rng, [2, 3, S], sm), sm);
    }
  });

  it('nothing kept (or nothing at all): mean is 0 and the gradient is 0', () => {
    const grad = new Float32Array(5).fill(7);
    expect(bceLoss(new Float32Array(5).fill(0.3), new Float32Array(5), { mask: new Uint8Array(5), grad })).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0, 0, 0, 0]);
    grad.fill(7);
    // RCF ignores every label in (0, η).
    expect(bceLoss(new Float32Array(5).fill(0.3), new Float32Array(5).fill(0.2), { balance: 'rcf', grad })).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0, 0, 0, 0]);
    grad.fill(7);
    expect(focalLoss(new Float32Array(5), new Uint8Array([9]), { activation: 'softmax', shape: [1, 5, 1], ignoreIndex: 9, grad })).toBe(0);
    expect(Array.from(grad)).toEqual([0, 0, 0, 0, 0]);
    // Empty input.
    const empty = new Float32Array(0);
    expect(bceLoss(empty, empty, { grad: new Float32Array(0) })).toBe(0);
    expect(bceLoss(empty, empty, { reduction: 'none' })).toEqual(new Float32Array(0));
    expect(focalLoss(empty, new Uint8Array(0), { activation: 'sigmoid', reduction: 'sum' })).toBe(0);
  });
});

// ------------------------------------------- memory paths and bit identity ---

interface Run { loss: number; grad: Float32Array; none: Float32Array }

/** The three outputs of one configuration, on JS-heap arrays or on zero-copy WasmArrays. */
function runAll(fn: 'bce' | 'focal', c: Case, o: BceOptions | FocalOptions, zeroCopy: boolean): Run {
  const call = (input: Float32Array, target: Case['target'], mask: Uint8Array | undefined, extra: object): number | Float32Array =>
    fn === 'bce'
      ? bceLoss(input, target as Float32Array, { ...(o as BceOptions), shape: c.shape, mask, ...extra })
      : focalLoss(input, target, { ...(o as FocalOptions), shape: c.shape, mask, ...extra });
  if (!zeroCopy) {
    const grad = new Float32Array(c.input.length);
    const loss = call(c.input, c.target, c.mask, { grad, reduction: 'sum' }) as number;
    const none = call(c.input, c.target, c.mask, { reduction: 'none' }) as Float32Array;
    return { loss, grad, none };
  }
  const tctor = c.target.constructor as Float32ArrayConstructor;
  const wx = alloc(Float32Array, c.input.length), wg = alloc(tctor, c.target.length);
  const wm = c.mask && alloc(Uint8Array, c.mask.length), wgrad = alloc(Float32Array, c.input.length);
  wx.view.set(c.input); wg.view.set(c.target as Float32Array); if (wm) wm.view.set(c.mask!);
  const loss = call(wx.view, wg.view, wm?.view, { grad: wgrad, reduction: 'sum' }) as number;
  const grad = wgrad.view.slice();
  const none = call(wx.view, wg.view, wm?.view, { reduction: 'none' }) as Float32Array;
  for (const w of [wx, wg, wm, wgrad]) w?.free();
  return { loss, grad, none };
}

function expectSameBits(a: Run, b: Run): void {
  expect(f64Bits(a.loss)).toBe(f64Bits(b.loss));
  expect(firstBitDifference(a.grad, b.grad)).toBe(-1);
  expect(firstBitDifference(a.none, b.none)).toBe(-1);
}

/** Large cases: several chunks per sample when staged from the JS heap. */
function largeCases(): { fn: 'bce' | 'focal'; c: Case; o: BceOptions | FocalOptions }[] {
  const rng = mulberry32(31);
  const bceShape = [2, 1, 40_003];
  const sigmoidCase = randomBceCase(rng, bceShape, { activation: 'sigmoid' });
  const probCase = randomBceCase(rng, [1, 2, 33_001], { activation: 'none' });
  const smShape = [2, 3, 35_001];
  const sm: FocalReferenceOptions = { activation: 'softmax', ignoreIndex: 255, gamma: 2 };
  return [
    { fn: 'bce', c: { ...sigmoidCase, mask: randomMask(rng, bceShape, true) ?? new Uint8Array(2 * 40_003).fill(1) }, o: { activation: 'sigmoid', balance: 'hed', posWeight: 1.5 } },
    { fn: 'bce', c: { ...randomBceCase(rng, bceShape, { activation: 'sigmoid' }), target: randomDenseTarget(rng, 2 * 40_003, 'soft') }, o: { activation: 'sigmoid', balance: 'rcf', labelSmoothing: 0.1 } },
    { fn: 'bce', c: probCase, o: { activation: 'none' } },
    { fn: 'focal', c: randomFocalCase(rng, bceShape, { activation: 'sigmoid' }), o: { activation: 'sigmoid', gamma: 2 } },
    { fn: 'focal', c: randomFocalCase(rng, [1, 2, 33_001], { activation: 'none' }), o: { activation: 'none', gamma: 0.5, alpha: null } },
    { fn: 'focal', c: { ...randomFocalCase(rng, smShape, sm), mask: randomMask(rng, smShape, false) }, o: { ...sm, weight: [1, 0.5, 2] } as FocalOptions },
  ];
}

describe('memory paths', () => {
  beforeAll(() => init());

  it('multi-chunk JS-heap inputs give the bits of zero-copy WasmArrays, and match the references', () => {
    for (const { fn, c, o } of largeCases()) {
      const heap = runAll(fn, c, o, false);
      const wasm = runAll(fn, c, o, true);
      expectSameBits(heap, wasm);
      const ref = fn === 'bce'
        ? bceLossReference(c.input, c.target, { ...(o as BceReferenceOptions), shape: c.shape, mask: c.mask, reduction: 'sum' })
        : focalLossReference(c.input, c.target, { ...(o as FocalReferenceOptions), shape: c.shape, mask: c.mask, reduction: 'sum' });
      expectLoss(heap.loss, scalarOf(ref), 2e-7 * 2 * c.input.length);
      expectGrad(heap.grad, ref.grad!);
    }
  });

  it('misaligned subarrays (JS heap and Wasm memory) give the bits of aligned arrays', () => {
    const rng = mulberry32(32);
    for (let k = 0; k < 12; k++) {
      const shape = [randInt(rng, 1, 2), randInt(rng, 2, 3), randInt(rng, 1, 70)];
      const focal = k % 2 === 1;
      const o: BceOptions | FocalOptions = focal
        ? { activation: pick(rng, ['sigmoid', 'softmax'] as const), gamma: 2 }
        : { activation: pick(rng, ['none', 'sigmoid'] as const), balance: 'hed' };
      const c = focal ? randomFocalCase(rng, shape, o as FocalReferenceOptions) : randomBceCase(rng, shape, o as BceReferenceOptions);
      const fn = focal ? 'focal' as const : 'bce' as const;
      const aligned = runAll(fn, c, o, false);
      const off = randInt(rng, 1, 3);
      // JS heap: the arrays at an odd element offset inside larger buffers.
      const shift = <T extends Float32Array | Uint8Array | Uint16Array | Int32Array>(a: T): T => {
        const ctor = a.constructor as { new (n: number): T };
        const big = new ctor(a.length + off + 2);
        big.set(a as never, off);
        return big.subarray(off, off + a.length) as T;
      };
      const shifted: Case = { ...c, input: shift(c.input), target: shift(c.target), mask: c.mask && shift(c.mask) };
      expectSameBits(runAll(fn, shifted, o, false), aligned);
      // Wasm memory: views at an offset inside WasmArrays (zero copy, unaligned pointers).
      const wx = alloc(Float32Array, c.input.length + off), wg = alloc(c.target.constructor as Float32ArrayConstructor, c.target.length + off);
      const wgrad = alloc(Float32Array, c.input.length + off);
      const x = wx.view.subarray(off), g = wg.view.subarray(off), gr = wgrad.view.subarray(off);
      x.set(c.input); g.set(c.target as Float32Array);
      const loss = fn === 'bce'
        ? bceLoss(x, g, { ...(o as BceOptions), shape: c.shape, mask: c.mask, grad: gr, reduction: 'sum' })
        : focalLoss(x, g, { ...(o as FocalOptions), shape: c.shape, mask: c.mask, grad: gr, reduction: 'sum' });
      expect(f64Bits(loss)).toBe(f64Bits(aligned.loss));
      expect(firstBitDifference(wgrad.view.subarray(off), aligned.grad)).toBe(-1);
      for (const w of [wx, wg, wgrad]) w.free();
    }
  });
});

describe('SIMD and scalar builds', () => {
  afterAll(() => init({ simd: simdSupported() }));

  it('give the same bits', async () => {
    const rng = mulberry32(41);
    const cases: { fn: 'bce' | 'focal'; c: Case; o: BceOptions | FocalOptions }[] = [];
    for (let k = 0; k < 40; k++) {
      const shape = randomShape(rng, 70);
      if (k % 2 === 0) {
        const o = randomBceOptions(rng);
        cases.push({ fn: 'bce', c: randomBceCase(rng, shape, o), o: o as BceOptions });
      } else {
        const o = randomFocalOptions(rng, shape[1]!);
        cases.push({ fn: 'focal', c: randomFocalCase(rng, shape, o), o: o as FocalOptions });
      }
    }
    cases.push(...largeCases().slice(0, 1), ...largeCases().slice(5));
    await init({ simd: true });
    const simd = cases.map(({ fn, c, o }) => runAll(fn, c, o, false));
    await init({ simd: false });
    const scalar = cases.map(({ fn, c, o }) => runAll(fn, c, o, false));
    simd.forEach((s, i) => expectSameBits(s, scalar[i]!));
  });
});

// ------------------------------------------------------------ extreme inputs ---

describe('extreme inputs', () => {
  beforeAll(() => init());

  // Up to ±1e30: the losses are float32, so logits near the float32 limit (3e38) times a weight > 1 have
  // an element loss beyond float32 range (documented in bceLoss).
  const logits = [80, -80, 0, 1e-30, -1e-30, 30, -30, 87.5, -87.5, 200, -200, 1e4, -1e4, 1e30, -1e30, 16.7];
  const probs = [0, 1, 0, 1, 1e-45, 1 - 2 ** -24, 2 ** -24, 1e-30, 0.5, 1e-8, 1 - 1e-7, 0.25, 0, 1, 1e-40, 0.999];

  it('finite inputs never give NaN or Infinity, whatever the options', () => {
    const n = logits.length;
    const targets = [new Float32Array(n).fill(1), new Float32Array(n), Float32Array.from({ length: n }, (_, i) => (i % 3) / 2), new Uint8Array(n).map((_, i) => i % 2)];
    const bceOptions: BceOptions[] = [{}, { posWeight: 0 }, { posWeight: 5, labelSmoothing: 0.2 }, { balance: 'hed' }, { balance: 'rcf', rcfEta: 0.3 }];
    const focalOptions: FocalOptions[] = [{ gamma: 0 }, { gamma: 0.5 }, { gamma: 2, alpha: null }, { gamma: 3.3, alpha: 1 }];
    for (const target of targets) {
      for (const [activation, input] of [['sigmoid', logits], ['none', probs]] as const) {
        const x = Float32Array.from(input);
        for (const reduction of ['mean', 'sum'] as const) {
          for (const o of bceOptions) {
            const grad = new Float32Array(n);
            expect(Number.isFinite(bceLoss(x, target, { ...o, activation, reduction, grad }))).toBe(true);
            expect(grad.every(Number.isFinite)).toBe(true);
            expect(bceLoss(x, target, { ...o, activation, reduction: 'none' }).every(Number.isFinite)).toBe(true);
          }
          for (const o of focalOptions) {
            const grad = new Float32Array(n);
            expect(Number.isFinite(focalLoss(x, target, { ...o, activation, reduction, grad }))).toBe(true);
            expect(grad.every(Number.isFinite)).toBe(true);
            expect(focalLoss(x, target, { ...o, activation, reduction: 'none' }).every(Number.isFinite)).toBe(true);
          }
        }
      }
    }
    // Softmax with huge gaps between logits.
    const C = 4, S = n;
    const x = Float32Array.from({ length: C * S }, (_, i) => logits[(i * 7) % n]!);
    const t = Int32Array.from({ length: S }, (_, s) => s % C);
    for (const gamma of [0, 0.5, 2]) {
      const grad = new Float32Array(C * S);
      expect(Number.isFinite(focalLoss(x, t, { activation: 'softmax', shape: [1, C, S], gamma, grad }))).toBe(true);
      expect(grad.every(Number.isFinite)).toBe(true);
    }
  });

  it('logits ±80 (and ±30) and probabilities 0 / 1 match the references', () => {
    const x = new Float32Array([80, -80, 80, -80, 30, -30, 0.5, -0.5]);
    const g = new Float32Array([1, 0, 0, 1, 1, 0, 0.7, 0.2]);
    for (const o of [{}, { posWeight: 2, labelSmoothing: 0.1 }, { balance: 'hed' as const }]) {
      checkBce({ input: x, target: g, shape: [1, 1, 8] }, { ...o, activation: 'sigmoid' });
    }
    for (const gamma of [0, 0.5, 2]) checkFocal({ input: x, target: g, shape: [1, 1, 8] }, { activation: 'sigmoid', gamma });
    const p = new Float32Array([0, 1, 0, 1, 0.5, 1e-30, 0.3, 1 - 2 ** -24]);
    const h = new Float32Array([0, 1, 1, 0, 1, 0, 0.4, 1]);
    checkBce({ input: p, target: h, shape: [1, 1, 8] }, { activation: 'none' });
    checkBce({ input: p, target: h, shape: [1, 1, 8] }, { activation: 'none', balance: 'hed', posWeight: 0.5 });
    for (const gamma of [0, 0.5, 2]) checkFocal({ input: p, target: h, shape: [1, 1, 8] }, { activation: 'none', gamma });
    // Softmax: confident pixels (gap 160) right and wrong.
    const xs = new Float32Array([80, -80, 0, -80, 80, 0, 0, 0, 1]);
    const ys = new Uint8Array([0, 0, 2]);
    for (const gamma of [0, 0.5, 2]) checkFocal({ input: xs, target: ys, shape: [1, 3, 3] }, { activation: 'softmax', gamma });
  });
});
