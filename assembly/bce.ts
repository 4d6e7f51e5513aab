// Pixel losses for edges: binary cross-entropy (bceLoss) and focal loss
// (focalLoss), with their analytic gradients. The per-element formulas and
// their derivatives live in simd.ts (vbceLogits, vbceProb, vfocal*), shared
// with the fused kernels; this file walks the arrays.
//
// Two passes per call, like the Dice kernels:
//   pass 1 (bceCounts / focalSoftmaxCounts) validates every element and counts,
//     per row, the kept elements and the positives (class balancing needs the
//     per-image counts before any loss is weighted; 'mean' needs the number
//     of kept elements before any gradient is scaled). No transcendental math:
//     it is a cheap read of the inputs, and it guarantees that nothing is
//     written to the gradient of an invalid call;
//   pass 2 (bceForward / focalSoftmaxForward) computes each element's loss
//     (summed per row, or written out with reduction 'none') and its gradient
//     in one sweep, from per-sample weights prepared by the bindings.
//
// Layout: N samples, C channels, L elements per row, rows `stride` elements
// apart (element (n, c, s) of the input at x + ((n·C + c)·stride + s)·4), as
// in dice.ts. Rows are walked in groups of 4 lanes; lane sums are flushed into
// the f64 row sums every BLOCK elements, straight into memory, so that a
// chunked call (chunks are multiples of BLOCK) adds the same numbers in the
// same order as a one-shot call. The last L mod 4 elements of a row go through
// a zero-padded scratch group. The scalar build runs the same lanes one by one
// with four f32 accumulators and the same flush order: both builds give the
// same bits.

import {
  vexp, sexp, vexpNonPositive, sexpNonPositive, kConst, K_ONE, K_ZERO, loadU8x4, loadU16x4, pmax, pmin,
  vlog, slog, vlogNormal, slogNormal, vlog1pWith, slog1pWith,
  vexpNegAbs, sexpNegAbs, vsigmoidFromTail, ssigmoidFromTail, vsigmoidNegFromTail, ssigmoidNegFromTail,
  vsigmoidSlopeFromTail, ssigmoidSlopeFromTail,
  vbceLogits, sbceLogits, vbceLogitsSlope, sbceLogitsSlope, vbceProb, sbceProb, vbceProbSlope, sbceProbSlope,
  vfocalDistance, sfocalDistance, vfocalAlpha, sfocalAlpha, vfocalModulator, sfocalModulator,
  vfocalSlope, sfocalSlope,
} from './simd';
import { ACT_NONE, ACT_SIGMOID, TGT_F32, TGT_U8, IDX_U8, IDX_U16, IDX_I32, MASK_NONE, MASK_PIXEL, MASK_ELEMENT, BLOCK, FLAG_INPUT, FLAG_TARGET, targetBytes, vtarget, vindex, starget, sindex } from './layout';

export const KIND_BCE = 0;
export const KIND_FOCAL = 1;





const FLAG_PROB = 4;   // probability (activation 'none') outside [0, 1]

// Lane numbers, for the validity mask of a tail group.
const IOTA: usize = memory.data<i32>([0, 1, 2, 3], 16);

// ---------------------------------------------------------------- scratch ---
// bceScratchBytes(C) bytes per call. Binary kernels use the first 80 bytes:
//   XT 4 f32, GT 4 × 4 bytes, MT 4 bytes (padded to 16), OT 4 f32, LT 4 f32,
// then (pass 2, sigmoid, SIMD) TB at 80: three BLOCK f32 rows holding, for
// the block's logits, t = e^−|x|, r = 1/(1 + t) and log(1 + t).
// Softmax kernels: E C×4 f32 (exponentials of one group), XT C×4 f32,
//   TT 4 × 4 bytes, MT 16, OT C×4 f32, LT 4 f32.
const TB: usize = 80;
export function bceScratchBytes(C: i32): i32 {
  return max(48 * C + 48, <i32>(TB + 3 * BLOCK * 4));
}

// @ts-ignore: decorator
@inline function vvalid(valid: i32): v128 {
  return i32x4.lt_s(v128.load(IOTA), i32x4.splat(valid));
}
// Σ of the four lanes in f64, in lane order (the scalar build adds its four
// accumulators in the same order).
// @ts-ignore: decorator
@inline function lanesToF64(v: v128): f64 {
  return <f64>f32x4.extract_lane(v, 0) + <f64>f32x4.extract_lane(v, 1)
    + <f64>f32x4.extract_lane(v, 2) + <f64>f32x4.extract_lane(v, 3);
}
// @ts-ignore: decorator
@inline function addF64(at: usize, v: f64): void { store<f64>(at, load<f64>(at) + v); }

// Row pointers of (n, c) for a per-channel array of `size`-byte elements.
// @ts-ignore: decorator
@inline function rowOf(base: usize, n: i32, C: i32, c: i32, stride: usize, size: usize): usize {
  return base + (<usize>n * C + c) * stride * size;
}
// @ts-ignore: decorator
@inline function maskRowOf(maskMode: i32, m: usize, n: i32, C: i32, c: i32, stride: usize): usize {
  return maskMode == MASK_PIXEL ? m + <usize>n * stride : rowOf(m, n, C, c, stride, 1);
}

