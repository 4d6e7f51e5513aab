// Thresholded segmentation metrics (no gradient): confusion counts per
// (sample, class) from one Wasm pass (assembly/metrics.ts), and the scores
// computed from them (Dice / F1, IoU, precision, recall, Fβ) with the
// averages of torchmetrics / segmentation_models_pytorch. Reference:
// src/reference/metrics.ts.
import { operand, optionsObject, oneOf, flag, finite, integer, parseShape, type Operand, type Shape } from './args.ts';
import { stream, type Stream } from './driver.ts';
import { MASK_PIXEL, MASK_ELEMENT, targetCode } from './codes.ts';
import { runtime, type Runtime } from './runtime.ts';
import { WasmArray } from './wasm-array.ts';
import type { ArrayArg } from './dice.ts';

export {
  confusionReference, scoreReference,
  type ConfusionReferenceOptions, type ConfusionReference, type ScoreReferenceOptions, type ScoreName,
} from './reference/metrics.ts';

/** A target: dense labels (Float32Array or Uint8Array), or class ids with `target: 'indices'`. */
export type MetricTarget = ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>;

/** Options of {@link confusion} (and of the scores called on arrays). */
export interface ConfusionOptions {
  /** `[N, C, ...spatial]`, channels first. Default `[1, 1, input.length]`. */
  shape?: readonly number[];
  /**
   * `'none'` (input holds probabilities, default) or `'sigmoid'` (logits): each channel is thresholded
   * on its own (multi-label). `'softmax'` (logits, C ≥ 2): the predicted class of a pixel is the arg-max
   * over its channels (the first one on ties), as MONAI's `AsDiscrete(argmax=True)`.
   */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `'dense'` (target laid out like input, default) or `'indices'` (one class id per pixel, one-hot over the channels). */
  target?: 'dense' | 'indices';
  /** With `target: 'indices'`: pixels with this label count nowhere, not even as true negatives (smp's `get_stats`; also when it is a class in [0, C)). */
  ignoreIndex?: number;
  /** 0 = the element counts nowhere. `N × spatial` bytes (broadcast over channels) or as long as input (not with softmax). */
  mask?: ArrayArg<Uint8Array>;
  /** `false` drops channel 0 from the counts, after the arg-max (needs C ≥ 2). Default true. */
  includeBackground?: boolean;
  /** Sum the counts over the batch: one row `[C_kept]` instead of `[N, C_kept]`. Default false. */
  batch?: boolean;
  /**
   * In [0, 1], default 0.5, not with softmax: predicted positive iff p ≥ threshold, p the probability
   * after the activation (MONAI's `AsDiscrete(threshold=t)` and smp's `get_stats` both use `>=`). With
   * `'sigmoid'` the test is made exactly on the logit, σ(x) ≥ t ⇔ x ≥ log(t/(1 − t)) (evaluated in
   * float64 to a few units in the last place, then rounded up to float32): threshold 0 takes every
   * element, threshold 1 none (a float32 σ would round to 1 for x > 17).
   */
  threshold?: number;
}

/** Confusion counts per (sample, class): each array row-major `[samples, classes]`. */
export interface Confusion {
  /** True positives: predicted and labelled. */
  tp: Float64Array;
  /** False positives: predicted, not labelled. */
  fp: Float64Array;
  /** False negatives: labelled, not predicted. */
  fn: Float64Array;
  /** True negatives: neither (kept elements only). */
  tn: Float64Array;
  /** Rows: N, or 1 with `batch` (the counts summed over the batch). */
  samples: number;
  /** Kept classes: C, or C − 1 with `includeBackground: false`. */
  classes: number;
}

/** Counts a score accepts: a {@link Confusion}, or the same fields with any array of non-negative finite numbers. */
export interface ConfusionCounts {
  tp: ArrayLike<number>;
  fp: ArrayLike<number>;
  fn: ArrayLike<number>;
  tn: ArrayLike<number>;
  samples: number;
  classes: number;
}

/** How the per-(sample, class) counts become one score (torchmetrics' / smp's `average` / `reduction`). */
export type ScoreAverage = 'micro' | 'macro' | 'samples' | 'none';
/** The score of counts whose denominator is 0 (see {@link ScoreOptions.empty}). */
export type ScoreEmpty = 'nan' | 'one' | 'zero' | 'skip';

