// bceLoss and focalLoss: the pixel losses for edges (binary cross-entropy with
// HED / RCF class balancing, focal loss in binary and softmax forms), with
// their analytic gradients. Kernels: assembly/bce.ts (element formulas in
// assembly/simd.ts); float64 references: src/reference/bce.ts.
//
// Every call makes two passes (see assembly/bce.ts): pass 1 validates every
// element and counts kept elements and positives, the bindings turn the
// counts into per-sample weights and the reduction's scale, and pass 2
// computes the losses and the gradient in one sweep. Pass 1 is a plain read of
// the inputs, far cheaper than pass 2's exp/log; it is what lets class
// balancing and 'mean' scale the gradient as it is written, and guarantees
// that nothing is written to `grad` when an input is invalid.
import {
  operand, checkNoOverlap, optionsObject, oneOf, finite, integer, parseShape, weights, WEIGHT_MAX,
  type Operand, type Shape,
} from './args.ts';
import { stream, type Stream } from './driver.ts';
import { ACT, MASK_PIXEL, MASK_ELEMENT, targetCode } from './codes.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { ArrayArg } from './dice.ts';

export {
  bceLossReference, focalLossReference,
  type BceReferenceOptions, type FocalReferenceOptions, type ReferenceResult,
} from './reference/bce.ts';

/** Options of {@link bceLoss}. */
export interface BceOptions {
  /** `[N, C, ...spatial]`, channels first. Default `[1, 1, input.length]`. Only N matters (per-image balancing). */
  shape?: readonly number[];
  /** `'none'`: input holds probabilities p ∈ [0, 1] (default); `'sigmoid'`: input holds logits, p = σ(x). */
  activation?: 'none' | 'sigmoid';
  /** 0 = ignored (loss 0, gradient 0, not counted). `N × spatial` bytes (broadcast over channels) or as long as input. */
  mask?: ArrayArg<Uint8Array>;
  /** Weight of the positive term, PyTorch's `pos_weight` (a scalar here). Finite, ≥ 0. Default 1. */
  posWeight?: number;
  /**
   * ε ∈ [0, 1): targets become g·(1 − ε) + ε/2, as Keras' `label_smoothing`. Default 0. Applied after the
   * balancing rule, which classifies the raw labels.
   */
  labelSmoothing?: number;
  /**
   * Per-image class balancing. `'none'` (default); `'hed'` (Xie & Tu, HED): positive term × β, negative
   * term × (1 − β), β = |Y−|/|Y|, positives are kept labels ≥ 0.5; `'rcf'` (Liu et al., RCF): positive term
   * × |Y−|/|Y|, negative term × λ·|Y+|/|Y|, labels ≥ η are positives (target 1), labels in (0, η) are
   * ignored, 0 is negative. |Y| counts the kept elements of the image (sample n).
   */
  balance?: 'none' | 'hed' | 'rcf';
  /** RCF's λ (negatives' weight factor). Finite, ≥ 0. Default 1.1. Only with `balance: 'rcf'`. */
  rcfLambda?: number;
  /** RCF's η (labels ≥ η are positives, labels in (0, η) ignored). In (0, 1). Default 0.5. Only with `balance: 'rcf'`. */
  rcfEta?: number;
  /** `'mean'` over kept elements (default), `'sum'`, or `'none'`: a Float32Array of per-element losses (0 where ignored). */
  reduction?: 'mean' | 'sum' | 'none';
  /** Receives dLoss/dInput of the reduced loss; as long as input, not overlapping any input. */
  grad?: ArrayArg<Float32Array>;
}

