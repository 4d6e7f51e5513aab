// Shared math for every kernel: exp and sigmoid in a vector form (f32x4, SIMD
// build) and a scalar form that performs the same f32 operations in the same
// order, so both builds give the same bits. No host Math, no relaxed SIMD, no
// fused multiply-add: every operation here is exactly rounded IEEE f32.

// exp(x) by Cody–Waite range reduction (Cephes expf):
//   n = round(x·log2 e),  r = x − n·ln2 (ln2 split in C1 + C2, n·C1 exact),
//   e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2 (degree 5 minimax), e^x = 2^n · e^r.
// round() adds and subtracts 1.5·2^23 (single instructions, unlike f32x4.nearest
// on x64); the low bits of the biased sum are n itself, so 2^n is built by an
// integer shift. x is clamped to [−87, 88] so that 2^n stays a normal float:
// exp(−87) = 1.6e−38 stands in for anything smaller, exp(88) = 1.7e38 for larger.
const EXP_LO: f32 = -87.0;
const EXP_HI: f32 = 88.0;
const LOG2E: f32 = 1.44269504088896341;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5·2^23
const ROUND_MAGIC_BITS: i32 = 0x4b400000;
const LN2_C1: f32 = 0.693359375;
const LN2_C2: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// Splatted copies of the constants, loaded from memory inside the loops: V8
// rebuilds an f32x4.splat(const) on every iteration, a load is one instruction.
const EXP_TABLE: usize = memory.data<f32>([
  EXP_LO, EXP_LO, EXP_LO, EXP_LO,
  EXP_HI, EXP_HI, EXP_HI, EXP_HI,
  LOG2E, LOG2E, LOG2E, LOG2E,
  ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC, ROUND_MAGIC,
  LN2_C1, LN2_C1, LN2_C1, LN2_C1,
  LN2_C2, LN2_C2, LN2_C2, LN2_C2,
  P0, P0, P0, P0,
  P1, P1, P1, P1,
  P2, P2, P2, P2,
  P3, P3, P3, P3,
  P4, P4, P4, P4,
  P5, P5, P5, P5,
  1.0, 1.0, 1.0, 1.0,
  0.0, 0.0, 0.0, 0.0,
], 16);

// @ts-ignore: decorator
@inline export function kConst(i: i32): v128 {
  return v128.load(EXP_TABLE + (<usize>i << 4));
}
// @ts-ignore: decorator
@inline export const K_ONE = 12;
// @ts-ignore: decorator
@inline export const K_ZERO = 13;

/** e^x for each lane (see the derivation above). */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  x = f32x4.pmax(kConst(0), f32x4.pmin(kConst(1), x));
  const t = f32x4.add(f32x4.mul(x, kConst(2)), kConst(3));
  const n = f32x4.sub(t, kConst(3));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, kConst(4))), f32x4.mul(n, kConst(5)));
  let q = f32x4.add(f32x4.mul(kConst(6), r), kConst(7));
  q = f32x4.add(f32x4.mul(q, r), kConst(8));
  q = f32x4.add(f32x4.mul(q, r), kConst(9));
  q = f32x4.add(f32x4.mul(q, r), kConst(10));
  q = f32x4.add(f32x4.mul(q, r), kConst(11));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(r, r), q), r), kConst(K_ONE));
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - ROUND_MAGIC_BITS)), 23);
  return f32x4.mul(y, scale);
}

/** Scalar twin of {@link vexp}: the same operations on one lane. */
// @ts-ignore: decorator
@inline export function sexp(x: f32): f32 {
  x = pmax(EXP_LO, pmin(EXP_HI, x));
  const t = x * LOG2E + ROUND_MAGIC;
  const n = t - ROUND_MAGIC;
  const r = (x - n * LN2_C1) - n * LN2_C2;
  let q = P0 * r + P1;
  q = q * r + P2;
  q = q * r + P3;
  q = q * r + P4;
  q = q * r + P5;
  const y = ((r * r) * q + r) + <f32>1.0;
  const scale = reinterpret<f32>((reinterpret<i32>(t) + (127 - ROUND_MAGIC_BITS)) << 23);
  return y * scale;
}

// f32x4.pmin/pmax semantics on one lane: pmin(a, b) = b < a ? b : a.
// @ts-ignore: decorator
@inline export function pmin(a: f32, b: f32): f32 { return b < a ? b : a; }
// @ts-ignore: decorator
@inline export function pmax(a: f32, b: f32): f32 { return a < b ? b : a; }

// Sigmoid p = σ(x) = 1/(1 + e^−x). Its derivative σ'(x) = p(1 − p) is taken as
// (e^−x·p)·p, since 1 − p = e^−x/(1 + e^−x) = e^−x·p: no cancellation when p → 1,
// and the product is formed in an order that does not underflow when p → 0.

/** σ(x) = 1/(1 + e) for each lane, given e = e^−x = vexp(−x). */
// @ts-ignore: decorator
@inline export function vsigmoid(e: v128): v128 {
  return f32x4.div(kConst(K_ONE), f32x4.add(kConst(K_ONE), e));
}
/** σ'(x) = (e^−x·p)·p for each lane, given p = σ(x) and e = e^−x. */
// @ts-ignore: decorator
@inline export function vsigmoidSlope(p: v128, e: v128): v128 {
  return f32x4.mul(f32x4.mul(e, p), p);
}
// @ts-ignore: decorator
@inline export function ssigmoid(e: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + e);
}
// @ts-ignore: decorator
@inline export function ssigmoidSlope(p: f32, e: f32): f32 {
  return (e * p) * p;
}

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
