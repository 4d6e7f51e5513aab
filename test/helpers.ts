// Shared machinery of the diceLoss tests: a seeded PRNG, random cases for every
// option combination, a runner over any kind of array argument, and the
// comparisons (against the float64 reference, and bit for bit between runs).
// Every random case carries its seed and spec, so a failure message is enough
// to rebuild the exact data with `makeCase(spec)`.
import {
  diceLoss, diceLossReference, WasmArray,
  type ArrayArg, type DiceOptions, type DiceReferenceResult,
} from '../src/index.ts';
import { mulberry32 } from '../examples/lib/rng.mjs';

/** mulberry32 (examples/lib/rng.mjs): a tiny seeded PRNG, uniform in [0, 1). */
export { mulberry32 };

/** A bare PRNG function, with small draws over it (the BCE, fused and metrics tests use this style). */
export type RngFn = () => number;
/** Uniform integer in [lo, hi], both included. */
export const randInt = (rng: RngFn, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
/** One of `items`, uniformly. */
export const pick = <T>(rng: RngFn, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

/** Convenience draws over {@link mulberry32}. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) { this.next = mulberry32(seed); }
  /** Uniform in [0, 1). */
  float(): number { return this.next(); }
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  /** True with probability p. */
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[Math.floor(this.next() * items.length)]!; }
  /** A fresh 31-bit seed, to give each case its own reproducible stream. */
  seed(): number { return Math.floor(this.next() * 0x7fffffff); }
}

export type Activation = 'none' | 'sigmoid' | 'softmax';
/** Dense f32 / dense u8 (0/1), or class indices u8 / u16 / i32. */
export type TargetKind = 'f32' | 'u8' | 'idx-u8' | 'idx-u16' | 'idx-i32';
/** No ignoreIndex, one that is a real class in [0, C), or one outside (255 / 65535 / -100). */
export type IgnoreKind = 'none' | 'in-range' | 'out-of-range';
/** No mask, one byte per pixel (N·S), or one per element (N·C·S). */
export type MaskKind = 'none' | 'pixel' | 'element';
export type Reduction = 'mean' | 'sum' | 'none';
export type TargetArray = Float32Array | Uint8Array | Uint16Array | Int32Array;

/** Every option of one diceLoss call, except the shape. */
export interface OptionSet {
  activation: Activation;
  target: TargetKind;
  ignore: IgnoreKind;
  mask: MaskKind;
  includeBackground: boolean;
  squared: boolean;
  jaccard: boolean;
  batch: boolean;
  weight: boolean;
  reduction: Reduction;
  smoothNr: number;
  smoothDr: number;
}

/** An option set with its shape and the seed of its data. */
export interface CaseSpec extends OptionSet {
  shape: number[];
  seed: number;
}

/** A generated case: the spec and the arrays it describes (all in the JS heap). */
export interface DiceCase {
  spec: CaseSpec;
  input: Float32Array;
  target: TargetArray;
  mask: Uint8Array | undefined;
  ignoreIndex: number | undefined;
  weight: number[] | undefined;
}

/** Activation × mask pairs that diceLoss accepts (a per-element mask is not allowed with softmax). */
export const ACTIVATION_MASKS: readonly (readonly [Activation, MaskKind])[] = [
  ['none', 'none'], ['none', 'pixel'], ['none', 'element'],
  ['sigmoid', 'none'], ['sigmoid', 'pixel'], ['sigmoid', 'element'],
  ['softmax', 'none'], ['softmax', 'pixel'],
];

/** Target kinds × ignoreIndex kinds (ignoreIndex only exists for indices). */
export const TARGET_VARIANTS: readonly (readonly [TargetKind, IgnoreKind])[] = [
  ['f32', 'none'], ['u8', 'none'],
  ...(['idx-u8', 'idx-u16', 'idx-i32'] as const).flatMap((t) =>
    (['none', 'in-range', 'out-of-range'] as const).map((i) => [t, i] as const)),
];

/** (smoothNr, smoothDr) pairs: the default, zeros, and large values. */
export const SMOOTHINGS: readonly (readonly [number, number])[] = [
  [1e-5, 1e-5], [0, 0], [0, 1e-5], [1e-5, 0], [1, 1], [1, 0], [0, 1], [1e-5, 1],
];