/** Options of {@link focalLoss}. */
export interface FocalOptions {
  /** `[N, C, ...spatial]`, channels first. Default `[1, 1, input.length]`. */
  shape?: readonly number[];
  /**
   * `'none'` (probabilities, default) or `'sigmoid'` (logits): the binary / multi-label form, one focal
   * term per element; `'softmax'` (logits): the multi-class form over the C channels of each pixel.
   */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `'dense'` (binary forms: labels in [0, 1] laid out like input) or `'indices'` (softmax: N × spatial class ids). Defaults to the one the activation needs. */
  target?: 'dense' | 'indices';
  /** Softmax: pixels with this label are ignored. */
  ignoreIndex?: number;
  /** 0 = ignored. `N × spatial` bytes (broadcast over channels), or (binary forms) as long as input. */
  mask?: ArrayArg<Uint8Array>;
  /** Binary forms: α ∈ [0, 1] weights positives, 1 − α negatives; `null` or −1 disables it. Default 0.25 (torchvision). */
  alpha?: number | null;
  /** Focusing parameter γ: finite, ≥ 0. Default 2. γ = 0 gives (α-weighted) cross-entropy. */
  gamma?: number;
  /** Softmax: one non-negative weight α_c per class (C entries). Default all 1. */
  weight?: ArrayLike<number>;
  /** `'mean'` over kept elements (softmax: kept pixels; default), `'sum'`, or `'none'`: a Float32Array of per-element (softmax: per-pixel) losses. */
  reduction?: 'mean' | 'sum' | 'none';
  /** Receives dLoss/dInput of the reduced loss; as long as input, not overlapping any input. */
  grad?: ArrayArg<Float32Array>;
}

const BCE = 'segloss.bceLoss';
const FOCAL = 'segloss.focalLoss';
const KIND_BCE = 0;
const KIND_FOCAL = 1;
const DENSE = [Float32Array, Uint8Array] as const;
const INDICES = [Uint8Array, Uint16Array, Int32Array] as const;
const FLAG_INPUT = 1;
const FLAG_TARGET = 2;
/** binarizeAt when RCF is off: no label reaches it. */
const NEVER = 2;

