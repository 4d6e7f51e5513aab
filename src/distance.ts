// Exact Euclidean distance transforms (distanceTransform, signedDistance) and the distance-aware
// losses built on them (boundaryLoss, hausdorffDTLoss). Kernels: assembly/distance.ts
// (Felzenszwalb–Huttenlocher, f64 inside); float64 brute-force references: src/reference/distance.ts.
//
// A loss call runs, all in Wasm memory (arrays in the JS heap are copied in once):
//   1. probabilities p of the input (checked: finite; in [0, 1] for activation 'none');
//   2. checks of the target (in [0, 1]) and of precomputed distances (finite);
//   3. the distance maps, one per (sample, kept class);
//   4. the per-(sample, class) sums of the element losses;
//   5. the gradient, written last: every check has passed before `grad` is touched.
import {
  operand, checkNoOverlap, optionsObject, oneOf, flag, finite, parseShape,
  type Operand,
} from './args.ts';
import { ACT, targetCode } from './codes.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { ArrayArg } from './dice.ts';

export {
  distanceTransformReference, signedDistanceReference, hausdorffFieldReference,
  boundaryLossReference, hausdorffDTLossReference,
  type DistanceReferenceOptions, type DistanceLossReferenceOptions, type DistanceLossReferenceResult,
} from './reference/distance.ts';

/** Options of {@link distanceTransform}. */
export interface DistanceOptions {
  /** `[N, ...spatial]`: N maps with 1, 2 or 3 spatial axes, row-major (the last axis contiguous). Required. */
  shape: readonly number[];
  /** The pixel size along each spatial axis, in `shape`'s order: finite numbers > 0. Default all 1. */
  spacing?: readonly number[];
  /**
   * The value given to every pixel of a map that has no set pixel (its distances are undefined):
   * `Infinity` (default), or any finite number ≥ 0 chosen as a cap.
   */
  empty?: number;
  /** Receives the result: as long as `mask`, not overlapping it. It is also the return value. */
  out?: ArrayArg<Float32Array>;
}

/** Options of {@link signedDistance}. */
export interface SignedDistanceOptions {
  /** `[N, ...spatial]`, as in {@link DistanceOptions.shape}. Required. */
  shape: readonly number[];
  /** The pixel size along each spatial axis. Default all 1. */
  spacing?: readonly number[];
  /** Receives the result: as long as `mask`, not overlapping it. It is also the return value. */
  out?: ArrayArg<Float32Array>;
}

/** Options shared by {@link boundaryLoss} and {@link hausdorffDTLoss}. */
export interface DistanceLossOptions {
  /** `[N, C, ...spatial]`, channels first, 1 to 3 spatial axes (row-major). Required: distances need the geometry. */
  shape: readonly number[];
  /** `'none'`: probabilities p ∈ [0, 1] (default); `'sigmoid'`: logits, p = σ(x); `'softmax'`: logits, p = softmax over C (C ≥ 2). */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `false` leaves channel 0 out of the loss (it still receives the softmax gradient). Needs C ≥ 2. Default true. */
  includeBackground?: boolean;
  /**
   * Each (sample n, kept class c) gives L_nc = mean over the S pixels of the element loss.
   * `'mean'` (default): the mean of the L_nc (= the mean over all kept elements); `'sum'`: their sum (MONAI);
   * `'none'`: a Float64Array of the L_nc, `[N, C_kept]` row-major.
   */
  reduction?: 'mean' | 'sum' | 'none';
  /** The pixel size along each spatial axis (for the distances). Default all 1. */
  spacing?: readonly number[];
  /** Receives dLoss/dInput of the reduced loss; as long as input, not overlapping any input. Not with reduction 'none'. */
  grad?: ArrayArg<Float32Array>;
}

/** Options of {@link boundaryLoss}. */
export interface BoundaryLossOptions extends DistanceLossOptions {
  /**
   * Precomputed φ_G, laid out like the input (e.g. {@link signedDistance} of each target map, computed once per
   * target): finite values. When given, `target` may be `null`; a target passed anyway is checked, not used.
   */
  distances?: ArrayArg<Float32Array>;
}

