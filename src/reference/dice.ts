// Plain float64 references of the region losses (soft Dice / Jaccard with their transforms, Tversky and
// focal Tversky, generalized Dice) and their gradients: the test oracles for the Wasm kernels. Simple
// loops, Float64 everywhere, no validation (the fast path validates).
// Notation follows ../shared/seeds/dice-loss.md: P = prediction, G = target, sums over kept elements.
//
// Every loss here is a function of three sums per (row, class), a row being a sample or (with `batch`)
// the whole batch: I = ΣP·G (Σmin(P, G) for soft labels), SP = ΣP (ΣP²), SG = ΣG (ΣG²). Each loss
// computes its value from the sums and its partial derivatives ∂L/∂I and ∂L/∂SP (SG does not depend on
// P); the gradient is then dL/dP_i = ∂L/∂I·∂I/∂P_i + ∂L/∂SP·∂SP/∂P_i, followed by the activation's
// chain rule. The partials are derived in the comments next to each formula.

/** Input values: probabilities P (activation `'none'`) or logits (`'sigmoid'` / `'softmax'`). */
export type DiceInput = Float32Array | Float64Array | ArrayLike<number>;

/** Dense targets G (same layout as the input) or, with `target: 'indices'`, class ids of length N·S. */
export type DiceTarget = Float32Array | Float64Array | Uint8Array | Uint16Array | Int32Array | ArrayLike<number>;

/** Options shared by every region-loss reference; names and defaults follow MONAI. */
export interface RegionReferenceOptions {
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
  /**
   * MONAI's soft_label: I = (ΣP + ΣG − Σ|P − G|)/2 = Σmin(P, G) instead of ΣP·G, with
   * ∂I/∂P_i = (1 − sign(P_i − G_i))/2 (½ at P_i = G_i). With `squared` the L2 form
   * (ΣP² + ΣG² − Σ(P − G)²)/2 = ΣP·G: no change. Default `false`.
   */
  softLabel?: boolean;
  /** Smoothing added to the numerator. Default `1e-5`. */
  smoothNr?: number;
  /** Smoothing added to the denominator. Default `1e-5`. */
  smoothDr?: number;
  /** Sum over the batch too: one row of sums for the whole batch instead of one per sample. Default `false`. */
  batch?: boolean;
  /** `'mean'` over entries, `'sum'`, or `'none'` (per-entry losses, row-major). Default `'mean'`. */
  reduction?: 'mean' | 'sum' | 'none';
}

/** Options of {@link diceLossReference}; names and defaults follow MONAI's `DiceLoss`. */
export interface DiceOptions extends RegionReferenceOptions {
  /** Use ΣP² and ΣG² in the denominator. Default `false`. */
  squared?: boolean;
  /** Jaccard form 1 − (I + sNr)/(ΣP + ΣG − I + sDr) instead of Dice. Default `false`. */
  jaccard?: boolean;
  /**
   * Applied to each entry's ratio T (the Dice or Jaccard coefficient): `'none'` 1 − T, `'log'`
   * −log(max(T, 1e−7)) (segmentation_models_pytorch's log_loss, eps = 1e−7), `'logcosh'`
   * log(cosh(1 − T)) (Jadon 2020, log-cosh Dice). Default `'none'`.
   */
  transform?: 'none' | 'log' | 'logcosh';
  /** One weight per kept class, multiplying its entries (no renormalisation). Default all 1. */
  weight?: ArrayLike<number>;
}

/** Options of {@link tverskyLossReference}; names follow MONAI's `TverskyLoss`. */
export interface TverskyReferenceOptions extends RegionReferenceOptions {
  /** Weight of the false positives FP = ΣP(1 − G). Default 0.5. */
  alpha?: number;
  /** Weight of the false negatives FN = Σ(1 − P)G. Default 0.5. */
  beta?: number;
  /** Focal Tversky exponent applied to each entry: (1 − T)^γ, 0 where 1 − T ≤ 0 (unless γ = 1). Default 1. */
  gamma?: number;
  /** One weight per kept class, multiplying its entries. Default all 1. */
  weight?: ArrayLike<number>;
}

/** Options of {@link generalizedDiceLossReference}; names follow MONAI's `GeneralizedDiceLoss`. */
export interface GeneralizedDiceReferenceOptions extends RegionReferenceOptions {
  /** Class weights from the target sums: `'square'` 1/(ΣG)², `'simple'` 1/ΣG, `'uniform'` 1. Default `'square'`. */
  weightType?: 'square' | 'simple' | 'uniform';
}

