// Thresholded metrics: the Wasm counts against the plain reference (exactly: counts are integers)
// over every option and random shapes (tails, blocks, chunks), zero copy == JS heap, SIMD == scalar;
// the scores against hand-computed values for every average × empty; the error cases.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  init, simdSupported, alloc, confusion, diceScore, iouScore, precision, recall, fbetaScore,
  confusionReference, scoreReference,
  type Confusion, type ConfusionOptions, type ConfusionCounts, type ScoreName, type WasmArray,
} from '../src/index.ts';

import { mulberry32, randInt, pick, type RngFn as Rng } from './helpers.ts';

/** The float32 neighbours of a float32 value v (one step down, one step up). */
function f32Neighbours(v: number): [number, number] {
  const f = new Float32Array([v]);
  const u = new Int32Array(f.buffer);
  const bits = u[0]!;
  u[0] = v > 0 ? bits - 1 : v < 0 ? bits + 1 : -2147483647; // v = 0: −(smallest subnormal)
  const down = f[0]!;
  u[0] = v > 0 ? bits + 1 : v < 0 ? bits - 1 : 1;
  return [down, f[0]!];
}

// ---------------------------------------------------------------- random cases ---

type Activation = 'none' | 'sigmoid' | 'softmax';
type TargetKind = 'f32' | 'u8' | 'idx-u8' | 'idx-u16' | 'idx-i32';
type IgnoreKind = 'none' | 'in-range' | 'out-of-range';
type MaskKind = 'none' | 'pixel' | 'element';
type TargetArray = Float32Array | Uint8Array | Uint16Array | Int32Array;

const ACTIVATION_MASKS: readonly (readonly [Activation, MaskKind])[] = [
  ['none', 'none'], ['none', 'pixel'], ['none', 'element'],
  ['sigmoid', 'none'], ['sigmoid', 'pixel'], ['sigmoid', 'element'],
  ['softmax', 'none'], ['softmax', 'pixel'],
];
const TARGET_VARIANTS: readonly (readonly [TargetKind, IgnoreKind])[] = [
  ['f32', 'none'], ['u8', 'none'],
  ...(['idx-u8', 'idx-u16', 'idx-i32'] as const).flatMap((t) => (['none', 'in-range', 'out-of-range'] as const).map((i) => [t, i] as const)),
];
// float32(0.3) > 0.3 but float32(0.7) < 0.7: the cutoff must round the threshold up, not to nearest.
const THRESHOLDS = [undefined, 0, 0.3, 0.5, 0.7, 0.75, 1, 0.123456789] as const;

interface Spec {
  activation: Activation; target: TargetKind; ignore: IgnoreKind; mask: MaskKind;
  includeBackground: boolean; batch: boolean; threshold: number | undefined; shape: number[]; seed: number;
}
interface Case { spec: Spec; input: Float32Array; target: TargetArray; mask: Uint8Array | undefined; options: ConfusionOptions }

function randomSpec(rng: Rng, S: number, fixed: Partial<Spec> = {}): Spec {
  const [activation, mask] = pick(rng, ACTIVATION_MASKS);
  const [target, ignore] = pick(rng, TARGET_VARIANTS);
  const s: Spec = {
    activation, mask, target, ignore, includeBackground: rng() < 0.6, batch: rng() < 0.5,
    threshold: pick(rng, THRESHOLDS), shape: [], seed: Math.floor(rng() * 2 ** 31), ...fixed,
  };
  if (s.activation === 'softmax') { s.threshold = undefined; if (s.mask === 'element') s.mask = 'pixel'; }
  const minC = s.activation === 'softmax' || !s.includeBackground ? 2 : 1;
  if (s.shape.length === 0) s.shape = [randInt(rng, 1, 3), randInt(rng, minC, 4), S];
  return s;
}

/**
 * The data of a spec. Inputs mix random values with the ones where a comparison flips: for 'none',
 * the threshold's float32 and its neighbours, 0, 1, 0.5; for 'sigmoid', 0, −0 and the float32
 * neighbours of log(t/(1 − t)) (when that is not near 0: at t = 1/2 they are subnormal, where the
 * reference's float64 σ rounds to exactly 1/2); for 'softmax', small integers (ties between channels)
 * half of the time. Logits stay in ±20, where σ < 1 in float64 (threshold 1 means "never").
 * Dense targets include 0.5, its float32 predecessor, −0, 0 and 1.
 */
