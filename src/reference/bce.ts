// Plain float64 references of the binary cross-entropy and focal losses and their gradients: the
// test oracles for the Wasm kernels. Simple loops, Float64 everywhere, direct definitions, no
// validation (the fast path validates). Element (n, c, s) is at index (n·C + c)·S + s.

/** Input values: probabilities (activation `'none'`) or logits. */
export type ReferenceInput = Float32Array | Float64Array | ArrayLike<number>;
/** Dense targets in [0, 1] (same layout as the input), or class ids of length N·S (softmax focal). */
export type ReferenceTarget = Float32Array | Float64Array | Uint8Array | Uint16Array | Int32Array | ArrayLike<number>;

/** Result of the references. */
export interface ReferenceResult {
  /** Scalar loss, or with `reduction: 'none'` the per-element (per-pixel for softmax) losses, 0 where ignored. */
  loss: number | Float64Array;
  /** dLoss/dInput (w.r.t. p for `'none'`, w.r.t. the logits otherwise); `null` for `reduction: 'none'`. */
  grad: Float64Array | null;
}

/** Options of {@link bceLossReference} (see `bceLoss` for the meaning of each). */
export interface BceReferenceOptions {
  shape?: readonly number[];
  activation?: 'none' | 'sigmoid';
  /** Length N·S (broadcast over channels) or N·C·S; an element is kept iff its value is non-zero. */
  mask?: ArrayLike<number>;
  posWeight?: number;
  labelSmoothing?: number;
  balance?: 'none' | 'hed' | 'rcf';
  rcfLambda?: number;
  rcfEta?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

/** Options of {@link focalLossReference} (see `focalLoss`). */
export interface FocalReferenceOptions {
  shape?: readonly number[];
  activation?: 'none' | 'sigmoid' | 'softmax';
  /** Softmax only: pixels with this label are ignored. */
  ignoreIndex?: number;
  mask?: ArrayLike<number>;
  /** Binary forms: α ∈ [0, 1], or `null` / −1 for no α weighting. Default 0.25 (torchvision). */
  alpha?: number | null;
  gamma?: number;
  /** Softmax: one weight α_c per class. Default all 1. */
  weight?: ArrayLike<number>;
  reduction?: 'mean' | 'sum' | 'none';
}

interface Layout { N: number; C: number; S: number }

function layout(len: number, shape: readonly number[] | undefined): Layout {
  const dims = shape ?? [1, 1, len];
  let S = 1;
  for (let d = 2; d < dims.length; d++) S *= dims[d]!;
  return { N: dims[0]!, C: dims[1]!, S };
}

/** Whether the mask keeps element (n, c, s). */
function maskKeeps(mask: ArrayLike<number> | undefined, { N, C, S }: Layout, n: number, c: number, s: number): boolean {
  if (mask === undefined) return true;
  return mask.length === N * S ? mask[n * S + s] !== 0 : mask[(n * C + c) * S + s] !== 0;
}

/** mean over `kept` elements (0 when nothing is kept), sum, or the per-element losses. */
function reduce(losses: Float64Array, grad: Float64Array, kept: number, reduction: 'mean' | 'sum' | 'none'): ReferenceResult {
  if (reduction === 'none') return { loss: losses, grad: null };
  let total = 0;
  for (let i = 0; i < losses.length; i++) total += losses[i]!;
  if (reduction === 'sum') return { loss: total, grad };
  const scale = kept > 0 ? 1 / kept : 0;
  for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
  return { loss: total * scale, grad };
}

/**
 * Binary cross-entropy and its gradient in float64.
 *
 * Per kept element with (effective) target g and sample weights a_n (positive term) and b_n (negative term):
 * ℓ = −a_n·g·log p − b_n·(1 − g)·log(1 − p), where
 * - with logits p = σ(x): log p = −log(1 + e^−x), log(1 − p) = −log(1 + e^x) (PyTorch's BCEWithLogitsLoss);
 * - with probabilities: log p and log(1 − p) clamped at −100 (PyTorch's BCELoss).
 * a_n = posWeight·β⁺_n, b_n = β⁻_n with β⁺ = β⁻ = 1 (no balance);
 * HED: β⁺ = |Y−|/|Y|, β⁻ = |Y+|/|Y| (positives: kept elements with g ≥ 0.5, |Y| kept elements of sample n);
 * RCF: β⁺ = |Y−|/|Y|, β⁻ = λ·|Y+|/|Y|, positives g ≥ η (their target becomes 1), 0 < g < η ignored,
 * negatives g = 0. Label smoothing then replaces g by g(1 − ε) + ε/2.
 *
 * Gradient: logits dℓ/dx = b·(1 − g)·p − a·g·(1 − p); probabilities PyTorch's BCELoss backward
 * dℓ/dp = (b·(1 − g)·p − a·g·(1 − p)) / max(p(1 − p), 1e−12), the derivative wherever p(1 − p) ≥ 1e−12.
 */
export function bceLossReference(input: ReferenceInput, target: ReferenceTarget, options: BceReferenceOptions = {}): ReferenceResult {
  const len = input.length;
  const lay = layout(len, options.shape);
  const { N, C, S } = lay;
  const logits = options.activation === 'sigmoid';
  const posWeight = options.posWeight ?? 1;
  const eps = options.labelSmoothing ?? 0;
  const balance = options.balance ?? 'none';
  const lambda = options.rcfLambda ?? 1.1;
  const eta = options.rcfEta ?? 0.5;
  const reduction = options.reduction ?? 'mean';

  // 1. Which elements count, and which are positives, from the raw labels.
  const kept = new Uint8Array(len);
  const keptPerSample = new Float64Array(N);
  const posPerSample = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        const g = target[i]!;
        const ignoredBand = balance === 'rcf' && g > 0 && g < eta; // RCF: ambiguous labels
        if (!maskKeeps(options.mask, lay, n, c, s) || ignoredBand) continue;
        kept[i] = 1;
        keptPerSample[n]! += 1;
        if ((balance === 'hed' && g >= 0.5) || (balance === 'rcf' && g >= eta)) posPerSample[n]! += 1;
      }
    }
  }

  // 2. Per-sample weights of the positive (a) and negative (b) terms.
  const a = new Float64Array(N);
  const b = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const all = keptPerSample[n]!, pos = posPerSample[n]!, neg = all - pos;
    if (balance === 'none') { a[n] = posWeight; b[n] = 1; }
    else if (all === 0) { a[n] = 0; b[n] = 0; }
    else if (balance === 'hed') { a[n] = posWeight * (neg / all); b[n] = pos / all; }
    else { a[n] = posWeight * (neg / all); b[n] = lambda * (pos / all); }
  }

  // 3. Losses and gradients.
  const losses = new Float64Array(len);
  const grad = new Float64Array(len);
  let keptTotal = 0;
  for (let n = 0; n < N; n++) {
    for (let i = n * C * S; i < (n + 1) * C * S; i++) {
      if (!kept[i]) continue;
      keptTotal++;
      let g = target[i]!;
      if (balance === 'rcf' && g >= eta) g = 1; // RCF positives are labelled 1
      g = g * (1 - eps) + eps / 2; // label smoothing (Keras)
      const x = input[i]!;
      if (logits) {
        const logP = -Math.log1p(Math.exp(-x)); // log σ(x)
        const logQ = -Math.log1p(Math.exp(x)); // log(1 − σ(x)) = log σ(−x)
        const p = 1 / (1 + Math.exp(-x));
        const q = 1 / (1 + Math.exp(x)); // 1 − p, without cancellation
        losses[i] = -a[n]! * g * logP - b[n]! * (1 - g) * logQ;
        grad[i] = b[n]! * (1 - g) * p - a[n]! * g * q;
      } else {
        const p = x;
        const logP = Math.max(Math.log(p), -100);
        const logQ = Math.max(Math.log(1 - p), -100);
        losses[i] = -a[n]! * g * logP - b[n]! * (1 - g) * logQ;
        grad[i] = (b[n]! * (1 - g) * p - a[n]! * g * (1 - p)) / Math.max(p * (1 - p), 1e-12);
      }
    }
  }
  return reduce(losses, grad, keptTotal, reduction);
}