/**
 * Binary cross-entropy of `input` against `target`, with optional class balancing, reduced.
 *
 * Per kept element, with target g and the sample's weights a (positive term) and b (negative term):
 * `ℓ = −a·g·log p − b·(1 − g)·log(1 − p)`; without balance a = posWeight, b = 1.
 * With probabilities (`activation: 'none'`) this is PyTorch's `BCELoss`: log p and log(1 − p) are clamped
 * at −100, and the gradient is PyTorch's `(b(1 − g)p − a·g(1 − p)) / max(p(1 − p), 1e−12)` (finite at p = 0
 * and 1). With logits it is PyTorch's `BCEWithLogitsLoss` (pos_weight = posWeight), evaluated stably as
 * `a·g·softplus(−x) + b·(1 − g)·softplus(x)`, gradient `b(1 − g)σ(x) − a·g·σ(−x)`. Balancing follows HED
 * and RCF per image (see {@link BceOptions.balance}); posWeight multiplies the positive term on top.
 * PyTorch's `BCELoss` has no pos_weight: with probabilities posWeight weights the positive term the same way.
 *
 * Losses are float32 per element (summed in float64 by blocks): the result is finite for every finite input
 * as long as the element losses, about |x|·weight for huge logits, stay within float32 range (|x|·weight
 * below ~1e35; logits of ±100 are far inside).
 *
 * @param input probabilities, or logits with `activation: 'sigmoid'` (Float32Array or WasmArray)
 * @param target labels in [0, 1]: Float32Array (soft labels) or Uint8Array (0/1), as long as input
 * @returns the mean (over kept elements; 0 if none is kept) or sum, or per-element losses with `reduction: 'none'`
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function bceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: BceOptions & { reduction?: 'mean' | 'sum' }): number;
export function bceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: BceOptions & { reduction: 'none' }): Float32Array;
export function bceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: BceOptions): number | Float32Array;
export function bceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: BceOptions): number | Float32Array {
  const rt = runtime();
  const { heap } = rt;
  const o = optionsObject(BCE, options);
  const x = operand(BCE, 'input', input, [Float32Array], heap);
  const shape = parseShape(BCE, o.shape, x.length);
  const activation = oneOf(BCE, 'activation', o.activation, ['none', 'sigmoid'] as const, 'none');
  const g = operand(BCE, 'target', target, DENSE, heap);
  if (g.length !== x.length) throw new RangeError(`${BCE}: target must have ${x.length} elements like input; got ${g.length}`);
  const { m, maskMode } = parseMask(BCE, o.mask, shape, x.length, true, heap);
  const reduction = oneOf(BCE, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const rule = bceRule(BCE, o);
  const grad = parseGrad(BCE, o.grad, reduction, x, [['input', x], ['target', g], ['options.mask', m]], heap);
  const call: BinaryCall = { ...rule, act: ACT[activation], tgt: targetCode(g, false), maskMode };
  return runBinary(rt, BCE, shape, x, g, m, grad, reduction, call);
}

/**
 * Focal loss (Lin et al.) of `input` against `target`, reduced.
 *
 * Binary / multi-label form (`activation` `'sigmoid'` or `'none'`) follows torchvision's
 * `sigmoid_focal_loss`, soft targets included: `p_t = p·g + (1 − p)(1 − g)`,
 * `α_t = α·g + (1 − α)(1 − g)`, `FL = α_t·(1 − p_t)^γ·ce`, with ce the element's BCE (with logits, stable;
 * with probabilities PyTorch's `BCELoss`, logs clamped at −100, gradient with its 1e−12 floor). Unlike
 * torchvision the default reduction is `'mean'`.
 * Multi-class form (`activation: 'softmax'`, class ids in `target`): `FL = −α_y·(1 − p_y)^γ·log p_y` per
 * kept pixel, p = softmax over the C channels, α_y = `weight[y]` (1 by default); `'mean'` divides by the
 * number of kept pixels (not by Σα_y). Both are evaluated in the log domain: log p from log-sigmoid /
 * log-softmax, (1 − p_t)^γ as e^(γ·log(1 − p_t)) with 1 − p_t summed from non-negative terms; the
 * gradients stay finite for every γ ≥ 0, also where 1 − p_t → 0. The float32 range note of
 * {@link bceLoss} applies.
 *
 * @param input probabilities, or logits with `'sigmoid'` / `'softmax'` (Float32Array or WasmArray)
 * @param target binary forms: labels in [0, 1] (Float32Array or Uint8Array) like input; softmax: N × spatial class ids (Uint8Array, Uint16Array or Int32Array)
 * @returns the mean or sum, or with `reduction: 'none'` the per-element (softmax: per-pixel) losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function focalLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options?: FocalOptions & { reduction?: 'mean' | 'sum' }): number;
export function focalLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options: FocalOptions & { reduction: 'none' }): Float32Array;
export function focalLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options?: FocalOptions): number | Float32Array;
export function focalLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options?: FocalOptions): number | Float32Array {
  const rt = runtime();
  const { heap } = rt;
  const o = optionsObject(FOCAL, options);
  const x = operand(FOCAL, 'input', input, [Float32Array], heap);
  const shape = parseShape(FOCAL, o.shape, x.length);
  const { N, C, S } = shape;
  const activation = oneOf(FOCAL, 'activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none');
  const softmax = activation === 'softmax';
  const targetMode = oneOf(FOCAL, 'target', o.target, ['dense', 'indices'] as const, softmax ? 'indices' : 'dense');
  if (softmax !== (targetMode === 'indices')) {
    throw new RangeError(`${FOCAL}: options.target '${targetMode}' does not fit activation '${activation}' (softmax takes 'indices', the binary forms 'dense')`);
  }
  if (softmax && C < 2) throw new RangeError(`${FOCAL}: options.activation 'softmax' needs C >= 2 channels; shape has C = ${C}`);
  const g = operand(FOCAL, 'target', target, softmax ? INDICES : DENSE, heap);
  const expectTarget = softmax ? N * S : x.length;
  if (g.length !== expectTarget) {
    throw new RangeError(`${FOCAL}: target must have ${expectTarget} elements (${softmax ? 'N × spatial class ids' : 'as many as input'}); got ${g.length}`);
  }
  const ignoreIndex = integer(FOCAL, 'ignoreIndex', o.ignoreIndex);
  if (ignoreIndex !== undefined && !softmax) throw new RangeError(`${FOCAL}: options.ignoreIndex needs activation 'softmax'`);
  if (ignoreIndex !== undefined && (ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31)) {
    throw new RangeError(`${FOCAL}: options.ignoreIndex must be a 32-bit integer; got ${ignoreIndex}`);
  }
  const { m, maskMode } = parseMask(FOCAL, o.mask, shape, x.length, !softmax, heap);
  const gamma = finite(FOCAL, 'gamma', o.gamma, 2, 0);
  let alpha: number | null = 0.25;
  if (softmax) {
    if (o.alpha !== undefined) throw new RangeError(`${FOCAL}: options.alpha applies to the binary forms; with softmax give per-class options.weight`);
  } else {
    alpha = focalAlpha(FOCAL, o.alpha);
  }
  if (!softmax && o.weight !== undefined) throw new RangeError(`${FOCAL}: options.weight needs activation 'softmax' (the binary forms take options.alpha)`);
  const classWeights = softmax ? weights(FOCAL, o.weight, C) : undefined;
  const reduction = oneOf(FOCAL, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const grad = parseGrad(FOCAL, o.grad, reduction, x, [['input', x], ['target', g], ['options.mask', m]], heap);

  if (softmax) {
    return runSoftmax(rt, shape, x, g, m, grad, reduction, {
      tgt: targetCode(g, true), maskMode,
      ignore: ignoreIndex ?? 0, hasIgnore: ignoreIndex !== undefined ? 1 : 0, gamma, classWeights,
    });
  }
  return runBinary(rt, FOCAL, shape, x, g, m, grad, reduction, {
    ...focalRule(alpha, gamma), act: ACT[activation], tgt: targetCode(g, false), maskMode,
  });
}

// ---------------------------------------------------------------- helpers ---

function parseMask(fn: string, value: unknown, shape: Shape, length: number, perElement: boolean, heap: Runtime['heap']): { m: Operand | undefined; maskMode: number } {
  if (value === undefined) return { m: undefined, maskMode: 0 };
  const m = operand(fn, 'options.mask', value, [Uint8Array], heap);
  const pixels = shape.N * shape.S;
  if (m.length === pixels) return { m, maskMode: MASK_PIXEL };
  if (perElement && m.length === length) return { m, maskMode: MASK_ELEMENT };
  throw new RangeError(perElement
    ? `${fn}: options.mask must have N × spatial = ${pixels} or ${length} elements; got ${m.length}`
    : `${fn}: options.mask must have N × spatial = ${pixels} elements with softmax (a pixel is kept or ignored with all its channels); got ${m.length}`);
}

function parseGrad(fn: string, value: unknown, reduction: string, x: Operand,
  inputs: [string, Operand | undefined][], heap: Runtime['heap']): Operand | undefined {
  if (value === undefined) return undefined;
  const grad = operand(fn, 'options.grad', value, [Float32Array], heap);
  if (reduction === 'none') throw new RangeError(`${fn}: options.grad needs reduction 'mean' or 'sum' (the gradient of a reduced loss)`);
  if (grad.length !== x.length) throw new RangeError(`${fn}: options.grad must have ${x.length} elements like input; got ${grad.length}`);
  checkNoOverlap(fn, 'options.grad', grad, inputs, heap);
  return grad;
}

/**
 * The pixel loss of a binary call: its kind, the label rule of the kernels (assembly/bce.ts), γ, and
 * the per-sample weights. Shared with the fused losses (src/fused.ts).
 */
