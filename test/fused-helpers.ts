// Shared checks of the fused-loss tests (fused-binary.test.ts, fused-ce.test.ts): closeness to the
// sum of the parts, SIMD == scalar bits, and a bad option rejected before `grad` is written.
import { it, expect } from 'vitest';
import { init } from '../src/index.ts';
import { maxAbs, f32Bits, f64Bits } from './helpers.ts';

/** What one fused call produced: its loss and gradient. */
export interface FusedOutput { loss: number; grad: Float32Array }

/** Loss within 1e-6 (relative, plus 1e-7 absolute); gradient finite and within 1e-5 × max|expected|. */
export function expectClose(actual: FusedOutput, expected: { loss: number; grad: Float64Array }, what: string): void {
  expect(Number.isFinite(actual.loss), what).toBe(true);
  expect(Math.abs(actual.loss - expected.loss), `${what}: loss ${actual.loss} vs ${expected.loss}`)
    .toBeLessThanOrEqual(1e-6 * Math.abs(expected.loss) + 1e-7);
  const tol = 1e-5 * maxAbs(expected.grad) + 1e-30;
  let worst = 0, nonFinite = 0;
  for (let i = 0; i < actual.grad.length; i++) {
    if (!Number.isFinite(actual.grad[i]!)) nonFinite++;
    worst = Math.max(worst, Math.abs(actual.grad[i]! - expected.grad[i]!));
  }
  expect(nonFinite, what).toBe(0);
  expect(worst, `${what}: gradient error (tolerance ${tol})`).toBeLessThanOrEqual(tol);
}

/**
 * Runs every case with the SIMD build, then the scalar one: the same loss and gradient bits. Leaves the
 * scalar build loaded (the caller's afterAll restores the default).
 */
export async function expectSimdScalarSameBits<C>(cases: readonly C[], fused: (c: C) => FusedOutput, describeCase: (c: C) => string): Promise<void> {
  await init({ simd: true });
  const simd = cases.map((c) => fused(c));
  await init({ simd: false });
  const scalar = cases.map((c) => fused(c));
  cases.forEach((c, i) => {
    expect(f64Bits(scalar[i]!.loss), describeCase(c)).toBe(f64Bits(simd[i]!.loss));
    expect(f32Bits(scalar[i]!.grad), describeCase(c)).toEqual(f32Bits(simd[i]!.grad));
  });
}

/**
 * Declares the test "rejects <name> and leaves grad untouched": `call` with the options `extra` plus a
 * 4-element grad of 7s throws `ErrorType` with a message matching `message`, and grad keeps its 7s.
 */
export function itRejectsOptions(name: string, call: (options: object) => unknown, extra: unknown, ErrorType: ErrorConstructor, message: RegExp): void {
  it(`rejects ${name} and leaves grad untouched`, () => {
    const grad = new Float32Array(4).fill(7);
    const rejected = () => call({ ...(extra as object), grad });
    expect(rejected).toThrow(ErrorType);
    expect(rejected).toThrow(message);
    expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
  });
}