function makeCase(spec: Spec): Case {
  const rng = mulberry32(spec.seed);
  const [N, C] = spec.shape as [number, number];
  const S = spec.shape.slice(2).reduce((a, b) => a * b, 1);
  const len = N * C * S;
  const t = spec.threshold ?? 0.5;
  const special: number[] = [];
  if (spec.activation === 'none') special.push(0, 1, 0.5, Math.fround(t), ...f32Neighbours(Math.fround(t)));
  if (spec.activation === 'sigmoid') {
    special.push(0, -0);
    if (t > 0 && t < 1 && Math.abs(t - 0.5) > 0.01) {
      const l = Math.fround(Math.log(t / (1 - t)));
      special.push(l, ...f32Neighbours(l));
    }
  }
  const ties = spec.activation === 'softmax' && rng() < 0.5;
  const input = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    if (ties) input[i] = randInt(rng, -2, 2);
    else if (special.length > 0 && rng() < 0.2) input[i] = pick(rng, special);
    else input[i] = spec.activation === 'none' ? rng() : rng() * 40 - 20;
  }
  const ignoreIndex = spec.ignore === 'none' ? undefined
    : spec.ignore === 'in-range' ? randInt(rng, 0, C - 1)
      : spec.target === 'idx-u8' ? 255 : spec.target === 'idx-u16' ? 65535 : -100;
  let target: TargetArray;
  if (spec.target === 'f32') {
    target = Float32Array.from({ length: len }, () => (rng() < 0.3 ? pick(rng, [0, 1, 0.5, Math.fround(0.5 - 2 ** -25), -0]) : rng()));
  } else if (spec.target === 'u8') {
    target = Uint8Array.from({ length: len }, () => (rng() < 0.4 ? 1 : 0));
  } else {
    const ctor = spec.target === 'idx-u8' ? Uint8Array : spec.target === 'idx-u16' ? Uint16Array : Int32Array;
    const labels = Array.from({ length: N * S }, () => (ignoreIndex !== undefined && rng() < 0.15 ? ignoreIndex : randInt(rng, 0, C - 1)));
    target = ctor.from(labels);
  }
  const mask = spec.mask === 'none' ? undefined
    : Uint8Array.from({ length: spec.mask === 'pixel' ? N * S : len }, () => (rng() < 0.8 ? pick(rng, [1, 7, 255]) : 0));
  const options: ConfusionOptions = {
    shape: spec.shape, activation: spec.activation, target: spec.target.startsWith('idx') ? 'indices' : 'dense',
    includeBackground: spec.includeBackground, batch: spec.batch,
  };
  if (ignoreIndex !== undefined) options.ignoreIndex = ignoreIndex;
  if (spec.threshold !== undefined) options.threshold = spec.threshold;
  return { spec, input, target, mask, options };
}

/** The four counts as plain arrays, to compare exactly (and print readably). */
const plain = (c: { tp: ArrayLike<number>; fp: ArrayLike<number>; fn: ArrayLike<number>; tn: ArrayLike<number>; samples: number; classes: number }) => ({
  tp: Array.from(c.tp), fp: Array.from(c.fp), fn: Array.from(c.fn), tn: Array.from(c.tn), samples: c.samples, classes: c.classes,
});

function run(c: Case, arrays: { input?: Float32Array | WasmArray<Float32Array>; target?: TargetArray | WasmArray<TargetArray>; mask?: Uint8Array | WasmArray<Uint8Array> } = {}): Confusion {
  const mask = arrays.mask ?? c.mask;
  return confusion(arrays.input ?? c.input, (arrays.target ?? c.target) as TargetArray, { ...c.options, ...(mask ? { mask } : {}) });
}

/** Runs the case and returns a description of the first mismatch with the reference, or null. */
function referenceMismatch(c: Case): string | null {
  const got = plain(run(c));
  const want = plain(confusionReference(c.input, c.target, { ...c.options, mask: c.mask }));
  return JSON.stringify(got) === JSON.stringify(want) ? null
    : `${JSON.stringify(c.spec)}\n  got  ${JSON.stringify(got).slice(0, 300)}\n  want ${JSON.stringify(want).slice(0, 300)}`;
}

function expectNoMismatch(cases: Case[]): void {
  const failures = cases.map(referenceMismatch).filter((m): m is string => m !== null);
  expect(failures.slice(0, 3).join('\n'), `${failures.length} of ${cases.length} cases differ`).toBe('');
}

/** Every activation × mask × target × ignore × includeBackground × batch, each with a random length 1..17. */
function gridCases(seed: number): Case[] {
  const rng = mulberry32(seed);
  const cases: Case[] = [];
  for (const [activation, mask] of ACTIVATION_MASKS) {
    for (const [target, ignore] of TARGET_VARIANTS) {
      for (const includeBackground of [true, false]) {
        for (const batch of [false, true]) {
          cases.push(makeCase(randomSpec(rng, randInt(rng, 1, 17), { activation, mask, target, ignore, includeBackground, batch })));
        }
      }
    }
  }
  return cases;
}

