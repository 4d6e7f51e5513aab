// Exact Euclidean distance transforms (Felzenszwalb & Huttenlocher, "Distance
// Transforms of Sampled Functions", 2012) and the two distance-aware losses
// built on them: the boundary loss (Kervadec et al.) and the Hausdorff
// distance-transform loss (Karimi & Salcudean, as in MONAI's HausdorffDTLoss).
//
// Distance transform of one map of D0 × D1 × D2 pixels (row-major, D2
// contiguous; a 2-D map has D0 = 1, a 1-D map D0 = D1 = 1), spacing h_a per
// axis. With f(x) = 0 on the sites and +∞ elsewhere,
//   D(x)² = min_y Σ_a h_a²·(x_a − y_a)² + f(y),
// separable: the squared distance is the lower envelope of 1-D parabolas
// taken along one axis after the other. Everything is f64 (squared distances
// stay exact integers times h² far beyond any map size) and the result is
// rounded once to f32 after the square root.
//   axis 2 (first): f is 0 or +∞, so the 1-D transform of a line is
//     d(q)² = h2²·k², k the distance in pixels from q to the nearest site on
//     the line (+∞ without one), found by a forward and a backward sweep;
//   axes 1 and 0: FH's lower envelope of the parabolas w·(q − p)² + f(p),
//     w = h_a², over the finite sites p of the line (+∞ entries are no
//     parabola at all, so no ∞ − ∞ ever occurs); two parabolas p < r meet at
//       s = (f(r) − f(p)) / (2w·(r − p)) + (p + r)/2.
//     Lines along these axes are strided: they are gathered into a contiguous
//     buffer LINES at a time (LINES neighbouring columns share cache lines),
//     transformed, and scattered back.
// The transforms are scalar code: the envelope is data-dependent, and both
// builds run the same f64 operations, so they give the same bits.
//
// The loss kernels are element-wise (probabilities, terms, gradient) in the
// library's usual form: f32x4 lanes in the SIMD build, a scalar twin with the
// same f32 operations and the same lane-ordered summation in the scalar build.

import {
  vexp, sexp, vexpNonPositive, sexpNonPositive, vlog, slog, kConst, K_ONE, K_ZERO, pmax,
  vexpNegAbs, sexpNegAbs, vsigmoidFromTail, ssigmoidFromTail, vsigmoidSlopeFromTail, ssigmoidSlopeFromTail,
} from './simd';
import { ACT_NONE, ACT_SIGMOID, ACT_SOFTMAX, BLOCK, targetBytes, vtarget, starget } from './layout';

// What a map's mask holds: bytes (a pixel is set where the byte is nonzero)
// or f32 (set where the value is > 0.5).
export const MASK_U8 = 0;
export const MASK_F32 = 1;

// What distanceMap writes (fg = set pixels, bg = the others):
//   UNSIGNED: D(x) = distance to the nearest fg pixel (0 on fg); a map without
//     fg pixels is filled with `emptyValue`;
//   SIGNED (Kervadec's one_hot2dist): bg: +distance to the nearest fg pixel;
//     fg: −(distance to the nearest bg pixel − insideOffset); a map without fg
//     or without bg pixels is all 0;
//   FIELD (MONAI HausdorffDTLoss.distance_field): bg: distance to the nearest
//     fg pixel, fg: distance to the nearest bg pixel; a map without fg or
//     without bg pixels is all 0.
export const MODE_UNSIGNED = 0;
export const MODE_SIGNED = 1;
export const MODE_FIELD = 2;

// Losses.
export const KIND_BOUNDARY = 0;
export const KIND_HAUSDORFF = 1;
// How d^α is evaluated: d·d (α = 2), d (α = 1), or e^(α·log d) with 0^α = 0.
export const POW_SQUARE = 0;
export const POW_ONE = 1;
export const POW_GENERAL = 2;

// Columns gathered together in the strided passes.
const LINES: i32 = 8;

// ============================================================ transform ===