/** Result of every region-loss reference. */
export interface DiceResult {
  /** Scalar loss, or for `reduction: 'none'` the weighted per-entry losses. */
  loss: number | Float64Array;
  /** dLoss/dInput (w.r.t. P for `'none'`, logits otherwise), length `input.length`; `null` for `reduction: 'none'`. */
  grad: Float64Array | null;
}

/** The layout of one call, its probabilities, and which elements count. */
interface Layout {
  N: number;
  C: number;
  S: number;
  /** First class in the loss: 1 without background, else 0. */
  c0: number;
  /** Rows of sums: N, or 1 with `batch`. */
  rows: number;
  /** The row of sample n. */
  rowOf: (n: number) => number;
  /** P of every element, after the activation. */
  p: Float64Array;
  /** G of element i = (n, c, s): the dense value, or the one-hot of the pixel's label. */
  g: (i: number, n: number, c: number, s: number) => number;
  /** Kept: mask (if any) non-zero and, for indices with ignoreIndex, label !== ignoreIndex. */
  kept: (i: number, n: number, s: number) => boolean;
}

function layoutOf(input: DiceInput, target: DiceTarget, options: RegionReferenceOptions): Layout {
  const len = input.length;
  const shape = options.shape ?? [1, 1, len];
  const N = shape[0];
  const C = shape[1];
  let S = 1;
  for (let d = 2; d < shape.length; d++) S *= shape[d];
  const indices = options.target === 'indices';
  const ignoreIndex = indices ? options.ignoreIndex : undefined;
  const mask = options.mask;
  const maskPerElement = mask !== undefined && mask.length === N * C * S;
  const batch = options.batch === true;
  return {
    N, C, S,
    c0: options.includeBackground === false ? 1 : 0,
    rows: batch ? 1 : N,
    rowOf: (n) => (batch ? 0 : n),
    p: probabilities(input, options.activation ?? 'none', N, C, S),
    g: (i, n, c, s) => (indices ? (target[n * S + s] === c ? 1 : 0) : target[i]),
    kept: (i, n, s) =>
      (mask === undefined || (maskPerElement ? mask[i] : mask[n * S + s]) !== 0) &&
      (ignoreIndex === undefined || target[n * S + s] !== ignoreIndex),
  };
}

/**
 * The activation. sigmoid: P = 1/(1 + e^−x). softmax: P_c = e^(x_c − m)/Σ_k e^(x_k − m), m = max_k x_k
 * (subtracting m multiplies numerator and denominator by e^−m: same value, no overflow).
 */
function probabilities(input: DiceInput, activation: string, N: number, C: number, S: number): Float64Array {
  const p = new Float64Array(input.length);
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
    for (let i = 0; i < input.length; i++) {
      const x = input[i];
      p[i] = activation === 'sigmoid' ? 1 / (1 + Math.exp(-x)) : x;
    }
  }
  return p;
}

/** How the sums are formed: ΣP² / ΣG² (`squared`), and the soft-label intersection Σmin(P, G). */
interface SumForm {
  squared: boolean;
  /** softLabel without squared (with squared the soft-label intersection is ΣP·G anyway). */
  minIntersection: boolean;
}

function sumFormOf(options: RegionReferenceOptions, squared: boolean): SumForm {
  return { squared, minIntersection: options.softLabel === true && !squared };
}

/** I, SP, SG of every (row, class) over kept elements, as [rows][C][3]; dropped classes stay 0. */
function sumsOf(L: Layout, form: SumForm): Float64Array {
  const { N, C, S, c0 } = L;
  const sums = new Float64Array(L.rows * C * 3);
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < C; c++) {
      const at = (L.rowOf(n) * C + c) * 3;
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        if (!L.kept(i, n, s)) continue;
        const p = L.p[i];
        const g = L.g(i, n, c, s);
        sums[at] += form.minIntersection ? Math.min(p, g) : p * g;
        sums[at + 1] += form.squared ? p * p : p;
        sums[at + 2] += form.squared ? g * g : g;
      }
    }
  }
  return sums;
}

/**
 * dL/dInput from the partials ∂L/∂I and ∂L/∂SP of every (row, class) ([rows][C]):
 * dL/dP_i = ∂L/∂I·∂I/∂P_i + ∂L/∂SP·∂SP/∂P_i over kept elements of kept classes, with
 * ∂I/∂P_i = G_i (or the soft-label step (1 − sign(P_i − G_i))/2) and ∂SP/∂P_i = 1 (or 2P_i when squared);
 * then the activation's chain rule.
 */
