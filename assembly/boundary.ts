// The BSDS500 boundary benchmark for one image (evaluation_bdry_image.m of
// the BSR package, and edgesEvalImg.m of Dollár's edges toolbox), and the
// non-maximum suppression of soft edge maps (edgesNmsMex.cpp).
//
// boundaryCounts, for each threshold t_k (ascending):
//   B      = [p ≥ t_k]                       (the benchmark's bmap = pb >= thresh)
//   B      = thin(B)                         (bwmorph(B, 'thin', Inf); assembly/thin.ts)
//   for each annotation G_a:
//     M_a  = one-to-one matching of B to G_a within r = maxDist·√(H² + W²) pixels
//            (pairs with dx² + dy² ≤ r²; assembly/match.ts)
//   cntR   = Σ_a |M_a|                       (matched annotation pixels, over annotations)
//   sumR   = Σ_a |G_a|
//   cntP   = |∪_a {predicted pixels matched in M_a}|
//   sumP   = |B|
// The bindings turn these counts into ODS, OIS and AP (src/boundary.ts).
//
// Per image, once: the pixel offsets within the radius (sorted by distance)
// and, per annotation, every pixel's list of annotated pixels in radius; then
// per threshold: binarize, thin, list the predicted pixels, match them
// against each annotation. A threshold whose binary map has as many pixels as
// the previous one has the same map (thresholds ascend) and copies its counts.
// Everything is integer work on byte images except the threshold test, made
// on f32 with the cutoff c = the smallest f32 ≥ t (for an f32 p, p ≥ t ⇔
// p ≥ c), sixteen lanes at a time in the SIMD build.

import { thinImage } from './thin';
import { setMatchLayout, resetStamps, matchAnnotation } from './match';

export const BOUNDARY_BAD_INPUT = 1;  // a prediction value is NaN or ±Infinity
export const BOUNDARY_BAD_TARGET = 2; // an annotation byte is not 0 or 1

// @ts-ignore: decorator
@inline function align16f(n: f64): f64 { return Math.ceil(n / 16) * 16; }

// The geometry and scratch layout of one image, set by geometry() and
// layout() (module globals: the kernels allocate nothing, the bindings own
// all memory above __heap_base).
let radius2: f64 = 0;     // r², r = maxDist · √(H² + W²)
let padY = 1, padX = 1;   // rows / columns of zeros around the image: ≥ ⌊r⌋ (≤ H − 1, W − 1) and ≥ 1
let stride: usize = 0;    // pixels per padded row
let padded: usize = 0;    // pixels of the padded image
let maxD2: usize = 0;     // the largest squared distance in radius
let nOffsets = 0;         // pixel offsets (dy, dx) with dy² + dx² ≤ r²
// Byte offsets of the arrays in scratch.
let oOffsets: usize = 0, oOffsetLevel: usize = 0, oD2Start: usize = 0, oLevelStart: usize = 0;
let oImg: usize = 0, oFlags: usize = 0, oMatchedAny: usize = 0;
let oMateP: usize = 0, oMateG: usize = 0, oVisit: usize = 0;
let oPredList: usize = 0, oOrder: usize = 0, oLevelOf: usize = 0;
let oStackP: usize = 0, oStackN: usize = 0, oVisited: usize = 0;
let oStart: usize = 0, oEntries: usize = 0;

/** The padded layout and the offsets in radius for an H × W image. */
function geometry(H: i32, W: i32, maxDist: f64): void {
  const r = maxDist * Math.sqrt(<f64>H * <f64>H + <f64>W * <f64>W);
  radius2 = r * r;
  const reach = <i32>min(Math.floor(r), 1e9);
  padY = max(1, min(reach, H - 1));
  padX = max(1, min(reach, W - 1));
  stride = <usize>(W + 2 * padX);
  padded = stride * <usize>(H + 2 * padY);
  const far = <f64>padY * <f64>padY + <f64>padX * <f64>padX;
  maxD2 = <usize>min(far, Math.floor(radius2));
  nOffsets = 0;
  for (let dy = -padY; dy <= padY; dy++) {
    for (let dx = -padX; dx <= padX; dx++) {
      if (<f64>dy * <f64>dy + <f64>dx * <f64>dx <= radius2) nOffsets++;
    }
  }
}

