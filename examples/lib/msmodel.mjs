// A small HED-like multi-scale edge detector (Xie & Tu 2015): coarse side
// maps, upsampled, are what make such networks draw thick edges under BCE, the
// flaw Deng et al.'s crisp-edge loss addresses. It has the Model interface of
// model.mjs, so that createAdam, train() and predict() take it:
//
//   x ─ conv3×3 1→C ─ ReLU ─ conv3×3 C→C ─ ReLU ─┬─ conv1×1 C→1 ─────────────────────────────────── s1
//                                                 └─ pool ─ conv3×3 C→2C ─ ReLU ─ conv3×3 2C→2C ─ ReLU ─┬─ conv1×1 ─ up ×2 ─ s2
//                                                                                                      └─ pool ─ (conv3×3 2C→2C ─ ReLU) ×2 ─ conv1×1 ─ up ×4 ─ s3
//   logits = f1·s1 + f2·s2 + f3·s3 + fb            (HED's fusion layer: four learned scalars)
//
// Pools are 2×2 with stride 2, max (default) or average, so H and W must be
// multiples of 4. Upsampling is bilinear with half-pixel centres (PyTorch's
// align_corners = false): output x reads the coarse row at u = max(0, (x + ½)/s − ½),
// taps ⌊u⌋ and min(⌊u⌋ + 1, w − 1) weighted 1 − (u − ⌊u⌋) and u − ⌊u⌋.
// Initial weights: He normal for the ReLU convolutions, LeCun normal for the
// 1×1 side convolutions, zero convolution biases, f1 = f2 = f3 = 1/3, fb = outputBias.
import { createLayers, copyPlanes, convForward, convBackward, transposeFlip } from './model.mjs';

/** @typedef {import('./model.mjs').Model} Model */
/** @typedef {import('./model.mjs').Layer} Layer */
/** @typedef {import('./model.mjs').LayerSpec} LayerSpec */
/** @typedef {import('./model.mjs').Geometry} Geometry */
/** @typedef {import('./model.mjs').FloatArray} FloatArray */

/**
 * @typedef {object} MultiScaleOptions
 * @property {number} [seed] PRNG seed of the initial weights (default 1)
 * @property {number} [channels] channels C of the full-resolution stage; the coarser stages have 2C (default 8)
 * @property {number} [outputBias] initial fusion bias fb, e.g. logit(edge prior) (default 0)
 * @property {'max' | 'avg'} [pool] 2×2 pooling between the stages (default 'max')
 * @property {Float32ArrayConstructor | Float64ArrayConstructor} [arrayType] Float32Array (default) or Float64Array
 */

/**
 * Creates the multi-scale network (8,839 parameters with C = 8).
 * @param {MultiScaleOptions} [options]
 * @returns {Model}
 */
