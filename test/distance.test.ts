// distanceTransform and signedDistance against brute force (src/reference/distance.ts: every pixel
// against every site, float64), and boundaryLoss / hausdorffDTLoss against their float64 references
// and against finite differences. Expected values never come from the code under test.
import { describe, it, expect, beforeAll } from 'vitest';
import {
  init, alloc, distanceTransform, signedDistance, boundaryLoss, hausdorffDTLoss,
  distanceTransformReference, signedDistanceReference, hausdorffFieldReference,
  boundaryLossReference, hausdorffDTLossReference,
  type DistanceLossReferenceOptions,
} from '../src/index.ts';
import { Rng } from './helpers.ts';

beforeAll(() => init());

/** A random mask of S pixels: a few boxes (so that maps have insides) plus sparse noise. */
function randomMask(rng: Rng, dims: readonly number[], density: number): Uint8Array {
  const S = dims.reduce((a, b) => a * b, 1);
  const m = new Uint8Array(S);
  for (let i = 0; i < S; i++) if (rng.chance(density)) m[i] = 1;
  const boxes = rng.int(0, 2);
  for (let b = 0; b < boxes; b++) {
    const lo = dims.map((d) => rng.int(0, d - 1));
    const hi = lo.map((l, a) => Math.min(dims[a]! - 1, l + rng.int(0, 4)));
    for (let s = 0; s < S; s++) {
      let r = s, inside = true;
      for (let a = dims.length - 1; a >= 0; a--) {
        const c = r % dims[a]!;
        r = Math.floor(r / dims[a]!);
        if (c < lo[a]! || c > hi[a]!) inside = false;
      }
      if (inside) m[s] = 1;
    }
  }
  return m;
}

function randomDims(rng: Rng, axes: number, max: number): number[] {
  return Array.from({ length: axes }, () => rng.int(1, max));
}

function randomSpacing(rng: Rng, axes: number): number[] | undefined {
  return rng.chance(0.3) ? undefined : Array.from({ length: axes }, () => rng.uniform(0.25, 3));
}

/** Max |a − b| over finite pairs; Infinity if a pair disagrees on being infinite. */
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(b[i]!) || !Number.isFinite(a[i]!)) {
      if (a[i] !== b[i]) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return worst;
}

describe('distanceTransform against brute force', () => {
  for (const axes of [1, 2, 3]) {
    it(`${axes}-D maps, random spacing, u8 and f32 masks, within 1e-5`, () => {
      const rng = new Rng(100 + axes);
      let worst = 0;
      for (let t = 0; t < 60; t++) {
        const dims = randomDims(rng, axes, axes === 3 ? 7 : axes === 2 ? 14 : 40);
        const N = rng.int(1, 3);
        const spacing = randomSpacing(rng, axes);
        const S = dims.reduce((a, b) => a * b, 1);
        const density = rng.pick([0, 0.02, 0.1, 0.4, 0.9]);
        const maps = Array.from({ length: N }, () => randomMask(rng, dims, density));
        const u8 = new Uint8Array(N * S);
        maps.forEach((m, n) => u8.set(m, n * S));
        const shape = [N, ...dims];
        const ref = distanceTransformReference(u8, { shape, spacing });
        // f32 masks: set where > 0.5, with values on both sides of the threshold.
        const f32 = Float32Array.from(u8, (v) => (v ? rng.uniform(0.51, 2) : rng.uniform(-1, 0.5)));
        for (const mask of [u8, f32]) {
          const got = distanceTransform(mask, { shape, spacing });
          expect(got).toBeInstanceOf(Float32Array);
          const err = maxError(got, ref);
          expect(err, `dims ${dims} N ${N} spacing ${spacing}`).toBeLessThanOrEqual(1e-5);
          worst = Math.max(worst, err);
        }
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    });
  }

  it('a 48 × 64 map with three sites and a 9 × 10 × 11 volume with two', () => {
    const big = new Uint8Array(48 * 64);
    big[0] = 1; big[17 * 64 + 40] = 1; big[47 * 64 + 63] = 1;
    const spacing = [0.7, 1.3];
    expect(maxError(distanceTransform(big, { shape: [1, 48, 64], spacing }),
      distanceTransformReference(big, { shape: [1, 48, 64], spacing }))).toBeLessThanOrEqual(1e-5);
    const vol = new Uint8Array(9 * 10 * 11);
    vol[3 * 110 + 4 * 11 + 5] = 1; vol[8 * 110 + 9 * 11 + 0] = 1;
    expect(maxError(distanceTransform(vol, { shape: [1, 9, 10, 11], spacing: [2, 1, 0.5] }),
      distanceTransformReference(vol, { shape: [1, 9, 10, 11], spacing: [2, 1, 0.5] }))).toBeLessThanOrEqual(1e-5);
  });

  it('a hand-checked 1-D line and a 3 × 3 map with spacing', () => {
    expect(Array.from(distanceTransform(new Uint8Array([0, 0, 1, 0, 0, 0, 1]), { shape: [1, 7] }))).toEqual([2, 1, 0, 1, 2, 1, 0]);
    // Site at the centre, spacing (2, 1): distances √((2·Δr)² + Δc²).
    const d = distanceTransform(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 0]), { shape: [1, 3, 3], spacing: [2, 1] });
    const expected = [Math.sqrt(5), 2, Math.sqrt(5), 1, 0, 1, Math.sqrt(5), 2, Math.sqrt(5)];
    d.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });
});