/** Options of {@link hausdorffDTLoss}. */
export interface HausdorffDTOptions extends DistanceLossOptions {
  /** The exponent α of the distances, in (0, 4]. Default 2 (Karimi & Salcudean, MONAI). */
  alpha?: number;
}

const DT = 'segloss.distanceTransform';
const SDT = 'segloss.signedDistance';
const BOUNDARY = 'segloss.boundaryLoss';
const HAUSDORFF = 'segloss.hausdorffDTLoss';

// Codes of assembly/distance.ts.
const MASK_U8 = 0, MASK_F32 = 1;
const MODE_UNSIGNED = 0, MODE_SIGNED = 1, MODE_FIELD = 2;
const KIND_BOUNDARY = 0, KIND_HAUSDORFF = 1;
const POW_SQUARE = 0, POW_ONE = 1, POW_GENERAL = 2;
const CHECK_FINITE = 0, CHECK_UNIT = 1;
const TGT_F32 = 0;
const ALPHA_MAX = 4;
// Spacings whose squares are normal float64 numbers and whose distances over any map fit float32.
const SPACING_MIN = 1e-30, SPACING_MAX = 1e30;
// The largest d^α the Hausdorff terms may meet: their float32 lane sums (BLOCK/4 terms of up to 2·d^α) stay finite.
const HAUSDORFF_WEIGHT_MAX = 1e30;

/**
 * The exact Euclidean distance transform: each pixel's distance to the nearest set pixel of its map.
 *
 * `D(x) = min over set pixels y of √(Σ_a (h_a·(x_a − y_a))²)`, h the `spacing`; 0 on set pixels. Computed by
 * the Felzenszwalb–Huttenlocher separable algorithm (one lower envelope of parabolas per line and axis) in
 * float64, rounded once to float32: within 1 float32 rounding of the exact distance (scipy's
 * `distance_transform_edt(mask == 0, sampling=spacing)`). A map without any set pixel gets `empty`
 * (Infinity by default) everywhere.
 *
 * @param mask `[N, ...spatial]` maps: Uint8Array (set where nonzero) or Float32Array (set where > 0.5; finite values), or a WasmArray of one
 * @returns `options.out` (a fresh view of it for a WasmArray), or a new Float32Array
 * @throws TypeError / RangeError naming the argument, before anything is written to `out`
 */
export function distanceTransform(mask: ArrayArg<Uint8Array | Float32Array>, options: DistanceOptions): Float32Array {
  const rt = runtime();
  const o = optionsObject(DT, options);
  const m = operand(DT, 'mask', mask, [Uint8Array, Float32Array], rt.heap);
  const geo = mapShape(DT, o.shape, m.length);
  const spacing = parseSpacing(DT, o.spacing, geo.dims.length);
  let empty = Infinity;
  const emptyOption = o.empty; // read once: the value checked is the value used
  if (emptyOption !== undefined) {
    if (typeof emptyOption !== 'number') throw new TypeError(`${DT}: options.empty must be a number; got ${typeof emptyOption}`);
    if (!(emptyOption >= 0)) throw new RangeError(`${DT}: options.empty must be a number >= 0 (or Infinity); got ${emptyOption}`);
    empty = emptyOption;
  }
  const out = parseOut(DT, o.out, m, rt);
  return runMaps(rt, DT, m, out, geo, spacing, MODE_UNSIGNED, empty);
}

