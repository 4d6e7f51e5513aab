// The region losses: the soft Dice family (Dice, Jaccard, squared), Tversky
// and focal Tversky, generalized Dice, and their mergeable statistics.
// Kernels: assembly/dice.ts (sums, gradient) and assembly/region.ts (losses
// from sums); float64 reference: src/reference/dice.ts.
import {
  operand, checkNoOverlap, optionsObject, oneOf, flag, finite, integer, parseShape, weights, withOverrides, WEIGHT_MAX,
  type Operand, type Shape,
} from './args.ts';
import { stream, isDirect, chunkedElements, type Stream } from './driver.ts';
import { ACT, ACT_SIGMOID_TAIL, ACT_SOFTMAX_KEPT, ACT_SIGMOID_SLOPE, TGT_SOFT, MASK_PIXEL, MASK_ELEMENT, targetCode, isIndexCode } from './codes.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { WasmArray } from './wasm-array.ts';

/** An input array, or the segloss-owned {@link WasmArray} that holds it. */
export type ArrayArg<T extends Float32Array | Uint8Array | Uint16Array | Int32Array> = T | WasmArray<T>;
/** A target: dense labels (Float32Array, Uint8Array) or class indices (Uint8Array, Uint16Array, Int32Array). */
export type TargetArg = ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>;

/** Options shared by every region loss. */
export interface RegionOptions {
  /** `[N, C, ...spatial]`, channels first. Default `[1, 1, input.length]`. */
  shape?: readonly number[];
  /** `'none'` (input holds probabilities, default), `'sigmoid'` or `'softmax'` (input holds logits). */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `'dense'` (target laid out like input, default) or `'indices'` (one class id per pixel). */
  target?: 'dense' | 'indices';
  /** With `target: 'indices'`: pixels with this label are ignored. */
  ignoreIndex?: number;
  /** 0 = ignore. `N × spatial` bytes (broadcast over channels) or as long as input (not with softmax). */
  mask?: ArrayArg<Uint8Array>;
  /** `false` drops channel 0 after the activation (needs C ≥ 2). Default true. */
  includeBackground?: boolean;
  /**
   * MONAI's soft_label: the intersection is (‖p‖₁ + ‖g‖₁ − ‖p − g‖₁)/2 = Σ min(p, g)
   * instead of Σ p·g, so soft targets give loss 0 at p = g. Needs a Float32Array target.
   * (With `squared` the L2 form equals Σ p·g, so it changes nothing there.) Default false.
   */
  softLabel?: boolean;
  /** Added to the numerator. Finite, ≥ 0. Default 1e-5. */
  smoothNr?: number;
  /** Added to the denominator. Finite, ≥ 0. Default 1e-5. */
  smoothDr?: number;
  /** Sum over the batch too: one ratio per class ("batch Dice"). Default false. */
  batch?: boolean;
  /** `'mean'` (default) or `'sum'` over the entries gives a number; `'none'` a Float64Array. */
  reduction?: 'mean' | 'sum' | 'none';
  /** Receives dLoss/dInput (of the reduced loss); as long as input, not overlapping any input. */
  grad?: ArrayArg<Float32Array>;
  /**
   * Global sums (from {@link diceStats}, merged with {@link mergeStats} across
   * shards): the loss and this call's gradient use them instead of the sums
   * of this call's data, so that each shard writes its part of the global gradient.
   */
  stats?: Float64Array;
}

/** Options of {@link diceLoss}. */
export interface DiceOptions extends RegionOptions {
  /** Denominator Σp² + Σg² instead of Σp + Σg. Default false. */
  squared?: boolean;
  /** Jaccard (IoU) form 1 − (I + snr)/(SP + SG − I + sdr) instead of Dice. Default false. */
  jaccard?: boolean;
  /** Applied per entry before the reduction: `'log'` = −log(ratio) (smp's log_loss), `'logcosh'` = log(cosh(1 − ratio)). */
  transform?: 'none' | 'log' | 'logcosh';
  /** One non-negative weight per kept class, multiplied into its loss (not renormalised). */
  weight?: ArrayLike<number>;
}

