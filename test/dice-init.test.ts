// The module before and during init(). Vitest runs each file in its own
// process (pool 'forks'), so this file sees a module that nobody initialised.
import { describe, it, expect } from 'vitest';
import { init, backend, simdSupported, alloc, diceLoss, diceLossReference } from '../src/index.ts';

describe('before init()', () => {
  it('diceLoss throws an Error that says to `await init()`, and leaves grad untouched', () => {
    const grad = new Float32Array(4).fill(7);
    expect(() => diceLoss(new Float32Array([0.1, 0.2, 0.3, 0.4]), new Float32Array([0, 1, 0, 1]), { grad })).toThrow(/await init\(\)/);
    expect(Array.from(grad)).toEqual([7, 7, 7, 7]);
  });

  it('alloc and backend throw the same Error', () => {
    expect(() => alloc(Float32Array, 4)).toThrow(/await init\(\)/);
    expect(() => backend()).toThrow(/await init\(\)/);
  });
});

describe('init()', () => {
  it('three concurrent init() calls all resolve, and diceLoss then works and matches the reference', async () => {
    await expect(Promise.all([init(), init(), init()])).resolves.toHaveLength(3);
    expect(backend()).toBe(simdSupported() ? 'simd' : 'scalar');
    const input = Float32Array.from({ length: 30 }, (_, i) => Math.cos(i) * 4);
    const target = Uint8Array.from({ length: 10 }, (_, i) => i % 3);
    const options = { shape: [1, 3, 10], activation: 'softmax', target: 'indices' } as const;
    const grad = new Float32Array(30);
    const loss = diceLoss(input, target, { ...options, grad });
    const ref = diceLossReference(input, target, options);
    expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6);
    const scale = Math.max(...Array.from(ref.grad!, Math.abs));
    grad.forEach((g, i) => expect(Math.abs(g - ref.grad![i]!)).toBeLessThanOrEqual(1e-5 * scale));
  });

  it('concurrent init() with different builds settles on a working instance', async () => {
    await Promise.all([init({ simd: false }), init(), init({ simd: false })]);
    const x = new Float32Array([0.2, 0.9, 0.4]);
    const g = new Float32Array([0, 1, 1]);
    const ref = diceLossReference(x, g).loss as number;
    expect(Math.abs(diceLoss(x, g) - ref)).toBeLessThanOrEqual(1e-6);
    await init();
    expect(Math.abs(diceLoss(x, g) - ref)).toBeLessThanOrEqual(1e-6);
  });
});