// ================================================================ binary ===
// Element rule shared by both passes, on the raw label g:
//   kept     iff mask ≠ 0 and not (0 < g < ignoreBelow)   (RCF's ignored band;
//            ignoreBelow = 0 when not balancing with RCF: nothing is ignored);
//   positive iff kept and g ≥ posAt                        (HED: 0.5, RCF: η).
// Pass 2 then turns the label into the loss target: g ≥ binarizeAt → 1 (RCF's
// positives; binarizeAt = 2 otherwise: never), then label smoothing
// g' = g·smooth1 + smooth0 (smooth1 = 1 − ε, smooth0 = ε/2).

// ------------------------------------------------------------- pass 1 ----
// Counts kept elements and positives of row elements [0, to) into counts
// (f64 [kept, positives]); returns validation flags.
// @ts-ignore: decorator
@inline function countRow(act: i32, tgt: i32, masked: bool, xr: usize, gr: usize, mr: usize,
  to: usize, valid: i32, ignoreBelow: f32, posAt: f32, counts: usize): i32 {
  let flags = 0;
  let kept: i64 = 0, pos: i64 = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO), one = kConst(K_ONE);
    const ib = f32x4.splat(ignoreBelow), pa = f32x4.splat(posAt);
    const keep0 = vvalid(valid);
    let okX = i32x4.splat(-1), okP = okX, okG = okX;
    let kv = i32x4.splat(0), pv = kv;
    for (let s: usize = 0; s < to; s += 4) {
      const x = v128.load(xr + (s << 2));
      okX = v128.and(okX, f32x4.eq(f32x4.sub(x, x), zero));
      if (act == ACT_NONE) okP = v128.and(okP, v128.and(f32x4.ge(x, zero), f32x4.le(x, one)));
      const g = vtarget(tgt, gr, s);
      okG = v128.and(okG, v128.and(f32x4.ge(g, zero), f32x4.le(g, one)));
      let keep = keep0;
      if (masked) keep = v128.and(keep, i32x4.ne(loadU8x4(mr + s), i32x4.splat(0)));
      keep = v128.andnot(keep, v128.and(f32x4.gt(g, zero), f32x4.lt(g, ib)));
      kv = i32x4.sub(kv, keep);
      pv = i32x4.sub(pv, v128.and(keep, f32x4.ge(g, pa)));
    }
    if (!i32x4.all_true(okX)) flags |= FLAG_INPUT;
    if (!i32x4.all_true(okP)) flags |= FLAG_PROB;
    if (!i32x4.all_true(okG)) flags |= FLAG_TARGET;
    kept = <i64>i32x4.extract_lane(kv, 0) + <i64>i32x4.extract_lane(kv, 1)
      + <i64>i32x4.extract_lane(kv, 2) + <i64>i32x4.extract_lane(kv, 3);
    pos = <i64>i32x4.extract_lane(pv, 0) + <i64>i32x4.extract_lane(pv, 1)
      + <i64>i32x4.extract_lane(pv, 2) + <i64>i32x4.extract_lane(pv, 3);
  } else {
    for (let s: usize = 0; s < to; s++) {
      const x = load<f32>(xr + (s << 2));
      if (x - x != 0) flags |= FLAG_INPUT;
      if (act == ACT_NONE && !(x >= 0 && x <= 1)) flags |= FLAG_PROB;
      const g = starget(tgt, gr, s);
      if (!(g >= 0 && g <= 1)) flags |= FLAG_TARGET;
      let keep = <i32>(s & 3) < valid;
      if (masked && load<u8>(mr + s) == 0) keep = false;
      if (g > 0 && g < ignoreBelow) keep = false;
      if (keep) { kept++; if (g >= posAt) pos++; }
    }
  }
  addF64(counts, <f64>kept);
  addF64(counts + 8, <f64>pos);
  return flags;
}

// @ts-ignore: decorator
@inline function countsAll(act: i32, x: usize, g: usize, m: usize, counts: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, tgt: i32, maskMode: i32, ignoreBelow: f32, posAt: f32): i32 {
  let flags = 0;
  const gsize = targetBytes(tgt);
  const main = <usize>(L & ~3), rest = <usize>L - main;
  const masked = maskMode != MASK_NONE;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xr = rowOf(x, n, C, c, stride, 4), gr = rowOf(g, n, C, c, stride, gsize);
      const mr = maskRowOf(maskMode, m, n, C, c, stride);
      const cr = counts + (<usize>n * C + c) * 16;
      flags |= countRow(act, tgt, masked, xr, gr, mr, main, 4, ignoreBelow, posAt, cr);
      if (rest) {
        copyTailBinary(xr, gr, mr, masked, gsize, main, rest, scratch);
        flags |= countRow(act, tgt, masked, scratch, scratch + 16, scratch + 32, 4, <i32>rest, ignoreBelow, posAt, cr);
      }
    }
  }
  return flags;
}

// Copies the last `rest` (< 4) elements of a row into the zero-padded scratch group.
function copyTailBinary(xr: usize, gr: usize, mr: usize, masked: bool, gsize: usize,
  from: usize, rest: usize, scratch: usize): void {
  memory.fill(scratch, 0, 48);
  memory.copy(scratch, xr + (from << 2), rest << 2);
  memory.copy(scratch + 16, gr + from * gsize, rest * gsize);
  if (masked) memory.copy(scratch + 32, mr + from, rest);
}

/**
 * Pass 1 of bceLoss / binary focalLoss: validates every element and adds,
 * per row (n, c), the number of kept elements and of positives into `counts`
 * (f64 [N][C][2]). Returns flags: 1 = a non-finite input, 2 = a target outside
 * [0, 1], 4 = a probability outside [0, 1] (act = none).
 */
