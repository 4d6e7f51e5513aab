// The codes of assembly/layout.ts, as the bindings pass them to the kernels.
import type { Operand } from './args.ts';

export const ACT = { none: 0, sigmoid: 1, softmax: 2 } as const;
/** Sigmoid with the tails, softmax with the probabilities, kept between the passes (assembly/layout.ts). */
export const ACT_SIGMOID_TAIL = 3;
export const ACT_SOFTMAX_KEPT = 4;
/** Sigmoid with σ'(x) kept between the passes, for a gradient affine in the target (assembly/layout.ts). */
export const ACT_SIGMOID_SLOPE = 5;
export const MASK_PIXEL = 1;
export const MASK_ELEMENT = 2;
const TGT_F32 = 0, TGT_U8 = 1, IDX_U8 = 2, IDX_U16 = 3, IDX_I32 = 4;
export const TGT_SOFT = 5;

/** The kernel's target code for a target array: dense f32 / u8 (soft-label f32), or class indices u8 / u16 / i32. */
export function targetCode(target: Operand, indices: boolean, softLabel = false): number {
  if (indices) return target.ctor === Uint8Array ? IDX_U8 : target.ctor === Uint16Array ? IDX_U16 : IDX_I32;
  if (target.ctor !== Float32Array) return TGT_U8;
  return softLabel ? TGT_SOFT : TGT_F32;
}

/** Whether a target code is one of class indices. */
export function isIndexCode(code: number): boolean {
  return code === IDX_U8 || code === IDX_U16 || code === IDX_I32;
}
