// Plain float64 reference of the soft Dice / Jaccard loss and its gradient: the test oracle for
// the Wasm kernels. Simple loops, Float64 everywhere, no validation (the fast path validates).
// Notation follows ../shared/seeds/dice-loss.md: P = prediction, G = target, sums over kept elements.

/** Input values: probabilities P (activation `'none'`) or logits (`'sigmoid'` / `'softmax'`). */
export type DiceInput = Float32Array | Float64Array | ArrayLike<number>;

/** Dense targets G (same layout as the input) or, with `target: 'indices'`, class ids of length N·S. */
export type DiceTarget = Float32Array | Float64Array | Uint8Array | Uint16Array | Int32Array | ArrayLike<number>;

/** Options of {@link diceLossReference}; names and defaults follow MONAI's `DiceLoss`. */
export interface DiceOptions {
  /** `[N, C, ...spatial]`; element (n, c, s) is at index (n·C + c)·S + s. Default `[1, 1, input.length]`. */
  shape?: readonly number[];
  /** `'none'`: input is P; `'sigmoid'`: P = 1/(1+e^−x); `'softmax'`: over the C channels of each pixel. Default `'none'`. */
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** `'dense'`: target holds G; `'indices'`: target holds class ids, G_c = [t === c]. Default `'dense'`. */
  target?: 'dense' | 'indices';
  /** Indices targets only: pixels whose label equals this are left out of every sum. */
  ignoreIndex?: number;
  /** Length N·S (broadcast over channels) or N·C·S (per element); an element is kept iff its value is non-zero. */
  mask?: Uint8Array;
  /** `false` leaves channel 0 out of the loss, after the activation (softmax still normalises over it). Default `true`. */
  includeBackground?: boolean;
  /** Use ΣP² and ΣG² in the denominator. Default `false`. */
  squared?: boolean;
  /** Jaccard form 1 − (I + sNr)/(ΣP + ΣG − I + sDr) instead of Dice. Default `false`. */
  jaccard?: boolean;
  /** Smoothing added to the numerator. Default `1e-5`. */
  smoothNr?: number;
  /** Smoothing added to the denominator. Default `1e-5`. */
  smoothDr?: number;
  /** Sum over the batch too: one entry per kept class instead of one per (sample, kept class). Default `false`. */
  batch?: boolean;
  /** One weight per kept class, multiplying its entries (no renormalisation). Default all 1. */
  weight?: ArrayLike<number>;
  /** `'mean'` over entries, `'sum'`, or `'none'` (per-entry losses, sample-major). Default `'mean'`. */
  reduction?: 'mean' | 'sum' | 'none';
}

/** Result of {@link diceLossReference}. */
export interface DiceResult {
  /** Scalar loss, or for `reduction: 'none'` the weighted per-entry losses, shaped [N, C_kept] (or [C_kept] with `batch`). */
  loss: number | Float64Array;
  /** dLoss/dInput (w.r.t. P for `'none'`, logits otherwise), length `input.length`; `null` for `reduction: 'none'`. */
  grad: Float64Array | null;
}

/**
 * Soft Dice (or Jaccard) loss and its gradient, computed plainly in float64.
 *
 * Per entry e (a sample and kept class, or a kept class with `batch`), over kept elements:
 * I = ΣP·G, SP = ΣP (ΣP² if squared), SG = ΣG (ΣG² if squared), and
 * L_e = 1 − (2I + smoothNr)/(SP + SG + smoothDr), or with `jaccard`
 * L_e = 1 − (I + smoothNr)/(SP + SG − I + smoothDr).
 * A denominator of exactly 0 counts as a perfect match: L_e = 0 and no gradient.
 * The loss is Σ w_c·L_e, divided by the number of entries for `'mean'`.
 *
 * @param input - Probabilities or logits, laid out as `options.shape`.
 * @param target - Dense targets (same layout) or class ids of length N·S with `target: 'indices'`.
 * @param options - See {@link DiceOptions}.
 * @returns The loss and its gradient with respect to `input` (`grad` is `null` for `reduction: 'none'`).
 */
