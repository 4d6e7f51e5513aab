// The fused binary losses on sigmoid logits (diceBceLoss, diceFocalLoss,
// crispEdgeLoss): value and gradient against the weighted sum of their parts,
// computed by the separate Wasm calls (diceLoss, bceLoss, focalLoss) and by the
// float64 references, over random shapes and every supported option, tails,
// multi-chunk JS-heap input, zero-copy == JS-heap bits, SIMD == scalar bits, and
// bad inputs (which must throw before `grad` is written). crispEdgeLoss's Dice
// term, (ΣP² + ΣG² + s_dr)/(2ΣPG + s_nr), has no separate function: its float64
// reference is written out below and checked by finite differences.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  init, simdSupported, alloc, diceLoss, bceLoss, focalLoss, diceBceLoss, diceFocalLoss, crispEdgeLoss,
  diceLossReference, bceLossReference, focalLossReference,
  type DiceBceOptions, type DiceFocalOptions, type CrispEdgeOptions,
} from '../src/index.ts';
import { mulberry32, randInt, pick, maxAbs, f32Bits, f64Bits } from './helpers.ts';
import { expectClose, expectSimdScalarSameBits, itRejectsOptions } from './fused-helpers.ts';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

type Kind = 'bce' | 'focal' | 'crisp';
type AnyOptions = DiceBceOptions & DiceFocalOptions & Omit<CrispEdgeOptions, 'alpha'> & { alpha?: number | null; beta?: number };

/** One random problem and the options of the fused call. */
interface Case {
  kind: Kind;
  x: Float32Array;
  g: Float32Array | Uint8Array;
  mask: Uint8Array | undefined;
  options: Omit<AnyOptions, 'shape'> & { shape: number[] };
}

function makeCase(seed: number, S?: number, fixed: Omit<AnyOptions, 'shape'> = {}, kind: Kind = (['bce', 'focal', 'crisp'] as const)[seed % 3]!): Case {
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
    batch: rng() < 0.3, weight: rng() < 0.3 ? Array.from({ length: kept }, () => rng() * 2) : undefined,
    reduction: pick(rng, ['mean', 'sum'] as const),
  };
  if (kind !== 'crisp') {
    Object.assign(options, {
      squared: rng() < 0.3, jaccard: rng() < 0.3, transform: pick(rng, ['none', 'none', 'log', 'logcosh'] as const),
      smoothNr: pick(rng, [1e-5, 0, 0.5]), smoothDr: pick(rng, [1e-5, 1, 0.5]), lambdaDice: pick(rng, [1, 0, 0.3, 2.5]),
    });
  } else {
    Object.assign(options, { smoothNr: pick(rng, [1, 0.5, 2]), smoothDr: pick(rng, [1, 0, 3]), alpha: pick(rng, [1, 0, 0.3]), beta: pick(rng, [1, 0, 2]) });
  }
  if (kind === 'focal') {
    Object.assign(options, { lambdaFocal: pick(rng, [1, 0, 0.7, 4]), alpha: pick(rng, [0.25, null, 0.8, 0]), gamma: pick(rng, [2, 0, 0.5, 3]) });
  } else {
    const balance = pick(rng, kind === 'crisp' ? ['hed', 'hed', 'rcf', 'none'] as const : ['none', 'hed', 'rcf'] as const);
    Object.assign(options, {
      balance, posWeight: pick(rng, [1, 1, 3.5, 0]), labelSmoothing: pick(rng, [0, 0, 0.1, 0.3]),
      ...(balance === 'rcf' ? { rcfLambda: pick(rng, [1.1, 0.5]), rcfEta: pick(rng, [0.5, 0.3, 0.9]) } : {}),
      ...(kind === 'bce' ? { lambdaBce: pick(rng, [1, 0, 0.7, 4]) } : {}),
    });
  }
  Object.assign(options, fixed);
  if (options.balance !== 'rcf') { delete options.rcfLambda; delete options.rcfEta; }
  if (mask) options.mask = mask;
  return { kind, x, g, mask, options };
}