function gradientOf(
  L: Layout, input: DiceInput, activation: string, form: SumForm, dI: Float64Array, dSP: Float64Array, absolute = false,
): Float64Array {
  const { N, C, S, c0, p } = L;
  const grad = new Float64Array(input.length);
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < C; c++) {
      const rc = L.rowOf(n) * C + c;
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        if (!L.kept(i, n, s)) continue;
        const g = L.g(i, n, c, s);
        const dIdP = form.minIntersection ? (1 - Math.sign(p[i] - g)) / 2 : g;
        const dSPdP = form.squared ? 2 * p[i] : 1;
        grad[i] = absolute
          ? Math.abs(dI[rc] * dIdP) + Math.abs(dSP[rc] * dSPdP)
          : dI[rc] * dIdP + dSP[rc] * dSPdP;
      }
    }
  }
  if (absolute) return absoluteChain(L, input, activation, grad);
  if (activation === 'sigmoid') {
    // dP/dx = P(1 − P), with 1 − P = 1/(1 + e^x) computed directly (no cancellation when P ≈ 1).
    for (let i = 0; i < input.length; i++) grad[i] *= p[i] * (1 / (1 + Math.exp(input[i])));
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
  return grad;
}

/**
 * The reduction of per-entry losses, and the gradient from the entries' partials (unscaled by the
 * reduction: 'mean' divides them by the number of entries here).
 */
function finish(L: Layout, input: DiceInput, options: RegionReferenceOptions, form: SumForm, entries: Entries): DiceResult {
  const { losses, dI, dSP } = entries;
  const reduction = options.reduction ?? 'mean';
  if (reduction === 'none') return { loss: losses, grad: null };
  let total = 0;
  for (const v of losses) total += v;
  const scale = reductionScale(options, losses.length);
  return { loss: total * scale, grad: gradientOf(L, input, options.activation ?? 'none', form, reduced(dI, scale), reduced(dSP, scale)) };
}

/** Coefficients times the reduction's scale, clamped as the kernels clamp them (see COEF_MAX). */
function reduced(coefs: Float64Array, scale: number): Float64Array {
  return coefs.map((v) => clampCoef(v * scale));
}

/** What the reduction multiplies the sum of the entries by: 1 for 'sum', 1/entries for 'mean' (0 for no entries). */
function reductionScale(options: RegionReferenceOptions, entries: number): number {
  return options.reduction === 'sum' ? 1 : entries > 0 ? 1 / entries : 0;
}

/** Which region loss a reference evaluates. */
export type RegionLossKind = 'dice' | 'tversky' | 'generalizedDice';

/** Options of any region-loss reference. */
type AnyOptions = DiceOptions & TverskyReferenceOptions & GeneralizedDiceReferenceOptions;

/** Per-entry losses (weighted) and the partials ∂L_e/∂I, ∂L_e/∂SP of every (row, class), before the reduction. */
interface Entries {
  losses: Float64Array;
  /** [rows][C]: Σ over the entries of ∂(w·L_e)/∂I of that row and class. */
  dI: Float64Array;
  /** [rows][C]: the same for SP. */
  dSP: Float64Array;
}

function entriesOf(kind: RegionLossKind, L: Layout, sums: Float64Array, options: AnyOptions): Entries {
  return kind === 'dice' ? diceEntries(L, sums, options)
    : kind === 'tversky' ? tverskyEntries(L, sums, options)
      : generalizedDiceEntries(L, sums, options);
}

/** Layout, sums, entries and reduction of one reference call. */
function evaluate(kind: RegionLossKind, input: DiceInput, target: DiceTarget, options: AnyOptions): DiceResult {
  const L = layoutOf(input, target, options);
  // Only the Dice form has a squared variant; Tversky and generalized Dice use ΣP and ΣG.
  const form = sumFormOf(options, kind === 'dice' && options.squared === true);
  return finish(L, input, options, form, entriesOf(kind, L, sumsOf(L, form), options));
}

/**
 * An error scale for comparing a float32 gradient with the reference's: per element, the size of the
 * terms that dL/dInput adds before they cancel, |∂L/∂I·∂I/∂P_i| + |∂L/∂SP·∂SP/∂P_i| (after the
 * reduction), through the activation's chain rule in absolute values (sigmoid ×P(1 − P); softmax
 * P_k·(t_k + Σ_c P_c·t_c)). Near an optimum, or for a confident softmax pixel, the gradient is much
 * smaller than these terms, and a float32 computation is exact only to a few ulp of the terms.
 *
 * @param kind - The loss: `'dice'`, `'tversky'` or `'generalizedDice'`.
 * @param input - As for the loss's reference.
 * @param target - As for the loss's reference.
 * @param options - The loss's options (`reduction` `'mean'` or `'sum'`).
 * @returns One non-negative scale per input element.
 */
