// Shared math for every kernel: exp and sigmoid in a vector form (f32x4, SIMD
// build) and a scalar form that performs the same f32 operations in the same
// order, so both builds give the same bits. No host Math, no relaxed SIMD, no
// fused multiply-add: every operation here is exactly rounded IEEE f32.

// exp(x) by Cody–Waite range reduction:
//   n = round(x·log2 e),  r = x − n·ln2 (ln2 split in C1 + C2, n·C1 exact),
//   e^r ≈ 1 + r + r²·Q(r) on |r| ≤ ln2/2,  e^x = 2^n · e^r.
// Q is of degree 4, a minimax fit of (e^r − 1 − r)/r² (relative error 3e−9
// in e^r, far below f32 rounding), evaluated in Estrin's scheme:
//   Q = (Q0 + Q1·r) + r²·((Q2 + Q3·r) + r²·Q4),
// which has half the dependent steps of Horner's. With the reduction's
// rounding the result is within 0.98 ulp of e^x (checked against float64 on
// 10^7 arguments; Cephes' degree-5 Horner form, used before, gives 0.97).
// round() adds and subtracts 1.5·2^23 (single instructions, unlike
// f32x4.nearest on x64); the low bits of the biased sum are n itself, so 2^n
// is built by integer shifts.
// Two forms differ only in how they scale by 2^n:
// - vexp, any x: clamped to [−104, 88] (exp(−104) rounds to 0 in f32,
//   exp(88) = 1.7e38 stands in for anything larger); 2^n = 2^n1 · 2^(n − n1),
//   n1 = max(n, −126), so that both factors are normal floats.
// - vexpNonPositive, x ≤ 0 (softmax's x − max, sigmoid's −|x|): clamped at
//   −104 only; n ∈ [−151, 0], so (y·2^(n+64))·2^−64 is exact then rounded
//   once, also when the result is subnormal. Half the scaling work of vexp.
const EXP_LO: f32 = -104.0;
const EXP_HI: f32 = 88.0;
const LOG2E: f32 = 1.44269504088896341;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5·2^23
const ROUND_MAGIC_BITS: i32 = 0x4b400000;
const LN2_C1: f32 = 0.693359375;
const LN2_C2: f32 = -2.12194440e-4;
const Q0: f32 = 0.4999999403953552;
const Q1: f32 = 0.1666652113199234;
const Q2: f32 = 0.04166838899254799;
const Q3: f32 = 0.00836874544620514;
const Q4: f32 = 0.0013814540579915047;
const TWO_M64: f32 = 5.421010862427522e-20; // 2^−64
// The biased sum's bits minus ROUND_MAGIC_BITS is n; plus 127 + 64 it is the
// exponent field of 2^(n+64).
const SCALE_BIAS: i32 = 127 + 64 - ROUND_MAGIC_BITS;

// Splatted copies of the constants, loaded from memory inside the loops: V8
// rebuilds an f32x4.splat(const) on every iteration, a load is one instruction.
const EXP_TABLE: usize = memory.data<f32>([
  EXP_LO, EXP_LO, EXP_LO, EXP_LO,
  EXP_HI, EXP_HI, EXP_HI, EXP_HI,
  LOG2E, LOG2E, LOG2E, LOG2E,
  ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC,
  LN2_C1, LN2_C1, LN2_C1, LN2_C1,
  LN2_C2, LN2_C2, LN2_C2, LN2_C2,
  Q0, Q0, Q0, Q0,
  Q1, Q1, Q1, Q1,
  Q2, Q2, Q2, Q2,
  Q3, Q3, Q3, Q3,
  Q4, Q4, Q4, Q4,
  TWO_M64, TWO_M64, TWO_M64, TWO_M64,
  1.0, 1.0, 1.0, 1.0,
  0.0, 0.0, 0.0, 0.0,
], 16);