/** Bytes of scratch distanceMap needs for a map of S pixels whose longest axis has maxDim pixels. */
export function distanceScratchBytes(S: f64, maxDim: f64): f64 {
  // grid S f64; per gathered line: f and d (f64), v (i32); z (maxDim + 1) f64; 16 to align the grid.
  // (f64: a map over 2^28 pixels would overflow an i32 count of bytes.)
  return S * 8 + <f64>LINES * maxDim * 20 + (maxDim + 1) * 8 + 64;
}

// @ts-ignore: decorator
@inline function isSet(m: usize, maskType: i32, i: usize, invert: bool): bool {
  const set = maskType == MASK_U8 ? load<u8>(m + i) != 0 : load<f32>(m + (i << 2)) > <f32>0.5;
  return set != invert;
}

// First pass (axis 2): squared distance to the nearest site of each
// contiguous line, in the f64 grid. Returns the number of sites.
function sweepRows(m: usize, maskType: i32, grid: usize, rows: i32, D2: i32, w: f64, invert: bool): i64 {
  let sites: i64 = 0;
  for (let r = 0; r < rows; r++) {
    const base = <usize>r * <usize>D2;
    // Forward: distance (in pixels) to the last site at or before q.
    let last = -1;
    for (let q = 0; q < D2; q++) {
      const i = base + <usize>q;
      if (isSet(m, maskType, i, invert)) { last = q; sites++; }
      store<f64>(grid + (i << 3), last < 0 ? Infinity : <f64>(q - last));
    }
    // Backward: the next site at or after q, then d² = w·k².
    let next = -1;
    for (let q = D2 - 1; q >= 0; q--) {
      const i = base + <usize>q;
      const at = grid + (i << 3);
      let k = load<f64>(at);
      if (k == 0) next = q;
      else if (next >= 0 && <f64>(next - q) < k) k = <f64>(next - q);
      store<f64>(at, k == Infinity ? Infinity : w * k * k);
    }
  }
  return sites;
}

// FH 1-D squared distance transform of f (n entries, +∞ = no site) into d,
// with parabolas w·(q − p)² + f(p). v: the envelope's sites, z: its breaks.
function envelope(f: usize, d: usize, v: usize, z: usize, n: i32, w: f64): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = load<f64>(f + (<usize>q << 3));
    if (fq == Infinity) continue;
    if (k < 0) {
      k = 0;
      store<i32>(v, q);
      store<f64>(z, -Infinity);
      continue;
    }
    let s: f64 = 0;
    for (;;) {
      const p = load<i32>(v + (<usize>k << 2));
      // Where the parabolas of p and q meet (z[0] = −∞ stops the loop at k = 0).
      s = (fq - load<f64>(f + (<usize>p << 3))) / (2 * w * <f64>(q - p)) + <f64>(p + q) * 0.5;
      if (s > load<f64>(z + (<usize>k << 3))) break;
      k--;
    }
    k++;
    store<i32>(v + (<usize>k << 2), q);
    store<f64>(z + (<usize>k << 3), s);
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) store<f64>(d + (<usize>q << 3), Infinity);
    return;
  }
  store<f64>(z + (<usize>(k + 1) << 3), Infinity);
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (load<f64>(z + (<usize>(j + 1) << 3)) < <f64>q) j++;
    const p = load<i32>(v + (<usize>j << 2));
    const dq = <f64>(q - p);
    store<f64>(d + (<usize>q << 3), w * dq * dq + load<f64>(f + (<usize>p << 3)));
  }
}

