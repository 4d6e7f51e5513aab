// The generated cases of the property suites, one family per loss file: each case is a small JSON
// object (options, shape, data seed, data style), so that a shrunk counterexample printed by
// fast-check can be pasted into regressions.test.ts as it is. `problem(case)` turns a case into
// arrays, the call of the public function, and the comparison with the float64 reference.
//
// Data: shapes [N, C, ...spatial] with 1–4 spatial dimensions and sizes from 1 (primes included),
// every option of the function, masks, ignore labels, soft labels, logits up to ±80 and
// probabilities with exact 0s and 1s, and targets that are random, all 0 or all 1. The spatial
// functions (distance transforms, distance and pooling losses) are in cases-spatial.ts.
import fc from 'fast-check';
import type * as Segloss from '../../src/index.ts';
import {
  diceLossReference, tverskyLossReference, generalizedDiceLossReference, regionGradientScale,
  type RegionLossKind, type DiceResult,
} from '../../src/reference/dice.ts';
import { bceLossReference, focalLossReference, type ReferenceResult } from '../../src/reference/bce.ts';
import { confusionReference, scoreReference, type ScoreName } from '../../src/reference/metrics.ts';
import {
  mulberry32, makeCase, spec, minChannels, lossTolerance, F32_EPS,
  ACTIVATION_MASKS, TARGET_VARIANTS, SMOOTHINGS,
  type OptionSet, type TargetArray, type DiceCase,
} from '../helpers.ts';

/** The public API of one segloss instance (the SIMD one, or a second module instance running the scalar build). */
export type Api = typeof Segloss;

/** Array arguments of one call: JS-heap arrays, misaligned subarrays, WasmArrays or views of them. */
export interface Operands {
  input: Segloss.ArrayArg<Float32Array>;
  target: Segloss.ArrayArg<TargetArray>;
  mask: Segloss.ArrayArg<Uint8Array> | undefined;
  grad: Segloss.ArrayArg<Float32Array> | undefined;
}

/** One concrete call of a public function, and how to judge its result. */
export interface Problem {
  input: Float32Array;
  target: TargetArray;
  mask: Uint8Array | undefined;
  /** Whether the call writes options.grad (losses with reduction 'mean' or 'sum'). */
  grad: boolean;
  /** Calls the function of `api` on these operands; returns what it returned. */
  call(api: Api, a: Operands): unknown;
  /** Compares a result (and the gradient written, if any) with the float64 reference: a description of the first mismatch, or null. */
  check(value: unknown, grad: Float32Array | null): string | null;
}

/** 'random' data, or a target that is all 0 (class 0) or all 1 (class 1). */
export type Fill = 'random' | 'zeros' | 'ones';
export type MaskKind = 'none' | 'pixel' | 'element';

export const int = (min: number, max: number) => fc.integer({ min, max });
export const seedArb = int(0, 0x7fffffff);
export const fillArb: fc.Arbitrary<Fill> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Fill>('random') },
  { weight: 1, arbitrary: fc.constant<Fill>('zeros') },
  { weight: 1, arbitrary: fc.constant<Fill>('ones') },
);
/** A finite double in [min, max]. */
export const real = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

// ------------------------------------------------------------------ shapes ---

/** 'small' shapes (S ≤ ~600: thousands of cases in seconds) or 'large' ones (several staging chunks per call). */
export type Size = 'small' | 'large';

/**
 * 'small': 1–4 spatial dimensions whose product stays below ~600: one dimension (mostly ≤ 40,
 * sometimes a prime such as 251 or 509), or several small ones (every integer from 1, so 2, 3, 5, 7,
 * 11, 13 ... all occur). 'large': one dimension of 9,000–40,000 (primes included) or two of 95–230,
 * so that a JS-heap call streams through several chunks of the staging area (32,768 elements), by
 * samples or by row segments.
 */
export function spatialArb(size: Size = 'small'): fc.Arbitrary<number[]> {
  if (size === 'large') {
    return fc.oneof(
      fc.oneof(int(9000, 40_000), fc.constantFrom(32_749, 32_771, 16_411)).map((s) => [s]),
      fc.tuple(int(95, 230), int(95, 230)),
    );
  }
  const maxS = 600;
  return int(1, 4).chain((d) => {
    if (d === 1) {
      return fc.oneof(
        { weight: 4, arbitrary: int(1, 40) },
        { weight: 1, arbitrary: int(1, maxS) },
        { weight: 1, arbitrary: fc.constantFrom(...[97, 127, 251, 257, 509].filter((p) => p <= maxS)) },
      ).map((s) => [s]);
    }
    const cap = Math.max(2, Math.floor(maxS ** (1 / d)));
    return fc.array(int(1, cap), { minLength: d, maxLength: d });
  });
}

/** [N, C, ...spatial] with N in 1..3 and C in minC..maxC (N ≤ 2, C ≤ 3 for 'large'). */
export function shapeArb(minC: number, maxC = 5, size: Size = 'small'): fc.Arbitrary<number[]> {
  const [maxN, cap] = size === 'large' ? [2, 3] : [3, maxC];
  return fc.tuple(int(1, maxN), int(minC, Math.max(minC, cap)), spatialArb(size)).map(([N, C, sp]) => [N, C, ...sp]);
}

export function dims(shape: readonly number[]): { N: number; C: number; S: number; n: number } {
  const [N, C, ...sp] = shape as [number, number, ...number[]];
  const S = sp.reduce((a, b) => a * b, 1);
  return { N, C, S, n: N * C * S };
}

// -------------------------------------------------------------------- data ---

export type Rand = () => number;
export const between = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** Logits: uniform in ±`range`, ~5% exact 0, and with `extreme` ~5% at ±80 and ~5% at ±30. */
export function logits(r: Rand, n: number, extreme: boolean, range = 10): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = r();
    if (u < 0.05) return 0;
    if (extreme && u < 0.1) return r() < 0.5 ? -80 : 80;
    if (extreme && u < 0.15) return r() < 0.5 ? -30 : 30;
    return (2 * r() - 1) * range;
  });
}

/** Probabilities: ~10% exact 0, ~10% exact 1, ~3% below 1e-6 or above 1 − 1e-6, else uniform. */
export function probabilities(r: Rand, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = r();
    if (u < 0.1) return 0;
    if (u < 0.2) return 1;
    if (u < 0.215) return r() * 1e-6;
    if (u < 0.23) return 1 - r() * 1e-6;
    return r();
  });
}

/** Dense labels: 'hard' 0/1 f32, 'soft' f32 (exact 0, 1, 0.5 and values in between), 'u8' 0/1 bytes. */
export function denseTarget(r: Rand, n: number, kind: 'hard' | 'soft' | 'u8', fill: Fill): Float32Array | Uint8Array {
  const out = kind === 'u8' ? new Uint8Array(n) : new Float32Array(n);
  if (fill !== 'random') return out.fill(fill === 'ones' ? 1 : 0);
  for (let i = 0; i < n; i++) {
    const u = r();
    out[i] = kind !== 'soft' ? (u < 0.35 ? 1 : 0) : u < 0.2 ? 0 : u < 0.4 ? 1 : u < 0.45 ? 0.5 : r();
  }
  return out;
}

export type IndexKind = 'idx-u8' | 'idx-u16' | 'idx-i32';

/** Class ids in [0, C), ~15% replaced by `ignore` when given; all 0 or all 1 (capped at C − 1) for the fills. */
export function indexTarget(r: Rand, count: number, C: number, kind: IndexKind, ignore: number | undefined, fill: Fill): TargetArray {
  const out = kind === 'idx-u8' ? new Uint8Array(count) : kind === 'idx-u16' ? new Uint16Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = fill === 'zeros' ? 0 : fill === 'ones' ? Math.min(1, C - 1)
      : ignore !== undefined && r() < 0.15 ? ignore : between(r, 0, C - 1);
  }
  return out;
}

/** A mask of N·S (pixel) or N·C·S (element) bytes: ~25% zeros, the rest any non-zero byte. */
export function maskOf(r: Rand, kind: MaskKind, shape: readonly number[]): Uint8Array | undefined {
  if (kind === 'none') return undefined;
  const { N, S, n } = dims(shape);
  return Uint8Array.from({ length: kind === 'pixel' ? N * S : n }, () => (r() < 0.25 ? 0 : between(r, 1, 255)));
}

// ----------------------------------------------------------- comparisons ---

export const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};

/** The index of the first element that is NaN or infinite, −1 if none. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/**
 * Gradient against the reference: 1e-5 × max|reference| plus, where given, 64 float32 ulp of the
 * terms each element adds before they cancel (`terms()`, computed only when needed), plus 2^-140 for
 * subnormal results: the bound of test/region.test.ts and test/helpers.ts.
 */
export function gradientMismatch(got: Float32Array, want: Float64Array, terms?: () => Float64Array): string | null {
  const bad = firstNonFinite(got);
  if (bad >= 0) return `grad[${bad}] = ${got[bad]}`;
  if (got.length !== want.length) return `grad has ${got.length} elements, reference ${want.length}`;
  const refBad = firstNonFinite(want);
  if (refBad >= 0) return `the float64 reference's gradient is ${want[refBad]} at ${refBad} (a bug of the reference; the kernel gave ${got[refBad]})`;
  const max = maxAbs(want);
  let t: Float64Array | undefined;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (err <= 1e-5 * max + 1e-30) continue;
    if (!terms) return `grad[${i}] = ${got[i]}, reference ${want[i]} (tolerance ${1e-5 * max})`;
    t ??= terms();
    const tol = 1e-5 * max + 64 * F32_EPS * t[i]! + 2 ** -140;
    if (!(err <= tol)) return `grad[${i}] = ${got[i]}, reference ${want[i]} (tolerance ${tol})`;
  }
  return null;
}

// ------------------------------------------------------------ region losses ---

