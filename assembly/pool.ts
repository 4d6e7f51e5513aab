// Pooling kernels of the distance-aware losses: clDiceLoss (src/skeleton.ts)
// and toleranceDiceLoss (src/tolerance.ts). Float64 oracle: src/reference/pool.ts.
//
// Every kernel works on one plane of D×H×W elements (D = 1 in 2-D), element
// (d, h, w) at flat index i = (d·H + h)·W + w; index arrays hold such flat
// indices (i32). Borders are not padded: a window keeps its in-bounds
// elements only (PyTorch's max_pool with −∞ padding).
//
// Pools, with the element they select recorded for the backward pass:
//   erodeCross:  e_i = min over the cross {i, i ± 1, i ± W, i ± H·W} — the min
//                of clDice's soft_erode, −maxpool(−x) over 3×1 and 1×3 (and
//                1×1×3 in 3-D) windows;
//   maxPoolBox:  m_i = max over the (2r+1)^dims box around i (Chebyshev
//                radius r) — soft_dilate for r = 1, the tolerance window else.
// Tie rule: of equal extreme values the one with the smallest flat index wins.
// The box max is separable (along W, then H, then D), each 1-D pass scanning
// its window in increasing order with a strict comparison; the row pass keeps
// the smallest w of the row's maximum, the next pass the smallest h among the
// rows that reach the box maximum, so the winner is the lexicographically
// smallest (d, h, w), i.e. the smallest flat index.
// Backward: dL/dx_j = Σ over outputs i that selected j of dL/dm_i (a scatter).
//
// Every operation is an exact selection, or an f32 operation done in the same
// order by the vector form (SIMD build) and the scalar form, and sums are f64
// scalar loops in both builds: the SIMD and the scalar build give the same bits.

import {
  kConst, K_ONE, K_ZERO, pmax, vexpNegAbs, sexpNegAbs, vsigmoidFromTail, ssigmoidFromTail,
  vsigmoidSlopeFromTail, ssigmoidSlopeFromTail,
} from './simd';
import { ACT_SIGMOID, FLAG_INPUT, FLAG_TARGET } from './layout';

// Lane offsets (0, 1, 2, 3) and +∞, loaded once per call (see simd.ts EXP_TABLE for why).
const POOL_TABLE: usize = memory.data<i32>([0, 1, 2, 3, 0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000], 16);