/** Options of {@link tverskyLoss}. */
export interface TverskyOptions extends RegionOptions {
  /** Weight of false positives, finite ≥ 0. Default 0.5. */
  alpha?: number;
  /** Weight of false negatives, finite ≥ 0. Default 0.5. */
  beta?: number;
  /** Focal Tversky exponent applied to each entry before the reduction, finite > 0. Default 1. */
  gamma?: number;
  /** One non-negative weight per kept class, multiplied into its loss. */
  weight?: ArrayLike<number>;
}

/** Options of {@link generalizedDiceLoss}. */
export interface GeneralizedDiceOptions extends RegionOptions {
  /** Class weights from the target sums: `'square'` 1/ΣG² (default), `'simple'` 1/ΣG, `'uniform'` 1. */
  weightType?: 'square' | 'simple' | 'uniform';
}

/** Which region loss {@link lossFromStats} evaluates, with that loss's options. */
export type LossFromStatsOptions =
  | (DiceOptions & { loss?: 'dice' })
  | (TverskyOptions & { loss: 'tversky' })
  | (GeneralizedDiceOptions & { loss: 'generalizedDice' });

export const REDUCE = { mean: 0, sum: 1, none: 2 } as const;
const FORM = { dice: 0, jaccard: 1, tversky: 2, generalizedDice: 3 } as const;
/** Transforms of the ratio (assembly/region.ts); `inverse` (1/T) is crispEdgeLoss's, not a diceLoss option. */
export const TRANSFORM = { none: 0, log: 1, logcosh: 2, inverse: 3 } as const;
const WEIGHT_TYPE = { square: 0, simple: 1, uniform: 2 } as const;
const DENSE = [Float32Array, Uint8Array] as const;
const INDICES = [Uint8Array, Uint16Array, Int32Array] as const;

/** Everything a region-loss call needs, checked. */
export interface RegionCall {
  fn: string;
  shape: Shape;
  streams: (Stream | undefined)[];
  grad: Operand | undefined;
  act: number; tgt: number; maskMode: number; ignore: number; hasIgnore: boolean;
  cStart: number; batch: boolean; squared: boolean; reduction: number;
  /** Rows of the statistics: 1 with batch, else N. */
  rows: number;
  stats: Float64Array | undefined;
  form: number; transform: number; weightType: number; weights: Float64Array | undefined;
  /** smoothNr, smoothDr, alpha, beta, gamma. */
  params: Float64Array;
}

type LossKind = keyof typeof FORM | 'stats';