export interface PixelRule {
  kind: number;
  ignoreBelow: number; posAt: number; binarizeAt: number; smooth1: number; smooth0: number; gamma: number;
  /** The sample's weights [a, b] of the positive and negative terms, from its kept and positive counts. */
  weights: (kept: number, pos: number) => [number, number];
}

interface BinaryCall extends PixelRule { act: number; tgt: number; maskMode: number }

/** Parses the BCE options of {@link BceOptions} (posWeight, labelSmoothing, balance, rcfLambda, rcfEta) into a rule. */
export function bceRule(fn: string, o: Record<string, unknown>): PixelRule {
  const posWeight = finite(fn, 'posWeight', o.posWeight, 1, 0, WEIGHT_MAX);
  const labelSmoothing = finite(fn, 'labelSmoothing', o.labelSmoothing, 0, 0);
  if (labelSmoothing >= 1) throw new RangeError(`${fn}: options.labelSmoothing must be a finite number in [0, 1); got ${labelSmoothing}`);
  const balance = oneOf(fn, 'balance', o.balance, ['none', 'hed', 'rcf'] as const, 'none');
  if (balance !== 'rcf') {
    for (const name of ['rcfLambda', 'rcfEta'] as const) {
      if (o[name] !== undefined) throw new RangeError(`${fn}: options.${name} needs balance: 'rcf'; balance is '${balance}'`);
    }
  }
  const rcfLambda = finite(fn, 'rcfLambda', o.rcfLambda, 1.1, 0, WEIGHT_MAX);
  const rcfEta = finite(fn, 'rcfEta', o.rcfEta, 0.5);
  if (!(rcfEta > 0 && rcfEta < 1)) throw new RangeError(`${fn}: options.rcfEta must be a finite number in (0, 1); got ${rcfEta}`);
  // The label rule of the kernels (assembly/bce.ts): RCF ignores labels in (0, η) and makes labels ≥ η
  // positives with target 1; HED's positives are labels ≥ 0.5.
  const rcf = balance === 'rcf';
  return {
    kind: KIND_BCE,
    ignoreBelow: rcf ? rcfEta : 0, posAt: rcf ? rcfEta : 0.5, binarizeAt: rcf ? rcfEta : NEVER,
    smooth1: 1 - labelSmoothing, smooth0: labelSmoothing / 2, gamma: 0,
    weights: (kept, pos) => {
      const neg = kept - pos;
      if (balance === 'none') return [posWeight, 1];
      if (kept === 0) return [0, 0];
      return balance === 'hed' ? [posWeight * (neg / kept), pos / kept] : [posWeight * (neg / kept), rcfLambda * (pos / kept)];
    },
  };
}