export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** The 32 × 3 combinations of the boolean options and the reduction, for one activation/mask/target. */
export function flagGrid(): Pick<OptionSet, 'includeBackground' | 'squared' | 'jaccard' | 'batch' | 'weight' | 'reduction'>[] {
  const out: ReturnType<typeof flagGrid> = [];
  for (let bits = 0; bits < 32; bits++) {
    for (const reduction of REDUCTIONS) {
      out.push({
        includeBackground: (bits & 1) === 0, squared: (bits & 2) !== 0, jaccard: (bits & 4) !== 0,
        batch: (bits & 8) !== 0, weight: (bits & 16) !== 0, reduction,
      });
    }
  }
  return out;
}

/** A random option set; fields in `fixed` are kept. */
export function randomOptionSet(rng: Rng, fixed: Partial<OptionSet> = {}): OptionSet {
  const [activation, mask] = rng.pick(ACTIVATION_MASKS);
  const [target, ignore] = rng.pick(TARGET_VARIANTS);
  const [smoothNr, smoothDr] = rng.pick(SMOOTHINGS);
  const set: OptionSet = {
    activation, mask, target, ignore, smoothNr, smoothDr,
    includeBackground: rng.chance(0.6), squared: rng.chance(0.5), jaccard: rng.chance(0.5),
    batch: rng.chance(0.5), weight: rng.chance(0.5), reduction: rng.pick(REDUCTIONS),
    ...fixed,
  };
  if (set.activation === 'softmax' && set.mask === 'element') set.mask = 'pixel';
  return set;
}

/** Smallest C the options allow: softmax and includeBackground false need two channels. */
export function minChannels(set: OptionSet): number {
  return set.activation === 'softmax' || !set.includeBackground ? 2 : 1;
}

/** S split into 1–3 spatial dimensions (its prime factors dealt out at random; 1s allowed). */
export function splitSpatial(rng: Rng, S: number): number[] {
  const dims = new Array<number>(rng.int(1, 3)).fill(1);
  let rest = S;
  for (let p = 2; rest > 1; p++) {
    while (rest % p === 0) {
      dims[rng.int(0, dims.length - 1)]! *= p;
      rest /= p;
    }
  }
  return dims;
}

/** A random [N, C, ...spatial] with N in 1..3, C in minC..maxC and S spatial elements. */
export function randomShape(rng: Rng, set: OptionSet, S: number, maxC = 5): number[] {
  return [rng.int(1, 3), rng.int(minChannels(set), Math.max(maxC, minChannels(set))), ...splitSpatial(rng, S)];
}

export function spec(set: OptionSet, shape: number[], seed: number): CaseSpec {
  return { ...set, shape, seed };
}

/** The ignoreIndex a spec stands for (a function of C and the target type). */
function ignoreIndexOf(s: CaseSpec, C: number, rng: Rng): number | undefined {
  if (s.ignore === 'none' || s.target === 'f32' || s.target === 'u8') return undefined;
  if (s.ignore === 'in-range') return rng.int(0, C - 1);
  return s.target === 'idx-u8' ? 255 : s.target === 'idx-u16' ? 65535 : -100;
}

/**
 * The data of a spec, drawn from its seed. Probabilities ('none') are in [0, 1]
 * with ~10% exact 0s and 10% exact 1s. Logits are in ±10, plus ~3% at ±80,
 * when smoothDr > 0. With smoothDr = 0 the extremes are left out: an entry
 * whose only kept predictions are e^-160-small has a float64 denominator of
 * 1e-70 but a float32 one of exactly 0, where the 0/0 convention jumps, and no
 * float32 kernel can follow the reference across that discontinuity. With
 * smoothDr = 0 < smoothNr logits stay in ±5: a denominator below ~1e-15 makes
 * the coefficient smoothNr/D² exceed 1e30, where the kernel clamps it on
 * purpose to keep the gradient finite (tested on its own in dice.test.ts).
 */
