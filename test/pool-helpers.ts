// Shared machinery of the pooling-loss tests (cldice.test.ts, tolerance-dice.test.ts): random inputs,
// the reference-against-finite-differences check, a runner, the sweep against the float64 reference,
// SIMD == scalar bits, WasmArray == JS-array bits and the error matrix. Each check is the same for
// clDiceLoss and toleranceDiceLoss; the loss function (or its reference) is passed in.
import { expect } from 'vitest';
import { init, alloc, type ArrayArg } from '../src/index.ts';
import type { PoolReferenceResult } from '../src/reference/pool.ts';
import { Rng, maxAbs, worstDiff, f32Bits, centralDifferences } from './helpers.ts';

/** The options the shared checks read or add (both losses take them). */
export interface PoolOptions { reduction?: 'mean' | 'sum' | 'none'; grad?: ArrayArg<Float32Array> }

/** A pooling loss: clDiceLoss or toleranceDiceLoss. */
export type PoolLoss<O> = (input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: O) => number | Float64Array;

/** A random problem: the loss options and the arrays. */
export interface PoolCase<O> { options: O; input: Float32Array; target: Float32Array | Uint8Array }

/** What one call produced: the loss, and the gradient (null with reduction 'none'). */
export interface PoolOutput { loss: number | Float64Array; grad: Float32Array | null }

/**
 * Random continuous probabilities in (0.02, 0.98), or logits in ±4: no ties between distinct elements,
 * no clipping.
 */
export function randomInput(rng: Rng, n: number, sigmoid: boolean): Float32Array {
  return Float32Array.from({ length: n }, () => (sigmoid ? rng.uniform(-4, 4) : rng.uniform(0.02, 0.98)));
}

/** The random arrays of a case: a shape, an activation, inputs for it and a target. */
export interface PoolArrays {
  shape: number[];
  activation: 'none' | 'sigmoid';
  input: Float32Array;
  target: Float32Array | Uint8Array;
}

/**
 * Draws, in this order: a 3-D [N, C, D, H, W] shape (with probability `p3d`, each extent in 1..its entry
 * of `max3d`) or a 2-D [N, C, H, W] one (extents in 1..`max2d`); an activation; {@link randomInput} for
 * it; a target from `randomTarget`, binary with probability `pBinary`, else soft; and, with probability
 * 0.3, that target thresholded at 0.5 into a Uint8Array.
 */
export function randomPoolArrays(
  rng: Rng, p3d: number, max3d: readonly number[], max2d: readonly number[], pBinary: number,
  randomTarget: (shape: number[], n: number, kind: 'binary' | 'soft') => Float32Array,
): PoolArrays {
  const shape = (rng.chance(p3d) ? max3d : max2d).map((max) => rng.int(1, max));
  const n = shape.reduce((a, b) => a * b, 1);
  const activation = rng.pick(['none', 'sigmoid'] as const);
  const input = randomInput(rng, n, activation === 'sigmoid');
  const soft = randomTarget(shape, n, rng.chance(pBinary) ? 'binary' : 'soft');
  const target = rng.chance(0.3) ? Uint8Array.from(soft, (v) => (v >= 0.5 ? 1 : 0)) : soft;
  return { shape, activation, input, target };
}

/**
 * The float64 reference's gradient at `input` against central differences of its loss (h = 1e-6):
 * the differences must not be trivially 0 (max > 1e-3) and must agree to 1e-7 × max|differences| + 1e-9.
 */
export function expectReferenceMatchesDifferences(reference: (x: ArrayLike<number>) => PoolReferenceResult, input: Float32Array): void {
  const ref = reference(input);
  const fd = centralDifferences(input, (x) => reference(x).loss as number);
  console.log(`reference vs finite differences: ${(worstDiff(ref.grad!, fd) / maxAbs(fd)).toExponential(2)} of max|grad|`);
  expect(maxAbs(fd)).toBeGreaterThan(1e-3); // a gradient that is not trivially 0
  expect(worstDiff(ref.grad!, fd)).toBeLessThanOrEqual(1e-7 * maxAbs(fd) + 1e-9);
}

/** The kernel's loss and gradient (NaN-prefilled, so an unwritten element cannot match). */
export function runPoolCase<O extends PoolOptions>(loss: PoolLoss<O>, c: PoolCase<O>): PoolOutput {
  const grad = c.options.reduction === 'none' ? null : new Float32Array(c.input.length).fill(NaN);
  return { loss: loss(c.input, c.target, { ...c.options, ...(grad ? { grad } : {}) }), grad };
}