describe('distanceTransform: empty maps, out, zero copy', () => {
  const mask = new Uint8Array([0, 0, 0, 0, 0, 0, /* map 1: */ 0, 1, 0, 0, 0, 0]);
  const shape = [2, 2, 3];

  it('a map without set pixels is +Infinity by default, the given cap with `empty`', () => {
    const d = distanceTransform(mask, { shape });
    expect(Array.from(d.subarray(0, 6))).toEqual(new Array(6).fill(Infinity));
    expect(maxError(d.subarray(6), [1, 0, 1, Math.SQRT2, 1, Math.SQRT2])).toBeLessThanOrEqual(1e-6);
    const capped = distanceTransform(mask, { shape, empty: 1e4 });
    expect(Array.from(capped.subarray(0, 6))).toEqual(new Array(6).fill(1e4));
    expect(Array.from(capped.subarray(6))).toEqual(Array.from(d.subarray(6)));
    expect(Array.from(distanceTransform(mask, { shape, empty: 0 }).subarray(0, 6))).toEqual(new Array(6).fill(0));
  });

  it('writes `out` and returns it; a WasmArray mask and out give the same bits', () => {
    const out = new Float32Array(12).fill(-1);
    const ret = distanceTransform(mask, { shape, out, empty: 3 });
    expect(ret).toBe(out);
    const wm = alloc(Uint8Array, 12);
    const wo = alloc(Float32Array, 12);
    try {
      wm.view.set(mask);
      const view = distanceTransform(wm, { shape, out: wo, empty: 3 });
      expect(Array.from(view)).toEqual(Array.from(out));
      expect(Array.from(wo.view)).toEqual(Array.from(out));
      expect(Array.from(signedDistance(wm.view, { shape }))).toEqual(Array.from(signedDistance(mask, { shape })));
    } finally {
      wm.free();
      wo.free();
    }
  });
});

