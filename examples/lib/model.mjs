// A small fully convolutional edge detector with a hand-written backward pass
// and Adam, in plain JavaScript over flat typed arrays (no framework):
//
//   x ─ conv3×3 (1→C) ─ ReLU ─ conv3×3 dil d (C→C) ─ ReLU ─ conv3×3 (C→C) ─ ReLU ─ conv1×1 (C→1) ─ logits
//
// Layout: a batch is N images of H×W, channels first, row-major: element
// (n, c, y, x) of the caller's arrays is at ((n·C + c)·H + y)·W + x. Inside, each
// plane carries a zero border (see `pad`), so the direct convolution loops read
// neighbours without bounds tests; convolutions are "same" (zero padding,
// stride 1). Buffers are allocated when the batch shape changes, never per step
// or per pixel. No Node-only APIs: runs in a Web Worker.
import { mulberry32, normal } from './rng.mjs';

/**
 * @typedef {Float32ArrayConstructor | Float64ArrayConstructor} FloatArrayType
 * @typedef {Float32Array | Float64Array} FloatArray
 */

/**
 * @typedef {object} LayerSpec
 * @property {number} cin input channels
 * @property {number} cout output channels
 * @property {number} k kernel side (odd)
 * @property {number} dilation spacing between kernel taps
 * @property {boolean} relu ReLU after the convolution
 */

/**
 * @typedef {object} Layer
 * @property {LayerSpec} spec
 * @property {FloatArray} w weights [cout, cin, k, k] (a view into Model.params)
 * @property {FloatArray} b biases [cout]
 * @property {FloatArray} dw dLoss/dw (a view into Model.grads)
 * @property {FloatArray} db dLoss/db
 */

/**
 * @typedef {object} ModelOptions
 * @property {number} [seed] PRNG seed of the initial weights (default 1)
 * @property {number} [channels] hidden channels C (default 8)
 * @property {number} [dilation] dilation of the second 3×3 convolution (default 2)
 * @property {number} [outputBias] initial bias of the last layer, e.g. logit(edge prior) (default 0)
 * @property {FloatArrayType} [arrayType] Float32Array (default) or Float64Array (for gradient checks)
 */

/**
 * @typedef {object} Model
 * @property {Layer[]} layers
 * @property {FloatArray} params every weight and bias, one flat array (what the optimiser updates)
 * @property {FloatArray} grads dLoss/dparams, same layout; `backward` adds into it
 * @property {(input: ArrayLike<number>, N: number, H: number, W: number, out: FloatArray) => void} forward
 *   runs the network on N single-channel H×W images (N·H·W values) and writes N·H·W logits to `out`;
 *   keeps the activations for `backward`
 * @property {(dLogits: ArrayLike<number>) => void} backward
 *   adds dLoss/dparams to `grads`, given dLoss/dlogits of the last `forward` (N·H·W values)
 * @property {() => void} zeroGrad sets `grads` to 0
 */

/**
 * Creates the network with He-initialised weights (normal, std √(2/fan_in),
 * fan_in = cin·k²; the last, linear layer uses √(1/fan_in)) and zero biases.
 * @param {ModelOptions} [options]
 * @returns {Model}
 */
export function createModel({ seed = 1, channels = 8, dilation = 2, outputBias = 0, arrayType = Float32Array } = {}) {
  /** @type {LayerSpec[]} */
  const specs = [
    { cin: 1, cout: channels, k: 3, dilation: 1, relu: true },
    { cin: channels, cout: channels, k: 3, dilation, relu: true },
    { cin: channels, cout: channels, k: 3, dilation: 1, relu: true },
    { cin: channels, cout: 1, k: 1, dilation: 1, relu: false },
  ];
  return createNetwork(specs, { seed, outputBias, arrayType });
}

/**
 * Creates a stack of "same" convolutions from explicit layer specs (the first
 * layer must have cin = 1, the last cout = 1).
 * @param {LayerSpec[]} specs
 * @param {{ seed?: number, outputBias?: number, arrayType?: FloatArrayType }} [options]
 * @returns {Model}
 */