// @ts-ignore: decorator
@inline export function kConst(i: i32): v128 {
  return v128.load(EXP_TABLE + (<usize>i << 4));
}
// The integer constants, for the same reason (V8 builds an i32x4.splat of a
// constant other than 0 and −1 from three instructions, every time).
const EXP_INT_TABLE: usize = memory.data<i32>([
  ROUND_MAGIC_BITS, ROUND_MAGIC_BITS, ROUND_MAGIC_BITS, ROUND_MAGIC_BITS,
  -126, -126, -126, -126,
  127, 127, 127, 127,
  SCALE_BIAS, SCALE_BIAS, SCALE_BIAS, SCALE_BIAS,
  0x80000000, 0x80000000, 0x80000000, 0x80000000,
  0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff,
  0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
], 16);
// @ts-ignore: decorator
@inline export function kIntConst(i: i32): v128 {
  return v128.load(EXP_INT_TABLE + (<usize>i << 4));
}
/** The sign bit of each lane. */
// @ts-ignore: decorator
@inline export const KI_SIGN = 4;
/** All bits but the sign: |x| as bits. */
// @ts-ignore: decorator
@inline export const KI_ABS = 5;
/** The bits of +Infinity: |x| as bits is at least this only for ±Infinity and NaN. */
// @ts-ignore: decorator
@inline export const KI_INF = 6;

// Finiteness checked on the way: a running unsigned maximum of |x| as bits,
// which stays below +Infinity's bits exactly when every x was finite.
/** |a| as bits, for an unsigned maximum. */
// @ts-ignore: decorator
@inline export function vabsBits(a: v128): v128 { return v128.and(a, kIntConst(KI_ABS)); }
/** The running maximum m with |a| and |b| as bits folded in. */
// @ts-ignore: decorator
@inline export function vabsBitsMax(m: v128, a: v128, b: v128): v128 {
  return i32x4.max_u(m, i32x4.max_u(vabsBits(a), vabsBits(b)));
}
/** All-ones lanes where the running maximum m saw only finite values. */
// @ts-ignore: decorator
@inline export function vfiniteLanes(m: v128): v128 { return i32x4.lt_u(m, kIntConst(KI_INF)); }
// @ts-ignore: decorator
@inline export const K_ONE = 12;
// @ts-ignore: decorator
@inline export const K_ZERO = 13;

// Reduction and polynomial of an argument already clamped: e^r with r from
// the biased rounding sum t (returned through t's caller), see above.
// @ts-ignore: decorator
@inline function vexpReduced(x: v128, t: v128): v128 {
  const n = f32x4.sub(t, kConst(3));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, kConst(4))), f32x4.mul(n, kConst(5)));
  const r2 = f32x4.mul(r, r);
  const a = f32x4.add(f32x4.mul(kConst(7), r), kConst(6));
  const b = f32x4.add(f32x4.add(f32x4.mul(kConst(9), r), kConst(8)), f32x4.mul(r2, kConst(10)));
  const q = f32x4.add(a, f32x4.mul(r2, b));
  return f32x4.add(f32x4.add(f32x4.mul(r2, q), r), kConst(K_ONE));
}
// @ts-ignore: decorator
@inline function sexpReduced(x: f32, t: f32): f32 {
  const n = t - ROUND_MAGIC;
  const r = (x - n * LN2_C1) - n * LN2_C2;
  const r2 = r * r;
  const a = Q1 * r + Q0;
  const b = (Q3 * r + Q2) + r2 * Q4;
  const q = a + r2 * b;
  return (r2 * q + r) + <f32>1.0;
}

/** e^x for each lane (see the derivation above). */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  x = f32x4.pmax(kConst(0), f32x4.pmin(kConst(1), x));
  const t = f32x4.add(f32x4.mul(x, kConst(2)), kConst(3));
  const y = vexpReduced(x, t);
  const ni = i32x4.sub(t, kIntConst(0));
  const n1 = i32x4.max_s(ni, kIntConst(1));
  const s1 = i32x4.shl(i32x4.add(n1, kIntConst(2)), 23);
  const s2 = i32x4.shl(i32x4.add(i32x4.sub(ni, n1), kIntConst(2)), 23);
  return f32x4.mul(f32x4.mul(y, s1), s2);
}