/** The binary focal rule: α_t from α (null: none), exponent γ. */
export function focalRule(alpha: number | null, gamma: number): PixelRule {
  const [a, b]: [number, number] = alpha === null ? [1, 1] : [alpha, 1 - alpha];
  return { kind: KIND_FOCAL, ignoreBelow: 0, posAt: NEVER, binarizeAt: NEVER, smooth1: 1, smooth0: 0, gamma, weights: () => [a, b] };
}

/** Parses focalLoss's binary α option: a number in [0, 1], or null / −1 for none. Default 0.25. */
export function focalAlpha(fn: string, value: unknown): number | null {
  return value === null || value === -1 ? null : finite(fn, 'alpha', value, 0.25, 0, 1);
}

function runBinary(rt: Runtime, fn: string, shape: Shape, x: Operand, g: Operand, m: Operand | undefined,
  grad: Operand | undefined, reduction: 'mean' | 'sum' | 'none', call: BinaryCall): number | Float32Array {
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C } = shape;
  // Every block this call needs is taken before any view is made.
  const counts = ws.get('bceCounts', N * C * 16);
  const stats = ws.get('bceStats', N * C * 8);
  const coef = ws.get('bceCoef', N * 16);
  const scratch = ws.get('bceScratch', k.bceScratchBytes(C));
  // Per-element losses: a heap block for this call only (a workspace slot would stay as large as the input).
  const losses = reduction === 'none' ? heap.alloc(x.length * 4) : 0;
  try {
    return binaryPasses(rt, fn, shape, x, g, m, grad, reduction, call, { counts, stats, coef, losses, scratch });
  } finally {
    if (losses) heap.release(losses);
  }
}