/** The options of diceLoss / tverskyLoss / generalizedDiceLoss beyond helpers.ts's OptionSet. */
export interface RegionExtra {
  softLabel?: boolean;
  transform?: 'none' | 'log' | 'logcosh';
  alpha?: number;
  beta?: number;
  gamma?: number;
  weightType?: 'square' | 'simple' | 'uniform';
}

export interface RegionCase {
  kind: RegionLossKind;
  set: OptionSet;
  shape: number[];
  seed: number;
  fill: Fill;
  extra: RegionExtra;
}

const optionSetArb: fc.Arbitrary<OptionSet> = fc.record({
  am: fc.constantFrom(...ACTIVATION_MASKS),
  tv: fc.constantFrom(...TARGET_VARIANTS),
  sm: fc.constantFrom(...SMOOTHINGS),
  includeBackground: fc.boolean(), squared: fc.boolean(), jaccard: fc.boolean(), batch: fc.boolean(), weight: fc.boolean(),
  reduction: fc.constantFrom('mean', 'sum', 'none'),
}).map(({ am, tv, sm, ...flags }) => ({
  ...flags, activation: am[0], mask: am[1], target: tv[0], ignore: tv[1], smoothNr: sm[0], smoothDr: sm[1],
}));

function regionExtraArb(kind: RegionLossKind, set: OptionSet): fc.Arbitrary<RegionExtra> {
  const softLabel = set.target === 'f32' ? fc.boolean() : fc.constant(false);
  if (kind === 'dice') return fc.record({ softLabel, transform: fc.constantFrom('none', 'log', 'logcosh') });
  if (kind === 'generalizedDice') return fc.record({ softLabel, weightType: fc.constantFrom('square', 'simple', 'uniform') });
  return fc.record({
    softLabel,
    ab: fc.oneof(
      fc.constantFrom<[number, number]>([0.5, 0.5], [1, 1], [0.3, 0.7], [0.7, 0.3], [0, 1], [1, 0], [0.1, 0.9]),
      fc.tuple(real(0, 2), real(0, 2)),
    ),
    gamma: fc.oneof(fc.constantFrom(1, 0.75, 2, 4 / 3), real(0.5, 3)),
  }).map(({ softLabel: s, ab, gamma }) => ({ softLabel: s, alpha: ab[0], beta: ab[1], gamma }));
}

/** Cases of one region loss: every option of helpers.ts's OptionSet plus the loss's own. */
export function regionArb(kind: RegionLossKind, size: Size = 'small'): fc.Arbitrary<RegionCase> {
  return optionSetArb.chain((set) => fc.record({
    kind: fc.constant(kind),
    set: fc.constant(set),
    shape: shapeArb(minChannels(set), 5, size),
    seed: seedArb,
    fill: fillArb,
    extra: regionExtraArb(kind, set),
  }));
}

/**
 * The data of a region case: helpers.ts's makeCase (probabilities with exact 0s and 1s; logits in
 * ±10 with ~3% at ±80 when smoothDr > 0, see its comment for why not with smoothDr = 0), then the fill.
 */
export function regionData(c: Pick<RegionCase, 'set' | 'shape' | 'seed' | 'fill'>): DiceCase {
  const data = makeCase(spec(c.set, c.shape, c.seed));
  if (c.fill !== 'random') {
    const C = c.shape[1]!;
    const indices = c.set.target !== 'f32' && c.set.target !== 'u8';
    data.target.fill(c.fill === 'zeros' ? 0 : indices ? Math.min(1, C - 1) : 1);
  }
  return data;
}

type RegionOptions = Record<string, unknown>;

/** The options of a region case, as both the references and the Wasm functions take them (mask and grad apart). */
export function regionOptions(c: RegionCase | (Omit<RegionCase, 'kind'> & { kind: RegionLossKind }), data: DiceCase): RegionOptions {
  const s = c.set;
  const o: RegionOptions = {
    shape: c.shape, activation: s.activation, target: s.target === 'f32' || s.target === 'u8' ? 'dense' : 'indices',
    includeBackground: s.includeBackground, smoothNr: s.smoothNr, smoothDr: s.smoothDr, batch: s.batch, reduction: s.reduction,
  };
  if (data.ignoreIndex !== undefined) o.ignoreIndex = data.ignoreIndex;
  if (c.extra.softLabel) o.softLabel = true;
  if (c.kind === 'dice') {
    o.squared = s.squared;
    o.jaccard = s.jaccard;
    o.transform = c.extra.transform ?? 'none';
  }
  if (c.kind === 'tversky') Object.assign(o, { alpha: c.extra.alpha, beta: c.extra.beta, gamma: c.extra.gamma });
  if (c.kind === 'generalizedDice') o.weightType = c.extra.weightType;
  if (c.kind !== 'generalizedDice' && data.weight !== undefined) o.weight = data.weight;
  return o;
}

const REGION_REFERENCE = { dice: diceLossReference, tversky: tverskyLossReference, generalizedDice: generalizedDiceLossReference } as const;
const REGION_FN = { dice: 'diceLoss', tversky: 'tverskyLoss', generalizedDice: 'generalizedDiceLoss' } as const;

/** A region loss's value against the reference: lossTolerance (test/helpers.ts), relative to Σ|L_e| beyond 1. */
function regionLossMismatch(value: unknown, ref: DiceResult, perEntry: () => Float64Array, reduction: string,
  slack: () => Conditioning): string | null {
  if (ref.loss instanceof Float64Array) {
    if (!(value instanceof Float64Array) || value.length !== ref.loss.length) return `expected ${ref.loss.length} per-entry losses, got ${String(value)}`;
    const bad = firstNonFinite(value);
    if (bad >= 0) return `loss[${bad}] = ${value[bad]}`;
    for (let e = 0; e < ref.loss.length; e++) {
      const err = Math.abs(value[e]! - ref.loss[e]!);
      if (err <= lossTolerance(Math.abs(ref.loss[e]!))) continue;
      const tol = lossTolerance(Math.abs(ref.loss[e]!)) + 2 * (slack().loss as Float64Array)[e]!;
      if (!(err <= tol)) return `loss[${e}] = ${value[e]}, reference ${ref.loss[e]} (tolerance ${tol})`;
    }
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
  const err = Math.abs(value - ref.loss);
  if (err <= lossTolerance(1)) return null;
  const entries = perEntry();
  const scale = entries.reduce((z, v) => z + Math.abs(v), 0) / (reduction === 'mean' ? Math.max(1, entries.length) : 1);
  if (err <= lossTolerance(scale)) return null;
  const tol = lossTolerance(scale) + 2 * (slack().loss as number);
  return err <= tol ? null : `loss = ${value}, reference ${ref.loss} (diff ${value - ref.loss}, tolerance ${tol})`;
}

/** How much the reference's loss and gradient move when every probability moves by 4 float32 ulp. */
interface Conditioning {
  /** The loss's change (per entry for reduction 'none'). */
  loss: number | Float64Array;
  /** Per element, the gradient's change (w.r.t. the input, through the activation in absolute values). */
  grad: Float64Array;
}

/** ±1 as a function of a value (equal values get the same sign: ties stay ties under a perturbation). */
export function valueSign(v: number): number {
  return Math.imul(Math.round(v * 2 ** 30) | 0, 0x9e3779b1) >>> 31 === 0 ? 1 : -1;
}

/**
 * The conditioning of a region loss at this data: the kernels compute P in float32 (σ and softmax to
 * ~1.4 ulp) and accumulate float32 lanes, so every sum carries a relative error of a few 2^-24; near
 * a ratio T = 1 some losses amplify it without bound (log-cosh's −tanh(1 − T), focal Tversky's
 * (1 − T)^γ with γ < 1). Here the reference is evaluated on float64 probabilities scaled by 1 ± 4·2^-24
 * (activation 'none'), all in the same direction and also with signs alternating by index and by a hash
 * of the index (the sums' roundings are independent, and near p = 1 squared Dice's T is stationary along
 * a uniform scaling), and the largest change of the loss and of dL/dP is taken, the latter carried to
 * the input by the activation's chain rule in absolute values. Added (twice) to the bounds only when a
 * comparison fails otherwise.
 */
function conditioning(kind: RegionLossKind, data: DiceCase, o: RegionOptions): Conditioning {
  const { N, C, S, n } = dims(data.spec.shape);
  const x = data.input;
  const activation = data.spec.activation;
  const p = new Float64Array(n);
  for (let k = 0; k < N; k++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity, z = 0;
      for (let ch = 0; ch < C; ch++) m = Math.max(m, x[(k * C + ch) * S + s]!);
      for (let ch = 0; ch < C; ch++) z += Math.exp(x[(k * C + ch) * S + s]! - m);
      for (let ch = 0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        p[i] = activation === 'softmax' ? Math.exp(x[i]! - m) / z : activation === 'sigmoid' ? 1 / (1 + Math.exp(-x[i]!)) : x[i]!;
      }
    }
  }
  const eps = 4 * F32_EPS;
  const at = (scale: (i: number) => number) => REGION_REFERENCE[kind](p.map((v, i) => v * scale(i)), data.target, { ...o, mask: data.mask, activation: 'none' });
  const mid = at(() => 1);
  const sign = (i: number) => (i & 1 ? 1 : -1), hashed = (i: number) => valueSign(i * 0.618033988749895 % 1);
  const moved = [at(() => 1 + eps), at(() => 1 - eps), at((i) => 1 + eps * sign(i)), at((i) => 1 - eps * sign(i)), at((i) => 1 + eps * hashed(i)), at((i) => 1 - eps * hashed(i))];
  const change = (a: number, others: number[]) => Math.max(...others.map((b) => Math.abs(b - a)));
  const loss = mid.loss instanceof Float64Array
    ? mid.loss.map((v, e) => change(v, moved.map((m) => (m.loss as Float64Array)[e]!)))
    : change(mid.loss, moved.map((m) => m.loss as number));
  const t = mid.grad ? mid.grad.map((v, i) => change(v, moved.map((m) => m.grad![i]!))) : new Float64Array(n);
  if (mid.grad) addSlopeNoise(kind, p, data, o, t);
  const grad = new Float64Array(n);
  for (let k = 0; k < N; k++) {
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let ch = 0; ch < C; ch++) dot += p[(k * C + ch) * S + s]! * t[(k * C + ch) * S + s]!;
      for (let ch = 0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        grad[i] = activation === 'softmax' ? p[i]! * (t[i]! + dot) : activation === 'sigmoid' ? t[i]! * p[i]! * (1 - p[i]!) : t[i]!;
      }
    }
  }
  return { loss, grad };
}

