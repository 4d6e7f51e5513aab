// diceCeLoss (fused Dice + cross-entropy on softmax logits with class ids):
// value and gradient against lambdaDice·diceLoss + lambdaCe·CE, with the Dice part
// from the float64 reference (diceLossReference) and CE written out here in
// float64 (PyTorch's cross_entropy with weight and ignore_index), and against the
// separate Wasm calls (diceLoss + focalLoss with γ = 0, which is CE where the
// weighting agrees); tails, chunked == zero-copy bits, SIMD == scalar bits, bad inputs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  init, simdSupported, alloc, diceLoss, focalLoss, diceCeLoss, diceLossReference, type DiceCeOptions,
} from '../src/index.ts';
import { mulberry32, randInt, pick, maxAbs, f32Bits, f64Bits } from './helpers.ts';
import { expectClose, expectSimdScalarSameBits, itRejectsOptions } from './fused-helpers.ts';

interface Case {
  x: Float32Array;
  t: Uint8Array | Uint16Array | Int32Array;
  options: Omit<DiceCeOptions, 'shape' | 'mask'> & { shape: number[]; mask?: Uint8Array };
}

function makeCase(seed: number, S?: number, fixed: Omit<Case['options'], 'shape'> = {}): Case {
  const rng = mulberry32(seed);
  const N = randInt(rng, 1, 3), C = randInt(rng, 2, 5), spatial = S ?? randInt(rng, 1, 40);
  const scale = pick(rng, [1, 5, 30, 80]);
  const x = Float32Array.from({ length: N * C * spatial }, () => (rng() * 2 - 1) * scale);
  const ignoreIndex = rng() < 0.3 ? pick(rng, [255, -1, C]) : undefined;
  const Ctor = pick(rng, [Uint8Array, Uint16Array, Int32Array] as const);
  const t = new Ctor(N * spatial);
  for (let i = 0; i < t.length; i++) {
    t[i] = ignoreIndex !== undefined && rng() < 0.15 && !(Ctor !== Int32Array && ignoreIndex < 0) ? ignoreIndex : randInt(rng, 0, C - 1);
  }
  const includeBackground = rng() < 0.7;
  const kept = C - (includeBackground ? 0 : 1);
  const options: Case['options'] = {
    shape: [N, C, spatial], includeBackground,
    squared: rng() < 0.3, jaccard: rng() < 0.3, transform: pick(rng, ['none', 'none', 'log', 'logcosh'] as const),
    smoothNr: pick(rng, [1e-5, 0, 0.5]), smoothDr: pick(rng, [1e-5, 1, 0.5]), batch: rng() < 0.3,
    weight: rng() < 0.3 ? Array.from({ length: kept }, () => rng() * 2) : undefined,
    ceWeight: rng() < 0.4 ? Array.from({ length: C }, () => pick(rng, [0, 0.5, 1, 3])) : undefined,
    lambdaDice: pick(rng, [1, 0, 0.3, 2.5]), lambdaCe: pick(rng, [1, 0, 0.7, 4]),
    reduction: pick(rng, ['mean', 'sum'] as const),
    ...(ignoreIndex !== undefined && !(Ctor !== Int32Array && ignoreIndex < 0) ? { ignoreIndex } : {}),
    ...fixed,
  };
  if (rng() < 0.3) options.mask = Uint8Array.from({ length: N * spatial }, () => (rng() < 0.8 ? 1 : 0));
  return { x, t, options };
}

/** PyTorch's cross_entropy(weight, ignore_index) in float64, masked pixels dropped; mean = Σw·ce/Σw (0 if empty). */
function crossEntropyReference(c: Case): { loss: number; grad: Float64Array } {
  const [N, C] = c.options.shape as [number, number];
  const S = c.x.length / (N * C);
  const w = c.options.ceWeight ?? new Array<number>(C).fill(1);
  const grad = new Float64Array(c.x.length);
  let total = 0, weightTotal = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const y = c.t[n * S + s]!;
      if (y === c.options.ignoreIndex || (c.options.mask && c.options.mask[n * S + s] === 0)) continue;
      // log Z = log1p(Σ_{k≠a} e^(x_k − m)), a the arg-max (its term is exactly 1): Math.log(1 + tiny)
      // would lose the tiny part in float64 for confident pixels.
      let a = 0;
      for (let k = 1; k < C; k++) if (c.x[(n * C + k) * S + s]! > c.x[(n * C + a) * S + s]!) a = k;
      const m = c.x[(n * C + a) * S + s]!;
      let rest = 0;
      for (let k = 0; k < C; k++) if (k !== a) rest += Math.exp(c.x[(n * C + k) * S + s]! - m);
      const z = 1 + rest;
      total += w[y]! * (m - c.x[(n * C + y) * S + s]! + Math.log1p(rest));
      weightTotal += w[y]!;
      for (let k = 0; k < C; k++) {
        const p = Math.exp(c.x[(n * C + k) * S + s]! - m) / z;
        grad[(n * C + k) * S + s] = w[y]! * (p - (k === y ? 1 : 0));
      }
    }
  }
  const scale = c.options.reduction === 'sum' ? 1 : weightTotal > 0 ? 1 / weightTotal : 0;
  return { loss: total * scale, grad: grad.map((v) => v * scale) };
}