export function bceCounts(x: usize, g: usize, m: usize, counts: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32, ignoreBelow: f32, posAt: f32): i32 {
  if (act == ACT_NONE) return countsAll(ACT_NONE, x, g, m, counts, scratch, N, C, L, <usize>stride, tgt, maskMode, ignoreBelow, posAt);
  return countsAll(ACT_SIGMOID, x, g, m, counts, scratch, N, C, L, <usize>stride, tgt, maskMode, ignoreBelow, posAt);
}

// ------------------------------------------------------------- pass 2 ----
// The per-call parameters of pass 2, as f32: a, b weight the loss (see
// simd.ts), as, bs are the same times the reduction's scale (they weight the
// gradient); the rest describe the label rule above and γ (focal).

// Loss lanes (zero where not kept) of one group of 4, its gradient stored at
// `go` (when hasGrad). With sigmoid, t = e^−|x|, r = 1/(1 + t) and
// l1 = log(1 + t) come in computed (bceBlock). `dice` (the fused losses,
// sigmoid): the Dice part's gradient (dA·gd + dB2·p + dB1)·σ'(x) of the raw
// label gd is added where keepD (the mask) keeps the element; see
// assembly/dice.ts, pass 2.
// @ts-ignore: decorator
@inline function bceLanes(kind: i32, act: i32, hasGrad: bool, dice: bool,
  x: v128, t: v128, r: v128, l1: v128, g: v128, keep: v128,
  a: v128, b: v128, as: v128, bs: v128, gamma: v128, go: usize,
  gd: v128, keepD: v128, dA: v128, dB1: v128, dB2: v128): v128 {
  const zero = kConst(K_ZERO), one = kConst(K_ONE);
  let loss: v128, slope = zero;
  if (act == ACT_SIGMOID) {
    const p = vsigmoidFromTail(x, t, r), q = vsigmoidNegFromTail(x, t, r);
    if (kind == KIND_BCE) {
      loss = vbceLogits(x, g, a, b, l1);
      if (hasGrad) slope = vbceLogitsSlope(g, as, bs, p, q);
    } else {
      const ce = vbceLogits(x, g, one, one, l1);
      const d = vfocalDistance(p, q, g);
      const M = vfocalModulator(d, gamma);
      loss = f32x4.mul(f32x4.mul(vfocalAlpha(g, a, b), M), ce);
      if (hasGrad) {
        // p·q/d ≤ 1; d = 0 only once e^−|x| underflows to 0, where ce = 0 too: the limit is 0.
        const cew = v128.bitselect(f32x4.mul(f32x4.div(f32x4.mul(p, q), d), ce), zero, f32x4.gt(d, zero));
        slope = vfocalSlope(f32x4.mul(vfocalAlpha(g, as, bs), M), gamma, g, cew, vbceLogitsSlope(g, one, one, p, q));
      }
    }
    if (dice) {
      const qd = f32x4.add(f32x4.add(f32x4.mul(dA, gd), f32x4.mul(dB2, p)), dB1);
      v128.store(go, f32x4.add(v128.and(slope, keep), v128.and(f32x4.mul(qd, vsigmoidSlopeFromTail(t, r)), keepD)));
      return v128.and(loss, keep);
    }
  } else {
    if (kind == KIND_BCE) {
      loss = vbceProb(x, g, a, b);
      if (hasGrad) slope = vbceProbSlope(x, g, as, bs);
    } else {
      const ce = vbceProb(x, g, one, one);
      const d = vfocalDistance(x, f32x4.sub(one, x), g);
      const M = vfocalModulator(d, gamma);
      loss = f32x4.mul(f32x4.mul(vfocalAlpha(g, a, b), M), ce);
      if (hasGrad) {
        const cew = v128.bitselect(f32x4.div(ce, d), zero, f32x4.gt(d, zero)); // ce/d, 0 at d = 0
        slope = vfocalSlope(f32x4.mul(vfocalAlpha(g, as, bs), M), gamma, g, cew, vbceProbSlope(x, g, one, one));
      }
    }
  }
  if (hasGrad) v128.store(go, v128.and(slope, keep));
  return v128.and(loss, keep);
}
// Scalar twin of bceLanes for one lane.
// @ts-ignore: decorator
@inline function bceLane(kind: i32, act: i32, hasGrad: bool, dice: bool, x: f32, g: f32, keep: bool,
  a: f32, b: f32, as: f32, bs: f32, gamma: f32, go: usize,
  gd: f32, keepD: bool, dA: f32, dB1: f32, dB2: f32): f32 {
  let loss: f32, slope: f32 = 0;
  if (act == ACT_SIGMOID) {
    const t = sexpNegAbs(x);
    const u = <f32>1.0 + t;
    const r = <f32>1.0 / u;
    const l1 = slog1pWith(t, u, r);
    const p = ssigmoidFromTail(x, t, r), q = ssigmoidNegFromTail(x, t, r);
    if (kind == KIND_BCE) {
      loss = sbceLogits(x, g, a, b, l1);
      if (hasGrad) slope = sbceLogitsSlope(g, as, bs, p, q);
    } else {
      const ce = sbceLogits(x, g, 1, 1, l1);
      const d = sfocalDistance(p, q, g);
      const M = sfocalModulator(d, gamma);
      loss = (sfocalAlpha(g, a, b) * M) * ce;
      if (hasGrad) {
        const cew: f32 = d > 0 ? ((p * q) / d) * ce : 0;
        slope = sfocalSlope(sfocalAlpha(g, as, bs) * M, gamma, g, cew, sbceLogitsSlope(g, 1, 1, p, q));
      }
    }
    if (dice) {
      const qd = (dA * gd + dB2 * p) + dB1;
      store<f32>(go, (keep ? slope : <f32>0) + (keepD ? qd * ssigmoidSlopeFromTail(t, r) : <f32>0));
      return keep ? loss : 0;
    }
  } else {
    if (kind == KIND_BCE) {
      loss = sbceProb(x, g, a, b);
      if (hasGrad) slope = sbceProbSlope(x, g, as, bs);
    } else {
      const ce = sbceProb(x, g, 1, 1);
      const d = sfocalDistance(x, <f32>1.0 - x, g);
      const M = sfocalModulator(d, gamma);
      loss = (sfocalAlpha(g, a, b) * M) * ce;
      if (hasGrad) {
        const cew: f32 = d > 0 ? ce / d : 0;
        slope = sfocalSlope(sfocalAlpha(g, as, bs) * M, gamma, g, cew, sbceProbSlope(x, g, 1, 1));
      }
    }
  }
  if (hasGrad) store<f32>(go, keep ? slope : 0);
  return keep ? loss : 0;
}