/**
 * The transform's slope f'(T) moves with the kernel's own rounding of T (float32 sums: ΔT ≈ 16·2^-24·T);
 * near T = 1, log-cosh's −tanh(1 − T) is no larger than that error, and no perturbation of P shows it
 * where T is stationary in P (squared Dice at p = g = 1: the kernel's T rounds to exactly 1, slope 0,
 * against 1 − 3e-10 in float64). Adds, per element, max_e |Δf'(T_e)|·|dL₀/dP_i| to t, L₀ the same
 * Dice loss without the transform (|dL₀/dP_i| = scale·w·|∂T/∂P_i|), T_e from L₀'s entries (w_e(1 − T_e)).
 */
function addSlopeNoise(kind: RegionLossKind, p: Float64Array, data: DiceCase, o: RegionOptions, t: Float64Array): void {
  const transform = o.transform as string | undefined;
  if (kind !== 'dice' || (transform !== 'log' && transform !== 'logcosh')) return;
  const plain = { ...o, mask: data.mask, activation: 'none' as const, transform: 'none' as const };
  const entries = diceLossReference(p, data.target, { ...plain, reduction: 'none' }).loss as Float64Array;
  const weight = o.weight as ArrayLike<number> | undefined;
  const slope = (T: number) => (transform === 'logcosh' ? -Math.tanh(1 - T) : T < 1e-7 ? 0 : -1 / T);
  let noise = 0;
  entries.forEach((L, e) => {
    const w = weight ? weight[e % weight.length]! : 1;
    if (w === 0) return;
    const T = 1 - L / w, dT = 16 * F32_EPS * Math.max(Math.abs(T), 1e-30);
    noise = Math.max(noise, Math.abs(slope(T + dT) - slope(T)), Math.abs(slope(T - dT) - slope(T)));
  });
  const g0 = diceLossReference(p, data.target, plain).grad!;
  for (let i = 0; i < t.length; i++) t[i]! += noise * Math.abs(g0[i]!);
}

/** {@link conditioning} of the Dice part of a fused sigmoid loss (dense targets, options as diceLossReference takes them). */
function diceConditioning(input: Float32Array, target: TargetArray, mask: Uint8Array | undefined, o: RegionOptions): Conditioning {
  const data = { spec: { shape: o.shape, activation: 'sigmoid' }, input, target, mask } as unknown as DiceCase;
  const { mask: _, ...options } = o;
  return conditioning('dice', data, options);
}

export function regionProblem(c: RegionCase): Problem {
  const data = regionData(c);
  const options = regionOptions(c, data);
  const reference = (o: RegionOptions = {}) => REGION_REFERENCE[c.kind](data.input, data.target, { ...options, mask: data.mask, ...o });
  return {
    input: data.input, target: data.target, mask: data.mask, grad: c.set.reduction !== 'none',
    call: (api, a) => (api[REGION_FN[c.kind]] as (x: unknown, t: unknown, o: unknown) => unknown)(a.input, a.target, { ...options, mask: a.mask, grad: a.grad }),
    check: (value, grad) => {
      const ref = reference();
      let cond: Conditioning | undefined;
      const slack = () => (cond ??= conditioning(c.kind, data, options));
      const loss = regionLossMismatch(value, ref, () => reference({ reduction: 'none' }).loss as Float64Array, c.set.reduction, slack);
      if (loss !== null || !grad) return loss;
      const terms = () => {
        const t = regionGradientScale(c.kind, data.input, data.target, { ...options, mask: data.mask });
        if (c.kind === 'tversky') tverskyRatioTerms(c, data, options).forEach((v, i) => { t[i]! += v; });
        return t;
      };
      const bad = gradientMismatch(grad, ref.grad!, terms);
      if (bad === null) return null;
      // Beyond the rounding of the terms: the conditioning of the loss (2× its change for 4 ulp of P).
      const conditioned = () => { const t = terms(); slack().grad.forEach((v, i) => { t[i]! += (2 * v) / (64 * F32_EPS); }); return t; };
      if (gradientMismatch(grad, ref.grad!, conditioned) === null) return null;
      if (!(c.extra.softLabel && !(c.kind === 'dice' && c.set.squared))) return bad;
      return softLabelKinkMismatch(grad, data, (target) => REGION_REFERENCE[c.kind](data.input, target, { ...options, mask: data.mask }).grad!, ref.grad!, conditioned) === null ? null : bad;
    },
  };
}

/**
 * The soft-label intersection Σ min(P, G) has a kink at P = G, where ∂I/∂P steps from 1 to 0 (½ at the
 * tie). A kernel that computes P in float32 can land on the other side of the kink than the float64
 * reference (σ(x) = 1 − 3e-8 rounds to 1 = G), or on the tie: any value between the two one-sided
 * gradients is a valid (sub)gradient there. For the elements within 2^-21 of their target, this
 * recomputes the reference with those targets moved just below and just above P, and accepts an
 * element within gradientMismatch's bound of the hull of the three gradients.
 */
function softLabelKinkMismatch(grad: Float32Array, data: DiceCase, gradOf: (target: Float64Array) => Float64Array, ref: Float64Array,
  terms: () => Float64Array): string | null {
  const { N, C, S } = dims(data.spec.shape);
  const x = data.input;
  const p = new Float64Array(x.length);
  for (let k = 0; k < N; k++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity, z = 0;
      for (let ch = 0; ch < C; ch++) m = Math.max(m, x[(k * C + ch) * S + s]!);
      for (let ch = 0; ch < C; ch++) z += Math.exp(x[(k * C + ch) * S + s]! - m);
      for (let ch = 0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        const a = data.spec.activation;
        p[i] = a === 'softmax' ? Math.exp(x[i]! - m) / z : a === 'sigmoid' ? 1 / (1 + Math.exp(-x[i]!)) : x[i]!;
      }
    }
  }
  const near = (i: number) => Math.abs(p[i]! - data.target[i]!) <= 2 ** -21;
  if (!p.some((_, i) => near(i))) return 'no soft-label kink';
  const shifted = (d: number) => Float64Array.from(data.target, (g, i) => (near(i) ? p[i]! + d : g));
  const below = gradOf(shifted(-(2 ** -20))), above = gradOf(shifted(2 ** -20));
  const lo = ref.map((v, i) => Math.min(v, below[i]!, above[i]!));
  const hi = ref.map((v, i) => Math.max(v, below[i]!, above[i]!));
  const mid = lo.map((v, i) => (v + hi[i]!) / 2);
  const halfWidth = hi.map((v, i) => (v - lo[i]!) / 2);
  const t = terms().map((v, i) => v + halfWidth[i]! / (64 * F32_EPS));
  return gradientMismatch(grad, mid, () => t);
}

/**
 * Two error scales of Tversky's gradient that regionGradientScale does not see, per element, times
 * the reduction's scale and through the activation in absolute values:
 * - ∂T/∂I = 1/D − Nm·(1 − α − β)/D² is itself a difference: near α + β = 1 or a ratio near 1 it
 *   cancels, and a float64 evaluation keeps only ~2^-52 of its two terms: |w·f'(T)|·(1/D +
 *   |Nm(1 − α − β)|/D²)·∂I/∂P, for gradientMismatch's 64 ulp;
 * - the focal slope f'(T) itself, which moves with the rounding of u = 1 − T (steeply near the clamp
 *   at u = 0): |w|·Δf'·|∂T/∂P|, expressed in units of those 64 ulp.
 */