/** The parts' options and weights of a case (what diceLoss and bceLoss / focalLoss take). */
function splitOptions(c: Case) {
  const o = c.options;
  const crisp = c.kind === 'crisp';
  const dice = {
    shape: o.shape, activation: 'sigmoid' as const, mask: c.mask, includeBackground: o.includeBackground,
    squared: crisp ? true : o.squared, jaccard: o.jaccard, transform: o.transform,
    smoothNr: o.smoothNr ?? (crisp ? 1 : undefined), smoothDr: o.smoothDr ?? (crisp ? 1 : undefined),
    batch: o.batch, weight: o.weight, reduction: o.reduction,
  };
  const pixel = c.kind === 'focal'
    ? { shape: o.shape, activation: 'sigmoid' as const, mask: c.mask, alpha: o.alpha, gamma: o.gamma, reduction: o.reduction }
    : {
      shape: o.shape, activation: 'sigmoid' as const, mask: c.mask, balance: o.balance ?? (crisp ? 'hed' as const : undefined),
      posWeight: o.posWeight, labelSmoothing: o.labelSmoothing, rcfLambda: o.rcfLambda, rcfEta: o.rcfEta, reduction: o.reduction,
    };
  const lambdaDice = (crisp ? o.alpha as number | undefined : o.lambdaDice) ?? 1;
  const lambdaPix = (c.kind === 'bce' ? o.lambdaBce : c.kind === 'focal' ? o.lambdaFocal : o.beta) ?? 1;
  return { dice, pixel, lambdaDice, lambdaPix };
}

/**
 * crispEdgeLoss's Dice term in float64: per entry (row r = sample, or the batch), kept class c,
 * I = Σpg, Q = Σp² + Σg² over kept elements, L = w_c·(Q + s_dr)/(2I + s_nr); reduced over entries.
 * dL/dp = w_c·(2p/(2I + s_nr) − 2g·(Q + s_dr)/(2I + s_nr)²), times σ'(x).
 */
function crispDiceReference(c: Case): { loss: number; grad: Float64Array } {
  const s = splitOptions(c).dice;
  const [N, C] = s.shape as [number, number, number];
  const S = c.x.length / (N * C);
  const snr = s.smoothNr!, sdr = s.smoothDr!;
  const cStart = s.includeBackground === false ? 1 : 0;
  const rows = s.batch ? 1 : N;
  const keep = (n: number, ch: number, i: number) => !c.mask || (c.mask.length === N * S ? c.mask[n * S + i] : c.mask[(n * C + ch) * S + i]) !== 0;
  const I = new Float64Array(rows * C), Q = new Float64Array(rows * C);
  for (let n = 0; n < N; n++) for (let ch = 0; ch < C; ch++) for (let i = 0; i < S; i++) {
    if (!keep(n, ch, i)) continue;
    const e = (n * C + ch) * S + i, p = sigmoid(c.x[e]!), g = c.g[e]!, r = (s.batch ? 0 : n) * C + ch;
    I[r]! += p * g; Q[r]! += p * p + g * g;
  }
  const entries = rows * (C - cStart);
  const k = s.reduction === 'sum' ? 1 : 1 / entries;
  let loss = 0;
  for (let r = 0; r < rows; r++) for (let ch = cStart; ch < C; ch++) {
    const w = s.weight ? s.weight[ch - cStart]! : 1;
    loss += k * w * (Q[r * C + ch]! + sdr) / (2 * I[r * C + ch]! + snr);
  }
  const grad = new Float64Array(c.x.length);
  for (let n = 0; n < N; n++) for (let ch = cStart; ch < C; ch++) for (let i = 0; i < S; i++) {
    if (!keep(n, ch, i)) continue;
    const e = (n * C + ch) * S + i, p = sigmoid(c.x[e]!), g = c.g[e]!, r = (s.batch ? 0 : n) * C + ch;
    const w = s.weight ? s.weight[ch - cStart]! : 1, D = 2 * I[r]! + snr;
    grad[e] = k * w * (2 * p / D - 2 * g * (Q[r]! + sdr) / (D * D)) * p * (1 - p);
  }
  return { loss, grad };
}