// Elements [from, to) of one row (to − from a multiple of 4, at most BLOCK):
// adds their losses to *stat, writes gradients to orow and (when lrow ≠ 0)
// per-element losses to lrow. `valid` lanes are real (4 but in a tail group).
// `dice`: the row's Dice coefficients (A, B1, B2) are at dc (see bceLanes).
// @ts-ignore: decorator
@inline function bceBlock(kind: i32, act: i32, hasGrad: bool, dice: bool, tgt: i32, masked: bool,
  xr: usize, gr: usize, mr: usize, orow: usize, lrow: usize, from: usize, to: usize, valid: i32, stat: usize,
  a: f32, b: f32, as: f32, bs: f32, ignoreBelow: f32, binarizeAt: f32, smooth1: f32, smooth0: f32, gamma: f32,
  dc: usize, tb: usize): void {
  const dA: f32 = dice ? load<f32>(dc) : 0, dB1: f32 = dice ? load<f32>(dc, 4) : 0, dB2: f32 = dice ? load<f32>(dc, 8) : 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO), one = kConst(K_ONE);
    const av = f32x4.splat(a), bv = f32x4.splat(b), asv = f32x4.splat(as), bsv = f32x4.splat(bs);
    const ib = f32x4.splat(ignoreBelow), ba = f32x4.splat(binarizeAt);
    const s1 = f32x4.splat(smooth1), s0 = f32x4.splat(smooth0), gm = f32x4.splat(gamma);
    const dAv = f32x4.splat(dA), dB1v = f32x4.splat(dB1), dB2v = f32x4.splat(dB2);
    const keep0 = vvalid(valid);
    // With sigmoid, the block's t = e^−|x| first, then its r and log(1 + t),
    // each in a loop of its own, into TB: in one loop the exp's and the log's
    // constants and temporaries outnumber x64's 16 xmm registers, and V8
    // spills them on every iteration (the three loops take 0.77× the time of
    // the one: bceLoss, sigmoid, 1M).
    const T = tb - (from << 2);
    if (act == ACT_SIGMOID) {
      let s = from;
      for (; s + 8 <= to; s += 8) {
        v128.store(T + (s << 2), vexpNegAbs(v128.load(xr + (s << 2))));
        v128.store(T + (s << 2), vexpNegAbs(v128.load(xr + (s << 2), 16)), 16);
      }
      if (s < to) v128.store(T + (s << 2), vexpNegAbs(v128.load(xr + (s << 2))));
      for (s = from; s < to; s += 4) {
        const t = v128.load(T + (s << 2));
        const u = f32x4.add(one, t);
        const r = f32x4.div(one, u);
        v128.store(T + (s << 2), r, BLOCK * 4);
        v128.store(T + (s << 2), vlog1pWith(t, u, r), 2 * BLOCK * 4);
      }
    }
    let acc = zero;
    for (let s = from; s < to; s += 4) {
      const x = v128.load(xr + (s << 2));
      const t = act == ACT_SIGMOID ? v128.load(T + (s << 2)) : zero;
      const r = act == ACT_SIGMOID ? v128.load(T + (s << 2), BLOCK * 4) : zero;
      const l1 = act == ACT_SIGMOID ? v128.load(T + (s << 2), 2 * BLOCK * 4) : zero;
      const gd = vtarget(tgt, gr, s);
      let keepD = keep0;
      if (masked) keepD = v128.and(keepD, i32x4.ne(loadU8x4(mr + s), i32x4.splat(0)));
      const keep = v128.andnot(keepD, v128.and(f32x4.gt(gd, zero), f32x4.lt(gd, ib)));
      let g = v128.bitselect(one, gd, f32x4.ge(gd, ba));
      g = f32x4.add(f32x4.mul(g, s1), s0);
      const loss = bceLanes(kind, act, hasGrad, dice, x, t, r, l1, g, keep, av, bv, asv, bsv, gm, orow + (s << 2),
        gd, keepD, dAv, dB1v, dB2v);
      if (lrow) v128.store(lrow + (s << 2), loss);
      acc = f32x4.add(acc, loss);
    }
    addF64(stat, lanesToF64(acc));
  } else {
    let acc0: f32 = 0, acc1: f32 = 0, acc2: f32 = 0, acc3: f32 = 0;
    for (let s = from; s < to; s += 4) {
      for (let k: usize = 0; k < 4; k++) {
        const e = s + k;
        const x = load<f32>(xr + (e << 2));
        const gd = starget(tgt, gr, e);
        let keepD = <i32>k < valid;
        if (masked && load<u8>(mr + e) == 0) keepD = false;
        const keep = keepD && !(gd > 0 && gd < ignoreBelow);
        let g = gd >= binarizeAt ? <f32>1 : gd;
        g = g * smooth1 + smooth0;
        const loss = bceLane(kind, act, hasGrad, dice, x, g, keep, a, b, as, bs, gamma, orow + (e << 2),
          gd, keepD, dA, dB1, dB2);
        if (lrow) store<f32>(lrow + (e << 2), loss);
        if (k == 0) acc0 += loss; else if (k == 1) acc1 += loss; else if (k == 2) acc2 += loss; else acc3 += loss;
      }
    }
    addF64(stat, <f64>acc0 + <f64>acc1 + <f64>acc2 + <f64>acc3);
  }
}