// @ts-ignore: decorator
@inline function ldf(a: usize, i: i32): f32 { return load<f32>(a + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function stf(a: usize, i: i32, v: f32): void { store<f32>(a + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function ldi(a: usize, i: i32): i32 { return load<i32>(a + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function sti(a: usize, i: i32, v: i32): void { store<i32>(a + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function vldf(a: usize, i: i32): v128 { return v128.load(a + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function vst(a: usize, i: i32, v: v128): void { v128.store(a + (<usize>i << 2), v); }

/** Bytes of one plane array: n elements rounded up to 4 (16-byte aligned blocks). */
// @ts-ignore: decorator
@inline function slotBytes(n: i32): usize { return <usize>((n + 3) & ~3) << 2; }

// ------------------------------------------------------------ validation ---
/**
 * FLAG_INPUT if an input is not finite (sigmoid) or not in [0, 1] ('none'),
 * FLAG_TARGET if a target is not in [0, 1]; 0 when everything is valid.
 */
export function poolCheck(x: usize, g: usize, n: i32, act: i32): i32 {
  let i = 0;
  let flags = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO), one = kConst(K_ONE);
    let okX = i32x4.splat(-1), okG = okX;
    for (; i + 4 <= n; i += 4) {
      const xv = vldf(x, i), gv = vldf(g, i);
      okX = v128.and(okX, act == ACT_SIGMOID
        ? f32x4.eq(f32x4.sub(xv, xv), zero)
        : v128.and(f32x4.ge(xv, zero), f32x4.le(xv, one)));
      okG = v128.and(okG, v128.and(f32x4.ge(gv, zero), f32x4.le(gv, one)));
    }
    if (!i32x4.all_true(okX)) flags |= FLAG_INPUT;
    if (!i32x4.all_true(okG)) flags |= FLAG_TARGET;
  }
  for (; i < n; i++) {
    const xv = ldf(x, i), gv = ldf(g, i);
    if (act == ACT_SIGMOID ? !(xv - xv == 0) : !(xv >= 0 && xv <= 1)) flags |= FLAG_INPUT;
    if (!(gv >= 0 && gv <= 1)) flags |= FLAG_TARGET;
  }
  return flags;
}

// ------------------------------------------------------------- logistic ---
/** p = σ(x) for n elements (stable form of simd.ts: t = e^−|x|, r = 1/(1 + t)). */
export function poolSigmoid(x: usize, p: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const xv = vldf(x, i);
      const t = vexpNegAbs(xv);
      vst(p, i, vsigmoidFromTail(xv, t, f32x4.div(kConst(K_ONE), f32x4.add(kConst(K_ONE), t))));
    }
  }
  for (; i < n; i++) {
    const xv = ldf(x, i);
    const t = sexpNegAbs(xv);
    stf(p, i, ssigmoidFromTail(xv, t, <f32>1.0 / (<f32>1.0 + t)));
  }
}

/** out_i ← out_i · σ'(x_i), σ' = t·r·r (chain rule of the sigmoid activation). */
function timesSigmoidSlope(x: usize, out: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const t = vexpNegAbs(vldf(x, i));
      const r = f32x4.div(kConst(K_ONE), f32x4.add(kConst(K_ONE), t));
      vst(out, i, f32x4.mul(vldf(out, i), vsigmoidSlopeFromTail(t, r)));
    }
  }
  for (; i < n; i++) {
    const t = sexpNegAbs(ldf(x, i));
    const r = <f32>1.0 / (<f32>1.0 + t);
    stf(out, i, ldf(out, i) * ssigmoidSlopeFromTail(t, r));
  }
}

// ---------------------------------------------------------------- erosion ---
// One element of the cross min: candidates in increasing flat index, strict <,
// starting from +∞ (inputs are finite), so the argmin is the smallest index.
// @ts-ignore: decorator
@inline function crossAt(src: usize, dst: usize, arg: usize, i: i32, w: i32, W: i32, HW: i32,
  dm: bool, hm: bool, hp: bool, dp: bool): void {
  let best = <f32>Infinity;
  let bi = -1;
  let v: f32;
  if (dm) { v = ldf(src, i - HW); if (v < best) { best = v; bi = i - HW; } }
  if (hm) { v = ldf(src, i - W); if (v < best) { best = v; bi = i - W; } }
  if (w > 0) { v = ldf(src, i - 1); if (v < best) { best = v; bi = i - 1; } }
  v = ldf(src, i); if (v < best) { best = v; bi = i; }
  if (w < W - 1) { v = ldf(src, i + 1); if (v < best) { best = v; bi = i + 1; } }
  if (hp) { v = ldf(src, i + W); if (v < best) { best = v; bi = i + W; } }
  if (dp) { v = ldf(src, i + HW); if (v < best) { best = v; bi = i + HW; } }
  stf(dst, i, best);
  sti(arg, i, bi);
}

/** e_i = min over the in-bounds cross of i, arg_i = its index (smallest of ties). */
export function erodeCross(src: usize, dst: usize, arg: usize, D: i32, H: i32, W: i32): void {
  const HW = H * W;
  for (let d = 0; d < D; d++) {
    for (let h = 0; h < H; h++) {
      const row = d * HW + h * W;
      const dm = d > 0, dp = d < D - 1, hm = h > 0, hp = h < H - 1;
      crossAt(src, dst, arg, row, 0, W, HW, dm, hm, hp, dp);
      let w = 1;
      if (ASC_FEATURE_SIMD) {
        const ids = v128.load(POOL_TABLE);
        const inf = v128.load(POOL_TABLE, 16);
        const minus1 = i32x4.splat(-1);
        for (; w + 4 <= W - 1; w += 4) {
          const i = row + w;
          let best = inf, bi = minus1, v: v128, m: v128;
          if (dm) {
            v = vldf(src, i - HW); m = f32x4.lt(v, best);
            best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i - HW), ids), bi, m);
          }
          if (hm) {
            v = vldf(src, i - W); m = f32x4.lt(v, best);
            best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i - W), ids), bi, m);
          }
          v = vldf(src, i - 1); m = f32x4.lt(v, best);
          best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i - 1), ids), bi, m);
          v = vldf(src, i); m = f32x4.lt(v, best);
          best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i), ids), bi, m);
          v = vldf(src, i + 1); m = f32x4.lt(v, best);
          best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i + 1), ids), bi, m);
          if (hp) {
            v = vldf(src, i + W); m = f32x4.lt(v, best);
            best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i + W), ids), bi, m);
          }
          if (dp) {
            v = vldf(src, i + HW); m = f32x4.lt(v, best);
            best = v128.bitselect(v, best, m); bi = v128.bitselect(i32x4.add(i32x4.splat(i + HW), ids), bi, m);
          }
          vst(dst, i, best);
          vst(arg, i, bi);
        }
      }
      for (; w < W; w++) crossAt(src, dst, arg, row + w, w, W, HW, dm, hm, hp, dp);
    }
  }
}