function diceOptions(c: Case) {
  const { lambdaDice: _d, lambdaCe: _c, ceWeight: _w, ...dice } = c.options;
  return { ...dice, activation: 'softmax' as const, target: 'indices' as const };
}

function separateReference(c: Case): { loss: number; grad: Float64Array } {
  const d = diceLossReference(c.x, c.t, diceOptions(c));
  const ce = crossEntropyReference(c);
  if (typeof d.loss !== 'number' || !d.grad) throw new Error('expected a scalar Dice loss with a gradient');
  const ld = c.options.lambdaDice ?? 1, lc = c.options.lambdaCe ?? 1;
  const dg = d.grad;
  return { loss: ld * d.loss + lc * ce.loss, grad: Float64Array.from(dg, (v, i) => ld * v + lc * ce.grad[i]!) };
}

function fused(c: Case): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(c.x.length);
  return { loss: diceCeLoss(c.x, c.t, { ...c.options, grad }), grad };
}

const describeCase = (c: Case): string => JSON.stringify({ ...c.options, mask: c.options.mask ? 'pixel' : undefined, target: c.t.constructor.name });

describe('diceCeLoss against Dice + cross-entropy', () => {
  beforeAll(() => init());

  it('equals lambdaDice·Dice + lambdaCe·CE (float64 references) over random cases', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = makeCase(seed);
      expectClose(fused(c), separateReference(c), `seed ${seed} ${describeCase(c)}`);
    }
  });

  it('equals the separate Wasm calls diceLoss + focalLoss(γ = 0) where their weighting agrees', () => {
    for (let seed = 400; seed < 460; seed++) {
      const c = makeCase(seed, undefined, seed % 2 ? { ceWeight: undefined } : { reduction: 'sum' });
      const gd = new Float32Array(c.x.length), gc = new Float32Array(c.x.length);
      const d = diceLoss(c.x, c.t, { ...diceOptions(c), grad: gd });
      const ce = focalLoss(c.x, c.t, {
        shape: c.options.shape, activation: 'softmax', gamma: 0, weight: c.options.ceWeight, ignoreIndex: c.options.ignoreIndex,
        mask: c.options.mask, reduction: c.options.reduction, grad: gc,
      });
      const ld = c.options.lambdaDice ?? 1, lc = c.options.lambdaCe ?? 1;
      expectClose(fused(c), { loss: ld * d + lc * ce, grad: Float64Array.from(gd, (v, i) => ld * v + lc * gc[i]!) }, describeCase(c));
    }
  });

  it('keeps the relative accuracy of confident pixels (CE near 0)', () => {
    // Logits with a margin of 30: −log p_y ≈ (C − 1)·e^−30 ≈ 1e−13 per pixel.
    const N = 1, C = 3, S = 50;
    const x = new Float32Array(N * C * S), t = new Uint8Array(S);
    for (let s = 0; s < S; s++) { t[s] = s % C; x[(t[s]!) * S + s] = 30; }
    const c: Case = { x, t, options: { shape: [N, C, S], lambdaDice: 0 } };
    const ce = crossEntropyReference(c).loss;
    const loss = diceCeLoss(x, t, c.options);
    expect(Math.abs(loss - ce) / ce).toBeLessThan(1e-5);
  });

  it('stays finite when another class\'s logit gap overflows float32 (the label is the max)', () => {
    const F = 3.4028234663852886e38;
    for (const [x, t] of [[[-F, F, 0.33], 1], [[F, -F, 0.33], 0]] as const) {
      const grad = new Float32Array(3);
      const loss = diceCeLoss(Float32Array.from(x), Uint8Array.of(t), { shape: [1, 3, 1], lambdaDice: 0, grad });
      expect(loss).toBe(0); // p_y rounds to 1: −log p_y = 0
      expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    }
  });

  it('handles row tails: spatial lengths 1..17', () => {
    for (let S = 1; S <= 17; S++) {
      const c = makeCase(1000 + S, S);
      expectClose(fused(c), separateReference(c), `S = ${S} ${describeCase(c)}`);
    }
  });

  it('gives the same value without grad as with it, and 0 CE when every pixel is ignored', () => {
    for (let seed = 600; seed < 620; seed++) {
      const c = makeCase(seed);
      expect(f64Bits(diceCeLoss(c.x, c.t, c.options)), describeCase(c)).toBe(f64Bits(fused(c).loss));
    }
    const c = makeCase(7, 10, { lambdaDice: 0 });
    const grad = new Float32Array(c.x.length).fill(3);
    expect(diceCeLoss(c.x, c.t, { ...c.options, mask: new Uint8Array(c.t.length), grad })).toBe(0);
    expect(maxAbs(grad)).toBe(0);
  });
});