/** Scalar twin of {@link vexp}: the same operations on one lane. */
// @ts-ignore: decorator
@inline export function sexp(x: f32): f32 {
  x = pmax(EXP_LO, pmin(EXP_HI, x));
  const t = x * LOG2E + ROUND_MAGIC;
  const y = sexpReduced(x, t);
  const ni = reinterpret<i32>(t) - ROUND_MAGIC_BITS;
  const n1 = ni > -126 ? ni : -126;
  return (y * reinterpret<f32>((n1 + 127) << 23)) * reinterpret<f32>((ni - n1 + 127) << 23);
}

/** e^x for lanes x ≤ 0 (see the derivation above). */
// @ts-ignore: decorator
@inline export function vexpNonPositive(x: v128): v128 {
  x = f32x4.pmax(kConst(0), x);
  const t = f32x4.add(f32x4.mul(x, kConst(2)), kConst(3));
  const s = i32x4.shl(i32x4.add(t, kIntConst(3)), 23);
  return f32x4.mul(f32x4.mul(vexpReduced(x, t), s), kConst(11));
}

/** Scalar twin of {@link vexpNonPositive}. */
// @ts-ignore: decorator
@inline export function sexpNonPositive(x: f32): f32 {
  x = pmax(EXP_LO, x);
  const t = x * LOG2E + ROUND_MAGIC;
  return (sexpReduced(x, t) * reinterpret<f32>((reinterpret<i32>(t) + SCALE_BIAS) << 23)) * TWO_M64;
}

// f32x4.pmin/pmax semantics on one lane: pmin(a, b) = b < a ? b : a.
// @ts-ignore: decorator
@inline export function pmin(a: f32, b: f32): f32 { return b < a ? b : a; }
// @ts-ignore: decorator
@inline export function pmax(a: f32, b: f32): f32 { return a < b ? b : a; }

// Widening loads of four lanes: u8 or u16 → i32x4. They read exactly the four
// elements (never past the end of an array). u8 → f32 then goes through the
// signed conversion, exact for 0..255 and a single instruction on x64 (the
// unsigned one expands to a long sequence).
// @ts-ignore: decorator
@inline export function loadU8x4(ptr: usize): v128 {
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(ptr)));
}
// @ts-ignore: decorator
@inline export function loadU16x4(ptr: usize): v128 {
  return i32x4.extend_low_i16x8_u(v128.load64_zero(ptr));
}

// =================================================================== log ===
// log(x) for f32 (Cephes logf, bits split as in musl's logf):
//   x = 2^k·m with m ∈ [√½, √2), f = m − 1 ∈ [−0.293, 0.415),
//   log x = k·ln2 + f − f²/2 + f³·P(f)   (P of degree 8, Cephes' minimax,
//   max relative error 7.6e−8 on [√½, √2)), ln2 split in C1 + C2 as for exp.
// k and m come from integer arithmetic on the bits: adding 0x3f800000 −
// 0x3f3504f3 moves the exponent boundary from 1 to √2, so the exponent field
// then holds k + 127 and m is the mantissa field rebuilt above √½'s bits.
// Subnormal x (and 0) are first scaled by 2^25 and k lowered by 25, so vlog is
// accurate down to the smallest subnormal; log(0) comes out as −152·ln2 ≈
// −105.4 (finite): callers that need log(0) clamp it (the BCE terms at −100).
const LOG_MIN_NORMAL: f32 = 1.17549435e-38; // 2^−126
const LOG_SCALE: f32 = 33554432.0;          // 2^25
const LOG_P0: f32 = 7.0376836292e-2;
const LOG_P1: f32 = -1.1514610310e-1;
const LOG_P2: f32 = 1.1676998740e-1;
const LOG_P3: f32 = -1.2420140846e-1;
const LOG_P4: f32 = 1.4249322787e-1;
const LOG_P5: f32 = -1.6668057665e-1;
const LOG_P6: f32 = 2.0000714765e-1;
const LOG_P7: f32 = -2.4999993993e-1;
const LOG_P8: f32 = 3.3333331174e-1;
const LOG_OFFSET: i32 = 0x3f800000 - 0x3f3504f3;
const LOG_MANTISSA: i32 = 0x007fffff;
const LOG_SQRTHF_BITS: i32 = 0x3f3504f3;
// BCE (PyTorch's BCELoss): log p and log(1 − p) clamped at −100; the gradient's
// denominator p(1 − p) floored at 1e−12 (EPSILON in aten/src/ATen/native/Loss.cpp).
const BCE_LOG_FLOOR: f32 = -100.0;
const BCE_EPS: f32 = 1e-12;

