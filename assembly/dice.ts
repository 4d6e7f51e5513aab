// Soft Dice family: pass 1 (diceSums) reads input and target once and
// accumulates, per (sample, class), I = Σ p·g, SP = Σ p (or Σ p²), SG = Σ g
// (or Σ g²); the epilogue (diceEpilogue) turns the sums into losses and into
// per-entry gradient coefficients; pass 2 (diceGradient) writes dLoss/dInput.
//
// Layout of one call: N samples, C channels, L elements per channel row, rows
// `stride` elements apart: element (n, c, s) of the input sits at
// x + ((n·C + c)·stride + s)·4. The bindings pass stride = L for arrays that
// live in Wasm memory (zero copy) and N = 1, stride = chunk length for chunks
// staged from JS memory. Rows are cut into blocks of BLOCK elements; f32x4
// lane accumulators are flushed into the f64 sums at the end of each block, and
// the bindings make chunk lengths a multiple of BLOCK, so a chunked call and a
// one-shot call add exactly the same numbers in the same order.
//
// The last L mod 8 elements of a row are copied into a zero-padded scratch
// "tail block" of 8 lanes, so that loads never run past an array; invalid lanes
// are masked out. The scalar build (no SIMD) visits elements one by one but
// keeps the 8 lane accumulators of the SIMD build (two f32x4 sets, elements
// 0–3 and 4–7 of each group of 8) and flushes them in the same order, so both
// builds produce the same bits.

import {
  vexp, sexp, vsigmoid, ssigmoid, vsigmoidSlope, ssigmoidSlope,
  kConst, K_ONE, K_ZERO, loadU8x4, loadU16x4, pmax,
} from './simd';

export const ACT_NONE = 0;
export const ACT_SIGMOID = 1;
export const ACT_SOFTMAX = 2;

export const TGT_F32 = 0; // dense f32 target
export const TGT_U8 = 1;  // dense u8 target (0/1)
export const IDX_U8 = 2;  // class indices
export const IDX_U16 = 3;
export const IDX_I32 = 4;

export const MASK_NONE = 0;
export const MASK_PIXEL = 1;   // one byte per (n, s), broadcast over channels
export const MASK_ELEMENT = 2; // one byte per (n, c, s)

export const BLOCK: i32 = 1024;

const FLAG_INPUT: i32 = 1;  // NaN or ±Infinity in the input
const FLAG_TARGET: i32 = 2; // dense target outside [0, 1], or index outside [0, C)

// Lane numbers 0..7, for the validity mask of a tail block.
const IOTA: usize = memory.data<i32>([0, 1, 2, 3, 4, 5, 6, 7], 16);
// Scalar build: the 8 lanes of the three accumulators (I, SP, SG).
const LANES: usize = memory.data(3 * 8 * 4, 16);

// ---------------------------------------------------------------- scratch ---
// Per call, the bindings provide `diceScratchBytes(C)` bytes of scratch:
//   E  C×BLOCK f32   softmax probabilities of the current block
//   R  BLOCK f32     1/Σexp of each pixel (pass 1) / Σ_c p_c·q_c (pass 2)
//   XT C×8 f32, GT C×8×4 bytes, TT 8×4 bytes, MT C×8 bytes, OT C×8 f32: tail block
// @ts-ignore: decorator
@inline function offR(C: i32): usize { return <usize>C * BLOCK * 4; }
// @ts-ignore: decorator
@inline function offXT(C: i32): usize { return offR(C) + BLOCK * 4; }
// @ts-ignore: decorator
@inline function offGT(C: i32): usize { return offXT(C) + <usize>C * 32; }
// @ts-ignore: decorator
@inline function offTT(C: i32): usize { return offGT(C) + <usize>C * 32; }
// @ts-ignore: decorator
@inline function offMT(C: i32): usize { return offTT(C) + 32; }
// @ts-ignore: decorator
@inline function offOT(C: i32): usize { return offMT(C) + <usize>C * 8; }

export function diceScratchBytes(C: i32): i32 {
  return <i32>(offOT(C) + <usize>C * 32);
}