// --------------------------------------------------------------- box max ---
// Pass along W: for each of `rows` rows of W elements, the max over
// [w − r, w + r] ∩ [0, W), scanned upwards with a strict >; the index written
// is the flat index of the winner.
function maxAlongW(src: usize, dv: usize, da: usize, rows: i32, W: i32, r: i32): void {
  for (let row = 0; row < rows; row++) {
    const base = row * W;
    let w = 0;
    for (; w < W && w < r; w++) maxAlongWAt(src, dv, da, base, w, W, r);
    if (ASC_FEATURE_SIMD) {
      const ids = v128.load(POOL_TABLE);
      // Lanes w..w+3 with every window [w − r, w + 3 + r] in bounds.
      for (; w + 3 + r <= W - 1; w += 4) {
        const s = base + w - r;
        let best = vldf(src, s);
        let bi = i32x4.add(i32x4.splat(s), ids);
        for (let j = 1; j <= 2 * r; j++) {
          const v = vldf(src, s + j);
          const m = f32x4.gt(v, best);
          best = v128.bitselect(v, best, m);
          bi = v128.bitselect(i32x4.add(i32x4.splat(s + j), ids), bi, m);
        }
        vst(dv, base + w, best);
        vst(da, base + w, bi);
      }
    }
    for (; w < W; w++) maxAlongWAt(src, dv, da, base, w, W, r);
  }
}
// @ts-ignore: decorator
@inline function maxAlongWAt(src: usize, dv: usize, da: usize, base: i32, w: i32, W: i32, r: i32): void {
  const lo = w - r > 0 ? w - r : 0;
  const hi = w + r < W - 1 ? w + r : W - 1;
  let best = ldf(src, base + lo);
  let bi = lo;
  for (let j = lo + 1; j <= hi; j++) {
    const v = ldf(src, base + j);
    if (v > best) { best = v; bi = j; }
  }
  stf(dv, base + w, best);
  sti(da, base + w, base + bi);
}

// Pass along a strided axis: the data is [outer][count][inner]; for each
// (o, c, x) the max over c' ∈ [c − r, c + r] ∩ [0, count) of (o, c', x), scanned
// upwards with a strict >, carrying the winner's index from `sa`.
function maxAlongStrided(sv: usize, sa: usize, dv: usize, da: usize, outer: i32, count: i32, inner: i32, r: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < count; c++) {
      const lo = c - r > 0 ? c - r : 0;
      const hi = c + r < count - 1 ? c + r : count - 1;
      const first = (o * count + lo) * inner;
      const out = (o * count + c) * inner;
      let x = 0;
      if (ASC_FEATURE_SIMD) {
        for (; x + 4 <= inner; x += 4) {
          let best = vldf(sv, first + x);
          let bi = vldf(sa, first + x);
          for (let j = lo + 1; j <= hi; j++) {
            const at = (o * count + j) * inner + x;
            const v = vldf(sv, at);
            const m = f32x4.gt(v, best);
            best = v128.bitselect(v, best, m);
            bi = v128.bitselect(vldf(sa, at), bi, m);
          }
          vst(dv, out + x, best);
          vst(da, out + x, bi);
        }
      }
      for (; x < inner; x++) {
        let best = ldf(sv, first + x);
        let bi = ldi(sa, first + x);
        for (let j = lo + 1; j <= hi; j++) {
          const at = (o * count + j) * inner + x;
          const v = ldf(sv, at);
          if (v > best) { best = v; bi = ldi(sa, at); }
        }
        stf(dv, out + x, best);
        sti(da, out + x, bi);
      }
    }
  }
}

/** Scratch bytes of {@link maxPoolBox} for a plane of n elements. */
export function maxPoolTempBytes(n: i32): f64 {
  return 4 * <f64>slotBytes(n);
}

/**
 * m_i = max over the in-bounds box of Chebyshev radius r around i, arg_i = its
 * flat index (smallest of ties); `temp` holds maxPoolTempBytes(n) bytes.
 */
