// The example edge detector's hand-written convolution network (examples/lib/model.mjs):
// its forward pass against a naive float64 convolution written here from the formula
// (explicit bounds tests instead of the model's zero-padded planes), its backward pass
// against central finite differences of a scalar loss of the logits, and its Adam step
// against the published update rule. Also the training loop's options (examples/lib/train.mjs:
// a caller-given loss call, Adam's β₂) and the example's approximate edge F-score
// (examples/lib/eval.mjs) on cases worked out by hand. The multi-scale network
// (examples/lib/msmodel.mjs) likewise: forward against a naive float64 transcription
// (convolutions, 2×2 pooling, PyTorch's half-pixel bilinear upsampling, fusion),
// backward against central finite differences.
import { describe, it, expect } from 'vitest';
import { createNetwork, createModel, createAdam } from '../examples/lib/model.mjs';
import { createMultiScaleModel } from '../examples/lib/msmodel.mjs';
import { edgeFScoreApprox, everythingEdgeFScore } from '../examples/lib/eval.mjs';
import { mulberry32 } from '../examples/lib/rng.mjs';
import { makeDataset } from '../examples/lib/data.mjs';
import { train, lossCall } from '../examples/lib/train.mjs';
import { createSession } from '../examples/demo/session.mjs';
import { DEFAULTS } from '../examples/demo/options.mjs';


interface Spec { cin: number; cout: number; k: number; dilation: number; relu: boolean }

// Covers the 3×3 fast path (four output channels at a time, plus a remainder channel;
// dilation 1 and 2), the generic path (5×5 and 1×1), channel counts that differ between
// layers, and taps that fall far outside a 5×6 image.
const SPECS: Spec[] = [
  { cin: 1, cout: 4, k: 3, dilation: 1, relu: true },
  { cin: 4, cout: 5, k: 3, dilation: 2, relu: true },
  { cin: 5, cout: 2, k: 5, dilation: 1, relu: true },
  { cin: 2, cout: 1, k: 1, dilation: 1, relu: false },
];
const N = 2;
const H = 5;
const W = 6;

/** Naive "same" convolution of n images in float64 from the formula, zero outside the image. */
function naiveConv(x: Float64Array, n: number, h: number, w: number, s: Spec, wt: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const { cin, cout, k, dilation, relu } = s;
  const r = (k - 1) / 2;
  const z = new Float64Array(n * cout * h * w);
  for (let i = 0; i < n; i++) for (let co = 0; co < cout; co++) for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    let v = b[co];
    for (let ci = 0; ci < cin; ci++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = y + (ky - r) * dilation, ix = xx + (kx - r) * dilation;
      if (iy >= 0 && iy < h && ix >= 0 && ix < w) v += wt[((co * cin + ci) * k + ky) * k + kx] * x[((i * cin + ci) * h + iy) * w + ix];
    }
    z[((i * cout + co) * h + y) * w + xx] = relu ? Math.max(0, v) : v;
  }
  return z;
}

/** Naive "same" convolutions of N images through SPECS in float64. */
function naiveForward(specs: Spec[], params: ArrayLike<number>, input: ArrayLike<number>): Float64Array {
  const p = Float64Array.from(params);
  let x: Float64Array = Float64Array.from(input);
  let offset = 0;
  for (const s of specs) {
    const nw = s.cout * s.cin * s.k * s.k;
    x = naiveConv(x, N, H, W, s, p.subarray(offset, offset + nw), p.subarray(offset + nw, offset + nw + s.cout));
    offset += nw + s.cout;
  }
  return x;
}

/** A scalar loss of the logits z and its gradient: L = Σ rᵢzᵢ + ½Σ zᵢ², dL/dzᵢ = rᵢ + zᵢ. */
function lossOf(z: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += r[i] * z[i] + 0.5 * z[i] * z[i];
  return s;
}

type Model = ReturnType<typeof createModel>;

/**
 * Checks model.backward for L(z) = lossOf(z, r) against central finite differences of every
 * parameter (float64 model); returns how many parameters got a nonzero gradient.
 */