// FH along an axis of `n` pixels, `stride` grid entries apart, for `outer`
// blocks of `inner` lines each (block b, line i starts at b·n·stride + i;
// stride = inner for a row-major grid).
function envelopeAxis(grid: usize, outer: i32, n: i32, inner: i32, w: f64, lines: usize, z: usize): void {
  const stride = <usize>inner;
  const F = lines, Dl = F + <usize>(LINES * n) * 8, V = Dl + <usize>(LINES * n) * 8;
  for (let b = 0; b < outer; b++) {
    const blockBase = <usize>b * <usize>n * stride;
    for (let i0 = 0; i0 < inner; i0 += LINES) {
      const cnt = min(LINES, inner - i0);
      // Gather cnt neighbouring lines: line j of the group into F + j·n.
      for (let q = 0; q < n; q++) {
        const row = grid + ((blockBase + <usize>q * stride + <usize>i0) << 3);
        for (let j = 0; j < cnt; j++) store<f64>(F + ((<usize>(j * n + q)) << 3), load<f64>(row + (<usize>j << 3)));
      }
      for (let j = 0; j < cnt; j++) {
        const off = <usize>(j * n) << 3;
        envelope(F + off, Dl + off, V + (<usize>(j * n) << 2), z, n, w);
      }
      for (let q = 0; q < n; q++) {
        const row = grid + ((blockBase + <usize>q * stride + <usize>i0) << 3);
        for (let j = 0; j < cnt; j++) store<f64>(row + (<usize>j << 3), load<f64>(Dl + ((<usize>(j * n + q)) << 3)));
      }
    }
  }
}

// Squared distances to the sites (set pixels, or unset ones with `invert`)
// of one map into the grid; returns the number of sites.
function squaredDistances(m: usize, maskType: i32, grid: usize, lines: usize, z: usize,
  D0: i32, D1: i32, D2: i32, h0: f64, h1: f64, h2: f64, invert: bool): i64 {
  const sites = sweepRows(m, maskType, grid, D0 * D1, D2, h2 * h2, invert);
  if (sites == 0) return 0;
  if (D1 > 1) envelopeAxis(grid, D0, D1, D2, h1 * h1, lines, z);
  if (D0 > 1) envelopeAxis(grid, 1, D0, D1 * D2, h0 * h0, lines, z);
  return sites;
}

/**
 * The distance map of one D0 × D1 × D2 map (see MODE_* above) into out (f32).
 * The bindings have checked that an f32 mask is finite (distanceCheck).
 */
export function distanceMap(m: usize, maskType: i32, out: usize, scratch: usize,
  D0: i32, D1: i32, D2: i32, h0: f64, h1: f64, h2: f64, mode: i32, emptyValue: f32, insideOffset: f64): void {
  const S = <usize>D0 * <usize>D1 * <usize>D2;
  const maxDim = max(D0, max(D1, D2));
  const grid = (scratch + 15) & ~15;
  const z = grid + (S << 3);
  const lines = z + (<usize>(maxDim + 1) << 3);
  const fg = squaredDistances(m, maskType, grid, lines, z, D0, D1, D2, h0, h1, h2, false);
  if (mode == MODE_UNSIGNED) {
    if (fg == 0) {
      for (let i: usize = 0; i < S; i++) store<f32>(out + (i << 2), emptyValue);
    } else {
      for (let i: usize = 0; i < S; i++) store<f32>(out + (i << 2), <f32>sqrt<f64>(load<f64>(grid + (i << 3))));
    }
    return;
  }
  if (fg == 0 || fg == <i64>S) {
    // No boundary: Kervadec's code leaves a class without pixels at 0, MONAI
    // skips maps that are all background or all foreground.
    memory.fill(out, 0, S << 2);
    return;
  }
  // Background pixels: distance to the nearest foreground pixel.
  for (let i: usize = 0; i < S; i++) {
    if (!isSet(m, maskType, i, false)) store<f32>(out + (i << 2), <f32>sqrt<f64>(load<f64>(grid + (i << 3))));
  }
  // Foreground pixels: distance to the nearest background pixel.
  squaredDistances(m, maskType, grid, lines, z, D0, D1, D2, h0, h1, h2, true);
  const signed = mode == MODE_SIGNED;
  for (let i: usize = 0; i < S; i++) {
    if (!isSet(m, maskType, i, false)) continue;
    const d = sqrt<f64>(load<f64>(grid + (i << 3)));
    store<f32>(out + (i << 2), <f32>(signed ? insideOffset - d : d));
  }
}