// @ts-ignore: decorator
@inline function forwardAll(kind: i32, act: i32, hasGrad: bool, dice: bool,
  x: usize, g: usize, m: usize, out: usize, lossOut: usize, lossStride: usize, coef: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, tgt: i32, maskMode: i32,
  ignoreBelow: f32, binarizeAt: f32, smooth1: f32, smooth0: f32, gamma: f32, diceCoef: usize): void {
  const gsize = targetBytes(tgt);
  const main = <usize>(L & ~3), rest = <usize>L - main;
  const masked = maskMode != MASK_NONE;
  for (let n = 0; n < N; n++) {
    const cf = coef + (<usize>n << 4);
    const a = load<f32>(cf), b = load<f32>(cf, 4), as = load<f32>(cf, 8), bs = load<f32>(cf, 12);
    for (let c = 0; c < C; c++) {
      const xr = rowOf(x, n, C, c, stride, 4), gr = rowOf(g, n, C, c, stride, gsize);
      const mr = maskRowOf(maskMode, m, n, C, c, stride);
      const orow = hasGrad ? rowOf(out, n, C, c, stride, 4) : 0;
      const lrow = lossOut ? rowOf(lossOut, n, C, c, lossStride, 4) : 0;
      const stat = stats + ((<usize>n * C + c) << 3);
      const dc = diceCoef + (<usize>n * C + c) * 12;
      for (let b0: usize = 0; b0 < main; b0 += BLOCK) {
        const e = b0 + BLOCK < main ? b0 + BLOCK : main;
        bceBlock(kind, act, hasGrad, dice, tgt, masked, xr, gr, mr, orow, lrow, b0, e, 4, stat,
          a, b, as, bs, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, dc, scratch + TB);
      }
      if (rest) {
        copyTailBinary(xr, gr, mr, masked, gsize, main, rest, scratch);
        bceBlock(kind, act, hasGrad, dice, tgt, masked, scratch, scratch + 16, scratch + 32,
          scratch + 48, lrow ? scratch + 64 : 0, 0, 4, <i32>rest, stat,
          a, b, as, bs, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, dc, scratch + TB);
        if (hasGrad) memory.copy(orow + (main << 2), scratch + 48, rest << 2);
        if (lrow) memory.copy(lrow + (main << 2), scratch + 64, rest << 2);
      }
    }
  }
}

/**
 * Pass 2 of bceLoss (kind 0) / binary focalLoss (kind 1): adds each row's
 * loss sum into `stats` (f64 [N][C]); writes dLoss/dInput to `out` (same
 * layout as the input) unless out = 0, and the per-element losses to lossOut
 * (rows lossStride apart) unless lossOut = 0. `coef` holds, per sample,
 * (a, b, a·scale, b·scale) as f32 (see simd.ts for a and b). Pass 2 of the
 * fused Dice losses (sigmoid, out ≠ 0): `diceCoef` ≠ 0 holds the Dice part's
 * (A, B1, B2) per (sample, channel), f32 [N][C][3], and its gradient is added.
 */
export function bceForward(x: usize, g: usize, m: usize, out: usize, lossOut: usize, lossStride: i32,
  coef: usize, stats: usize, scratch: usize, N: i32, C: i32, L: i32, stride: i32,
  kind: i32, act: i32, tgt: i32, maskMode: i32,
  ignoreBelow: f32, binarizeAt: f32, smooth1: f32, smooth0: f32, gamma: f32, diceCoef: usize): void {
  if (kind == KIND_BCE) forwardKind(KIND_BCE, x, g, m, out, lossOut, lossStride, coef, stats, scratch, N, C, L, stride, act, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, diceCoef);
  else forwardKind(KIND_FOCAL, x, g, m, out, lossOut, lossStride, coef, stats, scratch, N, C, L, stride, act, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, diceCoef);
}
// @ts-ignore: decorator
@inline function forwardKind(kind: i32, x: usize, g: usize, m: usize, out: usize, lossOut: usize, lossStride: i32,
  coef: usize, stats: usize, scratch: usize, N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32,
  ignoreBelow: f32, binarizeAt: f32, smooth1: f32, smooth0: f32, gamma: f32, diceCoef: usize): void {
  const st = <usize>stride, ls = <usize>lossStride;
  if (act == ACT_SIGMOID) {
    if (out && diceCoef) forwardAll(kind, ACT_SIGMOID, true, true, x, g, m, out, lossOut, ls, coef, stats, scratch, N, C, L, st, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, diceCoef);
    else if (out) forwardAll(kind, ACT_SIGMOID, true, false, x, g, m, out, lossOut, ls, coef, stats, scratch, N, C, L, st, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, 0);
    else forwardAll(kind, ACT_SIGMOID, false, false, x, g, m, out, lossOut, ls, coef, stats, scratch, N, C, L, st, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, 0);
  } else {
    if (out) forwardAll(kind, ACT_NONE, true, false, x, g, m, out, lossOut, ls, coef, stats, scratch, N, C, L, st, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, 0);
    else forwardAll(kind, ACT_NONE, false, false, x, g, m, out, lossOut, ls, coef, stats, scratch, N, C, L, st, tgt, maskMode, ignoreBelow, binarizeAt, smooth1, smooth0, gamma, 0);
  }
}