export function maxPoolBox(src: usize, dst: usize, arg: usize, D: i32, H: i32, W: i32, r: i32, temp: usize): void {
  const B = slotBytes(D * H * W);
  const t1 = temp, a1 = temp + B, t2 = temp + 2 * B, a2 = temp + 3 * B;
  maxAlongW(src, t1, a1, D * H, W, r);
  if (D == 1) {
    maxAlongStrided(t1, a1, dst, arg, 1, H, W, r);
  } else {
    maxAlongStrided(t1, a1, t2, a2, D, H, W, r);
    maxAlongStrided(t2, a2, dst, arg, 1, D, H * W, r);
  }
}

/** gIn[arg_i] += gOut_i for every i (the backward of a pool; f32 adds in order of i). */
// @ts-ignore: decorator
@inline function scatterAdd(gOut: usize, arg: usize, gIn: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const j = ldi(arg, i);
    stf(gIn, j, ldf(gIn, j) + ldf(gOut, i));
  }
}

// --------------------------------------------------------- soft skeleton ---
// clDice's soft_skel (Shit et al. 2021, reference code jocpae/clDice), with
// e_0 = p, e_{k+1} = erode(e_k), o_k = dilate(e_{k+1}) (3×3 / 3×3×3 box max):
//   δ_k = relu(e_k − o_k)                          k = 0..K
//   s_0 = δ_0,  s_k = s_{k−1} + relu(δ_k − s_{k−1}·δ_k)   k = 1..K
// (soft_open(e_k) = dilate(erode(e_k)) = o_k; the reference computes e_{k+1}
// once in its loop and once inside soft_open, with the same values.)
// Backward, with relu'(0) = 0 (PyTorch): where t_k = δ_k − s_{k−1}δ_k > 0,
//   ∂s_k/∂δ_k = 1 − s_{k−1},  ∂s_k/∂s_{k−1} = 1 − δ_k   (else 0 and 1);
// where δ_k > 0, ∂δ_k/∂e_k = 1 and ∂δ_k/∂o_k = −1, routed to e_{k+1} at the
// dilation's argmax; the erosions route e_{k+1}'s gradient to e_k's argmin.
//
// Work layout (slots of slotBytes(n)): E_0..E_{K+1}, AE_1..AE_{K+1} (argmin of
// e_k per element of e_{k+1}), AD_0..AD_K (argmax in e_{k+1} per element of
// o_k), DL_0..DL_K (δ_k), SK_0..SK_K (s_k), GE_0..GE_{K+1} (dL/de_k), then the
// 4 slots of maxPoolBox's scratch: 6K + 12 slots.
// @ts-ignore: decorator
@inline function slotE(work: usize, B: usize, k: i32): usize { return work + <usize>k * B; }
// @ts-ignore: decorator
@inline function slotAE(work: usize, B: usize, K: i32, k: i32): usize { return work + <usize>(K + 2 + k - 1) * B; }
// @ts-ignore: decorator
@inline function slotAD(work: usize, B: usize, K: i32, k: i32): usize { return work + <usize>(2 * K + 3 + k) * B; }
// @ts-ignore: decorator
@inline function slotDL(work: usize, B: usize, K: i32, k: i32): usize { return work + <usize>(3 * K + 4 + k) * B; }
// @ts-ignore: decorator
@inline function slotSK(work: usize, B: usize, K: i32, k: i32): usize { return work + <usize>(4 * K + 5 + k) * B; }
// @ts-ignore: decorator
@inline function slotGE(work: usize, B: usize, K: i32, k: i32): usize { return work + <usize>(5 * K + 6 + k) * B; }
// @ts-ignore: decorator
@inline function slotTemp(work: usize, B: usize, K: i32): usize { return work + <usize>(6 * K + 8) * B; }

/** Work bytes of {@link softSkeleton} / {@link clDiceGradient} for a plane of n elements and K iterations. */
export function skeletonWorkBytes(n: i32, K: i32): f64 {
  return (6 * <f64>K + 12) * <f64>slotBytes(n); // f64: more than 2^31 bytes must be reported, not wrap
}

/** δ ← relu(e − δ) in place (δ holds o on entry). */
function reluDifference(e: usize, dl: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO);
    for (; i + 4 <= n; i += 4) vst(dl, i, f32x4.pmax(zero, f32x4.sub(vldf(e, i), vldf(dl, i))));
  }
  for (; i < n; i++) stf(dl, i, pmax(0, ldf(e, i) - ldf(dl, i)));
}