function binaryPasses(rt: Runtime, fn: string, shape: Shape, x: Operand, g: Operand, m: Operand | undefined,
  grad: Operand | undefined, reduction: 'mean' | 'sum' | 'none', call: BinaryCall,
  { counts, stats, coef, losses, scratch }: Record<'counts' | 'stats' | 'coef' | 'losses' | 'scratch', number>): number | Float32Array {
  const { kernels: k, heap } = rt;
  const { N, C, S } = shape;
  new Float64Array(heap.buffer(), counts, N * C * 2).fill(0);
  new Float64Array(heap.buffer(), stats, N * C).fill(0);
  const streams: (Stream | undefined)[] = [
    { op: x, rows: C }, { op: g, rows: C }, m && { op: m, rows: call.maskMode === MASK_ELEMENT ? C : 1 },
  ];

  let flags = 0;
  stream(rt, shape, streams, undefined, (ch) => {
    flags |= k.bceCounts(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, counts + ch.n0 * C * 16, scratch,
      ch.samples, C, ch.length, ch.stride, call.act, call.tgt, call.maskMode, call.ignoreBelow, call.posAt);
  });
  if (flags) throw invalidValues(rt, fn, streams, flags, C);

  // Per-sample weights and the reduction's scale: 'mean' divides by the number of kept elements.
  const countView = new Float64Array(heap.buffer(), counts, N * C * 2);
  const sampleWeights: [number, number][] = [];
  let keptTotal = 0;
  for (let n = 0; n < N; n++) {
    let kept = 0, pos = 0;
    for (let c = 0; c < C; c++) { kept += countView[(n * C + c) * 2]!; pos += countView[(n * C + c) * 2 + 1]!; }
    keptTotal += kept;
    sampleWeights.push(call.weights(kept, pos));
  }
  const scale = reduction === 'mean' ? (keptTotal > 0 ? 1 / keptTotal : 0) : 1;
  const coefView = new Float32Array(heap.buffer(), coef, N * 4);
  sampleWeights.forEach(([a, b], n) => coefView.set([a, b, a * scale, b * scale], n * 4));

  stream(rt, shape, streams, grad, (ch) => {
    const { s0 } = ch;
    k.bceForward(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, grad ? ch.out : 0,
      losses ? losses + (ch.n0 * C * S + s0) * 4 : 0, S, coef + ch.n0 * 16, stats + ch.n0 * C * 8, scratch,
      ch.samples, C, ch.length, ch.stride, call.kind, call.act, call.tgt, call.maskMode,
      call.ignoreBelow, call.binarizeAt, call.smooth1, call.smooth0, call.gamma, 0);
  });
  if (reduction === 'none') return new Float32Array(heap.buffer(), losses, x.length).slice();
  // Row sums added in a fixed order: the same bits whatever the chunking.
  const statView = new Float64Array(heap.buffer(), stats, N * C);
  let total = 0;
  for (let i = 0; i < N * C; i++) total += statView[i]!;
  return total * scale;
}

interface SoftmaxCall {
  tgt: number; maskMode: number; ignore: number; hasIgnore: number; gamma: number;
  classWeights: Float64Array | undefined;
}

function runSoftmax(rt: Runtime, shape: Shape, x: Operand, t: Operand, m: Operand | undefined,
  grad: Operand | undefined, reduction: 'mean' | 'sum' | 'none', call: SoftmaxCall): number | Float32Array {
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C, S } = shape;
  const counts = ws.get('bceCounts', N * 8);
  const stats = ws.get('bceStats', N * 8);
  const wPtr = ws.get('bceWeights', C * 4);
  const scratch = ws.get('bceScratch', k.bceScratchBytes(C));
  const losses = reduction === 'none' ? heap.alloc(N * S * 4) : 0;
  try {
    return softmaxPasses(rt, shape, x, t, m, grad, reduction, call, { counts, stats, wPtr, losses, scratch });
  } finally {
    if (losses) heap.release(losses);
  }
}