/** Parses and checks the arguments of a region loss; throws before anything is written. */
export function parseCall(fn: string, kind: LossKind, input: unknown, target: unknown, options: unknown): RegionCall {
  const { heap } = runtime();
  const o = optionsObject(fn, options);
  const x = operand(fn, 'input', input, [Float32Array], heap);
  const shape = parseShape(fn, o.shape, x.length);
  const { N, C, S } = shape;
  const activation = oneOf(fn, 'activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none');
  const indices = oneOf(fn, 'target', o.target, ['dense', 'indices'] as const, 'dense') === 'indices';
  const g = operand(fn, 'target', target, indices ? INDICES : DENSE, heap);
  const expectTarget = indices ? N * S : x.length;
  if (g.length !== expectTarget) {
    throw new RangeError(`${fn}: target must have ${expectTarget} elements (${indices ? 'N × spatial class ids' : 'as many as input'}); got ${g.length}`);
  }
  const ignoreIndex = integer(fn, 'ignoreIndex', o.ignoreIndex);
  if (ignoreIndex !== undefined && !indices) throw new RangeError(`${fn}: options.ignoreIndex needs target: 'indices'`);
  if (ignoreIndex !== undefined && (ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31)) {
    throw new RangeError(`${fn}: options.ignoreIndex must be a 32-bit integer; got ${ignoreIndex}`);
  }
  if (activation === 'softmax' && C < 2) throw new RangeError(`${fn}: options.activation 'softmax' needs C >= 2 channels; shape has C = ${C}`);
  const includeBackground = flag(fn, 'includeBackground', o.includeBackground, true);
  if (!includeBackground && C < 2) throw new RangeError(`${fn}: options.includeBackground false needs C >= 2 channels; shape has C = ${C}`);
  const m = o.mask === undefined ? undefined : operand(fn, 'options.mask', o.mask, [Uint8Array], heap);
  let maskMode = 0;
  if (m) {
    if (m.length === N * S) maskMode = MASK_PIXEL;
    else if (m.length === x.length && activation !== 'softmax') maskMode = MASK_ELEMENT;
    else {
      throw new RangeError(activation === 'softmax'
        ? `${fn}: options.mask must have N × spatial = ${N * S} elements with softmax (a pixel is kept or ignored with all its channels); got ${m.length}`
        : `${fn}: options.mask must have N × spatial = ${N * S} or ${x.length} elements; got ${m.length}`);
    }
  }
  const softLabel = flag(fn, 'softLabel', o.softLabel, false);
  if (softLabel && g.ctor !== Float32Array) {
    throw new TypeError(`${fn}: options.softLabel needs a dense Float32Array target (binary targets give the same loss without it)`);
  }
  const isDice = kind === 'dice' || kind === 'stats';
  const squared = isDice ? flag(fn, 'squared', o.squared, false) : false;
  const jaccard = kind === 'dice' ? flag(fn, 'jaccard', o.jaccard, false) : false;
  const transform = kind === 'dice' ? oneOf(fn, 'transform', o.transform, ['none', 'log', 'logcosh'] as const, 'none') : 'none';
  const smoothNr = finite(fn, 'smoothNr', o.smoothNr, 1e-5, 0);
  const smoothDr = finite(fn, 'smoothDr', o.smoothDr, 1e-5, 0);
  const alpha = kind === 'tversky' ? finite(fn, 'alpha', o.alpha, 0.5, 0, WEIGHT_MAX) : 0;
  const beta = kind === 'tversky' ? finite(fn, 'beta', o.beta, 0.5, 0, WEIGHT_MAX) : 0;
  const gamma = kind === 'tversky' ? finite(fn, 'gamma', o.gamma, 1, Number.MIN_VALUE) : 1;
  const weightType = kind === 'generalizedDice' ? oneOf(fn, 'weightType', o.weightType, ['square', 'simple', 'uniform'] as const, 'square') : 'square';
  const batch = flag(fn, 'batch', o.batch, false);
  const cStart = includeBackground ? 0 : 1;
  const w = kind === 'generalizedDice' || kind === 'stats' ? undefined : weights(fn, o.weight, C - cStart);
  const reduction = kind === 'stats' ? 'none' : oneOf(fn, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const rows = batch ? 1 : N;
  let stats: Float64Array | undefined;
  if (kind !== 'stats' && o.stats !== undefined) {
    if (!(o.stats instanceof Float64Array)) throw new TypeError(`${fn}: options.stats must be a Float64Array from diceStats/mergeStats`);
    if (o.stats.length !== rows * C * 3) {
      throw new RangeError(`${fn}: options.stats must have ${rows} × ${C} × 3 = ${rows * C * 3} sums for this shape${batch ? ' with batch' : ''}; got ${o.stats.length}`);
    }
    if (!o.stats.every(Number.isFinite)) throw new RangeError(`${fn}: options.stats must hold finite sums`);
    stats = o.stats;
  }
  const grad = kind === 'stats' || o.grad === undefined ? undefined : operand(fn, 'options.grad', o.grad, [Float32Array], heap);
  if (grad) {
    if (reduction === 'none') throw new RangeError(`${fn}: options.grad needs reduction 'mean' or 'sum' (the gradient of a reduced loss)`);
    if (grad.length !== x.length) throw new RangeError(`${fn}: options.grad must have ${x.length} elements like input; got ${grad.length}`);
    checkNoOverlap(fn, 'options.grad', grad, [['input', x], ['target', g], ['options.mask', m]], heap);
  }
  const tgt = targetCode(g, indices, softLabel && !squared);
  return {
    fn, shape, grad, act: ACT[activation], tgt, maskMode,
    streams: [{ op: x, rows: C }, { op: g, rows: indices ? 1 : C }, m && { op: m, rows: maskMode === MASK_ELEMENT ? C : 1 }],
    ignore: ignoreIndex ?? 0, hasIgnore: ignoreIndex !== undefined,
    cStart, batch, squared, reduction: REDUCE[reduction], rows, stats,
    form: kind === 'stats' ? FORM.dice : jaccard ? FORM.jaccard : FORM[kind], transform: TRANSFORM[transform],
    weightType: WEIGHT_TYPE[weightType], weights: w,
    params: Float64Array.of(smoothNr, smoothDr, alpha, beta, gamma),
  };
}

/**
 * Calls with a gradient and an activation keep what pass 2 would otherwise
 * recompute with exp: each element's sigmoid tail e^−|x| (signed), or σ'(x)
 * alone when the gradient is affine in the target, or its softmax
 * probability. Up to this many elements (4M: 16 MiB of scratch); larger
 * inputs recompute it, so memory stays bounded. Both ways give the same bits.
 */
const KEEP_MAX_ELEMENTS = 1 << 22;

/**
 * Pass 1 over the data: the sums of every (row, class), reduced over the batch
 * with `batch`, left at `stats` in Wasm memory. Throws on invalid values.
 * With `kept` ≠ 0 (and `act` a kept-data code) it also writes what pass 2
 * needs (see KEEP_MAX_ELEMENTS) there, chunk by chunk in the layout `direct` gives.
 */
function accumulate(rt: Runtime, call: RegionCall, stats: number, scratch: number,
  kept = 0, direct?: boolean, act = call.act): void {
  const { N, C } = call.shape;
  const k = rt.kernels;
  new Float64Array(rt.heap.buffer(), stats, N * C * 3).fill(0);
  let flags = 0;
  let at = kept;
  stream(rt, call.shape, call.streams, undefined, (ch) => {
    flags |= k.diceSums(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, stats + ch.n0 * C * 24, scratch,
      ch.samples, C, ch.length, ch.stride, act, call.tgt, call.maskMode,
      call.ignore, call.hasIgnore ? 1 : 0, call.squared ? 1 : 0, at);
    if (kept) at += ch.samples * C * ch.stride * 4;
  }, direct);
  if (flags) throw invalidValues(rt, call, flags);
  // Finite inputs can still overflow the f32 lane sums (without an activation,
  // values near 1e36 and up; squared, near 1e18): an error, not a NaN loss.
  if (!new Float64Array(rt.heap.buffer(), stats, N * C * 3).every(Number.isFinite)) {
    throw new RangeError(`${call.fn}: the input's sums overflow float32; without an activation the input holds probabilities, in [0, 1]`);
  }
  if (call.batch) k.sumRows(stats, N, C * 3);
}

/** The kernels' code for an activation with its data kept between the passes. */
function keptAct(act: number, affine: boolean): number {
  if (act === ACT.softmax) return ACT_SOFTMAX_KEPT;
  return affine ? ACT_SIGMOID_SLOPE : ACT_SIGMOID_TAIL;
}

/**
 * Whether the gradient is affine in the target (dL/dp = A·g + B1, assembly/dice.ts):
 * plain sums and hard labels, and no softmax (whose chain rule needs every p).
 */
function isAffine(call: RegionCall): boolean {
  return !call.squared && call.tgt !== TGT_SOFT && call.act !== ACT.softmax;
}

/** The whole region-loss call: sums, losses, gradient. */
function run(call: RegionCall): number | Float64Array {
  const rt = runtime();
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C } = call.shape;
  // With data kept between the passes, both walk the same chunks (or none).
  const direct = isDirect(call.streams, call.grad);
  const keptElements = chunkedElements(call.shape, direct);
  const keep = call.grad !== undefined && call.act !== ACT.none && keptElements <= KEEP_MAX_ELEMENTS;
  // Every block this call needs is taken before any view is made (taking one may grow memory).
  const stats = ws.get('stats', N * C * 24);
  const coef = call.grad ? ws.get('coef', call.rows * C * 12) : 0;
  const losses = ws.get('losses', entryCount(call) * 8);
  const scratch = ws.get('scratch', k.diceScratchBytes(C));
  const kept = keep ? ws.get('kept', keptElements * 4) : 0;

  // The kernels' activation code for both passes (what pass 1 keeps, if anything).
  const affine = isAffine(call);
  const act = keep ? keptAct(call.act, affine) : call.act;
  accumulate(rt, call, stats, scratch, kept, keep ? direct : undefined, act);
  if (call.stats) new Float64Array(heap.buffer(), stats, call.stats.length).set(call.stats);
  const loss = epilogue(rt, call, stats, coef, losses);
  if (call.grad) {
    const coefStride = call.batch ? 0 : C * 12;
    // Pass 2 reads the kept data in place of the input, or (affine, without
    // an activation) needs no input: it then does not stage it.
    const streams = keep || (affine && call.act === ACT.none) ? [undefined, ...call.streams.slice(1)] : call.streams;
    let at = kept;
    stream(rt, call.shape, streams, call.grad, (ch) => {
      k.diceGradient(keep ? at : ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, ch.out, coef + ch.n0 * coefStride, coefStride, scratch,
        ch.samples, C, ch.length, ch.stride, act, call.tgt, call.maskMode,
        call.ignore, call.hasIgnore ? 1 : 0, affine ? 1 : 0);
      if (keep) at += ch.samples * C * ch.stride * 4;
    }, direct);
  }
  return call.reduction === REDUCE.none ? new Float64Array(heap.buffer(), losses, entryCount(call)).slice() : loss;
}