export function diceLossReference(input: DiceInput, target: DiceTarget, options: DiceOptions = {}): DiceResult {
  const len = input.length;
  const shape = options.shape ?? [1, 1, len];
  const N = shape[0];
  const C = shape[1];
  let S = 1;
  for (let d = 2; d < shape.length; d++) S *= shape[d];
  const activation = options.activation ?? 'none';
  const indices = options.target === 'indices';
  const ignoreIndex = indices ? options.ignoreIndex : undefined;
  const mask = options.mask;
  const maskPerElement = mask !== undefined && mask.length === N * C * S;
  const c0 = options.includeBackground === false ? 1 : 0; // first class in the loss
  const K = C - c0; // number of kept classes
  const squared = options.squared === true;
  const jaccard = options.jaccard === true;
  const smoothNr = options.smoothNr ?? 1e-5;
  const smoothDr = options.smoothDr ?? 1e-5;
  const batch = options.batch === true;
  const weight = options.weight;
  const reduction = options.reduction ?? 'mean';
  const numEntries = batch ? K : N * K;

  // G of element i = (n, c, s): the dense value, or the one-hot of the pixel's label.
  const gAt = (i: number, n: number, c: number, s: number): number =>
    indices ? (target[n * S + s] === c ? 1 : 0) : target[i];
  // Kept: mask (if any) non-zero and, for indices with ignoreIndex, label !== ignoreIndex.
  const keptAt = (i: number, n: number, s: number): boolean =>
    (mask === undefined || (maskPerElement ? mask[i] : mask[n * S + s]) !== 0) &&
    (ignoreIndex === undefined || target[n * S + s] !== ignoreIndex);
  const entryOf = (n: number, c: number): number => (batch ? c - c0 : n * K + (c - c0));

  // 1. Activation. sigmoid: P = 1/(1 + e^−x). softmax: P_c = e^(x_c − m)/Σ_k e^(x_k − m), m = max_k x_k
  //    (subtracting m multiplies numerator and denominator by e^−m: same value, no overflow).
  const p = new Float64Array(len);
  if (activation === 'softmax') {
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, input[(n * C + c) * S + s]);
        let z = 0;
        for (let c = 0; c < C; c++) {
          const i = (n * C + c) * S + s;
          p[i] = Math.exp(input[i] - m);
          z += p[i];
        }
        for (let c = 0; c < C; c++) p[(n * C + c) * S + s] /= z;
      }
    }
  } else {
    for (let i = 0; i < len; i++) {
      const x = input[i];
      p[i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-x)) : x;
    }
  }

  // 2. Sums per entry over kept elements of kept classes: I = ΣP·G, SP = ΣP (ΣP²), SG = ΣG (ΣG²).
  const I = new Float64Array(numEntries);
  const SP = new Float64Array(numEntries);
  const SG = new Float64Array(numEntries);
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < C; c++) {
      const e = entryOf(n, c);
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        if (!keptAt(i, n, s)) continue;
        const pi = p[i];
        const gi = gAt(i, n, c, s);
        I[e] += pi * gi;
        SP[e] += squared ? pi * pi : pi;
        SG[e] += squared ? gi * gi : gi;
      }
    }
  }

  // 3. Per-entry loss, and the gradient written as dL/dP_i = a_e·G_i + b_e·h_i with h_i = dSP/dP_i
  //    (1, or 2P_i when squared), each already multiplied by the entry's scale (w_c/numEntries or w_c).
  const losses = new Float64Array(numEntries); // w_c·L_e
  const a = new Float64Array(numEntries);
  const b = new Float64Array(numEntries);
  let total = 0;
  for (let e = 0; e < numEntries; e++) {
    const w = weight === undefined ? 1 : weight[batch ? e : e % K];
    // dice: Nm = 2I + sNr, D = SP + SG + sDr; jaccard: Nm = I + sNr, D = SP + SG − I + sDr (union = sum − intersection).
    const Nm = jaccard ? I[e] + smoothNr : 2 * I[e] + smoothNr;
    const D = SP[e] + SG[e] - (jaccard ? I[e] : 0) + smoothDr;
    if (D === 0) continue; // 0/0: ratio taken as 1 (perfect match), so L_e = 0 and no gradient
    losses[e] = w * (1 - Nm / D);
    total += losses[e];
    const scale = reduction === 'mean' ? w / numEntries : w;
    // L = 1 − Nm/D ⇒ dL/dP_i = −Nm'/D + Nm·D'/D²; dice: Nm' = 2G_i, D' = h_i ⇒ −2G_i/D + Nm·h_i/D².
    // jaccard: Nm' = G_i, D' = h_i − G_i ⇒ −G_i/D − Nm·G_i/D² + Nm·h_i/D².
    a[e] = scale * (jaccard ? -1 / D - Nm / (D * D) : -2 / D);
    b[e] = scale * (Nm / (D * D));
  }
  if (reduction === 'none') return { loss: losses, grad: null };
  const loss = reduction === 'sum' ? total : numEntries > 0 ? total / numEntries : 0;

  // 4. dL/dP for kept elements of kept classes; everything else stays 0.
  const grad = new Float64Array(len);
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < C; c++) {
      const e = entryOf(n, c);
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        if (!keptAt(i, n, s)) continue;
        const h = squared ? 2 * p[i] : 1;
        grad[i] = a[e] * gAt(i, n, c, s) + b[e] * h;
      }
    }
  }

  // 5. Chain rule to the logits, in place.
  if (activation === 'sigmoid') {
    // dP/dx = P(1 − P), with 1 − P = 1/(1 + e^x) computed directly (no cancellation when P ≈ 1).
    for (let i = 0; i < len; i++) grad[i] *= p[i] * (1 / (1 + Math.exp(input[i])));
  } else if (activation === 'softmax') {
    // dP_c/dx_k = P_c(δ_ck − P_k) ⇒ dL/dx_k = Σ_c dL/dP_c·P_c(δ_ck − P_k) = P_k(dL/dP_k − Σ_c P_c·dL/dP_c).
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let c = 0; c < C; c++) dot += p[(n * C + c) * S + s] * grad[(n * C + c) * S + s];
        for (let c = 0; c < C; c++) {
          const i = (n * C + c) * S + s;
          grad[i] = p[i] * (grad[i] - dot);
        }
      }
    }
  }
  return { loss, grad };
}