/**
 * The scratch layout (after geometry) for A annotations with gtPixels set
 * pixels in all; returns its bytes. Sizes are summed in f64: a layout past
 * 4 GiB is reported as such (the bindings then fail to allocate it) instead
 * of wrapping around.
 */
function layout(H: i32, W: i32, A: i32, gtPixels: f64): f64 {
  const N = <f64>H * <f64>W;
  const P = <f64>padded;
  const nOff = <f64>nOffsets;
  let at: f64 = 0;
  oOffsets = <usize>at; at = align16f(at + nOff * 4);
  oOffsetLevel = <usize>at; at = align16f(at + nOff * 4);
  oD2Start = <usize>at; at = align16f(at + (<f64>maxD2 + 2) * 4);
  oLevelStart = <usize>at; at = align16f(at + (nOff + 1) * 4);
  oImg = <usize>at; at = align16f(at + P);
  oFlags = <usize>at; at = align16f(at + P);
  oMatchedAny = <usize>at; at = align16f(at + N);
  oMateP = <usize>at; at = align16f(at + P * 4);
  oMateG = <usize>at; at = align16f(at + P * 4);
  oVisit = <usize>at; at = align16f(at + P * 4);
  oPredList = <usize>at; at = align16f(at + N * 4);
  oOrder = <usize>at; at = align16f(at + N * 4);
  oLevelOf = <usize>at; at = align16f(at + N * 4);
  oStackP = <usize>at; at = align16f(at + (N + 1) * 4);
  oStackN = <usize>at; at = align16f(at + (N + 1) * 4);
  oVisited = <usize>at; at = align16f(at + N * 4);
  oStart = <usize>at; at = align16f(at + <f64>A * (P + 1) * 4);
  oEntries = <usize>at; at = align16f(at + gtPixels * nOff * 4);
  return at;
}

/** Set bytes of the A annotations (u8 [A][H·W]). */
function countSet(gt: usize, A: i32, H: i32, W: i32): f64 {
  const n = <usize>A * <usize>H * <usize>W;
  let count: f64 = 0;
  for (let i: usize = 0; i < n; i++) if (load<u8>(gt + i) != 0) count++;
  return count;
}

/**
 * Bytes of scratch boundaryCounts needs for an H × W image and its A
 * annotations (already in memory: the neighbour lists take 4 bytes per
 * annotated pixel and offset in radius).
 */
export function boundaryScratchBytes(gt: usize, A: i32, H: i32, W: i32, maxDist: f64): f64 {
  geometry(H, W, maxDist);
  return layout(H, W, A, countSet(gt, A, H, W));
}

/** The smallest f32 ≥ t (t finite): for an f32 p, p ≥ t ⇔ p ≥ cutoff(t). */
function cutoffF32(t: f64): f32 {
  let c = <f32>t;
  if (<f64>c >= t) return c;
  if (c == 0) return reinterpret<f32>(<u32>1); // the smallest positive subnormal
  // One f32 step towards +Infinity.
  const bits = reinterpret<u32>(c);
  return reinterpret<f32>(c > 0 ? bits + 1 : bits - 1);
}

/**
 * Writes [p ≥ cutoff] (0/1 bytes) for the H × W f32 image `pred` into the
 * interior of the padded byte image; returns the number of set pixels.
 */
function binarize(pred: usize, H: i32, W: i32, img: usize, origin: usize, S: usize, cutoff: f32): i32 {
  let count = 0;
  for (let y = 0; y < H; y++) {
    const src = pred + (<usize>y * <usize>W << 2);
    const dst = img + origin + <usize>y * S;
    let x = 0;
    if (ASC_FEATURE_SIMD) {
      const cut = f32x4.splat(cutoff);
      const one = i8x16.splat(1);
      let acc = i32x4.splat(0);
      for (; x + 16 <= W; x += 16) {
        const at = src + (<usize>x << 2);
        const m0 = f32x4.ge(v128.load(at), cut), m1 = f32x4.ge(v128.load(at, 16), cut);
        const m2 = f32x4.ge(v128.load(at, 32), cut), m3 = f32x4.ge(v128.load(at, 48), cut);
        // True lanes are −1: subtracting counts them.
        acc = i32x4.sub(i32x4.sub(i32x4.sub(i32x4.sub(acc, m0), m1), m2), m3);
        const bytes = i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3));
        v128.store(dst + <usize>x, v128.and(bytes, one));
      }
      count += i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    }
    for (; x < W; x++) {
      const on = load<f32>(src + (<usize>x << 2)) >= cutoff;
      store<u8>(dst + <usize>x, on ? 1 : 0);
      count += on ? 1 : 0;
    }
  }
  return count;
}