/** s_k = s_{k−1} + relu(δ_k − s_{k−1}·δ_k). */
function skeletonStep(sp: usize, dl: usize, sk: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO);
    for (; i + 4 <= n; i += 4) {
      const s = vldf(sp, i), d = vldf(dl, i);
      vst(sk, i, f32x4.add(s, f32x4.pmax(zero, f32x4.sub(d, f32x4.mul(s, d)))));
    }
  }
  for (; i < n; i++) {
    const s = ldf(sp, i), d = ldf(dl, i);
    stf(sk, i, s + pmax(0, d - s * d));
  }
}

/**
 * The soft skeleton of the plane p (n = D·H·W elements) after K iterations,
 * written to out; the intermediates stay in `work` for {@link clDiceGradient}.
 */
export function softSkeleton(p: usize, out: usize, work: usize, D: i32, H: i32, W: i32, K: i32): void {
  const n = D * H * W;
  const B = slotBytes(n);
  const temp = slotTemp(work, B, K);
  memory.copy(slotE(work, B, 0), p, <usize>n << 2);
  for (let k = 0; k <= K; k++) {
    const e = slotE(work, B, k), e1 = slotE(work, B, k + 1), dl = slotDL(work, B, K, k);
    erodeCross(e, e1, slotAE(work, B, K, k + 1), D, H, W);
    maxPoolBox(e1, dl, slotAD(work, B, K, k), D, H, W, 1, temp);
    reluDifference(e, dl, n);
  }
  memory.copy(slotSK(work, B, K, 0), slotDL(work, B, K, 0), <usize>n << 2);
  for (let k = 1; k <= K; k++) skeletonStep(slotSK(work, B, K, k - 1), slotDL(work, B, K, k), slotSK(work, B, K, k), n);
  memory.copy(out, slotSK(work, B, K, K), <usize>n << 2);
}

// The pointwise part of the backward, per element, from s_K down to δ_0, with
// g = dL/ds_k on entry: where t_k > 0, dL/dδ_k = g·(1 − s_{k−1}) and g becomes
// dL/ds_{k−1} = g·(1 − δ_k) (else dL/dδ_k = 0 and g passes unchanged); dL/dδ_0 = g. Each
// GE_k starts as dL/dδ_k where δ_k > 0 (the direct term of δ_k = relu(e_k − o_k)),
// else 0; GE_{K+1} starts at 0.
// @ts-ignore: decorator
@inline function skeletonSeedAt(i: i32, up: f32, work: usize, B: usize, K: i32): void {
  let g = up;
  for (let k = K; k >= 1; k--) {
    const d = ldf(slotDL(work, B, K, k), i), s = ldf(slotSK(work, B, K, k - 1), i);
    const active = d - s * d > 0;
    const gd: f32 = active ? g * (<f32>1.0 - s) : 0;
    g = active ? g * (<f32>1.0 - d) : g;
    stf(slotGE(work, B, K, k), i, d > 0 ? gd : 0);
  }
  stf(slotGE(work, B, K, 0), i, ldf(slotDL(work, B, K, 0), i) > 0 ? g : 0);
}

/**
 * dL/dp into gp, from dL/ds_K = a·g_i + b, through the intermediates of the last softSkeleton call.
 * After the pointwise seeds, for k = K down to 0: o_k's gradient −GE_k (still only δ_k's direct
 * term) goes to e_{k+1} at the dilation's argmax, which completes GE_{k+1}; then e_{k+1}'s gradient
 * goes to e_k at the erosion's argmin.
 */