/**
 * Kervadec's signed distance map (`one_hot2dist` of the boundary-loss reference code): negative inside,
 * zero on the inner boundary, positive outside.
 *
 * Outside (unset) pixels: `+D_in(x)`, the distance to the nearest set pixel. Inside (set) pixels:
 * `−(D_out(x) − h_min)`, D_out the distance to the nearest unset pixel and h_min the smallest spacing. With
 * the default spacing (h_min = 1) this is exactly Kervadec's `distance(negmask)·negmask − (distance(posmask)
 * − 1)·posmask`: the zero level is the set pixels that touch an unset pixel across a face (4-neighbours in
 * 2-D, 6 in 3-D), and inside values are ≤ 0. (His code subtracts 1 whatever the spacing, which makes inner
 * boundary pixels positive when a spacing is below 1; subtracting h_min keeps the inside ≤ 0 and equals it
 * for unit spacing.) A map that is all unset or all set has no boundary and is 0 everywhere (Kervadec
 * leaves an absent class at 0; scipy's transform of an all-set map is not a distance).
 *
 * @param mask `[N, ...spatial]` maps: Uint8Array (set where nonzero) or Float32Array (set where > 0.5), or a WasmArray of one
 * @returns `options.out` (a fresh view of it for a WasmArray), or a new Float32Array
 * @throws TypeError / RangeError naming the argument, before anything is written to `out`
 */
export function signedDistance(mask: ArrayArg<Uint8Array | Float32Array>, options: SignedDistanceOptions): Float32Array {
  const rt = runtime();
  const o = optionsObject(SDT, options);
  const m = operand(SDT, 'mask', mask, [Uint8Array, Float32Array], rt.heap);
  const geo = mapShape(SDT, o.shape, m.length);
  const spacing = parseSpacing(SDT, o.spacing, geo.dims.length);
  const out = parseOut(SDT, o.out, m, rt);
  return runMaps(rt, SDT, m, out, geo, spacing, MODE_SIGNED, 0);
}