// @ts-ignore: decorator
@inline function targetBytes(tgt: i32): usize {
  return tgt == TGT_F32 || tgt == IDX_I32 ? 4 : tgt == IDX_U16 ? 2 : 1;
}
// @ts-ignore: decorator
@inline function isIndex(tgt: i32): bool { return tgt >= IDX_U8; }

// ------------------------------------------------------------ lane loads ---
// Four lanes starting at element o of a row.

// @ts-ignore: decorator
@inline function vtarget(tgt: i32, row: usize, o: usize): v128 {
  if (tgt == TGT_F32) return v128.load(row + (o << 2));
  return f32x4.convert_i32x4_s(loadU8x4(row + o));
}
// @ts-ignore: decorator
@inline function vindex(tgt: i32, row: usize, o: usize): v128 {
  if (tgt == IDX_U8) return loadU8x4(row + o);
  if (tgt == IDX_U16) return loadU16x4(row + (o << 1));
  return v128.load(row + (o << 2));
}
// @ts-ignore: decorator
@inline function vmaskKeep(row: usize, o: usize): v128 {
  return i32x4.ne(loadU8x4(row + o), i32x4.splat(0));
}
// @ts-ignore: decorator
@inline function starget(tgt: i32, row: usize, o: usize): f32 {
  if (tgt == TGT_F32) return load<f32>(row + (o << 2));
  return <f32>load<u8>(row + o);
}
// @ts-ignore: decorator
@inline function sindex(tgt: i32, row: usize, o: usize): i32 {
  if (tgt == IDX_U8) return <i32>load<u8>(row + o);
  if (tgt == IDX_U16) return <i32>load<u16>(row + (o << 1));
  return load<i32>(row + (o << 2));
}

// ------------------------------------------------------------- softmax ----
// p_c = e^(x_c − m) / Σ_k e^(x_k − m), m = max_k x_k, for the pixels [from, to)
// of a block; written to E (row c at E + c·BLOCK, element s − from). Returns
// FLAG_INPUT if a logit is not finite.
// @ts-ignore: decorator
@inline function softmaxBlock(x: usize, stride: usize, C: i32, from: usize, to: usize, E: usize, R: usize): i32 {
  if (ASC_FEATURE_SIMD) {
    let ok = i32x4.splat(-1);
    for (let s = from; s < to; s += 4) {
      const j = (s - from) << 2;
      let xv = v128.load(x + (s << 2));
      ok = v128.and(ok, f32x4.eq(f32x4.sub(xv, xv), kConst(K_ZERO)));
      let m = xv;
      for (let c = 1; c < C; c++) {
        xv = v128.load(x + ((<usize>c * stride + s) << 2));
        ok = v128.and(ok, f32x4.eq(f32x4.sub(xv, xv), kConst(K_ZERO)));
        m = f32x4.pmax(m, xv);
      }
      let z = kConst(K_ZERO);
      for (let c = 0; c < C; c++) {
        const e = vexp(f32x4.sub(v128.load(x + ((<usize>c * stride + s) << 2)), m));
        v128.store(E + <usize>c * BLOCK * 4 + j, e);
        z = f32x4.add(z, e);
      }
      const r = f32x4.div(kConst(K_ONE), z);
      for (let c = 0; c < C; c++) {
        const at = E + <usize>c * BLOCK * 4 + j;
        v128.store(at, f32x4.mul(v128.load(at), r));
      }
    }
    return i32x4.all_true(ok) ? 0 : FLAG_INPUT;
  } else {
    let flags = 0;
    for (let s = from; s < to; s++) {
      const j = (s - from) << 2;
      let m: f32 = load<f32>(x + (s << 2));
      for (let c = 0; c < C; c++) {
        const xv = load<f32>(x + ((<usize>c * stride + s) << 2));
        if (xv - xv != 0) flags = FLAG_INPUT;
        m = pmax(m, xv);
      }
      let z: f32 = 0;
      for (let c = 0; c < C; c++) {
        const e = sexp(load<f32>(x + ((<usize>c * stride + s) << 2)) - m);
        store<f32>(E + <usize>c * BLOCK * 4 + j, e);
        z += e;
      }
      const r: f32 = <f32>1.0 / z;
      for (let c = 0; c < C; c++) {
        const at = E + <usize>c * BLOCK * 4 + j;
        store<f32>(at, load<f32>(at) * r);
      }
    }
    return flags;
  }
}