/** Options of the scores. */
export interface ScoreOptions {
  /**
   * - `'micro'`: the counts summed over samples and classes, then one score (smp `'micro'`; MONAI's
   *   `ConfusionMatrixMetric` with its default `compute_sample=False`, `reduction='mean'`).
   * - `'macro'` (default): per class, the counts summed over the samples, then the mean over classes
   *   (smp `'macro'`, torchmetrics `average='macro'`).
   * - `'samples'`: per sample, the counts summed over the classes, then the mean over samples
   *   (smp `'micro-imagewise'`, torchmetrics `multidim_average='samplewise'` then the mean).
   * - `'none'`: a Float64Array of one score per (sample, class), `[samples, classes]`.
   */
  average?: ScoreAverage;
  /**
   * What a score is when its denominator is 0 (Dice, IoU, Fβ: nothing predicted and nothing labelled;
   * precision: nothing predicted; recall: nothing labelled): `'nan'`, `'one'` (smp's default
   * `zero_division=1`), `'zero'`, or `'skip'` (default, MONAI's behaviour: the entry is NaN and left out
   * of the mean; a mean over nothing is NaN).
   */
  empty?: ScoreEmpty;
}

/** Options of {@link fbetaScore}. */
export interface FbetaOptions extends ScoreOptions {
  /** β > 0, finite: recall counts β times as much as precision. Default 1 (F1 = Dice). */
  beta?: number;
}

/** A score, callable on counts from {@link confusion} or directly on arrays (then with the options of both). */
export interface ScoreFunction<O extends ScoreOptions> {
  (counts: ConfusionCounts, options: O & { average: 'none' }): Float64Array;
  (counts: ConfusionCounts, options?: O): number;
  (input: ArrayArg<Float32Array>, target: MetricTarget, options: O & ConfusionOptions & { average: 'none' }): Float64Array;
  (input: ArrayArg<Float32Array>, target: MetricTarget, options?: O & ConfusionOptions): number;
}

const ACTIVATIONS = ['none', 'sigmoid', 'softmax'] as const;
const PRED_THRESHOLD = 0;
const PRED_ARGMAX = 1;
const DENSE = [Float32Array, Uint8Array] as const;
const INDICES = [Uint8Array, Uint16Array, Int32Array] as const;
const LAYOUT_OPTIONS = ['shape', 'activation', 'target', 'ignoreIndex', 'mask', 'includeBackground', 'batch', 'threshold'] as const;

/**
 * Confusion counts of thresholded predictions against binarised targets, per (sample, kept class),
 * as MONAI's `get_confusion_matrix` (after `AsDiscrete`) and smp's `get_stats`.
 *
 * For every kept element (mask non-zero, label not `ignoreIndex`) of a kept class:
 * predicted P = [p ≥ threshold] with p the input after the activation (softmax: [c is the arg-max
 * channel of the pixel]); labelled G = [g ≥ 0.5] for dense targets (g must be in [0, 1]), [t = c] for
 * class indices. TP = #(P ∧ G), FP = #(P ∧ ¬G), FN = #(¬P ∧ G), TN = #(¬P ∧ ¬G).
 *
 * @param input probabilities, or logits with `activation`
 * @param target dense labels in [0, 1], or class ids in [0, C) with `target: 'indices'`
 * @returns the four counts, each `[N, C_kept]` (`[C_kept]` with `batch`)
 * @throws TypeError / RangeError naming the argument: a non-finite input, a target out of range, a bad option
 */
export function confusion(input: ArrayArg<Float32Array>, target: MetricTarget, options?: ConfusionOptions): Confusion {
  const fn = 'segloss.confusion';
  return countConfusion(fn, input, target, optionsObject(fn, options));
}

/** Dice = F1 = 2TP/(2TP + FP + FN) (smp `f1_score`, MONAI `"f1 score"`); averaged by `options.average`. */
export const diceScore = scoreFunction('diceScore', (tp, fp, fn) => [2 * tp, 2 * tp + fp + fn]) as ScoreFunction<ScoreOptions>;

/** IoU = Jaccard = TP/(TP + FP + FN) (smp `iou_score`, MONAI `"threat score"`); averaged by `options.average`. */
export const iouScore = scoreFunction('iouScore', (tp, fp, fn) => [tp, tp + fp + fn]) as ScoreFunction<ScoreOptions>;