/**
 * Boundary loss (Kervadec et al., "Boundary loss for highly unbalanced segmentation", MIDL 2019 / MedIA 2021).
 *
 * `L_nc = (1/S)·Σ_s p_ncs·φ_ncs`, φ the {@link signedDistance} of the target map (n, c) (target > 0.5), then
 * reduced over the kept (n, c) (see {@link DistanceLossOptions.reduction}); with `'mean'` this is Kervadec's
 * `SurfaceLoss`, `einsum("bkwh,bkwh->bkwh", probs, dist_maps).mean()` over the kept classes.
 * `dL/dp = coef·φ`, coef = 1/(N·C_kept·S) ('mean') or 1/S ('sum'), chained through the activation.
 * A target map without foreground (or without background) has φ = 0: its term and gradient are 0. The loss
 * is negative when the prediction sits inside the target (φ < 0 there); its minimum is reached by p = 1
 * exactly on the target, as the paper intends (it is meant to be added to a region loss such as Dice).
 *
 * @param input probabilities, or logits with `activation` `'sigmoid'` / `'softmax'`, `[N, C, ...spatial]`
 * @param target labels in [0, 1] like input (Float32Array or Uint8Array); may be `null` with `options.distances`
 * @returns the reduced loss, or with `reduction: 'none'` the `[N, C_kept]` per-(sample, class) losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function boundaryLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array> | null, options: BoundaryLossOptions & { reduction?: 'mean' | 'sum' }): number;
export function boundaryLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array> | null, options: BoundaryLossOptions & { reduction: 'none' }): Float64Array;
export function boundaryLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array> | null, options: BoundaryLossOptions): number | Float64Array;
export function boundaryLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array> | null, options: BoundaryLossOptions): number | Float64Array {
  return distanceLoss(BOUNDARY, KIND_BOUNDARY, input, target, options);
}

/**
 * Hausdorff distance-transform loss (Karimi & Salcudean, "Reducing the Hausdorff Distance in Medical Image
 * Segmentation with Convolutional Neural Networks", IEEE TMI 2020), with MONAI's `HausdorffDTLoss` semantics.
 *
 * `L_nc = (1/S)·Σ_s (p − g)²·(d_G^α + d_P^α)`, reduced over the kept (n, c). d_G is the distance field of
 * the target map (g > 0.5) and d_P that of the thresholded prediction (p > 0.5, p as computed in float32),
 * MONAI's `distance_field`: each pixel's distance to the nearest pixel of the other class (foreground pixels
 * to the background, background pixels to the foreground; ≥ 1 pixel everywhere), and 0 everywhere for a map
 * that is all background or all foreground. Both are constants (no gradient flows through the threshold), so
 * `dL/dp = coef·2(p − g)·(d_G^α + d_P^α)`, coef = 1/(N·C_kept·S) ('mean') or 1/S ('sum'). Soft targets
 * enter (p − g)² as they are. With an empty target and an empty prediction the weight is 0: term and
 * gradient are 0, as in MONAI. Deviations from MONAI: `includeBackground` defaults to true (this library's
 * convention; MONAI's default is false and ignored for C = 1); `spacing` is an addition (MONAI uses unit
 * pixels); `activation: 'softmax'` needs C ≥ 2 (MONAI warns and skips it); α is limited to (0, 4] so that
 * d^α stays far inside float32.
 *
 * @param input probabilities, or logits with `activation` `'sigmoid'` / `'softmax'`, `[N, C, ...spatial]`
 * @param target labels in [0, 1] like input (Float32Array or Uint8Array)
 * @returns the reduced loss, or with `reduction: 'none'` the `[N, C_kept]` per-(sample, class) losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function hausdorffDTLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: HausdorffDTOptions & { reduction?: 'mean' | 'sum' }): number;
export function hausdorffDTLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: HausdorffDTOptions & { reduction: 'none' }): Float64Array;
export function hausdorffDTLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: HausdorffDTOptions): number | Float64Array;
export function hausdorffDTLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: HausdorffDTOptions): number | Float64Array {
  return distanceLoss(HAUSDORFF, KIND_HAUSDORFF, input, target, options);
}

// ---------------------------------------------------------------- helpers ---

interface MapShape { readonly N: number; readonly dims: readonly number[]; readonly S: number }

/** `[N, ...spatial]` with 1 to 3 spatial axes, positive integers, product = length. */
function mapShape(fn: string, value: unknown, length: number): MapShape {
  if (value === undefined) throw new TypeError(`${fn}: options.shape is required: [N, ...spatial] with 1 to 3 spatial axes`);
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new TypeError(`${fn}: options.shape must be an array [N, ...spatial]; got ${typeof value}`);
  }
  const dims = Array.from(value as ArrayLike<unknown>);
  if (dims.length < 2 || dims.length > 4) {
    throw new RangeError(`${fn}: options.shape must have 2 to 4 entries [N, ...spatial] (1 to 3 spatial axes); got ${dims.length}`);
  }
  let product = 1;
  dims.forEach((d, i) => {
    if (typeof d !== 'number') throw new TypeError(`${fn}: options.shape[${i}] must be a positive integer; got ${typeof d}`);
    if (!Number.isSafeInteger(d) || d <= 0) throw new RangeError(`${fn}: options.shape[${i}] must be a positive integer; got ${d}`);
    product *= d;
  });
  if (product !== length) {
    throw new RangeError(`${fn}: options.shape [${dims.join(', ')}] has ${product} elements but mask has ${length}`);
  }
  const [N, ...spatial] = dims as number[];
  return { N: N!, dims: spatial, S: product / N! };
}

/** One finite spacing > 0 per spatial axis (default all 1). */
function parseSpacing(fn: string, value: unknown, axes: number): number[] {
  if (value === undefined) return new Array<number>(axes).fill(1);
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new TypeError(`${fn}: options.spacing must be an array of numbers, one per spatial axis; got ${typeof value}`);
  }
  const h = Array.from(value as ArrayLike<unknown>);
  if (h.length !== axes) throw new RangeError(`${fn}: options.spacing must have one entry per spatial axis (${axes}); got ${h.length}`);
  return h.map((v, i) => {
    if (typeof v !== 'number') throw new TypeError(`${fn}: options.spacing[${i}] must be a number; got ${typeof v}`);
    if (!(v >= SPACING_MIN && v <= SPACING_MAX)) {
      throw new RangeError(`${fn}: options.spacing[${i}] must be a finite number > 0 (in [${SPACING_MIN}, ${SPACING_MAX}]); got ${v}`);
    }
    return v;
  });
}