// Splatted constants (see EXP_TABLE for why they live in memory).
const LOG_TABLE: usize = memory.data<f32>([
  LOG_MIN_NORMAL, LOG_MIN_NORMAL, LOG_MIN_NORMAL, LOG_MIN_NORMAL,
  LOG_SCALE, LOG_SCALE, LOG_SCALE, LOG_SCALE,
  LOG_P0, LOG_P0, LOG_P0, LOG_P0,
  LOG_P1, LOG_P1, LOG_P1, LOG_P1,
  LOG_P2, LOG_P2, LOG_P2, LOG_P2,
  LOG_P3, LOG_P3, LOG_P3, LOG_P3,
  LOG_P4, LOG_P4, LOG_P4, LOG_P4,
  LOG_P5, LOG_P5, LOG_P5, LOG_P5,
  LOG_P6, LOG_P6, LOG_P6, LOG_P6,
  LOG_P7, LOG_P7, LOG_P7, LOG_P7,
  LOG_P8, LOG_P8, LOG_P8, LOG_P8,
  -0.5, -0.5, -0.5, -0.5,
  LN2_C1, LN2_C1, LN2_C1, LN2_C1,
  LN2_C2, LN2_C2, LN2_C2, LN2_C2,
  BCE_LOG_FLOOR, BCE_LOG_FLOOR, BCE_LOG_FLOOR, BCE_LOG_FLOOR,
  BCE_EPS, BCE_EPS, BCE_EPS, BCE_EPS,
], 16);
const LOG_INT_TABLE: usize = memory.data<i32>([
  LOG_OFFSET, LOG_OFFSET, LOG_OFFSET, LOG_OFFSET,
  LOG_MANTISSA, LOG_MANTISSA, LOG_MANTISSA, LOG_MANTISSA,
  LOG_SQRTHF_BITS, LOG_SQRTHF_BITS, LOG_SQRTHF_BITS, LOG_SQRTHF_BITS,
  127, 127, 127, 127,
  127 + 25, 127 + 25, 127 + 25, 127 + 25,
], 16);
// @ts-ignore: decorator
@inline function lConst(i: i32): v128 { return v128.load(LOG_TABLE + (<usize>i << 4)); }
// @ts-ignore: decorator
@inline function liConst(i: i32): v128 { return v128.load(LOG_INT_TABLE + (<usize>i << 4)); }