// =========================================================== softmax focal ===
// Per pixel with label y over C channels, m = max_c x_c, e_c = e^(x_c − m):
//   S = Σ_{c≠y} e_c (no cancellation), Z = e_y + S (≥ 1: the maximum's term is
//   1), log Z corrected for the rounding of Z (Fast2Sum: Z = big + small,
//   error = small − (Z − big), log Z ≈ log(Z) + error/Z),
//   log p_y = (x_y − m) − log Z,   d = 1 − p_y = S/Z,   log d = log S − log Z,
//   M = d^γ = e^(γ·log d),   FL = −α_y·M·log p_y.
// With dp_y/dx_k = p_y(δ_yk − p_k) and d log p_y/dx_k = δ_yk − p_k:
//   dFL/dx_k = (p_k − δ_yk)·F,  F = α_y·M·(1 − γ·p_y·log p_y/d),
// where p_k − δ_yk is −d for k = y (computed as −S/Z, no cancellation), and
// log p_y/d → −1 as d → 0, so F stays finite for any γ ≥ 0 (d = 0 exactly,
// once every other e_c underflows, takes that limit).
// Pixels that are masked or carry ignoreIndex contribute 0 and get 0.

// Tail copy: the last `rest` (< 4) pixels of every channel row, the labels
// and the mask, into the zero-padded scratch block (rows of 4 lanes).
function copyTailSoftmax(xn: usize, tn: usize, mn: usize, masked: bool, tsize: usize, C: i32, stride: usize,
  from: usize, rest: usize, scratch: usize): void {
  const XT = scratch + <usize>C * 16, TT = XT + <usize>C * 16, MT = TT + 16;
  memory.fill(XT, 0, <usize>C * 16 + 32);
  for (let c = 0; c < C; c++) memory.copy(XT + <usize>c * 16, xn + ((<usize>c * stride + from) << 2), rest << 2);
  memory.copy(TT, tn + from * tsize, rest * tsize);
  if (masked) memory.copy(MT, mn + from, rest);
}

// -------------------------------------------------------------- pass 1 ----
// Validates pixels [0, to) of one sample and adds the number of kept pixels
// to *count; returns flags.
// @ts-ignore: decorator
@inline function softmaxCountPixels(tgt: i32, masked: bool, xn: usize, tn: usize, mn: usize, C: i32, stride: usize,
  to: usize, valid: i32, ignore: i32, hasIgnore: bool, count: usize): i32 {
  let flags = 0;
  let kept: i64 = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO);
    const Cv = i32x4.splat(C), ign = i32x4.splat(ignore), ignOn = i32x4.splat(hasIgnore ? -1 : 0);
    const keep0 = vvalid(valid);
    let okX = i32x4.splat(-1), okT = okX, kv = i32x4.splat(0);
    for (let s: usize = 0; s < to; s += 4) {
      for (let c = 0; c < C; c++) {
        const x = v128.load(xn + ((<usize>c * stride + s) << 2));
        okX = v128.and(okX, f32x4.eq(f32x4.sub(x, x), zero));
      }
      const y = vindex(tgt, tn, s);
      const ignored = v128.and(i32x4.eq(y, ign), ignOn);
      okT = v128.and(okT, v128.or(i32x4.lt_u(y, Cv), ignored));
      let keep = v128.andnot(keep0, ignored);
      if (masked) keep = v128.and(keep, i32x4.ne(loadU8x4(mn + s), i32x4.splat(0)));
      kv = i32x4.sub(kv, keep);
    }
    if (!i32x4.all_true(okX)) flags |= FLAG_INPUT;
    if (!i32x4.all_true(okT)) flags |= FLAG_TARGET;
    kept = <i64>i32x4.extract_lane(kv, 0) + <i64>i32x4.extract_lane(kv, 1)
      + <i64>i32x4.extract_lane(kv, 2) + <i64>i32x4.extract_lane(kv, 3);
  } else {
    for (let s: usize = 0; s < to; s++) {
      for (let c = 0; c < C; c++) {
        const x = load<f32>(xn + ((<usize>c * stride + s) << 2));
        if (x - x != 0) flags |= FLAG_INPUT;
      }
      const y = sindex(tgt, tn, s);
      const ignored = hasIgnore && y == ignore;
      if (<u32>y >= <u32>C && !ignored) flags |= FLAG_TARGET;
      let keep = <i32>(s & 3) < valid && !ignored;
      if (masked && load<u8>(mn + s) == 0) keep = false;
      if (keep) kept++;
    }
  }
  addF64(count, <f64>kept);
  return flags;
}