export function createMultiScaleModel({ seed = 1, channels = 8, outputBias = 0, pool = 'max', arrayType = Float32Array } = {}) {
  if (pool !== 'max' && pool !== 'avg') throw new RangeError(`createMultiScaleModel: pool must be 'max' or 'avg'; got '${pool}'`);
  const C1 = channels;
  const C2 = 2 * channels;
  /** @type {(cin: number, cout: number, k: number, relu: boolean) => LayerSpec} */
  const spec = (cin, cout, k, relu) => ({ cin, cout, k, dilation: 1, relu });
  // Stage 1, side 1, stage 2, side 2, stage 3, side 3; the four fusion scalars follow in `params`.
  const specs = [
    spec(1, C1, 3, true), spec(C1, C1, 3, true), spec(C1, 1, 1, false),
    spec(C1, C2, 3, true), spec(C2, C2, 3, true), spec(C2, 1, 1, false),
    spec(C2, C2, 3, true), spec(C2, C2, 3, true), spec(C2, 1, 1, false),
  ];
  const { layers, params, grads } = createLayers(specs, { seed, arrayType, extra: 4 });
  const fuse = params.subarray(params.length - 4); // f1, f2, f3, fb
  const dfuse = grads.subarray(grads.length - 4);
  fuse.set([1 / 3, 1 / 3, 1 / 3, outputBias]);
  const [L1, L2, S1, L3, L4, S2, L5, L6, S3] = layers;
  const flipped = layers.map((l) => new arrayType(l.w.length));

  // Buffers of the current batch shape: padded planes (1-pixel zero border) per stage.
  let N = 0, H = 0, W = 0;
  /** @type {Geometry} */ let g1;
  /** @type {Geometry} */ let g2;
  /** @type {Geometry} */ let g3;
  /** @type {Record<string, FloatArray>} activations of the last forward */
  let A = {};
  /** @type {Record<string, FloatArray>} dLoss/d(activation) during backward */
  let D = {};
  /** @type {FloatArray} */ let du;
  /** @type {Int32Array} */ let arg1;
  /** @type {Int32Array} */ let arg2;
  /** @type {AxisTaps[]} */ let up2;
  /** @type {AxisTaps[]} */ let up4;

  /** @type {(n: number, h: number, w: number) => void} */
  function ensureBuffers(n, h, w) {
    if (n === N && h === H && w === W) return;
    if (h % 4 || w % 4) throw new RangeError(`multi-scale model: H and W must be multiples of 4; got ${h}×${w}`);
    N = n; H = h; W = w;
    /** @type {(h: number, w: number) => Geometry} */
    const geometry = (gh, gw) => ({ N, H: gh, W: gw, pad: 1, Wp: gw + 2, plane: (gh + 2) * (gw + 2) });
    g1 = geometry(H, W); g2 = geometry(H / 2, W / 2); g3 = geometry(H / 4, W / 4);
    /** @type {(c: number, g: Geometry) => FloatArray} */
    const planes = (c, g) => new arrayType(N * c * g.plane);
    const dense = () => new arrayType(N * H * W);
    A = {
      x: planes(1, g1), a1: planes(C1, g1), a2: planes(C1, g1), s1: planes(1, g1),
      p1: planes(C1, g2), a3: planes(C2, g2), a4: planes(C2, g2), s2: planes(1, g2),
      p2: planes(C2, g3), a5: planes(C2, g3), a6: planes(C2, g3), s3: planes(1, g3),
      u1: dense(), u2: dense(), u3: dense(),
    };
    D = {
      a1: planes(C1, g1), a2: planes(C1, g1), s1: planes(1, g1),
      p1: planes(C1, g2), a3: planes(C2, g2), a4: planes(C2, g2), s2: planes(1, g2),
      p2: planes(C2, g3), a5: planes(C2, g3), a6: planes(C2, g3), s3: planes(1, g3),
    };
    du = dense();
    arg1 = new Int32Array(N * C1 * g2.H * g2.W);
    arg2 = new Int32Array(N * C2 * g3.H * g3.W);
    up2 = [axisTaps(H, 2), axisTaps(W, 2)];
    up4 = [axisTaps(H, 4), axisTaps(W, 4)];
  }

  /** @type {(layer: Layer, inp: FloatArray, out: FloatArray, g: Geometry) => void} */
  function conv(layer, inp, out, g) {
    const s = layer.spec;
    for (let n = 0; n < N; n++) convForward(inp, n * s.cin * g.plane, out, n * s.cout * g.plane, s, layer.w, layer.b, g);
  }

  /**
   * Backward of {@link conv}: masks dOut by the ReLU (dL/dz = dL/da·[a > 0]), adds
   * dL/dw and dL/db, and adds dL/din into dIn unless it is null.
   * @type {(l: number, inp: FloatArray, out: FloatArray, dOut: FloatArray, dIn: FloatArray | null, g: Geometry) => void}
   */
  function convBack(l, inp, out, dOut, dIn, g) {
    const { spec: s, w, dw, db } = layers[l];
    if (s.relu) for (let i = 0; i < dOut.length; i++) if (!(out[i] > 0)) dOut[i] = 0;
    const wf = dIn ? flipped[l] : null;
    if (wf) transposeFlip(w, s, wf);
    for (let n = 0; n < N; n++) convBackward(inp, n * s.cin * g.plane, dOut, n * s.cout * g.plane, dIn, wf, s, dw, db, g);
  }

  /** @type {Model['forward']} */
  function forward(input, n, h, w, out) {
    if (input.length !== n * h * w) throw new RangeError(`model.forward: input must have N·H·W = ${n * h * w} values; got ${input.length}`);
    if (out.length !== n * h * w) throw new RangeError(`model.forward: out must have N·H·W = ${n * h * w} values; got ${out.length}`);
    ensureBuffers(n, h, w);
    copyPlanes(input, 0, A.x, g1, N, true);
    conv(L1, A.x, A.a1, g1); conv(L2, A.a1, A.a2, g1); conv(S1, A.a2, A.s1, g1);
    poolForward(A.a2, A.p1, arg1, C1, g1, g2, N, pool);
    conv(L3, A.p1, A.a3, g2); conv(L4, A.a3, A.a4, g2); conv(S2, A.a4, A.s2, g2);
    poolForward(A.a4, A.p2, arg2, C2, g2, g3, N, pool);
    conv(L5, A.p2, A.a5, g3); conv(L6, A.a5, A.a6, g3); conv(S3, A.a6, A.s3, g3);
    copyPlanes(A.u1, 0, A.s1, g1, N, false);
    bilinear(A.s2, g2, A.u2, H, W, up2, N, false);
    bilinear(A.s3, g3, A.u3, H, W, up4, N, false);
    const [f1, f2, f3, fb] = fuse;
    for (let i = 0; i < out.length; i++) out[i] = f1 * A.u1[i] + f2 * A.u2[i] + f3 * A.u3[i] + fb;
  }

  /** @type {Model['backward']} */
  function backward(dLogits) {
    if (N === 0) throw new Error('model.backward: call forward first');
    if (dLogits.length !== N * H * W) throw new RangeError(`model.backward: dLogits must have ${N * H * W} values; got ${dLogits.length}`);
    // Fusion: dL/df_k = Σ dL/dz · s_k, dL/dfb = Σ dL/dz, dL/ds_k = f_k · dL/dz.
    let d1 = 0, d2 = 0, d3 = 0, db = 0;
    for (let i = 0; i < du.length; i++) {
      const g = dLogits[i];
      d1 += g * A.u1[i]; d2 += g * A.u2[i]; d3 += g * A.u3[i]; db += g;
    }
    dfuse[0] += d1; dfuse[1] += d2; dfuse[2] += d3; dfuse[3] += db;
    for (const k of Object.keys(D)) D[k].fill(0);
    /** @type {(f: number) => FloatArray} */
    const scaled = (f) => { for (let i = 0; i < du.length; i++) du[i] = f * dLogits[i]; return du; };
    copyPlanes(scaled(fuse[0]), 0, D.s1, g1, N, true);
    bilinear(D.s2, g2, scaled(fuse[1]), H, W, up2, N, true);
    bilinear(D.s3, g3, scaled(fuse[2]), H, W, up4, N, true);
    convBack(8, A.a6, A.s3, D.s3, D.a6, g3);
    convBack(7, A.a5, A.a6, D.a6, D.a5, g3);
    convBack(6, A.p2, A.a5, D.a5, D.p2, g3);
    poolBackward(D.p2, D.a4, arg2, C2, g2, g3, N, pool); // a4 feeds both pool 2 and side 2
    convBack(5, A.a4, A.s2, D.s2, D.a4, g2);
    convBack(4, A.a3, A.a4, D.a4, D.a3, g2);
    convBack(3, A.p1, A.a3, D.a3, D.p1, g2);
    poolBackward(D.p1, D.a2, arg1, C1, g1, g2, N, pool); // a2 feeds both pool 1 and side 1
    convBack(2, A.a2, A.s1, D.s1, D.a2, g1);
    convBack(1, A.a1, A.a2, D.a2, D.a1, g1);
    convBack(0, A.x, A.a1, D.a1, null, g1); // no gradient w.r.t. the image
  }

  return { layers, params, grads, forward, backward, zeroGrad: () => grads.fill(0) };
}

