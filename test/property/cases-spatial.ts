// Generated cases of the spatial functions (the distance transforms, the distance losses and the
// pooling losses), in the format of cases.ts: small JSON cases, and `problem(case)` giving the arrays,
// the call and the comparison with the float64 reference (src/reference/distance.ts: brute force, every
// pixel against every site; src/reference/pool.ts: windows element by element and a reverse-mode tape).
//
// The brute-force and tape references are O(S²) and O(S·window) in plain JavaScript, so these shapes
// are smaller than cases.ts's (a plane of at most ~120–200 elements and at most 6 planes per 'small'
// case) to keep 2,000 cases per function within seconds; 'large' cases use planes of thousands of
// elements.
import fc from 'fast-check';
import {
  distanceTransformReference, signedDistanceReference, hausdorffFieldReference, boundaryLossReference, hausdorffDTLossReference,
} from '../../src/reference/distance.ts';
import { clDiceLossReference, toleranceDiceLossReference, softSkeletonReference } from '../../src/reference/pool.ts';
import { regionGradientScale } from '../../src/reference/dice.ts';
import { mulberry32, lossTolerance, F32_EPS } from '../helpers.ts';
import {
  int, seedArb, fillArb, real, optional, dims, logits, probabilities, denseTarget, gradientMismatch, firstNonFinite,
  defined, between, valueSign, type Fill, type Problem, type Rand, type Size,
} from './cases.ts';

// ------------------------------------------------------------------ shapes ---

/**
 * Spatial extents with `minAxes` to `maxAxes` axes whose product is at most `maxS` (every size from 1;
 * primes such as 7, 11, 13 occur), or for 'large' the caller's `large` extents (thousands of elements).
 */
function extentsArb(size: Size, maxS: number, minAxes: number, maxAxes: number, large: fc.Arbitrary<number[]>): fc.Arbitrary<number[]> {
  if (size === 'large') return large;
  return int(minAxes, maxAxes).chain((d) => {
    if (d === 1) return fc.oneof({ weight: 3, arbitrary: int(1, 40) }, { weight: 1, arbitrary: int(1, maxS) }).map((s) => [s]);
    const cap = Math.max(2, Math.floor(maxS ** (1 / d)));
    return fc.array(int(1, cap), { minLength: d, maxLength: d });
  });
}

/** A spacing per axis: absent (all 1), or values from 0.05 to 20 (including 1 and ties between axes). */
function spacingArb(axes: number): fc.Arbitrary<number[] | undefined> {
  return optional(fc.array(fc.oneof(fc.constantFrom(1, 0.5, 2), real(0.05, 20)), { minLength: axes, maxLength: axes }));
}

// -------------------------------------------------------------------- data ---

/** Binary maps: each map its own density (sparse to dense), or all 0 / all 1 for the fills. */
function binaryMaps(r: Rand, maps: number, S: number, fill: Fill): Uint8Array {
  const out = new Uint8Array(maps * S);
  if (fill !== 'random') return out.fill(fill === 'ones' ? 1 : 0);
  for (let m = 0; m < maps; m++) {
    const density = [0.02, 0.1, 0.3, 0.5, 0.8, 0.97][between(r, 0, 5)]!;
    for (let s = 0; s < S; s++) out[m * S + s] = r() < density ? 1 : 0;
  }
  return out;
}

/** A Float32Array mask of those maps: set pixels > 0.5 (0.5000001, 1, up to 3), unset ≤ 0.5 (0.5, 0, negatives). */
function floatMask(r: Rand, set: Uint8Array): Float32Array {
  return Float32Array.from(set, (v) => {
    const u = r();
    if (v) return u < 0.2 ? 1 : u < 0.3 ? Math.fround(0.5000001) : 0.5 + 2.5 * r() + 1e-3;
    return u < 0.3 ? 0 : u < 0.4 ? 0.5 : u < 0.5 ? -r() * 100 : 0.5 * r();
  });
}

/** Targets in [0, 1] shaped like `set` (> 0.5 where set): hard 0/1 f32, soft f32 (0.5 counts as unset), or u8. */
function mapTarget(r: Rand, set: Uint8Array, kind: 'hard' | 'soft' | 'u8'): Float32Array | Uint8Array {
  if (kind === 'u8') return set.slice();
  if (kind === 'hard') return Float32Array.from(set);
  return Float32Array.from(set, (v) => (v ? (r() < 0.5 ? 1 : 0.501 + 0.499 * r()) : r() < 0.5 ? 0 : r() < 0.2 ? 0.5 : 0.5 * r()));
}

/**
 * Logits on a grid (k/8 in ±6, exact ties included) plus ±80: their float32 sigmoids keep the float64
 * order (neighbouring grid values differ by ≥ 3e-4 in σ, far beyond the kernel's 1.4-ulp σ), so a pool's
 * arg-max, which decides where the gradient goes, is the same element in both. Uniform logits would put
 * the kernel (σ in float32) and the reference (σ in float64) on different sides of a tie now and then
 * (17 and 20 both give σ = 1 in float32), a choice between two valid subgradients, not an error.
 */
function gridLogits(r: Rand, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (r() < 0.1 ? (r() < 0.5 ? -80 : 80) : between(r, -48, 48) / 8));
}