export function regionGradientScale(kind: RegionLossKind, input: DiceInput, target: DiceTarget, options: AnyOptions = {}): Float64Array {
  const L = layoutOf(input, target, options);
  const form = sumFormOf(options, kind === 'dice' && options.squared === true);
  const { losses, dI, dSP } = entriesOf(kind, L, sumsOf(L, form), options);
  const scale = reductionScale(options, losses.length);
  return gradientOf(L, input, options.activation ?? 'none', form, reduced(dI, scale), reduced(dSP, scale), true);
}

/** The activation's chain rule on non-negative terms t, in absolute values. */
function absoluteChain(L: Layout, input: DiceInput, activation: string, t: Float64Array): Float64Array {
  const { N, C, S, p } = L;
  if (activation === 'sigmoid') {
    for (let i = 0; i < input.length; i++) t[i] *= p[i] * (1 / (1 + Math.exp(input[i])));
  } else if (activation === 'softmax') {
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let c = 0; c < C; c++) dot += p[(n * C + c) * S + s] * t[(n * C + c) * S + s];
        for (let c = 0; c < C; c++) {
          const i = (n * C + c) * S + s;
          t[i] = p[i] * (t[i] + dot);
        }
      }
    }
  }
  return t;
}

/** The transform f of a Dice / Jaccard ratio T: the entry's loss f(T) and f'(T). */
function transformed(T: number, transform: 'none' | 'log' | 'logcosh'): [loss: number, slope: number] {
  if (transform === 'log') {
    // −log(max(T, ε)), ε = 1e−7: slope −1/T above the floor, 0 below it (the clamp is constant there).
    const eps = 1e-7;
    return T < eps ? [-Math.log(eps), 0] : [-Math.log(T), -1 / T];
  }
  if (transform === 'logcosh') {
    // log(cosh(u)), u = 1 − T: d/dT = tanh(u)·du/dT = −tanh(1 − T). cosh overflows beyond |u| ≈ 710,
    // so the value is taken as log((e^|u| + e^−|u|)/2) = |u| + log1p(e^−2|u|) − log 2.
    const u = Math.abs(1 - T);
    return [u + Math.log1p(Math.exp(-2 * u)) - Math.LN2, -Math.tanh(1 - T)];
  }
  return [1 - T, -1];
}

/**
 * Soft Dice (or Jaccard) loss and its gradient, computed plainly in float64.
 *
 * Per entry e (a sample and kept class, or a kept class with `batch`), over kept elements:
 * I = ΣP·G (Σmin(P, G) with `softLabel`), SP = ΣP (ΣP² if squared), SG = ΣG (ΣG² if squared), the
 * ratio T = (2I + smoothNr)/(SP + SG + smoothDr), or with `jaccard` T = (I + smoothNr)/(SP + SG − I + smoothDr),
 * and L_e = f(T) with f from `transform` (1 − T by default).
 * A denominator of exactly 0 counts as a perfect match: T = 1, L_e = f(1) = 0 and no gradient.
 * The loss is Σ w_c·L_e, divided by the number of entries for `'mean'`.
 *
 * @param input - Probabilities or logits, laid out as `options.shape`.
 * @param target - Dense targets (same layout) or class ids of length N·S with `target: 'indices'`.
 * @param options - See {@link DiceOptions}.
 * @returns The loss and its gradient with respect to `input` (`grad` is `null` for `reduction: 'none'`).
 */
export function diceLossReference(input: DiceInput, target: DiceTarget, options: DiceOptions = {}): DiceResult {
  return evaluate('dice', input, target, options);
}

/**
 * The ratio T of every form is clamped to 1e30 (as the kernels do): it exceeds 1 only when smoothNr
 * outweighs the denominator, and with a subnormal α or β Nm/D would overflow.
 */
const RATIO_MAX = 1e30;
/**
 * Gradient coefficients, after the reduction's scale, are clamped to ±1e30 as the kernels do
 * (absurd smoothing or a subnormal α, β).
 */
const COEF_MAX = 1e30;
const clampCoef = (v: number): number => Math.max(-COEF_MAX, Math.min(COEF_MAX, v));