/**
 * Counts for every threshold of one image (see the top of this file).
 *   pred        f32 [H·W], row-major
 *   gt          u8 [A][H·W], 0/1
 *   thresholds  f64 [K], strictly increasing
 *   out         f64 [K][4]: cntR, sumR, cntP, sumP
 * Returns 0, or BOUNDARY_BAD_INPUT / BOUNDARY_BAD_TARGET (then out is untouched).
 */
export function boundaryCounts(pred: usize, gt: usize, A: i32, H: i32, W: i32,
  thresholds: usize, K: i32, maxDist: f64, thin: i32, out: usize, scratch: usize): i32 {
  const N = <usize>H * <usize>W;
  // Validation: finite predictions, 0/1 annotations.
  for (let i: usize = 0; i < N; i++) {
    const v = load<f32>(pred + (i << 2));
    if (v - v != 0) return BOUNDARY_BAD_INPUT;
  }
  for (let i: usize = 0; i < <usize>A * N; i++) {
    if (load<u8>(gt + i) > 1) return BOUNDARY_BAD_TARGET;
  }

  geometry(H, W, maxDist);
  layout(H, W, A, countSet(gt, A, H, W));
  const S = stride, P = padded;
  const origin = <usize>padY * S + <usize>padX;
  const img = scratch + oImg, flags = scratch + oFlags, matchedAny = scratch + oMatchedAny;
  const predList = scratch + oPredList;
  const offsets = scratch + oOffsets, offsetLevel = scratch + oOffsetLevel;

  // Offsets in radius, sorted by squared distance (a stable counting sort,
  // so ties stay in raster order); level = rank of the distinct squared distance.
  const d2Start = scratch + oD2Start;
  memory.fill(d2Start, 0, (maxD2 + 2) << 2);
  for (let dy = -padY; dy <= padY; dy++) {
    for (let dx = -padX; dx <= padX; dx++) {
      const d2 = <f64>dy * <f64>dy + <f64>dx * <f64>dx;
      if (d2 > radius2) continue;
      const at = d2Start + ((<usize>d2 + 1) << 2);
      store<i32>(at, load<i32>(at) + 1);
    }
  }
  let nLevels = 0;
  for (let d: usize = 0; d <= maxD2; d++) {
    const at = d2Start + ((d + 1) << 2);
    if (load<i32>(at) > 0) nLevels++;
    store<i32>(at, load<i32>(at) + load<i32>(at - 4));
  }
  for (let dy = -padY; dy <= padY; dy++) {
    for (let dx = -padX; dx <= padX; dx++) {
      const d2 = <f64>dy * <f64>dy + <f64>dx * <f64>dx;
      if (d2 > radius2) continue;
      const bucket = d2Start + (<usize>d2 << 2);
      const k = load<i32>(bucket);
      store<i32>(bucket, k + 1);
      store<i32>(offsets + (<usize>k << 2), dy * <i32>S + dx);
      store<i32>(offsetLevel + (<usize>k << 2), <i32>d2); // squared distance, ranked below
    }
  }
  {
    let level = -1, last = -1;
    for (let k = 0; k < nOffsets; k++) {
      const at = offsetLevel + (<usize>k << 2);
      const d2 = load<i32>(at);
      if (d2 != last) { level++; last = d2; }
      store<i32>(at, level);
    }
  }

  // Neighbour lists of each annotation: for every pixel p, the offset indices
  // k (ascending) with p + offsets[k] annotated, in compressed rows
  // start[p] .. start[p + 1] (a counting sort over (g − offsets[k], k)).
  let sumR: f64 = 0;
  let entries = scratch + oEntries;
  const gtList = scratch + oVisited; // scratch use before the matching
  for (let a = 0; a < A; a++) {
    const start = scratch + oStart + <usize>a * (P + 1) * 4;
    const src = gt + <usize>a * N;
    let n = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (load<u8>(src + <usize>y * <usize>W + <usize>x) == 0) continue;
        store<i32>(gtList + (<usize>n << 2), <i32>(origin + <usize>y * S + <usize>x));
        n++;
      }
    }
    sumR += <f64>n;
    memory.fill(start, 0, (P + 1) << 2);
    for (let k = 0; k < nOffsets; k++) {
      const off = load<i32>(offsets + (<usize>k << 2));
      for (let i = 0; i < n; i++) {
        const at = start + (<usize>(load<i32>(gtList + (<usize>i << 2)) - off + 1) << 2);
        store<i32>(at, load<i32>(at) + 1);
      }
    }
    for (let p: usize = 0; p < P; p++) {
      const at = start + ((p + 1) << 2);
      store<i32>(at, load<i32>(at) + load<i32>(at - 4));
    }
    for (let k = 0; k < nOffsets; k++) {
      const off = load<i32>(offsets + (<usize>k << 2));
      for (let i = 0; i < n; i++) {
        const at = start + (<usize>(load<i32>(gtList + (<usize>i << 2)) - off) << 2);
        const e = load<i32>(at);
        store<i32>(entries + (<usize>e << 2), k);
        store<i32>(at, e + 1);
      }
    }
    // The fill advanced start[p] to start[p + 1]: shift back.
    for (let p = P; p > 0; p--) store<i32>(start + (p << 2), load<i32>(start + ((p - 1) << 2)));
    store<i32>(start, 0);
    entries += <usize>n * <usize>nOffsets * 4;
  }

  memory.fill(img, 0, P);
  memory.fill(flags, 0, P);
  memory.fill(scratch + oMateP, 0xff, P * 4);
  memory.fill(scratch + oMateG, 0xff, P * 4);
  memory.fill(scratch + oVisit, 0, P * 4);
  resetStamps();
  setMatchLayout(offsets, offsetLevel, nOffsets, nLevels, scratch + oLevelStart,
    scratch + oMateP, scratch + oMateG, scratch + oVisit, scratch + oOrder, scratch + oLevelOf,
    scratch + oStackP, scratch + oStackN, scratch + oVisited);

  let previousSet = -1;
  for (let k = 0; k < K; k++) {
    const row = out + (<usize>k << 5);
    const nSet = binarize(pred, H, W, img, origin, S, cutoffF32(load<f64>(thresholds + (<usize>k << 3))));
    // Thresholds ascend, so {p ≥ t_k} ⊆ {p ≥ t_(k−1)}: the same count means the same map.
    if (nSet == previousSet) {
      memory.copy(row, row - 32, 32);
      continue;
    }
    previousSet = nSet;
    if (thin != 0 && nSet > 0) {
      thinImage(img, origin, H, W, S, flags, scratch + oOrder, scratch + oLevelOf, scratch + oStackP);
    }
    // The predicted pixels, in raster order.
    let nPred = 0;
    if (nSet > 0) {
      for (let y = 0; y < H; y++) {
        const rowAt = origin + <usize>y * S;
        for (let x = 0; x < W; x++) {
          const p = rowAt + <usize>x;
          if (load<u8>(img + p) != 0) { store<i32>(predList + (<usize>nPred << 2), <i32>p); nPred++; }
        }
      }
    }
    let cntR: f64 = 0, cntP: f64 = 0;
    if (nPred > 0) {
      memory.fill(matchedAny, 0, <usize>nPred);
      let entriesAt = scratch + oEntries;
      for (let a = 0; a < A; a++) {
        const start = scratch + oStart + <usize>a * (P + 1) * 4;
        cntR += <f64>matchAnnotation(start, entriesAt, predList, nPred, matchedAny, P * 4);
        entriesAt += <usize>(load<i32>(start + (P << 2))) << 2;
      }
      for (let i = 0; i < nPred; i++) cntP += <f64>load<u8>(matchedAny + <usize>i);
    }
    store<f64>(row, cntR);
    store<f64>(row, sumR, 8);
    store<f64>(row, cntP, 16);
    store<f64>(row, <f64>nPred, 24);
  }
  return 0;
}