// ============================================================ validation ===

// Index of the first element that is NaN or ±∞ in an f32 array, or −1.
function firstNonFinite(p: usize, len: i32): i32 {
  let s = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO);
    for (; s + 16 <= len; s += 16) {
      const a = v128.load(p + (<usize>s << 2)), b = v128.load(p + (<usize>(s + 4) << 2));
      const c = v128.load(p + (<usize>(s + 8) << 2)), d = v128.load(p + (<usize>(s + 12) << 2));
      const ok = v128.and(v128.and(f32x4.eq(f32x4.sub(a, a), zero), f32x4.eq(f32x4.sub(b, b), zero)),
        v128.and(f32x4.eq(f32x4.sub(c, c), zero), f32x4.eq(f32x4.sub(d, d), zero)));
      if (!i32x4.all_true(ok)) break;
    }
  }
  for (; s < len; s++) {
    const x = load<f32>(p + (<usize>s << 2));
    if (x - x != 0) return s;
  }
  return -1;
}

// Checks of distanceCheck.
export const CHECK_FINITE = 0;  // f32: finite
export const CHECK_UNIT = 1;    // f32 or u8 (per `tgt`): in [0, 1]

/** Index of the first element of an f32 (or, with CHECK_UNIT, u8 per tgt) array that fails `check`, or −1. */
export function distanceCheck(p: usize, tgt: i32, len: i32, check: i32): i32 {
  if (check == CHECK_FINITE) return firstNonFinite(p, len);
  for (let s = 0; s < len; s++) {
    const v = starget(tgt, p, <usize>s);
    if (!(v >= 0 && v <= 1)) return s;
  }
  return -1;
}

// ========================================================== probabilities ===

/**
 * p = the activation of x, into P (N × C × S f32; with ACT_NONE P is x itself
 * and is only checked). Returns −1, or the index of the first input that is
 * not finite (ACT_NONE: not in [0, 1]); P's content is then undefined.
 *   sigmoid: p = σ(x) from t = e^−|x| (simd.ts), softmax over the C channels
 *   of a pixel: p_c = e^(x_c − m) / Σ_k e^(x_k − m), m = max_k x_k.
 */
export function distanceProbabilities(x: usize, P: usize, N: i32, C: i32, S: i32, act: i32): i32 {
  const total = N * C * S;
  if (act == ACT_NONE) {
    for (let i = 0; i < total; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      if (!(v >= 0 && v <= 1)) return i;
    }
    return -1;
  }
  const bad = firstNonFinite(x, total);
  if (bad >= 0) return bad;
  if (act == ACT_SIGMOID) {
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const one = kConst(K_ONE);
      for (; i + 4 <= total; i += 4) {
        const v = v128.load(x + (<usize>i << 2));
        const t = vexpNegAbs(v), r = f32x4.div(one, f32x4.add(one, t));
        v128.store(P + (<usize>i << 2), vsigmoidFromTail(v, t, r));
      }
    }
    for (; i < total; i++) {
      const v = load<f32>(x + (<usize>i << 2));
      const t = sexpNegAbs(v), r = <f32>1.0 / (<f32>1.0 + t);
      store<f32>(P + (<usize>i << 2), ssigmoidFromTail(v, t, r));
    }
    return -1;
  }
  // Softmax, pixel by pixel (channels S apart).
  const rowBytes = <usize>S << 2;
  for (let n = 0; n < N; n++) {
    const xs = x + <usize>n * <usize>C * rowBytes, ps = P + <usize>n * <usize>C * rowBytes;
    let s = 0;
    if (ASC_FEATURE_SIMD) {
      for (; s + 4 <= S; s += 4) {
        const o = <usize>s << 2;
        let m = v128.load(xs + o);
        for (let c = 1; c < C; c++) m = f32x4.pmax(m, v128.load(xs + <usize>c * rowBytes + o));
        let sum = kConst(K_ZERO);
        for (let c = 0; c < C; c++) {
          const e = vexpNonPositive(f32x4.sub(v128.load(xs + <usize>c * rowBytes + o), m));
          v128.store(ps + <usize>c * rowBytes + o, e);
          sum = f32x4.add(sum, e);
        }
        for (let c = 0; c < C; c++) {
          const at = ps + <usize>c * rowBytes + o;
          v128.store(at, f32x4.div(v128.load(at), sum));
        }
      }
    }
    for (; s < S; s++) {
      const o = <usize>s << 2;
      let m = load<f32>(xs + o);
      for (let c = 1; c < C; c++) m = pmax(m, load<f32>(xs + <usize>c * rowBytes + o));
      let sum: f32 = 0;
      for (let c = 0; c < C; c++) {
        const e = sexpNonPositive(load<f32>(xs + <usize>c * rowBytes + o) - m);
        store<f32>(ps + <usize>c * rowBytes + o, e);
        sum += e;
      }
      for (let c = 0; c < C; c++) {
        const at = ps + <usize>c * rowBytes + o;
        store<f32>(at, load<f32>(at) / sum);
      }
    }
  }
  return -1;
}