/** The number of loss entries: (row, kept class) pairs, or rows for the generalized form. */
export function entryCount(call: RegionCall): number {
  return call.form === FORM.generalizedDice ? call.rows : call.rows * (call.shape.C - call.cStart);
}

/**
 * The region epilogue on the (row-reduced) sums at `stats`, [rows][C][3]: returns the reduced loss,
 * writes the per-entry losses to `losses` and, when `coef` ≠ 0, the gradient coefficients
 * (A, B1, B2) per (row, class) to `coef`.
 */
export function epilogue(rt: Runtime, call: RegionCall, stats: number, coef: number, losses: number): number {
  const { kernels: k, workspace: ws, heap } = rt;
  const params = ws.get('params', 5 * 8);
  const wPtr = call.weights ? ws.get('weights', call.weights.length * 8) : 0;
  const buffer = heap.buffer();
  if (call.weights) new Float64Array(buffer, wPtr, call.weights.length).set(call.weights);
  new Float64Array(buffer, params, 5).set(call.params);
  return k.regionEpilogue(stats, call.rows, call.shape.C, call.cStart, call.form, call.squared ? 1 : 0, params,
    call.transform, call.weightType, wPtr, call.reduction, losses, coef);
}

/** Builds the error for a pass-1 validation failure, naming the first bad element. */
export function invalidValues(rt: Runtime, call: RegionCall, flags: number): RangeError {
  const view = (i: number) => {
    const op = call.streams[i]!.op;
    return op.wasm ? new op.ctor(rt.heap.buffer(), op.ptr, op.length) : op.array;
  };
  if (flags & 1) {
    const x = view(0);
    const i = x.findIndex((v) => !Number.isFinite(v));
    return new RangeError(`${call.fn}: input[${i}] is ${x[i]}; inputs must be finite`);
  }
  const g = view(1);
  if (isIndexCode(call.tgt)) {
    const C = call.shape.C;
    const i = g.findIndex((v) => (v < 0 || v >= C) && !(call.hasIgnore && v === call.ignore));
    return new RangeError(`${call.fn}: target[${i}] is ${g[i]}; class indices must be in [0, ${C})${call.hasIgnore ? ` or equal ignoreIndex ${call.ignore}` : ''}`);
  }
  const i = g.findIndex((v) => !(v >= 0 && v <= 1));
  return new RangeError(`${call.fn}: target[${i}] is ${g[i]}; dense targets must be in [0, 1]`);
}