// ------------------------------------------------------------------- NMS ---
// Non-maximum suppression of a soft edge map E (H × W, row-major; x = column,
// y = row), as the Structured Edge toolbox does it (edgesDetect.m, then
// edgesNmsMex.cpp), the step HED/RCF evaluations run before the benchmark:
//   S          = convTri(E, smooth): the separable triangle filter
//                f_j = (smooth + 1 − |j|)/(smooth + 1)², |j| ≤ smooth, with
//                symmetric padding (…, e1, e0 | e0, e1, …)
//   Ox, Oy     = gradient(S); Oxx = ∂x Ox, Oxy = ∂x Oy, Oyy = ∂y Oy, where
//                ∂ is MATLAB's gradient: (f(i+1) − f(i−1))/2 inside, one-sided at the ends
//   O          = mod(atan(Oyy·sign(−Oxy)/(Oxx + 1e−5)), π)   (the edge normal)
//   out(x, y)  = 0 if E(x, y)·m < E(x + d·cos O, y + d·sin O) for some d in [−r, r] \ {0}
//                (bilinear interpolation, coordinates clamped to [0, W − 1.001] × [0, H − 1.001]),
//                E(x, y) otherwise
//   border     out *= min(i, s′)/s′ per side, i = the distance in pixels to the side,
//                s′ = min(s, ⌊W/2⌋, ⌊H/2⌋) (columns first, then rows, as the C code)
// Deviations, all documented in the bindings: the smoothing, gradients,
// orientation and interpolation are computed in f64 (the toolbox uses f32);
// cos O and sin O come from v = Oyy·sign(−Oxy)/(Oxx + 1e−5) as
// (±1, |v|)/√(1 + v²) (− for v < 0), which equals (cos, sin) of
// mod(atan v, π) without a transcendental call; v = ±Infinity or |v| > 1e150
// gives (0, 1), v = NaN gives (1, 0); a 1-pixel-wide dimension interpolates
// at 0 (the toolbox reads past the image there).

