// Soft Dice family: pass 1 (diceSums) reads input and target once and
// accumulates, per (sample, class), I = Σ p·g, SP = Σ p (or Σ p²), SG = Σ g
// (or Σ g²); the epilogue (assembly/region.ts) turns the sums into losses and
// into per-entry gradient coefficients; pass 2 (diceGradient) writes
// dLoss/dInput. With soft labels (MONAI's soft_label) the intersection is
// I = (‖p‖₁ + ‖g‖₁ − ‖p − g‖₁)/2 = Σ min(p, g), which is 0-loss at p = g.
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
// Each block has a vector form (SIMD build) and a scalar form. The scalar form
// visits elements one by one but keeps the 8 lane accumulators of the vector
// form (two f32x4 sets: elements 0–3 and 4–7 of each group of 8) and flushes
// them in the same order, with the same f32 operations per element, so both
// give the same bits. The scalar build runs the scalar form everywhere; the
// SIMD build runs it on the last L mod 8 elements of each row (a separate
// block), so that vector loads never run past the end of an array.

import {
  vexpNonPositive, sexpNonPositive, kConst, K_ONE, K_ZERO, vabsBits, vabsBitsMax, vfiniteLanes, loadU8x4, loadU16x4, pmax, pmin,
  vexpNegAbs, sexpNegAbs, vsigmoidFromTail, ssigmoidFromTail, vsigmoidSlopeFromTail, ssigmoidSlopeFromTail,
  vsignedTail, ssignedTail, vsigmoidFromSignedTail, ssigmoidFromSignedTail,
  vlogNormal, slogNormal,
} from './simd';
import { ACT_NONE, ACT_SIGMOID, ACT_SOFTMAX, ACT_SIGMOID_TAIL, ACT_SOFTMAX_KEPT, ACT_SIGMOID_SLOPE, TGT_F32, TGT_U8, TGT_SOFT, IDX_U8, IDX_U16, IDX_I32, MASK_NONE, MASK_PIXEL, MASK_ELEMENT, BLOCK, FLAG_INPUT, FLAG_TARGET, isIndex, isSigmoid, targetBytes, vtarget, vindex, starget, sindex } from './layout';


// Scalar build: the 8 lanes of the three accumulators (I, SP, SG), and of the
// pixel loss's (at most two, see sumsBlock).
const LANES: usize = memory.data(5 * 8 * 4, 16);

// ---------------------------------------------------------------- scratch ---
// Per call, the bindings provide `diceScratchBytes(C)` bytes of scratch, all
// indexed by the pixel's position in the current block:
//   E  C×BLOCK f32   softmax probabilities
//   R  BLOCK f32     max_c p_c, the probability of the arg-max channel
//   MX, LZ  BLOCK    diceCeSums: m = max_k x_k and log Z of the pixel
//   IX  BLOCK i32    pass 1, SIMD: the pixel's class index, or −1 (sumsBlock)
//   CV  C×CV_BYTES  softmax pass 2, SIMD: splatted coefficients, and the
//                    current pixel group's q and CE weight (softmaxGradPixels)
// @ts-ignore: decorator
@inline function offR(C: i32): usize { return <usize>C * BLOCK * 4; }
// @ts-ignore: decorator
@inline function offMX(C: i32): usize { return offR(C) + BLOCK * 4; }
// @ts-ignore: decorator
@inline function offIX(C: i32): usize { return offMX(C) + 2 * BLOCK * 4; }
// @ts-ignore: decorator
@inline function offCV(C: i32): usize { return offIX(C) + BLOCK * 4; }
// One channel's CV record: A, B1, B2, W and c splatted (0–79), then q and the
// CE weight of the pixel group in hand (80–111).
// @ts-ignore: decorator
@inline const CV_BYTES: usize = 112;

export function diceScratchBytes(C: i32): i32 {
  return <i32>(offCV(C) + <usize>C * CV_BYTES);
}


// ------------------------------------------------------------ lane loads ---
// Four lanes starting at element o of a row.

// All-ones lanes where x is finite: x − x is 0 for finite x and NaN otherwise.
// @ts-ignore: decorator
@inline function vfinite(x: v128): v128 {
  return f32x4.eq(f32x4.sub(x, x), kConst(K_ZERO));
}
// All-ones lanes where 0 ≤ g ≤ 1 (false for NaN).
// @ts-ignore: decorator
@inline function vunit(g: v128, one: v128): v128 {
  return v128.and(f32x4.ge(g, kConst(K_ZERO)), f32x4.le(g, one));
}
// The intersection term of one element: p·g, or min(p, g) for soft labels,
// and its derivative dI/dp: g, or the step (1 − sign(p − g))/2.
// @ts-ignore: decorator
@inline function vinter(tgt: i32, p: v128, g: v128): v128 {
  return tgt == TGT_SOFT ? f32x4.pmin(p, g) : f32x4.mul(p, g);
}
// @ts-ignore: decorator
@inline function sinter(tgt: i32, p: f32, g: f32): f32 {
  return tgt == TGT_SOFT ? pmin(p, g) : p * g;
}
// @ts-ignore: decorator
@inline function vinterSlope(tgt: i32, p: v128, g: v128, one: v128): v128 {
  if (tgt != TGT_SOFT) return g;
  return f32x4.add(v128.and(f32x4.lt(p, g), one), v128.and(f32x4.eq(p, g), f32x4.mul(one, f32x4.splat(0.5))));
}
// @ts-ignore: decorator
@inline function sinterSlope(tgt: i32, p: f32, g: f32): f32 {
  if (tgt != TGT_SOFT) return g;
  return <f32>(p < g ? 1 : 0) + <f32>(p == g ? 0.5 : 0);
}
// @ts-ignore: decorator
@inline function vmaskKeep(row: usize, o: usize): v128 {
  return i32x4.ne(loadU8x4(row + o), i32x4.splat(0));
}