/**
 * Pass 1 of softmax focalLoss: validates logits and class indices (in [0, C)
 * or equal to ignoreIndex) and adds the kept pixels of each sample into
 * `counts` (f64 [N]). Returns flags: 1 = a non-finite logit, 2 = a bad index.
 */
export function focalSoftmaxCounts(x: usize, t: usize, m: usize, counts: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool): i32 {
  const st = <usize>stride, tsize = targetBytes(tgt);
  const main = <usize>(L & ~3), rest = <usize>L - main;
  const masked = maskMode != MASK_NONE;
  let flags = 0;
  for (let n = 0; n < N; n++) {
    const xn = rowOf(x, n, C, 0, st, 4), tn = t + <usize>n * st * tsize, mn = m + <usize>n * st;
    const cn = counts + (<usize>n << 3);
    flags |= softmaxCountPixels(tgt, masked, xn, tn, mn, C, st, main, 4, ignore, hasIgnore, cn);
    if (rest) {
      copyTailSoftmax(xn, tn, mn, masked, tsize, C, st, main, rest, scratch);
      const XT = scratch + <usize>C * 16;
      flags |= softmaxCountPixels(tgt, masked, XT, XT + <usize>C * 16, XT + <usize>C * 16 + 16, C, 4, 4,
        <i32>rest, ignore, hasIgnore, cn);
    }
  }
  return flags;
}

// -------------------------------------------------------------- pass 2 ----
// Pixels [from, to) of one sample (a multiple of 4, at most BLOCK): adds
// their losses to *stat, writes the gradient rows and (lrow ≠ 0) the
// per-pixel losses. E (scratch) holds the group's exponentials.
// @ts-ignore: decorator
@inline function softmaxBlock(hasGrad: bool, tgt: i32, masked: bool,
  xn: usize, tn: usize, mn: usize, on: usize, lrow: usize, C: i32, stride: usize, from: usize, to: usize, valid: i32,
  ignore: i32, hasIgnore: bool, weights: usize, gamma: f32, gscale: f32, stat: usize, E: usize): void {
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO), one = kConst(K_ONE);
    const ign = i32x4.splat(ignore), ignOn = i32x4.splat(hasIgnore ? -1 : 0);
    const gm = f32x4.splat(gamma), gs = f32x4.splat(gscale);
    const minusOne = f32x4.neg(one);
    const keep0 = vvalid(valid);
    let acc = zero;
    for (let s = from; s < to; s += 4) {
      const y = vindex(tgt, tn, s);
      let keep = v128.andnot(keep0, v128.and(i32x4.eq(y, ign), ignOn));
      if (masked) keep = v128.and(keep, i32x4.ne(loadU8x4(mn + s), i32x4.splat(0)));
      let mx = v128.load(xn + (s << 2));
      for (let c = 1; c < C; c++) mx = f32x4.pmax(mx, v128.load(xn + ((<usize>c * stride + s) << 2)));
      let S = zero, ey = zero, xy = zero, al = zero;
      for (let c = 0; c < C; c++) {
        const xc = v128.load(xn + ((<usize>c * stride + s) << 2));
        const e = vexpNonPositive(f32x4.sub(xc, mx));
        v128.store(E + (<usize>c << 4), e);
        const isY = i32x4.eq(y, i32x4.splat(c));
        S = f32x4.add(S, v128.andnot(e, isY));
        ey = v128.bitselect(e, ey, isY);
        xy = v128.bitselect(xc, xy, isY);
        al = v128.bitselect(f32x4.splat(load<f32>(weights + (<usize>c << 2))), al, isY);
      }
      const big = f32x4.pmax(ey, S), small = f32x4.pmin(ey, S);
      const Z = f32x4.add(big, small);
      const r = f32x4.div(one, Z);
      const lZ = f32x4.add(vlogNormal(Z), f32x4.mul(f32x4.sub(small, f32x4.sub(Z, big)), r));
      const lp = f32x4.sub(f32x4.sub(xy, mx), lZ);
      const d = f32x4.mul(S, r);
      const M = vexp(f32x4.mul(gm, f32x4.sub(vlog(S), lZ)));
      const aM = f32x4.mul(al, M);
      const loss = v128.and(f32x4.neg(f32x4.mul(aM, lp)), keep);
      if (lrow) v128.store(lrow + (s << 2), loss);
      acc = f32x4.add(acc, loss);
      if (hasGrad) {
        const py = f32x4.mul(ey, r);
        const ratio = v128.bitselect(f32x4.div(lp, d), minusOne, f32x4.gt(d, zero)); // log p_y/d
        let F = f32x4.sub(aM, f32x4.mul(f32x4.mul(gm, aM), f32x4.mul(py, ratio)));
        F = v128.and(f32x4.mul(gs, F), keep);
        const negD = f32x4.neg(d);
        for (let c = 0; c < C; c++) {
          const isY = i32x4.eq(y, i32x4.splat(c));
          const coefc = v128.bitselect(negD, f32x4.mul(v128.load(E + (<usize>c << 4)), r), isY);
          v128.store(on + ((<usize>c * stride + s) << 2), f32x4.mul(coefc, F));
        }
      }
    }
    addF64(stat, lanesToF64(acc));
  } else {
    let acc0: f32 = 0, acc1: f32 = 0, acc2: f32 = 0, acc3: f32 = 0;
    for (let s = from; s < to; s += 4) {
      for (let k: usize = 0; k < 4; k++) {
        const e0 = s + k;
        const y = sindex(tgt, tn, e0);
        let keep = <i32>k < valid && !(hasIgnore && y == ignore);
        if (masked && load<u8>(mn + e0) == 0) keep = false;
        let mx = load<f32>(xn + (e0 << 2));
        for (let c = 1; c < C; c++) mx = pmax(mx, load<f32>(xn + ((<usize>c * stride + e0) << 2)));
        let S: f32 = 0, ey: f32 = 0, xy: f32 = 0, al: f32 = 0;
        for (let c = 0; c < C; c++) {
          const xc = load<f32>(xn + ((<usize>c * stride + e0) << 2));
          const e = sexpNonPositive(xc - mx);
          store<f32>(E + (<usize>c << 2), e);
          S += y == c ? <f32>0 : e; // the SIMD build adds 0 in y's lane
          if (y == c) { ey = e; xy = xc; al = load<f32>(weights + (<usize>c << 2)); }
        }
        const big = pmax(ey, S), small = pmin(ey, S);
        const Z = big + small;
        const r = <f32>1.0 / Z;
        const lZ = slogNormal(Z) + (small - (Z - big)) * r;
        const lp = (xy - mx) - lZ;
        const d = S * r;
        const M = sexp(gamma * (slog(S) - lZ));
        const aM = al * M;
        const loss: f32 = keep ? -(aM * lp) : 0;
        if (lrow) store<f32>(lrow + (e0 << 2), loss);
        if (k == 0) acc0 += loss; else if (k == 1) acc1 += loss; else if (k == 2) acc2 += loss; else acc3 += loss;
        if (hasGrad) {
          const py = ey * r;
          const ratio: f32 = d > 0 ? lp / d : -1;
          let F = aM - (gamma * aM) * (py * ratio);
          F = keep ? gscale * F : 0;
          for (let c = 0; c < C; c++) {
            const coefc = y == c ? -d : load<f32>(E + (<usize>c << 2)) * r;
            store<f32>(on + ((<usize>c * stride + e0) << 2), coefc * F);
          }
        }
      }
    }
    addF64(stat, <f64>acc0 + <f64>acc1 + <f64>acc2 + <f64>acc3);
  }
}