/** Large cases: several chunks per sample (C·S > 32768) and several samples per chunk. */
function largeCases(): Case[] {
  const rng = mulberry32(77);
  return [
    makeCase(randomSpec(rng, 0, { shape: [2, 3, 40_001], activation: 'softmax', mask: 'pixel', target: 'idx-u16', ignore: 'out-of-range', includeBackground: false, batch: false })),
    makeCase(randomSpec(rng, 0, { shape: [2, 2, 181, 191], activation: 'sigmoid', mask: 'element', target: 'f32', ignore: 'none', includeBackground: true, batch: true, threshold: 0.3 })),
    makeCase(randomSpec(rng, 0, { shape: [1, 1, 70_003], activation: 'none', mask: 'none', target: 'u8', ignore: 'none', includeBackground: true, batch: false, threshold: 0.75 })),
    makeCase(randomSpec(rng, 0, { shape: [9, 2, 3001], activation: 'none', mask: 'pixel', target: 'idx-i32', ignore: 'in-range', includeBackground: true, batch: false, threshold: 0.5 })),
  ];
}

// ------------------------------------------------------------------- counts ---

describe('confusion equals the reference exactly', () => {
  beforeAll(() => init());

  it('every option combination (352 cases, lengths 1..17)', () => {
    expectNoMismatch(gridCases(1));
  });

  it('every spatial length 1..17 and lengths of a few thousand, random options', () => {
    const rng = mulberry32(2);
    const cases: Case[] = [];
    for (let S = 1; S <= 17; S++) for (let k = 0; k < 12; k++) cases.push(makeCase(randomSpec(rng, S)));
    for (let k = 0; k < 24; k++) cases.push(makeCase(randomSpec(rng, randInt(rng, 1000, 5000))));
    // Several spatial dimensions, and row lengths just around the 1024-element block.
    for (const sp of [[31, 33], [1023], [1024], [1025], [2047], [8, 128], [3, 5, 7]]) {
      for (let k = 0; k < 3; k++) cases.push(makeCase(randomSpec(rng, 0, { shape: [randInt(rng, 1, 2), 3, ...sp] })));
    }
    expectNoMismatch(cases);
  });

  it('inputs chunked from the JS heap (> 32768 elements per sample, many samples per chunk)', () => {
    expectNoMismatch(largeCases());
  });

  it('a hand-counted softmax case: arg-max with ties (first max), ignoreIndex, includeBackground', () => {
    // Pixels s0..s3, logits over 3 channels: s0 [2, 1, 0] → 0; s1 [1, 3, 3] → 1 (tie: first);
    // s2 [0, 0, 0] → 0; s3 [−1, 5, 4.9] → 1. Labels [0, 2, 1, 1].
    const x = new Float32Array([2, 1, 0, -1, /* c1 */ 1, 3, 0, 5, /* c2 */ 0, 3, 0, 4.9]);
    const t = new Uint8Array([0, 2, 1, 1]);
    const o = { shape: [1, 3, 4], activation: 'softmax', target: 'indices' } as const;
    // c0: predicted s0, s2; labelled s0 → TP 1, FP 1 (s2), FN 0, TN 2 (s1, s3).
    // c1: predicted s1, s3; labelled s2, s3 → TP 1 (s3), FP 1 (s1), FN 1 (s2), TN 1 (s0).
    // c2: predicted nowhere; labelled s1 → FN 1, TN 3.
    expect(plain(confusion(x, t, o))).toEqual({ tp: [1, 1, 0], fp: [1, 1, 0], fn: [0, 1, 1], tn: [2, 1, 3], samples: 1, classes: 3 });
    // ignoreIndex 2 drops pixel s1 everywhere; includeBackground false drops c0 after the arg-max.
    // c1: predicted s3; labelled s2, s3 → TP 1, FP 0, FN 1, TN 1 (s0). c2: TN 3 (s0, s2, s3).
    expect(plain(confusion(x, t, { ...o, ignoreIndex: 2, includeBackground: false })))
      .toEqual({ tp: [1, 0], fp: [0, 0], fn: [1, 0], tn: [1, 3], samples: 1, classes: 2 });
  });

  it('thresholds compare with >=, after the activation, decided exactly on the logit for sigmoid', () => {
    const dense = { target: 'dense' } as const;
    // 'none', t = 0.5: p = 0.5 is positive, its float32 predecessor is not.
    const below = Math.fround(0.5 - 2 ** -25);
    expect(plain(confusion(new Float32Array([0.5, below]), new Float32Array([1, 1]), { ...dense, batch: true })).tp).toEqual([1]);
    // t = 0.3 is not a float32: fround(0.3) = 0.30000001192… ≥ 0.3 counts, its predecessor 0.29999998… does not.
    const [under] = f32Neighbours(Math.fround(0.3));
    expect(plain(confusion(new Float32Array([Math.fround(0.3), under]), new Float32Array([1, 1]), { threshold: 0.3 })).tp).toEqual([1]);
    // t = 0.7: fround(0.7) = 0.69999998… < 0.7 does not count, its successor 0.70000004… does.
    const [, over] = f32Neighbours(Math.fround(0.7));
    expect(plain(confusion(new Float32Array([Math.fround(0.7), over]), new Float32Array([1, 1]), { threshold: 0.7 })).tp).toEqual([1]);
    // sigmoid, t = 0.5: σ(0) = σ(−0) = 1/2 counts; σ(−1e−45) < 1/2 does not.
    const z = new Float32Array([0, -0, -1e-45]);
    expect(plain(confusion(z, new Float32Array([1, 1, 1]), { activation: 'sigmoid' })).tp).toEqual([2]);
    // sigmoid, t = 1: σ(x) < 1 for every finite x (a float32 σ(30) would round to 1); t = 0: σ(x) > 0.
    const big = new Float32Array([30, 100, -100]);
    expect(plain(confusion(big, new Float32Array([1, 1, 1]), { activation: 'sigmoid', threshold: 1 })).tp).toEqual([0]);
    expect(plain(confusion(big, new Float32Array([1, 1, 1]), { activation: 'sigmoid', threshold: 0 })).tp).toEqual([3]);
    // Dense targets: g ≥ 0.5 is positive (0.5 yes, its predecessor no); −0 is a valid negative.
    expect(plain(confusion(new Float32Array([1, 1, 1]), new Float32Array([0.5, below, -0]), {})))
      .toEqual({ tp: [1], fp: [2], fn: [0], tn: [0], samples: 1, classes: 1 });
  });
});