// log x for x ≥ 0 given the exponent bias (127, or 152 for lanes scaled by 2^25).
// @ts-ignore: decorator
@inline function vlogBiased(x: v128, bias: v128): v128 {
  const ix = i32x4.add(x, liConst(0));
  const k = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(ix, 23), bias));
  const f = f32x4.sub(i32x4.add(v128.and(ix, liConst(1)), liConst(2)), kConst(K_ONE));
  const z = f32x4.mul(f, f);
  let y = f32x4.add(f32x4.mul(lConst(2), f), lConst(3));
  y = f32x4.add(f32x4.mul(y, f), lConst(4));
  y = f32x4.add(f32x4.mul(y, f), lConst(5));
  y = f32x4.add(f32x4.mul(y, f), lConst(6));
  y = f32x4.add(f32x4.mul(y, f), lConst(7));
  y = f32x4.add(f32x4.mul(y, f), lConst(8));
  y = f32x4.add(f32x4.mul(y, f), lConst(9));
  y = f32x4.add(f32x4.mul(y, f), lConst(10));
  y = f32x4.mul(f32x4.mul(y, f), z);
  y = f32x4.add(y, f32x4.mul(k, lConst(13)));
  y = f32x4.add(y, f32x4.mul(z, lConst(11)));
  return f32x4.add(f32x4.add(f, y), f32x4.mul(k, lConst(12)));
}
// @ts-ignore: decorator
@inline function slogBiased(x: f32, bias: i32): f32 {
  const ix = reinterpret<i32>(x) + LOG_OFFSET;
  const k = <f32>(<i32>(<u32>ix >> 23) - bias);
  const f = reinterpret<f32>((ix & LOG_MANTISSA) + LOG_SQRTHF_BITS) - <f32>1.0;
  const z = f * f;
  let y = LOG_P0 * f + LOG_P1;
  y = y * f + LOG_P2;
  y = y * f + LOG_P3;
  y = y * f + LOG_P4;
  y = y * f + LOG_P5;
  y = y * f + LOG_P6;
  y = y * f + LOG_P7;
  y = y * f + LOG_P8;
  y = (y * f) * z;
  y = y + k * LN2_C2;
  y = y + z * <f32>-0.5;
  return (f + y) + k * LN2_C1;
}

/** log x for each lane, x ≥ 0 finite (subnormals exact, log 0 ≈ −105.4; see above). */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  const sub = f32x4.lt(x, lConst(0));
  return vlogBiased(v128.bitselect(f32x4.mul(x, lConst(1)), x, sub), v128.bitselect(liConst(4), liConst(3), sub));
}
/** Scalar twin of {@link vlog}. */
// @ts-ignore: decorator
@inline export function slog(x: f32): f32 {
  const sub = x < LOG_MIN_NORMAL;
  return slogBiased(sub ? x * LOG_SCALE : x, sub ? 127 + 25 : 127);
}
/** log x for normal x > 0 only (no subnormal scaling): e.g. x = 1 + y, y ≥ 0. */
// @ts-ignore: decorator
@inline export function vlogNormal(x: v128): v128 { return vlogBiased(x, liConst(3)); }
// @ts-ignore: decorator
@inline export function slogNormal(x: f32): f32 { return slogBiased(x, 127); }

// log(1 + y) for y ≥ 0, given u = 1 + y (rounded) and r = 1/u: musl's log1pf
// correction log(1 + y) ≈ log u + (y − (u − 1))/u, where u − 1 is exact, so
// y − (u − 1) is the rounding error of u; for y < 2^−24 (u = 1) this gives y.
/** log(1 + y) for each lane, given u = 1 + y and r = 1/u (the callers need both anyway). */
// @ts-ignore: decorator
@inline export function vlog1pWith(y: v128, u: v128, r: v128): v128 {
  return f32x4.add(vlogNormal(u), f32x4.mul(f32x4.sub(y, f32x4.sub(u, kConst(K_ONE))), r));
}
// @ts-ignore: decorator
@inline export function slog1pWith(y: f32, u: f32, r: f32): f32 {
  return slogNormal(u) + (y - (u - <f32>1.0)) * r;
}

// ============================================================== logistic ===
// Everything about a logit x from t = e^−|x| ∈ [0, 1] (it never overflows),
// u = 1 + t and r = 1/u:
//   σ(x)  = r if x ≥ 0, else t·r;   σ(−x) = 1 − σ(x) = t·r if x ≥ 0, else r
//   (each side computed directly: no cancellation near 0 or 1);
//   log(1 + e^−|x|) = log1p(t) = vlog1pWith(t, u, r);
//   softplus(x) = max(x, 0) + log1p(t) = −log σ(−x) = −log(1 − p),
//   softplus(−x) = max(−x, 0) + log1p(t) = −log σ(x) = −log p.
//   σ'(x) = σ(x)·σ(−x) = t·r·r, with no cancellation and no underflow of an
//   intermediate product.
// A kernel computes t, u, r once per lane and passes them to the helpers below.