describe('signedDistance (Kervadec one_hot2dist)', () => {
  it('hand-checked: a line and a 3 × 3 square in a 7 × 7 map', () => {
    expect(Array.from(signedDistance(new Uint8Array([0, 1, 1, 1, 0]), { shape: [1, 5] }))).toEqual([1, 0, -1, 0, 1]);
    const m = new Uint8Array(49);
    for (let r = 2; r <= 4; r++) for (let c = 2; c <= 4; c++) m[r * 7 + c] = 1;
    const d = signedDistance(m, { shape: [1, 7, 7] });
    expect(d[3 * 7 + 3]).toBe(-1);                                // centre: 2 − 1
    for (const i of [2 * 7 + 2, 2 * 7 + 3, 3 * 7 + 2, 4 * 7 + 4]) expect(d[i]).toBe(0); // inner ring
    expect(d[1 * 7 + 3]).toBe(1);                                  // above the square
    expect(d[1 * 7 + 1]).toBeCloseTo(Math.SQRT2, 6);               // diagonal corner
    expect(d[0]).toBeCloseTo(Math.hypot(2, 2), 6);
  });

  it('matches the brute-force reference on random 2-D and 3-D maps with spacing', () => {
    const rng = new Rng(7);
    for (let t = 0; t < 60; t++) {
      const axes = rng.int(1, 3);
      const dims = randomDims(rng, axes, axes === 3 ? 7 : 13);
      const N = rng.int(1, 3);
      const spacing = randomSpacing(rng, axes);
      const S = dims.reduce((a, b) => a * b, 1);
      const mask = new Uint8Array(N * S);
      for (let n = 0; n < N; n++) mask.set(randomMask(rng, dims, rng.pick([0, 0.05, 0.3, 0.7, 1])), n * S);
      const shape = [N, ...dims];
      const ref = signedDistanceReference(mask, { shape, spacing });
      expect(maxError(signedDistance(mask, { shape, spacing }), ref), `dims ${dims} spacing ${spacing}`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('properties: ≤ 0 inside, 0 on the face-connected inner boundary, the distance transform outside', () => {
    const rng = new Rng(8);
    for (let t = 0; t < 30; t++) {
      const dims = randomDims(rng, 2, 12);
      const [H, W] = dims as [number, number];
      const mask = randomMask(rng, dims, 0.2);
      const d = signedDistance(mask, { shape: [1, H, W] });
      const set = mask.reduce((a, b) => a + b, 0);
      if (set === 0 || set === H * W) { expect(d.every((v) => v === 0)).toBe(true); continue; }
      const dt = distanceTransformReference(mask, { shape: [1, H, W] });
      for (let r = 0; r < H; r++) {
        for (let c = 0; c < W; c++) {
          const i = r * W + c;
          if (!mask[i]) { expect(Math.abs(d[i]! - dt[i]!)).toBeLessThanOrEqual(1e-5); expect(d[i]).toBeGreaterThan(0); continue; }
          const touches = [[r - 1, c], [r + 1, c], [r, c - 1], [r, c + 1]]
            .some(([y, x]) => y! >= 0 && y! < H && x! >= 0 && x! < W && !mask[y! * W + x!]);
          if (touches) expect(d[i]).toBe(0); else expect(d[i]).toBeLessThan(0);
        }
      }
    }
  });

  it('all-unset and all-set maps are 0 everywhere (no boundary)', () => {
    const d = signedDistance(new Uint8Array([0, 0, 0, 0, 1, 1, 1, 1]), { shape: [2, 2, 2] });
    expect(Array.from(d)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('with spacing below 1 the inside stays ≤ 0 (the smallest spacing is subtracted)', () => {
    const d = signedDistance(new Uint8Array([0, 1, 0]), { shape: [1, 3], spacing: [0.5] });
    expect(Array.from(d)).toEqual([0.5, 0, 0.5]);
  });
});

// ------------------------------------------------------------------ losses ---

type Kind = 'boundary' | 'hausdorff';
type Act = 'none' | 'sigmoid' | 'softmax';

interface LossCase {
  input: Float32Array;
  target: Uint8Array | Float32Array;
  options: Omit<DistanceLossReferenceOptions, 'distances'> & { shape: number[] };
}

/** Inputs whose probabilities stay at least 1e-3 away from the 0.5 threshold (so float32 and float64 agree on it). */
function makeLossCase(rng: Rng, kind: Kind, act: Act, axes: number, reduction: 'mean' | 'sum' | 'none', maxDim?: number): LossCase {
  const dims = randomDims(rng, axes, maxDim ?? (axes === 3 ? 5 : axes === 2 ? 9 : 20));
  const N = rng.int(1, 2);
  const C = act === 'softmax' ? rng.int(2, 3) : rng.int(1, 3);
  const includeBackground = C < 2 ? true : rng.chance(0.5);
  const S = dims.reduce((a, b) => a * b, 1);
  const shape = [N, C, ...dims];
  const target = rng.chance(0.5) ? new Uint8Array(N * C * S) : new Float32Array(N * C * S);
  for (let r = 0; r < N * C; r++) {
    const m = randomMask(rng, dims, rng.pick([0, 0.1, 0.3]));
    for (let s = 0; s < S; s++) target[r * S + s] = target instanceof Float32Array ? (m[s] ? rng.uniform(0.6, 1) : rng.uniform(0, 0.4)) : m[s]!;
  }
  let input: Float32Array;
  for (;;) {
    input = Float32Array.from({ length: N * C * S }, () => (act === 'none' ? rng.float() : rng.uniform(-4, 4)));
    const p = boundaryProbabilities(input, act, N, C, S);
    if (p.every((v) => Math.abs(v - 0.5) > 1e-3)) break;
  }
  const options: LossCase['options'] = { shape, activation: act, includeBackground, reduction, spacing: randomSpacing(rng, axes) };
  if (kind === 'hausdorff' && rng.chance(0.3)) options.alpha = rng.pick([1, 1.5, 3]);
  return { input, target, options };
}

function boundaryProbabilities(x: Float32Array, act: Act, N: number, C: number, S: number): Float64Array {
  if (act === 'none') return Float64Array.from(x);
  if (act === 'sigmoid') return Float64Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
  const p = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(x[(n * C + c) * S + s]!);
      for (let c = 0; c < C; c++) p[(n * C + c) * S + s] = Math.exp(x[(n * C + c) * S + s]!) / sum;
    }
  }
  return p;
}

function runLoss(kind: Kind, c: LossCase, grad?: Float32Array): number | Float64Array {
  const opts = { ...c.options, grad };
  return kind === 'boundary' ? boundaryLoss(c.input, c.target, opts) : hausdorffDTLoss(c.input, c.target, opts);
}

function reference(kind: Kind, input: ArrayLike<number>, c: LossCase) {
  return kind === 'boundary' ? boundaryLossReference(input, c.target, c.options) : hausdorffDTLossReference(input, c.target, c.options);
}

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!)); return m; };

for (const kind of ['boundary', 'hausdorff'] as const) {
  describe(`${kind === 'boundary' ? 'boundaryLoss' : 'hausdorffDTLoss'} against the float64 reference`, () => {
    for (const act of ['none', 'sigmoid', 'softmax'] as const) {
      it(`activation '${act}': value and gradient, 1-D to 3-D, every reduction`, () => {
        const rng = new Rng(kind.length * 31 + act.length);
        for (let t = 0; t < 36; t++) {
          const reduction = (['mean', 'sum', 'none'] as const)[t % 3]!;
          const c = makeLossCase(rng, kind, act, 1 + (t % 9 < 3 ? 0 : t % 9 < 6 ? 1 : 2), reduction);
          const ref = reference(kind, c.input, c);
          const what = JSON.stringify({ ...c.options, spacing: c.options.spacing?.map((v) => +v.toFixed(3)) });
          if (reduction === 'none') {
            const got = runLoss(kind, c) as Float64Array;
            expect(got).toBeInstanceOf(Float64Array);
            const r = ref.loss as Float64Array;
            expect(got.length).toBe(r.length);
            got.forEach((v, i) => expect(Math.abs(v - r[i]!), what).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(r[i]!))));
            continue;
          }
          const grad = new Float32Array(c.input.length);
          const loss = runLoss(kind, c, grad) as number;
          const r = ref.loss as number;
          expect(Math.abs(loss - r), what).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(r)));
          const scale = maxAbs(ref.grad!);
          grad.forEach((v, i) => expect(Math.abs(v - ref.grad![i]!), `${what} grad[${i}]`).toBeLessThanOrEqual(1e-5 * scale + 1e-30));
        }
      });
    }

    it('the reference gradient matches central finite differences of the reference loss', () => {
      const rng = new Rng(kind.length + 5);
      for (let t = 0; t < 12; t++) {
        const act = (['none', 'sigmoid', 'softmax'] as const)[t % 3]!;
        const c = makeLossCase(rng, kind, act, 2, t % 2 ? 'sum' : 'mean');
        const ref = reference(kind, c.input, c);
        const x = Float64Array.from(c.input);
        const h = 1e-6;
        const scale = maxAbs(ref.grad!);
        for (let k = 0; k < 6; k++) {
          const i = rng.int(0, x.length - 1);
          const xp = x.slice(), xm = x.slice();
          xp[i]! += h; xm[i]! -= h;
          const fd = ((reference(kind, xp, c).loss as number) - (reference(kind, xm, c).loss as number)) / (2 * h);
          expect(Math.abs(fd - ref.grad![i]!)).toBeLessThanOrEqual(1e-6 * (1 + scale));
        }
      }
    });

    it('the Wasm gradient matches finite differences of the Wasm loss', () => {
      const rng = new Rng(kind.length + 9);
      for (const act of ['none', 'sigmoid', 'softmax'] as const) {
        // Small maps: the float32 rounding noise of the loss, relative to one element's share, grows with S.
        const c = makeLossCase(rng, kind, act, 2, 'sum', 6);
        const grad = new Float32Array(c.input.length);
        runLoss(kind, c, grad);
        const scale = maxAbs(grad);
        const [N, C] = c.options.shape as [number, number];
        const S = grad.length / (N * C);
        const p = boundaryProbabilities(c.input, act, N, C, S);
        for (let k = 0; k < 8; k++) {
          const i = rng.int(0, grad.length - 1);
          // A step that cannot move any p of the pixel across 0.5 (d_P is a constant only between
          // thresholds; |dp/dx| ≤ 1/4 for sigmoid and softmax).
          const n = Math.floor(i / (C * S)), s = i % S;
          let margin = 1;
          for (let ch = 0; ch < C; ch++) margin = Math.min(margin, Math.abs(p[(n * C + ch) * S + s]! - 0.5));
          const h = Math.min(1e-2, margin);
          const xp = c.input.slice(), xm = c.input.slice();
          xp[i]! += h; xm[i]! -= h;
          const hp = xp[i]! - c.input[i]!, hm = c.input[i]! - xm[i]!; // the float32 steps taken
          const fd = ((runLoss(kind, { ...c, input: xp }) as number) - (runLoss(kind, { ...c, input: xm }) as number)) / (hp + hm);
          expect(Math.abs(fd - grad[i]!), `${act} [${i}]`).toBeLessThanOrEqual(2e-3 * scale);
        }
      }
    });
  });
}

