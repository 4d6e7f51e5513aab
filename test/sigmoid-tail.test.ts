// Sigmoid calls with a gradient keep each element's signed tail e^−|x| from
// pass 1 for pass 2 (no second exp) up to 4M elements, and recompute it above.
// Both ways must give the same bits, from the JS heap and zero-copy, and an
// invalid input must leave the caller's gradient untouched either way.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, diceLoss, alloc } from '../src/index.ts';
import { mulberry32 } from './helpers.ts';

const S = (1 << 21) + 8; // one sample under the 4M-element cap, two samples over it

describe('sigmoid tails kept between the passes', () => {
  beforeAll(async () => { await init(); });

  const rnd = mulberry32(20261129);
  const logits = new Float32Array(2 * S);
  const edges = new Uint8Array(2 * S);
  for (let i = 0; i < 2 * S; i++) {
    logits[i] = (rnd() - 0.6) * 30; // tails from 1 down to subnormal and 0
    edges[i] = rnd() < 0.05 ? 1 : 0;
  }

  for (const zeroCopy of [false, true]) {
    it(`recomputed (2 samples) == kept (1 sample) bit for bit, ${zeroCopy ? 'zero copy' : 'JS heap'}`, () => {
      for (const form of [{}, { squared: true }]) {
        // Mean over 2 entries: each coefficient is exactly half of the 1-entry call's.
        const both = new Float32Array(2 * S), one = new Float32Array(S);
        if (zeroCopy) {
          const x = alloc(Float32Array, 2 * S), g = alloc(Uint8Array, 2 * S), gr = alloc(Float32Array, 2 * S);
          x.view.set(logits); g.view.set(edges);
          diceLoss(x, g, { shape: [2, 1, S], activation: 'sigmoid', grad: gr, ...form });
          both.set(gr.view);
          const x1 = alloc(Float32Array, S), g1 = alloc(Uint8Array, S), gr1 = alloc(Float32Array, S);
          x1.view.set(logits.subarray(0, S)); g1.view.set(edges.subarray(0, S));
          diceLoss(x1, g1, { shape: [1, 1, S], activation: 'sigmoid', grad: gr1, ...form });
          one.set(gr1.view);
          for (const a of [x, g, gr, x1, g1, gr1]) a.free();
        } else {
          diceLoss(logits, edges, { shape: [2, 1, S], activation: 'sigmoid', grad: both, ...form });
          diceLoss(logits.subarray(0, S), edges.subarray(0, S), { shape: [1, 1, S], activation: 'sigmoid', grad: one, ...form });
        }
        let mismatches = 0;
        for (let i = 0; i < S; i++) if (!Object.is(both[i], one[i]! * 0.5)) mismatches++;
        expect(mismatches).toBe(0);
      }
    });
  }

  it('an invalid logit leaves the gradient untouched, with the tails kept or not', () => {
    for (const n of [4096, S]) {
      const x = logits.slice(0, n);
      x[n - 1] = NaN;
      const grad = new Float32Array(n).fill(7);
      expect(() => diceLoss(x, edges.subarray(0, n), { shape: [1, 1, n], activation: 'sigmoid', grad }))
        .toThrow(`input[${n - 1}] is NaN`);
      expect(grad.every((v) => v === 7)).toBe(true);
      const xw = alloc(Float32Array, n), gw = alloc(Uint8Array, n), grw = alloc(Float32Array, n);
      xw.view.set(x); gw.view.set(edges.subarray(0, n)); grw.view.fill(7);
      expect(() => diceLoss(xw, gw, { shape: [1, 1, n], activation: 'sigmoid', grad: grw })).toThrow(`input[${n - 1}] is NaN`);
      expect(grw.view.every((v) => v === 7)).toBe(true);
      for (const a of [xw, gw, grw]) a.free();
    }
  });
});