/**
 * 2×2 stride-2 pooling of N·C padded planes (geometry gi) into planes of geometry go.
 * Max pooling records in `arg` where each maximum came from (the first of equal values).
 * @param {FloatArray} inp
 * @param {FloatArray} out
 * @param {Int32Array} arg
 * @param {number} C
 * @param {Geometry} gi
 * @param {Geometry} go
 * @param {number} N
 * @param {'max' | 'avg'} mode
 */
function poolForward(inp, out, arg, C, gi, go, N, mode) {
  let k = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let y = 0; y < go.H; y++) {
      for (let x = 0; x < go.W; x++, k++) {
        const p = nc * gi.plane + (2 * y + 1) * gi.Wp + 2 * x + 1;
        const q = nc * go.plane + (y + 1) * go.Wp + x + 1;
        if (mode === 'avg') {
          out[q] = 0.25 * (inp[p] + inp[p + 1] + inp[p + gi.Wp] + inp[p + gi.Wp + 1]);
          continue;
        }
        let best = p;
        if (inp[p + 1] > inp[best]) best = p + 1;
        if (inp[p + gi.Wp] > inp[best]) best = p + gi.Wp;
        if (inp[p + gi.Wp + 1] > inp[best]) best = p + gi.Wp + 1;
        arg[k] = best;
        out[q] = inp[best];
      }
    }
  }
}