describe('distance losses: empty maps, precomputed distances, zero copy', () => {
  it('boundaryLoss: an empty target map contributes 0 (φ = 0) and its gradient is 0', () => {
    const input = Float32Array.from({ length: 2 * 16 }, (_, i) => ((i * 7) % 10) / 10);
    const target = new Uint8Array(32);
    target[16 + 5] = 1; target[16 + 6] = 1;
    const grad = new Float32Array(32);
    const loss = boundaryLoss(input, target, { shape: [2, 1, 4, 4], grad });
    const ref = boundaryLossReference(input, target, { shape: [2, 1, 4, 4] });
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6);
    expect(Array.from(grad.subarray(0, 16))).toEqual(new Array(16).fill(0));
    expect(grad.subarray(16).some((v) => v !== 0)).toBe(true);
  });

  it('hausdorffDTLoss: empty target and empty prediction give 0; an empty target keeps the d_P term (MONAI)', () => {
    const shape = [1, 1, 5, 5];
    const zeros = new Uint8Array(25);
    const low = new Float32Array(25).fill(0.3);
    const grad = new Float32Array(25).fill(9);
    expect(hausdorffDTLoss(low, zeros, { shape, grad })).toBe(0);
    expect(Array.from(grad)).toEqual(new Array(25).fill(0));
    const pred = low.slice();
    pred[12] = 0.9;
    const loss = hausdorffDTLoss(pred, zeros, { shape, grad });
    const ref = hausdorffDTLossReference(pred, zeros, { shape });
    expect(loss).toBeGreaterThan(0);
    expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6 * (ref.loss as number));
    // MONAI's field: 0 for the all-background target, the distance to the other class for the prediction.
    const field = hausdorffFieldReference(Float32Array.from(pred, (v) => (v > 0.5 ? 1 : 0)), { shape: [1, 5, 5] });
    let expected = 0;
    for (let i = 0; i < 25; i++) expected += pred[i]! ** 2 * field[i]! ** 2;
    expect(Math.abs(loss - expected / 25)).toBeLessThanOrEqual(1e-6 * loss);
  });

  it('boundaryLoss with `distances` = signedDistance of the target gives the same bits; target may be null', () => {
    const rng = new Rng(3);
    const N = 2, C = 2, H = 6, W = 7, S = H * W;
    const target = new Uint8Array(N * C * S);
    for (let r = 0; r < N * C; r++) target.set(randomMask(rng, [H, W], 0.2), r * S);
    const input = Float32Array.from({ length: N * C * S }, () => rng.uniform(-3, 3));
    const opts = { shape: [N, C, H, W], activation: 'softmax', includeBackground: false, spacing: [1.5, 0.8] } as const;
    const distances = signedDistance(target, { shape: [N * C, H, W], spacing: [1.5, 0.8] });
    const g1 = new Float32Array(input.length), g2 = new Float32Array(input.length);
    const a = boundaryLoss(input, target, { ...opts, grad: g1 });
    const b = boundaryLoss(input, null, { ...opts, distances, grad: g2 });
    expect(b).toBe(a);
    expect(Array.from(g2)).toEqual(Array.from(g1));
    // Zero copy: every array in Wasm memory.
    const wi = alloc(Float32Array, input.length), wt = alloc(Uint8Array, target.length), wg = alloc(Float32Array, input.length);
    try {
      wi.view.set(input);
      wt.view.set(target);
      expect(boundaryLoss(wi, wt, { ...opts, grad: wg })).toBe(a);
      expect(Array.from(wg.view)).toEqual(Array.from(g1));
      const h1 = new Float32Array(input.length);
      const ha = hausdorffDTLoss(input, target, { ...opts, grad: h1 });
      expect(hausdorffDTLoss(wi, wt, { ...opts, grad: wg })).toBe(ha);
      expect(Array.from(wg.view)).toEqual(Array.from(h1));
    } finally {
      wi.free(); wt.free(); wg.free();
    }
  });
});