// ------------------------------------------------------------- softmax ----
// p_c = e^(x_c − m) / Σ_k e^(x_k − m), m = max_k x_k, for the pixels [from, to)
// of a block; written to E (row c at E + c·BLOCK, element s − from), or with
// `keep` to `kept` (the input's layout, where pass 2 will read them), and
// 1/Σ_k e^(x_k − m), which is exactly the arg-max channel's p (e^0 = 1), to R;
// with `lse` also m to MX and log Z, Z = Σ_k e^(x_k − m) ∈ [1, C], to LZ.
// log Z is corrected for the rounding of the sum (TwoSum per addition gives
// the exact error ε of Z, and log(Z + ε) ≈ log Z + ε/Z), so that −log p of a
// confident pixel (Z = 1 + tiny) keeps its relative accuracy.
// `vector`: the SIMD form, for a block whose length is a multiple of 8.
// Returns FLAG_INPUT if a logit is not finite.
// @ts-ignore: decorator
@inline function softmaxBlock(vector: bool, lse: bool, x: usize, stride: usize, C: i32, from: usize, to: usize, E: usize,
  keep: bool, kept: usize): i32 {
  const MX = E + offMX(C), LZ = MX + BLOCK * 4;
  if (ASC_FEATURE_SIMD && vector) {
    // Two vectors of pixels (A: s..s+3, B: s+4..s+7) at a time, for two
    // independent exps per channel.
    let bits = i32x4.splat(0);
    for (let s = from; s < to; s += 8) {
      const j = (s - from) << 2;
      let xa = v128.load(x + (s << 2)), xb = v128.load(x + (s << 2), 16);
      bits = vabsBitsMax(bits, xa, xb);
      let ma = xa, mb = xb;
      for (let c = 1; c < C; c++) {
        const o = (<usize>c * stride + s) << 2;
        xa = v128.load(x + o); xb = v128.load(x + o, 16);
        bits = vabsBitsMax(bits, xa, xb);
        ma = f32x4.pmax(ma, xa); mb = f32x4.pmax(mb, xb);
      }
      let za = kConst(K_ZERO), zb = za, erra = za, errb = za;
      for (let c = 0; c < C; c++) {
        const o = (<usize>c * stride + s) << 2;
        const ea = vexpNonPositive(f32x4.sub(v128.load(x + o), ma));
        const eb = vexpNonPositive(f32x4.sub(v128.load(x + o, 16), mb));
        const at = keep ? kept + o : E + <usize>c * BLOCK * 4 + j;
        v128.store(at, ea); v128.store(at, eb, 16);
        const suma = f32x4.add(za, ea), sumb = f32x4.add(zb, eb);
        if (lse) {
          const bea = f32x4.sub(suma, za), beb = f32x4.sub(sumb, zb);
          erra = f32x4.add(erra, f32x4.add(f32x4.sub(za, f32x4.sub(suma, bea)), f32x4.sub(ea, bea)));
          errb = f32x4.add(errb, f32x4.add(f32x4.sub(zb, f32x4.sub(sumb, beb)), f32x4.sub(eb, beb)));
        }
        za = suma; zb = sumb;
      }
      const ra = f32x4.div(kConst(K_ONE), za), rb = f32x4.div(kConst(K_ONE), zb);
      v128.store(E + offR(C) + j, ra); v128.store(E + offR(C) + j, rb, 16);
      if (lse) {
        v128.store(MX + j, ma); v128.store(MX + j, mb, 16);
        v128.store(LZ + j, f32x4.add(vlogNormal(za), f32x4.mul(erra, ra)));
        v128.store(LZ + j, f32x4.add(vlogNormal(zb), f32x4.mul(errb, rb)), 16);
      }
      for (let c = 0; c < C; c++) {
        const at = keep ? kept + ((<usize>c * stride + s) << 2) : E + <usize>c * BLOCK * 4 + j;
        v128.store(at, f32x4.mul(v128.load(at), ra));
        v128.store(at, f32x4.mul(v128.load(at, 16), rb), 16);
      }
    }
    return i32x4.all_true(vfiniteLanes(bits)) ? 0 : FLAG_INPUT;
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
      let z: f32 = 0, err: f32 = 0;
      for (let c = 0; c < C; c++) {
        const e = sexpNonPositive(load<f32>(x + ((<usize>c * stride + s) << 2)) - m);
        store<f32>(keep ? kept + ((<usize>c * stride + s) << 2) : E + <usize>c * BLOCK * 4 + j, e);
        const sum = z + e;
        if (lse) {
          const be = sum - z;
          err = err + ((z - (sum - be)) + (e - be));
        }
        z = sum;
      }
      const r: f32 = <f32>1.0 / z;
      store<f32>(E + offR(C) + j, r);
      if (lse) { store<f32>(MX + j, m); store<f32>(LZ + j, slogNormal(z) + err * r); }
      for (let c = 0; c < C; c++) {
        const at = keep ? kept + ((<usize>c * stride + s) << 2) : E + <usize>c * BLOCK * 4 + j;
        store<f32>(at, load<f32>(at) * r);
      }
    }
    return flags;
  }
}

// ------------------------------------------------------------- sigmoid ----
// σ(x) for the elements [from, to) of a row (SIMD, 8 at a time: a block whose
// length is a multiple of 8), to E (the row's element s at E + 4s) when
// `toE`, and what pass 2 keeps of each (the signed tail, or σ'(x)) to `kept`.
// A loop of its own, apart from the sums: with the two exps, the sums' eight
// accumulators and the checks in one loop, V8 runs out of xmm registers and
// spills the accumulators on every iteration.
// Returns FLAG_INPUT if a logit is not finite.
// @ts-ignore: decorator
@inline function sigmoidBlock(act: i32, x: usize, kept: usize, toE: bool, E: usize, from: usize, to: usize): i32 {
  const one = kConst(K_ONE);
  let bits = kConst(K_ZERO);
  for (let s = from; s < to; s += 8) {
    const o = s << 2;
    const xA = v128.load(x + o), xB = v128.load(x + o, 16);
    bits = vabsBitsMax(bits, xA, xB);
    const ta = vexpNegAbs(xA), tb = vexpNegAbs(xB);
    const ra = f32x4.div(one, f32x4.add(one, ta)), rb = f32x4.div(one, f32x4.add(one, tb));
    if (toE) {
      v128.store(E + o, vsigmoidFromTail(xA, ta, ra));
      v128.store(E + o, vsigmoidFromTail(xB, tb, rb), 16);
    }
    if (act == ACT_SIGMOID_TAIL) {
      v128.store(kept + o, vsignedTail(xA, ta));
      v128.store(kept + o, vsignedTail(xB, tb), 16);
    } else if (act == ACT_SIGMOID_SLOPE) {
      v128.store(kept + o, vsigmoidSlopeFromTail(ta, ra));
      v128.store(kept + o, vsigmoidSlopeFromTail(tb, rb), 16);
    }
  }
  return i32x4.all_true(vfiniteLanes(bits)) ? 0 : FLAG_INPUT;
}

// -------------------------------------------------------------- pass 1 ----
// Adds the sums of rows [from, to) of one sample into stats (f64, [C][W]).
// `vector`: the SIMD form, for a block whose length is a multiple of 8.
// `pix` adds a pixel loss's sums after (I, SP, SG) (statsWidth(pix) per entry):
//   PIX_COUNT (diceBceSums, sigmoid, dense targets): K = #elements the BCE part
//     keeps (mask ≠ 0 and the label not in RCF's ignored band (0, lo)) and
//     NP = #of those with g ≥ posAt (HED / RCF positives); the BCE terms
//     themselves come in pass 2 (bceForward), whose weights need these counts;
//   PIX_CE (diceCeSums, softmax, class ids): CE_c = Σ over kept pixels labelled
//     c of −log p_c = (m − x_c) + log Z, m = max_k x_k, Z = Σ_k e^(x_k − m) ≥ 1
//     (two non-negative terms: no cancellation, exact for tiny p_c).
export const PIX_NONE = 0;
export const PIX_COUNT = 1;
export const PIX_CE = 2;
// @ts-ignore: decorator
@inline function statsWidth(pix: i32): usize { return pix == PIX_COUNT ? 5 : pix == PIX_CE ? 4 : 3; }