export function createNetwork(specs, { seed = 1, outputBias = 0, arrayType = Float32Array } = {}) {
  if (specs.length === 0 || specs[0].cin !== 1 || specs[specs.length - 1].cout !== 1) {
    throw new RangeError('createNetwork: the first layer must take 1 channel and the last produce 1');
  }
  for (let l = 1; l < specs.length; l++) {
    if (specs[l].cin !== specs[l - 1].cout) throw new RangeError(`createNetwork: layer ${l} takes ${specs[l].cin} channels but layer ${l - 1} gives ${specs[l - 1].cout}`);
  }
  const { layers, params, grads } = createLayers(specs, { seed, arrayType });
  layers[layers.length - 1].b.fill(outputBias);

  // Every activation plane is stored with a zero border of `pad` pixels, wide
  // enough for the widest tap offset (r·dilation). Convolutions then read
  // neighbours without bounds tests, and the zero border is the "same" padding.
  let pad = 0;
  for (const s of specs) pad = Math.max(pad, ((s.k - 1) >> 1) * s.dilation);
  /** Activations of the last forward: acts[0] = input, acts[l + 1] = output of layer l (padded planes). */
  /** @type {FloatArray[]} */
  let acts = [];
  /** Per layer, scratch for the transposed, flipped weights of the input-gradient convolution. */
  const flipped = layers.map((layer) => new arrayType(layer.w.length));
  /** Two ping-pong buffers for dLoss/d(activation) during backward (padded planes, zero borders). */
  /** @type {FloatArray[]} */
  let deltas = [];
  /** @type {Geometry} */
  let geo = { N: 0, H: 0, W: 0, pad, Wp: 0, plane: 0 };

  /** Allocates the buffers when the batch shape changes. */
  function ensureBuffers(/** @type {number} */ N, /** @type {number} */ H, /** @type {number} */ W) {
    if (N === geo.N && H === geo.H && W === geo.W) return;
    const Wp = W + 2 * pad;
    const plane = (H + 2 * pad) * Wp;
    geo = { N, H, W, pad, Wp, plane };
    acts = [new arrayType(N * plane)];
    let widest = 1;
    for (const s of specs) {
      acts.push(new arrayType(N * s.cout * plane));
      widest = Math.max(widest, s.cin, s.cout);
    }
    deltas = [new arrayType(N * widest * plane), new arrayType(N * widest * plane)];
  }

  /** @type {Model['forward']} */
  function forward(input, N, H, W, out) {
    if (input.length !== N * H * W) throw new RangeError(`model.forward: input must have N·H·W = ${N * H * W} values; got ${input.length}`);
    if (out.length !== N * H * W) throw new RangeError(`model.forward: out must have N·H·W = ${N * H * W} values; got ${out.length}`);
    ensureBuffers(N, H, W);
    copyPlanes(input, 0, acts[0], geo, N, true);
    for (let l = 0; l < layers.length; l++) {
      const { spec, w, b } = layers[l];
      for (let n = 0; n < N; n++) {
        convForward(acts[l], n * spec.cin * geo.plane, acts[l + 1], n * spec.cout * geo.plane, spec, w, b, geo);
      }
    }
    copyPlanes(out, 0, acts[layers.length], geo, N, false);
  }

  /** @type {Model['backward']} */
  function backward(dLogits) {
    const { N, H, W, plane } = geo;
    if (N === 0) throw new Error('model.backward: call forward first');
    if (dLogits.length !== N * H * W) throw new RangeError(`model.backward: dLogits must have ${N * H * W} values; got ${dLogits.length}`);
    let dOut = deltas[0];
    dOut.fill(0);
    copyPlanes(dLogits, 0, dOut, geo, N, true);
    for (let l = layers.length - 1; l >= 0; l--) {
      const { spec, w, dw, db } = layers[l];
      const size = N * spec.cout * plane;
      if (spec.relu) {
        // ReLU: a = max(z, 0), da/dz = [a > 0] (a > 0 ⇔ z > 0), so dL/dz = dL/da · [a > 0].
        const a = acts[l + 1];
        for (let i = 0; i < size; i++) if (!(a[i] > 0)) dOut[i] = 0;
      }
      const dIn = l > 0 ? deltas[(layers.length - l) % 2] : null; // no gradient w.r.t. the image
      const wFlipped = dIn ? flipped[l] : null;
      if (dIn && wFlipped) {
        dIn.fill(0);
        transposeFlip(w, spec, wFlipped);
      }
      for (let n = 0; n < N; n++) {
        convBackward(acts[l], n * spec.cin * plane, dOut, n * spec.cout * plane, dIn, wFlipped, spec, dw, db, geo);
      }
      if (dIn) dOut = dIn;
    }
  }

  return { layers, params, grads, forward, backward, zeroGrad: () => grads.fill(0) };
}