describe('memory paths and builds', () => {
  beforeAll(() => init());
  afterAll(() => init({ simd: simdSupported() }));

  function toWasm<T extends TargetArray>(a: T): WasmArray<T> {
    const w = alloc(a.constructor as unknown as { new (b: ArrayBuffer, o: number, l: number): T; BYTES_PER_ELEMENT: number; name: string }, a.length);
    w.view.set(a as never);
    return w;
  }

  it('zero-copy WasmArrays (and their views) give the counts of JS-heap arrays', () => {
    const rng = mulberry32(5);
    const cases = [...largeCases(), ...Array.from({ length: 40 }, () => makeCase(randomSpec(rng, randInt(rng, 1, 300))))];
    for (const c of cases) {
      const heap = plain(run(c));
      const wx = toWasm(c.input), wg = toWasm(c.target), wm = c.mask && toWasm(c.mask);
      expect(plain(run(c, { input: wx, target: wg, mask: wm }))).toEqual(heap);
      expect(plain(run(c, { input: wx.view, target: wg.view, mask: wm?.view }))).toEqual(heap);
      // Mixed: only the input in Wasm memory (the others staged).
      expect(plain(run(c, { input: wx }))).toEqual(heap);
      wx.free(); wg.free(); wm?.free();
    }
  });

  it('the scalar build gives the counts of the SIMD build', async () => {
    const rng = mulberry32(6);
    const cases = [...gridCases(7), ...largeCases(), ...Array.from({ length: 30 }, () => makeCase(randomSpec(rng, randInt(rng, 8, 3000))))];
    await init({ simd: false });
    const scalar = cases.map((c) => plain(run(c)));
    if (simdSupported()) {
      await init({ simd: true });
      const simd = cases.map((c) => plain(run(c)));
      simd.forEach((s, i) => expect(s).toEqual(scalar[i]));
    }
    // And both equal the reference.
    cases.forEach((c, i) => expect(scalar[i]).toEqual(plain(confusionReference(c.input, c.target, { ...c.options, mask: c.mask }))));
  });
});

// ------------------------------------------------------------------- scores ---