/** t = e^−|x| for each lane. */
// @ts-ignore: decorator
@inline export function vexpNegAbs(x: v128): v128 { return vexpNonPositive(v128.or(x, kIntConst(KI_SIGN))); }
// @ts-ignore: decorator
@inline export function sexpNegAbs(x: f32): f32 { return sexpNonPositive(-abs<f32>(x)); }
/** σ(x) for each lane, from t and r (see above). */
// @ts-ignore: decorator
@inline export function vsigmoidFromTail(x: v128, t: v128, r: v128): v128 {
  return v128.bitselect(r, f32x4.mul(t, r), f32x4.ge(x, kConst(K_ZERO)));
}
// @ts-ignore: decorator
@inline export function ssigmoidFromTail(x: f32, t: f32, r: f32): f32 { return x >= 0 ? r : t * r; }
/** σ(−x) = 1 − σ(x) for each lane, from t and r. */
// @ts-ignore: decorator
@inline export function vsigmoidNegFromTail(x: v128, t: v128, r: v128): v128 {
  return v128.bitselect(f32x4.mul(t, r), r, f32x4.ge(x, kConst(K_ZERO)));
}
// @ts-ignore: decorator
@inline export function ssigmoidNegFromTail(x: f32, t: f32, r: f32): f32 { return x >= 0 ? t * r : r; }
/**
 * The signed tail: t = e^−|x| with the sign bit of x, all a later pass needs
 * to rebuild σ(x) and σ'(x) bit for bit without another exp.
 */
// @ts-ignore: decorator
@inline export function vsignedTail(x: v128, t: v128): v128 { return v128.or(t, v128.and(x, kIntConst(KI_SIGN))); }
// @ts-ignore: decorator
@inline export function ssignedTail(x: f32, t: f32): f32 { return reinterpret<f32>(reinterpret<i32>(t) | (reinterpret<i32>(x) & 0x80000000)); }
/**
 * σ(x) from the signed tail ts, t = |ts| and r: the sign bit stands for x < 0
 * (x = −0 gives t = 1, where t·r = r).
 */
// @ts-ignore: decorator
@inline export function vsigmoidFromSignedTail(ts: v128, t: v128, r: v128): v128 {
  return v128.bitselect(f32x4.mul(t, r), r, i32x4.lt_s(ts, kConst(K_ZERO)));
}
// @ts-ignore: decorator
@inline export function ssigmoidFromSignedTail(ts: f32, t: f32, r: f32): f32 { return reinterpret<i32>(ts) < 0 ? t * r : r; }
/** σ'(x) = (t·r)·r for each lane. */
// @ts-ignore: decorator
@inline export function vsigmoidSlopeFromTail(t: v128, r: v128): v128 { return f32x4.mul(f32x4.mul(t, r), r); }
// @ts-ignore: decorator
@inline export function ssigmoidSlopeFromTail(t: f32, r: f32): f32 { return (t * r) * r; }