function softmaxPasses(rt: Runtime, shape: Shape, x: Operand, t: Operand, m: Operand | undefined,
  grad: Operand | undefined, reduction: 'mean' | 'sum' | 'none', call: SoftmaxCall,
  { counts, stats, wPtr, losses, scratch }: Record<'counts' | 'stats' | 'wPtr' | 'losses' | 'scratch', number>): number | Float32Array {
  const { kernels: k, heap } = rt;
  const { N, C, S } = shape;
  new Float64Array(heap.buffer(), counts, N).fill(0);
  new Float64Array(heap.buffer(), stats, N).fill(0);
  const streams: (Stream | undefined)[] = [{ op: x, rows: C }, { op: t, rows: 1 }, m && { op: m, rows: 1 }];

  let flags = 0;
  stream(rt, shape, streams, undefined, (ch) => {
    flags |= k.focalSoftmaxCounts(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, counts + ch.n0 * 8, scratch,
      ch.samples, C, ch.length, ch.stride, call.tgt, call.maskMode, call.ignore, call.hasIgnore);
  });
  if (flags) throw invalidValues(rt, FOCAL, streams, flags, C, call);

  let keptTotal = 0;
  for (const v of new Float64Array(heap.buffer(), counts, N)) keptTotal += v;
  const scale = reduction === 'mean' ? (keptTotal > 0 ? 1 / keptTotal : 0) : 1;
  const w = new Float32Array(heap.buffer(), wPtr, C);
  if (call.classWeights) w.set(call.classWeights); else w.fill(1);

  stream(rt, shape, streams, grad, (ch) => {
    const { s0 } = ch;
    k.focalSoftmaxForward(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, grad ? ch.out : 0,
      losses ? losses + (ch.n0 * S + s0) * 4 : 0, S, wPtr, stats + ch.n0 * 8, scratch,
      ch.samples, C, ch.length, ch.stride, call.tgt, call.maskMode, call.ignore, call.hasIgnore, call.gamma, scale);
  });
  if (reduction === 'none') return new Float32Array(heap.buffer(), losses, N * S).slice();
  let total = 0;
  for (const v of new Float64Array(heap.buffer(), stats, N)) total += v;
  return total * scale;
}

/** Builds the error for a pass-1 validation failure, naming the first bad element. */
function invalidValues(rt: Runtime, fn: string, streams: (Stream | undefined)[], flags: number,
  C: number, softmax?: SoftmaxCall): RangeError {
  const view = (i: number) => {
    const op = streams[i]!.op;
    return op.wasm ? new op.ctor(rt.heap.buffer(), op.ptr, op.length) : op.array;
  };
  if (flags & FLAG_INPUT) {
    const x = view(0);
    const i = x.findIndex((v) => !Number.isFinite(v));
    return new RangeError(`${fn}: input[${i}] is ${x[i]}; inputs must be finite`);
  }
  if (flags & FLAG_TARGET) {
    const g = view(1);
    if (softmax) {
      const ignored = (v: number) => softmax.hasIgnore === 1 && v === softmax.ignore;
      const i = g.findIndex((v) => (v < 0 || v >= C) && !ignored(v));
      return new RangeError(`${fn}: target[${i}] is ${g[i]}; class indices must be in [0, ${C})${softmax.hasIgnore ? ` or equal ignoreIndex ${softmax.ignore}` : ''}`);
    }
    const i = g.findIndex((v) => !(v >= 0 && v <= 1));
    return new RangeError(`${fn}: target[${i}] is ${g[i]}; dense targets must be in [0, 1]`);
  }
  const x = view(0);
  const i = x.findIndex((v) => !(v >= 0 && v <= 1));
  return new RangeError(`${fn}: input[${i}] is ${x[i]}; probabilities (activation 'none') must be in [0, 1]`);
}