function parseOut(fn: string, value: unknown, m: Operand, rt: Runtime): Operand | undefined {
  if (value === undefined) return undefined;
  const out = operand(fn, 'options.out', value, [Float32Array], rt.heap);
  if (out.length !== m.length) throw new RangeError(`${fn}: options.out must have ${m.length} elements like mask; got ${out.length}`);
  checkNoOverlap(fn, 'options.out', out, [['mask', m]], rt.heap);
  return out;
}

/** [D0, D1, D2] and [h0, h1, h2] of the kernels, from 1 to 3 spatial axes (leading axes of size 1). */
function grid3(dims: readonly number[], spacing: readonly number[]): { D: number[]; h: number[] } {
  const pad = 3 - dims.length;
  return { D: [...new Array<number>(pad).fill(1), ...dims], h: [...new Array<number>(pad).fill(1), ...spacing] };
}

/** A pointer to the operand's data in Wasm memory: its own, or a block that the caller copies into and releases. */
function place(rt: Runtime, op: Operand, temps: number[]): number {
  if (op.wasm) return op.ptr;
  const ptr = rt.heap.alloc(op.length * op.ctor.BYTES_PER_ELEMENT);
  temps.push(ptr);
  return ptr;
}

/** Copies JS-heap operands into their blocks (after every allocation of the call: views are fresh). */
function copyIn(rt: Runtime, pairs: [Operand | undefined, number][]): void {
  for (const [op, ptr] of pairs) {
    if (op && !op.wasm) new op.ctor(rt.heap.buffer(), ptr, op.length).set(op.array);
  }
}

function badValue(rt: Runtime, fn: string, name: string, op: Operand, ptr: number, i: number, expected: string): RangeError {
  const v = new op.ctor(rt.heap.buffer(), ptr, op.length)[i];
  return new RangeError(`${fn}: ${name}[${i}] is ${v}; ${expected}`);
}

function runMaps(rt: Runtime, fn: string, m: Operand, out: Operand | undefined, geo: MapShape,
  spacing: readonly number[], mode: number, empty: number): Float32Array {
  const { kernels: k, heap } = rt;
  const { D, h } = grid3(geo.dims, spacing);
  const temps: number[] = [];
  try {
    const scratch = heap.alloc(k.distanceScratchBytes(geo.S, Math.max(...D)));
    temps.push(scratch);
    const mPtr = place(rt, m, temps);
    const oPtr = out?.wasm ? out.ptr : heap.alloc(m.length * 4);
    if (!out?.wasm) temps.push(oPtr);
    copyIn(rt, [[m, mPtr]]);
    const f32 = m.ctor === Float32Array;
    if (f32) {
      const bad = k.distanceCheck(mPtr, TGT_F32, m.length, CHECK_FINITE);
      if (bad >= 0) throw badValue(rt, fn, 'mask', m, mPtr, bad, 'a Float32Array mask must be finite');
    }
    const bytes = m.ctor.BYTES_PER_ELEMENT;
    const hMin = Math.min(...spacing);
    for (let n = 0; n < geo.N; n++) {
      k.distanceMap(mPtr + n * geo.S * bytes, f32 ? MASK_F32 : MASK_U8, oPtr + n * geo.S * 4, scratch,
        D[0]!, D[1]!, D[2]!, h[0]!, h[1]!, h[2]!, mode, empty, hMin);
    }
    const result = new Float32Array(heap.buffer(), oPtr, m.length);
    if (!out) return result.slice();
    if (out.wasm) return result;
    (out.array as Float32Array).set(result);
    return out.array as Float32Array;
  } finally {
    for (const p of temps) heap.release(p);
  }
}