// ==================================================== binary cross-entropy ===
// Per element, with target g ∈ [0, 1] and weights a (positive term) and b
// (negative term):
//   ℓ = −(a·g·log p + b·(1 − g)·log(1 − p)).
// a = b = 1 is PyTorch's BCELoss / BCEWithLogitsLoss, a = pos_weight its
// pos_weight; HED / RCF class balancing put per-image weights in a and b.
//
// Logits (p = σ(x)): ℓ = a·g·softplus(−x) + b·(1 − g)·softplus(x). This is
// PyTorch's (1 − g)·x + (1 + (w − 1)·g)·(log(1 + e^−|x|) + max(−x, 0)) for
// a = w, b = 1 (softplus(x) = softplus(−x) + x), written as a sum of two
// non-negative terms, so that no cancellation occurs for large |x|.
//   dℓ/dx = b·(1 − g)·p − a·g·(1 − p)      (= p − g for a = b = 1).
//
// Probabilities (PyTorch's BCELoss): log p and log(1 − p) clamped at −100, and
//   dℓ/dp = (b·(1 − g)·p − a·g·(1 − p)) / max(p·(1 − p), 1e−12),
// PyTorch's backward formula (p − g)/max(p(1 − p), 1e−12) with the weights: the
// derivative of ℓ where p(1 − p) ≥ 1e−12, finite everywhere (also at p = 0, 1).

/** ℓ with logits for each lane, given l1 = log(1 + e^−|x|). */
// @ts-ignore: decorator
@inline export function vbceLogits(x: v128, g: v128, a: v128, b: v128, l1: v128): v128 {
  const zero = kConst(K_ZERO);
  const spNeg = f32x4.add(f32x4.pmax(zero, f32x4.neg(x)), l1); // −log p
  const spPos = f32x4.add(f32x4.pmax(zero, x), l1);            // −log(1 − p)
  return f32x4.add(f32x4.mul(f32x4.mul(a, g), spNeg),
    f32x4.mul(f32x4.mul(b, f32x4.sub(kConst(K_ONE), g)), spPos));
}
// @ts-ignore: decorator
@inline export function sbceLogits(x: f32, g: f32, a: f32, b: f32, l1: f32): f32 {
  const spNeg = pmax(0, -x) + l1;
  const spPos = pmax(0, x) + l1;
  return (a * g) * spNeg + (b * (<f32>1.0 - g)) * spPos;
}
/** dℓ/dx with logits for each lane, given p = σ(x) and q = σ(−x). */
// @ts-ignore: decorator
@inline export function vbceLogitsSlope(g: v128, a: v128, b: v128, p: v128, q: v128): v128 {
  return f32x4.sub(f32x4.mul(f32x4.mul(b, f32x4.sub(kConst(K_ONE), g)), p), f32x4.mul(f32x4.mul(a, g), q));
}
// @ts-ignore: decorator
@inline export function sbceLogitsSlope(g: f32, a: f32, b: f32, p: f32, q: f32): f32 {
  return (b * (<f32>1.0 - g)) * p - (a * g) * q;
}
/** ℓ with probabilities for each lane (logs clamped at −100). */
// @ts-ignore: decorator
@inline export function vbceProb(p: v128, g: v128, a: v128, b: v128): v128 {
  const one = kConst(K_ONE);
  const lp = f32x4.pmax(lConst(14), vlog(p));
  const lq = f32x4.pmax(lConst(14), vlog(f32x4.sub(one, p)));
  return f32x4.neg(f32x4.add(f32x4.mul(f32x4.mul(a, g), lp), f32x4.mul(f32x4.mul(b, f32x4.sub(one, g)), lq)));
}
// @ts-ignore: decorator
@inline export function sbceProb(p: f32, g: f32, a: f32, b: f32): f32 {
  const lp = pmax(BCE_LOG_FLOOR, slog(p));
  const lq = pmax(BCE_LOG_FLOOR, slog(<f32>1.0 - p));
  return -((a * g) * lp + (b * (<f32>1.0 - g)) * lq);
}
/** dℓ/dp with probabilities for each lane (PyTorch's convention, see above). */
// @ts-ignore: decorator
@inline export function vbceProbSlope(p: v128, g: v128, a: v128, b: v128): v128 {
  const one = kConst(K_ONE);
  const q = f32x4.sub(one, p);
  const num = f32x4.sub(f32x4.mul(f32x4.mul(b, f32x4.sub(one, g)), p), f32x4.mul(f32x4.mul(a, g), q));
  return f32x4.div(num, f32x4.pmax(lConst(15), f32x4.mul(p, q)));
}
// @ts-ignore: decorator
@inline export function sbceProbSlope(p: f32, g: f32, a: f32, b: f32): f32 {
  const q = <f32>1.0 - p;
  const num = (b * (<f32>1.0 - g)) * p - (a * g) * q;
  return num / pmax(BCE_EPS, p * q);
}