/**
 * Soft Dice loss of `input` against `target`, per (sample, class), reduced.
 *
 * Per entry, with I = Σp·g, SP = Σp (Σp² when `squared`), SG = Σg (Σg²):
 * dice `1 − (2I + smoothNr)/(SP + SG + smoothDr)`, jaccard
 * `1 − (I + smoothNr)/(SP + SG − I + smoothDr)`; `transform` maps the ratio
 * through −log (clamped at 1e−7, as smp) or log∘cosh(1 − ratio). An entry
 * whose denominator is exactly 0 (smoothDr = 0 and nothing predicted,
 * nothing labelled) is a perfect match: loss 0, gradient 0. Semantics follow
 * MONAI's `DiceLoss`.
 *
 * @param input probabilities, or logits with `activation`
 * @param target dense labels in [0, 1] (Float32Array or Uint8Array), or class ids with `target: 'indices'`
 * @returns the reduced loss, or the per-entry losses `[N, C_kept]` (`[C_kept]` with batch) with `reduction: 'none'`
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function diceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options: DiceOptions & { reduction: 'none' }): Float64Array;
export function diceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: DiceOptions): number;
export function diceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: DiceOptions): number | Float64Array {
  return run(parseCall('segloss.diceLoss', 'dice', input, target, options));
}

/**
 * Tversky loss (Salehi et al. 2017) and focal Tversky loss (Abraham & Khan
 * 2019), per (sample, class): `(1 − (I + smoothNr)/(I + α·FP + β·FN + smoothDr))^γ`
 * with FP = Σp(1 − g) = SP − I and FN = Σ(1 − p)g = SG − I. α = β = 0.5 is
 * Dice, α = β = 1 Jaccard. γ applies to each entry before the reduction, as
 * the focal Tversky paper defines it (smp applies it to the mean: their #734).
 * The paper writes the exponent as 1/γ with γ = 4/3: pass `gamma: 0.75`.
 * Below 1 − T = 0 (a ratio above 1, from smoothNr > smoothDr) the focal form is
 * clamped at 0. Follows MONAI's `TverskyLoss` otherwise.
 */
