// Thresholded segmentation metrics (no gradient): one pass that counts, per
// (sample, channel), over the kept elements of the channel's row
//   TP = #{pred ∧ pos},  PP = #{pred},  GP = #{pos},  K = #{kept},
// into f64 stats [N][C][4] (the bindings derive FP = PP − TP, FN = GP − TP,
// TN = K − PP − GP + TP). An element is kept unless the mask holds 0 there or
// its class index equals ignoreIndex.
//
//   pred  PRED_THRESHOLD: x ≥ cutoff. The bindings turn the user's threshold t
//         into an f32 cutoff on the input itself: the smallest f32 ≥ t for
//         probabilities, the smallest f32 ≥ log(t/(1 − t)) for logits (σ is
//         increasing, so σ(x) ≥ t ⇔ x ≥ log(t/(1 − t))). No activation is
//         evaluated here.
//         PRED_ARGMAX: channel c is predicted at a pixel iff c is the first
//         channel with the largest logit (= the arg-max of the softmax).
//   pos   dense f32: g ≥ 0.5; dense u8: g ≠ 0 (valid values 0, 1);
//         indices: t = c.
//
// Layout of one call as in dice.ts: N samples, C channels, L elements per
// row, rows `stride` elements apart. Rows are walked in blocks of BLOCK
// elements; i32x4 lane counters (each lane counts at most BLOCK/4 elements of
// a block) are flushed into the f64 stats at the end of each block. Counts
// are integers, so every order of addition gives the same exact numbers: the
// scalar form (scalar build, and the last L mod 8 elements of a row in the
// SIMD build, so that vector loads never run past an array) counts with plain
// i32 counters and still gives the bits of the vector form.

import { loadU8x4, loadU16x4, vabsBits, vabsBitsMax, vfiniteLanes } from './simd';
import { TGT_F32, TGT_U8, IDX_U8, IDX_U16, IDX_I32, MASK_NONE, MASK_PIXEL, MASK_ELEMENT, BLOCK, FLAG_INPUT, FLAG_TARGET, targetBytes, vindex, sindex, isIndex } from './layout';

export const PRED_THRESHOLD = 0;
export const PRED_ARGMAX = 1;

// Splatted constants, loaded from memory into locals before the loops (V8
// rebuilds a v128 constant inside a loop on every iteration; a load is one
// instruction, once).
const TABLE: usize = memory.data<i32>([
  0, 0, 0, 0,
  -1, -1, -1, -1,
  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000, // bits of 1.0f
  0x3f000000, 0x3f000000, 0x3f000000, 0x3f000000, // 0.5f
  2, 2, 2, 2,
], 16);
const T_ZERO = 0;
const T_ONES = 1;
const T_ONE_F = 2;
const T_HALF_F = 3;
const T_TWO = 4;
// @ts-ignore: decorator
@inline function tConst(i: i32): v128 { return v128.load(TABLE + (<usize>i << 4)); }

// ---------------------------------------------------------------- scratch ---
// Per call, metricScratchBytes() bytes: the arg-max channel of each pixel of
// the current block (i32, BLOCK entries), for PRED_ARGMAX.
export function metricScratchBytes(): i32 {
  return <i32>(BLOCK * 4);
}