// ============================================================ focal loss ===
// Binary focal loss (torchvision's sigmoid_focal_loss, soft targets allowed):
//   p_t = p·g + (1 − p)(1 − g),  α_t = α·g + (1 − α)(1 − g)  (a·g + b·(1 − g)),
//   FL = α_t·(1 − p_t)^γ·ce,  ce = the unweighted BCE ℓ above (a = b = 1).
// d = 1 − p_t = p·(1 − g) + (1 − p)·g is a convex combination of p and 1 − p,
// computed as that sum of non-negative terms (no cancellation), and
// (1 − p_t)^γ = M = e^(γ·log d). With dd/dp = 1 − 2g:
//   dFL/dz = α_t·M·(γ·(1 − 2g)·ce·w + dce/dz),
// where w = (dd/dz)/(d·(1 − 2g)): w = p(1 − p)/d for logits (p(1 − p) ≤ d, so
// w ≤ 1 even when d → 0 and γ < 1), w = 1/d for probabilities. ce·w is taken
// as 0 at d = 0 (p = g ∈ {0, 1}, or e^−|x| underflowed to 0; ce = 0 there too:
// the limit of γ·d^(γ−1)·ce); the kernels make that choice.

/** d = p·(1 − g) + q·g = 1 − p_t for each lane, given q = 1 − p. */
// @ts-ignore: decorator
@inline export function vfocalDistance(p: v128, q: v128, g: v128): v128 {
  return f32x4.add(f32x4.mul(p, f32x4.sub(kConst(K_ONE), g)), f32x4.mul(q, g));
}
// @ts-ignore: decorator
@inline export function sfocalDistance(p: f32, q: f32, g: f32): f32 {
  return p * (<f32>1.0 - g) + q * g;
}
/** α_t = a·g + b·(1 − g) for each lane. */
// @ts-ignore: decorator
@inline export function vfocalAlpha(g: v128, a: v128, b: v128): v128 {
  return f32x4.add(f32x4.mul(a, g), f32x4.mul(b, f32x4.sub(kConst(K_ONE), g)));
}
// @ts-ignore: decorator
@inline export function sfocalAlpha(g: f32, a: f32, b: f32): f32 {
  return a * g + b * (<f32>1.0 - g);
}
/** M = d^γ = e^(γ·log d) for each lane (finite for d = 0: the callers multiply it by ce = 0 there). */
// @ts-ignore: decorator
@inline export function vfocalModulator(d: v128, gamma: v128): v128 {
  return vexp(f32x4.mul(gamma, vlog(d)));
}
// @ts-ignore: decorator
@inline export function sfocalModulator(d: f32, gamma: f32): f32 {
  return sexp(gamma * slog(d));
}
/** dFL/dz for each lane, given am = α_t·M, cew = ce·w and the slope of ce (see above). */
// @ts-ignore: decorator
@inline export function vfocalSlope(am: v128, gamma: v128, g: v128, cew: v128, ceSlope: v128): v128 {
  const oneMinus2g = f32x4.sub(kConst(K_ONE), f32x4.add(g, g));
  return f32x4.mul(am, f32x4.add(f32x4.mul(f32x4.mul(gamma, oneMinus2g), cew), ceSlope));
}
// @ts-ignore: decorator
@inline export function sfocalSlope(am: f32, gamma: f32, g: f32, cew: f32, ceSlope: f32): f32 {
  const oneMinus2g = <f32>1.0 - (g + g);
  return am * ((gamma * oneMinus2g) * cew + ceSlope);
}