/** Precision = TP/(TP + FP) (smp `precision`, MONAI `"precision"`); averaged by `options.average`. */
export const precision = scoreFunction('precision', (tp, fp) => [tp, tp + fp]) as ScoreFunction<ScoreOptions>;

/** Recall = sensitivity = TP/(TP + FN) (smp `recall`, MONAI `"recall"`); averaged by `options.average`. */
export const recall = scoreFunction('recall', (tp, _fp, fn) => [tp, tp + fn]) as ScoreFunction<ScoreOptions>;

/**
 * Fβ = (1 + β²)TP/((1 + β²)TP + β²FN + FP) (smp `fbeta_score`); β = `options.beta` (default 1: Dice);
 * averaged by `options.average`.
 */
export const fbetaScore = scoreFunction('fbetaScore', (tp, fp, fn, beta) => {
  const b2 = beta * beta;
  return [(1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp];
}, true) as ScoreFunction<FbetaOptions>;

// ------------------------------------------------------------------ counting ---

function countConfusion(fn: string, input: unknown, target: unknown, o: Record<string, unknown>): Confusion {
  const rt = runtime();
  const { heap } = rt;
  const x = operand(fn, 'input', input, [Float32Array], heap);
  const shape = parseShape(fn, o.shape, x.length);
  const { N, C, S } = shape;
  const activation = oneOf(fn, 'activation', o.activation, ACTIVATIONS, 'none');
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
  const softmax = activation === 'softmax';
  if (softmax && C < 2) throw new RangeError(`${fn}: options.activation 'softmax' needs C >= 2 channels; shape has C = ${C}`);
  const includeBackground = flag(fn, 'includeBackground', o.includeBackground, true);
  if (!includeBackground && C < 2) throw new RangeError(`${fn}: options.includeBackground false needs C >= 2 channels; shape has C = ${C}`);
  const m = o.mask === undefined ? undefined : operand(fn, 'options.mask', o.mask, [Uint8Array], heap);
  let maskMode = 0;
  if (m) {
    if (m.length === N * S) maskMode = MASK_PIXEL;
    else if (m.length === x.length && !softmax) maskMode = MASK_ELEMENT;
    else {
      throw new RangeError(softmax
        ? `${fn}: options.mask must have N × spatial = ${N * S} elements with softmax (a pixel is kept or ignored with all its channels); got ${m.length}`
        : `${fn}: options.mask must have N × spatial = ${N * S} or ${x.length} elements; got ${m.length}`);
    }
  }
  const batch = flag(fn, 'batch', o.batch, false);
  if (softmax && o.threshold !== undefined) {
    throw new RangeError(`${fn}: options.threshold does not apply with activation 'softmax' (the prediction is the arg-max class)`);
  }
  const threshold = finite(fn, 'threshold', o.threshold, 0.5, 0, 1);
  const cutoff = activation === 'sigmoid' ? logitCutoff(threshold) : ceilF32(threshold);

  const tgt = targetCode(g, indices);
  const streams: (Stream | undefined)[] = [
    { op: x, rows: C },
    { op: g, rows: indices ? 1 : C },
    m && { op: m, rows: maskMode === MASK_ELEMENT ? C : 1 },
  ];
  const call: CountCall = {
    fn, pred: softmax ? PRED_ARGMAX : PRED_THRESHOLD, tgt, maskMode, cutoff,
    ignore: ignoreIndex ?? 0, hasIgnore: ignoreIndex !== undefined ? 1 : 0,
  };
  const counts = runCounts(rt, shape, streams, call);

  // Kernel counts per (n, c): TP, PP (predicted), GP (labelled), K (kept) → the four cells.
  const cStart = includeBackground ? 0 : 1;
  const classes = C - cStart;
  const samples = batch ? 1 : N;
  const out: Confusion = {
    tp: new Float64Array(samples * classes), fp: new Float64Array(samples * classes),
    fn: new Float64Array(samples * classes), tn: new Float64Array(samples * classes), samples, classes,
  };
  for (let n = 0; n < N; n++) {
    for (let c = cStart; c < C; c++) {
      const at = (n * C + c) * 4;
      const tp = counts[at]!, pp = counts[at + 1]!, gp = counts[at + 2]!, kept = counts[at + 3]!;
      const e = (batch ? 0 : n) * classes + (c - cStart);
      out.tp[e]! += tp;
      out.fp[e]! += pp - tp;           // predicted, not labelled
      out.fn[e]! += gp - tp;           // labelled, not predicted
      out.tn[e]! += kept - pp - gp + tp; // neither: kept − |P ∪ G|
    }
  }
  return out;
}

interface CountCall {
  fn: string; pred: number; tgt: number; maskMode: number; cutoff: number; ignore: number; hasIgnore: number;
}

/** Runs the counting kernel; returns a copy of the f64 counts [N][C][TP, PP, GP, K]. */
function runCounts(rt: Runtime, shape: Shape, streams: (Stream | undefined)[], call: CountCall): Float64Array {
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C } = shape;
  // Every block this call needs is taken before any view is made.
  const stats = ws.get('stats', N * C * 32);
  const scratch = ws.get('scratch', k.metricScratchBytes());
  new Float64Array(heap.buffer(), stats, N * C * 4).fill(0);
  let flags = 0;
  stream(rt, shape, streams, undefined, (ch) => {
    flags |= k.metricCounts(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, stats + ch.n0 * C * 32, scratch,
      ch.samples, C, ch.length, ch.stride, call.pred, call.tgt, call.maskMode, call.ignore, call.hasIgnore, call.cutoff);
  });
  if (flags) throw invalidValues(rt, streams, call, C, flags);
  return new Float64Array(heap.buffer(), stats, N * C * 4).slice();
}