// -------------------------------------------------------------- pass 1 ----
// Adds the sums of rows [from, to) of one sample into stats (f64, [C][3]).
// `valid` is the number of real lanes of a tail block (8 elsewhere).
// @ts-ignore: decorator
@inline function sumsBlock(
  act: i32, tgt: i32, maskMode: i32, tail: bool,
  x: usize, g: usize, m: usize, stride: usize, C: i32, from: usize, to: usize, valid: i32,
  ignore: i32, hasIgnore: bool, squared: bool, stats: usize, scratch: usize,
): i32 {
  const E = scratch;
  let flags = act == ACT_SOFTMAX ? softmaxBlock(x, stride, C, from, to, E, scratch + offR(C)) : 0;
  const gsize = targetBytes(tgt);
  for (let c = 0; c < C; c++) {
    const xr = x + <usize>c * stride * 4;
    const er = E + <usize>c * BLOCK * 4 - (from << 2);
    const gr = isIndex(tgt) ? g : g + <usize>c * stride * gsize;
    const mr = maskMode == MASK_ELEMENT ? m + <usize>c * stride : m;
    let sI: f64 = 0, sP: f64 = 0, sG: f64 = 0;
    if (ASC_FEATURE_SIMD) {
      const one = kConst(K_ONE);
      const sq = i32x4.splat(squared ? -1 : 0);
      const cv = i32x4.splat(c), Cv = i32x4.splat(C), ign = i32x4.splat(ignore);
      const ignOn = i32x4.splat(hasIgnore ? -1 : 0);
      const validA = i32x4.lt_s(v128.load(IOTA), i32x4.splat(valid));
      const validB = i32x4.lt_s(v128.load(IOTA, 16), i32x4.splat(valid));
      let iA = kConst(K_ZERO), iB = iA, pA = iA, pB = iA, gA = iA, gB = iA;
      let ok = i32x4.splat(-1);
      for (let s = from; s < to; s += 8) {
        for (let h: usize = 0; h < 8; h += 4) {
          const o = s + h;
          let p: v128, gv: v128;
          let keep = h == 0 ? validA : validB;
          if (act == ACT_SOFTMAX) {
            p = v128.load(er + (o << 2));
          } else {
            const xv = v128.load(xr + (o << 2));
            ok = v128.and(ok, f32x4.eq(f32x4.sub(xv, xv), kConst(K_ZERO)));
            p = act == ACT_SIGMOID ? vsigmoid(vexp(f32x4.neg(xv))) : xv;
          }
          if (isIndex(tgt)) {
            const t = vindex(tgt, gr, o);
            const ignored = v128.and(i32x4.eq(t, ign), ignOn);
            ok = v128.and(ok, v128.or(i32x4.lt_u(t, Cv), ignored));
            keep = v128.andnot(keep, ignored);
            gv = v128.and(i32x4.eq(t, cv), one);
          } else {
            gv = vtarget(tgt, gr, o);
            ok = v128.and(ok, v128.and(f32x4.ge(gv, kConst(K_ZERO)), f32x4.le(gv, one)));
          }
          if (maskMode != MASK_NONE) keep = v128.and(keep, vmaskKeep(mr, o));
          if (tail || maskMode != MASK_NONE || isIndex(tgt)) {
            p = v128.and(p, keep);
            gv = v128.and(gv, keep);
          }
          const pg = f32x4.mul(p, gv);
          const pp = f32x4.mul(p, v128.bitselect(p, one, sq));
          const gg = f32x4.mul(gv, v128.bitselect(gv, one, sq));
          if (h == 0) { iA = f32x4.add(iA, pg); pA = f32x4.add(pA, pp); gA = f32x4.add(gA, gg); }
          else { iB = f32x4.add(iB, pg); pB = f32x4.add(pB, pp); gB = f32x4.add(gB, gg); }
        }
      }
      if (!i32x4.all_true(ok)) {
        // Which flag: recompute cheaply on this block only (rare path).
        flags |= blockFlags(act, tgt, xr, gr, from, to, valid, tail, C, ignore, hasIgnore);
      }
      sI = lanesToF64(f32x4.add(iA, iB));
      sP = lanesToF64(f32x4.add(pA, pB));
      sG = lanesToF64(f32x4.add(gA, gB));
    } else {
      memory.fill(LANES, 0, 3 * 8 * 4);
      for (let s = from; s < to; s++) {
        const k = (s - from) & 7;
        let keep = <i32>(s - from) < valid || !tail;
        let p: f32, gv: f32;
        if (act == ACT_SOFTMAX) {
          p = load<f32>(er + (s << 2));
        } else {
          const xv = load<f32>(xr + (s << 2));
          if (xv - xv != 0) flags |= FLAG_INPUT;
          p = act == ACT_SIGMOID ? ssigmoid(sexp(-xv)) : xv;
        }
        if (isIndex(tgt)) {
          const t = sindex(tgt, gr, s);
          const ignored = hasIgnore && t == ignore;
          if (<u32>t >= <u32>C && !ignored) flags |= FLAG_TARGET;
          if (ignored) keep = false;
          gv = t == c ? 1 : 0;
        } else {
          gv = starget(tgt, gr, s);
          if (!(gv >= 0 && gv <= 1)) flags |= FLAG_TARGET;
        }
        if (maskMode != MASK_NONE && load<u8>(mr + s) == 0) keep = false;
        if (!keep) { p = 0; gv = 0; }
        const lane = LANES + (<usize>k << 2);
        store<f32>(lane, load<f32>(lane) + p * gv);
        store<f32>(lane, load<f32>(lane, 32) + p * (squared ? p : 1), 32);
        store<f32>(lane, load<f32>(lane, 64) + gv * (squared ? gv : 1), 64);
      }
      sI = lanesToF64Scalar(LANES);
      sP = lanesToF64Scalar(LANES + 32);
      sG = lanesToF64Scalar(LANES + 64);
    }
    const st = stats + <usize>c * 24;
    store<f64>(st, load<f64>(st) + sI);
    store<f64>(st, load<f64>(st, 8) + sP, 8);
    store<f64>(st, load<f64>(st, 16) + sG, 16);
  }
  return flags;
}