// Hand-made counts, samples = 3, classes = 3 (entry n·3 + c):
//   n0: c0 (tp 3, fp 1, fn 0)   c1 (0, 0, 0)   c2 (0, 0, 0)
//   n1: c0 (tp 1, fp 1, fn 2)   c1 (0, 2, 0)   c2 (0, 0, 0)
//   n2: c0 (0, 0, 0)            c1 (0, 0, 0)   c2 (0, 0, 0)
// Sums: all tp 4, fp 4, fn 2. Class c0: tp 4, fp 2, fn 2; c1: fp 2; c2: nothing.
// Sample n0: tp 3, fp 1, fn 0; n1: tp 1, fp 3, fn 2; n2: nothing.
const HAND: ConfusionCounts = {
  tp: [3, 0, 0, 1, 0, 0, 0, 0, 0],
  fp: [1, 0, 0, 1, 2, 0, 0, 0, 0],
  fn: [0, 0, 0, 2, 0, 0, 0, 0, 0],
  tn: [4, 8, 8, 4, 6, 8, 5, 5, 5],
  samples: 3,
  classes: 3,
};
const E = Symbol('empty'); // an entry whose denominator is 0
type Expected = { micro: number; macro: Record<'nan' | 'one' | 'zero' | 'skip', number>; samples: Record<'nan' | 'one' | 'zero' | 'skip', number>; none: (number | typeof E)[] };
const HAND_EXPECTED: Record<ScoreName, Expected> = {
  // 2tp/(2tp + fp + fn). Entries: n0c0 6/7, n1c0 2/(2 + 1 + 2) = 2/5, n1c1 0/2 = 0, others empty.
  // micro 8/(8 + 4 + 2) = 4/7. macro: c0 8/12 = 2/3, c1 0, c2 empty → one (2/3 + 0 + 1)/3 = 5/9,
  // zero (2/3)/3 = 2/9, skip (2/3)/2 = 1/3. samples: n0 6/7, n1 2/(2 + 3 + 2) = 2/7, n2 empty →
  // one (8/7 + 1)/3 = 5/7, zero (8/7)/3 = 8/21, skip (8/7)/2 = 4/7.
  dice: {
    micro: 4 / 7,
    macro: { nan: NaN, one: 5 / 9, zero: 2 / 9, skip: 1 / 3 },
    samples: { nan: NaN, one: 5 / 7, zero: 8 / 21, skip: 4 / 7 },
    none: [6 / 7, E, E, 2 / 5, 0, E, E, E, E],
  },
  // tp/(tp + fp + fn). Entries: n0c0 3/4, n1c0 1/4, n1c1 0. micro 4/10 = 2/5. macro: c0 4/8 = 1/2, c1 0,
  // c2 empty → one 3/2/3 = 1/2, zero 1/6, skip 1/4. samples: n0 3/4, n1 1/6, n2 empty →
  // one (3/4 + 1/6 + 1)/3 = 23/36, zero (11/12)/3 = 11/36, skip (11/12)/2 = 11/24.
  iou: {
    micro: 2 / 5,
    macro: { nan: NaN, one: 1 / 2, zero: 1 / 6, skip: 1 / 4 },
    samples: { nan: NaN, one: 23 / 36, zero: 11 / 36, skip: 11 / 24 },
    none: [3 / 4, E, E, 1 / 4, 0, E, E, E, E],
  },
  // tp/(tp + fp). Entries: n0c0 3/4, n1c0 1/2, n1c1 0/2 = 0. micro 4/8 = 1/2. macro: c0 4/6 = 2/3, c1 0,
  // c2 empty → one 5/9, zero 2/9, skip 1/3. samples: n0 3/4, n1 1/4, n2 empty → one 2/3, zero 1/3, skip 1/2.
  precision: {
    micro: 1 / 2,
    macro: { nan: NaN, one: 5 / 9, zero: 2 / 9, skip: 1 / 3 },
    samples: { nan: NaN, one: 2 / 3, zero: 1 / 3, skip: 1 / 2 },
    none: [3 / 4, E, E, 1 / 2, 0, E, E, E, E],
  },
  // tp/(tp + fn). Entries: n0c0 1, n1c0 1/3; n1c1 is empty (tp + fn = 0, although fp = 2). micro 4/6 = 2/3.
  // macro: c0 4/6 = 2/3, c1 and c2 empty → one (2/3 + 2)/3 = 8/9, zero 2/9, skip 2/3.
  // samples: n0 1, n1 1/3, n2 empty → one 7/9, zero 4/9, skip 2/3.
  recall: {
    micro: 2 / 3,
    macro: { nan: NaN, one: 8 / 9, zero: 2 / 9, skip: 2 / 3 },
    samples: { nan: NaN, one: 7 / 9, zero: 4 / 9, skip: 2 / 3 },
    none: [1, E, E, 1 / 3, E, E, E, E, E],
  },
  // β = 2: 5tp/(5tp + 4fn + fp). Entries: n0c0 15/16, n1c0 5/(5 + 8 + 1) = 5/14, n1c1 0/2 = 0.
  // micro 20/(20 + 8 + 4) = 5/8. macro: c0 20/(20 + 8 + 2) = 2/3, c1 0, c2 empty → 5/9, 2/9, 1/3.
  // samples: n0 15/16, n1 5/(5 + 8 + 3) = 5/16, n2 empty → one (20/16 + 1)/3 = 3/4, zero 5/12, skip 5/8.
  fbeta: {
    micro: 5 / 8,
    macro: { nan: NaN, one: 5 / 9, zero: 2 / 9, skip: 1 / 3 },
    samples: { nan: NaN, one: 3 / 4, zero: 5 / 12, skip: 5 / 8 },
    none: [15 / 16, E, E, 5 / 14, 0, E, E, E, E],
  },
};
const SCORES = { dice: diceScore, iou: iouScore, precision, recall, fbeta: fbetaScore } as const;
const EMPTIES = ['nan', 'one', 'zero', 'skip'] as const;

/** Calls the named score on counts (β = 2 for fbeta). */
function scoreOf(name: ScoreName, counts: ConfusionCounts, options: { average?: 'micro' | 'macro' | 'samples' | 'none'; empty?: (typeof EMPTIES)[number] }): number | Float64Array {
  return name === 'fbeta' ? fbetaScore(counts, { ...options, beta: 2 }) : SCORES[name](counts, options);
}

