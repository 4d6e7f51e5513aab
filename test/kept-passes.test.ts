// Calls with a gradient and an activation keep what pass 2 would recompute
// with exp (sigmoid: each element's signed tail e^−|x|, or σ'(x) alone when the
// gradient is affine in the target, as with the plain form here; softmax: the
// probabilities) up to 4M elements, and recompute it above. Both ways must
// give the same bits, from the JS heap and zero-copy, and an invalid input must
// leave the caller's gradient untouched either way.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, diceLoss, alloc } from '../src/index.ts';
import { mulberry32 } from './helpers.ts';

// One sample under the 4M-element cap, two samples over it (also as staged
// chunks: rows are cut into multiples of 1024 elements).
const CASES = [
  { activation: 'sigmoid' as const, C: 1, S: (1 << 21) + 8, spread: 30 }, // tails from 1 down to subnormal and 0
  { activation: 'softmax' as const, C: 3, S: (1 << 20) + 8, spread: 12 },
];

describe('data kept between the passes', () => {
  beforeAll(async () => { await init(); });

  for (const { activation, C, S, spread } of CASES) {
    const rnd = mulberry32(20261129);
    const n = 2 * C * S;
    const logits = new Float32Array(n).map(() => (rnd() - 0.6) * spread);
    const labels = activation === 'sigmoid'
      ? new Uint8Array(n).map(() => (rnd() < 0.05 ? 1 : 0))
      : new Uint8Array(2 * S).map(() => Math.floor(rnd() * C));
    const target = activation === 'softmax' ? ('indices' as const) : undefined;
    const perSample = labels.length / 2;

    for (const zeroCopy of [false, true]) {
      it(`${activation}: recomputed (2 samples) == kept (1 sample) bit for bit, ${zeroCopy ? 'zero copy' : 'JS heap'}`, () => {
        for (const form of [{}, { squared: true }]) {
          // Mean over twice the entries: each coefficient is exactly half of the 1-sample call's.
          const both = new Float32Array(n), one = new Float32Array(C * S);
          const call = (x: Float32Array, g: Uint8Array, N: number, grad: Float32Array) => {
            const options = { shape: [N, C, S], activation, target, grad, ...form };
            if (!zeroCopy) return diceLoss(x, g, options);
            const xw = alloc(Float32Array, x.length), gw = alloc(Uint8Array, g.length), grw = alloc(Float32Array, x.length);
            xw.view.set(x); gw.view.set(g);
            const loss = diceLoss(xw, gw, { ...options, grad: grw });
            grad.set(grw.view);
            for (const a of [xw, gw, grw]) a.free();
            return loss;
          };
          call(logits, labels, 2, both);
          call(logits.subarray(0, C * S), labels.subarray(0, perSample), 1, one);
          let mismatches = 0;
          for (let i = 0; i < C * S; i++) if (!Object.is(both[i], one[i]! * 0.5)) mismatches++;
          expect(mismatches).toBe(0);
        }
      });
    }

    it(`${activation}: an invalid logit leaves the gradient untouched, kept or not`, () => {
      for (const N of [1, 2]) {
        const x = logits.slice(0, N * C * S);
        x[x.length - 1] = NaN;
        const g = labels.subarray(0, N * perSample);
        const options = { shape: [N, C, S], activation, target };
        const grad = new Float32Array(x.length).fill(7);
        expect(() => diceLoss(x, g, { ...options, grad })).toThrow(`input[${x.length - 1}] is NaN`);
        expect(grad.every((v) => v === 7)).toBe(true);
        const xw = alloc(Float32Array, x.length), gw = alloc(Uint8Array, g.length), grw = alloc(Float32Array, x.length);
        xw.view.set(x); gw.view.set(g); grw.view.fill(7);
        expect(() => diceLoss(xw, gw, { ...options, grad: grw })).toThrow(`input[${x.length - 1}] is NaN`);
        expect(grw.view.every((v) => v === 7)).toBe(true);
        for (const a of [xw, gw, grw]) a.free();
      }
    });
  }
});