/** The weighted sum of the parts from the separate Wasm calls (crisp: the Dice term from its reference). */
function separateWasm(c: Case): { loss: number; grad: Float64Array } {
  const s = splitOptions(c);
  const gd = new Float32Array(c.x.length), gp = new Float32Array(c.x.length);
  const d = c.kind === 'crisp' ? crispDiceReference(c) : { loss: diceLoss(c.x, c.g, { ...s.dice, grad: gd }), grad: gd };
  const p = c.kind === 'focal' ? focalLoss(c.x, c.g, { ...s.pixel, grad: gp }) : bceLoss(c.x, c.g, { ...(s.pixel as object), grad: gp });
  return { loss: s.lambdaDice * d.loss + s.lambdaPix * p, grad: Float64Array.from(d.grad, (v, i) => s.lambdaDice * v + s.lambdaPix * gp[i]!) };
}

/** The same from the float64 references. */
function separateReference(c: Case): { loss: number; grad: Float64Array } {
  const s = splitOptions(c);
  const d = c.kind === 'crisp' ? crispDiceReference(c) : diceLossReference(c.x, c.g, s.dice);
  const p = c.kind === 'focal' ? focalLossReference(c.x, c.g, s.pixel) : bceLossReference(c.x, c.g, s.pixel as object);
  if (typeof d.loss !== 'number' || typeof p.loss !== 'number' || !d.grad || !p.grad) throw new Error('expected scalar losses with gradients');
  const dg = d.grad, pg = p.grad;
  return { loss: s.lambdaDice * d.loss + s.lambdaPix * p.loss, grad: Float64Array.from(dg, (v, i) => s.lambdaDice * v + s.lambdaPix * pg[i]!) };
}

const FUSED = { bce: diceBceLoss, focal: diceFocalLoss, crisp: crispEdgeLoss } as const;

function fused(c: Case): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(c.x.length);
  const loss = (FUSED[c.kind] as (x: Float32Array, g: Float32Array | Uint8Array, o: object) => number)(c.x, c.g, { ...c.options, grad });
  return { loss, grad };
}

const describeOptions = (c: Case): string => JSON.stringify({ kind: c.kind, ...c.options, mask: c.mask ? c.mask.length : undefined, target: c.g.constructor.name });