// Σ of the four lanes in f64, in lane order.
// @ts-ignore: decorator
@inline function lanesToF64(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)
    + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}
// The scalar twin: lanes k and k + 4 play the two SIMD accumulator sets.
// @ts-ignore: decorator
@inline function lanesToF64Scalar(a: usize): f64 {
  return <f64>(load<f32>(a) + load<f32>(a, 16)) + <f64>(load<f32>(a, 4) + load<f32>(a, 20))
    + <f64>(load<f32>(a, 8) + load<f32>(a, 24)) + <f64>(load<f32>(a, 12) + load<f32>(a, 28));
}

// Which validation flags a block raises (SIMD build, only after a failure).
function blockFlags(act: i32, tgt: i32, xr: usize, gr: usize, from: usize, to: usize,
  valid: i32, tail: bool, C: i32, ignore: i32, hasIgnore: bool): i32 {
  let flags = 0;
  for (let s = from; s < to; s++) {
    if (tail && <i32>(s - from) >= valid) break;
    if (act != ACT_SOFTMAX) {
      const xv = load<f32>(xr + (s << 2));
      if (xv - xv != 0) flags |= FLAG_INPUT;
    }
    if (isIndex(tgt)) {
      const t = sindex(tgt, gr, s);
      if (<u32>t >= <u32>C && !(hasIgnore && t == ignore)) flags |= FLAG_TARGET;
    } else {
      const gv = starget(tgt, gr, s);
      if (!(gv >= 0 && gv <= 1)) flags |= FLAG_TARGET;
    }
  }
  return flags;
}