function distanceLoss(fn: string, kind: number, input: unknown, target: unknown, options: unknown): number | Float64Array {
  const rt = runtime();
  const { heap } = rt;
  const o = optionsObject(fn, options);
  const x = operand(fn, 'input', input, [Float32Array], heap);
  if (o.shape === undefined) throw new TypeError(`${fn}: options.shape is required: [N, C, ...spatial] with 1 to 3 spatial axes`);
  const shape = parseShape(fn, o.shape, x.length);
  const spatial = shape.dims.slice(2);
  if (spatial.length > 3) throw new RangeError(`${fn}: options.shape must have 1 to 3 spatial axes [N, C, ...spatial]; got ${spatial.length}`);
  const { N, C, S } = shape;
  const activation = oneOf(fn, 'activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none');
  if (activation === 'softmax' && C < 2) throw new RangeError(`${fn}: options.activation 'softmax' needs C >= 2 channels; shape has C = ${C}`);
  const includeBackground = flag(fn, 'includeBackground', o.includeBackground, true);
  if (!includeBackground && C < 2) throw new RangeError(`${fn}: options.includeBackground false needs C >= 2 channels; shape has C = ${C}`);
  const reduction = oneOf(fn, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const spacing = parseSpacing(fn, o.spacing, spatial.length);
  let alpha = 2;
  if (kind === KIND_HAUSDORFF) {
    alpha = finite(fn, 'alpha', o.alpha, 2);
    if (!(alpha > 0 && alpha <= ALPHA_MAX)) throw new RangeError(`${fn}: options.alpha must be a finite number in (0, ${ALPHA_MAX}]; got ${alpha}`);
  }
  if (kind === KIND_HAUSDORFF) {
    // The longest distance in a map (its diagonal) raised to α must keep the float32 terms finite.
    const diagonal = Math.hypot(...spatial.map((n, a) => (n - 1) * spacing[a]!));
    if (diagonal ** alpha > HAUSDORFF_WEIGHT_MAX) {
      throw new RangeError(`${fn}: options.spacing and options.alpha give distances^alpha up to ${(diagonal ** alpha).toExponential(2)}; it must stay below ${HAUSDORFF_WEIGHT_MAX} (float32 sums)`);
    }
  }
  let d: Operand | undefined;
  if (kind === KIND_BOUNDARY && o.distances !== undefined) {
    d = operand(fn, 'options.distances', o.distances, [Float32Array], heap);
    if (d.length !== x.length) throw new RangeError(`${fn}: options.distances must have ${x.length} elements like input; got ${d.length}`);
  }
  let g: Operand | undefined;
  if (!(d && (target === null || target === undefined))) {
    g = operand(fn, 'target', target, [Float32Array, Uint8Array], heap);
    if (g.length !== x.length) throw new RangeError(`${fn}: target must have ${x.length} elements like input; got ${g.length}`);
  }
  let grad: Operand | undefined;
  if (o.grad !== undefined) {
    grad = operand(fn, 'options.grad', o.grad, [Float32Array], heap);
    if (reduction === 'none') throw new RangeError(`${fn}: options.grad needs reduction 'mean' or 'sum' (the gradient of a reduced loss)`);
    if (grad.length !== x.length) throw new RangeError(`${fn}: options.grad must have ${x.length} elements like input; got ${grad.length}`);
    checkNoOverlap(fn, 'options.grad', grad, [['input', x], ['target', g], ['options.distances', d]], heap);
  }

  const cStart = includeBackground ? 0 : 1;
  const kept = C - cStart;
  const { D, h } = grid3(spatial, spacing);
  const k = rt.kernels;
  const temps: number[] = [];
  try {
    // Every block of the call is taken before any view is made (an allocation may grow the memory).
    const xPtr = place(rt, x, temps);
    const gPtr = g ? place(rt, g, temps) : 0;
    const alloc = (bytes: number) => { const p = heap.alloc(bytes); temps.push(p); return p; };
    const dgPtr = d ? place(rt, d, temps) : alloc(x.length * 4);
    const pPtr = activation === 'none' ? xPtr : alloc(x.length * 4);
    const dpPtr = kind === KIND_HAUSDORFF ? alloc(x.length * 4) : 0;
    const gradPtr = grad ? (grad.wasm ? grad.ptr : alloc(x.length * 4)) : 0;
    const sums = alloc(N * C * 8);
    const scratch = d ? 0 : alloc(k.distanceScratchBytes(S, Math.max(...D)));
    copyIn(rt, [[x, xPtr], [g, gPtr], [d, dgPtr]]);

    // 1–2. Checks (and p).
    const badX = k.distanceProbabilities(xPtr, pPtr, N, C, S, ACT[activation]);
    if (badX >= 0) {
      const v = new Float32Array(heap.buffer(), xPtr, x.length)[badX]!;
      throw new RangeError(Number.isFinite(v)
        ? `${fn}: input[${badX}] is ${v}; probabilities (activation 'none') must be in [0, 1]`
        : `${fn}: input[${badX}] is ${v}; inputs must be finite`);
    }
    const tgt = g ? targetCode(g, false) : TGT_F32;
    if (g) {
      const bad = k.distanceCheck(gPtr, tgt, g.length, CHECK_UNIT);
      if (bad >= 0) throw badValue(rt, fn, 'target', g, gPtr, bad, 'targets must be in [0, 1]');
    }
    if (d) {
      const bad = k.distanceCheck(dgPtr, TGT_F32, d.length, CHECK_FINITE);
      if (bad >= 0) throw badValue(rt, fn, 'options.distances', d, dgPtr, bad, 'distances must be finite');
    }

    // 3. Distance maps of the kept (n, c): φ_G (boundary) or d_G and d_P (Hausdorff).
    const hMin = Math.min(...spacing);
    const dt = (src: number, bytes: number, type: number, dst: number, mode: number) => {
      for (let n = 0; n < N; n++) {
        for (let c = cStart; c < C; c++) {
          const row = (n * C + c) * S;
          k.distanceMap(src + row * bytes, type, dst + row * 4, scratch, D[0]!, D[1]!, D[2]!, h[0]!, h[1]!, h[2]!, mode, 0, hMin);
        }
      }
    };
    const gBytes = g ? g.ctor.BYTES_PER_ELEMENT : 4;
    const gType = g && g.ctor === Uint8Array ? MASK_U8 : MASK_F32;
    if (!d) dt(gPtr, gBytes, gType, dgPtr, kind === KIND_BOUNDARY ? MODE_SIGNED : MODE_FIELD);
    if (kind === KIND_HAUSDORFF) dt(pPtr, 4, MASK_F32, dpPtr, MODE_FIELD);

    // 4. Per-(n, c) sums of the element losses; L_nc = sum / S.
    const powMode = alpha === 2 ? POW_SQUARE : alpha === 1 ? POW_ONE : POW_GENERAL;
    k.distanceLossTerms(kind, pPtr, gPtr, tgt, dgPtr, dpPtr, sums, N, C, S, cStart, powMode, alpha);
    const sumView = new Float64Array(heap.buffer(), sums, N * C);
    const perEntry = new Float64Array(N * kept);
    let total = 0;
    for (let n = 0; n < N; n++) {
      for (let c = cStart; c < C; c++) {
        const v = sumView[n * C + c]! / S;
        perEntry[n * kept + c - cStart] = v;
        total += v;
      }
    }
    if (reduction === 'none') return perEntry;

    // 5. The gradient, last.
    if (grad) {
      const coef = reduction === 'mean' ? 1 / (N * kept * S) : 1 / S;
      k.distanceLossGradient(kind, xPtr, pPtr, gPtr, tgt, dgPtr, dpPtr, gradPtr, N, C, S, cStart,
        ACT[activation], powMode, alpha, coef);
      if (!grad.wasm) (grad.array as Float32Array).set(new Float32Array(heap.buffer(), gradPtr, x.length));
    }
    return reduction === 'mean' ? total / (N * kept) : total;
  } finally {
    for (const p of temps) heap.release(p);
  }
}