function checkBackward(model: Model, input: Float64Array, n: number, h: number, w: number, r: Float64Array): number {
  const z = new Float64Array(n * h * w);
  model.forward(input, n, h, w, z);
  model.zeroGrad();
  model.backward(Float64Array.from(z, (v, i) => r[i] + v));
  const analytic = Float64Array.from(model.grads);
  const eps = 1e-6;
  let nonzero = 0;
  for (let p = 0; p < model.params.length; p++) {
    const saved = model.params[p];
    model.params[p] = saved + eps;
    model.forward(input, n, h, w, z);
    const plus = lossOf(z, r);
    model.params[p] = saved - eps;
    model.forward(input, n, h, w, z);
    const minus = lossOf(z, r);
    model.params[p] = saved;
    const numeric = (plus - minus) / (2 * eps); // central difference, error O(eps²)
    expect(Math.abs(analytic[p] - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
    if (analytic[p] !== 0) nonzero++;
  }
  return nonzero;
}

function setup(seed: number) {
  const rng = mulberry32(seed);
  const model = createNetwork(SPECS, { seed, arrayType: Float64Array });
  // Nonzero biases so that the bias path and the ReLU masks are exercised.
  for (const layer of model.layers) for (let i = 0; i < layer.b.length; i++) layer.b[i] = 0.2 * (rng() - 0.5);
  const input = Float64Array.from({ length: N * H * W }, () => rng());
  const r = Float64Array.from({ length: N * H * W }, () => 2 * rng() - 1);
  return { model, input, r };
}

describe('examples/lib/model.mjs', () => {
  it('forward equals a naive float64 convolution with zero padding', () => {
    for (const seed of [1, 2, 3]) {
      const { model, input } = setup(seed);
      const out = new Float64Array(N * H * W);
      model.forward(input, N, H, W, out);
      const expected = naiveForward(SPECS, model.params, input);
      for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(expected[i], 12);
      // Not a degenerate network: some logits differ from the output bias.
      expect(new Set(Array.from(out, (v) => v.toFixed(9))).size).toBeGreaterThan(N * H * W / 2);
    }
  });

  it('backward equals central finite differences for every weight and bias', () => {
    for (const seed of [4, 5]) {
      const { model, input, r } = setup(seed);
      // Most parameters get a nonzero gradient (the ReLUs do not kill the network).
      expect(checkBackward(model, input, N, H, W, r)).toBeGreaterThan(model.params.length * 0.8);
    }
  });

  it('backward adds into grads (gradient accumulation over calls)', () => {
    const { model, input, r } = setup(6);
    const z = new Float64Array(N * H * W);
    model.forward(input, N, H, W, z);
    model.zeroGrad();
    model.backward(r);
    const once = Float64Array.from(model.grads);
    model.backward(r);
    for (let p = 0; p < once.length; p++) expect(model.grads[p]).toBeCloseTo(2 * once[p], 12);
  });

  it('the float32 model computes what the float64 model computes, to float32 precision', () => {
    const f64 = createModel({ seed: 7, arrayType: Float64Array });
    const f32 = createModel({ seed: 7 });
    f64.params.set(f32.params); // identical weights (f32 values are exact in f64)
    const rng = mulberry32(7);
    const n = 2, h = 9, w = 11;
    const input = Float32Array.from({ length: n * h * w }, () => rng());
    const r = Float32Array.from({ length: n * h * w }, () => 2 * rng() - 1);
    const z32 = new Float32Array(n * h * w);
    const z64 = new Float64Array(n * h * w);
    f32.forward(input, n, h, w, z32);
    f64.forward(input, n, h, w, z64);
    for (let i = 0; i < z32.length; i++) expect(Math.abs(z32[i] - z64[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(z64[i])));
    f32.zeroGrad();
    f64.zeroGrad();
    f32.backward(r);
    f64.backward(r);
    let scale = 0;
    for (let p = 0; p < f64.grads.length; p++) scale = Math.max(scale, Math.abs(f64.grads[p]));
    expect(scale).toBeGreaterThan(0);
    for (let p = 0; p < f64.grads.length; p++) expect(Math.abs(f32.grads[p] - f64.grads[p])).toBeLessThan(1e-4 * scale);
  });

  it('Adam applies m̂/(√v̂ + ε) steps: the first step moves every parameter by lr·sign(g)', () => {
    const model = createNetwork([{ cin: 1, cout: 1, k: 1, dilation: 1, relu: false }], { arrayType: Float64Array });
    model.params.set([0.5, -0.25]);
    const adam = createAdam(model, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 0 });
    // Step 1: m̂ = g, v̂ = g², so θ ← θ − lr·g/|g|.
    model.grads.set([3, -0.002]);
    adam.step();
    expect(model.params[0]).toBeCloseTo(0.5 - 0.1, 14);
    expect(model.params[1]).toBeCloseTo(-0.25 + 0.1, 14);
    // Step 2 with g₂: m = 0.9·0.1·g₁ + 0.1·g₂, v = 0.999·0.001·g₁² + 0.001·g₂², bias-corrected by 1 − β².
    model.grads.set([1, 0]);
    adam.step();
    const m = (0.9 * 0.1 * 3 + 0.1 * 1) / (1 - 0.9 ** 2);
    const v = (0.999 * 0.001 * 9 + 0.001 * 1) / (1 - 0.999 ** 2);
    expect(model.params[0]).toBeCloseTo(0.4 - (0.1 * m) / Math.sqrt(v), 12);
  });
});

/** 2×2 stride-2 max or average pooling of n·c planes of h×w. */
function naivePool(x: Float64Array, nc: number, h: number, w: number, mode: 'max' | 'avg'): Float64Array {
  const out = new Float64Array(nc * (h / 2) * (w / 2));
  for (let p = 0; p < nc; p++) for (let y = 0; y < h / 2; y++) for (let xx = 0; xx < w / 2; xx++) {
    const v = [0, 1].flatMap((dy) => [0, 1].map((dx) => x[(p * h + 2 * y + dy) * w + 2 * xx + dx]));
    out[(p * (h / 2) + y) * (w / 2) + xx] = mode === 'max' ? Math.max(...v) : (v[0] + v[1] + v[2] + v[3]) / 4;
  }
  return out;
}

/** Bilinear upsampling by s as PyTorch's interpolate(mode='bilinear', align_corners=False) computes it. */
function naiveUpsample(x: Float64Array, n: number, h: number, w: number, s: number): Float64Array {
  const out = new Float64Array(n * h * s * w * s);
  const src = (d: number, len: number) => {
    const u = Math.max(0, (d + 0.5) / s - 0.5);
    const i0 = Math.floor(u);
    return { i0, i1: i0 < len - 1 ? i0 + 1 : i0, t: u - i0 };
  };
  for (let i = 0; i < n; i++) for (let y = 0; y < h * s; y++) for (let xx = 0; xx < w * s; xx++) {
    const a = src(y, h), c = src(xx, w);
    const at = (yy: number, xc: number) => x[(i * h + yy) * w + xc];
    out[(i * h * s + y) * w * s + xx] = (1 - a.t) * ((1 - c.t) * at(a.i0, c.i0) + c.t * at(a.i0, c.i1))
      + a.t * ((1 - c.t) * at(a.i1, c.i0) + c.t * at(a.i1, c.i1));
  }
  return out;
}

describe('examples/lib/msmodel.mjs (HED-like multi-scale network)', () => {
  const n = 2, h = 16, w = 12;
  function msSetup(seed: number, pool: 'max' | 'avg') {
    const rng = mulberry32(seed);
    const model = createMultiScaleModel({ seed, channels: 3, pool, arrayType: Float64Array });
    for (const layer of model.layers) for (let i = 0; i < layer.b.length; i++) layer.b[i] = 0.2 * (rng() - 0.5);
    const fuse = model.params.subarray(model.params.length - 4);
    for (let i = 0; i < 4; i++) fuse[i] = rng() - 0.3;
    const input = Float64Array.from({ length: n * h * w }, () => rng());
    const r = Float64Array.from({ length: n * h * w }, () => 2 * rng() - 1);
    return { model, input, r, fuse };
  }

  for (const pool of ['max', 'avg'] as const) {
    it(`forward equals a naive float64 transcription (${pool} pooling)`, () => {
      const { model, input, fuse } = msSetup(11, pool);
      const out = new Float64Array(n * h * w);
      model.forward(input, n, h, w, out);
      const L = model.layers;
      const c = (x: Float64Array, l: number, hh: number, ww: number) => naiveConv(x, n, hh, ww, L[l].spec, L[l].w, L[l].b);
      const a2 = c(c(input, 0, h, w), 1, h, w);
      const s1 = c(a2, 2, h, w);
      const a4 = c(c(naivePool(a2, n * 3, h, w, pool), 3, h / 2, w / 2), 4, h / 2, w / 2);
      const s2 = naiveUpsample(c(a4, 5, h / 2, w / 2), n, h / 2, w / 2, 2);
      const a6 = c(c(naivePool(a4, n * 6, h / 2, w / 2, pool), 6, h / 4, w / 4), 7, h / 4, w / 4);
      const s3 = naiveUpsample(c(a6, 8, h / 4, w / 4), n, h / 4, w / 4, 4);
      for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(fuse[0] * s1[i] + fuse[1] * s2[i] + fuse[2] * s3[i] + fuse[3], 12);
      // Every side output reaches the logits with a nonzero, non-constant contribution.
      for (const side of [s1, s2, s3]) expect(new Set(Array.from(side, (v) => v.toFixed(9))).size).toBeGreaterThan(out.length / 4);
    });

    it(`backward equals central finite differences for every parameter (${pool} pooling)`, () => {
      const { model, input, r } = msSetup(12, pool);
      // Most gradients are nonzero (the weights of a channel that its ReLU zeroes everywhere at
      // the 4×3 quarter resolution get none: 65–75% nonzero here).
      expect(checkBackward(model, input, n, h, w, r)).toBeGreaterThan(model.params.length * 0.6);
    });
  }

  it('rejects sizes that are not multiples of 4, and an unknown pool', () => {
    const model = createMultiScaleModel();
    expect(() => model.forward(new Float32Array(36), 1, 6, 6, new Float32Array(36))).toThrow(/multiples of 4; got 6×6/);
    expect(() => createMultiScaleModel({ pool: 'min' as 'max' })).toThrow(/pool must be 'max' or 'avg'; got 'min'/);
  });
});

describe('examples/lib/train.mjs', () => {
  it('trains with a caller-given segloss call in place of lossCall(loss), on [batch, 1, crop, crop] windows', async () => {
    const data = makeDataset({ count: 4, size: 16, seed: 3 });
    const builtIn = lossCall('bce');
    const shapes: string[] = [];
    const run = await train({
      loss: 'dice', data, steps: 3, batch: 2, crop: 8, seed: 3,
      call: (z, g, shape, grad) => { shapes.push(shape.join('×')); return 10 + builtIn(z, g, shape, grad); },
    });
    expect(shapes).toEqual(['2×1×8×8', '2×1×8×8', '2×1×8×8']);
    // The returned losses are the custom call's: BCE (≥ 0) plus 10, which no Dice loss (≤ 1) could give.
    for (const l of run.losses) expect(l).toBeGreaterThanOrEqual(10);
  });

  it('passes beta2 to Adam: the same seed and batches train to other weights with another β₂', async () => {
    const data = makeDataset({ count: 4, size: 16, seed: 3 });
    const base = { loss: 'bce' as const, data, steps: 3, batch: 2, crop: 8, seed: 3 };
    const a = await train(base);
    const b = await train({ ...base, beta2: 0.999 });
    const c = await train({ ...base, beta2: 0.9 });
    expect(Array.from(b.model.params)).toEqual(Array.from(a.model.params)); // the default is 0.999
    expect(Array.from(c.model.params)).not.toEqual(Array.from(a.model.params));
  });

  it('trains the network makeModel creates', async () => {
    const data = makeDataset({ count: 4, size: 16, seed: 3 });
    const base = { loss: 'bce' as const, data, steps: 2, batch: 2, crop: 8, seed: 3 };
    const multi = await train({ ...base, makeModel: createMultiScaleModel });
    const plain = await train(base);
    expect(multi.model.params.length).toBe(createMultiScaleModel().params.length);
    expect(plain.model.params.length).toBe(createModel().params.length);
    expect(multi.model.params.length).not.toBe(plain.model.params.length);
  });

  it("the demo's round-robin session trains each loss as train() does: same losses, same weights", async () => {
    const o = { ...DEFAULTS, steps: 4, batch: 2, size: 16, crop: 8, train: 6, test: 2 };
    const session = await createSession(o);
    const rounds = [];
    for (let i = 0; i < o.steps; i++) rounds.push(session.round());
    const data = makeDataset({ count: o.train, size: o.size, seed: o.seed }); // the session's training set
    for (const [k, trainer] of session.trainers.entries()) {
      const run = await train({ loss: trainer.loss, data, steps: o.steps, batch: o.batch, crop: o.crop, seed: o.seed, lr: o.lr });
      expect(rounds.map((r) => r[k])).toEqual(Array.from(run.losses));
      expect(Array.from(trainer.model.params)).toEqual(Array.from(run.model.params));
    }
    // The three runs differ (a shared optimiser, batch stream or buffer would make them agree or drift).
    expect(new Set(rounds[o.steps - 1]).size).toBe(3);
    session.free();
  });
});

describe('examples/lib/eval.mjs (approximate ODS F-score, 1-px tolerance, one-to-one)', () => {
  const size = 8;
  /** A horizontal ground-truth line in row 3, columns 1..6 (6 pixels). */
  function lineTruth(): Uint8Array {
    const g = new Uint8Array(size * size);
    for (let x = 1; x <= 6; x++) g[3 * size + x] = 1;
    return g;
  }
  function rows(values: Record<number, number>): Float64Array {
    const p = new Float64Array(size * size);
    for (const [row, v] of Object.entries(values)) for (let x = 1; x <= 6; x++) p[Number(row) * size + x] = v;
    return p;
  }

  it('a perfect or one-pixel-shifted prediction scores F = 1', () => {
    const g = lineTruth();
    expect(edgeFScoreApprox([Float64Array.from(g)], [g], size).f).toBe(1);
    const shifted = edgeFScoreApprox([rows({ 4: 1 })], [g], size);
    expect(shifted.f).toBe(1);
  });

  it('a prediction two pixels away matches nothing', () => {
    expect(edgeFScoreApprox([rows({ 5: 1 })], [lineTruth()], size).f).toBe(0);
  });

  it('a three-pixel-thick prediction pays for its extra pixels: P = 1/3, R = 1, F = 1/2', () => {
    const r = edgeFScoreApprox([rows({ 2: 1, 3: 1, 4: 1 })], [lineTruth()], size);
    expect(r.precision).toBeCloseTo(1 / 3, 12);
    expect(r.recall).toBe(1);
    expect(r.f).toBeCloseTo(0.5, 12);
  });

  it('the best threshold is chosen over the data set', () => {
    const g = lineTruth();
    const p = rows({ 3: 0.8 });
    p[7 * size + 7] = 0.9; // a confident false positive far from the line
    // t > 0.8: only the false positive, F = 0. t ≤ 0.8: P = 6/7, R = 1, F = 12/13.
    const r = edgeFScoreApprox([p], [g], size);
    expect(r.f).toBeCloseTo(12 / 13, 12);
    expect(r.threshold).toBeCloseTo(0.8, 12);
  });

  it('pools counts over images (ODS, not the mean of per-image scores)', () => {
    const g = lineTruth();
    const empty = new Uint8Array(size * size);
    // Image 1 perfect (6 matched of 6 predicted); image 2 has no edges and 2 false positives.
    const p2 = new Float64Array(size * size);
    p2[0] = 1;
    p2[9] = 1;
    const r = edgeFScoreApprox([Float64Array.from(g), p2], [g, empty], size);
    // P = 6/8, R = 6/6, F = 2·0.75/1.75 = 6/7.
    expect(r.f).toBeCloseTo(6 / 7, 12);
  });

  it('marking every pixel scores P = edge share, R = 1', () => {
    const g = lineTruth();
    const r = everythingEdgeFScore([g], size);
    expect(r.precision).toBeCloseTo(6 / 64, 12);
    expect(r.recall).toBe(1);
  });
});