// -------------------------------------------------------------- pass 2 ----
// dL/dp for an element of entry (n, c) is linear in g and p (see diceEpilogue):
//   q = A·g + B2·p + B1,  q = 0 where the element is not kept,
// then the activation's chain rule: none dL/dx = q; sigmoid dL/dx = q·σ'(x);
// softmax dL/dx_k = p_k·(q_k − Σ_c p_c·q_c) over the channels of the pixel.
// coef holds (A, B1, B2) as f32 for every channel of the sample, [C][3].
// @ts-ignore: decorator
@inline function gradBlock(
  act: i32, tgt: i32, maskMode: i32, tail: bool,
  x: usize, g: usize, m: usize, out: usize, stride: usize, C: i32, from: usize, to: usize, valid: i32,
  ignore: i32, hasIgnore: bool, coef: usize, scratch: usize,
): void {
  const E = scratch, T = scratch + offR(C);
  if (act == ACT_SOFTMAX) {
    softmaxBlock(x, stride, C, from, to, E, T);
    memory.fill(T, 0, (to - from) << 2);
  }
  const gsize = targetBytes(tgt);
  // Softmax makes two sweeps over the channels: Σ_c p_c·q_c first, then the output.
  const sweeps = act == ACT_SOFTMAX ? 2 : 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    for (let c = 0; c < C; c++) {
      const xr = x + <usize>c * stride * 4;
      const orow = out + <usize>c * stride * 4;
      const er = E + <usize>c * BLOCK * 4 - (from << 2);
      const tr = T - (from << 2);
      const gr = isIndex(tgt) ? g : g + <usize>c * stride * gsize;
      const mr = maskMode == MASK_ELEMENT ? m + <usize>c * stride : m;
      const cf = coef + <usize>c * 12;
      const last = sweep == sweeps - 1;
      if (ASC_FEATURE_SIMD) {
        const A = f32x4.splat(load<f32>(cf)), B1 = f32x4.splat(load<f32>(cf, 4)), B2 = f32x4.splat(load<f32>(cf, 8));
        const one = kConst(K_ONE);
        const cv = i32x4.splat(c), ign = i32x4.splat(ignore);
        const ignOn = i32x4.splat(hasIgnore ? -1 : 0);
        const validA = i32x4.lt_s(v128.load(IOTA), i32x4.splat(valid));
        const validB = i32x4.lt_s(v128.load(IOTA, 16), i32x4.splat(valid));
        for (let s = from; s < to; s += 4) {
          let keep = ((s - from) & 4) == 0 ? validA : validB;
          let p: v128, e: v128 = one, gv: v128;
          if (act == ACT_SOFTMAX) {
            p = v128.load(er + (s << 2));
          } else {
            const xv = v128.load(xr + (s << 2));
            if (act == ACT_SIGMOID) { e = vexp(f32x4.neg(xv)); p = vsigmoid(e); } else p = xv;
          }
          if (isIndex(tgt)) {
            const t = vindex(tgt, gr, s);
            keep = v128.andnot(keep, v128.and(i32x4.eq(t, ign), ignOn));
            gv = v128.and(i32x4.eq(t, cv), one);
          } else {
            gv = vtarget(tgt, gr, s);
          }
          if (maskMode != MASK_NONE) keep = v128.and(keep, vmaskKeep(mr, s));
          let q = f32x4.add(f32x4.add(f32x4.mul(A, gv), f32x4.mul(B2, p)), B1);
          if (tail || maskMode != MASK_NONE || isIndex(tgt)) q = v128.and(q, keep);
          if (act == ACT_SOFTMAX) {
            const ta = tr + (s << 2);
            if (last) v128.store(orow + (s << 2), f32x4.mul(p, f32x4.sub(q, v128.load(ta))));
            else v128.store(ta, f32x4.add(v128.load(ta), f32x4.mul(p, q)));
          } else {
            v128.store(orow + (s << 2), act == ACT_SIGMOID ? f32x4.mul(q, vsigmoidSlope(p, e)) : q);
          }
        }
      } else {
        const A = load<f32>(cf), B1 = load<f32>(cf, 4), B2 = load<f32>(cf, 8);
        for (let s = from; s < to; s++) {
          let keep = <i32>(s - from) < valid || !tail;
          let p: f32, e: f32 = 1, gv: f32;
          if (act == ACT_SOFTMAX) {
            p = load<f32>(er + (s << 2));
          } else {
            const xv = load<f32>(xr + (s << 2));
            if (act == ACT_SIGMOID) { e = sexp(-xv); p = ssigmoid(e); } else p = xv;
          }
          if (isIndex(tgt)) {
            const t = sindex(tgt, gr, s);
            if (hasIgnore && t == ignore) keep = false;
            gv = t == c ? 1 : 0;
          } else {
            gv = starget(tgt, gr, s);
          }
          if (maskMode != MASK_NONE && load<u8>(mr + s) == 0) keep = false;
          let q: f32 = (A * gv + B2 * p) + B1;
          if (!keep) q = 0;
          if (act == ACT_SOFTMAX) {
            const ta = tr + (s << 2);
            if (last) store<f32>(orow + (s << 2), p * (q - load<f32>(ta)));
            else store<f32>(ta, load<f32>(ta) + p * q);
          } else {
            store<f32>(orow + (s << 2), act == ACT_SIGMOID ? q * ssigmoidSlope(p, e) : q);
          }
        }
      }
    }
  }
}