// ================================================================ terms ===
// Per element, with p the probability, g the target, φ = DG the target's map
// and DP the prediction's map:
//   boundary:   ℓ = p·φ,                      dℓ/dp = φ;
//   Hausdorff:  ℓ = (p − g)²·(d_G^α + d_P^α), dℓ/dp = 2(p − g)·(d_G^α + d_P^α).

// @ts-ignore: decorator
@inline function spow(d: f32, powMode: i32, alpha: f32): f32 {
  if (powMode == POW_SQUARE) return d * d;
  if (powMode == POW_ONE) return d;
  return d == 0 ? <f32>0 : sexp(alpha * slog(d));
}
// @ts-ignore: decorator
@inline function vpow(d: v128, powMode: i32, alpha: v128): v128 {
  if (powMode == POW_SQUARE) return f32x4.mul(d, d);
  if (powMode == POW_ONE) return d;
  const zero = kConst(K_ZERO);
  return v128.bitselect(zero, vexp(f32x4.mul(alpha, vlog(d))), f32x4.eq(d, zero));
}
// @ts-ignore: decorator
@inline function sweight(dg: f32, dp: f32, powMode: i32, alpha: f32): f32 {
  return spow(dg, powMode, alpha) + spow(dp, powMode, alpha);
}
// @ts-ignore: decorator
@inline function vweight(dg: v128, dp: v128, powMode: i32, alpha: v128): v128 {
  return f32x4.add(vpow(dg, powMode, alpha), vpow(dp, powMode, alpha));
}
// @ts-ignore: decorator
@inline function sterm(kind: i32, p: f32, g: f32, dg: f32, dp: f32, powMode: i32, alpha: f32): f32 {
  if (kind == KIND_BOUNDARY) return p * dg;
  const e = p - g;
  return (e * e) * sweight(dg, dp, powMode, alpha);
}
// @ts-ignore: decorator
@inline function vterm(kind: i32, p: v128, g: v128, dg: v128, dp: v128, powMode: i32, alpha: v128): v128 {
  if (kind == KIND_BOUNDARY) return f32x4.mul(p, dg);
  const e = f32x4.sub(p, g);
  return f32x4.mul(f32x4.mul(e, e), vweight(dg, dp, powMode, alpha));
}
// @ts-ignore: decorator
@inline function sslope(kind: i32, p: f32, g: f32, dg: f32, dp: f32, powMode: i32, alpha: f32): f32 {
  if (kind == KIND_BOUNDARY) return dg;
  const e = p - g;
  return (e + e) * sweight(dg, dp, powMode, alpha);
}
// @ts-ignore: decorator
@inline function vslope(kind: i32, p: v128, g: v128, dg: v128, dp: v128, powMode: i32, alpha: v128): v128 {
  if (kind == KIND_BOUNDARY) return dg;
  const e = f32x4.sub(p, g);
  return f32x4.mul(f32x4.add(e, e), vweight(dg, dp, powMode, alpha));
}