/**
 * Probabilities for clDice: ~15% exact 0, ~15% exact 1, else uniform in [0.02, 0.98]. Not the values
 * within 1e-6 of 0 or 1 that `probabilities` also draws: soft_skel's s_k = s + relu(δ − s·δ) then reaches
 * 1 − 1e-12, which float32 rounds to exactly 1, so relu's argument is exactly 0 in the kernel (relu' = 0)
 * and 1e-12·δ in float64 (relu' = 1): the two sides of a kink, where no float32 kernel can follow a float64
 * reference. With δ ≤ 0.98 or δ = 1 exactly, 1 − s stays ≥ ~0.02·0.98^K or is exactly 0 in both (a large δ
 * at a pixel empties its later erosions, so large δs cannot repeat there).
 */
function clDiceProbabilities(r: Rand, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = r();
    return u < 0.15 ? 0 : u < 0.3 ? 1 : 0.02 + 0.96 * r();
  });
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Relative error of a float32 rounding of a float64 result (half an ulp, with room for the kernel's float64 path). */
const F32_ROUNDING = 2 ** -23;

/** A result array against the float64 reference: within one float32 rounding, ±Infinity exactly. */
function mapMismatch(name: string, got: ArrayLike<number>, want: ArrayLike<number>, floor = 0): string | null {
  if (got.length !== want.length) return `${name} has ${got.length} elements, reference ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, g = got[i]!;
    if (!Number.isFinite(w)) { if (g !== w) return `${name}[${i}] = ${g}, reference ${w}`; continue; }
    if (!(Math.abs(g - w) <= F32_ROUNDING * Math.abs(w) + floor)) return `${name}[${i}] = ${g}, reference ${w}`;
  }
  return null;
}

// ------------------------------------------------- distanceTransform / signedDistance ---

export interface MapCase {
  fn: 'distanceTransform' | 'signedDistance';
  /** [N, ...spatial], 1 to 3 spatial axes. */
  shape: number[];
  seed: number;
  fill: Fill;
  /** The mask: set where nonzero (u8) or > 0.5 (f32). */
  mask: 'u8' | 'f32';
  spacing?: number[];
  /** distanceTransform's value for maps without a set pixel (Infinity by default, or a cap). */
  empty?: number;
  /** The result into options.out (as long as the mask), else a new array. */
  out: boolean;
}

export const mapArb = (fn: MapCase['fn']) => (size: Size = 'small'): fc.Arbitrary<MapCase> =>
  fc.tuple(int(1, size === 'large' ? 1 : 3), extentsArb(size, 150, 1, 3, fc.oneof(
    int(1500, 5000).map((s) => [s]), fc.tuple(int(40, 75), int(40, 75)), fc.tuple(int(9, 14), int(9, 14), int(9, 14)),
  ))).chain(([N, spatial]) => fc.record({
    fn: fc.constant(fn),
    shape: fc.constant([N, ...spatial]),
    seed: seedArb, fill: fillArb,
    mask: fc.constantFrom<MapCase['mask']>('u8', 'f32'),
    spacing: spacingArb(spatial.length),
    empty: fn === 'distanceTransform' ? optional(fc.constantFrom(Infinity, 0, 5.5, 1e6)) : fc.constant(undefined),
    out: fc.boolean(),
  }, { requiredKeys: ['fn', 'shape', 'seed', 'fill', 'mask', 'out'] }));

/**
 * The distance maps against the brute-force references: every distance within one float32 rounding of
 * the float64 value (the kernel computes in float64 and rounds once; signedDistance's inside values
 * −(D_out − h_min) also within 2^-40·h_min of absolute rounding of that difference), Infinity exactly
 * where the map is empty. The mask travels in the target slot (input is an unused copy of it, as long
 * as the mask), options.out in the gradient slot (NaN-filled by the harness).
 */
export function mapProblem(c: MapCase): Problem {
  const r = mulberry32(c.seed);
  const [N, ...spatial] = c.shape;
  const S = spatial.reduce((a, b) => a * b, 1);
  const set = binaryMaps(r, N!, S, c.fill);
  const mask: Float32Array | Uint8Array = c.mask === 'u8' ? Uint8Array.from(set, (v) => (v ? between(r, 1, 255) : 0)) : floatMask(r, set);
  const options = defined({ shape: c.shape, spacing: c.spacing, empty: c.empty });
  const hMin = Math.min(...(c.spacing ?? [1]));
  return {
    input: Float32Array.from(mask), target: mask, mask: undefined, grad: c.out,
    call: (api, a) => (api[c.fn] as (m: unknown, o: unknown) => Float32Array)(a.target, c.out ? { ...options, out: a.grad } : options),
    check: (value, out) => {
      if (!(value instanceof Float32Array)) return `expected a Float32Array, got ${String(value)}`;
      if (out && !value.every((v, i) => Object.is(v, out[i]))) return 'the returned array is not what was written to options.out';
      const want = c.fn === 'distanceTransform'
        ? distanceTransformReference(mask, options as never)
        : signedDistanceReference(mask, options as never);
      if (c.fn === 'signedDistance') {
        const bad = firstNonFinite(value);
        if (bad >= 0) return `result[${bad}] = ${value[bad]}`;
      }
      return mapMismatch('result', value, want, c.fn === 'signedDistance' ? 2 ** -40 * hMin : 0);
    },
  };
}

// --------------------------------------------------- boundaryLoss / hausdorffDTLoss ---

export interface DistanceLossCase {
  fn: 'boundaryLoss' | 'hausdorffDTLoss';
  /** [N, C, ...spatial], 1 to 3 spatial axes. */
  shape: number[];
  seed: number;
  fill: Fill;
  activation: 'none' | 'sigmoid' | 'softmax';
  target: 'hard' | 'soft' | 'u8';
  includeBackground: boolean;
  reduction: 'mean' | 'sum' | 'none';
  spacing?: number[];
  /** hausdorffDTLoss: the exponent α in (0, 4]. */
  alpha?: number;
  /** boundaryLoss: pass φ_G as options.distances (its own signedDistance), with the target, or with target null. */
  distances: 'none' | 'with-target' | 'target-null';
  extreme: boolean;
}

export const distanceLossArb = (fn: DistanceLossCase['fn']) => (size: Size = 'small'): fc.Arbitrary<DistanceLossCase> =>
  fc.record({ activation: fc.constantFrom<DistanceLossCase['activation']>('none', 'sigmoid', 'softmax'), includeBackground: fc.boolean() })
    .chain(({ activation, includeBackground }) => {
      const minC = activation === 'softmax' || !includeBackground ? 2 : 1;
      return fc.tuple(int(1, size === 'large' ? 1 : 2), int(minC, size === 'large' ? 2 : 3), extentsArb(size, 120, 1, 3, fc.oneof(
        int(1500, 3000).map((s) => [s]), fc.tuple(int(35, 55), int(35, 55)),
      ))).chain(([N, C, spatial]) => fc.record({
        fn: fc.constant(fn),
        shape: fc.constant([N, C, ...spatial]),
        seed: seedArb, fill: fillArb,
        activation: fc.constant(activation),
        target: fc.constantFrom<DistanceLossCase['target']>('hard', 'soft', 'u8'),
        includeBackground: fc.constant(includeBackground),
        reduction: fc.constantFrom<DistanceLossCase['reduction']>('mean', 'sum', 'none'),
        spacing: spacingArb(spatial.length),
        alpha: fn === 'hausdorffDTLoss' ? optional(fc.oneof(fc.constantFrom(1, 2, 0.5, 4), real(0.05, 4))) : fc.constant(undefined),
        distances: fn === 'boundaryLoss' ? fc.constantFrom<DistanceLossCase['distances']>('none', 'with-target', 'target-null') : fc.constant<'none'>('none'),
        extreme: fc.boolean(),
      }, { requiredKeys: ['fn', 'shape', 'seed', 'fill', 'activation', 'target', 'includeBackground', 'reduction', 'distances', 'extreme'] }));
    });

/** Probabilities of the input in float64 (as the reference computes them). */
function probabilitiesOf(x: Float32Array, activation: string, N: number, C: number, S: number): Float64Array {
  const p = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity, z = 0;
      if (activation === 'softmax') {
        for (let c = 0; c < C; c++) m = Math.max(m, x[(n * C + c) * S + s]!);
        for (let c = 0; c < C; c++) z += Math.exp(x[(n * C + c) * S + s]! - m);
      }
      for (let c = 0; c < C; c++) {
        const i = (n * C + c) * S + s;
        p[i] = activation === 'softmax' ? Math.exp(x[i]! - m) / z : activation === 'sigmoid' ? sigmoid(x[i]!) : x[i]!;
      }
    }
  }
  return p;
}

/** The activation's chain rule on non-negative terms t, in absolute values (softmax: p_k·(t_k + Σ_j p_j·t_j)). */
function absoluteChain(t: Float64Array, p: Float64Array, activation: string, N: number, C: number, S: number): Float64Array {
  const out = new Float64Array(t.length);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += p[(n * C + c) * S + s]! * t[(n * C + c) * S + s]!;
      for (let c = 0; c < C; c++) {
        const i = (n * C + c) * S + s;
        out[i] = activation === 'softmax' ? p[i]! * (t[i]! + dot) : activation === 'sigmoid' ? t[i]! * p[i]! * (1 - p[i]!) : t[i]!;
      }
    }
  }
  return out;
}

/**
 * Hausdorff's d_P thresholds p > 0.5 as the kernel computes p (float32): a logit whose float64 p lies
 * within 1e-4 of 0.5 could fall on the other side there, which changes d_P by whole pixels (a
 * discontinuity of the loss, not an error). Such pixels are moved away: their largest logit gets +0.01
 * until every p of the pixel is at least 1e-4 from 0.5. Probabilities ('none') are compared as given.
 */
function awayFromHalf(x: Float32Array, activation: string, N: number, C: number, S: number): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      for (let step = 0; step < 1000; step++) {
        const at = (c: number) => (n * C + c) * S + s;
        let near = false;
        if (activation === 'sigmoid') {
          for (let c = 0; c < C; c++) {
            if (Math.abs(sigmoid(x[at(c)]!) - 0.5) < 1e-4) { x[at(c)] = Math.fround(x[at(c)]! + 0.01); near = true; }
          }
        } else {
          let m = -Infinity, z = 0, top = 0;
          for (let c = 0; c < C; c++) { if (x[at(c)]! > m) { m = x[at(c)]!; top = c; } }
          for (let c = 0; c < C; c++) z += Math.exp(x[at(c)]! - m);
          for (let c = 0; c < C; c++) if (Math.abs(Math.exp(x[at(c)]! - m) / z - 0.5) < 1e-4) near = true;
          if (near) x[at(top)] = Math.fround(x[at(top)]! + 0.01);
        }
        if (!near) break;
      }
    }
  }
}

/**
 * The distance losses against the float64 references (brute-force distance maps):
 * - value: each L_nc = (1/S)·Σ ℓ is a float32 lane sum of float32 terms (p within 1.4 ulp, distances
 *   within 0.5 ulp, d^α within a few ulp times α·|ln d| for α ∉ {1, 2}): |ΔL_nc| ≤ (S/4 + 16 + 4α·ln⁺d_max)·2^-24
 *   · (1/S)·Σ|ℓ|, plus for Hausdorff the cancellation of (p − g)² near g (4 ulp of p: 8·|p − g|·p·w·2^-24
 *   per element), plus with softmax the error of p_k from x_k − max x rounded in float32 (Δ ulp for a
 *   spread Δ of the pixel's logits), plus 1e-7 of |L_nc|. The reduced loss gets the sum of its entries'
 *   bounds (scaled by the reduction);
 * - gradient: 1e-5 × max|reference| plus (64 + 4α·ln⁺d_max + Δ) ulp of the terms each element's gradient
 *   adds before they cancel: p − g (Hausdorff) and the softmax chain p_k(q_k − Σ p_j q_j).
 */
export function distanceLossProblem(c: DistanceLossCase): Problem {
  const r = mulberry32(c.seed);
  const { N, C, S, n } = dims(c.shape);
  const spatial = c.shape.slice(2);
  const input = c.activation === 'none' ? probabilities(r, n) : logits(r, n, c.extreme);
  if (c.fn === 'hausdorffDTLoss' && c.activation !== 'none') awayFromHalf(input, c.activation, N, C, S);
  const target = mapTarget(r, binaryMaps(r, N * C, S, c.fill), c.target);
  const mapsOptions = { shape: [N * C, ...spatial], spacing: c.spacing };
  const distances = c.distances === 'none' ? undefined : Float32Array.from(signedDistanceReference(target, mapsOptions));
  const options = defined({
    shape: c.shape, activation: c.activation, includeBackground: c.includeBackground, reduction: c.reduction,
    spacing: c.spacing, alpha: c.alpha, distances,
  });
  const cStart = c.includeBackground ? 0 : 1, kept = C - cStart;
  const alpha = c.alpha ?? 2;
  const fn = c.fn;
  const h = c.spacing ?? spatial.map(() => 1);
  const dMax = Math.hypot(...spatial.map((e, a) => e * h[a]!));
  // The float32 power d^α (exp/log) for α other than 1 and 2: a relative error growing with α·|ln d|.
  const powUlps = alpha === 1 || alpha === 2 || fn === 'boundaryLoss' ? 0 : 4 * alpha * Math.max(0, Math.log(Math.max(dMax, 1 / Math.min(...h))));
  return {
    input, target, mask: undefined, grad: c.reduction !== 'none',
    call: (api, a) => (api[fn] as (x: unknown, t: unknown, o: unknown) => unknown)(a.input, c.distances === 'target-null' ? null : a.target, { ...options, grad: a.grad }),
    check: (value, grad) => {
      const reference = fn === 'boundaryLoss' ? boundaryLossReference : hausdorffDTLossReference;
      const ref = reference(input, target, options as never);
      const perEntry = (c.reduction === 'none' ? ref.loss : reference(input, target, { ...options, reduction: 'none' } as never).loss) as Float64Array;
      // (1/S)·Σ|ℓ| per entry, from the float64 terms.
      const p = probabilitiesOf(input, c.activation, N, C, S);
      const phi = fn === 'boundaryLoss' ? (distances ?? signedDistanceReference(target, mapsOptions)) : undefined;
      // Softmax in float32 forms x_k − max_c x_c, rounded to 2^-24 of itself: p_k's relative error grows
      // with that spread (84 ulp for logits −80 and 4), in ulp units per element of the pixel.
      const spread = new Float64Array(n);
      if (c.activation === 'softmax') {
        for (let k = 0; k < N; k++) for (let s = 0; s < S; s++) {
          let hi = -Infinity, lo = Infinity;
          for (let ch = 0; ch < C; ch++) { hi = Math.max(hi, input[(k * C + ch) * S + s]!); lo = Math.min(lo, input[(k * C + ch) * S + s]!); }
          for (let ch = 0; ch < C; ch++) spread[(k * C + ch) * S + s] = hi - lo;
        }
      }
      const termScale = new Float64Array(N * kept), cancelScale = new Float64Array(N * kept);
      if (fn === 'boundaryLoss') {
        for (let k = 0; k < N; k++) for (let ch = cStart; ch < C; ch++) {
          let sum = 0;
          let tail = 0;
          for (let s = 0; s < S; s++) { const i = (k * C + ch) * S + s; sum += Math.abs(p[i]! * phi![i]!); tail += Math.abs(p[i]! * phi![i]!) * spread[i]!; }
          termScale[k * kept + ch - cStart] = sum / S;
          cancelScale[k * kept + ch - cStart] = tail / S;
        }
      } else {
        // ℓ ≥ 0: Σ|ℓ| = Σℓ. And (p − g)² cancels near g: 4 ulp of p move it by 2|p − g|·4·2^-24·p·w.
        const dG = hausdorffFieldReference(target, mapsOptions), dP = hausdorffFieldReference(p, mapsOptions);
        for (let k = 0; k < N; k++) for (let ch = cStart; ch < C; ch++) {
          let cancel = 0;
          for (let s = 0; s < S; s++) {
            const i = (k * C + ch) * S + s;
            cancel += (8 + 2 * spread[i]!) * Math.abs(p[i]! - target[i]!) * p[i]! * (dG[i]! ** alpha + dP[i]! ** alpha);
          }
          const e = k * kept + ch - cStart;
          termScale[e] = Math.abs(perEntry[e]!);
          cancelScale[e] = cancel / S;
        }
      }
      const lanes = Math.min(S, 2048) / 4 + 16 + powUlps;
      const entryBound = (e: number) => (lanes * termScale[e]! + cancelScale[e]!) * F32_EPS + 1e-7 * Math.abs(perEntry[e]!) + 1e-30;
      if (c.reduction === 'none') {
        if (!(value instanceof Float64Array) || value.length !== perEntry.length) return `expected ${perEntry.length} per-entry losses, got ${String(value)}`;
        for (let e = 0; e < perEntry.length; e++) {
          if (!(Math.abs(value[e]! - perEntry[e]!) <= entryBound(e))) return `loss[${e}] = ${value[e]}, reference ${perEntry[e]} (tolerance ${entryBound(e)})`;
        }
        return null;
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
      let tol = 0;
      for (let e = 0; e < perEntry.length; e++) tol += entryBound(e);
      if (c.reduction === 'mean') tol /= perEntry.length;
      tol += 1e-12 * Math.abs(ref.loss as number);
      if (!(Math.abs(value - (ref.loss as number)) <= tol)) return `loss = ${value}, reference ${ref.loss} (diff ${value - (ref.loss as number)}, tolerance ${tol})`;
      return gradientMismatch(grad!, ref.grad!, () => {
        // |dℓ/dp| of the terms that cancel: |φ| (boundary), 2(|p| + |g|)·w (Hausdorff: p − g cancels near
        // g), times coef, then through the activation in absolute values (softmax: p_k(t_k + Σ_j p_j t_j)).
        const coef = c.reduction === 'mean' ? 1 / (N * kept * S) : 1 / S;
        const dG = fn === 'hausdorffDTLoss' ? hausdorffFieldReference(target, mapsOptions) : undefined;
        const dP = fn === 'hausdorffDTLoss' ? hausdorffFieldReference(p, mapsOptions) : undefined;
        const t = new Float64Array(n);
        for (let k = 0; k < N; k++) for (let ch = cStart; ch < C; ch++) for (let s = 0; s < S; s++) {
          const i = (k * C + ch) * S + s;
          t[i] = coef * (fn === 'boundaryLoss' ? Math.abs(phi![i]!) : 2 * (p[i]! + target[i]!) * (dG![i]! ** alpha + dP![i]! ** alpha));
        }
        const chained = absoluteChain(t, p, c.activation, N, C, S);
        return chained.map((v, i) => (v * (64 + powUlps + spread[i]!)) / 64);
      });
    },
  };
}

// ------------------------------------------------- clDiceLoss / toleranceDiceLoss ---

export interface PoolCase {
  fn: 'clDiceLoss' | 'toleranceDiceLoss';
  /** [N, C, H, W] or [N, C, D, H, W]. */
  shape: number[];
  seed: number;
  fill: Fill;
  activation: 'none' | 'sigmoid';
  target: 'hard' | 'soft' | 'u8';
  reduction: 'mean' | 'sum' | 'none';
  /** toleranceDiceLoss's tolerance, clDiceLoss's iterations. */
  radius?: number;
  smooth?: number;
  /** clDiceLoss: (1 − α)·Dice + α·clDice. */
  alpha?: number;
}

export const poolArb = (fn: PoolCase['fn']) => (size: Size = 'small'): fc.Arbitrary<PoolCase> => {
  const cl = fn === 'clDiceLoss';
  // A plane of at most 100 (clDice: the tape of up to 6 iterations is the costly part) or 200 elements.
  const maxS = cl ? 100 : 200;
  const plane: fc.Arbitrary<number[]> = size === 'large'
    ? fc.oneof(fc.tuple(int(35, 70), int(35, 70)), fc.tuple(int(8, 12), int(10, 16), int(10, 16)))
    : fc.oneof(
      { weight: 3, arbitrary: fc.array(int(1, Math.floor(Math.sqrt(maxS))), { minLength: 2, maxLength: 2 }) },
      { weight: 1, arbitrary: fc.tuple(int(1, 2), int(1, 40)).map(([a, b]) => [a, Math.min(b, Math.floor(maxS / a))]) },
      { weight: 2, arbitrary: fc.array(int(1, Math.floor(maxS ** (1 / 3))), { minLength: 3, maxLength: 3 }) },
    );
  return fc.record({
    fn: fc.constant(fn),
    shape: fc.tuple(int(1, size === 'large' ? 1 : 3), int(1, 2), plane).filter(([N, C]) => N * C <= 4).map(([N, C, p]) => [N, C, ...p]),
    seed: seedArb, fill: fillArb,
    activation: fc.constantFrom<PoolCase['activation']>('none', 'sigmoid'),
    target: fc.constantFrom<PoolCase['target']>('hard', 'soft', 'u8'),
    reduction: fc.constantFrom<PoolCase['reduction']>('mean', 'sum', 'none'),
    // Now and then a radius beyond the plane (clamped by the function; the costliest case of the references).
    radius: optional(fc.oneof(
      { weight: 4, arbitrary: cl ? fc.constantFrom(0, 1, 3) : fc.constantFrom(0, 1, 2) },
      { weight: 4, arbitrary: int(0, cl ? 5 : 4) },
      { weight: 1, arbitrary: fc.constant(cl ? 1000 : 100) },
    )),
    smooth: optional(fc.oneof(fc.constantFrom(1, 1e-5, 1e-2), real(1e-6, 2))),
    alpha: cl ? optional(fc.oneof(fc.constantFrom(0, 0.5, 1), real(0, 1))) : fc.constant(undefined),
  }, { requiredKeys: ['fn', 'shape', 'seed', 'fill', 'activation', 'target', 'reduction'] });
};

/** Blobby targets: random boxes per plane (tubes and blobs for the skeleton), or soft values, or the fills. */
function poolTarget(r: Rand, shape: readonly number[], kind: 'hard' | 'soft' | 'u8', fill: Fill): Float32Array | Uint8Array {
  const { n } = dims(shape);
  const [D, H, W] = shape.length === 4 ? [1, shape[2]!, shape[3]!] : [shape[2]!, shape[3]!, shape[4]!];
  const P = D * H * W;
  if (kind === 'soft' && fill === 'random' && r() < 0.5) return denseTarget(r, n, 'soft', fill);
  const set = new Uint8Array(n);
  if (fill !== 'random') set.fill(fill === 'ones' ? 1 : 0);
  else {
    for (let e = 0; e < n / P; e++) {
      for (let b = between(r, 0, 4); b > 0; b--) {
        const d0 = between(r, 0, D - 1), h0 = between(r, 0, H - 1), w0 = between(r, 0, W - 1);
        const d1 = between(r, d0, D - 1), h1 = between(r, h0, Math.min(H - 1, h0 + between(r, 0, 3))), w1 = between(r, w0, W - 1);
        for (let d = d0; d <= d1; d++) for (let h = h0; h <= h1; h++) for (let w = w0; w <= w1; w++) set[e * P + (d * H + h) * W + w] = 1;
      }
    }
  }
  if (kind === 'u8') return set;
  if (kind === 'hard') return Float32Array.from(set);
  return Float32Array.from(set, (v) => (v ? 1 - 0.3 * r() : 0.3 * r()));
}

/** The max of each element's box window of Chebyshev radius r, and the sum of `w` over that window, in one plane [D, H, W]. */
function boxWindows(v: ArrayLike<number>, w: ArrayLike<number>, off: number, [D, H, W]: readonly number[], r: number): { max: Float64Array; sum: Float64Array } {
  const P = D! * H! * W!;
  const max = new Float64Array(P).fill(-Infinity), sum = new Float64Array(P);
  for (let d = 0; d < D!; d++) for (let h = 0; h < H!; h++) for (let x = 0; x < W!; x++) {
    const i = (d * H! + h) * W! + x;
    for (let dd = Math.max(0, d - r); dd <= Math.min(D! - 1, d + r); dd++) {
      for (let hh = Math.max(0, h - r); hh <= Math.min(H! - 1, h + r); hh++) {
        for (let xx = Math.max(0, x - r); xx <= Math.min(W! - 1, x + r); xx++) {
          const j = off + (dd * H! + hh) * W! + xx;
          max[i] = Math.max(max[i]!, v[j]!);
          sum[i]! += w[j]!;
        }
      }
    }
  }
  return { max, sum };
}

/**
 * The terms toleranceDiceLoss's gradient adds before they cancel, per element (kernel: out_i =
 * a·B_r(g)_i + b + c·Σ_{j routed to i} g_j, times σ'): (|a|·B_r(g)_i + |b| + |c|·Σ_{j within r of i} g_j)·σ'(x_i),
 * with a = scale·∂L/∂Prec/(ΣP + h), b = −a·Prec, c = scale·∂L/∂Rec/(ΣG + h) from float64 sums; the last
 * sum bounds the routed one (every j routed to i lies within r of it).
 */
function toleranceTerms(x: Float32Array, g: ArrayLike<number>, c: PoolCase, r: number): Float64Array {
  const { N, C } = dims(c.shape);
  const plane = c.shape.length === 4 ? [1, c.shape[2]!, c.shape[3]!] : c.shape.slice(2);
  const P = plane.reduce((a, b) => a * b, 1);
  const h = (c.smooth ?? 1e-5) / 2;
  const scale = c.reduction === 'mean' ? 1 / (N * C) : 1;
  const sig = c.activation === 'sigmoid';
  const p = Float64Array.from(x, (v) => (sig ? sigmoid(v) : v));
  const terms = new Float64Array(x.length);
  for (let e = 0; e < N * C; e++) {
    const off = e * P;
    const dG = boxWindows(g, g, off, plane, r), mP = boxWindows(p, g, off, plane, r);
    let tpp = 0, sumP = 0, tpr = 0, sumG = 0;
    for (let i = 0; i < P; i++) { tpp += p[off + i]! * dG.max[i]!; sumP += p[off + i]!; tpr += g[off + i]! * mP.max[i]!; sumG += g[off + i]!; }
    const prec = (tpp + h) / (sumP + h), rec = (tpr + h) / (sumG + h), sum = prec + rec;
    const a = (scale * 2 * rec * rec) / (sum * sum) / (sumP + h), cc = (scale * 2 * prec * prec) / (sum * sum) / (sumG + h);
    for (let i = 0; i < P; i++) {
      const slope = sig ? p[off + i]! * (1 - p[off + i]!) : 1;
      terms[off + i] = (a * dG.max[i]! + a * prec + cc * mP.sum[i]!) * slope;
    }
  }
  return terms;
}

/**
 * The terms clDiceLoss's gradient cancels, per element: the seed of S_P is a·(g_i − Tprec) (a =
 * α·scale·∂L/∂Tprec/(ΣS_P + s)), and where g_i ≈ Tprec the kernel's Tprec, a ratio of float32 sums,
 * carries an error of a few 2^-24·Tprec into every seed, which soft_skel's backward then routes like a
 * uniform seed. That backward of a uniform seed is read from the reference itself: with target 0 (and
 * α = 1) its seeds are all a₀·Tprec₀ (Tsens₀ = s/s = 1, S_G = 0), so its gradient divided by a₀·Tprec₀ is
 * B_i = ∂(ΣS_P)/∂x_i. Terms: |a|·(1 + Tprec)·|B_i| + |b|·S_G,i·σ'(x_i), b = α·scale·∂L/∂Tsens/(ΣS_G + s)
 * (the direct term, which adds to the routed one), per plane.
 */
function clDiceTerms(x: Float32Array, g: ArrayLike<number>, c: PoolCase, K: number, options: Record<string, unknown>): Float64Array {
  const { N, C } = dims(c.shape);
  const plane = (c.shape.length === 4 ? [1, c.shape[2]!, c.shape[3]!] : c.shape.slice(2)) as [number, number, number];
  const P = plane[0] * plane[1] * plane[2];
  const s = c.smooth ?? 1, alpha = c.alpha ?? 1;
  const scale = c.reduction === 'mean' ? 1 / (N * C) : 1;
  const sig = c.activation === 'sigmoid';
  const p = Float64Array.from(x, (v) => (sig ? sigmoid(v) : v));
  const zero = clDiceLossReference(x, new Float64Array(x.length), { ...options, alpha: 1 } as never).grad!;
  const terms = new Float64Array(x.length);
  for (let e = 0; e < N * C; e++) {
    const pe = p.subarray(e * P, (e + 1) * P), ge = Float64Array.from({ length: P }, (_, i) => g[e * P + i]!);
    const sP = softSkeletonReference(pe, plane, K), sG = softSkeletonReference(ge, plane, K);
    let sumSP = 0, sumSPG = 0, sumSG = 0, sumSGP = 0;
    for (let i = 0; i < P; i++) { sumSP += sP[i]!; sumSPG += sP[i]! * ge[i]!; sumSG += sG[i]!; sumSGP += sG[i]! * pe[i]!; }
    const tprec = (sumSPG + s) / (sumSP + s), tsens = (sumSGP + s) / (sumSG + s), sum = tprec + tsens;
    const a = (alpha * scale * 2 * tsens * tsens) / (sum * sum) / (sumSP + s);
    const b = (alpha * scale * 2 * tprec * tprec) / (sum * sum) / (sumSG + s);
    // The target-0 run: Tprec₀ = s/(ΣS_P + s), Tsens₀ = 1, seeds a₀·Tprec₀ with a₀ = scale·2/(Tprec₀ + 1)²/(ΣS_P + s).
    const tprec0 = s / (sumSP + s), uniform = ((scale * 2) / (tprec0 + 1) ** 2 / (sumSP + s)) * tprec0;
    for (let i = 0; i < P; i++) {
      const k = e * P + i, slope = sig ? pe[i]! * sigmoid(-x[k]!) : 1;
      terms[k] = a * (1 + tprec) * Math.abs(zero[k]! / uniform) + b * sG[i]! * slope;
    }
  }
  return terms;
}

/**
 * How much the reference's loss and gradient move when every probability moves by 4 float32 ulp (the kernel
 * computes P = σ(x) in float32 to ~1.4 ulp, and soft_skel's differences δ = P_a − P_b of close values,
 * such as σ(5.75) − σ(5.5) = 9e-4, carry that error relative to δ: 1e-4 there), and the targets too (the
 * kernel's float32 products S_P·g round like a 4-ulp move of g, which matters where g_i − Tprec cancels).
 * The reference is run on P·(1 ± 4·2^-24·σ), then on G·(1 ± 4·2^-24·σ) (activation 'none'; at most 1),
 * σ = ±1 a function of the value (equal values move together, so ties and the order of values 4 ulp apart
 * stay as they are), and the largest change of the loss (per entry for reduction 'none') and of dL/dP,
 * carried to the input by P(1 − P) for the sigmoid, per element, is returned.
 */
function poolConditioning(x: Float32Array, g: ArrayLike<number>, activation: string, options: Record<string, unknown>, cl: boolean): { loss: number | Float64Array; grad: Float64Array } {
  const sig = activation === 'sigmoid';
  const p = Float64Array.from(x, (v) => (sig ? sigmoid(v) : v));
  const reference = cl ? clDiceLossReference : toleranceDiceLossReference;
  const moved = (a: ArrayLike<number>, e: number) => Float64Array.from(a, (v) => Math.min(1, v * (1 + e * valueSign(v))));
  const at = (pp: ArrayLike<number>, gg: ArrayLike<number>) => reference(pp, gg, { ...options, activation: 'none' } as never);
  const eps = 4 * F32_EPS;
  const mid = at(p, g);
  const others = [at(moved(p, eps), g), at(moved(p, -eps), g), at(p, moved(g, eps)), at(p, moved(g, -eps))];
  const change = (v: number, of: (r: typeof mid) => number) => Math.max(...others.map((o) => Math.abs(of(o) - v)));
  const loss = mid.loss instanceof Float64Array
    ? mid.loss.map((v, e) => change(v, (o) => (o.loss as Float64Array)[e]!))
    : change(mid.loss, (o) => o.loss as number);
  const grad = mid.grad ? mid.grad.map((v, i) => change(v, (o) => o.grad![i]!) * (sig ? p[i]! * sigmoid(-x[i]!) : 1)) : new Float64Array(x.length);
  return { loss, grad };
}

/**
 * The pooling losses against the float64 references (the tape of src/reference/pool.ts): loss within
 * lossTolerance of Σ|L_e| (each L_e ∈ [0, 1] from ratios of non-negative float32 sums), gradient within
 * 1e-5 × max|reference| (test/cldice.test.ts's bound), plus 64 ulp of the terms that cancel (clDiceTerms,
 * toleranceTerms); both plus, only where that fails, twice the conditioning (poolConditioning). Probabilities keep exact ties (the same in both, so
 * the same arg-max); logits are grid logits (see gridLogits).
 */
export function poolProblem(c: PoolCase): Problem {
  const r = mulberry32(c.seed);
  const { n } = dims(c.shape);
  const cl = c.fn === 'clDiceLoss';
  const input = c.activation === 'sigmoid' ? gridLogits(r, n) : cl ? clDiceProbabilities(r, n) : probabilities(r, n);
  const target = poolTarget(r, c.shape, c.target, c.fill);
  const options = defined({
    shape: c.shape, activation: c.activation, reduction: c.reduction, smooth: c.smooth, alpha: c.alpha,
    [cl ? 'iterations' : 'tolerance']: c.radius,
  });
  const fn = c.fn;
  const sp = c.shape.slice(2);
  const radius = cl ? Math.min(c.radius ?? 3, sp.reduce((a, b) => a + b - 1, 0)) : Math.min(c.radius ?? 1, Math.max(...sp) - 1);
  return {
    input, target, mask: undefined, grad: c.reduction !== 'none',
    call: (api, a) => (api[fn] as (x: unknown, t: unknown, o: unknown) => unknown)(a.input, a.target, { ...options, grad: a.grad }),
    check: (value, grad) => {
      // The references enumerate every window position: the radius and the iterations are clamped where
      // they stop changing anything (documented and tested in cldice.test.ts / tolerance-dice.test.ts):
      // iterations beyond (D − 1) + (H − 1) + (W − 1), a radius beyond the largest extent − 1.
      const refOptions = c.radius === undefined ? options : { ...options, [cl ? 'iterations' : 'tolerance']: radius };
      const ref = (cl ? clDiceLossReference : toleranceDiceLossReference)(input, target, refOptions as never);
      // Beyond the rounding: the conditioning of the loss and gradient at this data (2× their change for
      // 4 ulp of every P, see poolConditioning), as the region losses' check does; only where needed.
      let cond: ReturnType<typeof poolConditioning> | undefined;
      const slack = () => (cond ??= poolConditioning(input, target, c.activation, refOptions, cl));
      if (ref.loss instanceof Float64Array) {
        if (!(value instanceof Float64Array) || value.length !== ref.loss.length) return `expected ${ref.loss.length} per-entry losses, got ${String(value)}`;
        const bad = firstNonFinite(value);
        if (bad >= 0) return `loss[${bad}] = ${value[bad]}`;
        for (let e = 0; e < value.length; e++) {
          const err = Math.abs(value[e]! - ref.loss[e]!);
          if (err <= lossTolerance(Math.abs(ref.loss[e]!))) continue;
          const tol = lossTolerance(Math.abs(ref.loss[e]!)) + 2 * (slack().loss as Float64Array)[e]!;
          if (!(err <= tol)) return `loss[${e}] = ${value[e]}, reference ${ref.loss[e]} (tolerance ${tol})`;
        }
        return null;
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) return `loss = ${String(value)}`;
      const err = Math.abs(value - ref.loss);
      if (!(err <= lossTolerance(Math.abs(ref.loss)))) {
        const tol = lossTolerance(Math.abs(ref.loss)) + 2 * (slack().loss as number);
        if (!(err <= tol)) return `loss = ${value}, reference ${ref.loss} (diff ${value - ref.loss}, tolerance ${tol})`;
      }
      const terms = () => {
        if (!cl) return toleranceTerms(input, target, c, radius);
        // With alpha < 1 the Dice part's cancelling terms too (diceLoss with smoothNr = smoothDr = smooth).
        const t = clDiceTerms(input, target, c, radius, refOptions), alpha = c.alpha ?? 1;
        if (alpha === 1) return t;
        const s = c.smooth ?? 1;
        const dice = regionGradientScale('dice', input, target, { shape: c.shape, activation: c.activation, smoothNr: s, smoothDr: s, reduction: c.reduction });
        return t.map((v, i) => v + (1 - alpha) * dice[i]!);
      };
      const bad = gradientMismatch(grad!, ref.grad!, terms);
      if (bad === null) return null;
      return gradientMismatch(grad!, ref.grad!, () => terms().map((t, i) => t + (2 * slack().grad[i]!) / (64 * F32_EPS))) === null ? null : bad;
    },
  };
}

