// Plain reference of the thresholded metrics: the test oracle for the Wasm counting kernel and for
// the score arithmetic. Simple loops from the definitions, float64 activations, integer counts, no
// validation (the fast path validates).

/** Input values: probabilities (activation `'none'`) or logits (`'sigmoid'` / `'softmax'`). */
export type MetricReferenceInput = Float32Array | Float64Array | ArrayLike<number>;

/** Dense targets (same layout as the input) or, with `target: 'indices'`, class ids of length N·S. */
export type MetricReferenceTarget = Float32Array | Float64Array | Uint8Array | Uint16Array | Int32Array | ArrayLike<number>;

/** Options of {@link confusionReference}, as those of `confusion`. */
export interface ConfusionReferenceOptions {
  /** `[N, C, ...spatial]`; element (n, c, s) is at index (n·C + c)·S + s. Default `[1, 1, input.length]`. */
  shape?: readonly number[];
  /** `'none'`: input is p; `'sigmoid'`: p = 1/(1 + e^−x); `'softmax'`: the prediction is the arg-max class. */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `'dense'`: positive iff g ≥ 0.5; `'indices'`: positive in channel c iff t = c. */
  target?: 'dense' | 'indices';
  /** Indices only: pixels with this label count nowhere. */
  ignoreIndex?: number;
  /** Length N·S (broadcast over channels) or N·C·S; an element counts iff its mask value is non-zero. */
  mask?: Uint8Array;
  /** `false` leaves channel 0 out of the counts (softmax still takes it into the arg-max). Default `true`. */
  includeBackground?: boolean;
  /** Sum the counts over the batch: one row instead of N. Default `false`. */
  batch?: boolean;
  /** Predicted positive iff p ≥ threshold (not with softmax). Default 0.5. */
  threshold?: number;
}

/** Per-(row, kept class) counts, row-major [samples, classes]. */
export interface ConfusionReference {
  tp: Float64Array;
  fp: Float64Array;
  fn: Float64Array;
  tn: Float64Array;
  /** N, or 1 with `batch`. */
  samples: number;
  /** Kept classes: C, or C − 1 without the background. */
  classes: number;
}

/**
 * Confusion counts of thresholded predictions against binarised targets, per (sample, kept class).
 * For each kept element of each kept class: predicted P = [p ≥ threshold] (softmax: [c = first
 * arg-max over the channels of the pixel]), actual G = [g ≥ 0.5] (indices: [t = c]); then
 * TP counts P ∧ G, FP counts P ∧ ¬G, FN counts ¬P ∧ G, TN counts ¬P ∧ ¬G.
 */
export function confusionReference(
  input: MetricReferenceInput, target: MetricReferenceTarget, options: ConfusionReferenceOptions = {},
): ConfusionReference {
  const shape = options.shape ?? [1, 1, input.length];
  const N = shape[0]!;
  const C = shape[1]!;
  let S = 1;
  for (let d = 2; d < shape.length; d++) S *= shape[d]!;
  const activation = options.activation ?? 'none';
  const indices = options.target === 'indices';
  const ignoreIndex = indices ? options.ignoreIndex : undefined;
  const mask = options.mask;
  const maskPerElement = mask !== undefined && mask.length === N * C * S;
  const c0 = options.includeBackground === false ? 1 : 0;
  const K = C - c0;
  const batch = options.batch === true;
  const threshold = options.threshold ?? 0.5;
  const rows = batch ? 1 : N;
  const tp = new Float64Array(rows * K);
  const fp = new Float64Array(rows * K);
  const fn = new Float64Array(rows * K);
  const tn = new Float64Array(rows * K);

  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      // Softmax: p_c = e^(x_c − m)/Σ_k e^(x_k − m); the predicted class is the first c with the largest p_c.
      let argmax = -1;
      if (activation === 'softmax') {
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, Number(input[(n * C + c) * S + s]));
        const e: number[] = [];
        let z = 0;
        for (let c = 0; c < C; c++) {
          e.push(Math.exp(Number(input[(n * C + c) * S + s]) - m));
          z += e[c]!;
        }
        let best = -1;
        for (let c = 0; c < C; c++) {
          const p = e[c]! / z;
          if (p > best) { best = p; argmax = c; }
        }
      }
      const label = indices ? Number(target[n * S + s]) : NaN;
      for (let c = c0; c < C; c++) {
        const i = (n * C + c) * S + s;
        if (mask !== undefined && (maskPerElement ? mask[i] : mask[n * S + s]) === 0) continue;
        if (ignoreIndex !== undefined && label === ignoreIndex) continue;
        let predicted: boolean;
        if (activation === 'softmax') predicted = c === argmax;
        else {
          const x = Number(input[i]);
          // σ(x) ≥ t ⇔ x ≥ log(t/(1 − t)) exactly (σ is increasing); float64 σ(x) itself rounds to 1
          // for x above ~36.7, which would wrongly reach t = 1.
          predicted = activation === 'sigmoid' ? x >= Math.log(threshold / (1 - threshold)) : x >= threshold;
        }
        const actual = indices ? label === c : Number(target[i]) >= 0.5;
        const e = (batch ? 0 : n) * K + (c - c0);
        if (predicted && actual) tp[e]!++;
        else if (predicted) fp[e]!++;
        else if (actual) fn[e]!++;
        else tn[e]!++;
      }
    }
  }
  return { tp, fp, fn, tn, samples: rows, classes: K };
}