/**
 * Σ_s ℓ over each row (n, c), c ≥ cStart, into sums (f64, N × C; rows below
 * cStart untouched). Four f32 lanes (element s in lane s mod 4) flushed in
 * lane order into the f64 sum every BLOCK elements. DP is read only by the
 * Hausdorff loss, g only by it too (tgt: TGT_F32 or TGT_U8).
 */
export function distanceLossTerms(kind: i32, P: usize, g: usize, tgt: i32, DG: usize, DP: usize, sums: usize,
  N: i32, C: i32, S: i32, cStart: i32, powMode: i32, alpha: f32): void {
  const gsize = targetBytes(tgt);
  const hd = kind == KIND_HAUSDORFF;
  for (let n = 0; n < N; n++) {
    for (let c = cStart; c < C; c++) {
      const row = <usize>(n * C + c) * <usize>S;
      const pr = P + (row << 2), dgr = DG + (row << 2), dpr = DP + (row << 2), gr = g + row * gsize;
      let total: f64 = 0;
      let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
      let s = 0;
      if (ASC_FEATURE_SIMD) {
        const va = f32x4.splat(alpha);
        let acc = kConst(K_ZERO);
        for (; s + 4 <= S; s += 4) {
          const o = <usize>s << 2;
          const gv = hd ? vtarget(tgt, gr, <usize>s) : kConst(K_ZERO);
          const dpv = hd ? v128.load(dpr + o) : kConst(K_ZERO);
          acc = f32x4.add(acc, vterm(kind, v128.load(pr + o), gv, v128.load(dgr + o), dpv, powMode, va));
          if (<usize>(s + 4) % BLOCK == 0) {
            total += <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1)
              + <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
            acc = kConst(K_ZERO);
          }
        }
        a0 = f32x4.extract_lane(acc, 0); a1 = f32x4.extract_lane(acc, 1);
        a2 = f32x4.extract_lane(acc, 2); a3 = f32x4.extract_lane(acc, 3);
      } else {
        for (; s + 4 <= S; s += 4) {
          for (let l = 0; l < 4; l++) {
            const i = <usize>(s + l);
            const gv = hd ? starget(tgt, gr, i) : <f32>0;
            const dpv = hd ? load<f32>(dpr + (i << 2)) : <f32>0;
            const t = sterm(kind, load<f32>(pr + (i << 2)), gv, load<f32>(dgr + (i << 2)), dpv, powMode, alpha);
            if (l == 0) a0 += t; else if (l == 1) a1 += t; else if (l == 2) a2 += t; else a3 += t;
          }
          if (<usize>(s + 4) % BLOCK == 0) {
            total += <f64>a0 + <f64>a1 + <f64>a2 + <f64>a3;
            a0 = 0; a1 = 0; a2 = 0; a3 = 0;
          }
        }
      }
      // Tail (S mod 4 elements): lane s mod 4, in both builds.
      for (; s < S; s++) {
        const i = <usize>s;
        const gv = hd ? starget(tgt, gr, i) : <f32>0;
        const dpv = hd ? load<f32>(dpr + (i << 2)) : <f32>0;
        const t = sterm(kind, load<f32>(pr + (i << 2)), gv, load<f32>(dgr + (i << 2)), dpv, powMode, alpha);
        const l = s & 3;
        if (l == 0) a0 += t; else if (l == 1) a1 += t; else if (l == 2) a2 += t; else a3 += t;
      }
      total += <f64>a0 + <f64>a1 + <f64>a2 + <f64>a3;
      store<f64>(sums + (<usize>(n * C + c) << 3), total);
    }
  }
}

// ============================================================= gradient ===

/**
 * dL/dx into grad (N × C × S f32), with q = coef·dℓ/dp (coef: the
 * reduction's scale; q = 0 on channels below cStart):
 *   ACT_NONE:    dL/dx = q;
 *   ACT_SIGMOID: dL/dx = q·σ'(x), σ'(x) = t·r·r from t = e^−|x| (simd.ts);
 *   ACT_SOFTMAX: dL/dx_k = p_k·(q_k − Σ_c p_c·q_c) over the channels of the
 *                pixel (q is first written to grad, then read back).
 */