/**
 * The layers of a network over one flat parameter array (and one for the
 * gradients), in `specs` order, then `extra` parameters of the caller's (0 at
 * first). Weights are random normal, std √(2/fan_in) (He) when a ReLU follows,
 * else √(1/fan_in) (LeCun), fan_in = cin·k²; biases are 0.
 * @param {LayerSpec[]} specs
 * @param {{ seed?: number, arrayType?: FloatArrayType, extra?: number }} [options]
 * @returns {{ layers: Layer[], params: FloatArray, grads: FloatArray }}
 */
export function createLayers(specs, { seed = 1, arrayType = Float32Array, extra = 0 } = {}) {
  let total = extra;
  for (const s of specs) total += s.cout * s.cin * s.k * s.k + s.cout;
  const params = new arrayType(total);
  const grads = new arrayType(total);
  /** @type {Layer[]} */
  const layers = [];
  let offset = 0;
  for (const spec of specs) {
    const nw = spec.cout * spec.cin * spec.k * spec.k;
    layers.push({
      spec,
      w: params.subarray(offset, offset + nw),
      b: params.subarray(offset + nw, offset + nw + spec.cout),
      dw: grads.subarray(offset, offset + nw),
      db: grads.subarray(offset + nw, offset + nw + spec.cout),
    });
    offset += nw + spec.cout;
  }
  const gauss = normal(mulberry32(seed));
  for (const { spec, w } of layers) {
    const std = Math.sqrt((spec.relu ? 2 : 1) / (spec.cin * spec.k * spec.k));
    for (let i = 0; i < w.length; i++) w[i] = std * gauss();
  }
  return { layers, params, grads };
}

/**
 * @typedef {object} Geometry
 * @property {number} N batch size
 * @property {number} H image height
 * @property {number} W image width
 * @property {number} pad zero border width
 * @property {number} Wp padded row length W + 2·pad
 * @property {number} plane padded plane size (H + 2·pad)·Wp
 */

/**
 * Copies N single-channel H×W images between a dense array and padded planes
 * (`toPadded`: dense → padded interior; otherwise padded interior → dense).
 * @param {ArrayLike<number> & { [i: number]: number }} dense
 * @param {number} denseOff
 * @param {FloatArray} padded
 * @param {Geometry} geo
 * @param {number} N
 * @param {boolean} toPadded
 */
export function copyPlanes(dense, denseOff, padded, geo, N, toPadded) {
  const { H, W, pad, Wp, plane } = geo;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) {
      const d = denseOff + (n * H + y) * W;
      const p = n * plane + (y + pad) * Wp + pad;
      if (toPadded) for (let x = 0; x < W; x++) padded[p + x] = dense[d + x];
      else for (let x = 0; x < W; x++) dense[d + x] = padded[p + x];
    }
  }
}