// @ts-ignore: decorator
@inline function sumsBlock(
  act: i32, tgt: i32, maskMode: i32, vector: bool, pix: i32,
  x: usize, g: usize, m: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, squared: bool, lo: f32, posAt: f32, stats: usize, scratch: usize, tail: usize,
): i32 {
  const E = scratch, MX = scratch + offMX(C), LZ = MX + BLOCK * 4;
  let flags = (act == ACT_SOFTMAX || act == ACT_SOFTMAX_KEPT) ? softmaxBlock(vector, pix == PIX_CE, x, stride, C, from, to, E, act == ACT_SOFTMAX_KEPT, tail) : 0;
  const gsize = targetBytes(tgt);
  const rel = from << 2;
  // Class indices (SIMD): each pixel's index decoded once for all channels,
  // into IX: the index, or −1 where the pixel is ignored (ignoreIndex) or
  // masked out (per-pixel mask). An index outside [0, C) that is not ignored
  // fails the block, masked out or not.
  const IX = scratch + offIX(C) - rel;
  if (ASC_FEATURE_SIMD && vector && isIndex(tgt)) {
    const ign = i32x4.splat(ignore), ignOn = i32x4.splat(hasIgnore ? -1 : 0);
    let bits = i32x4.splat(0);
    for (let s = from; s < to; s += 4) {
      const t = vindex(tgt, g, s);
      let drop = v128.and(i32x4.eq(t, ign), ignOn);
      bits = i32x4.max_u(bits, v128.andnot(t, drop));
      if (maskMode == MASK_PIXEL) drop = v128.or(drop, v128.not(vmaskKeep(m, s)));
      v128.store(IX + (s << 2), v128.or(t, drop));
    }
    if (!i32x4.all_true(i32x4.lt_u(bits, i32x4.splat(C)))) flags |= FLAG_TARGET;
  }
  for (let c = 0; c < C; c++) {
    const xr = x + <usize>c * stride * 4, tr = tail + <usize>c * stride * 4;
    // Softmax probabilities: in E, or where pass 1 keeps them for pass 2.
    // Sigmoid probabilities: in E, one row at a time.
    const er = act == ACT_SOFTMAX_KEPT ? tr : E + <usize>(isSigmoid(act) ? 0 : c) * BLOCK * 4 - rel;
    const gr = isIndex(tgt) ? g : g + <usize>c * stride * gsize;
    const mr = maskMode == MASK_ELEMENT ? m + <usize>c * stride : m;
    let sI: f64 = 0, sP: f64 = 0, sG: f64 = 0, s3: f64 = 0, s4: f64 = 0;
    if (ASC_FEATURE_SIMD && vector) {
      if (isSigmoid(act)) flags |= sigmoidBlock(act, xr, tr, true, er, from, to);
      const one = kConst(K_ONE);
      const cv = i32x4.splat(c);
      let iA = kConst(K_ZERO), iB = iA, pA = iA, pB = iA, gA = iA, gB = iA;
      let uA = iA, uB = iA, vA = iA, vB = iA;
      const lov = f32x4.splat(lo), posv = f32x4.splat(posAt);
      // Validation rides along as unsigned maxima of bit patterns: |x| as bits
      // is ≥ 0x7f800000 only for ±Infinity and NaN; a target g is in [0, 1]
      // iff its bits are ≤ 0x3f800000 (−0 fails this, so a failure is
      // re-checked exactly by blockFlags); a u8 target must be ≤ 1 and an
      // index < C. Probabilities summed unmasked need no maxima: a NaN or an
      // infinity makes its lane's Σ p (or Σ p²) non-finite, which is checked
      // once per block (a finite overflow only costs the exact re-check).
      const xBySum = act == ACT_NONE && maskMode == MASK_NONE && !isIndex(tgt);
      let xBits = i32x4.splat(0), gBits = xBits;
      const keepAll = i32x4.splat(-1);
      // Two halves of 8 lanes (A: elements s..s+3, B: s+4..s+7) with their own
      // accumulators, written out rather than looped so that V8 keeps every
      // accumulator in a register.
      for (let s = from; s < to; s += 8) {
        let pa: v128, pb: v128;
        if (act != ACT_NONE) {
          pa = v128.load(er + (s << 2)); pb = v128.load(er + (s << 2), 16);
        } else {
          pa = v128.load(xr + (s << 2)); pb = v128.load(xr + (s << 2), 16);
          if (!xBySum) xBits = vabsBitsMax(xBits, pa, pb);
        }
        let ka = keepAll, kb = keepAll;
        let ga: v128, gb: v128;
        if (isIndex(tgt)) {
          // Kept where the decoded index is not −1; g is then 0 wherever not kept.
          const ta = v128.load(IX + (s << 2)), tb = v128.load(IX + (s << 2), 16);
          ka = i32x4.gt_s(ta, keepAll); kb = i32x4.gt_s(tb, keepAll);
          ga = v128.and(i32x4.eq(ta, cv), one); gb = v128.and(i32x4.eq(tb, cv), one);
        } else if (tgt == TGT_U8) {
          // Eight bytes widened at once (one load, three extends).
          const w = v128.load8x8_u(gr + s);
          ga = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(w));
          gb = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(w));
          gBits = i16x8.max_u(gBits, w);
        } else {
          ga = vtarget(tgt, gr, s); gb = vtarget(tgt, gr, s + 4);
          gBits = i32x4.max_u(gBits, i32x4.max_u(ga, gb));
        }
        if (maskMode == MASK_ELEMENT || (maskMode == MASK_PIXEL && !isIndex(tgt))) {
          ka = v128.and(ka, vmaskKeep(mr, s)); kb = v128.and(kb, vmaskKeep(mr, s + 4));
        }
        if (maskMode != MASK_NONE || isIndex(tgt)) {
          pa = v128.and(pa, ka); pb = v128.and(pb, kb);
          if (maskMode == MASK_ELEMENT || !isIndex(tgt)) { ga = v128.and(ga, ka); gb = v128.and(gb, kb); }
        }
        iA = f32x4.add(iA, vinter(tgt, pa, ga)); iB = f32x4.add(iB, vinter(tgt, pb, gb));
        if (squared) {
          pA = f32x4.add(pA, f32x4.mul(pa, pa)); pB = f32x4.add(pB, f32x4.mul(pb, pb));
          gA = f32x4.add(gA, f32x4.mul(ga, ga)); gB = f32x4.add(gB, f32x4.mul(gb, gb));
        } else {
          pA = f32x4.add(pA, pa); pB = f32x4.add(pB, pb);
          gA = f32x4.add(gA, ga); gB = f32x4.add(gB, gb);
        }
        if (pix == PIX_COUNT) {
          const ba = v128.andnot(ka, v128.and(f32x4.gt(ga, kConst(K_ZERO)), f32x4.lt(ga, lov)));
          const bb = v128.andnot(kb, v128.and(f32x4.gt(gb, kConst(K_ZERO)), f32x4.lt(gb, lov)));
          uA = f32x4.add(uA, v128.and(one, ba)); uB = f32x4.add(uB, v128.and(one, bb));
          vA = f32x4.add(vA, v128.and(one, v128.and(ba, f32x4.ge(ga, posv))));
          vB = f32x4.add(vB, v128.and(one, v128.and(bb, f32x4.ge(gb, posv))));
        } else if (pix == PIX_CE) {
          const j = (s << 2) - rel;
          const ma = v128.load(MX + j), mb = v128.load(MX + j, 16);
          const za = v128.load(LZ + j), zb = v128.load(LZ + j, 16);
          const la = f32x4.add(f32x4.sub(ma, v128.load(xr + (s << 2))), za);
          const lb = f32x4.add(f32x4.sub(mb, v128.load(xr + (s << 2), 16)), zb);
          // Selected, not multiplied by g: m − x of another class may overflow to Infinity.
          uA = f32x4.add(uA, v128.and(la, f32x4.ne(ga, kConst(K_ZERO))));
          uB = f32x4.add(uB, v128.and(lb, f32x4.ne(gb, kConst(K_ZERO))));
        }
      }
      if (xBySum) xBits = vabsBits(f32x4.add(pA, pB));
      const ok = v128.and(vfiniteLanes(xBits),
        isIndex(tgt) ? keepAll // checked when decoded
        : tgt == TGT_U8 ? i16x8.le_u(gBits, i16x8.splat(1))
        : i32x4.le_u(gBits, i32x4.splat(0x3f800000)));
      if (!i8x16.all_true(ok)) { // bytes: the u8 check has i16 lanes
        // Which flag, exactly: re-check this block element by element (rare path).
        flags |= blockFlags(act, tgt, xr, gr, from, to, C, ignore, hasIgnore);
      }
      sI = lanesToF64(f32x4.add(iA, iB));
      sP = lanesToF64(f32x4.add(pA, pB));
      sG = lanesToF64(f32x4.add(gA, gB));
      if (pix != PIX_NONE) s3 = lanesToF64(f32x4.add(uA, uB));
      if (pix == PIX_COUNT) s4 = lanesToF64(f32x4.add(vA, vB));
    } else {
      memory.fill(LANES, 0, 5 * 8 * 4);
      for (let s = from; s < to; s++) {
        const k = (s - from) & 7;
        let keep = true;
        let p: f32, gv: f32;
        if (act == ACT_SOFTMAX || act == ACT_SOFTMAX_KEPT) {
          p = load<f32>(er + (s << 2));
        } else {
          const xv = load<f32>(xr + (s << 2));
          if (xv - xv != 0) flags |= FLAG_INPUT;
          p = xv;
          if (isSigmoid(act)) {
            const t = sexpNegAbs(xv), r: f32 = <f32>1.0 / (<f32>1.0 + t);
            p = ssigmoidFromTail(xv, t, r);
            if (act == ACT_SIGMOID_TAIL) store<f32>(tr + (s << 2), ssignedTail(xv, t));
            else if (act == ACT_SIGMOID_SLOPE) store<f32>(tr + (s << 2), ssigmoidSlopeFromTail(t, r));
          }
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
        store<f32>(lane, load<f32>(lane) + sinter(tgt, p, gv));
        store<f32>(lane, load<f32>(lane, 32) + p * (squared ? p : 1), 32);
        store<f32>(lane, load<f32>(lane, 64) + gv * (squared ? gv : 1), 64);
        if (pix == PIX_COUNT) {
          const counted = keep && !(gv > 0 && gv < lo);
          store<f32>(lane, load<f32>(lane, 96) + (counted ? <f32>1 : <f32>0), 96);
          store<f32>(lane, load<f32>(lane, 128) + (counted && gv >= posAt ? <f32>1 : <f32>0), 128);
        } else if (pix == PIX_CE) {
          const j = (s << 2) - rel;
          const l = (load<f32>(MX + j) - load<f32>(xr + (s << 2))) + load<f32>(LZ + j);
          store<f32>(lane, load<f32>(lane, 96) + (gv != 0 ? l : <f32>0), 96);
        }
      }
      sI = lanesToF64Scalar(LANES);
      sP = lanesToF64Scalar(LANES + 32);
      sG = lanesToF64Scalar(LANES + 64);
      if (pix != PIX_NONE) s3 = lanesToF64Scalar(LANES + 96);
      if (pix == PIX_COUNT) s4 = lanesToF64Scalar(LANES + 128);
    }
    const st = stats + <usize>c * statsWidth(pix) * 8;
    store<f64>(st, load<f64>(st) + sI);
    store<f64>(st, load<f64>(st, 8) + sP, 8);
    store<f64>(st, load<f64>(st, 16) + sG, 16);
    if (pix != PIX_NONE) store<f64>(st, load<f64>(st, 24) + s3, 24);
    if (pix == PIX_COUNT) store<f64>(st, load<f64>(st, 32) + s4, 32);
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
  C: i32, ignore: i32, hasIgnore: bool): i32 {
  let flags = 0;
  for (let s = from; s < to; s++) {
    if (act != ACT_SOFTMAX && act != ACT_SOFTMAX_KEPT) {
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
// `ce` (diceCeGradient, softmax): coef is [C][4], (A, B1, B2, W_c), and the
// weighted cross-entropy's dCE/dx_k = W_y·(p_k − [k = y]) of a kept pixel
// labelled y is added.
// `affine`: B2 = 0 (plain sums) and hard labels (dI/dp = g), so q = A·g + B1
// does not depend on p: pass 2 then reads no input without an activation, and
// with sigmoid only σ'(x) (recomputed, or kept by pass 1: ACT_SIGMOID_SLOPE).
// @ts-ignore: decorator
@inline function gradBlock(
  act: i32, tgt: i32, maskMode: i32, vector: bool, ce: bool, affine: bool,
  x: usize, g: usize, m: usize, out: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, coef: usize, scratch: usize,
): void {
  if (act == ACT_SOFTMAX || act == ACT_SOFTMAX_KEPT) {
    if (act == ACT_SOFTMAX) softmaxBlock(vector, false, x, stride, C, from, to, scratch, false, 0);
    softmaxGradPixels(act, tgt, maskMode, vector, ce, x, g, m, out, stride, C, from, to, ignore, hasIgnore, coef, scratch);
  } else {
    gradElements(act, tgt, maskMode, vector, affine, x, g, m, out, stride, C, from, to, ignore, hasIgnore, coef, scratch);
  }
}

// Without softmax every element's gradient is its own: row by row.
// Sigmoid without kept data (ACT_SIGMOID, above the kept limit), SIMD: the
// row's block first goes through sigmoidBlock, which leaves in scratch what
// pass 1 would have kept (σ' for the affine form, else the signed tail), and
// the gradient loop then reads it as it reads kept data: the same bits, and
// the exps run in a loop of their own, two at a time (in the gradient loop,
// one exp per iteration was a dependency chain the out-of-order window could
// not hide).
// @ts-ignore: decorator
@inline function gradElements(
  act: i32, tgt: i32, maskMode: i32, vector: bool, affine: bool,
  x: usize, g: usize, m: usize, out: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, coef: usize, scratch: usize,
): void {
  const gsize = targetBytes(tgt);
  for (let c = 0; c < C; c++) {
    const xr = x + <usize>c * stride * 4;
    const orow = out + <usize>c * stride * 4;
    const gr = isIndex(tgt) ? g : g + <usize>c * stride * gsize;
    const mr = maskMode == MASK_ELEMENT ? m + <usize>c * stride : m;
    const cf = coef + <usize>c * 12;
    if (ASC_FEATURE_SIMD && vector) {
      const A = f32x4.splat(load<f32>(cf)), B1 = f32x4.splat(load<f32>(cf, 4)), B2 = f32x4.splat(load<f32>(cf, 8));
      const one = kConst(K_ONE);
      const cv = i32x4.splat(c), ign = i32x4.splat(ignore);
      const ignOn = i32x4.splat(hasIgnore ? -1 : 0);
      // What the loop reads: the row itself, or for ACT_SIGMOID the block's
      // σ' or signed tail in scratch (MX's rows, free in pass 2).
      const kAct = act == ACT_SIGMOID ? (affine ? ACT_SIGMOID_SLOPE : ACT_SIGMOID_TAIL) : act;
      let kr = xr;
      if (act == ACT_SIGMOID) {
        const rel = from << 2;
        kr = scratch + offMX(C) - rel;
        sigmoidBlock(kAct, xr, kr, false, 0, from, to);
      }
      for (let s = from; s < to; s += 4) {
        let keep = i32x4.splat(-1);
        let p: v128 = one, slope: v128 = one, gv: v128;
        if (kAct == ACT_SIGMOID_SLOPE) {
          slope = v128.load(kr + (s << 2)); // σ'(x), kept by pass 1
        } else if (kAct == ACT_SIGMOID_TAIL) {
          // xv is the signed tail pass 1 stored: no exp here.
          const xv = v128.load(kr + (s << 2));
          const t = f32x4.abs(xv), r = f32x4.div(one, f32x4.add(one, t));
          p = vsigmoidFromSignedTail(xv, t, r);
          slope = vsigmoidSlopeFromTail(t, r);
        } else if (!affine) p = v128.load(xr + (s << 2));
        if (isIndex(tgt)) {
          const t = vindex(tgt, gr, s);
          keep = v128.andnot(keep, v128.and(i32x4.eq(t, ign), ignOn));
          gv = v128.and(i32x4.eq(t, cv), one);
        } else {
          gv = vtarget(tgt, gr, s);
        }
        if (maskMode != MASK_NONE) keep = v128.and(keep, vmaskKeep(mr, s));
        let q = affine
          ? f32x4.add(f32x4.mul(A, gv), B1)
          : f32x4.add(f32x4.add(f32x4.mul(A, vinterSlope(tgt, p, gv, one)), f32x4.mul(B2, p)), B1);
        if (maskMode != MASK_NONE || isIndex(tgt)) q = v128.and(q, keep);
        v128.store(orow + (s << 2), isSigmoid(act) ? f32x4.mul(q, slope) : q);
      }
    } else {
      const A = load<f32>(cf), B1 = load<f32>(cf, 4), B2 = load<f32>(cf, 8);
      for (let s = from; s < to; s++) {
        let keep = true;
        let p: f32 = 1, slope: f32 = 1, gv: f32;
        if (act == ACT_SIGMOID_SLOPE) {
          slope = load<f32>(xr + (s << 2));
        } else if (act == ACT_SIGMOID) {
          const xv = load<f32>(xr + (s << 2));
          const t = sexpNegAbs(xv), r: f32 = <f32>1.0 / (<f32>1.0 + t);
          if (!affine) p = ssigmoidFromTail(xv, t, r);
          slope = ssigmoidSlopeFromTail(t, r);
        } else if (act == ACT_SIGMOID_TAIL) {
          const xv = load<f32>(xr + (s << 2));
          const t = abs<f32>(xv), r: f32 = <f32>1.0 / (<f32>1.0 + t);
          p = ssigmoidFromSignedTail(xv, t, r);
          slope = ssigmoidSlopeFromTail(t, r);
        } else if (!affine) p = load<f32>(xr + (s << 2));
        if (isIndex(tgt)) {
          const t = sindex(tgt, gr, s);
          if (hasIgnore && t == ignore) keep = false;
          gv = t == c ? 1 : 0;
        } else {
          gv = starget(tgt, gr, s);
        }
        if (maskMode != MASK_NONE && load<u8>(mr + s) == 0) keep = false;
        let q: f32 = affine ? A * gv + B1 : (A * sinterSlope(tgt, p, gv) + B2 * p) + B1;
        if (!keep) q = 0;
        store<f32>(orow + (s << 2), isSigmoid(act) ? q * slope : q);
      }
    }
  }
}

// Softmax: dL/dx_k = p_k·(q_k − Σ_c p_c·q_c). For a confident pixel
// (p_a → 1) q_a − Σ_c p_c·q_c cancels, so it is rearranged around the arg-max
// channel a, using Σ_c p_c = 1:
//   dL/dx_k = p_k·((q_k − q_a) + D),  D = q_a·PN − TN,
//   PN = Σ_{c≠a} p_c,  TN = Σ_{c≠a} p_c·q_c,
// where every term is small when p_a is close to 1. The arg-max a is the first
// channel whose p equals R = max_c p_c. Pixel by pixel (four at a time), one
// walk over the channels gathers q_a, PN and TN (and with `ce` the pixel's CE
// weight W_y) in registers, a second writes the output; the SIMD form's first
// walk also leaves each channel's q (and CE weight) in CV for the second.
// p comes from softmaxBlock's E (ACT_SOFTMAX), with R its 1/Z, exactly the
// arg-max channel's p (e^0·(1/Z); every other e_c·(1/Z) ≤ 1/Z); or from the
// probabilities pass 1 kept at x (ACT_SOFTMAX_KEPT), with R = max_c p_c taken
// here, the same bits as a recomputation.
// @ts-ignore: decorator
@inline function softmaxGradPixels(
  act: i32, tgt: i32, maskMode: i32, vector: bool, ce: bool,
  x: usize, g: usize, m: usize, out: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, coef: usize, scratch: usize,
): void {
  const kept = act == ACT_SOFTMAX_KEPT;
  // Element s of channel c's p: at pc + c·pStride + s·4.
  const pc = kept ? x : scratch - (from << 2), pStride: usize = kept ? stride * 4 : BLOCK * 4;
  const R = scratch + offR(C) - (from << 2);
  const cfSize: usize = ce ? 16 : 12;
  if (ASC_FEATURE_SIMD && vector) {
    const one = kConst(K_ONE), zero = kConst(K_ZERO);
    const ign = i32x4.splat(ignore), ignOn = i32x4.splat(hasIgnore ? -1 : 0);
    // Every channel's (A, B1, B2, W, c) splatted once per block, at CV + c·CV_BYTES:
    // the channel loops below then load them (a splat per pixel group costs more).
    const CV = scratch + offCV(C);
    for (let c = 0; c < C; c++) {
      const cf = coef + <usize>c * cfSize, cv = CV + <usize>c * CV_BYTES;
      v128.store(cv, f32x4.splat(load<f32>(cf)));
      v128.store(cv, f32x4.splat(load<f32>(cf, 4)), 16);
      v128.store(cv, f32x4.splat(load<f32>(cf, 8)), 32);
      v128.store(cv, f32x4.splat(ce ? load<f32>(cf, 12) : 0), 48);
      v128.store(cv, i32x4.splat(c), 64);
    }
    for (let s = from; s < to; s += 4) {
      const o = s << 2;
      let t = zero, pixelKeep = i32x4.splat(-1);
      if (isIndex(tgt)) {
        t = vindex(tgt, g, s);
        pixelKeep = v128.andnot(pixelKeep, v128.and(i32x4.eq(t, ign), ignOn));
      }
      if (maskMode == MASK_PIXEL) pixelKeep = v128.and(pixelKeep, vmaskKeep(m, s));
      let r: v128;
      if (kept) {
        r = v128.load(pc + o);
        for (let c = 1; c < C; c++) r = f32x4.pmax(r, v128.load(pc + <usize>c * pStride + o));
      } else r = v128.load(R + o);
      let found = zero, qa = zero, pn = zero, tn = zero, wt = zero;
      for (let c = 0; c < C; c++) {
        const p = v128.load(pc + <usize>c * pStride + o);
        const cv = CV + <usize>c * CV_BYTES;
        const gv = vchannelTarget(tgt, t, cv, g, stride, c, s, one);
        const keep = maskMode == MASK_ELEMENT ? v128.and(pixelKeep, vmaskKeep(m + <usize>c * stride, s)) : pixelKeep;
        const q = vsoftmaxQ(tgt, maskMode, cv, p, gv, keep, one);
        v128.store(cv, q, 80); // for the second loop
        const isArg = v128.andnot(f32x4.eq(p, r), found);
        found = v128.or(found, isArg);
        qa = v128.bitselect(q, qa, isArg);
        pn = f32x4.add(pn, v128.andnot(p, isArg));
        tn = f32x4.add(tn, v128.andnot(f32x4.mul(p, q), isArg));
        // The CE term's −[k = y]·W_y of this channel (0 unless kept and labelled c).
        if (ce) {
          const w = vceWeight(cv, gv, keep);
          v128.store(cv, w, 96);
          wt = f32x4.add(wt, w);
        }
      }
      const d = f32x4.sub(f32x4.mul(qa, pn), tn);
      for (let c = 0; c < C; c++) {
        const p = v128.load(pc + <usize>c * pStride + o);
        const cv = CV + <usize>c * CV_BYTES;
        let e = f32x4.add(f32x4.sub(v128.load(cv, 80), qa), d);
        if (ce) e = f32x4.add(e, wt);
        let v = f32x4.mul(p, e);
        if (ce) v = f32x4.sub(v, v128.load(cv, 96));
        v128.store(out + <usize>c * stride * 4 + o, v);
      }
    }
  } else {
    for (let s = from; s < to; s++) {
      const o = s << 2;
      let t = 0, pixelKeep = true;
      if (isIndex(tgt)) {
        t = sindex(tgt, g, s);
        if (hasIgnore && t == ignore) pixelKeep = false;
      }
      if (maskMode == MASK_PIXEL && load<u8>(m + s) == 0) pixelKeep = false;
      let r: f32;
      if (kept) {
        r = load<f32>(pc + o);
        for (let c = 1; c < C; c++) r = pmax(r, load<f32>(pc + <usize>c * pStride + o));
      } else r = load<f32>(R + o);
      let found = false, qa: f32 = 0, pn: f32 = 0, tn: f32 = 0, wt: f32 = 0;
      for (let c = 0; c < C; c++) {
        const p = load<f32>(pc + <usize>c * pStride + o);
        const gv = schannelTarget(tgt, t, g, stride, c, s);
        const keep = pixelKeep && !(maskMode == MASK_ELEMENT && load<u8>(m + <usize>c * stride + s) == 0);
        const cf = coef + <usize>c * cfSize;
        const q = ssoftmaxQ(tgt, cf, p, gv, keep);
        const isArg = !found && p == r;
        if (isArg) found = true;
        qa = isArg ? q : qa;
        pn = pn + (isArg ? 0 : p);
        tn = tn + (isArg ? 0 : p * q);
        if (ce) wt = wt + sceWeight(cf, gv, keep);
      }
      const d = qa * pn - tn;
      for (let c = 0; c < C; c++) {
        const p = load<f32>(pc + <usize>c * pStride + o);
        const gv = schannelTarget(tgt, t, g, stride, c, s);
        const keep = pixelKeep && !(maskMode == MASK_ELEMENT && load<u8>(m + <usize>c * stride + s) == 0);
        const cf = coef + <usize>c * cfSize;
        let e = (ssoftmaxQ(tgt, cf, p, gv, keep) - qa) + d;
        if (ce) e = e + wt;
        let v = p * e;
        if (ce) v = v - sceWeight(cf, gv, keep);
        store<f32>(out + <usize>c * stride * 4 + o, v);
      }
    }
  }
}

// g of channel c at pixel s: [t = c] for class indices t (the splatted c at
// cv + 64 in the vector form), else the dense target's row c.
// @ts-ignore: decorator
@inline function vchannelTarget(tgt: i32, t: v128, cv: usize, g: usize, stride: usize, c: i32, s: usize, one: v128): v128 {
  return isIndex(tgt) ? v128.and(i32x4.eq(t, v128.load(cv, 64)), one) : vtarget(tgt, g + <usize>c * stride * targetBytes(tgt), s);
}
// @ts-ignore: decorator
@inline function schannelTarget(tgt: i32, t: i32, g: usize, stride: usize, c: i32, s: usize): f32 {
  return isIndex(tgt) ? <f32>(t == c ? 1 : 0) : starget(tgt, g + <usize>c * stride * targetBytes(tgt), s);
}
// The CE weight a channel takes at a pixel: W_c where kept and labelled c, else 0.
// @ts-ignore: decorator
@inline function vceWeight(cv: usize, gv: v128, keep: v128): v128 { return v128.and(f32x4.mul(gv, v128.load(cv, 48)), keep); }
// @ts-ignore: decorator
@inline function sceWeight(cf: usize, gv: f32, keep: bool): f32 { return keep ? gv * load<f32>(cf, 12) : 0; }

// q = A·dI/dp + B2·p + B1 of one channel, 0 where not kept (coefficients at
// cf; splatted at cv for the vector form).
// @ts-ignore: decorator
@inline function vsoftmaxQ(tgt: i32, maskMode: i32, cv: usize, p: v128, gv: v128, keep: v128, one: v128): v128 {
  const A = v128.load(cv), B1 = v128.load(cv, 16), B2 = v128.load(cv, 32);
  const q = f32x4.add(f32x4.add(f32x4.mul(A, vinterSlope(tgt, p, gv, one)), f32x4.mul(B2, p)), B1);
  return maskMode != MASK_NONE || isIndex(tgt) ? v128.and(q, keep) : q;
}
// @ts-ignore: decorator
@inline function ssoftmaxQ(tgt: i32, cf: usize, p: f32, gv: f32, keep: bool): f32 {
  const q: f32 = (load<f32>(cf) * sinterSlope(tgt, p, gv) + load<f32>(cf, 8) * p) + load<f32>(cf, 4);
  return keep ? q : 0;
}

// The scalar forms as ordinary functions with run-time options: the scalar
// build runs them everywhere and the SIMD build on row tails, so one copy each
// serves every specialisation (inlining them too would only grow the module).
function sumsBlockScalar(act: i32, tgt: i32, maskMode: i32, pix: i32,
  x: usize, g: usize, m: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, squared: bool, lo: f32, posAt: f32, stats: usize, scratch: usize, tail: usize): i32 {
  return sumsBlock(act, tgt, maskMode, false, pix, x, g, m, stride, C, from, to, ignore, hasIgnore, squared, lo, posAt, stats, scratch, tail);
}
function gradBlockScalar(act: i32, tgt: i32, maskMode: i32, ce: bool, affine: bool,
  x: usize, g: usize, m: usize, out: usize, stride: usize, C: i32, from: usize, to: usize,
  ignore: i32, hasIgnore: bool, coef: usize, scratch: usize): void {
  gradBlock(act, tgt, maskMode, false, ce, affine, x, g, m, out, stride, C, from, to, ignore, hasIgnore, coef, scratch);
}

// -------------------------------------------------------------- drivers ---
// Samples are walked one by one; each row is cut into blocks of BLOCK
// elements, and its last L mod 8 elements form a final scalar block.

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
@inline function sumsAll(act: i32, tgt: i32, masked: bool, pix: i32,
  x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool,
  lo: f32, posAt: f32, tail: usize): i32 {
  let flags = 0;
  const main = <usize>(L & ~7);
  const mm = masked ? maskMode : MASK_NONE;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * C * stride * 4, tn = tail + <usize>n * C * stride * 4;
    const gn = sampleTargetRow(tgt, g, n, C, stride), mn = sampleMaskRow(mm, m, n, C, stride);
    const sn = stats + <usize>n * C * statsWidth(pix) * 8;
    for (let b: usize = 0; b < main; b += BLOCK) {
      const e = b + BLOCK < main ? b + BLOCK : main;
      flags |= ASC_FEATURE_SIMD
        ? sumsBlock(act, tgt, mm, true, pix, xn, gn, mn, stride, C, b, e, ignore, hasIgnore, squared, lo, posAt, sn, scratch, tn)
        : sumsBlockScalar(act, tgt, mm, pix, xn, gn, mn, stride, C, b, e, ignore, hasIgnore, squared, lo, posAt, sn, scratch, tn);
    }
    if (main < <usize>L) {
      flags |= sumsBlockScalar(act, tgt, mm, pix, xn, gn, mn, stride, C, main, L, ignore, hasIgnore, squared, lo, posAt, sn, scratch, tn);
    }
  }
  return flags;
}

// @ts-ignore: decorator
@inline function gradAll(act: i32, tgt: i32, masked: bool, ce: bool, affine: bool,
  x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: usize, maskMode: i32, ignore: i32, hasIgnore: bool, coefStride: usize): void {
  const main = <usize>(L & ~7);
  const mm = masked ? maskMode : MASK_NONE;
  for (let n = 0; n < N; n++) {
    const xn = x + <usize>n * C * stride * 4, on = out + <usize>n * C * stride * 4;
    const gn = sampleTargetRow(tgt, g, n, C, stride), mn = sampleMaskRow(mm, m, n, C, stride);
    const cn = coef + <usize>n * coefStride;
    for (let b: usize = 0; b < main; b += BLOCK) {
      const e = b + BLOCK < main ? b + BLOCK : main;
      if (ASC_FEATURE_SIMD) gradBlock(act, tgt, mm, true, ce, affine, xn, gn, mn, on, stride, C, b, e, ignore, hasIgnore, cn, scratch);
      else gradBlockScalar(act, tgt, mm, ce, affine, xn, gn, mn, on, stride, C, b, e, ignore, hasIgnore, cn, scratch);
    }
    if (main < <usize>L) {
      gradBlockScalar(act, tgt, mm, ce, affine, xn, gn, mn, on, stride, C, main, L, ignore, hasIgnore, cn, scratch);
    }
  }
}

// ------------------------------------------------------------- kernels ----
// Each kernel is an instance of a generic function whose type arguments name
// its options: A the activation, M masked or not, T the target kind, Q the
// form of the sums (plain or squared), F the form of the gradient (affine in
// the target or general, see gradBlock). AssemblyScript compiles every instance
// as a separate function and folds the static conditions on its type
// arguments, so each function holds one specialised loop per pass and nothing
// else. (Constant arguments of inlined functions would reach Binaryen as
// locals instead: sibling specialisations in one function then look alike to
// it, and it merged them back into one loop that tested the option per
// element. Small functions also keep Binaryen's superlinear passes fast.)
class ActNone {}
class ActSigmoid {}
class ActSigmoidTail {}
class ActSigmoidSlope {}
class ActSoftmax {}
class ActSoftmaxKept {}
class Unmasked {}
class Masked {}
class TargetF32 {}
class TargetU8 {}
class TargetSoft {}
class IndexU8 {}
class IndexU16 {}
class IndexI32 {}
class Plain {}
class Squared {}
class Affine {}
class General {}

// @ts-ignore: decorator
@inline function actOf<A>(): i32 {
  if (idof<A>() == idof<ActSigmoid>()) return ACT_SIGMOID;
  if (idof<A>() == idof<ActSigmoidTail>()) return ACT_SIGMOID_TAIL;
  if (idof<A>() == idof<ActSoftmax>()) return ACT_SOFTMAX;
  if (idof<A>() == idof<ActSoftmaxKept>()) return ACT_SOFTMAX_KEPT;
  if (idof<A>() == idof<ActSigmoidSlope>()) return ACT_SIGMOID_SLOPE;
  return ACT_NONE;
}
// @ts-ignore: decorator
@inline function targetOf<T>(): i32 {
  if (idof<T>() == idof<TargetU8>()) return TGT_U8;
  if (idof<T>() == idof<TargetSoft>()) return TGT_SOFT;
  if (idof<T>() == idof<IndexU8>()) return IDX_U8;
  if (idof<T>() == idof<IndexU16>()) return IDX_U16;
  if (idof<T>() == idof<IndexI32>()) return IDX_I32;
  return TGT_F32;
}
// @ts-ignore: decorator
@inline function isMasked<M>(): bool { return idof<M>() == idof<Masked>(); }
// @ts-ignore: decorator
@inline function isSquared<Q>(): bool { return idof<Q>() == idof<Squared>(); }
// @ts-ignore: decorator
@inline function isAffine<F>(): bool { return idof<F>() == idof<Affine>(); }

function sumsKernel<A, M, T, Q>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, tail: usize): i32 {
  return sumsAll(actOf<A>(), targetOf<T>(), isMasked<M>(), PIX_NONE, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, isSquared<Q>(), 0, 0, tail);
}
function gradKernel<A, M, T, F>(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cs: usize): void {
  gradAll(actOf<A>(), targetOf<T>(), isMasked<M>(), false, isAffine<F>(), x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
}
// diceBceLoss's pass 1 (sigmoid, dense targets, with the BCE part's counts).
function sumsBceKernel<M, T, Q>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, lo: f32, posAt: f32): i32 {
  return sumsAll(ACT_SIGMOID, targetOf<T>(), isMasked<M>(), PIX_COUNT, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, isSquared<Q>(), lo, posAt, 0);
}
// diceCeLoss's passes (softmax, class indices, with the CE part).
function sumsCeKernel<M, T, Q>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool): i32 {
  return sumsAll(ACT_SOFTMAX, targetOf<T>(), isMasked<M>(), PIX_CE, x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, isSquared<Q>(), 0, 0, 0);
}
function gradCeKernel<M, T>(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cs: usize): void {
  gradAll(ACT_SOFTMAX, targetOf<T>(), isMasked<M>(), true, false, x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
}

// ------------------------------------------------------------- exports ----
// Each export picks its kernel instance; the dispatchers below are inlined,
// so an export holds calls and no loops.

/**
 * Pass 1: adds the sums (I, SP, SG) of every (sample, channel) into `stats`
 * (f64, [N][C][3]). Returns validation flags: 1 = a non-finite input,
 * 2 = a dense target outside [0, 1] or a class index outside [0, C).
 * With ACT_SIGMOID_TAIL it also writes the signed tails to `tail` (the input's
 * layout), with ACT_SIGMOID_SLOPE σ'(x), with ACT_SOFTMAX_KEPT the
 * probabilities, for diceGradient to read in place of the input.
 */
export function diceSums(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool,
  tail: usize): i32 {
  const st = <usize>stride;
  if (act == ACT_NONE) return sumsByMask<ActNone>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  if (act == ACT_SIGMOID) return sumsByMask<ActSigmoid>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  if (act == ACT_SOFTMAX_KEPT) return sumsByMask<ActSoftmaxKept>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  if (act == ACT_SIGMOID_TAIL) return sumsByMask<ActSigmoidTail>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  if (act == ACT_SIGMOID_SLOPE) return sumsByMask<ActSigmoidSlope>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  return sumsByMask<ActSoftmax>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
}
// @ts-ignore: decorator
@inline function sumsByMask<A>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, tgt: i32, squared: bool, tail: usize): i32 {
  if (maskMode == MASK_NONE) return sumsByTarget<A, Unmasked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
  return sumsByTarget<A, Masked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, tail);
}
// @ts-ignore: decorator
@inline function sumsByTarget<A, M>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, tgt: i32, squared: bool, tail: usize): i32 {
  if (tgt == TGT_F32) return sumsByForm<A, M, TargetF32>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
  if (tgt == TGT_U8) return sumsByForm<A, M, TargetU8>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
  if (tgt == TGT_SOFT) return sumsByForm<A, M, TargetSoft>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
  if (tgt == IDX_U8) return sumsByForm<A, M, IndexU8>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
  if (tgt == IDX_U16) return sumsByForm<A, M, IndexU16>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
  return sumsByForm<A, M, IndexI32>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, squared, tail);
}
// @ts-ignore: decorator
@inline function sumsByForm<A, M, T>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool, tail: usize): i32 {
  if (squared) return sumsKernel<A, M, T, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tail);
  return sumsKernel<A, M, T, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tail);
}