describe('fused binary losses against the weighted sum of their parts', () => {
  beforeAll(() => init());

  it('equal lambdaDice·Dice + lambdaPixel·(BCE | focal) (Wasm and float64 references) over random cases', () => {
    for (let seed = 1; seed <= 450; seed++) {
      const c = makeCase(seed);
      const what = `seed ${seed} ${describeOptions(c)}`;
      const out = fused(c);
      expectClose(out, separateWasm(c), `${what} (Wasm)`);
      expectClose(out, separateReference(c), `${what} (reference)`);
    }
  });

  it('diceBceLoss covers every balance, label smoothing, reduction and lambda explicitly', () => {
    let seed = 1000;
    for (const balance of ['none', 'hed', 'rcf'] as const) {
      for (const reduction of ['mean', 'sum'] as const) {
        for (const [lambdaDice, lambdaBce] of [[1, 1], [0, 1], [1, 0], [0.25, 3]] as const) {
          for (const labelSmoothing of [0, 0.2]) {
            const c = makeCase(seed++, undefined, { balance, reduction, lambdaDice, lambdaBce, labelSmoothing, posWeight: 2.5 }, 'bce');
            expectClose(fused(c), separateReference(c), describeOptions(c));
          }
        }
      }
    }
  });

  it('diceFocalLoss covers α (including none) and γ explicitly', () => {
    let seed = 1500;
    for (const alpha of [0.25, null, 1, 0]) {
      for (const gamma of [0, 0.5, 2, 5]) {
        const c = makeCase(seed++, undefined, { alpha, gamma }, 'focal');
        expectClose(fused(c), separateReference(c), describeOptions(c));
      }
    }
  });

  it("crispEdgeLoss's Dice term reference matches central finite differences", () => {
    for (let seed = 1700; seed < 1712; seed++) {
      const c = makeCase(seed, randInt(mulberry32(seed), 1, 12), { alpha: 1, beta: 0 }, 'crisp');
      const x64 = Float64Array.from(c.x);
      const { grad } = crispDiceReference(c);
      const h = 1e-6;
      for (let i = 0; i < c.x.length; i += 3) {
        const at = (v: number) => { const x = Float64Array.from(x64); x[i] = v; return crispDiceReference({ ...c, x: x as unknown as Float32Array }).loss; };
        const fd = (at(x64[i]! + h) - at(x64[i]! - h)) / (2 * h);
        expect(Math.abs(fd - grad[i]!), `seed ${seed} element ${i}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('handles row tails: spatial lengths 1..17', () => {
    for (let S = 1; S <= 17; S++) {
      for (let k = 0; k < 3; k++) {
        const c = makeCase(2000 + S * 10 + k, S);
        expectClose(fused(c), separateReference(c), `S = ${S} ${describeOptions(c)}`);
      }
    }
  });

  it('uses the library defaults (sigmoid, mean, lambdas 1, no balance; crisp: HED, smoothing 1)', () => {
    for (const kind of ['bce', 'focal', 'crisp'] as const) {
      const c = makeCase(77, 23, {}, kind);
      const o = c.options;
      const plain: Case = { ...c, options: { shape: o.shape, mask: c.mask } };
      const grad = new Float32Array(c.x.length);
      const loss = (FUSED[kind] as (x: Float32Array, g: Float32Array | Uint8Array, o: object) => number)(c.x, c.g, { shape: o.shape, mask: c.mask, grad });
      expectClose({ loss, grad }, separateReference(plain), `defaults ${kind}`);
    }
  });

  it('gives 0 pixel loss (and no pixel gradient) when every element is masked out', () => {
    const c = makeCase(5, 9, { lambdaDice: 0, lambdaBce: 1, reduction: 'mean' }, 'bce');
    const mask = new Uint8Array(c.options.shape[0]! * 9);
    const grad = new Float32Array(c.x.length).fill(3);
    expect(diceBceLoss(c.x, c.g, { ...c.options, mask, grad })).toBe(0);
    expect(maxAbs(grad)).toBe(0);
  });

  it('gives the same value without grad as with it', () => {
    for (let seed = 2500; seed < 2530; seed++) {
      const c = makeCase(seed);
      const { grad: _g, ...o } = c.options as AnyOptions;
      const without = (FUSED[c.kind] as (x: Float32Array, g: Float32Array | Uint8Array, o: object) => number)(c.x, c.g, o);
      expect(f64Bits(without), describeOptions(c)).toBe(f64Bits(fused(c).loss));
    }
  });
});

describe('fused binary losses: chunked, zero-copy and SIMD/scalar paths', () => {
  beforeAll(() => init());
  afterAll(() => init({ simd: simdSupported() }));

  it('streams a multi-chunk JS-heap input (> 32768 elements per sample) and matches zero-copy bits', () => {
    for (const [seed, shape] of [[11, [2, 1, 40000]], [12, [1, 3, 20011]]] as const) {
      const [N, C, S] = shape;
      const c = makeCase(seed, S, {}, seed === 11 ? 'bce' : 'crisp');
      // makeCase picks N and C at random: rebuild the arrays for this shape.
      const rng = mulberry32(seed * 7);
      const n = N * C * S;
      const x = Float32Array.from({ length: n }, () => (rng() * 2 - 1) * 8);
      const g = Float32Array.from({ length: n }, () => (rng() < 0.2 ? 1 : rng() < 0.5 ? rng() : 0));
      const mask = Uint8Array.from({ length: N * S }, () => (rng() < 0.9 ? 1 : 0));
      const weight = c.options.weight ? Array.from({ length: C - (c.options.includeBackground ? 0 : 1) }, () => 1.5) : undefined;
      const big: Case = { kind: c.kind, x, g, mask, options: { ...c.options, includeBackground: C > 1 ? c.options.includeBackground : true, shape: [N, C, S], mask, weight } };
      const heapOut = fused(big);
      expectClose(heapOut, separateReference(big), `chunked ${describeOptions(big)}`);

      const xw = alloc(Float32Array, n), gw = alloc(Float32Array, n), mw = alloc(Uint8Array, N * S), gradW = alloc(Float32Array, n);
      try {
        xw.view.set(x); gw.view.set(g); mw.view.set(mask);
        const loss = (FUSED[big.kind] as (x: unknown, g: unknown, o: object) => number)(xw, gw, { ...big.options, mask: mw, grad: gradW });
        expect(f64Bits(loss)).toBe(f64Bits(heapOut.loss));
        expect(f32Bits(gradW.view)).toEqual(f32Bits(heapOut.grad));
      } finally {
        xw.free(); gw.free(); mw.free(); gradW.free();
      }
    }
  });

  it('gives the same bits with the SIMD and the scalar build', async () => {
    if (!simdSupported()) return;
    const cases = Array.from({ length: 90 }, (_, i) => makeCase(3000 + i, i < 20 ? i + 1 : i < 80 ? undefined : 2000));
    await expectSimdScalarSameBits(cases, fused, describeOptions);
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
    ['rcfEta outside (0, 1)', { balance: 'rcf', rcfEta: 1 }, RangeError, /options\.rcfEta/],
    ['rcfLambda without rcf', { balance: 'hed', rcfLambda: 2 }, RangeError, /options\.rcfLambda needs balance/],
    ['labelSmoothing 1', { labelSmoothing: 1 }, RangeError, /options\.labelSmoothing/],
    ['ignoreIndex', { ignoreIndex: 0 }, RangeError, /options\.ignoreIndex/],
    ['stats', { stats: new Float64Array(3) }, RangeError, /options\.stats/],
    ["reduction 'none'", { reduction: 'none' }, RangeError, /options\.reduction/],
    ['activation none', { activation: 'none' }, RangeError, /options\.activation/],
    ['activation softmax', { activation: 'softmax' }, RangeError, /options\.activation/],
    ['indices target', { target: 'indices' }, RangeError, /options\.target/],
    ['softLabel', { softLabel: true }, RangeError, /options\.softLabel/],
    ['squared not boolean', { squared: 1 }, TypeError, /options\.squared/],
  ];
  for (const [name, extra, ErrorType, message] of bad) itRejectsOptions(name, (o) => diceBceLoss(x, g, o as DiceBceOptions), extra, ErrorType, message);

  it('rejects an index-typed target array, out-of-range targets and non-finite logits', () => {
    const grad = new Float32Array(4).fill(7);
    expect(() => diceBceLoss(x, Int32Array.of(1, 0, 1, 0) as unknown as Float32Array, { grad })).toThrow(TypeError);
    expect(() => diceBceLoss(x, Float32Array.of(1, 0, 2, 0), { grad })).toThrow(/target\[2\] is 2/);
    expect(() => diceBceLoss(Float32Array.of(0, NaN, 1, 1), g, { grad })).toThrow(/input\[1\] is NaN/);
    expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
  });
});

describe('diceFocalLoss and crispEdgeLoss: bad inputs', () => {
  beforeAll(() => init());
  const x = Float32Array.of(0.5, -1, 2, 0);
  const g = Float32Array.of(1, 0, 1, 0);
  const bad: [string, (o: object) => number, unknown, ErrorConstructor, RegExp][] = [
    ['focal α above 1', (o) => diceFocalLoss(x, g, o), { alpha: 1.5 }, RangeError, /options\.alpha/],
    ['focal γ negative', (o) => diceFocalLoss(x, g, o), { gamma: -1 }, RangeError, /options\.gamma/],
    ['focal lambdaFocal negative', (o) => diceFocalLoss(x, g, o), { lambdaFocal: -1 }, RangeError, /options\.lambdaFocal/],
    ['focal reduction none', (o) => diceFocalLoss(x, g, o), { reduction: 'none' }, RangeError, /options\.reduction/],
    ['crisp α negative', (o) => crispEdgeLoss(x, g, o), { alpha: -1 }, RangeError, /options\.alpha/],
    ['crisp β NaN', (o) => crispEdgeLoss(x, g, o), { beta: NaN }, RangeError, /options\.beta/],
    ['crisp smoothNr 0', (o) => crispEdgeLoss(x, g, o), { smoothNr: 0 }, RangeError, /options\.smoothNr must be a finite number >= 0.000001/],
    ['crisp squared', (o) => crispEdgeLoss(x, g, o), { squared: false }, RangeError, /options\.squared is not an option/],
    ['crisp unknown balance', (o) => crispEdgeLoss(x, g, o), { balance: 'x' }, RangeError, /options\.balance/],
  ];
  for (const [name, call, extra, ErrorType, message] of bad) itRejectsOptions(name, call, extra, ErrorType, message);
});