function diceEntries(L: Layout, sums: Float64Array, options: DiceOptions): Entries {
  const { C, c0, rows } = L;
  const K = C - c0;
  const jaccard = options.jaccard === true;
  const smoothNr = options.smoothNr ?? 1e-5;
  const smoothDr = options.smoothDr ?? 1e-5;
  const transform = options.transform ?? 'none';
  const losses = new Float64Array(rows * K); // w_c·L_e, row-major
  const dI = new Float64Array(rows * C);
  const dSP = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = c0; c < C; c++) {
      const rc = r * C + c;
      const [I, SP, SG] = [sums[3 * rc], sums[3 * rc + 1], sums[3 * rc + 2]];
      const w = options.weight === undefined ? 1 : options.weight[c - c0];
      // dice: T = Nm/D, Nm = 2I + sNr, D = SP + SG + sDr ⇒ ∂T/∂I = 2/D, ∂T/∂SP = −Nm/D².
      // jaccard: Nm = I + sNr, D = SP + SG − I + sDr (union = sum − intersection)
      //   ⇒ ∂T/∂I = 1/D − Nm·(−1)/D² = 1/D + Nm/D², ∂T/∂SP = −Nm/D².
      const Nm = jaccard ? I + smoothNr : 2 * I + smoothNr;
      const D = jaccard ? SP + SG - I + smoothDr : SP + SG + smoothDr;
      if (D === 0) continue; // 0/0: T taken as 1 (perfect match), f(1) = 0 for every transform, no gradient
      const T = Math.min(Nm / D, RATIO_MAX);
      const [loss, slope] = transformed(T, transform);
      losses[r * K + c - c0] = w * loss;
      if (w * slope === 0) continue;
      dI[rc] = w * slope * (jaccard ? (1 + T) / D : 2 / D); // Nm/D² = T/D
      dSP[rc] = w * slope * (-T / D);
    }
  }
  return { losses, dI, dSP };
}

/**
 * Tversky loss (Salehi et al. 2017) and focal Tversky loss (Abraham & Khan 2019) and their gradient,
 * in float64.
 *
 * Per entry (a sample and kept class, or a kept class with `batch`), over kept elements:
 * TP = ΣP·G (Σmin(P, G) with `softLabel`), FP = ΣP·(1 − G) = ΣP − TP, FN = Σ(1 − P)·G = ΣG − TP,
 * T = (TP + smoothNr)/(TP + α·FP + β·FN + smoothDr), and L_e = (1 − T)^γ: 1 − T for γ = 1, else 0
 * where 1 − T ≤ 0 (a ratio above 1, from smoothNr > smoothDr). A denominator of exactly 0 counts as
 * a perfect match (L_e = 0, no gradient). The loss is Σ w_c·L_e, divided by the number of entries for `'mean'`.
 *
 * @param input - Probabilities or logits, laid out as `options.shape`.
 * @param target - Dense targets (same layout) or class ids of length N·S with `target: 'indices'`.
 * @param options - See {@link TverskyReferenceOptions}.
 * @returns The loss and its gradient with respect to `input` (`grad` is `null` for `reduction: 'none'`).
 */
export function tverskyLossReference(input: DiceInput, target: DiceTarget, options: TverskyReferenceOptions = {}): DiceResult {
  return evaluate('tversky', input, target, options);
}