function expectClose(actual: number, expected: number): void {
  if (Number.isNaN(expected)) expect(actual).toBeNaN();
  else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-15 * Math.abs(expected));
}

describe('scores', () => {
  beforeAll(() => init());

  for (const name of Object.keys(HAND_EXPECTED) as ScoreName[]) {
    it(`${name}: hand-computed values for every average × empty`, () => {
      const want = HAND_EXPECTED[name];
      for (const empty of EMPTIES) {
        expectClose(scoreOf(name, HAND, { average: 'micro', empty }) as number, want.micro);
        expectClose(scoreOf(name, HAND, { average: 'macro', empty }) as number, want.macro[empty]);
        expectClose(scoreOf(name, HAND, { average: 'samples', empty }) as number, want.samples[empty]);
        const none = scoreOf(name, HAND, { average: 'none', empty });
        expect(none).toBeInstanceOf(Float64Array);
        const fill = empty === 'one' ? 1 : empty === 'zero' ? 0 : NaN; // 'nan' and 'skip': NaN entries
        Array.from(none as Float64Array).forEach((v, i) => expectClose(v, want.none[i] === E ? fill : want.none[i] as number));
      }
      // Defaults: average 'macro', empty 'skip'.
      expectClose(scoreOf(name, HAND, {}) as number, want.macro.skip);
    });
  }

  it('everything empty: micro gives the empty value, and skipping everything gives NaN', () => {
    const zero: ConfusionCounts = { tp: [0, 0], fp: [0, 0], fn: [0, 0], tn: [5, 5], samples: 2, classes: 1 };
    for (const average of ['micro', 'macro', 'samples'] as const) {
      expect(diceScore(zero, { average, empty: 'one' })).toBe(1);
      expect(diceScore(zero, { average, empty: 'zero' })).toBe(0);
      expect(diceScore(zero, { average, empty: 'nan' })).toBeNaN();
      expect(diceScore(zero, { average, empty: 'skip' })).toBeNaN();
    }
  });

  it('fbetaScore: β = 1 is Dice, β → large approaches recall, β → small approaches precision', () => {
    for (const average of ['micro', 'macro', 'samples'] as const) {
      expectClose(fbetaScore(HAND, { average, beta: 1 }), diceScore(HAND, { average }));
      expectClose(fbetaScore(HAND, { average }), diceScore(HAND, { average })); // default β = 1
    }
    // n0c0 alone: tp 3, fp 1, fn 0 → recall 1, precision 3/4; Fβ = (1 + β²)3/((1 + β²)3 + 1).
    const one: ConfusionCounts = { tp: [3], fp: [1], fn: [0], tn: [4], samples: 1, classes: 1 };
    expectClose(fbetaScore(one, { beta: 0.5 }), (1.25 * 3) / (1.25 * 3 + 1));
    expect(Math.abs(fbetaScore(one, { beta: 1e4 }) - 1)).toBeLessThan(1e-8);
    expect(Math.abs(fbetaScore(one, { beta: 1e-4 }) - 3 / 4)).toBeLessThan(1e-8);
  });

  it('a hand-computed case straight from arrays, equal to the score of its confusion', () => {
    // Predicted [1, 0, 1, 0] (p ≥ 0.5), labelled [1, 0, 0, 1]: TP 1, FP 1, FN 1, TN 1.
    const x = new Float32Array([0.9, 0.2, 0.6, 0.4]);
    const g = new Float32Array([1, 0, 0, 1]);
    expect(plain(confusion(x, g))).toEqual({ tp: [1], fp: [1], fn: [1], tn: [1], samples: 1, classes: 1 });
    expect(diceScore(x, g)).toBe(0.5);          // 2/(2 + 1 + 1)
    expect(iouScore(x, g)).toBe(1 / 3);         // 1/(1 + 1 + 1)
    expect(precision(x, g)).toBe(0.5);          // 1/(1 + 1)
    expect(recall(x, g)).toBe(0.5);             // 1/(1 + 1)
    expect(fbetaScore(x, g, { beta: 2 })).toBe(0.5); // 5/(5 + 4 + 1)
    // Threshold 0.1 predicts everything: TP 2, FP 2 → precision 1/2, recall 1, Dice 4/6.
    expect(precision(x, g, { threshold: 0.1 })).toBe(0.5);
    expect(recall(x, g, { threshold: 0.1 })).toBe(1);
    expectClose(diceScore(x, g, { threshold: 0.1 }), 2 / 3);
    // On random arrays, every score called on arrays equals the score of confusion().
    const rng = mulberry32(9);
    for (let k = 0; k < 30; k++) {
      const c = makeCase(randomSpec(rng, randInt(rng, 1, 40)));
      const options = { ...c.options, ...(c.mask ? { mask: c.mask } : {}) };
      const conf = confusion(c.input, c.target, options);
      for (const average of ['micro', 'macro', 'samples', 'none'] as const) {
        for (const name of Object.keys(SCORES) as ScoreName[]) {
          const direct = name === 'fbeta' ? fbetaScore(c.input, c.target, { ...options, average, beta: 2 }) : SCORES[name](c.input, c.target, { ...options, average });
          expect(direct).toEqual(scoreOf(name, conf, { average }));
        }
      }
    }
  });

  it('random counts: every score × average × empty equals scoreReference', () => {
    const rng = mulberry32(10);
    for (let k = 0; k < 200; k++) {
      const samples = randInt(rng, 1, 4), classes = randInt(rng, 1, 4), n = samples * classes;
      const count = () => (rng() < 0.4 ? 0 : randInt(rng, 0, 50));
      const counts: ConfusionCounts = {
        tp: Float64Array.from({ length: n }, count), fp: Float64Array.from({ length: n }, count),
        fn: Float64Array.from({ length: n }, count), tn: Float64Array.from({ length: n }, count), samples, classes,
      };
      const beta = pick(rng, [0.5, 1, 2, 0.1 + 3 * rng()]);
      for (const average of ['micro', 'macro', 'samples', 'none'] as const) {
        for (const empty of EMPTIES) {
          for (const name of Object.keys(SCORES) as ScoreName[]) {
            const got = (name === 'fbeta' ? fbetaScore(counts, { average, empty, beta }) : SCORES[name](counts, { average, empty })) as number | Float64Array;
            const want = scoreReference(name, counts, { average, empty, beta });
            if (typeof want === 'number') expectClose(got as number, want);
            else Array.from(got as Float64Array).forEach((v, i) => expectClose(v, want[i]!));
          }
        }
      }
    }
  });
});

