// The SIMD and the scalar builds give the same bits for the distance transforms and the distance losses
// (odd row lengths exercise the scalar tails, several thousand pixels the f64 flush of the lane sums).
// Each build is also checked against the float64 reference, so agreeing on a wrong answer fails too.
import { describe, it, expect } from 'vitest';
import {
  init, backend, simdSupported, distanceTransform, signedDistance, boundaryLoss, hausdorffDTLoss,
  boundaryLossReference, hausdorffDTLossReference,
} from '../src/index.ts';
import { Rng } from './helpers.ts';

interface Run { values: number[]; arrays: Float32Array[] }

function inputs() {
  const rng = new Rng(2024);
  const H = 37, W = 41, N = 2, C = 3, S = H * W;
  const mask = Uint8Array.from({ length: N * C * S }, () => (rng.chance(0.03) ? 1 : 0));
  for (let r = 0; r < N * C; r++) for (let y = 10; y < 20; y++) for (let x = 5 + r; x < 25; x++) mask[r * S + y * W + x] = 1;
  const logits = Float32Array.from({ length: N * C * S }, () => rng.uniform(-5, 5));
  const probs = Float32Array.from({ length: N * C * S }, () => rng.float());
  const soft = Float32Array.from(mask, (v) => (v ? 0.9 : 0.05));
  return { H, W, N, C, S, mask, logits, probs, soft };
}

function runAll(): Run {
  const { H, W, N, C, mask, logits, probs, soft } = inputs();
  const values: number[] = [];
  const arrays: Float32Array[] = [];
  arrays.push(distanceTransform(mask, { shape: [N * C, H, W], spacing: [0.7, 1.9] }));
  arrays.push(distanceTransform(mask, { shape: [N * C, 1, H, W], spacing: [1, 2, 0.5] }));
  arrays.push(signedDistance(mask, { shape: [N * C, H, W] }));
  const shape = [N, C, H, W];
  for (const activation of ['none', 'sigmoid', 'softmax'] as const) {
    const input = activation === 'none' ? probs : logits;
    for (const includeBackground of [true, false]) {
      const g1 = new Float32Array(input.length), g2 = new Float32Array(input.length), g3 = new Float32Array(input.length);
      values.push(boundaryLoss(input, mask, { shape, activation, includeBackground, grad: g1 }));
      values.push(hausdorffDTLoss(input, soft, { shape, activation, includeBackground, reduction: 'sum', grad: g2 }));
      values.push(hausdorffDTLoss(input, mask, { shape, activation, includeBackground, alpha: 1.5, grad: g3 }));
      arrays.push(g1, g2, g3);
    }
  }
  return { values, arrays };
}

function checkAgainstReference(): void {
  const { H, W, N, C, mask, logits, soft } = inputs();
  const shape = [N, C, H, W];
  const g = new Float32Array(logits.length);
  const b = boundaryLoss(logits, mask, { shape, activation: 'softmax', grad: g });
  const rb = boundaryLossReference(logits, mask, { shape, activation: 'softmax' });
  expect(Math.abs(b - (rb.loss as number))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(rb.loss as number)));
  const h = hausdorffDTLoss(logits, soft, { shape, activation: 'sigmoid', alpha: 1.5 });
  const rh = hausdorffDTLossReference(logits, soft, { shape, activation: 'sigmoid', alpha: 1.5 });
  expect(Math.abs(h - (rh.loss as number))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(rh.loss as number)));
}

describe('SIMD and scalar builds', () => {
  it.skipIf(!simdSupported())('give the same bits and both match the reference', async () => {
    await init({ simd: true });
    expect(backend()).toBe('simd');
    const simd = runAll();
    checkAgainstReference();
    await init({ simd: false });
    expect(backend()).toBe('scalar');
    const scalar = runAll();
    checkAgainstReference();
    expect(scalar.values).toEqual(simd.values);
    expect(scalar.arrays.length).toBe(simd.arrays.length);
    scalar.arrays.forEach((a, i) => {
      const s = simd.arrays[i]!;
      const differ = a.findIndex((v, j) => !Object.is(v, s[j]));
      expect(differ, `array ${i}`).toBe(-1);
    });
  });
});