// ------------------------------------------------------------ epilogue ----
// Per entry e (a (sample, class) pair, or a class with `batch`), with the
// numerator Nm and denominator D of the ratio:
//   dice     L = 1 − Nm/D,  Nm = 2I + snr,  D = SP + SG + sdr
//            dL/dp_i = −2g_i/D + Nm·h_i/D²
//   jaccard  L = 1 − Nm/D,  Nm = I + snr,   D = SP + SG − I + sdr
//            dL/dp_i = −g_i/D − Nm·g_i/D² + Nm·h_i/D²   (dD/dp_i = h_i − g_i)
// with h_i = dSP/dp_i = 1, or 2p_i when squared. So dL/dp_i = A·g_i + B·h_i.
// D = 0 happens only with sdr = 0 and an entry whose kept p and g are all 0
// (or that keeps nothing): a perfect match, taken as L = 0 with zero gradient.
// The losses are weighted by w_c (not renormalised, as MONAI), reduced by mean
// (÷ number of entries) or sum, and the gradient coefficients carry the same
// factor. Coefficients are clamped to ±1e30 before the f32 conversion so that
// an absurd smoothing (snr ≫ sdr = 0 with near-zero predictions) cannot turn
// the gradient into Infinity.
const COEF_MAX: f64 = 1e30;
export const REDUCE_MEAN = 0;
export const REDUCE_SUM = 1;
export const REDUCE_NONE = 2;

export function diceEpilogue(
  stats: usize, N: i32, C: i32, cStart: i32, batch: bool, jaccard: bool, squared: bool,
  snr: f64, sdr: f64, weights: usize, reduction: i32, losses: usize, coef: usize,
): f64 {
  const rows = batch ? 1 : N;
  const kept = C - cStart;
  const entries = rows * kept;
  if (coef) memory.fill(coef, 0, <usize>N * C * 12);
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = cStart; c < C; c++) {
      let I: f64 = 0, SP: f64 = 0, SG: f64 = 0;
      const n0 = batch ? 0 : r, n1 = batch ? N : r + 1;
      for (let n = n0; n < n1; n++) {
        const st = stats + (<usize>n * C + c) * 24;
        I += load<f64>(st); SP += load<f64>(st, 8); SG += load<f64>(st, 16);
      }
      const w: f64 = weights ? load<f64>(weights + (<usize>(c - cStart) << 3)) : 1;
      const Nm = jaccard ? I + snr : 2 * I + snr;
      const D = jaccard ? SP + SG - I + sdr : SP + SG + sdr;
      const loss = D == 0 ? 0 : w * (1 - Nm / D);
      total += loss;
      if (reduction == REDUCE_NONE) store<f64>(losses + ((<usize>r * kept + c - cStart) << 3), loss);
      if (coef && D != 0) {
        const scale = reduction == REDUCE_MEAN ? w / <f64>entries : w;
        const B = Nm / (D * D);
        const A = jaccard ? -1 / D - B : -2 / D;
        const cA = <f32>clampCoef(scale * A), cB = <f32>clampCoef(scale * B);
        for (let n = n0; n < n1; n++) {
          const cf = coef + (<usize>n * C + c) * 12;
          store<f32>(cf, cA);
          store<f32>(cf, squared ? 0 : cB, 4);
          store<f32>(cf, squared ? <f32>2 * cB : 0, 8);
        }
      }
    }
  }
  return reduction == REDUCE_MEAN ? total / <f64>entries : total;
}