// @ts-ignore: decorator
@inline function reflect(i: i32, n: i32): i32 {
  const period = 2 * n;
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}
// @ts-ignore: decorator
@inline function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function f32At(base: usize, i: i32): f32 { return load<f32>(base + (<usize>i << 2)); }

/** MATLAB's gradient of the f64 map src along x or y, into dst. */
function gradient(src: usize, dst: usize, H: i32, W: i32, alongY: bool): void {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) store<f64>(dst + (<usize>(y * W + x) << 3), derivative(src, H, W, x, y, alongY));
  }
}

/** Bytes of scratch edgeNms needs for an H × W map. */
export function edgeNmsScratchBytes(H: i32, W: i32): f64 {
  return <f64>H * <f64>W * 32;
}

/** E at (x, y) by bilinear interpolation (edgesNmsMex.cpp's interp). */
// @ts-ignore: decorator
@inline function interpolate(E: usize, H: i32, W: i32, x: f64, y: f64): f64 {
  const xHi = max<f64>(0, <f64>W - 1.001), yHi = max<f64>(0, <f64>H - 1.001);
  x = x < 0 ? 0 : (x > xHi ? xHi : x);
  y = y < 0 ? 0 : (y > yHi ? yHi : y);
  const x0 = <i32>x, y0 = <i32>y;
  const x1 = min(x0 + 1, W - 1), y1 = min(y0 + 1, H - 1);
  const dx0 = x - <f64>x0, dy0 = y - <f64>y0, dx1 = 1 - dx0, dy1 = 1 - dy0;
  return <f64>f32At(E, y0 * W + x0) * dx1 * dy1 + <f64>f32At(E, y0 * W + x1) * dx0 * dy1 +
    <f64>f32At(E, y1 * W + x0) * dx1 * dy0 + <f64>f32At(E, y1 * W + x1) * dx0 * dy0;
}

/**
 * Non-maximum suppression of the f32 edge map E (H × W) into out (see above).
 * Returns 0, or BOUNDARY_BAD_INPUT if E holds NaN or ±Infinity (out untouched).
 */