/**
 * Pass 2: writes dLoss/dInput to `out` (same layout as the input) from the
 * coefficients (A, B1, B2) of regionEpilogue, `coefStride` bytes apart per
 * sample (0 with batch: one row for all samples). With ACT_SIGMOID_TAIL,
 * ACT_SIGMOID_SLOPE or ACT_SOFTMAX_KEPT, `x` is the array diceSums wrote.
 * `affine` (no activation or sigmoid; plain sums and hard labels, see
 * gradBlock): without an activation `x` is then not read.
 */
export function diceGradient(x: usize, g: usize, m: usize, out: usize, coef: usize, coefStride: i32, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, act: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, affine: bool): void {
  const st = <usize>stride, cs = <usize>coefStride;
  if (affine) {
    if (act == ACT_NONE) return gradByMask<ActNone, Affine>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
    if (act == ACT_SIGMOID) return gradByMask<ActSigmoid, Affine>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
    return gradByMask<ActSigmoidSlope, Affine>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  }
  if (act == ACT_NONE) return gradByMask<ActNone, General>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  if (act == ACT_SIGMOID) return gradByMask<ActSigmoid, General>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  if (act == ACT_SOFTMAX_KEPT) return gradByMask<ActSoftmaxKept, General>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  if (act == ACT_SIGMOID_TAIL) return gradByMask<ActSigmoidTail, General>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  gradByMask<ActSoftmax, General>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
}
// @ts-ignore: decorator
@inline function gradByMask<A, F>(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cs: usize, tgt: i32): void {
  if (maskMode == MASK_NONE) return gradByTarget<A, Unmasked, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  gradByTarget<A, Masked, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
}
// Affine gradients come with hard labels only: no soft-label instance.
// @ts-ignore: decorator
@inline function gradByTarget<A, M, F>(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cs: usize, tgt: i32): void {
  if (tgt == TGT_F32) return gradKernel<A, M, TargetF32, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  if (tgt == TGT_U8) return gradKernel<A, M, TargetU8, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  if (tgt == TGT_SOFT && !isAffine<F>()) return gradKernel<A, M, TargetSoft, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  if (tgt == IDX_U8) return gradKernel<A, M, IndexU8, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  if (tgt == IDX_U16) return gradKernel<A, M, IndexU16, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  gradKernel<A, M, IndexI32, F>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
}