export function tverskyLoss(input: ArrayArg<Float32Array>, target: TargetArg, options: TverskyOptions & { reduction: 'none' }): Float64Array;
export function tverskyLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: TverskyOptions): number;
export function tverskyLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: TverskyOptions): number | Float64Array {
  return run(parseCall('segloss.tverskyLoss', 'tversky', input, target, options));
}

/**
 * Generalized Dice loss (Sudre et al. 2017), per sample (one entry per sample,
 * or one for the batch with `batch`): `1 − (2Σ_c w_c·I_c + smoothNr)/(Σ_c w_c·(SP_c + SG_c) + smoothDr)`,
 * the classes summed before the division (MONAI #369, #6765), with
 * w_c = 1/SG_c² (`'square'`), 1/SG_c (`'simple'`) or 1. A class with an empty
 * target takes the largest finite weight of its sample (of the batch with
 * `batch`), as MONAI's `GeneralizedDiceLoss`.
 */
export function generalizedDiceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options: GeneralizedDiceOptions & { reduction: 'none' }): Float64Array;
export function generalizedDiceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: GeneralizedDiceOptions): number;
export function generalizedDiceLoss(input: ArrayArg<Float32Array>, target: TargetArg, options?: GeneralizedDiceOptions): number | Float64Array {
  return run(parseCall('segloss.generalizedDiceLoss', 'generalizedDice', input, target, options));
}