// Dense target lanes: f32 as loaded, u8 widened to i32.
// @ts-ignore: decorator
@inline function vdense(tgt: i32, row: usize, s: usize): v128 {
  if (tgt == TGT_F32) return v128.load(row + (s << 2));
  return loadU8x4(row + s);
}
// @ts-ignore: decorator
@inline function sdenseValid(tgt: i32, row: usize, s: usize): bool {
  if (tgt == TGT_F32) {
    const g = load<f32>(row + (s << 2));
    return g >= 0 && g <= 1;
  }
  return load<u8>(row + s) <= 1;
}
// @ts-ignore: decorator
@inline function sdensePositive(tgt: i32, row: usize, s: usize): bool {
  if (tgt == TGT_F32) return load<f32>(row + (s << 2)) >= <f32>0.5;
  return load<u8>(row + s) != 0;
}
// Σ of the four i32 lanes (exact: each is at most BLOCK/4).
// @ts-ignore: decorator
@inline function laneSum(v: v128): f64 {
  return <f64>(i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}
// @ts-ignore: decorator
@inline function addStat(at: usize, v: f64): void { store<f64>(at, load<f64>(at) + v); }

// ---------------------------------------------------------------- arg-max ---
// For the pixels [from, to) of a block: the first channel with the largest
// logit, written to A (element s − from). A later channel wins only if its
// logit is strictly greater (first max on ties). Returns FLAG_INPUT if a
// logit is not finite (|x| as bits ≥ those of Infinity: exact).
// @ts-ignore: decorator
@inline function argmaxBlock(vector: bool, x: usize, stride: usize, C: i32, from: usize, to: usize, A: usize): i32 {
  if (ASC_FEATURE_SIMD && vector) {
    let xBits = tConst(T_ZERO);
    for (let s = from; s < to; s += 4) {
      let best = v128.load(x + (s << 2));
      let idx = tConst(T_ZERO);
      xBits = i32x4.max_u(xBits, vabsBits(best));
      for (let c = 1; c < C; c++) {
        const v = v128.load(x + ((<usize>c * stride + s) << 2));
        xBits = i32x4.max_u(xBits, vabsBits(v));
        const gt = f32x4.gt(v, best);
        best = v128.bitselect(v, best, gt);
        idx = v128.bitselect(i32x4.splat(c), idx, gt);
      }
      v128.store(A + ((s - from) << 2), idx);
    }
    return i32x4.all_true(vfiniteLanes(xBits)) ? 0 : FLAG_INPUT;
  } else {
    let flags = 0;
    for (let s = from; s < to; s++) {
      let best = load<f32>(x + (s << 2));
      let idx = 0;
      if (best - best != 0) flags = FLAG_INPUT;
      for (let c = 1; c < C; c++) {
        const v = load<f32>(x + ((<usize>c * stride + s) << 2));
        if (v - v != 0) flags = FLAG_INPUT;
        if (v > best) { best = v; idx = c; }
      }
      store<i32>(A + ((s - from) << 2), idx);
    }
    return flags;
  }
}

// ------------------------------------------------------------------ counts ---
// Adds the counts of rows [from, to) of one sample into stats (f64, [C][4]).
// `vector`: the SIMD form, for a block whose length is a multiple of 8.
// @ts-ignore: decorator
@inline function countsBlock(
  pred: i32, tgt: i32, maskMode: i32, vector: bool,
  x: usize, g: usize, m: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, cutoff: f32, stats: usize, scratch: usize,
): i32 {
  const A = scratch - (from << 2); // A + (s << 2): arg-max of pixel s
  let flags = pred == PRED_ARGMAX ? argmaxBlock(vector, x, stride, C, from, to, scratch) : 0;
  const gsize = targetBytes(tgt);
  // Without mask and ignoreIndex every element is kept: K is the block length.
  const counted = maskMode != MASK_NONE || (isIndex(tgt) && hasIgnore);
  for (let c = 0; c < C; c++) {
    const xr = x + <usize>c * stride * 4;
    const gr = isIndex(tgt) ? g : g + <usize>c * stride * gsize;
    const mr = maskMode == MASK_ELEMENT ? m + <usize>c * stride : m;
    let tp: f64 = 0, pp: f64 = 0, gp: f64 = 0, kc: f64 = <f64>(to - from);
    if (ASC_FEATURE_SIMD && vector) {
      const zero = tConst(T_ZERO), ones = tConst(T_ONES);
      const cut = f32x4.splat(cutoff), half = tConst(T_HALF_F);
      const cv = i32x4.splat(c), ign = i32x4.splat(ignore), ignOn = i32x4.splat(hasIgnore ? -1 : 0);
      let vTP = zero, vPP = zero, vGP = zero, vK = zero;
      // Validation rides along as unsigned maxima of bit patterns (see simd.ts):
      // |x| ≥ Infinity's bits only for ±Infinity and NaN (exact); a dense f32
      // g is in [0, 1] iff its bits are ≤ 1.0f's (−0 fails, and is re-checked
      // exactly by targetFlags); a u8 g must be < 2; an index must be < C.
      let xBits = zero, gBits = zero;
      for (let s = from; s < to; s += 8) {
        let pa: v128, pb: v128;
        if (pred == PRED_ARGMAX) {
          pa = i32x4.eq(v128.load(A + (s << 2)), cv); pb = i32x4.eq(v128.load(A + (s << 2), 16), cv);
        } else {
          const xa = v128.load(xr + (s << 2)), xb = v128.load(xr + (s << 2), 16);
          xBits = vabsBitsMax(xBits, xa, xb);
          pa = f32x4.ge(xa, cut); pb = f32x4.ge(xb, cut);
        }
        let ka = ones, kb = ones;
        let ga: v128, gb: v128;
        if (isIndex(tgt)) {
          const ta = vindex(tgt, gr, s), tb = vindex(tgt, gr, s + 4);
          const ia = v128.and(i32x4.eq(ta, ign), ignOn), ib = v128.and(i32x4.eq(tb, ign), ignOn);
          gBits = i32x4.max_u(gBits, i32x4.max_u(v128.andnot(ta, ia), v128.andnot(tb, ib)));
          ka = v128.not(ia); kb = v128.not(ib);
          ga = i32x4.eq(ta, cv); gb = i32x4.eq(tb, cv);
        } else {
          const da = vdense(tgt, gr, s), db = vdense(tgt, gr, s + 4);
          gBits = i32x4.max_u(gBits, i32x4.max_u(da, db));
          if (tgt == TGT_F32) { ga = f32x4.ge(da, half); gb = f32x4.ge(db, half); }
          else { ga = i32x4.ne(da, zero); gb = i32x4.ne(db, zero); }
        }
        if (maskMode != MASK_NONE) {
          ka = v128.and(ka, i32x4.ne(loadU8x4(mr + s), zero));
          kb = v128.and(kb, i32x4.ne(loadU8x4(mr + s + 4), zero));
        }
        if (counted) {
          pa = v128.and(pa, ka); pb = v128.and(pb, kb);
          ga = v128.and(ga, ka); gb = v128.and(gb, kb);
          vK = i32x4.sub(i32x4.sub(vK, ka), kb);
        }
        // True lanes are −1: subtracting counts them.
        vTP = i32x4.sub(i32x4.sub(vTP, v128.and(pa, ga)), v128.and(pb, gb));
        vPP = i32x4.sub(i32x4.sub(vPP, pa), pb);
        vGP = i32x4.sub(i32x4.sub(vGP, ga), gb);
      }
      if (!i32x4.all_true(vfiniteLanes(xBits))) flags |= FLAG_INPUT;
      const gOk = isIndex(tgt) ? i32x4.lt_u(gBits, i32x4.splat(C))
        : tgt == TGT_F32 ? i32x4.le_u(gBits, tConst(T_ONE_F)) : i32x4.lt_u(gBits, tConst(T_TWO));
      if (!i32x4.all_true(gOk)) {
        flags |= targetFlags(tgt, gr, from, to, C, ignore, hasIgnore); // exactly which (rare path)
      }
      tp = laneSum(vTP); pp = laneSum(vPP); gp = laneSum(vGP);
      if (counted) kc = laneSum(vK);
    } else {
      let sTP = 0, sPP = 0, sGP = 0, sK = 0;
      for (let s = from; s < to; s++) {
        let p: bool;
        if (pred == PRED_ARGMAX) {
          p = load<i32>(A + (s << 2)) == c;
        } else {
          const xv = load<f32>(xr + (s << 2));
          if (xv - xv != 0) flags |= FLAG_INPUT;
          p = xv >= cutoff;
        }
        let keep = true;
        let pos: bool;
        if (isIndex(tgt)) {
          const t = sindex(tgt, gr, s);
          const ignored = hasIgnore && t == ignore;
          if (<u32>t >= <u32>C && !ignored) flags |= FLAG_TARGET;
          keep = !ignored;
          pos = t == c;
        } else {
          if (!sdenseValid(tgt, gr, s)) flags |= FLAG_TARGET;
          pos = sdensePositive(tgt, gr, s);
        }
        if (maskMode != MASK_NONE && load<u8>(mr + s) == 0) keep = false;
        const k = <i32>keep;
        sTP += <i32>(p && pos) & k;
        sPP += <i32>p & k;
        sGP += <i32>pos & k;
        sK += k;
      }
      tp = <f64>sTP; pp = <f64>sPP; gp = <f64>sGP;
      if (counted) kc = <f64>sK;
    }
    const st = stats + <usize>c * 32;
    addStat(st, tp);
    addStat(st + 8, pp);
    addStat(st + 16, gp);
    addStat(st + 24, kc);
  }
  return flags;
}

// Which target flag a block raises, element by element (SIMD build, only after
// the fast check failed: −0 in a dense f32 target is valid).
function targetFlags(tgt: i32, gr: usize, from: usize, to: usize, C: i32, ignore: i32, hasIgnore: bool): i32 {
  for (let s = from; s < to; s++) {
    if (isIndex(tgt)) {
      const t = sindex(tgt, gr, s);
      if (<u32>t >= <u32>C && !(hasIgnore && t == ignore)) return FLAG_TARGET;
    } else if (!sdenseValid(tgt, gr, s)) {
      return FLAG_TARGET;
    }
  }
  return 0;
}

// ----------------------------------------------------------------- drivers ---
// Samples one by one; each row cut into blocks of BLOCK elements, its last
// L mod 8 elements forming a final scalar block.
// @ts-ignore: decorator
@inline function countsAll(pred: i32, tgt: i32, masked: bool,
  x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cutoff: f32): i32 {
  let flags = 0;
  const main = <usize>(L & ~7);
  const mm = masked ? maskMode : MASK_NONE;
  const gsize = targetBytes(tgt);
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * C * stride * 4;
    const gn = isIndex(tgt) ? g + <usize>n * stride * gsize : g + <usize>n * C * stride * gsize;
    const mn = mm == MASK_PIXEL ? m + <usize>n * stride : m + <usize>n * C * stride;
    const sn = stats + <usize>n * C * 32;
    for (let b: usize = 0; b < main; b += BLOCK) {
      const e = b + BLOCK < main ? b + BLOCK : main;
      flags |= countsBlock(pred, tgt, mm, true, xn, gn, mn, stride, C, b, e, ignore, hasIgnore, cutoff, sn, scratch);
    }
    if (main < <usize>L) {
      flags |= countsBlock(pred, tgt, mm, false, xn, gn, mn, stride, C, main, L, ignore, hasIgnore, cutoff, sn, scratch);
    }
  }
  return flags;
}