export function makeCase(s: CaseSpec): DiceCase {
  const rng = new Rng(s.seed);
  const [N, C] = s.shape as [number, number];
  const S = s.shape.slice(2).reduce((a, b) => a * b, 1);
  const n = N * C * S;
  const extremes = s.smoothDr > 0;
  const range = s.smoothDr === 0 && s.smoothNr > 0 ? 5 : 10;
  const input = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (s.activation === 'none') {
      const r = rng.float();
      input[i] = r < 0.1 ? 0 : r < 0.2 ? 1 : rng.float();
    } else {
      input[i] = extremes && rng.chance(0.03) ? rng.pick([-80, 80]) : rng.uniform(-range, range);
    }
  }
  const ignoreIndex = ignoreIndexOf(s, C, rng);
  let target: TargetArray;
  if (s.target === 'f32') {
    target = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.float();
      target[i] = r < 0.15 ? 0 : r < 0.3 ? 1 : rng.float();
    }
  } else if (s.target === 'u8') {
    target = new Uint8Array(n);
    for (let i = 0; i < n; i++) target[i] = rng.chance(0.4) ? 1 : 0;
  } else {
    target = s.target === 'idx-u8' ? new Uint8Array(N * S) : s.target === 'idx-u16' ? new Uint16Array(N * S) : new Int32Array(N * S);
    for (let i = 0; i < N * S; i++) {
      target[i] = ignoreIndex !== undefined && rng.chance(0.15) ? ignoreIndex : rng.int(0, C - 1);
    }
  }
  let mask: Uint8Array | undefined;
  if (s.mask !== 'none') {
    mask = new Uint8Array(s.mask === 'pixel' ? N * S : n);
    // 0 drops the element; any other byte keeps it.
    for (let i = 0; i < mask.length; i++) mask[i] = rng.chance(0.3) ? 0 : rng.int(1, 255);
  }
  let weight: number[] | undefined;
  if (s.weight) {
    weight = [];
    for (let c = s.includeBackground ? 0 : 1; c < C; c++) weight.push(rng.chance(0.1) ? 0 : rng.uniform(0, 2));
  }
  return { spec: s, input, target, mask, ignoreIndex, weight };
}

/** A short reproducible description of a case, for failure messages. */
export function describeCase(c: DiceCase | CaseSpec): string {
  return JSON.stringify('spec' in c ? c.spec : c);
}

/** The diceLoss options of a case, with the given mask and grad arrays. */
export function diceOptions(c: DiceCase, mask?: ArrayArg<Uint8Array>, grad?: ArrayArg<Float32Array>): DiceOptions {
  const s = c.spec;
  const o: DiceOptions = {
    shape: s.shape, activation: s.activation, target: s.target === 'f32' || s.target === 'u8' ? 'dense' : 'indices',
    includeBackground: s.includeBackground, squared: s.squared, jaccard: s.jaccard,
    smoothNr: s.smoothNr, smoothDr: s.smoothDr, batch: s.batch, reduction: s.reduction,
  };
  if (c.ignoreIndex !== undefined) o.ignoreIndex = c.ignoreIndex;
  if (mask !== undefined) o.mask = mask;
  if (c.weight !== undefined) o.weight = c.weight;
  if (grad !== undefined) o.grad = grad;
  return o;
}

/** The float64 reference's answer for a case. */
export function reference(c: DiceCase): DiceReferenceResult {
  const s = c.spec;
  return diceLossReference(c.input, c.target, {
    shape: s.shape, activation: s.activation, target: s.target === 'f32' || s.target === 'u8' ? 'dense' : 'indices',
    ignoreIndex: c.ignoreIndex, mask: c.mask, includeBackground: s.includeBackground, squared: s.squared,
    jaccard: s.jaccard, smoothNr: s.smoothNr, smoothDr: s.smoothDr, batch: s.batch, weight: c.weight,
    reduction: s.reduction,
  });
}

/** What one diceLoss call produced: the loss and a copy of the gradient (null without one). */
export interface DiceOutput {
  loss: number | Float64Array;
  grad: Float32Array | null;
}

/** Array arguments of a call; any of them may be swapped for a WasmArray, a view or a subarray. */
export interface CaseArrays {
  input: ArrayArg<Float32Array>;
  target: ArrayArg<TargetArray>;
  mask: ArrayArg<Uint8Array> | undefined;
  /** The gradient output; `null` to call without one. */
  grad: ArrayArg<Float32Array> | null;
}