/**
 * `trials` random cases from `randomCase` (one Rng seeded with `seed` draws them all), run by `run` and
 * by the float64 `reference`: every loss within
 * 1e-6 (relative to max(1, |loss|); per entry absolute for reduction 'none'), every gradient within
 * 1e-5 × max|reference gradient|. Logs the worst errors under `name`.
 */
export function expectAgreesWithReference<C extends PoolCase<PoolOptions>>(
  name: string, seed: number, trials: number, randomCase: (rng: Rng) => C, run: (c: C) => PoolOutput,
  reference: (c: C) => PoolReferenceResult,
): void {
  const rng = new Rng(seed);
  const fails: string[] = [];
  let worstLoss = 0, worstGrad = 0;
  for (let t = 0; t < trials; t++) {
    const c = randomCase(rng);
    const got = run(c);
    const ref = reference(c);
    const lossErr = typeof ref.loss === 'number'
      ? Math.abs((got.loss as number) - ref.loss) / Math.max(1, Math.abs(ref.loss))
      : worstDiff(got.loss as Float64Array, ref.loss);
    worstLoss = Math.max(worstLoss, lossErr);
    if (!(lossErr <= 1e-6)) fails.push(`loss ${lossErr} ${JSON.stringify(c.options)}`);
    if (got.grad) {
      const err = worstDiff(got.grad, ref.grad!) / Math.max(maxAbs(ref.grad!), 1e-30);
      worstGrad = Math.max(worstGrad, err);
      if (!(err <= 1e-5)) fails.push(`grad ${err} ${JSON.stringify(c.options)}`);
    }
  }
  console.log(`${name} vs float64 reference: worst loss error ${worstLoss.toExponential(2)}, worst gradient error ${worstGrad.toExponential(2)} of max|grad|`);
  expect(fails).toEqual([]);
}

/** One scalar loss and its gradient against the reference: loss within 1e-6, gradient within 1e-5 × max|reference gradient|. */
export function expectNearReference(loss: number, grad: Float32Array, ref: PoolReferenceResult): void {
  expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6);
  expect(worstDiff(grad, ref.grad!)).toBeLessThanOrEqual(1e-5 * maxAbs(ref.grad!));
}

/** Runs every case with the SIMD build, then the scalar one (SIMD restored after): same loss and gradient bits. */
export async function expectSameBitsAcrossBuilds<C>(cases: readonly C[], run: (c: C) => PoolOutput): Promise<void> {
  const runAll = () => cases.map((c) => run(c));
  await init({ simd: true });
  const simd = runAll();
  await init({ simd: false });
  const scalar = runAll();
  await init({ simd: true });
  simd.forEach((a, i) => {
    const b = scalar[i]!;
    expect(a.loss).toEqual(b.loss);
    if (a.grad) expect(Array.from(f32Bits(a.grad))).toEqual(Array.from(f32Bits(b.grad!)));
  });
}

/** A scalar-loss call on WasmArray input, u8 target and grad gives the same bits as on JS arrays. */
export function expectWasmArraysSameBits<O extends PoolOptions>(loss: PoolLoss<O>, input: Float32Array, target: Float32Array | Uint8Array, options: O): void {
  const n = input.length;
  const grad = new Float32Array(n);
  const jsLoss = loss(input, target, { ...options, grad });
  const wi = alloc(Float32Array, n), wt = alloc(Uint8Array, n), wg = alloc(Float32Array, n);
  wi.view.set(input); wt.view.set(target);
  const wasmLoss = loss(wi, wt, { ...options, grad: wg });
  expect(wasmLoss).toBe(jsLoss);
  expect(Array.from(f32Bits(wg.view))).toEqual(Array.from(f32Bits(grad)));
  for (const a of [wi, wt, wg]) a.free();
}

/** One bad call: input, target, options (given `grad` unless they have their own), the error type and message. */
export type BadCall = readonly [unknown, unknown, Record<string, unknown> | null, ErrorConstructor, RegExp];

/**
 * Every bad call throws `type` with a message that starts 'segloss.<name>: ' and matches its pattern,
 * before `grad` (filled with 7s by the caller) is written.
 */
export function expectErrorMatrix<O>(name: string, loss: PoolLoss<O>, bad: readonly BadCall[], grad: Float32Array): void {
  for (const [input, target, options, type, message] of bad) {
    const withGrad = options && !('grad' in options) ? { ...options, grad } : options;
    let error: unknown;
    try { loss(input as Float32Array, target as Float32Array, withGrad as unknown as O); } catch (e) { error = e; }
    expect(error, String(message)).toBeInstanceOf(type);
    expect((error as Error).message).toMatch(new RegExp(`^segloss\\.${name}: `));
    expect((error as Error).message).toMatch(message);
    expect(grad.every((v) => v === 7)).toBe(true);
  }
}