/** Builds the error for a validation failure, naming the first bad element. */
function invalidValues(rt: Runtime, streams: (Stream | undefined)[], call: CountCall, C: number, flags: number): RangeError {
  const view = (op: Operand) => (op.wasm ? new op.ctor(rt.heap.buffer(), op.ptr, op.length) : op.array);
  const { fn } = call;
  if (flags & 1) {
    const x = view(streams[0]!.op);
    const i = x.findIndex((v) => !Number.isFinite(v));
    return new RangeError(`${fn}: input[${i}] is ${x[i]}; inputs must be finite`);
  }
  const g = view(streams[1]!.op);
  if (call.tgt >= 2) {
    const i = g.findIndex((v) => (v < 0 || v >= C) && !(call.hasIgnore && v === call.ignore));
    return new RangeError(`${fn}: target[${i}] is ${g[i]}; class indices must be in [0, ${C})${call.hasIgnore ? ` or equal ignoreIndex ${call.ignore}` : ''}`);
  }
  const i = g.findIndex((v) => !(v >= 0 && v <= 1));
  return new RangeError(`${fn}: target[${i}] is ${g[i]}; dense targets must be in [0, 1]`);
}

// The kernel compares the input itself with a float32 cutoff: for a float32 x, x ≥ v ⇔ x ≥ ceilF32(v).
const f32Cell = new Float32Array(1);
const u32Cell = new Uint32Array(f32Cell.buffer);

/** The smallest float32 ≥ v. */
function ceilF32(v: number): number {
  const f = Math.fround(v);
  if (f >= v) return f;
  if (f === 0) return 2 ** -149; // the smallest positive subnormal
  // One float32 step towards +Infinity: magnitude up for f > 0, down for f < 0.
  f32Cell[0] = f;
  u32Cell[0] = f > 0 ? u32Cell[0]! + 1 : u32Cell[0]! - 1;
  return f32Cell[0]!;
}

/** The float32 cutoff on logits for σ(x) ≥ t: ceilF32(log(t/(1 − t))) (computed in Wasm), ∓Infinity for t = 0 / 1. */
function logitCutoff(t: number): number {
  if (t === 0) return -Infinity;
  if (t === 1) return Infinity;
  return ceilF32(runtime().kernels.metricLogit(t));
}

// -------------------------------------------------------------------- scores ---

/** Numerator and denominator of a score, from counts summed over a group of entries. */
type Ratio = (tp: number, fp: number, fn: number, beta: number) => [number, number];