/** Snapshot of an array argument's current content. */
export function contents<T extends TargetArray>(a: ArrayArg<T>): T {
  return (a instanceof WasmArray ? a.view.slice() : a.slice()) as T;
}

/**
 * Runs diceLoss on a case. By default the case's own JS-heap arrays are used
 * and, for 'mean'/'sum', a fresh gradient array pre-filled with NaN (so that an
 * element the kernel forgets to write cannot match the reference).
 */
export function runCase(c: DiceCase, arrays: Partial<CaseArrays> = {}): DiceOutput {
  const input = arrays.input ?? c.input;
  const target = arrays.target ?? c.target;
  const mask = 'mask' in arrays ? arrays.mask : c.mask;
  const grad = 'grad' in arrays ? arrays.grad : c.spec.reduction === 'none' ? null : new Float32Array(c.input.length).fill(NaN);
  const loss = diceLoss(input, target, diceOptions(c, mask, grad ?? undefined)) as number | Float64Array;
  return { loss, grad: grad === null || grad === undefined ? null : contents(grad) };
}

/**
 * Loss tolerance: 1e-6 absolute for losses of order 1. A loss reaches |L| ≫ 1
 * only through a ratio Nm/D ≫ 1 (smoothNr > 0 over a tiny denominator, e.g.
 * 1 − 1e-5/4.35e-10) or a 'sum' of many weighted entries; the float32 sums
 * carry a few ulp of relative error into that ratio, so beyond |L| = 1 the
 * tolerance is 4e-6 relative to `scale` = Σ|L_e| (÷ entries for 'mean').
 */
export function lossTolerance(scale: number): number {
  return scale <= 1 ? 1e-6 : 4e-6 * scale;
}

/** float32 unit roundoff, 2^-24. */
export const F32_EPS = 2 ** -24;
/** float32 results below 2^-126 are subnormal, exact only to 2^-149: a floor of 2^9 of those steps. */
const SUBNORMAL_SLACK = 2 ** -140;

/**
 * Per element, the size of the float32 terms that the gradient adds before
 * they cancel: with dL/dP_i = a_e·G_i + b_e·h_i (h_i = 1, or 2P_i squared),
 * T_i = |a_e|·G_i + |b_e|·h_i, times the activation's chain rule taken in
 * absolute values (sigmoid P(1 − P); softmax P_k·(T_k + Σ_c P_c·T_c)).
 * Near an optimum (P ≈ G with smoothNr = smoothDr, or a confident softmax
 * pixel whose P_k·(q_k − Σ_c P_c q_c) cancels) the exact gradient is far
 * smaller than these terms, and a float32 kernel that rounds them (as every
 * float32 autograd does) is off by a few ulp of T_i, not of the gradient. The
 * comparison allows 1e-5 × max|reference gradient| plus 64 ulp of T_i (plus
 * 2^-140 for subnormal results).
 * Computed in float64 from the formula, separately from the reference.
 */