// ---------------------------------------------------- fused combinations ---
// Dice + a pixel loss from one read of the data for the sums (pass 1) and one
// write of the summed gradient (pass 2).

/**
 * Pass 1 of diceBceLoss / diceFocalLoss / crispEdgeLoss (sigmoid logits, dense
 * targets): adds (I, SP, SG) as diceSums does, then K and NP (see sumsBlock:
 * the BCE part's kept elements, those outside (0, lo), and its positives,
 * g ≥ posAt) into `stats` (f64, [N][C][5]). Pass 2 is bceForward with the
 * Dice coefficients. Returns diceSums's validation flags.
 */
export function diceBceSums(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, tgt: i32, maskMode: i32, squared: bool, lo: f32, posAt: f32): i32 {
  const st = <usize>stride, ignore = 0, hasIgnore = false;
  if (maskMode == MASK_NONE) return sumsBceByTarget<Unmasked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, lo, posAt);
  return sumsBceByTarget<Masked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared, lo, posAt);
}
// @ts-ignore: decorator
@inline function sumsBceByTarget<M>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, tgt: i32, squared: bool, lo: f32, posAt: f32): i32 {
  if (tgt == TGT_F32) {
    if (squared) return sumsBceKernel<M, TargetF32, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, lo, posAt);
    return sumsBceKernel<M, TargetF32, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, lo, posAt);
  }
  if (squared) return sumsBceKernel<M, TargetU8, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, lo, posAt);
  return sumsBceKernel<M, TargetU8, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, lo, posAt);
}