function softSkeletonBackward(g: usize, a: f32, b: f32, gp: usize, work: usize, D: i32, H: i32, W: i32, K: i32): void {
  const n = D * H * W;
  const B = slotBytes(n);
  memory.fill(slotGE(work, B, K, K + 1), 0, B);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const zero = kConst(K_ZERO), one = kConst(K_ONE);
    const av = f32x4.splat(a), bv = f32x4.splat(b);
    for (; i + 4 <= n; i += 4) {
      let gv = f32x4.add(f32x4.mul(av, vldf(g, i)), bv);
      for (let k = K; k >= 1; k--) {
        const d = vldf(slotDL(work, B, K, k), i), s = vldf(slotSK(work, B, K, k - 1), i);
        const active = f32x4.gt(f32x4.sub(d, f32x4.mul(s, d)), zero);
        const gd = v128.and(f32x4.mul(gv, f32x4.sub(one, s)), active);
        gv = v128.bitselect(f32x4.mul(gv, f32x4.sub(one, d)), gv, active);
        vst(slotGE(work, B, K, k), i, v128.and(gd, f32x4.gt(d, zero)));
      }
      vst(slotGE(work, B, K, 0), i, v128.and(gv, f32x4.gt(vldf(slotDL(work, B, K, 0), i), zero)));
    }
  }
  for (; i < n; i++) skeletonSeedAt(i, a * ldf(g, i) + b, work, B, K);
  for (let k = K; k >= 0; k--) {
    const ge = slotGE(work, B, K, k), ge1 = slotGE(work, B, K, k + 1), ad = slotAD(work, B, K, k);
    for (let j = 0; j < n; j++) {
      const to = ldi(ad, j);
      stf(ge1, to, ldf(ge1, to) - ldf(ge, j));
    }
    scatterAdd(ge1, slotAE(work, B, K, k + 1), ge, n);
  }
  memory.copy(gp, slotGE(work, B, K, 0), <usize>n << 2);
}

// ------------------------------------------------------------------ clDice ---
/**
 * The four sums both plane losses need, f64, into out: Σ u·v, Σ u, Σ w·z, Σ w.
 * clDice: u = s_P, v = g, w = s_G, z = p (the soft skeletons of prediction and
 * target); tolerance Dice: u = p, v = dilate(g), w = g, z = maxpool(p).
 */
export function pairedSums(u: usize, v: usize, w: usize, z: usize, n: i32, out: usize): void {
  let a: f64 = 0, b: f64 = 0, c: f64 = 0, d: f64 = 0;
  for (let i = 0; i < n; i++) {
    const s = <f64>ldf(u, i), t = <f64>ldf(w, i);
    a += s * <f64>ldf(v, i);
    b += s;
    c += t * <f64>ldf(z, i);
    d += t;
  }
  store<f64>(out, a);
  store<f64>(out, b, 8);
  store<f64>(out, c, 16);
  store<f64>(out, d, 24);
}

/**
 * dL/dx of one plane, written to out, after softSkeleton(p) left its
 * intermediates in `work`: dL/ds_P,i = cA·g_i + cB goes back through the
 * skeleton, then dL/dp_i = that + cC·s_G,i, times σ'(x_i) with the sigmoid.
 */
export function clDiceGradient(x: usize, g: usize, sg: usize, out: usize, work: usize,
  D: i32, H: i32, W: i32, K: i32, act: i32, cA: f64, cB: f64, cC: f64): void {
  const n = D * H * W;
  const c = <f32>cC;
  softSkeletonBackward(g, <f32>cA, <f32>cB, out, work, D, H, W, K);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const cv = f32x4.splat(c);
    for (; i + 4 <= n; i += 4) vst(out, i, f32x4.add(vldf(out, i), f32x4.mul(cv, vldf(sg, i))));
  }
  for (; i < n; i++) stf(out, i, ldf(out, i) + c * ldf(sg, i));
  if (act == ACT_SIGMOID) timesSigmoidSlope(x, out, n);
}

// ---------------------------------------------------------- tolerance Dice ---
// Its sums come from pairedSums (above).

/**
 * dL/dx of one plane: out_i = a·dilate(g)_i + b, plus c·g_j for every j whose
 * window max maxpool(p)_j was taken at i (arg_j = i), times σ'(x_i) with the sigmoid.
 */
export function toleranceGradient(x: usize, dg: usize, g: usize, arg: usize, out: usize, n: i32, act: i32,
  a: f64, b: f64, c: f64): void {
  const af = <f32>a, bf = <f32>b, cf = <f32>c;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const av = f32x4.splat(af), bv = f32x4.splat(bf);
    for (; i + 4 <= n; i += 4) vst(out, i, f32x4.add(f32x4.mul(av, vldf(dg, i)), bv));
  }
  for (; i < n; i++) stf(out, i, af * ldf(dg, i) + bf);
  for (let j = 0; j < n; j++) {
    const gv = ldf(g, j);
    if (gv != 0) {
      const k = ldi(arg, j);
      stf(out, k, ldf(out, k) + cf * gv);
    }
  }
  if (act == ACT_SIGMOID) timesSigmoidSlope(x, out, n);
}