/**
 * Focal loss and its gradient in float64.
 *
 * Binary (`'sigmoid'`: logits, `'none'`: probabilities), torchvision's sigmoid_focal_loss with soft targets:
 * p_t = p·g + (1 − p)(1 − g), α_t = α·g + (1 − α)(1 − g) (1 without α),
 * FL = α_t·(1 − p_t)^γ·ce with ce the unweighted BCE of the element (clamped logs for probabilities).
 * Softmax over the C channels with class ids y: FL = −α_y·(1 − p_y)^γ·log p_y per kept pixel.
 * 'mean' divides by the number of kept elements (binary) or kept pixels (softmax).
 */
export function focalLossReference(input: ReferenceInput, target: ReferenceTarget, options: FocalReferenceOptions = {}): ReferenceResult {
  const len = input.length;
  const lay = layout(len, options.shape);
  const { N, C, S } = lay;
  const activation = options.activation ?? 'none';
  const gamma = options.gamma ?? 2;
  const reduction = options.reduction ?? 'mean';
  const grad = new Float64Array(len);
  let keptTotal = 0;

  if (activation === 'softmax') {
    const losses = new Float64Array(N * S);
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        const y = target[n * S + s]!;
        if (!maskKeeps(options.mask, lay, n, 0, s) || y === options.ignoreIndex) continue;
        keptTotal++;
        const at = (c: number): number => (n * C + c) * S + s;
        // log-softmax: log p_c = x_c − m − log Σ_k e^(x_k − m), m = max_k x_k.
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, input[at(c)]!);
        let z = 0;
        for (let c = 0; c < C; c++) z += Math.exp(input[at(c)]! - m);
        const logP = (c: number): number => input[at(c)]! - m - Math.log(z);
        const p = (c: number): number => Math.exp(logP(c));
        let d = 0; // 1 − p_y as the sum of the other probabilities
        for (let c = 0; c < C; c++) if (c !== y) d += p(c);
        const alpha = options.weight === undefined ? 1 : options.weight[y]!;
        const lpy = logP(y);
        losses[n * S + s] = -alpha * Math.pow(d, gamma) * lpy;
        // dFL/dx_k = α·(p_k − δ_yk)·(d^γ − γ·d^(γ−1)·p_y·log p_y), using dp_y/dx_k = p_y(δ_yk − p_k)
        // and d log p_y/dx_k = δ_yk − p_k; p_y − 1 is written −d.
        const factor = alpha * (Math.pow(d, gamma) - gamma * Math.pow(d, gamma - 1) * p(y) * lpy);
        for (let c = 0; c < C; c++) grad[at(c)] = (c === y ? -d : p(c)) * factor;
      }
    }
    return reduce(losses, grad, keptTotal, reduction);
  }

  const logits = activation === 'sigmoid';
  const alpha = options.alpha === undefined ? 0.25 : options.alpha;
  const useAlpha = alpha !== null && alpha >= 0;
  const losses = new Float64Array(len);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s;
        if (!maskKeeps(options.mask, lay, n, c, s)) continue;
        keptTotal++;
        const g = target[i]!;
        const x = input[i]!;
        const p = logits ? 1 / (1 + Math.exp(-x)) : x;
        const q = logits ? 1 / (1 + Math.exp(x)) : 1 - x; // 1 − p
        const ce = logits
          ? g * Math.log1p(Math.exp(-x)) + (1 - g) * Math.log1p(Math.exp(x))
          : -(g * Math.max(Math.log(p), -100) + (1 - g) * Math.max(Math.log(q), -100));
        const ceSlope = logits ? p - g : (p - g) / Math.max(p * q, 1e-12); // PyTorch's BCE gradients
        const d = p * (1 - g) + q * g; // 1 − p_t = 1 − p·g − (1 − p)(1 − g)
        const at = useAlpha ? alpha * g + (1 - alpha) * (1 - g) : 1;
        const M = Math.pow(d, gamma);
        losses[i] = at * M * ce;
        // dM/dz = γ·d^(γ−1)·dd/dz with dd/dp = 1 − 2g (dp/dx = p·q for logits). At d = 0
        // (probabilities p = g ∈ {0, 1}) ce = 0 and the product γ·d^(γ−1)·ce is taken as its limit 0.
        const ddz = (1 - 2 * g) * (logits ? p * q : 1);
        const dMce = d > 0 ? gamma * Math.pow(d, gamma - 1) * ddz * ce : 0;
        grad[i] = at * (dMce + M * ceSlope);
      }
    }
  }
  return reduce(losses, grad, keptTotal, reduction);
}