/**
 * Pass 1 of diceCeLoss (softmax logits, class ids): adds (I, SP, SG) as
 * diceSums does, then CE_c = Σ −log p_c over the kept pixels labelled c, into
 * `stats` (f64, [N][C][4]). Returns diceSums's validation flags.
 */
export function diceCeSums(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool, squared: bool): i32 {
  const st = <usize>stride;
  if (maskMode == MASK_NONE) return sumsCeByTarget<Unmasked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared);
  return sumsCeByTarget<Masked>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore, tgt, squared);
}
// @ts-ignore: decorator
@inline function sumsCeByTarget<M>(x: usize, g: usize, m: usize, stats: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, tgt: i32, squared: bool): i32 {
  if (tgt == IDX_U8) return squared ? sumsCeKernel<M, IndexU8, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore) : sumsCeKernel<M, IndexU8, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  if (tgt == IDX_U16) return squared ? sumsCeKernel<M, IndexU16, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore) : sumsCeKernel<M, IndexU16, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
  return squared ? sumsCeKernel<M, IndexI32, Squared>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore) : sumsCeKernel<M, IndexI32, Plain>(x, g, m, stats, scratch, N, C, L, st, maskMode, ignore, hasIgnore);
}

/**
 * Pass 2 of diceCeLoss: writes the Dice gradient (coefficients A, B1, B2) plus
 * W_y·(p_k − [k = y]) for every kept pixel labelled y, from coef f32 [C][4]
 * per sample, `coefStride` bytes apart (0 with batch Dice).
 */
export function diceCeGradient(x: usize, g: usize, m: usize, out: usize, coef: usize, coefStride: i32, scratch: usize,
  N: i32, C: i32, L: i32, stride: i32, tgt: i32, maskMode: i32, ignore: i32, hasIgnore: bool): void {
  const st = <usize>stride, cs = <usize>coefStride;
  if (maskMode == MASK_NONE) return gradCeByTarget<Unmasked>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
  gradCeByTarget<Masked>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs, tgt);
}
// @ts-ignore: decorator
@inline function gradCeByTarget<M>(x: usize, g: usize, m: usize, out: usize, coef: usize, scratch: usize,
  N: i32, C: i32, L: i32, st: usize, maskMode: i32, ignore: i32, hasIgnore: bool, cs: usize, tgt: i32): void {
  if (tgt == IDX_U8) return gradCeKernel<M, IndexU8>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  if (tgt == IDX_U16) return gradCeKernel<M, IndexU16>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
  gradCeKernel<M, IndexI32>(x, g, m, out, coef, scratch, N, C, L, st, maskMode, ignore, hasIgnore, cs);
}