function tverskyRatioTerms(c: RegionCase, data: DiceCase, o: RegionOptions): Float64Array {
  const { N, C, S, n } = dims(c.shape);
  const { want: sums } = referenceSums(data, { ...o, squared: false, includeBackground: true });
  const x = data.input;
  const alpha = c.extra.alpha ?? 0.5, beta = c.extra.beta ?? 0.5, gamma = c.extra.gamma ?? 1;
  const c0 = c.set.includeBackground ? 0 : 1;
  const rows = c.set.batch ? 1 : N;
  const entries = rows * (C - c0);
  const scale = c.set.reduction === 'mean' ? 1 / entries : 1;
  const p = new Float64Array(n), t = new Float64Array(n);
  const indices = o.target === 'indices';
  for (let k = 0; k < N; k++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity, z = 0;
      if (o.activation === 'softmax') {
        for (let ch = 0; ch < C; ch++) m = Math.max(m, x[(k * C + ch) * S + s]!);
        for (let ch = 0; ch < C; ch++) z += Math.exp(x[(k * C + ch) * S + s]! - m);
      }
      for (let ch = 0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        p[i] = o.activation === 'softmax' ? Math.exp(x[i]! - m) / z : o.activation === 'sigmoid' ? 1 / (1 + Math.exp(-x[i]!)) : x[i]!;
      }
      const label = indices ? data.target[k * S + s]! : NaN;
      if (indices && data.ignoreIndex !== undefined && label === data.ignoreIndex) continue;
      for (let ch = c0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        if (data.mask && data.mask[data.mask.length === N * S ? k * S + s : i] === 0) continue;
        const at = ((c.set.batch ? 0 : k) * C + ch) * 3;
        const [I, SP, SG] = [sums[at]!, sums[at + 1]!, sums[at + 2]!];
        const Nm = I + c.set.smoothNr, D = (1 - alpha - beta) * I + alpha * SP + beta * SG + c.set.smoothDr;
        if (D === 0) continue;
        const T = Nm / D, u = 1 - T;
        // f'(u) of the focal form, and how much it moves when u moves by its own rounding: float32
        // sums (a few 2^-24 of u) and the float64 ratio (a few 2^-52 of T). Near the clamp at u = 0 the
        // slope γ·u^(γ−1) is steep (γ > 1) or unbounded (γ < 1): a float64 T that rounds to 1 in one
        // evaluation and not in another gives another gradient, as far apart as this says.
        const slopeOf = (v: number) => (gamma === 1 ? 1 : v <= 0 ? 0 : gamma * v ** (gamma - 1));
        const du = 4 * F32_EPS * Math.abs(u) + 4 * 2 ** -52 * (1 + Math.abs(T));
        const slope = slopeOf(u);
        const slopeNoise = Math.min(1e300, Math.max(Math.abs(slopeOf(u + du) - slope), Math.abs(slopeOf(u - du) - slope)));
        const w = data.weight ? data.weight[ch - c0]! : 1;
        const g = indices ? Number(label === ch) : data.target[i]!;
        // Capped at 1e300: with a subnormal α or β, D ≈ 1e-323 and the terms overflow (the kernels clamp
        // their coefficients at 1e30; any comparison there is meaningless, and ∞·0 must not become NaN).
        const ratioTerms = Math.min(1e300, 1 / Math.abs(D) + Math.abs(Nm * (1 - alpha - beta)) / (D * D));
        const dTdP = Math.min(1e300, ratioTerms * (c.extra.softLabel ? 1 : g) + Math.abs(alpha * T / D));
        t[i] = scale * Math.abs(w) * (Math.abs(slope) * ratioTerms * (c.extra.softLabel ? 1 : g) + (slopeNoise * dTdP) / (64 * F32_EPS));
      }
    }
  }
  const out = new Float64Array(n);
  for (let k = 0; k < N; k++) {
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let ch = 0; ch < C; ch++) dot += p[(k * C + ch) * S + s]! * t[(k * C + ch) * S + s]!;
      for (let ch = 0; ch < C; ch++) {
        const i = (k * C + ch) * S + s;
        out[i] = o.activation === 'softmax' ? p[i]! * (t[i]! + dot) : o.activation === 'sigmoid' ? t[i]! * p[i]! * (1 - p[i]!) : t[i]!;
      }
    }
  }
  return out;
}

// -------------------------------------------------------------- diceStats ---

/** diceStats: (I, SP, SG) per (row, class) against float64 sums of the definition, 1e-6 × Σ|terms| (float32 products and lanes). */
export function statsProblem(c: RegionCase): Problem {
  const data = regionData(c);
  const o = regionOptions({ ...c, kind: 'dice' }, data);
  const options: RegionOptions = { shape: o.shape, activation: o.activation, target: o.target, includeBackground: o.includeBackground, batch: o.batch };
  if (o.ignoreIndex !== undefined) options.ignoreIndex = o.ignoreIndex;
  if (o.softLabel) options.softLabel = true;
  if (o.squared) options.squared = true;
  return {
    input: data.input, target: data.target, mask: data.mask, grad: false,
    call: (api, a) => api.diceStats(a.input, a.target, { ...options, mask: a.mask } as Segloss.RegionOptions),
    check: (value) => {
      const { want, scale } = referenceSums(data, options);
      if (!(value instanceof Float64Array) || value.length !== want.length) return `expected ${want.length} sums, got ${String(value)}`;
      const bad = firstNonFinite(value);
      if (bad >= 0) return `stats[${bad}] = ${value[bad]}`;
      for (let k = 0; k < want.length; k++) {
        if (!(Math.abs(value[k]! - want[k]!) <= 1e-6 * scale[k]! + 1e-12)) return `stats[${k}] = ${value[k]}, reference ${want[k]}`;
      }
      return null;
    },
  };
}

/** Σ P·G (Σ min(P, G) soft), Σ P (P²), Σ G (G²) per (row, class) in float64, straight from the definition, and Σ|term| of each. */
function referenceSums(data: DiceCase, o: RegionOptions): { want: Float64Array; scale: Float64Array } {
  const { N, C, S } = dims(o.shape as number[]);
  const x = data.input;
  const indices = o.target === 'indices';
  const rows = o.batch ? 1 : N;
  const want = new Float64Array(rows * C * 3);
  const scale = new Float64Array(rows * C * 3);
  // Every channel has its sums, channel 0 too without the background: the losses drop it, the stats keep it.
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const label = indices ? data.target[n * S + s]! : NaN;
      if (indices && data.ignoreIndex !== undefined && label === data.ignoreIndex) continue;
      let m = -Infinity, z = 0;
      if (o.activation === 'softmax') {
        for (let c = 0; c < C; c++) m = Math.max(m, x[(n * C + c) * S + s]!);
        for (let c = 0; c < C; c++) z += Math.exp(x[(n * C + c) * S + s]! - m);
      }
      for (let c = 0; c < C; c++) {
        const i = (n * C + c) * S + s;
        if (data.mask && data.mask[data.mask.length === N * S ? n * S + s : i] === 0) continue;
        const p = o.activation === 'softmax' ? Math.exp(x[i]! - m) / z : o.activation === 'sigmoid' ? 1 / (1 + Math.exp(-x[i]!)) : x[i]!;
        const g = indices ? Number(label === c) : data.target[i]!;
        const terms = [o.softLabel && !o.squared ? Math.min(p, g) : p * g, o.squared ? p * p : p, o.squared ? g * g : g];
        const at = ((o.batch ? 0 : n) * C + c) * 3;
        terms.forEach((t, j) => { want[at + j]! += t; scale[at + j]! += Math.abs(t); });
      }
    }
  }
  return { want, scale };
}

// ------------------------------------------------------------ pixel losses ---

export interface BceCase {
  shape: number[];
  seed: number;
  fill: Fill;
  activation: 'none' | 'sigmoid';
  target: 'hard' | 'soft' | 'u8';
  mask: MaskKind;
  extreme: boolean;
  posWeight?: number;
  labelSmoothing?: number;
  balance: 'none' | 'hed' | 'rcf';
  rcfLambda?: number;
  rcfEta?: number;
  reduction: 'mean' | 'sum' | 'none';
}

export const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

export const bceArb = (size: Size = 'small'): fc.Arbitrary<BceCase> => fc.record({
  shape: shapeArb(1, 4, size),
  seed: seedArb,
  fill: fillArb,
  activation: fc.constantFrom('none', 'sigmoid'),
  target: fc.constantFrom('hard', 'soft', 'u8'),
  mask: fc.constantFrom('none', 'pixel', 'element'),
  extreme: fc.boolean(),
  posWeight: optional(fc.oneof(fc.constantFrom(0, 0.5, 1, 3), real(0, 10))),
  labelSmoothing: optional(fc.oneof(fc.constantFrom(0, 0.1), real(0, 0.999))),
  balance: fc.constantFrom('none', 'hed', 'rcf'),
  rcfLambda: optional(real(0, 3)),
  rcfEta: optional(real(0.01, 0.99)),
  reduction: fc.constantFrom('mean', 'sum', 'none'),
}, { requiredKeys: ['shape', 'seed', 'fill', 'activation', 'target', 'mask', 'extreme', 'balance', 'reduction'] })
  .map((c) => (c.balance === 'rcf' ? c : { ...c, rcfLambda: undefined, rcfEta: undefined }));