function tverskyEntries(L: Layout, sums: Float64Array, options: TverskyReferenceOptions): Entries {
  const { C, c0, rows } = L;
  const K = C - c0;
  const alpha = options.alpha ?? 0.5;
  const beta = options.beta ?? 0.5;
  const gamma = options.gamma ?? 1;
  const smoothNr = options.smoothNr ?? 1e-5;
  const smoothDr = options.smoothDr ?? 1e-5;
  const losses = new Float64Array(rows * K);
  const dI = new Float64Array(rows * C);
  const dSP = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    for (let c = c0; c < C; c++) {
      const rc = r * C + c;
      const TP = sums[3 * rc];
      const FP = sums[3 * rc + 1] - TP; // ΣP − ΣP·G = ΣP·(1 − G)
      const FN = sums[3 * rc + 2] - TP; // ΣG − ΣP·G = Σ(1 − P)·G
      const w = options.weight === undefined ? 1 : options.weight[c - c0];
      const Nm = TP + smoothNr;
      const D = TP + alpha * FP + beta * FN + smoothDr;
      if (D === 0) continue; // 0/0: a perfect match
      const T = Math.min(Nm / D, RATIO_MAX);
      // ∂T/∂TP = 1/D − Nm/D² = (1 − T)/D, ∂T/∂FP = −α·T/D, ∂T/∂FN = −β·T/D.
      const dTdFP = (-alpha * T) / D;
      // L = u^γ, u = 1 − T: dL/dT = −γ·u^(γ−1); clamped (L = 0, slope 0) where u ≤ 0 unless γ = 1.
      const u = 1 - T;
      let loss: number, slope: number;
      if (gamma === 1) [loss, slope] = [u, -1];
      else if (u <= 0) [loss, slope] = [0, 0];
      else [loss, slope] = [u ** gamma, -gamma * u ** (gamma - 1)];
      losses[r * K + c - c0] = w * loss;
      if (w * slope === 0) continue;
      // In terms of the sums: TP = I, FP = SP − I, FN = SG − I, so ∂/∂SP = ∂/∂FP and
      // ∂/∂I = ∂/∂TP − ∂/∂FP − ∂/∂FN = (1 − T·(1 − α − β))/D, as one quotient: with a
      // subnormal D the three terms would overflow on their own (∞ − ∞).
      dI[rc] = w * slope * ((1 - T * (1 - alpha - beta)) / D);
      dSP[rc] = w * slope * dTdFP;
    }
  }
  return { losses, dI, dSP };
}

/**
 * Generalized Dice loss (Sudre et al. 2017) and its gradient, in float64.
 *
 * Per row (a sample, or the batch with `batch`), over kept elements and kept classes c:
 * L = 1 − (2·Σ_c w_c·I_c + smoothNr)/(Σ_c w_c·(SP_c + SG_c) + smoothDr), with I_c = ΣP·G
 * (Σmin(P, G) with `softLabel`), SP_c = ΣP, SG_c = ΣG and w_c = 1/SG_c² (`'square'`), 1/SG_c
 * (`'simple'`) or 1 (`'uniform'`), constants with respect to P. A class with an empty target
 * (w_c = ∞) takes the largest finite weight of its row, 0 if there is none (MONAI). A denominator of
 * exactly 0 is a perfect match (L = 0, no gradient). One entry per row; `'mean'` averages the rows.
 *
 * @param input - Probabilities or logits, laid out as `options.shape`.
 * @param target - Dense targets (same layout) or class ids of length N·S with `target: 'indices'`.
 * @param options - See {@link GeneralizedDiceReferenceOptions}.
 * @returns The loss and its gradient with respect to `input` (`grad` is `null` for `reduction: 'none'`).
 */
export function generalizedDiceLossReference(
  input: DiceInput, target: DiceTarget, options: GeneralizedDiceReferenceOptions = {},
): DiceResult {
  return evaluate('generalizedDice', input, target, options);
}

function generalizedDiceEntries(L: Layout, sums: Float64Array, options: GeneralizedDiceReferenceOptions): Entries {
  const { C, c0, rows } = L;
  const weightType = options.weightType ?? 'square';
  const smoothNr = options.smoothNr ?? 1e-5;
  const smoothDr = options.smoothDr ?? 1e-5;
  const losses = new Float64Array(rows);
  const dI = new Float64Array(rows * C);
  const dSP = new Float64Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const w = new Float64Array(C);
    let largestFinite = 0;
    for (let c = c0; c < C; c++) {
      const SG = sums[3 * (r * C + c) + 2];
      w[c] = weightType === 'uniform' ? 1 : weightType === 'simple' ? 1 / SG : 1 / (SG * SG);
      if (Number.isFinite(w[c])) largestFinite = Math.max(largestFinite, w[c]);
    }
    for (let c = c0; c < C; c++) if (!Number.isFinite(w[c])) w[c] = largestFinite;
    let Nm = smoothNr;
    let D = smoothDr;
    for (let c = c0; c < C; c++) {
      const rc = r * C + c;
      Nm += 2 * w[c] * sums[3 * rc];
      D += w[c] * (sums[3 * rc + 1] + sums[3 * rc + 2]);
    }
    if (D === 0) continue; // 0/0: a perfect match
    const T = Math.min(Nm / D, RATIO_MAX);
    losses[r] = 1 - T;
    // L = 1 − Nm/D: ∂L/∂I_c = −2w_c/D, ∂L/∂SP_c = Nm·w_c/D² = T·w_c/D.
    for (let c = c0; c < C; c++) {
      dI[r * C + c] = (-2 * w[c]) / D;
      dSP[r * C + c] = (T * w[c]) / D;
    }
  }
  return { losses, dI, dSP };
}