export function distanceLossGradient(kind: i32, x: usize, P: usize, g: usize, tgt: i32, DG: usize, DP: usize,
  grad: usize, N: i32, C: i32, S: i32, cStart: i32, act: i32, powMode: i32, alpha: f32, coef: f32): void {
  const gsize = targetBytes(tgt);
  const hd = kind == KIND_HAUSDORFF;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const row = <usize>(n * C + c) * <usize>S;
      const xr = x + (row << 2), pr = P + (row << 2), dgr = DG + (row << 2), dpr = DP + (row << 2);
      const gr = g + row * gsize, out = grad + (row << 2);
      if (c < cStart) {
        memory.fill(out, 0, <usize>S << 2);
        continue;
      }
      let s = 0;
      if (ASC_FEATURE_SIMD) {
        const va = f32x4.splat(alpha), vc = f32x4.splat(coef), one = kConst(K_ONE);
        for (; s + 4 <= S; s += 4) {
          const o = <usize>s << 2;
          const gv = hd ? vtarget(tgt, gr, <usize>s) : kConst(K_ZERO);
          const dpv = hd ? v128.load(dpr + o) : kConst(K_ZERO);
          let q = f32x4.mul(vc, vslope(kind, v128.load(pr + o), gv, v128.load(dgr + o), dpv, powMode, va));
          if (act == ACT_SIGMOID) {
            const t = vexpNegAbs(v128.load(xr + o));
            q = f32x4.mul(q, vsigmoidSlopeFromTail(t, f32x4.div(one, f32x4.add(one, t))));
          }
          v128.store(out + o, q);
        }
      }
      for (; s < S; s++) {
        const i = <usize>s, o = i << 2;
        const gv = hd ? starget(tgt, gr, i) : <f32>0;
        const dpv = hd ? load<f32>(dpr + o) : <f32>0;
        let q = coef * sslope(kind, load<f32>(pr + o), gv, load<f32>(dgr + o), dpv, powMode, alpha);
        if (act == ACT_SIGMOID) {
          const t = sexpNegAbs(load<f32>(xr + o));
          q = q * ssigmoidSlopeFromTail(t, <f32>1.0 / (<f32>1.0 + t));
        }
        store<f32>(out + o, q);
      }
    }
    if (act != ACT_SOFTMAX) continue;
    // Through the softmax: grad holds q; dot = Σ_c p_c·q_c (c ascending).
    const rowBytes = <usize>S << 2;
    const ps = P + <usize>n * <usize>C * rowBytes, gs = grad + <usize>n * <usize>C * rowBytes;
    let s = 0;
    if (ASC_FEATURE_SIMD) {
      for (; s + 4 <= S; s += 4) {
        const o = <usize>s << 2;
        let dot = kConst(K_ZERO);
        for (let c = 0; c < C; c++) {
          const co = <usize>c * rowBytes + o;
          dot = f32x4.add(dot, f32x4.mul(v128.load(ps + co), v128.load(gs + co)));
        }
        for (let c = 0; c < C; c++) {
          const co = <usize>c * rowBytes + o;
          v128.store(gs + co, f32x4.mul(v128.load(ps + co), f32x4.sub(v128.load(gs + co), dot)));
        }
      }
    }
    for (; s < S; s++) {
      const o = <usize>s << 2;
      let dot: f32 = 0;
      for (let c = 0; c < C; c++) {
        const co = <usize>c * rowBytes + o;
        dot += load<f32>(ps + co) * load<f32>(gs + co);
      }
      for (let c = 0; c < C; c++) {
        const co = <usize>c * rowBytes + o;
        store<f32>(gs + co, load<f32>(ps + co) * (load<f32>(gs + co) - dot));
      }
    }
  }
}