/** The defined fields of `o`: an option a case leaves out stays out of the call (and of its printed description). */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * A pixel loss's value against the reference (test/bce.test.ts's bound): 1e-6 relative plus 2e-7 ×
 * the largest weight per element ('sum' adds up to `count` of them), plus `slack` per element where
 * given (for 'mean' and 'sum', their sum times the reduction's scale).
 */
function pixelLossMismatch(value: unknown, ref: ReferenceResult, maxWeight: number, count: number, slack?: { perElement: Float64Array; scale: number }): string | null {
  if (ref.loss instanceof Float64Array) {
    if (!(value instanceof Float32Array) || value.length !== ref.loss.length) return `expected ${ref.loss.length} per-element losses, got ${String(value)}`;
    const bad = firstNonFinite(value);
    if (bad >= 0) return `loss[${bad}] = ${value[bad]}`;
    for (let i = 0; i < value.length; i++) {
      const tol = 1e-6 * Math.abs(ref.loss[i]!) + 2e-7 * maxWeight + (slack ? slack.perElement[i]! : 0);
      if (!(Math.abs(value[i]! - ref.loss[i]!) <= tol)) return `loss[${i}] = ${value[i]}, reference ${ref.loss[i]} (tolerance ${tol})`;
    }
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
  const extra = slack ? slack.scale * slack.perElement.reduce((a, b) => a + b, 0) : 0;
  const tol = 1e-6 * Math.abs(ref.loss) + 2e-7 * maxWeight * count + extra;
  return Math.abs(value - ref.loss) <= tol ? null : `loss = ${value}, reference ${ref.loss} (diff ${value - ref.loss}, tolerance ${tol})`;
}

export function bceProblem(c: BceCase): Problem {
  const r = mulberry32(c.seed);
  const { n } = dims(c.shape);
  const input = c.activation === 'sigmoid' ? logits(r, n, c.extreme) : probabilities(r, n);
  const target = denseTarget(r, n, c.target, c.fill);
  const mask = maskOf(r, c.mask, c.shape);
  const options = defined({
    shape: c.shape, activation: c.activation, posWeight: c.posWeight, labelSmoothing: c.labelSmoothing,
    balance: c.balance, rcfLambda: c.rcfLambda, rcfEta: c.rcfEta, reduction: c.reduction,
  });
  const maxWeight = Math.max(1, c.posWeight ?? 1, c.balance === 'rcf' ? c.rcfLambda ?? 1.1 : 1);
  return {
    input, target, mask, grad: c.reduction !== 'none',
    call: (api, a) => api.bceLoss(a.input, a.target as Float32Array, { ...options, mask: a.mask, grad: a.grad } as Segloss.BceOptions),
    check: (value, grad) => {
      const ref = bceLossReference(input, target, { ...options, mask } as never);
      const terms = bceTerms(c, input, target, mask, maxWeight);
      return pixelLossMismatch(value, ref, maxWeight, c.reduction === 'sum' ? n : 1, { perElement: terms.loss, scale: terms.scale })
        ?? (grad && gradientMismatch(grad, ref.grad!, () => terms.grad));
    },
  };
}

/**
 * The float32 error scales of each kept element of a BCE case, W the largest weight (≥ a, b):
 * - grad: the size of the terms of (b·(1 − g')·p − a·g'·q)/den, den = 1 (logits) or max(p·q, 1e−12)
 *   (probabilities), q = 1 − p, g' the smoothed label: W·(g'·q + (1 − g')·p)/den, times the
 *   reduction's scale;
 * - loss: with label smoothing, g' = g(1 − ε) + ε/2 is itself rounded to float32 (within 2 ulp of 1,
 *   4·2^-24), which moves ℓ = a·g'·L1 + b·(1 − g')·L0 by up to 4·2^-24·W·(L1 + L0), L1 = −log p,
 *   L0 = −log(1 − p) (clamped at 100 for probabilities); the gradient by W·(p + q)/den, added to its
 *   terms. A smoothing below 2^-25 vanishes in float32 altogether: any float32 BCE is off by that much.
 */
export function bceTerms(c: Pick<BceCase, 'shape' | 'activation' | 'balance' | 'labelSmoothing' | 'rcfEta' | 'reduction'>, input: Float32Array, target: TargetArray, mask: Uint8Array | undefined, weight: number): { grad: Float64Array; loss: Float64Array; scale: number } {
  const { C, S, n } = dims(c.shape);
  const eps = c.labelSmoothing ?? 0, eta = c.rcfEta ?? 0.5;
  const kept = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = i % S, k = Math.floor(i / (C * S));
    const masked = mask !== undefined && mask[mask.length === n ? i : k * S + s] === 0;
    kept[i] = masked || (c.balance === 'rcf' && target[i]! > 0 && target[i]! < eta) ? 0 : 1;
  }
  const keptCount = kept.reduce((a, b) => a + b, 0);
  const scale = c.reduction === 'mean' ? (keptCount > 0 ? 1 / keptCount : 0) : 1;
  const grad = new Float64Array(n), loss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!kept[i]) continue;
    const x = input[i]!;
    const logits = c.activation === 'sigmoid';
    const p = logits ? 1 / (1 + Math.exp(-x)) : x;
    const q = logits ? 1 / (1 + Math.exp(x)) : 1 - x;
    const g = (c.balance === 'rcf' && target[i]! >= eta ? 1 : target[i]!) * (1 - eps) + eps / 2;
    const den = logits ? 1 : Math.max(p * q, 1e-12);
    grad[i] = scale * weight * (g * q + (1 - g) * p + (eps > 0 ? p + q : 0)) / den;
    if (eps > 0) {
      const L1 = logits ? Math.log1p(Math.exp(-x)) : Math.min(-Math.log(p), 100);
      const L0 = logits ? Math.log1p(Math.exp(x)) : Math.min(-Math.log(q), 100);
      loss[i] = 4 * F32_EPS * weight * (L1 + L0);
    }
  }
  return { grad, loss, scale };
}

export interface FocalCase {
  shape: number[];
  seed: number;
  fill: Fill;
  activation: 'none' | 'sigmoid' | 'softmax';
  /** Dense kinds for the binary forms, index kinds for softmax. */
  target: 'hard' | 'soft' | 'u8' | IndexKind;
  mask: MaskKind;
  extreme: boolean;
  /** Binary forms: α, or null (no α); −1 is the other spelling of null. */
  alpha?: number | null;
  gamma?: number;
  /** Softmax: per-class weights. */
  weight: boolean;
  /** Softmax: none, a class in range, or an id outside [0, C). */
  ignore: 'none' | 'in-range' | 'out-of-range';
  reduction: 'mean' | 'sum' | 'none';
}

export const gammaArb = optional(fc.oneof(fc.constantFrom(0, 0.5, 1, 2, 3), real(0, 5)));

const focalBinaryArb = (size: Size): fc.Arbitrary<FocalCase> => fc.record({
  shape: shapeArb(1, 4, size), seed: seedArb, fill: fillArb,
  activation: fc.constantFrom<'none' | 'sigmoid'>('none', 'sigmoid'),
  target: fc.constantFrom<'hard' | 'soft' | 'u8'>('hard', 'soft', 'u8'),
  mask: fc.constantFrom<MaskKind>('none', 'pixel', 'element'),
  extreme: fc.boolean(),
  alpha: optional(fc.oneof(fc.constantFrom<number | null>(0.25, null, -1, 0, 1), real(0, 1))),
  gamma: gammaArb,
  weight: fc.constant(false), ignore: fc.constant<'none'>('none'),
  reduction: fc.constantFrom<'mean' | 'sum' | 'none'>('mean', 'sum', 'none'),
}, { requiredKeys: ['shape', 'seed', 'fill', 'activation', 'target', 'mask', 'extreme', 'weight', 'ignore', 'reduction'] });

const focalSoftmaxArb = (size: Size): fc.Arbitrary<FocalCase> => fc.record({
  shape: shapeArb(2, 5, size), seed: seedArb, fill: fillArb,
  activation: fc.constant<'softmax'>('softmax'),
  target: fc.constantFrom<IndexKind>('idx-u8', 'idx-u16', 'idx-i32'),
  mask: fc.constantFrom<MaskKind>('none', 'pixel'),
  extreme: fc.boolean(),
  gamma: gammaArb,
  weight: fc.boolean(),
  ignore: fc.constantFrom<FocalCase['ignore']>('none', 'in-range', 'out-of-range'),
  reduction: fc.constantFrom<'mean' | 'sum' | 'none'>('mean', 'sum', 'none'),
}, { requiredKeys: ['shape', 'seed', 'fill', 'activation', 'target', 'mask', 'extreme', 'weight', 'ignore', 'reduction'] });

export const focalArb = (size: Size = 'small'): fc.Arbitrary<FocalCase> => fc.oneof(focalBinaryArb(size), focalSoftmaxArb(size));

/** The ignoreIndex of an 'out-of-range' choice for each index type. */
export const OUTSIDE: Record<IndexKind, number> = { 'idx-u8': 255, 'idx-u16': 65535, 'idx-i32': -100 };

export function focalProblem(c: FocalCase): Problem {
  const r = mulberry32(c.seed);
  const { N, C, S, n } = dims(c.shape);
  const softmax = c.activation === 'softmax';
  const input = c.activation === 'none' ? probabilities(r, n) : logits(r, n, c.extreme);
  let target: TargetArray;
  let ignoreIndex: number | undefined;
  let weight: number[] | undefined;
  if (softmax) {
    const kind = c.target as IndexKind;
    ignoreIndex = c.ignore === 'none' ? undefined : c.ignore === 'in-range' ? between(r, 0, C - 1) : OUTSIDE[kind];
    target = indexTarget(r, N * S, C, kind, ignoreIndex, c.fill);
    if (c.weight) weight = Array.from({ length: C }, () => (r() < 0.1 ? 0 : 2 * r()));
  } else {
    target = denseTarget(r, n, c.target as 'hard' | 'soft' | 'u8', c.fill);
  }
  const mask = maskOf(r, c.mask, c.shape);
  const options = defined({
    shape: c.shape, activation: c.activation, target: softmax ? 'indices' : 'dense', ignoreIndex, alpha: c.alpha,
    gamma: c.gamma, weight, reduction: c.reduction,
  });
  const maxWeight = Math.max(1, ...(weight ?? []));
  return {
    input, target, mask, grad: c.reduction !== 'none',
    call: (api, a) => api.focalLoss(a.input, a.target, { ...options, mask: a.mask, grad: a.grad } as Segloss.FocalOptions),
    check: (value, grad) => {
      const ref = focalLossReference(input, target, { ...options, mask } as never);
      return pixelLossMismatch(value, ref, maxWeight, c.reduction === 'sum' ? n : 1) ?? (grad && gradientMismatch(grad, ref.grad!));
    },
  };
}

// --------------------------------------------------------------- diceBceLoss ---

export interface FusedCase {
  /** diceBceLoss (Dice + BCE) or diceFocalLoss (Dice + binary focal). */
  fn: 'diceBceLoss' | 'diceFocalLoss';
  shape: number[];
  seed: number;
  fill: Fill;
  target: 'hard' | 'soft' | 'u8';
  mask: MaskKind;
  includeBackground: boolean;
  squared: boolean;
  jaccard: boolean;
  transform: 'none' | 'log' | 'logcosh';
  smooth: readonly [number, number];
  batch: boolean;
  weight: boolean;
  lambdaDice?: number;
  /** lambdaBce or lambdaFocal. */
  lambdaPixel?: number;
  /** diceBceLoss: the BCE part's options. */
  balance: 'none' | 'hed' | 'rcf';
  posWeight?: number;
  labelSmoothing?: number;
  rcfLambda?: number;
  rcfEta?: number;
  /** diceFocalLoss: the focal part's options. */
  alpha?: number | null;
  gamma?: number;
  reduction: 'mean' | 'sum';
}