/**
 * Backward of {@link poolForward}: adds dL/d(input) into dIn (max: all of it to the
 * maximum's source; average: a quarter to each of the four).
 * @param {FloatArray} dOut
 * @param {FloatArray} dIn
 * @param {Int32Array} arg
 * @param {number} C
 * @param {Geometry} gi
 * @param {Geometry} go
 * @param {number} N
 * @param {'max' | 'avg'} mode
 */
function poolBackward(dOut, dIn, arg, C, gi, go, N, mode) {
  let k = 0;
  for (let nc = 0; nc < N * C; nc++) {
    for (let y = 0; y < go.H; y++) {
      for (let x = 0; x < go.W; x++, k++) {
        const g = dOut[nc * go.plane + (y + 1) * go.Wp + x + 1];
        if (mode === 'max') {
          dIn[arg[k]] += g;
          continue;
        }
        const p = nc * gi.plane + (2 * y + 1) * gi.Wp + 2 * x + 1;
        const h = 0.25 * g;
        dIn[p] += h; dIn[p + 1] += h; dIn[p + gi.Wp] += h; dIn[p + gi.Wp + 1] += h;
      }
    }
  }
}

/**
 * @typedef {object} AxisTaps bilinear taps of one axis: output i reads (1 − w1[i])·c[i0[i]] + w1[i]·c[i1[i]]
 * @property {Int32Array} i0
 * @property {Int32Array} i1
 * @property {Float64Array} w1
 */

/**
 * Half-pixel bilinear taps for an output axis of length n upsampled by s.
 * @param {number} n
 * @param {number} s
 * @returns {AxisTaps}
 */
function axisTaps(n, s) {
  const m = n / s;
  const i0 = new Int32Array(n), i1 = new Int32Array(n), w1 = new Float64Array(n);
  for (let x = 0; x < n; x++) {
    const u = Math.max(0, (x + 0.5) / s - 0.5);
    const f = Math.floor(u);
    i0[x] = Math.min(f, m - 1);
    i1[x] = Math.min(f + 1, m - 1);
    w1[x] = u - f;
  }
  return { i0, i1, w1 };
}

/**
 * Bilinear upsampling of N single-channel padded planes (geometry g) into dense
 * N×H×W arrays (`transpose` false), or its transpose, the backward pass: each
 * dense gradient entry added into the planes' interiors with its four tap weights.
 * @param {FloatArray} planes
 * @param {Geometry} g
 * @param {FloatArray} dense
 * @param {number} H
 * @param {number} W
 * @param {AxisTaps[]} taps rows, then columns
 * @param {number} N
 * @param {boolean} transpose
 */
function bilinear(planes, g, dense, H, W, [ty, tx], N, transpose) {
  for (let n = 0; n < N; n++) {
    const b = n * g.plane + g.Wp + 1;
    for (let y = 0; y < H; y++) {
      const r0 = b + ty.i0[y] * g.Wp, r1 = b + ty.i1[y] * g.Wp, wy = ty.w1[y];
      const d = (n * H + y) * W;
      for (let x = 0; x < W; x++) {
        const c0 = tx.i0[x], c1 = tx.i1[x], wx = tx.w1[x];
        if (transpose) {
          const v = dense[d + x];
          const top = (1 - wy) * v, bottom = wy * v;
          planes[r0 + c0] += (1 - wx) * top; planes[r0 + c1] += wx * top;
          planes[r1 + c0] += (1 - wx) * bottom; planes[r1 + c1] += wx * bottom;
        } else {
          const top = (1 - wx) * planes[r0 + c0] + wx * planes[r0 + c1];
          const bottom = (1 - wx) * planes[r1 + c0] + wx * planes[r1 + c1];
          dense[d + x] = (1 - wy) * top + wy * bottom;
        }
      }
    }
  }
}