/**
 * One image through one convolution (+ ReLU):
 * z[co, y, x] = b[co] + Σ_ci Σ_ky,kx w[co, ci, ky, kx] · in[ci, y + (ky − r)·d, x + (kx − r)·d],
 * r = (k − 1)/2, taps outside the image read the zero border; out = ReLU(z) or z.
 * Only the interior of `out` is written, so its border stays 0.
 * @param {FloatArray} inp padded input planes
 * @param {number} inOff offset of this image's first input channel
 * @param {FloatArray} out padded output planes
 * @param {number} outOff offset of this image's first output channel
 * @param {LayerSpec} spec
 * @param {FloatArray} w
 * @param {FloatArray} b
 * @param {Geometry} geo
 */
export function convForward(inp, inOff, out, outOff, spec, w, b, geo) {
  const { cin, cout, k, dilation, relu } = spec;
  const { H, W, pad, Wp, plane } = geo;
  const first = pad * Wp + pad; // offset of pixel (0, 0) in a padded plane
  for (let co = 0; co < cout; co++) {
    const o = outOff + co * plane + first;
    for (let y = 0; y < H; y++) out.fill(b[co], o + y * Wp, o + y * Wp + W);
  }
  convAccumulate(inp, inOff, cin, out, outOff, cout, k, dilation, w, geo);
  if (relu) {
    for (let co = 0; co < cout; co++) {
      const o = outOff + co * plane + first;
      for (let y = 0; y < H; y++) {
        for (let p = o + y * Wp; p < o + y * Wp + W; p++) if (out[p] < 0) out[p] = 0;
      }
    }
  }
}

/**
 * The convolution sum without bias, added into the interior of `out`:
 * out[co, y, x] += Σ_ci Σ_ky,kx w[co, ci, ky, kx] · in[ci, y + (ky − r)·d, x + (kx − r)·d].
 * 3×3 kernels take a fast path: all nine taps per pixel in one pass, four
 * output channels at a time so that each input value is loaded once for four
 * channels (about twice as fast in V8 as one channel at a time).
 * @param {FloatArray} inp padded planes
 * @param {number} inOff
 * @param {number} cin
 * @param {FloatArray} out padded planes
 * @param {number} outOff
 * @param {number} cout
 * @param {number} k
 * @param {number} d dilation
 * @param {FloatArray} w [cout, cin, k, k]
 * @param {Geometry} geo
 */