// One specialised loop per (prediction, target kind, masked?): the constant
// arguments are folded by the optimiser into branch-free inner loops.

/**
 * Adds the counts (TP, PP, GP, K) of every (sample, channel) into `stats`
 * (f64, [N][C][4]). Returns validation flags: 1 = a non-finite input,
 * 2 = a dense target outside [0, 1] or a class index outside [0, C).
 */
export function metricCounts(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, pred: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, cutoff: f32): i32 {
  const st = <usize>stride;
  if (pred == PRED_THRESHOLD) return countsTarget(PRED_THRESHOLD, tgt, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  return countsTarget(PRED_ARGMAX, tgt, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
}
// @ts-ignore: decorator
@inline function countsTarget(pred: i32, tgt: i32, x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cutoff: f32): i32 {
  if (tgt == TGT_F32) return countsMask(pred, TGT_F32, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  if (tgt == TGT_U8) return countsMask(pred, TGT_U8, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  if (tgt == IDX_U8) return countsMask(pred, IDX_U8, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  if (tgt == IDX_U16) return countsMask(pred, IDX_U16, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  return countsMask(pred, IDX_I32, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
}
// @ts-ignore: decorator
@inline function countsMask(pred: i32, tgt: i32, x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cutoff: f32): i32 {
  if (maskMode == MASK_NONE) return countsAll(pred, tgt, false, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
  return countsAll(pred, tgt, true, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cutoff);
}

/**
 * The logit of a sigmoid threshold t ∈ (0, 1), log(t/(1 − t)), with
 * AssemblyScript's own log (compiled into the module, so the cutoff has the
 * same bits in every runtime, unlike the host's Math.log). For t ≥ 1/4, 2t − 1
 * is exact and log1p keeps the relative accuracy near t = 1/2; below 1/4 the
 * logit is < −1 and log(t/(1 − t)) loses nothing.
 */
export function metricLogit(t: f64): f64 {
  return t >= 0.25 ? Math.log1p((2 * t - 1) / (1 - t)) : Math.log(t / (1 - t));
}