/**
 * The sums behind every region loss (Dice, Tversky, generalized Dice) for
 * this data: a Float64Array `[rows][C][3]` of (I, SP, SG) per class, rows = N,
 * or 1 with `batch` (summed over the batch). Sums of shards of the same rows
 * (spatial tiles of a volume, or with `batch` the samples of one batch split
 * across workers) add up: merge them with {@link mergeStats}, get the loss
 * with {@link lossFromStats}, and each shard's gradient by passing the merged
 * sums as `options.stats` to the loss function. Takes the layout options of
 * the losses (`squared` for the squared Dice form; `softLabel`).
 */
export function diceStats(input: ArrayArg<Float32Array>, target: TargetArg, options?: RegionOptions & { squared?: boolean }): Float64Array {
  const call = parseCall('segloss.diceStats', 'stats', input, target, options);
  const rt = runtime();
  const { N, C } = call.shape;
  const stats = rt.workspace.get('stats', N * C * 24);
  const scratch = rt.workspace.get('scratch', rt.kernels.diceScratchBytes(C));
  accumulate(rt, call, stats, scratch);
  return new Float64Array(rt.heap.buffer(), stats, call.rows * C * 3).slice();
}

/** Adds two statistics arrays of the same layout (from {@link diceStats}). */
export function mergeStats(a: Float64Array, b: Float64Array): Float64Array {
  const fn = 'segloss.mergeStats';
  if (!(a instanceof Float64Array)) throw new TypeError(`${fn}: a must be a Float64Array from diceStats`);
  if (!(b instanceof Float64Array)) throw new TypeError(`${fn}: b must be a Float64Array from diceStats`);
  if (a.length !== b.length) throw new RangeError(`${fn}: a and b must have the same length; got ${a.length} and ${b.length}`);
  if (a.length % 3 !== 0) throw new RangeError(`${fn}: a must hold (I, SP, SG) triples; its length ${a.length} is not a multiple of 3`);
  return a.map((v, i) => v + b[i]!);
}

/**
 * The loss of merged statistics (see {@link diceStats}), without the data:
 * `options.loss` picks `'dice'` (default), `'tversky'` or `'generalizedDice'`,
 * with that loss's options. `options.shape` gives `[N, C, ...]` (N = the rows
 * of the statistics, 1 with `batch`).
 */
export function lossFromStats(stats: Float64Array, options?: LossFromStatsOptions): number | Float64Array {
  const fn = 'segloss.lossFromStats';
  if (!(stats instanceof Float64Array)) throw new TypeError(`${fn}: stats must be a Float64Array from diceStats`);
  const o = optionsObject(fn, options);
  const kind = oneOf(fn, 'loss', o.loss, ['dice', 'tversky', 'generalizedDice'] as const, 'dice');
  const shape = o.shape as readonly number[] | undefined;
  const C = shape && shape.length > 1 ? shape[1]! : 1;
  const batch = o.batch === true;
  const rows = batch ? 1 : (shape ? shape[0]! : stats.length / (3 * C));
  // A stand-in input of one zero per (row, class) checks the options exactly
  // as the loss functions do; its sums are then replaced by `stats`.
  const zeros = new Float32Array(rows * C);
  return run(parseCall(fn, kind, zeros, zeros.slice(), withOverrides(o, {
    shape: [rows, C, 1], batch: false, target: 'dense', mask: undefined, ignoreIndex: undefined,
    activation: 'none', grad: undefined, stats,
  })));
}