// @ts-ignore: decorator
@inline function clampCoef(v: f64): f64 {
  return v > COEF_MAX ? COEF_MAX : v < -COEF_MAX ? -COEF_MAX : v;
}

// -------------------------------------------------------------- drivers ---
// Samples are walked one by one; each row is cut into full blocks, then the
// last L mod 8 elements go through the tail block in scratch.

// Copies the tail [from, L) of every row of one sample into the zero-padded
// tail block (rows of 8 lanes).
function copyTail(tgt: i32, maskMode: i32, x: usize, g: usize, m: usize, stride: usize,
  C: i32, from: usize, L: usize, scratch: usize): void {
  const n = L - from, gsize = targetBytes(tgt);
  memory.fill(scratch + offXT(C), 0, offOT(C) - offXT(C));
  for (let c = 0; c < C; c++) {
    const rowX = <usize>c * stride;
    memory.copy(scratch + offXT(C) + <usize>c * 32, x + ((rowX + from) << 2), n << 2);
    if (!isIndex(tgt)) memory.copy(scratch + offGT(C) + <usize>c * 8 * gsize, g + (rowX + from) * gsize, n * gsize);
    if (maskMode == MASK_ELEMENT) memory.copy(scratch + offMT(C) + <usize>c * 8, m + rowX + from, n);
  }
  if (isIndex(tgt)) memory.copy(scratch + offTT(C), g + from * gsize, n * gsize);
  if (maskMode == MASK_PIXEL) memory.copy(scratch + offMT(C), m + from, n);
}

// @ts-ignore: decorator
@inline function sampleTargetRow(tgt: i32, g: usize, n: i32, C: i32, stride: usize): usize {
  const gsize = targetBytes(tgt);
  return isIndex(tgt) ? g + <usize>n * stride * gsize : g + <usize>n * C * stride * gsize;
}
// @ts-ignore: decorator
@inline function sampleMaskRow(maskMode: i32, m: usize, n: i32, C: i32, stride: usize): usize {
  return maskMode == MASK_PIXEL ? m + <usize>n * stride : m + <usize>n * C * stride;
}

// @ts-ignore: decorator
@inline function sumsAll(act: i32, tgt: i32, masked: bool,
  x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool): i32 {
  let flags = 0;
  const main = <usize>(L & ~7);
  const mm = masked ? maskMode : MASK_NONE;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * C * stride * 4;
    const gn = sampleTargetRow(tgt, g, n, C, stride), mn = sampleMaskRow(mm, m, n, C, stride);
    const sn = stats + <usize>n * C * 24;
    for (let b: usize = 0; b < main; b += BLOCK) {
      const e = b + BLOCK < main ? b + BLOCK : main;
      flags |= sumsBlock(act, tgt, mm, false, xn, gn, mn, stride, C, b, e, 8, ignore, hasIgnore, squared, sn, scratch);
    }
    if (main < <usize>L) {
      copyTail(tgt, mm, xn, gn, mn, stride, C, main, L, scratch);
      flags |= sumsBlock(act, tgt, mm, true, scratch + offXT(C),
        scratch + (isIndex(tgt) ? offTT(C) : offGT(C)), scratch + offMT(C), 8, C, 0, 8,
        L - <i32>main, ignore, hasIgnore, squared, sn, scratch);
    }
  }
  return flags;
}