describe('diceCeLoss: chunked, zero-copy and SIMD/scalar paths', () => {
  beforeAll(() => init());
  afterAll(() => init({ simd: simdSupported() }));

  it('streams a multi-chunk JS-heap input and matches zero-copy bits', () => {
    const N = 2, C = 3, S = 40000;
    const c = makeCase(21, S, { batch: false });
    const rng = mulberry32(99);
    const x = Float32Array.from({ length: N * C * S }, () => (rng() * 2 - 1) * 8);
    const t = Int32Array.from({ length: N * S }, () => randInt(rng, 0, C - 1));
    const big: Case = { x, t, options: { ...c.options, shape: [N, C, S], weight: undefined, ceWeight: [1, 2, 0.5], mask: undefined, ignoreIndex: undefined } };
    const heapOut = fused(big);
    expectClose(heapOut, separateReference(big), 'chunked');
    const xw = alloc(Float32Array, x.length), tw = alloc(Int32Array, t.length), gw = alloc(Float32Array, x.length);
    try {
      xw.view.set(x); tw.view.set(t);
      const loss = diceCeLoss(xw, tw, { ...big.options, grad: gw });
      expect(f64Bits(loss)).toBe(f64Bits(heapOut.loss));
      expect(f32Bits(gw.view)).toEqual(f32Bits(heapOut.grad));
    } finally {
      xw.free(); tw.free(); gw.free();
    }
  });

  it('gives the same bits with the SIMD and the scalar build', async () => {
    if (!simdSupported()) return;
    const cases = Array.from({ length: 60 }, (_, i) => makeCase(3000 + i, i < 20 ? i + 1 : undefined));
    await expectSimdScalarSameBits(cases, fused, describeCase);
  });
});

describe('diceCeLoss: bad inputs', () => {
  beforeAll(() => init());
  const x = Float32Array.of(0.5, -1, 2, 0);
  const t = Uint8Array.of(1, 0);
  const shape = [1, 2, 2];
  const bad: [string, unknown, ErrorConstructor, RegExp][] = [
    ['lambdaCe negative', { lambdaCe: -1 }, RangeError, /options\.lambdaCe/],
    ['ceWeight of the wrong length', { ceWeight: [1] }, RangeError, /options\.ceWeight must have one entry per class \(2\)/],
    ['ceWeight negative', { ceWeight: [1, -1] }, RangeError, /options\.ceWeight\[1\]/],
    ['activation sigmoid', { activation: 'sigmoid' }, RangeError, /options\.activation/],
    ['dense target', { target: 'dense' }, RangeError, /options\.target/],
    ["reduction 'none'", { reduction: 'none' }, RangeError, /options\.reduction/],
    ['a per-element mask', { mask: new Uint8Array(4) }, RangeError, /options\.mask/],
    ['stats', { stats: new Float64Array(6) }, RangeError, /options\.stats/],
  ];
  for (const [name, extra, ErrorType, message] of bad) itRejectsOptions(name, (o) => diceCeLoss(x, t, { shape, ...(o as DiceCeOptions) }), extra, ErrorType, message);

  it('rejects out-of-range class ids and non-finite logits before writing grad', () => {
    const grad = new Float32Array(4).fill(7);
    expect(() => diceCeLoss(x, Uint8Array.of(2, 0), { shape, grad })).toThrow(/target\[0\] is 2/);
    expect(() => diceCeLoss(Float32Array.of(0, Infinity, 1, 1), t, { shape, grad })).toThrow(/input\[1\] is Infinity/);
    expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
  });
});