function convAccumulate(inp, inOff, cin, out, outOff, cout, k, d, w, geo) {
  const { H, W, pad, Wp, plane } = geo;
  const first = pad * Wp + pad;
  const r = (k - 1) >> 1;
  const up = -d * Wp;
  const down = d * Wp;
  const k2 = k * k;
  let co = 0;
  if (k === 3) {
    for (; co + 4 <= cout; co += 4) {
      const o0 = outOff + co * plane + first;
      const o1 = o0 + plane;
      const o2 = o1 + plane;
      const o3 = o2 + plane;
      for (let ci = 0; ci < cin; ci++) {
        const i = inOff + ci * plane + first;
        const a = (co * cin + ci) * 9; // w[co, ci], then w[co + 1, ci] … 9·cin apart
        const b = a + cin * 9;
        const c = b + cin * 9;
        const e = c + cin * 9;
        const a0 = w[a], a1 = w[a + 1], a2 = w[a + 2], a3 = w[a + 3], a4 = w[a + 4], a5 = w[a + 5], a6 = w[a + 6], a7 = w[a + 7], a8 = w[a + 8];
        const b0 = w[b], b1 = w[b + 1], b2 = w[b + 2], b3 = w[b + 3], b4 = w[b + 4], b5 = w[b + 5], b6 = w[b + 6], b7 = w[b + 7], b8 = w[b + 8];
        const c0 = w[c], c1 = w[c + 1], c2 = w[c + 2], c3 = w[c + 3], c4 = w[c + 4], c5 = w[c + 5], c6 = w[c + 6], c7 = w[c + 7], c8 = w[c + 8];
        const e0 = w[e], e1 = w[e + 1], e2 = w[e + 2], e3 = w[e + 3], e4 = w[e + 4], e5 = w[e + 5], e6 = w[e + 6], e7 = w[e + 7], e8 = w[e + 8];
        for (let y = 0; y < H; y++) {
          const row = y * Wp;
          for (let x = 0; x < W; x++) {
            const p = i + row + x;
            const x0 = inp[p + up - d], x1 = inp[p + up], x2 = inp[p + up + d];
            const x3 = inp[p - d], x4 = inp[p], x5 = inp[p + d];
            const x6 = inp[p + down - d], x7 = inp[p + down], x8 = inp[p + down + d];
            const q = row + x;
            out[o0 + q] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3 + a4 * x4 + a5 * x5 + a6 * x6 + a7 * x7 + a8 * x8;
            out[o1 + q] += b0 * x0 + b1 * x1 + b2 * x2 + b3 * x3 + b4 * x4 + b5 * x5 + b6 * x6 + b7 * x7 + b8 * x8;
            out[o2 + q] += c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3 + c4 * x4 + c5 * x5 + c6 * x6 + c7 * x7 + c8 * x8;
            out[o3 + q] += e0 * x0 + e1 * x1 + e2 * x2 + e3 * x3 + e4 * x4 + e5 * x5 + e6 * x6 + e7 * x7 + e8 * x8;
          }
        }
      }
    }
    for (; co < cout; co++) {
      // The remaining output channels, one at a time, nine taps per pass.
      const o = outOff + co * plane + first;
      for (let ci = 0; ci < cin; ci++) {
        const i = inOff + ci * plane + first;
        const a = (co * cin + ci) * 9;
        const a0 = w[a], a1 = w[a + 1], a2 = w[a + 2], a3 = w[a + 3], a4 = w[a + 4], a5 = w[a + 5], a6 = w[a + 6], a7 = w[a + 7], a8 = w[a + 8];
        for (let y = 0; y < H; y++) {
          const row = y * Wp;
          for (let x = 0; x < W; x++) {
            const p = i + row + x;
            out[o + row + x] += a0 * inp[p + up - d] + a1 * inp[p + up] + a2 * inp[p + up + d]
              + a3 * inp[p - d] + a4 * inp[p] + a5 * inp[p + d]
              + a6 * inp[p + down - d] + a7 * inp[p + down] + a8 * inp[p + down + d];
          }
        }
      }
    }
    return;
  }
  // Any other kernel size: one tap at a time.
  for (; co < cout; co++) {
    const o = outOff + co * plane + first;
    for (let ci = 0; ci < cin; ci++) {
      const i = inOff + ci * plane + first;
      for (let ky = 0; ky < k; ky++) {
        for (let kx = 0; kx < k; kx++) {
          const wv = w[(co * cin + ci) * k2 + ky * k + kx];
          const off = (ky - r) * d * Wp + (kx - r) * d;
          for (let y = 0; y < H; y++) {
            const row = y * Wp;
            for (let x = 0; x < W; x++) out[o + row + x] += wv * inp[i + row + off + x];
          }
        }
      }
    }
  }
}

/**
 * Backward of {@link convForward} for one image, given dL/dz (ReLU already
 * applied; its border is 0):
 *   dL/db[co]              += Σ_y,x dz[co, y, x]
 *   dL/dw[co, ci, ky, kx]  += Σ_y,x dz[co, y, x] · in[ci, y + dy, x + dx]
 *   dL/din[ci, y, x]       += Σ_co Σ_ky,kx w[co, ci, ky, kx] · dz[co, y − dy, x − dx]   (when dIn is given)
 * with (dy, dx) = ((ky − r)·d, (kx − r)·d). The last line is itself a "same"
 * convolution of dz with the weights transposed (ci ↔ co) and flipped
 * (ky, kx → k−1−ky, k−1−kx); dz outside the image reads the zero border.
 * Sums run in float64 (JS numbers) before being added to the gradient arrays.
 * @param {FloatArray} inp padded input planes of the forward
 * @param {number} inOff
 * @param {FloatArray} dz padded dL/dz planes
 * @param {number} dzOff
 * @param {FloatArray | null} dIn padded dL/din planes (interior written)
 * @param {FloatArray | null} wFlipped scratch for the transposed, flipped weights (when dIn is given)
 * @param {LayerSpec} spec
 * @param {FloatArray} dw
 * @param {FloatArray} db
 * @param {Geometry} geo
 */