export const fusedArb = (fn: FusedCase['fn']) => (size: Size = 'small'): fc.Arbitrary<FusedCase> => fc.boolean().chain((includeBackground) => fc.record({
  fn: fc.constant(fn),
  shape: shapeArb(includeBackground ? 1 : 2, 4, size), seed: seedArb, fill: fillArb,
  target: fc.constantFrom('hard', 'soft', 'u8'),
  mask: fc.constantFrom('none', 'pixel', 'element'),
  includeBackground: fc.constant(includeBackground),
  squared: fc.boolean(), jaccard: fc.boolean(),
  transform: fc.constantFrom('none', 'log', 'logcosh'),
  smooth: fc.constantFrom(...SMOOTHINGS),
  batch: fc.boolean(), weight: fc.boolean(),
  lambdaDice: optional(fc.oneof(fc.constantFrom(0, 1, 0.3), real(0, 4))),
  lambdaPixel: optional(fc.oneof(fc.constantFrom(0, 1, 0.7), real(0, 4))),
  balance: fn === 'diceBceLoss' ? fc.constantFrom('none', 'hed', 'rcf') : fc.constant('none'),
  posWeight: fn === 'diceBceLoss' ? optional(fc.oneof(fc.constantFrom(0, 1, 3.5), real(0, 10))) : fc.constant(undefined),
  labelSmoothing: fn === 'diceBceLoss' ? optional(fc.oneof(fc.constantFrom(0, 0.1), real(0, 0.999))) : fc.constant(undefined),
  rcfLambda: fn === 'diceBceLoss' ? optional(real(0, 3)) : fc.constant(undefined),
  rcfEta: fn === 'diceBceLoss' ? optional(real(0.01, 0.99)) : fc.constant(undefined),
  alpha: fn === 'diceFocalLoss' ? optional(fc.oneof(fc.constantFrom<number | null>(0.25, null, -1, 0, 1), real(0, 1))) : fc.constant(undefined),
  gamma: fn === 'diceFocalLoss' ? gammaArb : fc.constant(undefined),
  reduction: fc.constantFrom('mean', 'sum'),
}, { requiredKeys: ['fn', 'shape', 'seed', 'fill', 'target', 'mask', 'includeBackground', 'squared', 'jaccard', 'transform', 'smooth', 'batch', 'weight', 'balance', 'reduction'] })
  .map((c) => (c.balance === 'rcf' ? c : { ...c, rcfLambda: undefined, rcfEta: undefined })));

/**
 * The fused sigmoid losses, lambdaDice·Dice + lambdaPixel·(BCE or binary focal), against the float64
 * references of the parts. Logits follow makeCase's rule (±80 only with smoothDr > 0, ±5 with
 * smoothDr = 0 < smoothNr). Loss: the Dice bound (lossTolerance) plus the pixel loss's; gradient:
 * 1e-5 × max|reference| plus 64 ulp of both parts' terms (the Dice part's cancelling terms, the BCE
 * part's bceTerms).
 */
export function fusedProblem(c: FusedCase): Problem {
  const r = mulberry32(c.seed);
  const { C, n } = dims(c.shape);
  const [smoothNr, smoothDr] = c.smooth;
  const input = logits(r, n, smoothDr > 0, smoothDr === 0 && smoothNr > 0 ? 5 : 10);
  const target = denseTarget(r, n, c.target, c.fill);
  const mask = maskOf(r, c.mask, c.shape);
  const weight = c.weight ? Array.from({ length: C - (c.includeBackground ? 0 : 1) }, () => (r() < 0.1 ? 0 : 2 * r())) : undefined;
  const bce = c.fn === 'diceBceLoss';
  const pixelOptions = bce
    ? defined({ balance: c.balance, posWeight: c.posWeight, labelSmoothing: c.labelSmoothing, rcfLambda: c.rcfLambda, rcfEta: c.rcfEta })
    : defined({ alpha: c.alpha, gamma: c.gamma });
  const options = defined({
    shape: c.shape, activation: 'sigmoid', includeBackground: c.includeBackground, squared: c.squared, jaccard: c.jaccard,
    transform: c.transform, smoothNr, smoothDr, batch: c.batch, weight, lambdaDice: c.lambdaDice,
    [bce ? 'lambdaBce' : 'lambdaFocal']: c.lambdaPixel, reduction: c.reduction, ...pixelOptions,
  });
  const lambdaDice = c.lambdaDice ?? 1, lambdaPixel = c.lambdaPixel ?? 1;
  const diceOptions = { shape: c.shape, activation: 'sigmoid' as const, mask, includeBackground: c.includeBackground, squared: c.squared,
    jaccard: c.jaccard, transform: c.transform, smoothNr, smoothDr, batch: c.batch, weight, reduction: c.reduction };
  const pixel = { shape: c.shape, activation: 'sigmoid' as const, mask, reduction: c.reduction, ...pixelOptions };
  const maxWeight = Math.max(1, c.posWeight ?? 1, c.balance === 'rcf' ? c.rcfLambda ?? 1.1 : 1);
  return {
    input, target, mask, grad: true,
    call: (api, a) => (api[c.fn] as (x: unknown, t: unknown, o: unknown) => number)(a.input, a.target, { ...options, mask: a.mask, grad: a.grad }),
    check: (value, grad) => {
      const d = diceLossReference(input, target, diceOptions);
      const p = bce ? bceLossReference(input, target, pixel as never) : focalLossReference(input, target, pixel as never);
      const want = lambdaDice * (d.loss as number) + lambdaPixel * (p.loss as number);
      if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
      const entries = diceLossReference(input, target, { ...diceOptions, reduction: 'none' }).loss as Float64Array;
      const diceScale = Math.max(1, entries.reduce((z, v) => z + Math.abs(v), 0) / (c.reduction === 'mean' ? Math.max(1, entries.length) : 1));
      const terms = bce ? bceTerms({ ...c, activation: 'sigmoid' }, input, target, mask, maxWeight) : undefined;
      const smoothingSlack = terms ? terms.scale * terms.loss.reduce((a, b) => a + b, 0) : 0;
      const tol = lambdaDice * lossTolerance(diceScale)
        + lambdaPixel * (1e-6 * Math.abs(p.loss as number) + 2e-7 * maxWeight * (c.reduction === 'sum' ? n : 1) + smoothingSlack);
      // Beyond the rounding: the Dice part's conditioning (see conditioning), only where needed.
      let cond: Conditioning | undefined;
      const slack = () => (cond ??= diceConditioning(input, target, mask, diceOptions));
      const err = Math.abs(value - want);
      if (!(err <= tol) && !(err <= tol + lambdaDice * 2 * (slack().loss as number))) return `loss = ${value}, reference ${want} (diff ${value - want}, tolerance ${tol})`;
      const wantGrad = Float64Array.from(d.grad!, (v, i) => lambdaDice * v + lambdaPixel * p.grad![i]!);
      const gradTerms = () => regionGradientScale('dice', input, target, diceOptions).map((t, i) => lambdaDice * t + (terms ? lambdaPixel * terms.grad[i]! : 0));
      const bad = gradientMismatch(grad!, wantGrad, gradTerms);
      if (bad === null) return null;
      return gradientMismatch(grad!, wantGrad, () => gradTerms().map((t, i) => t + (lambdaDice * 2 * slack().grad[i]!) / (64 * F32_EPS))) === null ? null : bad;
    },
  };
}

// ------------------------------------------------------------- crispEdgeLoss ---

export interface CrispCase {
  shape: number[];
  seed: number;
  fill: Fill;
  target: 'hard' | 'soft' | 'u8';
  mask: MaskKind;
  includeBackground: boolean;
  batch: boolean;
  weight: boolean;
  /** Logits up to ±80 (else ±10). */
  extreme: boolean;
  /** Dice-term smoothing (defaults 1 and 1; smoothNr ≥ 1e-6). */
  smoothNr?: number;
  smoothDr?: number;
  /** α (Dice term) and β (cross-entropy term). */
  alpha?: number;
  beta?: number;
  /** The cross-entropy part's options (balance defaults to 'hed' here). */
  balance?: 'none' | 'hed' | 'rcf';
  posWeight?: number;
  labelSmoothing?: number;
  rcfLambda?: number;
  rcfEta?: number;
  reduction: 'mean' | 'sum';
}

export const crispArb = (size: Size = 'small'): fc.Arbitrary<CrispCase> => fc.boolean().chain((includeBackground) => fc.record({
  shape: shapeArb(includeBackground ? 1 : 2, 4, size), seed: seedArb, fill: fillArb,
  target: fc.constantFrom<CrispCase['target']>('hard', 'soft', 'u8'),
  mask: fc.constantFrom<MaskKind>('none', 'pixel', 'element'),
  includeBackground: fc.constant(includeBackground),
  batch: fc.boolean(), weight: fc.boolean(), extreme: fc.boolean(),
  smoothNr: optional(fc.oneof(fc.constantFrom(1e-6, 1e-3, 0.5, 1), real(1e-6, 2))),
  smoothDr: optional(fc.oneof(fc.constantFrom(0, 1e-5, 1), real(0, 2))),
  alpha: optional(fc.oneof(fc.constantFrom(0, 1, 0.5), real(0, 4))),
  beta: optional(fc.oneof(fc.constantFrom(0, 1, 2), real(0, 4))),
  balance: optional(fc.constantFrom<'none' | 'hed' | 'rcf'>('none', 'hed', 'rcf')),
  posWeight: optional(fc.oneof(fc.constantFrom(0, 1, 3.5), real(0, 10))),
  labelSmoothing: optional(fc.oneof(fc.constantFrom(0, 0.1), real(0, 0.999))),
  rcfLambda: optional(real(0, 3)),
  rcfEta: optional(real(0.01, 0.99)),
  reduction: fc.constantFrom<'mean' | 'sum'>('mean', 'sum'),
}, { requiredKeys: ['shape', 'seed', 'fill', 'target', 'mask', 'includeBackground', 'batch', 'weight', 'extreme', 'reduction'] })
  .map((c) => (c.balance === 'rcf' ? c : { ...c, rcfLambda: undefined, rcfEta: undefined })));

/**
 * The Dice term of crispEdgeLoss in float64, from its formula (Deng et al. 2018): per (row, kept class),
 * R = (ΣP² + ΣG² + smoothDr)/(2ΣPG + smoothNr) over the kept elements, P = σ(x); the loss Σ k·w·R with
 * k = 1/entries ('mean') or 1 ('sum'); dR/dx = (2P/D − 2G(Q + smoothDr)/D²)·P(1 − P), D = 2ΣPG + smoothNr,
 * Q = ΣP² + ΣG². Also each element's cancelling terms k·w·(2P/D + 2G(Q + smoothDr)/D²)·P(1 − P).
 */