export function cancellationScale(c: DiceCase): Float64Array {
  const s = c.spec;
  const [N, C] = s.shape as [number, number];
  const S = s.shape.slice(2).reduce((a, b) => a * b, 1);
  const len = N * C * S;
  const indices = s.target !== 'f32' && s.target !== 'u8';
  const c0 = s.includeBackground ? 0 : 1;
  const K = C - c0;
  const entries = s.batch ? K : N * K;
  const x = c.input;
  const p = new Float64Array(len);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < S; k++) {
      if (s.activation === 'softmax') {
        let m = -Infinity, z = 0;
        for (let ch = 0; ch < C; ch++) m = Math.max(m, x[(n * C + ch) * S + k]!);
        for (let ch = 0; ch < C; ch++) z += Math.exp(x[(n * C + ch) * S + k]! - m);
        for (let ch = 0; ch < C; ch++) p[(n * C + ch) * S + k] = Math.exp(x[(n * C + ch) * S + k]! - m) / z;
      } else {
        for (let ch = 0; ch < C; ch++) {
          const i = (n * C + ch) * S + k;
          p[i] = s.activation === 'sigmoid' ? 1 / (1 + Math.exp(-x[i]!)) : x[i]!;
        }
      }
    }
  }
  const g = (i: number, n: number, ch: number, k: number): number => (indices ? (c.target[n * S + k] === ch ? 1 : 0) : c.target[i]!);
  const kept = (i: number, n: number, k: number): boolean =>
    (!c.mask || c.mask[c.mask.length === len ? i : n * S + k] !== 0) && !(c.ignoreIndex !== undefined && c.target[n * S + k] === c.ignoreIndex);
  const entry = (n: number, ch: number): number => (s.batch ? ch - c0 : n * K + ch - c0);
  const sums = new Float64Array(entries * 3); // I, SP, SG
  for (let n = 0; n < N; n++) for (let ch = c0; ch < C; ch++) for (let k = 0; k < S; k++) {
    const i = (n * C + ch) * S + k;
    if (!kept(i, n, k)) continue;
    const e = entry(n, ch), gi = g(i, n, ch, k);
    sums[3 * e] += p[i]! * gi;
    sums[3 * e + 1] += s.squared ? p[i]! * p[i]! : p[i]!;
    sums[3 * e + 2] += s.squared ? gi * gi : gi;
  }
  const q = new Float64Array(len); // |a|·G + |b|·h
  for (let n = 0; n < N; n++) for (let ch = c0; ch < C; ch++) {
    const e = entry(n, ch);
    const [I, SP, SG] = [sums[3 * e]!, sums[3 * e + 1]!, sums[3 * e + 2]!];
    const Nm = s.jaccard ? I + s.smoothNr : 2 * I + s.smoothNr;
    const D = SP + SG - (s.jaccard ? I : 0) + s.smoothDr;
    if (D === 0) continue;
    const w = c.weight ? c.weight[ch - c0]! : 1;
    const scale = s.reduction === 'mean' ? w / entries : w;
    const a = Math.abs(scale) * (s.jaccard ? 1 / D + Nm / (D * D) : 2 / D);
    const b = Math.abs(scale * Nm / (D * D));
    for (let k = 0; k < S; k++) {
      const i = (n * C + ch) * S + k;
      if (kept(i, n, k)) q[i] = a * g(i, n, ch, k) + b * (s.squared ? 2 * p[i]! : 1);
    }
  }
  const t = new Float64Array(len);
  for (let n = 0; n < N; n++) for (let k = 0; k < S; k++) {
    let dot = 0;
    for (let ch = 0; ch < C; ch++) dot += p[(n * C + ch) * S + k]! * q[(n * C + ch) * S + k]!;
    for (let ch = 0; ch < C; ch++) {
      const i = (n * C + ch) * S + k;
      t[i] = s.activation === 'softmax' ? p[i]! * (q[i]! + dot) : s.activation === 'sigmoid' ? q[i]! * p[i]! * (1 - p[i]!) : q[i]!;
    }
  }
  return t;
}

/**
 * Compares an output with the float64 reference: every loss to
 * {@link lossTolerance}, each gradient element to 1e-5 × max|reference
 * gradient| + 64 ulp of its {@link cancellationScale}. Returns a description of
 * the first mismatch, or null.
 */
export function referenceMismatch(c: DiceCase, out: DiceOutput, ref: DiceReferenceResult = reference(c)): string | null {
  const where = describeCase(c);
  if (c.spec.reduction === 'none') {
    if (!(out.loss instanceof Float64Array) || !(ref.loss instanceof Float64Array)) return `reduction 'none' must give a Float64Array: ${where}`;
    if (out.loss.length !== ref.loss.length) return `${out.loss.length} entries, expected ${ref.loss.length}: ${where}`;
    for (let e = 0; e < ref.loss.length; e++) {
      const want = ref.loss[e]!, got = out.loss[e]!;
      if (!(Math.abs(got - want) <= lossTolerance(Math.abs(want)))) return `loss[${e}] = ${got}, reference ${want}: ${where}`;
    }
    return null;
  }
  if (typeof out.loss !== 'number' || typeof ref.loss !== 'number') return `reduction '${c.spec.reduction}' must give a number: ${where}`;
  const lossError = Math.abs(out.loss - ref.loss);
  if (!(lossError <= lossTolerance(1))) {
    // Only now worth the second reference call: the scale Σ|L_e| of the terms.
    const perEntry = reference({ ...c, spec: { ...c.spec, reduction: 'none' } }).loss as Float64Array;
    const scale = perEntry.reduce((z, v) => z + Math.abs(v), 0) / (c.spec.reduction === 'mean' ? perEntry.length : 1);
    if (!(lossError <= lossTolerance(scale))) return `loss = ${out.loss}, reference ${ref.loss} (diff ${out.loss - ref.loss}): ${where}`;
  }
  if (out.grad && ref.grad) {
    let max = 0;
    for (let i = 0; i < ref.grad.length; i++) max = Math.max(max, Math.abs(ref.grad[i]!));
    let t: Float64Array | undefined; // computed on the first element that needs it
    for (let i = 0; i < ref.grad.length; i++) {
      const want = ref.grad[i]!, got = out.grad[i]!;
      if (Math.abs(got - want) <= 1e-5 * max) continue;
      t ??= cancellationScale(c);
      const tol = 1e-5 * max + 64 * F32_EPS * t[i]! + SUBNORMAL_SLACK;
      if (!(Math.abs(got - want) <= tol)) return `grad[${i}] = ${got}, reference ${want} (tolerance ${tol}): ${where}`;
    }
  }
  return null;
}