export function convBackward(inp, inOff, dz, dzOff, dIn, wFlipped, spec, dw, db, geo) {
  const { cin, cout, k, dilation: d } = spec;
  const { H, W, pad, Wp, plane } = geo;
  const r = (k - 1) >> 1;
  const first = pad * Wp + pad;
  for (let co = 0; co < cout; co++) {
    const o = dzOff + co * plane + first;
    let sb = 0;
    for (let y = 0; y < H; y++) {
      for (let p = o + y * Wp; p < o + y * Wp + W; p++) sb += dz[p];
    }
    db[co] += sb;
    for (let ci = 0; ci < cin; ci++) {
      const i = inOff + ci * plane + first;
      const wo = (co * cin + ci) * k * k;
      if (k === 3) {
        const up = -d * Wp;
        const down = d * Wp;
        let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
        for (let y = 0; y < H; y++) {
          const orow = o + y * Wp;
          const irow = i + y * Wp;
          for (let x = 0; x < W; x++) {
            const g = dz[orow + x];
            const c = irow + x;
            s00 += g * inp[c + up - d]; s01 += g * inp[c + up]; s02 += g * inp[c + up + d];
            s10 += g * inp[c - d]; s11 += g * inp[c]; s12 += g * inp[c + d];
            s20 += g * inp[c + down - d]; s21 += g * inp[c + down]; s22 += g * inp[c + down + d];
          }
        }
        dw[wo] += s00; dw[wo + 1] += s01; dw[wo + 2] += s02;
        dw[wo + 3] += s10; dw[wo + 4] += s11; dw[wo + 5] += s12;
        dw[wo + 6] += s20; dw[wo + 7] += s21; dw[wo + 8] += s22;
      } else {
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const off = (ky - r) * d * Wp + (kx - r) * d;
            let sw = 0;
            for (let y = 0; y < H; y++) {
              const orow = o + y * Wp;
              const irow = i + y * Wp + off;
              for (let x = 0; x < W; x++) sw += dz[orow + x] * inp[irow + x];
            }
            dw[wo + ky * k + kx] += sw;
          }
        }
      }
    }
  }
  if (dIn && wFlipped) convAccumulate(dz, dzOff, cout, dIn, inOff, cin, k, d, wFlipped, geo);
}

/**
 * Weights of the input-gradient convolution: wᵀ[ci, co, ky, kx] = w[co, ci, k−1−ky, k−1−kx].
 * @param {FloatArray} w [cout, cin, k, k]
 * @param {LayerSpec} spec
 * @param {FloatArray} dst [cin, cout, k, k]
 */
export function transposeFlip(w, spec, dst) {
  const { cin, cout, k } = spec;
  const k2 = k * k;
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let t = 0; t < k2; t++) dst[(ci * cout + co) * k2 + t] = w[(co * cin + ci) * k2 + (k2 - 1 - t)];
    }
  }
}

/**
 * @typedef {object} AdamOptions
 * @property {number} [lr] step size α (default 1e-3)
 * @property {number} [beta1] first-moment decay β₁ (default 0.9)
 * @property {number} [beta2] second-moment decay β₂ (default 0.999)
 * @property {number} [eps] ε (default 1e-8)
 */

/**
 * Adam (Kingma & Ba 2015) over a model's flat parameters:
 * m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − α·m̂/(√v̂ + ε),
 * with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).
 * @param {Model} model
 * @param {AdamOptions} [options]
 * @returns {{ step: (lr?: number) => void }} `step` applies one update from `model.grads` (optionally with another α)
 */
export function createAdam(model, { lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = {}) {
  const { params, grads } = model;
  const m = new Float64Array(params.length);
  const v = new Float64Array(params.length);
  let t = 0;
  return {
    step(alpha = lr) {
      t++;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let i = 0; i < params.length; i++) {
        const g = grads[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        params[i] -= (alpha * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    },
  };
}