function crispDiceReference(x: Float32Array, t: TargetArray, mask: Uint8Array | undefined, o: {
  shape: number[]; includeBackground: boolean; batch: boolean; weight: number[] | undefined; smoothNr: number; smoothDr: number; reduction: 'mean' | 'sum';
}): { loss: number; grad: Float64Array; terms: Float64Array; scale: number } {
  const { N, C, S } = dims(o.shape);
  const c0 = o.includeBackground ? 0 : 1;
  const rows = o.batch ? 1 : N;
  const kept = (n: number, ch: number, s: number) => !mask || mask[mask.length === N * S ? n * S + s : (n * C + ch) * S + s] !== 0;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const I = new Float64Array(rows * C), Q = new Float64Array(rows * C);
  for (let n = 0; n < N; n++) {
    for (let ch = 0; ch < C; ch++) {
      for (let s = 0; s < S; s++) {
        if (!kept(n, ch, s)) continue;
        const i = (n * C + ch) * S + s, p = sigmoid(x[i]!), g = t[i]!, r = (o.batch ? 0 : n) * C + ch;
        I[r]! += p * g;
        Q[r]! += p * p + g * g;
      }
    }
  }
  const k = o.reduction === 'sum' ? 1 : 1 / (rows * (C - c0));
  let loss = 0, scale = 0;
  for (let r = 0; r < rows; r++) {
    for (let ch = c0; ch < C; ch++) {
      const w = o.weight ? o.weight[ch - c0]! : 1;
      const v = k * w * (Q[r * C + ch]! + o.smoothDr) / (2 * I[r * C + ch]! + o.smoothNr);
      loss += v;
      scale += Math.abs(v);
    }
  }
  const grad = new Float64Array(x.length), terms = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let ch = c0; ch < C; ch++) {
      for (let s = 0; s < S; s++) {
        if (!kept(n, ch, s)) continue;
        const i = (n * C + ch) * S + s, p = sigmoid(x[i]!), q = sigmoid(-x[i]!), g = t[i]!, r = (o.batch ? 0 : n) * C + ch;
        const w = o.weight ? o.weight[ch - c0]! : 1, D = 2 * I[r]! + o.smoothNr, up = (2 * p) / D, down = (2 * g * (Q[r]! + o.smoothDr)) / (D * D);
        grad[i] = k * w * (up - down) * p * q;
        terms[i] = k * w * (up + down) * p * q;
      }
    }
  }
  return { loss, grad, terms, scale };
}

/**
 * crispEdgeLoss = α·(the Dice term above) + β·bceLoss(x, g, { activation: 'sigmoid', balance: 'hed' by
 * default, … }) against float64: the Dice term's bound is lossTolerance of Σ|k·w·R| (all its sums are of
 * non-negative terms, so their float32 errors are relative); the cross-entropy part's is the pixel-loss
 * bound of bceProblem. Gradient: 1e-5 × max|reference| plus 64 ulp of both parts' terms.
 */
export function crispProblem(c: CrispCase): Problem {
  const r = mulberry32(c.seed);
  const { C, n } = dims(c.shape);
  const input = logits(r, n, c.extreme);
  const target = denseTarget(r, n, c.target, c.fill);
  const mask = maskOf(r, c.mask, c.shape);
  const weight = c.weight ? Array.from({ length: C - (c.includeBackground ? 0 : 1) }, () => (r() < 0.1 ? 0 : 2 * r())) : undefined;
  const pixelOptions = defined({ balance: c.balance, posWeight: c.posWeight, labelSmoothing: c.labelSmoothing, rcfLambda: c.rcfLambda, rcfEta: c.rcfEta });
  const options = defined({
    shape: c.shape, includeBackground: c.includeBackground, batch: c.batch, weight, smoothNr: c.smoothNr, smoothDr: c.smoothDr,
    alpha: c.alpha, beta: c.beta, reduction: c.reduction, ...pixelOptions,
  });
  const alpha = c.alpha ?? 1, beta = c.beta ?? 1;
  const balance = c.balance ?? 'hed';
  const maxWeight = Math.max(1, c.posWeight ?? 1, balance === 'rcf' ? c.rcfLambda ?? 1.1 : 1);
  return {
    input, target, mask, grad: true,
    call: (api, a) => api.crispEdgeLoss(a.input, a.target as Float32Array, { ...options, mask: a.mask, grad: a.grad } as Segloss.CrispEdgeOptions),
    check: (value, grad) => {
      const d = crispDiceReference(input, target, mask, {
        shape: c.shape, includeBackground: c.includeBackground, batch: c.batch, weight, smoothNr: c.smoothNr ?? 1, smoothDr: c.smoothDr ?? 1, reduction: c.reduction,
      });
      const pixel = { shape: c.shape, activation: 'sigmoid', mask, reduction: c.reduction, ...pixelOptions, balance };
      const p = bceLossReference(input, target, pixel as never);
      const want = alpha * d.loss + beta * (p.loss as number);
      if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
      const terms = bceTerms({ ...c, activation: 'sigmoid', balance }, input, target, mask, maxWeight);
      const slack = terms.scale * terms.loss.reduce((a, b) => a + b, 0);
      const tol = alpha * lossTolerance(d.scale) + beta * (1e-6 * Math.abs(p.loss as number) + 2e-7 * maxWeight * (c.reduction === 'sum' ? n : 1) + slack);
      if (!(Math.abs(value - want) <= tol)) return `loss = ${value}, reference ${want} (diff ${value - want}, tolerance ${tol})`;
      const wantGrad = Float64Array.from(d.grad, (v, i) => alpha * v + beta * p.grad![i]!);
      return gradientMismatch(grad!, wantGrad, () => d.terms.map((t, i) => alpha * t + beta * terms.grad[i]!));
    },
  };
}

// ---------------------------------------------------------------- diceCeLoss ---

export interface DiceCeCase {
  /** The Dice options (activation 'softmax', class-index targets, mask 'none' or 'pixel'). */
  set: OptionSet;
  shape: number[];
  seed: number;
  fill: Fill;
  transform: 'none' | 'log' | 'logcosh';
  /** Per-class cross-entropy weights (PyTorch's `weight`). */
  ceWeight: boolean;
  lambdaDice?: number;
  lambdaCe?: number;
}

export const diceCeArb = (size: Size = 'small'): fc.Arbitrary<DiceCeCase> => fc.record({
  mask: fc.constantFrom<'none' | 'pixel'>('none', 'pixel'),
  tv: fc.constantFrom(...TARGET_VARIANTS.filter(([t]) => t !== 'f32' && t !== 'u8')),
  sm: fc.constantFrom(...SMOOTHINGS),
  includeBackground: fc.boolean(), squared: fc.boolean(), jaccard: fc.boolean(), batch: fc.boolean(), weight: fc.boolean(),
  reduction: fc.constantFrom<'mean' | 'sum'>('mean', 'sum'),
}).map(({ mask, tv, sm, ...flags }): OptionSet => ({
  ...flags, activation: 'softmax', mask, target: tv[0], ignore: tv[1], smoothNr: sm[0], smoothDr: sm[1],
})).chain((set) => fc.record({
  set: fc.constant(set),
  shape: shapeArb(2, 5, size), seed: seedArb, fill: fillArb,
  transform: fc.constantFrom<DiceCeCase['transform']>('none', 'log', 'logcosh'),
  ceWeight: fc.boolean(),
  lambdaDice: optional(fc.oneof(fc.constantFrom(0, 1, 0.3), real(0, 4))),
  lambdaCe: optional(fc.oneof(fc.constantFrom(0, 1, 0.7), real(0, 4))),
}, { requiredKeys: ['set', 'shape', 'seed', 'fill', 'transform', 'ceWeight'] }));

/**
 * PyTorch's cross_entropy(x, y, weight, ignore_index) in float64 over the kept pixels (mask, ignoreIndex):
 * ce = (m − x_y) + log1p(Σ_{k≠a} e^(x_k − m)), a the arg-max and m its logit (log1p: 1 + a tiny sum would
 * lose it for confident pixels); 'mean' = Σ w_y·ce / Σ w_y (0 with nothing kept), 'sum' = Σ w_y·ce;
 * dce/dx_k = w_y·(p_k − [k = y])·scale. Also Σ|w_y·ce|·scale and each element's terms w_y·(p_k + [k = y])·scale.
 */
function crossEntropyReference(x: Float32Array, t: TargetArray, mask: Uint8Array | undefined, ignoreIndex: number | undefined,
  shape: readonly number[], w: ArrayLike<number>, reduction: 'mean' | 'sum'): { loss: number; grad: Float64Array; terms: Float64Array; scale: number } {
  const { N, C, S } = dims(shape);
  const grad = new Float64Array(x.length), terms = new Float64Array(x.length);
  let total = 0, weightTotal = 0, size = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const y = t[n * S + s]!;
      if (y === ignoreIndex || (mask && mask[n * S + s] === 0)) continue;
      let a = 0;
      for (let k = 1; k < C; k++) if (x[(n * C + k) * S + s]! > x[(n * C + a) * S + s]!) a = k;
      const m = x[(n * C + a) * S + s]!;
      let rest = 0;
      for (let k = 0; k < C; k++) if (k !== a) rest += Math.exp(x[(n * C + k) * S + s]! - m);
      const ce = m - x[(n * C + y) * S + s]! + Math.log1p(rest);
      total += w[y]! * ce;
      size += Math.abs(w[y]! * ce);
      weightTotal += w[y]!;
      for (let k = 0; k < C; k++) {
        const i = (n * C + k) * S + s, p = Math.exp(x[i]! - m) / (1 + rest);
        grad[i] = w[y]! * (p - (k === y ? 1 : 0));
        terms[i] = w[y]! * (p + (k === y ? 1 : 0));
      }
    }
  }
  const scale = reduction === 'sum' ? 1 : weightTotal > 0 ? 1 / weightTotal : 0;
  return { loss: total * scale, grad: grad.map((v) => v * scale), terms: terms.map((v) => v * scale), scale: size * scale };
}