/** The scores of {@link scoreReference}. */
export type ScoreName = 'dice' | 'iou' | 'precision' | 'recall' | 'fbeta';

/** Options of {@link scoreReference}, as those of the score functions. */
export interface ScoreReferenceOptions {
  average?: 'micro' | 'macro' | 'samples' | 'none';
  empty?: 'nan' | 'one' | 'zero' | 'skip';
  /** Fβ only. Default 1. */
  beta?: number;
}

/**
 * A score of confusion counts, averaged. The score of counts (tp, fp, fn):
 * dice 2tp/(2tp + fp + fn), iou tp/(tp + fp + fn), precision tp/(tp + fp), recall tp/(tp + fn),
 * fbeta (1 + β²)tp/((1 + β²)tp + β²fn + fp); a zero denominator gives the `empty` value (NaN,
 * 1, 0, or "skipped": NaN for 'none', left out of a mean, and a mean of nothing is NaN).
 * 'micro': one score of all counts summed. 'macro': per class, counts summed over the samples,
 * then the mean over classes. 'samples': per sample, counts summed over the classes, then the
 * mean over samples. 'none': every (sample, class) entry.
 */
export function scoreReference(
  name: ScoreName, conf: { tp: ArrayLike<number>; fp: ArrayLike<number>; fn: ArrayLike<number>; samples: number; classes: number },
  options: ScoreReferenceOptions = {},
): number | Float64Array {
  const average = options.average ?? 'macro';
  const empty = options.empty ?? 'skip';
  const beta = options.beta ?? 1;
  const { samples, classes } = conf;
  // The score of one group of entries, its counts summed; null when its denominator is 0 and it is skipped.
  const scoreOf = (entries: number[]): number | null => {
    let tp = 0, fp = 0, fn = 0;
    for (const e of entries) { tp += conf.tp[e]!; fp += conf.fp[e]!; fn += conf.fn[e]!; }
    let num: number, den: number;
    if (name === 'dice') { num = 2 * tp; den = 2 * tp + fp + fn; }
    else if (name === 'iou') { num = tp; den = tp + fp + fn; }
    else if (name === 'precision') { num = tp; den = tp + fp; }
    else if (name === 'recall') { num = tp; den = tp + fn; }
    else { num = (1 + beta * beta) * tp; den = (1 + beta * beta) * tp + beta * beta * fn + fp; }
    if (den !== 0) return num / den;
    return empty === 'nan' ? NaN : empty === 'one' ? 1 : empty === 'zero' ? 0 : null;
  };
  const entry = (n: number, c: number): number => n * classes + c;
  const mean = (groups: number[][]): number => {
    let sum = 0, count = 0;
    for (const g of groups) {
      const v = scoreOf(g);
      if (v === null) continue;
      sum += v;
      count++;
    }
    return count === 0 ? NaN : sum / count;
  };
  const range = (k: number): number[] => Array.from({ length: k }, (_, i) => i);
  if (average === 'none') {
    const out = new Float64Array(samples * classes);
    for (let n = 0; n < samples; n++) for (let c = 0; c < classes; c++) out[entry(n, c)] = scoreOf([entry(n, c)]) ?? NaN;
    return out;
  }
  if (average === 'micro') return mean([range(samples * classes)]);
  if (average === 'macro') return mean(range(classes).map((c) => range(samples).map((n) => entry(n, c))));
  return mean(range(samples).map((n) => range(classes).map((c) => entry(n, c))));
}