// ------------------------------------------------------------------- errors ---

describe('errors', () => {
  beforeAll(() => init());
  const x8 = new Float32Array(8).fill(0.5);
  const g8 = new Float32Array(8);

  it('non-finite inputs: RangeError naming input[i] (SIMD block, tail, softmax)', () => {
    for (const [i, v] of [[3, NaN], [9, Infinity], [17, -Infinity]] as const) {
      const x = new Float32Array(20).fill(0.2);
      x[i] = v;
      expect(() => confusion(x, new Float32Array(20))).toThrow(new RangeError(`segloss.confusion: input[${i}] is ${v}; inputs must be finite`));
      expect(() => confusion(x, new Float32Array(20), { activation: 'sigmoid' })).toThrow(RangeError);
      expect(() => confusion(x, new Uint8Array(10), { shape: [1, 2, 10], activation: 'softmax', target: 'indices' }))
        .toThrow(new RangeError(`segloss.confusion: input[${i}] is ${v}; inputs must be finite`));
      expect(() => diceScore(x, new Float32Array(20))).toThrow(new RangeError(`segloss.diceScore: input[${i}] is ${v}; inputs must be finite`));
    }
  });

  it('targets out of range: RangeError naming target[i]; −0 and ignoreIndex are accepted', () => {
    for (const [i, v] of [[2, 1.5], [12, -0.25], [15, NaN]] as const) {
      const g = new Float32Array(16);
      g[i] = v;
      expect(() => confusion(new Float32Array(16), g)).toThrow(new RangeError(`segloss.confusion: target[${i}] is ${v}; dense targets must be in [0, 1]`));
    }
    const u = new Uint8Array(16);
    u[10] = 2;
    expect(() => confusion(new Float32Array(16), u)).toThrow(/target\[10\] is 2; dense targets must be in \[0, 1\]/);
    expect(() => confusion(new Float32Array(16), new Float32Array(16).fill(-0))).not.toThrow();
    const t = new Int32Array(9).fill(1);
    t[4] = 3;
    expect(() => confusion(new Float32Array(27), t, { shape: [1, 3, 9], target: 'indices' }))
      .toThrow(new RangeError('segloss.confusion: target[4] is 3; class indices must be in [0, 3)'));
    t[4] = -1;
    expect(() => confusion(new Float32Array(27), t, { shape: [1, 3, 9], target: 'indices', ignoreIndex: -100 }))
      .toThrow(new RangeError('segloss.confusion: target[4] is -1; class indices must be in [0, 3) or equal ignoreIndex -100'));
    expect(() => confusion(new Float32Array(27), t, { shape: [1, 3, 9], target: 'indices', ignoreIndex: -1 })).not.toThrow();
  });

  it('bad options: TypeError / RangeError naming options.X', () => {
    const bad: [ConfusionOptions | Record<string, unknown>, ErrorConstructor, RegExp][] = [
      [{ threshold: -0.1 }, RangeError, /options\.threshold must be a finite number in \[0, 1\]/],
      [{ threshold: 1.5 }, RangeError, /options\.threshold/],
      [{ threshold: NaN }, RangeError, /options\.threshold/],
      [{ threshold: '0.5' }, TypeError, /options\.threshold must be a number/],
      [{ shape: [1, 2, 4], activation: 'softmax', threshold: 0.5 }, RangeError, /options\.threshold does not apply with activation 'softmax'/],
      [{ activation: 'relu' }, RangeError, /options\.activation/],
      [{ target: 'onehot' }, RangeError, /options\.target/],
      [{ shape: [1, 3, 3] }, RangeError, /options\.shape/],
      [{ shape: [1, 1, 8], activation: 'softmax' }, RangeError, /options\.activation 'softmax' needs C >= 2/],
      [{ includeBackground: false }, RangeError, /options\.includeBackground false needs C >= 2/],
      [{ includeBackground: 0 }, TypeError, /options\.includeBackground must be a boolean/],
      [{ batch: 'yes' }, TypeError, /options\.batch must be a boolean/],
      [{ ignoreIndex: 255 }, RangeError, /options\.ignoreIndex needs target: 'indices'/],
      [{ mask: new Uint8Array(3) }, RangeError, /options\.mask must have/],
      [{ mask: new Float32Array(8) }, TypeError, /options\.mask must be a Uint8Array/],
      [{ shape: [1, 2, 4], activation: 'softmax', mask: new Uint8Array(8) }, RangeError, /options\.mask must have N × spatial = 4 elements with softmax/],
    ];
    for (const [o, ctor, re] of bad) {
      expect(() => confusion(x8, g8, o as ConfusionOptions), JSON.stringify(o)).toThrow(ctor);
      expect(() => confusion(x8, g8, o as ConfusionOptions), JSON.stringify(o)).toThrow(re);
    }
    expect(() => confusion(x8, g8, 3 as unknown as ConfusionOptions)).toThrow(TypeError);
    expect(() => confusion(new Float64Array(8) as unknown as Float32Array, g8)).toThrow(/input must be a Float32Array/);
    expect(() => confusion(x8, new Float32Array(7))).toThrow(/target must have 8 elements/);
    expect(() => confusion(x8, new Uint8Array(4), { shape: [1, 2, 4], target: 'dense' })).toThrow(/target must have 8 elements/);
  });

  it('bad score options and bad counts', () => {
    const s = diceScore as (...a: unknown[]) => unknown;
    const f = fbetaScore as (...a: unknown[]) => unknown;
    expect(() => s(HAND, { average: 'mean' })).toThrow(new RangeError("segloss.diceScore: options.average must be 'micro', 'macro', 'samples', 'none'; got 'mean'"));
    expect(() => s(HAND, { empty: 'ignore' })).toThrow(/segloss\.diceScore: options\.empty must be 'nan', 'one', 'zero', 'skip'/);
    expect(() => s(x8, g8, { average: 'weighted' })).toThrow(/options\.average/);
    for (const beta of [0, -1, Infinity, NaN]) expect(() => f(HAND, { beta }), String(beta)).toThrow(RangeError);
    expect(() => f(HAND, { beta: '2' })).toThrow(TypeError);
    expect(() => f(HAND, { beta: 0 })).toThrow(/segloss\.fbetaScore: options\.beta must be a finite number > 0/);
    expect(() => s(HAND, { threshold: 0.3 })).toThrow(new RangeError('segloss.diceScore: options.threshold applies to arrays; counts are already thresholded'));
    expect(() => s(HAND, { batch: true })).toThrow(/options\.batch applies to arrays/);
    expect(() => s(HAND, {}, {})).toThrow(TypeError);
    expect(() => s(HAND, 'macro')).toThrow(TypeError);
    const without = { ...HAND } as Record<string, unknown>;
    delete without.fn;
    expect(() => s(without)).toThrow(new TypeError('segloss.diceScore: counts.fn must be an array of counts; got undefined'));
    expect(() => s({ ...HAND, tp: [1, 2] })).toThrow(/counts\.tp must have samples × classes = 9 entries; got 2/);
    expect(() => s({ ...HAND, fp: [0, 0, 0, 0, -1, 0, 0, 0, 0] })).toThrow(/counts\.fp\[4\] must be a finite number >= 0; got -1/);
    expect(() => s({ ...HAND, tn: [0, 0, 0, 0, 0, 0, 0, 0, NaN] })).toThrow(/counts\.tn\[8\]/);
    expect(() => s({ ...HAND, samples: 0 })).toThrow(new RangeError('segloss.diceScore: counts.samples must be a positive integer; got 0'));
    expect(() => s({ ...HAND, classes: '3' })).toThrow(TypeError);
    expect(() => s(new Float32Array(4))).toThrow(/target must be a Float32Array or Uint8Array/);
    expect(() => s([0.5, 0.5], [1, 0])).toThrow(/input must be a Float32Array/);
  });
});