function scoreFunction(name: string, ratio: Ratio, hasBeta = false) {
  const fn = `segloss.${name}`;
  return (first: unknown, second?: unknown, third?: unknown): number | Float64Array => {
    let counts: ConfusionCounts;
    let o: Record<string, unknown>;
    if (isCountsObject(first)) {
      if (third !== undefined) throw new TypeError(`${fn}: called with counts, it takes (counts, options); got a third argument`);
      o = optionsObject(fn, second);
      for (const key of LAYOUT_OPTIONS) {
        if (o[key] !== undefined) throw new RangeError(`${fn}: options.${key} applies to arrays; counts are already thresholded`);
      }
      counts = countsArg(fn, first);
    } else {
      o = optionsObject(fn, third);
      counts = countConfusion(fn, first, second, o);
    }
    const average = oneOf(fn, 'average', o.average, ['micro', 'macro', 'samples', 'none'] as const, 'macro');
    const empty = oneOf(fn, 'empty', o.empty, ['nan', 'one', 'zero', 'skip'] as const, 'skip');
    let beta = 1;
    if (hasBeta) {
      beta = finite(fn, 'beta', o.beta, 1, 0);
      if (beta === 0) throw new RangeError(`${fn}: options.beta must be a finite number > 0; got 0`);
    }
    return averageScore(counts, (tp, fp, fnc) => ratio(tp, fp, fnc, beta), average, empty);
  };
}

/** Counts objects are told from arrays by type: anything that is not an array or a WasmArray. */
function isCountsObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !Array.isArray(v) && !(v instanceof WasmArray);
}

/** Validates counts passed to a score. */
function countsArg(fn: string, value: unknown): ConfusionCounts {
  const v = value as Record<string, unknown>;
  const dim = (key: 'samples' | 'classes'): number => {
    const d = v[key];
    if (typeof d !== 'number') throw new TypeError(`${fn}: counts.${key} must be a positive integer; got ${typeof d}`);
    if (!Number.isSafeInteger(d) || d <= 0) throw new RangeError(`${fn}: counts.${key} must be a positive integer; got ${d}`);
    return d;
  };
  const entries = dim('samples') * dim('classes');
  for (const key of ['tp', 'fp', 'fn', 'tn'] as const) {
    const a = v[key];
    if (!Array.isArray(a) && !(ArrayBuffer.isView(a) && !(a instanceof DataView))) {
      throw new TypeError(`${fn}: counts.${key} must be an array of counts; got ${a === null ? 'null' : typeof a}`);
    }
    const arr = a as ArrayLike<unknown>;
    if (arr.length !== entries) {
      throw new RangeError(`${fn}: counts.${key} must have samples × classes = ${entries} entries; got ${arr.length}`);
    }
    for (let i = 0; i < arr.length; i++) {
      const x = arr[i];
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
        throw new RangeError(`${fn}: counts.${key}[${i}] must be a finite number >= 0; got ${String(x)}`);
      }
    }
  }
  return value as ConfusionCounts;
}

/** One score per group of entries (their counts summed), then the mean, or every entry for 'none'. */
function averageScore(
  counts: ConfusionCounts, ratio: (tp: number, fp: number, fn: number) => [number, number], average: ScoreAverage, empty: ScoreEmpty,
): number | Float64Array {
  const { samples, classes } = counts;
  // The score of the entries n·classes + c for n in [n0, n1), c in [c0, c1); NaN if skipped.
  const score = (n0: number, n1: number, c0: number, c1: number): number => {
    let tp = 0, fp = 0, fn = 0;
    for (let n = n0; n < n1; n++) {
      for (let c = c0; c < c1; c++) {
        const e = n * classes + c;
        tp += counts.tp[e]!; fp += counts.fp[e]!; fn += counts.fn[e]!;
      }
    }
    const [num, den] = ratio(tp, fp, fn);
    if (den !== 0) return num / den;
    return empty === 'one' ? 1 : empty === 'zero' ? 0 : NaN; // 'nan', and 'skip' (left out below)
  };
  if (average === 'none') {
    const out = new Float64Array(samples * classes);
    for (let n = 0; n < samples; n++) for (let c = 0; c < classes; c++) out[n * classes + c] = score(n, n + 1, c, c + 1);
    return out;
  }
  if (average === 'micro') return score(0, samples, 0, classes);
  const groups = average === 'macro' ? classes : samples;
  let sum = 0, count = 0;
  for (let k = 0; k < groups; k++) {
    const v = average === 'macro' ? score(0, samples, k, k + 1) : score(k, k + 1, 0, classes);
    if (empty === 'skip' && Number.isNaN(v)) continue;
    sum += v;
    count++;
  }
  return count === 0 ? NaN : sum / count;
}
