// Codes and sizes shared by every kernel family and by the bindings
// (src/codes.ts mirrors the codes): what the input holds, what the target
// holds, how a mask maps onto the [N, C, S] layout, the accumulation block,
// the validation flags pass 1 returns, and the loads of a target or an index
// row (four lanes from element o, or one element).

import { loadU8x4, loadU16x4 } from './simd';

export const ACT_NONE = 0;    // the input holds probabilities
export const ACT_SIGMOID = 1; // logits, elementwise
export const ACT_SOFTMAX = 2; // logits, over the C channels of a pixel
// Sigmoid logits with the tail kept between the passes (assembly/dice.ts):
// pass 1 also stores each element's signed tail (simd.ts) at the same offset
// of a scratch array, which pass 2 reads in place of the input.
export const ACT_SIGMOID_TAIL = 3;
// Softmax logits with the probabilities kept between the passes: pass 1 also
// stores p (the input's layout) in a scratch array, which pass 2 reads in
// place of the logits.
export const ACT_SOFTMAX_KEPT = 4;
// Sigmoid logits with σ'(x) kept between the passes, for a gradient affine in
// the target (assembly/dice.ts, pass 2): pass 1 stores σ'(x) = t·r² (simd.ts)
// in the scratch array, and pass 2 needs nothing else of the input.
export const ACT_SIGMOID_SLOPE = 5;

export const TGT_F32 = 0;  // dense f32 target
export const TGT_U8 = 1;   // dense u8 target (0/1)
export const IDX_U8 = 2;   // class indices, one per pixel
export const IDX_U16 = 3;
export const IDX_I32 = 4;
export const TGT_SOFT = 5; // dense f32 target with the soft-label intersection Σ min(p, g) (region losses)

export const MASK_NONE = 0;
export const MASK_PIXEL = 1;   // one byte per (n, s), broadcast over channels
export const MASK_ELEMENT = 2; // one byte per (n, c, s)

// Elements per row accumulated in f32 lanes before a flush into f64; the
// bindings make chunk lengths a multiple of it (src/driver.ts).
export const BLOCK: usize = 1024;

export const FLAG_INPUT = 1;  // NaN or ±Infinity in the input
export const FLAG_TARGET = 2; // dense target outside [0, 1], or class index outside [0, C)

// @ts-ignore: decorator
@inline export function isSigmoid(act: i32): bool {
  return act == ACT_SIGMOID || act == ACT_SIGMOID_TAIL || act == ACT_SIGMOID_SLOPE;
}

// @ts-ignore: decorator
@inline export function isIndex(tgt: i32): bool {
  return tgt == IDX_U8 || tgt == IDX_U16 || tgt == IDX_I32;
}

// @ts-ignore: decorator
@inline export function targetBytes(tgt: i32): usize {
  return tgt == TGT_F32 || tgt == TGT_SOFT || tgt == IDX_I32 ? 4 : tgt == IDX_U16 ? 2 : 1;
}
// @ts-ignore: decorator
@inline export function vtarget(tgt: i32, row: usize, o: usize): v128 {
  if (tgt == TGT_F32 || tgt == TGT_SOFT) return v128.load(row + (o << 2));
  return f32x4.convert_i32x4_s(loadU8x4(row + o));
}
// @ts-ignore: decorator
@inline export function vindex(tgt: i32, row: usize, o: usize): v128 {
  if (tgt == IDX_U8) return loadU8x4(row + o);
  if (tgt == IDX_U16) return loadU16x4(row + (o << 1));
  return v128.load(row + (o << 2));
}
// @ts-ignore: decorator
@inline export function starget(tgt: i32, row: usize, o: usize): f32 {
  if (tgt == TGT_F32 || tgt == TGT_SOFT) return load<f32>(row + (o << 2));
  return <f32>load<u8>(row + o);
}
// @ts-ignore: decorator
@inline export function sindex(tgt: i32, row: usize, o: usize): i32 {
  if (tgt == IDX_U8) return <i32>load<u8>(row + o);
  if (tgt == IDX_U16) return <i32>load<u16>(row + (o << 1));
  return load<i32>(row + (o << 2));
}