// @ts-ignore: decorator
@inline function softmaxAll(hasGrad: bool, x: usize, t: usize, m: usize, out: usize, lossOut: usize, lossStride: usize,
  weights: usize, stats: usize, scratch: usize, N: i32, C: i32, L: i32, stride: usize, tgt: i32, maskMode: i32,
  ignore: i32, hasIgnore: bool, gamma: f32, gscale: f32): void {
  const tsize = targetBytes(tgt);
  const main = <usize>(L & ~3), rest = <usize>L - main;
  const masked = maskMode != MASK_NONE;
  const E = scratch;
  for (let n = 0; n < N; n++) {
    const xn = rowOf(x, n, C, 0, stride, 4), tn = t + <usize>n * stride * tsize, mn = m + <usize>n * stride;
    const on = hasGrad ? rowOf(out, n, C, 0, stride, 4) : 0;
    const lrow = lossOut ? lossOut + ((<usize>n * lossStride) << 2) : 0;
    const stat = stats + (<usize>n << 3);
    for (let b0: usize = 0; b0 < main; b0 += BLOCK) {
      const e = b0 + BLOCK < main ? b0 + BLOCK : main;
      softmaxBlock(hasGrad, tgt, masked, xn, tn, mn, on, lrow, C, stride, b0, e, 4,
        ignore, hasIgnore, weights, gamma, gscale, stat, E);
    }
    if (rest) {
      copyTailSoftmax(xn, tn, mn, masked, tsize, C, stride, main, rest, scratch);
      const XT = scratch + <usize>C * 16, TT = XT + <usize>C * 16, MT = TT + 16, OT = MT + 16, LT = OT + <usize>C * 16;
      softmaxBlock(hasGrad, tgt, masked, XT, TT, MT, OT, lrow ? LT : 0, C, 4, 0, 4, <i32>rest,
        ignore, hasIgnore, weights, gamma, gscale, stat, E);
      if (hasGrad) {
        for (let c = 0; c < C; c++) memory.copy(on + ((<usize>c * stride + main) << 2), OT + <usize>c * 16, rest << 2);
      }
      if (lrow) memory.copy(lrow + (main << 2), LT, rest << 2);
    }
  }
}

/**
 * Pass 2 of softmax focalLoss: adds each sample's loss sum into `stats`
 * (f64 [N]); writes dLoss/dLogits (times gscale) to `out` unless out = 0, and
 * the per-pixel losses to lossOut (rows lossStride apart) unless lossOut = 0.
 * `weights` holds α_c (f32 [C]).
 */
export function focalSoftmaxForward(x: usize, t: usize, m: usize, out: usize, lossOut: usize, lossStride: i32,
  weights: usize, stats: usize, scratch: usize, N: i32, C: i32, L: i32, stride: i32,
  tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, gamma: f32, gscale: f32): void {
  if (out) softmaxAll(true, x, t, m, out, lossOut, <usize>lossStride, weights, stats, scratch, N, C, L, <usize>stride, tgt, maskMode, ignore, hasIgnore, gamma, gscale);
  else softmaxAll(false, x, t, m, out, lossOut, <usize>lossStride, weights, stats, scratch, N, C, L, <usize>stride, tgt, maskMode, ignore, hasIgnore, gamma, gscale);
}