describe('distance functions: errors name the argument and leave outputs untouched', () => {
  const x = new Float32Array(8).fill(0.25);
  const g = new Uint8Array(8);
  const shape = [1, 2, 2, 2];

  it('distanceTransform / signedDistance', () => {
    const m = new Uint8Array(6);
    expect(() => distanceTransform(m, undefined as never)).toThrow(TypeError);
    expect(() => distanceTransform(m, {} as never)).toThrow(/options\.shape is required/);
    expect(() => distanceTransform(m, { shape: [6] })).toThrow(/options\.shape must have 2 to 4 entries/);
    expect(() => distanceTransform(m, { shape: [1, 1, 1, 2, 3] })).toThrow(RangeError);
    expect(() => distanceTransform(m, { shape: [1, 2, 2] })).toThrow(/has 4 elements but mask has 6/);
    expect(() => distanceTransform(new Int32Array(6) as never, { shape: [1, 6] })).toThrow(/mask must be a Uint8Array or Float32Array/);
    expect(() => distanceTransform(m, { shape: [1, 2, 3], spacing: [1] })).toThrow(/options\.spacing must have one entry per spatial axis \(2\)/);
    expect(() => distanceTransform(m, { shape: [1, 2, 3], spacing: [1, 0] })).toThrow(/options\.spacing\[1\] must be a finite number > 0/);
    expect(() => distanceTransform(m, { shape: [1, 2, 3], spacing: [1, '2'] as never })).toThrow(TypeError);
    expect(() => distanceTransform(m, { shape: [1, 2, 3], spacing: [1e31, 1] })).toThrow(/options\.spacing\[0\] must be a finite number > 0 \(in \[1e-30, 1e\+30\]\)/);
    expect(() => signedDistance(m, { shape: [1, 2, 3], spacing: [1, Infinity] })).toThrow(RangeError);
    expect(() => distanceTransform(m, { shape: [1, 6], empty: -1 })).toThrow(/options\.empty must be a number >= 0/);
    expect(() => distanceTransform(m, { shape: [1, 6], empty: NaN })).toThrow(RangeError);
    expect(() => distanceTransform(m, { shape: [1, 6], out: new Float32Array(5) })).toThrow(/options\.out must have 6 elements/);
    const out = new Float32Array(6).fill(7);
    const bad = new Float32Array([0, 1, NaN, 0, 0, 0]);
    expect(() => distanceTransform(bad, { shape: [1, 6], out })).toThrow(/mask\[2\] is NaN/);
    expect(() => signedDistance(bad, { shape: [1, 2, 3], out })).toThrow(/segloss\.signedDistance: mask\[2\] is NaN/);
    expect(Array.from(out)).toEqual(new Array(6).fill(7));
    const buf = new Float32Array(12);
    expect(() => distanceTransform(buf.subarray(0, 6), { shape: [1, 6], out: buf.subarray(3, 9) })).toThrow(/overlaps mask/);
  });

  it('boundaryLoss / hausdorffDTLoss', () => {
    const grad = new Float32Array(8).fill(7);
    const cases: [() => unknown, RegExp, ErrorConstructor][] = [
      [() => boundaryLoss(x, g, {} as never), /boundaryLoss: options\.shape is required/, TypeError],
      [() => boundaryLoss(x, g, { shape: [1, 1, 8, 1, 1, 1] }), /1 to 3 spatial axes/, RangeError],
      [() => boundaryLoss(x, g, { shape, activation: 'relu' as never }), /options\.activation must be/, RangeError],
      [() => boundaryLoss(x, g, { shape: [1, 1, 8], activation: 'softmax' }), /softmax' needs C >= 2/, RangeError],
      [() => boundaryLoss(x, g, { shape: [1, 1, 8], includeBackground: false }), /includeBackground false needs C >= 2/, RangeError],
      [() => boundaryLoss(x, g, { shape, reduction: 'max' as never }), /options\.reduction must be/, RangeError],
      [() => boundaryLoss(x, g, { shape, spacing: [1, 1, 1] }), /options\.spacing must have one entry per spatial axis \(2\)/, RangeError],
      [() => boundaryLoss(x, new Uint8Array(7), { shape, grad }), /target must have 8 elements/, RangeError],
      [() => boundaryLoss(x, null, { shape, grad }), /target must be a Float32Array or Uint8Array/, TypeError],
      [() => boundaryLoss(x, g, { shape, distances: new Float32Array(7), grad }), /options\.distances must have 8 elements/, RangeError],
      [() => boundaryLoss(x, null, { shape, distances: Float32Array.of(0, 1, 2, Infinity, 0, 0, 0, 0), grad }), /options\.distances\[3\] is Infinity/, RangeError],
      [() => boundaryLoss(x, g, { shape, reduction: 'none', grad }), /options\.grad needs reduction 'mean' or 'sum'/, RangeError],
      [() => boundaryLoss(x, g, { shape, grad: new Float32Array(4) }), /options\.grad must have 8 elements/, RangeError],
      [() => boundaryLoss(x, g, { shape, grad: x }), /options\.grad overlaps input/, RangeError],
      [() => boundaryLoss(Float32Array.of(0, 0.5, 2, 0, 0, 0, 0, 0), g, { shape, grad }), /input\[2\] is 2; probabilities \(activation 'none'\) must be in \[0, 1\]/, RangeError],
      [() => boundaryLoss(Float32Array.of(0, NaN, 0, 0, 0, 0, 0, 0), g, { shape, activation: 'sigmoid', grad }), /input\[1\] is NaN; inputs must be finite/, RangeError],
      [() => hausdorffDTLoss(x, Uint8Array.of(0, 0, 0, 0, 2, 0, 0, 0), { shape, grad }), /hausdorffDTLoss: target\[4\] is 2; targets must be in \[0, 1\]/, RangeError],
      [() => hausdorffDTLoss(x, Float32Array.of(0, 0, 0, 0, 0, -0.5, 0, 0), { shape, grad }), /target\[5\] is -0\.5/, RangeError],
      [() => hausdorffDTLoss(x, g, { shape, alpha: 0, grad }), /options\.alpha must be a finite number in \(0, 4\]/, RangeError],
      [() => hausdorffDTLoss(x, g, { shape, alpha: 5, grad }), /options\.alpha must be a finite number in \(0, 4\]; got 5/, RangeError],
      [() => hausdorffDTLoss(x, g, { shape, alpha: '2' as never, grad }), /options\.alpha must be a number/, TypeError],
      [() => hausdorffDTLoss(x, g, { shape, spacing: [1e20, 1], grad }), /distances\^alpha up to 1\.00e\+40; it must stay below 1e\+30/, RangeError],
      [() => hausdorffDTLoss(new Float64Array(8) as never, g, { shape, grad }), /input must be a Float32Array/, TypeError],
    ];
    for (const [call, message, type] of cases) {
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    }
    expect(Array.from(grad)).toEqual(new Array(8).fill(7));
  });
});