/**
 * diceCeLoss = lambdaDice·diceLoss(softmax, indices, …) + lambdaCe·CE against diceLossReference and the
 * float64 cross-entropy above. Loss: the Dice bound of fusedProblem plus 1e-6 of Σ|w·ce| (scaled) and
 * 2e-7 per kept pixel for the float32 element losses; gradient: 1e-5 × max|reference| plus 64 ulp of
 * the Dice part's cancelling terms and the CE part's terms.
 */
export function diceCeProblem(c: DiceCeCase): Problem {
  const data = regionData(c);
  const { C } = dims(c.shape);
  const dice = { ...regionOptions({ ...c, kind: 'dice', extra: { transform: c.transform } }, data), mask: data.mask };
  const reduction = c.set.reduction as 'mean' | 'sum';
  const r = mulberry32(c.seed ^ 0x5bd1e995);
  const ceWeight = c.ceWeight ? Array.from({ length: C }, () => (r() < 0.15 ? 0 : 3 * r())) : undefined;
  // The call leaves activation ('softmax') and target ('indices') at their defaults; the mask is an operand.
  const callDice: Record<string, unknown> = { ...dice };
  for (const key of ['mask', 'activation', 'target']) delete callDice[key];
  const options = defined({ ...callDice, ceWeight, lambdaDice: c.lambdaDice, lambdaCe: c.lambdaCe });
  const lambdaDice = c.lambdaDice ?? 1, lambdaCe = c.lambdaCe ?? 1;
  return {
    input: data.input, target: data.target, mask: data.mask, grad: true,
    call: (api, a) => api.diceCeLoss(a.input, a.target as Uint8Array, { ...options, mask: a.mask, grad: a.grad } as Segloss.DiceCeOptions),
    check: (value, grad) => {
      const d = diceLossReference(data.input, data.target, dice);
      const ce = crossEntropyReference(data.input, data.target, data.mask, data.ignoreIndex, c.shape, ceWeight ?? new Array<number>(C).fill(1), reduction);
      const want = lambdaDice * (d.loss as number) + lambdaCe * ce.loss;
      if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
      const entries = diceLossReference(data.input, data.target, { ...dice, reduction: 'none' }).loss as Float64Array;
      const diceScale = Math.max(1, entries.reduce((z, v) => z + Math.abs(v), 0) / (reduction === 'mean' ? Math.max(1, entries.length) : 1));
      const maxW = Math.max(1, ...(ceWeight ?? []));
      const kept = data.target.length;
      const tol = lambdaDice * lossTolerance(diceScale) + lambdaCe * (1e-6 * ce.scale + 2e-7 * maxW * (reduction === 'sum' ? kept : 1));
      // Beyond the rounding: the Dice part's conditioning (see conditioning), only where needed.
      let cond: Conditioning | undefined;
      const slack = () => (cond ??= conditioning('dice', data, dice));
      const err = Math.abs(value - want);
      if (!(err <= tol) && !(err <= tol + lambdaDice * 2 * (slack().loss as number))) return `loss = ${value}, reference ${want} (diff ${value - want}, tolerance ${tol})`;
      const wantGrad = Float64Array.from(d.grad!, (v, i) => lambdaDice * v + lambdaCe * ce.grad[i]!);
      const gradTerms = () => regionGradientScale('dice', data.input, data.target, dice).map((t, i) => lambdaDice * t + lambdaCe * ce.terms[i]!);
      const bad = gradientMismatch(grad!, wantGrad, gradTerms);
      if (bad === null) return null;
      return gradientMismatch(grad!, wantGrad, () => gradTerms().map((t, i) => t + (lambdaDice * 2 * slack().grad[i]!) / (64 * F32_EPS))) === null ? null : bad;
    },
  };
}

// ------------------------------------------------------------------ metrics ---

export type MetricFn = 'confusion' | 'diceScore' | 'iouScore' | 'precision' | 'recall' | 'fbetaScore';

export interface MetricCase {
  fn: MetricFn;
  set: Pick<OptionSet, 'activation' | 'mask' | 'target' | 'ignore' | 'includeBackground' | 'batch'>;
  shape: number[];
  seed: number;
  fill: Fill;
  threshold?: number;
  average?: 'micro' | 'macro' | 'samples' | 'none';
  empty?: 'nan' | 'one' | 'zero' | 'skip';
  beta?: number;
  /** Scores: also call the score on the counts of `confusion` (it must give the same bits). */
  viaCounts: boolean;
}

export function metricArb(fn: MetricFn, size: Size = 'small'): fc.Arbitrary<MetricCase> {
  return fc.record({
    am: fc.constantFrom(...ACTIVATION_MASKS), tv: fc.constantFrom(...TARGET_VARIANTS),
    includeBackground: fc.boolean(), batch: fc.boolean(),
  }).chain(({ am, tv, includeBackground, batch }) => {
    const set = { activation: am[0], mask: am[1], target: tv[0], ignore: tv[1], includeBackground, batch };
    return fc.record({
      fn: fc.constant(fn), set: fc.constant(set),
      shape: shapeArb(set.activation === 'softmax' || !includeBackground ? 2 : 1, 5, size),
      seed: seedArb, fill: fillArb,
      threshold: set.activation === 'softmax' ? fc.constant(undefined) : optional(fc.oneof(fc.constantFrom(0, 1, 0.5), real(0, 1))),
      average: optional(fc.constantFrom('micro', 'macro', 'samples', 'none')),
      empty: optional(fc.constantFrom('nan', 'one', 'zero', 'skip')),
      beta: fn === 'fbetaScore' ? optional(fc.oneof(fc.constantFrom(1, 0.5, 2), real(1e-3, 1e3))) : fc.constant(undefined),
      viaCounts: fc.boolean(),
    }, { requiredKeys: ['fn', 'set', 'shape', 'seed', 'fill', 'viaCounts'] });
  });
}

const SCORE_NAME: Record<Exclude<MetricFn, 'confusion'>, ScoreName> = {
  diceScore: 'dice', iouScore: 'iou', precision: 'precision', recall: 'recall', fbetaScore: 'fbeta',
};

/** Scores of the same counts: 1e-15 relative (test/metrics.test.ts), NaN exactly where the reference is NaN. */
function sameScore(got: number, want: number): boolean {
  return Number.isNaN(want) ? Number.isNaN(got) : Math.abs(got - want) <= 1e-15 * Math.abs(want);
}

export function metricProblem(c: MetricCase): Problem {
  const { set } = c;
  const data = regionData({ set: { ...set, squared: false, jaccard: false, weight: false, reduction: 'mean', smoothNr: 1e-5, smoothDr: 1e-5 }, shape: c.shape, seed: c.seed, fill: c.fill });
  const layout = defined({
    shape: c.shape, activation: set.activation, target: set.target === 'f32' || set.target === 'u8' ? 'dense' : 'indices',
    ignoreIndex: data.ignoreIndex, includeBackground: set.includeBackground, batch: set.batch, threshold: c.threshold,
  });
  const scoreOptions = defined({ average: c.average, empty: c.empty, beta: c.beta });
  const referenceCounts = () => confusionReference(data.input, data.target, { ...layout, mask: data.mask } as never);
  if (c.fn === 'confusion') {
    return {
      input: data.input, target: data.target, mask: data.mask, grad: false,
      call: (api, a) => api.confusion(a.input, a.target, { ...layout, mask: a.mask } as Segloss.ConfusionOptions),
      check: (value) => {
        const want = referenceCounts();
        const got = value as Segloss.Confusion;
        for (const key of ['tp', 'fp', 'fn', 'tn'] as const) {
          if (!(got[key] instanceof Float64Array) || got[key].length !== want[key].length) return `${key}: expected ${want[key].length} counts`;
          const k = got[key].findIndex((v, i) => v !== want[key][i]);
          if (k >= 0) return `${key}[${k}] = ${got[key][k]}, reference ${want[key][k]}`;
        }
        return got.samples === want.samples && got.classes === want.classes ? null : `samples/classes ${got.samples}/${got.classes}, reference ${want.samples}/${want.classes}`;
      },
    };
  }
  const fn = c.fn;
  return {
    input: data.input, target: data.target, mask: data.mask, grad: false,
    call: (api, a) => {
      const score = api[fn] as (...args: unknown[]) => number | Float64Array;
      const onArrays = score(a.input, a.target, { ...layout, ...scoreOptions, mask: a.mask });
      if (!c.viaCounts) return onArrays;
      // The same score of confusion's counts: the same bits.
      const onCounts = score(api.confusion(a.input, a.target, { ...layout, mask: a.mask } as Segloss.ConfusionOptions), scoreOptions);
      const same = typeof onArrays === 'number' ? Object.is(onArrays, onCounts)
        : onCounts instanceof Float64Array && onArrays.every((v, i) => Object.is(v, onCounts[i]));
      if (!same) throw new Error(`${fn} on arrays ${String(onArrays)} but on their counts ${String(onCounts)}`);
      return onArrays;
    },
    check: (value) => {
      const want = scoreReference(SCORE_NAME[fn], referenceCounts(), scoreOptions);
      if (typeof want === 'number') {
        return typeof value === 'number' && sameScore(value, want) ? null : `${fn} = ${String(value)}, reference ${want}`;
      }
      if (!(value instanceof Float64Array) || value.length !== want.length) return `expected ${want.length} scores, got ${String(value)}`;
      const k = want.findIndex((v, i) => !sameScore(value[i]!, v));
      return k < 0 ? null : `${fn}[${k}] = ${value[k]}, reference ${want[k]}`;
    },
  };
}