export function edgeNms(E: usize, out: usize, H: i32, W: i32, radius: i32, border: i32,
  multiplier: f64, smooth: i32, scratch: usize): i32 {
  const N = H * W;
  for (let i = 0; i < N; i++) {
    const v = f32At(E, i);
    if (v - v != 0) return BOUNDARY_BAD_INPUT;
  }
  const bytes = <usize>N << 3;
  const A = scratch, B = scratch + bytes, C = scratch + 2 * bytes, D = scratch + 3 * bytes;

  // S = convTri(E, smooth) into B (horizontal pass into A, then vertical).
  const norm = <f64>(smooth + 1) * <f64>(smooth + 1);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum: f64 = 0;
      for (let j = -smooth; j <= smooth; j++) {
        sum += (<f64>(smooth + 1 - abs(j)) / norm) * <f64>f32At(E, y * W + reflect(x + j, W));
      }
      store<f64>(A + (<usize>(y * W + x) << 3), sum);
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let sum: f64 = 0;
      for (let j = -smooth; j <= smooth; j++) {
        sum += (<f64>(smooth + 1 - abs(j)) / norm) * f64At(A, reflect(y + j, H) * W + x);
      }
      store<f64>(B + (<usize>(y * W + x) << 3), sum);
    }
  }
  // Ox into A, Oy into C; then (cos O, sin O) into B and D.
  gradient(B, A, H, W, false);
  gradient(B, C, H, W, true);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const oxx = derivative(A, H, W, x, y, false);
      const oxy = derivative(C, H, W, x, y, false);
      const oyy = derivative(C, H, W, x, y, true);
      const sgn: f64 = -oxy > 0 ? 1 : (-oxy < 0 ? -1 : 0);
      const v = oyy * sgn / (oxx + 1e-5);
      let c: f64, s: f64;
      if (v != v) { c = 1; s = 0; }
      else {
        const a = abs(v);
        if (a > 1e150) { c = 0; s = 1; }
        else {
          const h = Math.sqrt(1 + a * a);
          c = 1 / h; s = a / h;
          if (v < 0) c = -c;
        }
      }
      store<f64>(B + (<usize>i << 3), c);
      store<f64>(D + (<usize>i << 3), s);
    }
  }
  // Suppression.
  const m = <f32>multiplier;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const e = f32At(E, i);
      let keep = e;
      if (e != 0) {
        const em = <f64>(e * m);
        const c = f64At(B, i), s = f64At(D, i);
        for (let d = -radius; d <= radius; d++) {
          if (d == 0) continue;
          if (em < interpolate(E, H, W, <f64>x + <f64>d * c, <f64>y + <f64>d * s)) { keep = 0; break; }
        }
      }
      store<f32>(out + (<usize>i << 2), keep);
    }
  }
  // Border: fade the outer s′ columns, then rows, to 0.
  let s = border;
  if (s > W / 2) s = W / 2;
  if (s > H / 2) s = H / 2;
  for (let x = 0; x < s; x++) {
    const f = <f32>x / <f32>s;
    for (let y = 0; y < H; y++) {
      const a = out + (<usize>(y * W + x) << 2), b = out + (<usize>(y * W + W - 1 - x) << 2);
      store<f32>(a, load<f32>(a) * f);
      store<f32>(b, load<f32>(b) * f);
    }
  }
  for (let y = 0; y < s; y++) {
    const f = <f32>y / <f32>s;
    for (let x = 0; x < W; x++) {
      const a = out + (<usize>(y * W + x) << 2), b = out + (<usize>((H - 1 - y) * W + x) << 2);
      store<f32>(a, load<f32>(a) * f);
      store<f32>(b, load<f32>(b) * f);
    }
  }
  return 0;
}

/** MATLAB's gradient of F at one pixel, along x or y. */
// @ts-ignore: decorator
@inline function derivative(F: usize, H: i32, W: i32, x: i32, y: i32, alongY: bool): f64 {
  const n = alongY ? H : W;
  const at = alongY ? y : x;
  const step = alongY ? W : 1;
  const i = y * W + x;
  if (n == 1) return 0;
  if (at == 0) return f64At(F, i + step) - f64At(F, i);
  if (at == n - 1) return f64At(F, i) - f64At(F, i - step);
  return (f64At(F, i + step) - f64At(F, i - step)) / 2;
}