// @ts-ignore: decorator
@inline function gradAll(act: i32, tgt: i32, masked: bool,
  x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, maskMode: i32, ignore: i32, hasIgnore: bool): void {
  const main = <usize>(L & ~7);
  const mm = masked ? maskMode : MASK_NONE;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * C * stride * 4, on = out + <usize>n * C * stride * 4;
    const gn = sampleTargetRow(tgt, g, n, C, stride), mn = sampleMaskRow(mm, m, n, C, stride);
    const cn = coef + <usize>n * C * 12;
    for (let b: usize = 0; b < main; b += BLOCK) {
      const e = b + BLOCK < main ? b + BLOCK : main;
      gradBlock(act, tgt, mm, false, xn, gn, mn, on, stride, C, b, e, 8, ignore, hasIgnore, cn, scratch);
    }
    if (main < <usize>L) {
      copyTail(tgt, mm, xn, gn, mn, stride, C, main, L, scratch);
      const ot = scratch + offOT(C);
      gradBlock(act, tgt, mm, true, scratch + offXT(C),
        scratch + (isIndex(tgt) ? offTT(C) : offGT(C)), scratch + offMT(C), ot, 8, C, 0, 8,
        L - <i32>main, ignore, hasIgnore, cn, scratch);
      for (let c = 0; c < C; c++) {
        memory.copy(on + ((<usize>c * stride + main) << 2), ot + <usize>c * 32, (<usize>L - main) << 2);
      }
    }
  }
}

// ------------------------------------------------------------- exports ----
// One specialised loop per (activation, target kind, masked?) : the constant
// arguments below are folded by the optimiser into branch-free inner loops.

/**
 * Pass 1: adds the sums (I, SP, SG) of every (sample, channel) into `stats`
 * (f64, [N][C][3]). Returns validation flags: 1 = a non-finite input,
 * 2 = a dense target outside [0, 1] or a class index outside [0, C).
 */
export function diceSums(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool): i32 {
  const st = <usize>stride;
  if (act == ACT_NONE) return sumsTarget(ACT_NONE, tgt, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  if (act == ACT_SIGMOID) return sumsTarget(ACT_SIGMOID, tgt, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  return sumsTarget(ACT_SOFTMAX, tgt, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
}
// @ts-ignore: decorator
@inline function sumsTarget(act: i32, tgt: i32, x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool): i32 {
  if (tgt == TGT_F32) return sumsMask(act, TGT_F32, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  if (tgt == TGT_U8) return sumsMask(act, TGT_U8, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  if (tgt == IDX_U8) return sumsMask(act, IDX_U8, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  if (tgt == IDX_U16) return sumsMask(act, IDX_U16, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  return sumsMask(act, IDX_I32, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
}
// @ts-ignore: decorator
@inline function sumsMask(act: i32, tgt: i32, x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool): i32 {
  if (maskMode == MASK_NONE) return sumsAll(act, tgt, false, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
  return sumsAll(act, tgt, true, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared);
}

/**
 * Pass 2: writes dLoss/dInput to `out` (same layout as the input) from the
 * per-(sample, channel) coefficients (A, B1, B2) of diceEpilogue.
 */
export function diceGradient(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool): void {
  const st = <usize>stride;
  if (act == ACT_NONE) gradTarget(ACT_NONE, tgt, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else if (act == ACT_SIGMOID) gradTarget(ACT_SIGMOID, tgt, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else gradTarget(ACT_SOFTMAX, tgt, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
}
// @ts-ignore: decorator
@inline function gradTarget(act: i32, tgt: i32, x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool): void {
  if (tgt == TGT_F32) gradMask(act, TGT_F32, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else if (tgt == TGT_U8) gradMask(act, TGT_U8, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else if (tgt == IDX_U8) gradMask(act, IDX_U8, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else if (tgt == IDX_U16) gradMask(act, IDX_U16, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else gradMask(act, IDX_I32, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
}
// @ts-ignore: decorator
@inline function gradMask(act: i32, tgt: i32, x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool): void {
  if (maskMode == MASK_NONE) gradAll(act, tgt, false, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  else gradAll(act, tgt, true, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
}