/** Whether two float arrays hold exactly the same bits (NaN payloads and the sign of 0 included). */
export function sameBits(a: Float32Array | Float64Array, b: Float32Array | Float64Array): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** Describes the first difference between two outputs, bit for bit, or returns null. */
export function bitsMismatch(a: DiceOutput, b: DiceOutput): string | null {
  if (typeof a.loss === 'number' || typeof b.loss === 'number') {
    if (!Object.is(a.loss, b.loss)) return `loss ${String(a.loss)} vs ${String(b.loss)}`;
  } else if (!sameBits(a.loss, b.loss)) {
    return `per-entry losses differ: ${Array.from(a.loss).join(',')} vs ${Array.from(b.loss).join(',')}`;
  }
  if ((a.grad === null) !== (b.grad === null)) return 'one output has a gradient, the other not';
  if (a.grad && b.grad && !sameBits(a.grad, b.grad)) {
    const i = a.grad.findIndex((v, k) => !Object.is(v, b.grad![k]));
    return `grad[${i}] ${a.grad[i]} vs ${b.grad[i]}`;
  }
  return null;
}

/**
 * A copy of `a` as a subarray starting `offset` elements into a larger array
 * whose other elements hold `fill`: same values, misaligned address.
 */
export function misaligned<T extends TargetArray>(a: T, offset: number, fill = 0): { view: T; parent: T } {
  const ctor = a.constructor as { new (length: number): T };
  const parent = new ctor(a.length + offset + 3);
  parent.fill(fill);
  parent.set(a, offset);
  return { view: parent.subarray(offset, offset + a.length) as T, parent };
}

/** Collects failure descriptions; the test then asserts that the list is empty (showing the first few). */
export class Failures {
  readonly list: string[] = [];
  checked = 0;
  add(message: string | null): void {
    this.checked++;
    if (message !== null) this.list.push(message);
  }
  /** The first failures, for `expect(f.summary()).toEqual([])`. */
  summary(): string[] {
    return this.list.length === 0 ? [] : [`${this.list.length} of ${this.checked} failed`, ...this.list.slice(0, 5)];
  }
}

/** Largest |a_i| over the array (0 for an empty one). */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Largest |a_i − b_i| over the arrays (Infinity once a difference is not finite). */
export function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    w = Number.isFinite(d) ? Math.max(w, d) : Infinity;
  }
  return w;
}

/** A copy of the bit patterns of a float32 array (so that `toEqual` compares bits, NaN payloads and −0 included). */
export function f32Bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length).slice();
}

/** The bit pattern of a float64 number (so that `toBe` tells −0 from 0). */
export function f64Bits(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0]!;
}

/**
 * Central differences (L(x + h·e_i) − L(x − h·e_i)) / 2h of a float64 loss at `input`, for every element
 * i (h = 1e-6). `loss` receives one float64 copy of the input, changed in place one element at a time.
 */
export function centralDifferences(input: ArrayLike<number>, loss: (x: Float64Array) => number, h = 1e-6): Float64Array {
  const x = Float64Array.from(input);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i]!;
    x[i] = keep + h;
    const up = loss(x);
    x[i] = keep - h;
    const down = loss(x);
    x[i] = keep;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}
