// Fused combinations of a region loss and a pixel loss: Dice + BCE (MONAI's
// DiceCELoss for a sigmoid output), Dice + focal (MONAI's DiceFocalLoss),
// the crisp-edge loss of Deng et al., and Dice + cross-entropy (DiceCELoss,
// softmax). Each reads the data once for its sums and writes the summed
// gradient once:
//   binary forms (sigmoid logits, dense targets): pass 1 is diceBceSums, the
//     Dice sums plus the counts the pixel loss's weights need (assembly/dice.ts);
//     pass 2 is bceForward with the Dice part's gradient coefficients
//     (assembly/bce.ts), which computes the pixel loss and writes both
//     gradients. Without `grad` pass 2 only sums the pixel loss.
//   diceCeLoss (softmax logits, class ids): pass 1 (diceCeSums) adds the
//     per-class cross-entropy sums to the Dice sums; pass 2 (diceCeGradient)
//     writes the Dice gradient plus W_y·(p − onehot(y)).
import { optionsObject, oneOf, finite, weights, withOverrides, WEIGHT_MAX } from './args.ts';
import { stream } from './driver.ts';
import { ACT } from './codes.ts';
import { runtime } from './runtime.ts';
import {
  parseCall, invalidValues, epilogue, entryCount, REDUCE, TRANSFORM,
  type RegionCall, type DiceOptions, type ArrayArg,
} from './dice.ts';
import { bceRule, focalRule, focalAlpha, type PixelRule, type BceOptions } from './bce.ts';

/** The Dice options a fused binary loss takes (sigmoid logits, dense targets; no stats, soft labels or indices). */
type FusedDiceOptions = Omit<DiceOptions, 'activation' | 'target' | 'ignoreIndex' | 'softLabel' | 'stats' | 'reduction'> & {
  /** Input holds logits, p = σ(x): the only activation of the binary fused losses. Default `'sigmoid'`. */
  activation?: 'sigmoid';
  /** Dense targets (Float32Array or Uint8Array laid out like input): the only kind of the binary fused losses. */
  target?: 'dense';
  /** `'mean'` (default): the Dice mean over entries plus the pixel loss's mean over kept elements; `'sum'`: both summed. */
  reduction?: 'mean' | 'sum';
};

/** Options of {@link diceBceLoss}: the Dice options plus the BCE part's ({@link bceLoss}'s). */
export interface DiceBceOptions extends FusedDiceOptions,
  Pick<BceOptions, 'posWeight' | 'labelSmoothing' | 'balance' | 'rcfLambda' | 'rcfEta'> {
  /** Weight of the Dice part. Finite, ≥ 0. Default 1. */
  lambdaDice?: number;
  /** Weight of the BCE part. Finite, ≥ 0. Default 1. */
  lambdaBce?: number;
}

/** Options of {@link diceFocalLoss}: the Dice options plus the binary focal part's ({@link focalLoss}'s). */
export interface DiceFocalOptions extends FusedDiceOptions {
  /** Weight of the Dice part. Finite, ≥ 0. Default 1. */
  lambdaDice?: number;
  /** Weight of the focal part. Finite, ≥ 0. Default 1. */
  lambdaFocal?: number;
  /** α ∈ [0, 1] weights positives, 1 − α negatives; `null` or −1: none. Default 0.25 (torchvision, as focalLoss). */
  alpha?: number | null;
  /** Focusing parameter γ, finite ≥ 0. Default 2. */
  gamma?: number;
}

/** Options of {@link crispEdgeLoss}. */
export interface CrispEdgeOptions extends Omit<FusedDiceOptions, 'squared' | 'jaccard' | 'transform'>,
  Pick<BceOptions, 'posWeight' | 'labelSmoothing' | 'balance' | 'rcfLambda' | 'rcfEta'> {
  /** Weight α of the Dice term (ΣP² + ΣG²)/(2ΣPG). Finite, ≥ 0. Default 1. */
  alpha?: number;
  /** Weight β of the balanced cross-entropy term. Finite, ≥ 0. Default 1. */
  beta?: number;
}

/** Options of {@link diceCeLoss}. */
export interface DiceCeOptions extends Omit<DiceOptions, 'activation' | 'target' | 'softLabel' | 'stats' | 'reduction' | 'mask'> {
  /** Input holds logits, softmax over the C channels: the only activation of diceCeLoss. Default `'softmax'`. */
  activation?: 'softmax';
  /** One class id per pixel (Uint8Array, Uint16Array or Int32Array of N × spatial). Default `'indices'`. */
  target?: 'indices';
  /** 0 = ignored pixel (both parts). `N × spatial` bytes. */
  mask?: ArrayArg<Uint8Array>;
  /** Weight of the Dice part. Finite, ≥ 0. Default 1. */
  lambdaDice?: number;
  /** Weight of the cross-entropy part. Finite, ≥ 0. Default 1. */
  lambdaCe?: number;
  /** Cross-entropy class weights (PyTorch's `weight`), C non-negative numbers. Default all 1. */
  ceWeight?: ArrayLike<number>;
  /** `'mean'` (default): Dice mean over entries plus CE's weighted mean Σw_y·ce/Σw_y over kept pixels; `'sum'`: both summed. */
  reduction?: 'mean' | 'sum';
}

const BINARY_STATS = 5; // I, SP, SG, K, NP per (sample, class): diceBceSums
const CE_STATS = 4;     // I, SP, SG, CE per (sample, class): diceCeSums

/** Checks the options a binary fused loss does not take, then parses its Dice part. */
function parseBinary(fn: string, input: unknown, target: unknown, o: Record<string, unknown>, dice: Record<string, unknown>): RegionCall {
  oneOf(fn, 'activation', o.activation, ['sigmoid'] as const, 'sigmoid');
  oneOf(fn, 'target', o.target, ['dense'] as const, 'dense');
  for (const name of ['softLabel', 'stats', 'ignoreIndex'] as const) {
    if (o[name] !== undefined) throw new RangeError(`${fn}: options.${name} is not an option of the fused loss (sigmoid logits, dense targets)`);
  }
  const reduction = oneOf(fn, 'reduction', o.reduction, ['mean', 'sum'] as const, 'mean');
  return parseCall(fn, 'dice', input, target, withOverrides(o, { ...dice, activation: 'sigmoid', target: 'dense', reduction }));
}

/**
 * Dice + binary cross-entropy on sigmoid logits, fused:
 * `lambdaDice · diceLoss(x, g, options) + lambdaBce · bceLoss(x, g, { activation: 'sigmoid', balance, … })`.
 * The Dice part is exactly {@link diceLoss} (per (sample, class) entry, `squared`, `jaccard`, `transform`,
 * `batch`, `weight`, `includeBackground`, smoothing); the BCE part is exactly {@link bceLoss} with
 * `posWeight`, `labelSmoothing` and `balance` (`'hed'` or `'rcf'` per image), averaged over its kept
 * elements. `includeBackground: false` drops channel 0 from the Dice part only; the mask applies to both;
 * RCF's ignored label band (0, η) applies to the BCE part only.
 * Gradient: `lambdaDice·dDice/dp·σ'(x) + lambdaBce·scale·(b(1 − g')σ(x) − a·g'·σ(−x))`.
 * Follows MONAI's `DiceCELoss` (sigmoid) for the weighted sum, HED (Xie & Tu 2015) and RCF (Liu et al.
 * 2017) for the balancing.
 *
 * @param input logits (Float32Array or WasmArray)
 * @param target labels in [0, 1]: Float32Array or Uint8Array, as long as input
 * @returns the weighted sum of the two reduced losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function diceBceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: DiceBceOptions): number {
  const fn = 'segloss.diceBceLoss';
  const o = optionsObject(fn, options);
  const lambdaDice = finite(fn, 'lambdaDice', o.lambdaDice, 1, 0, WEIGHT_MAX);
  const lambdaBce = finite(fn, 'lambdaBce', o.lambdaBce, 1, 0, WEIGHT_MAX);
  const rule = bceRule(fn, o);
  return runBinary(parseBinary(fn, input, target, o, {}), rule, lambdaDice, lambdaBce);
}

/**
 * Dice + binary focal loss on sigmoid logits, fused:
 * `lambdaDice · diceLoss(x, g, options) + lambdaFocal · focalLoss(x, g, { activation: 'sigmoid', alpha, gamma })`,
 * the focal part averaged over the kept elements (`'mean'`). Follows MONAI's `DiceFocalLoss` for a sigmoid
 * output, with {@link focalLoss}'s (torchvision's) α and γ.
 *
 * @param input logits (Float32Array or WasmArray)
 * @param target labels in [0, 1]: Float32Array or Uint8Array, as long as input
 * @returns the weighted sum of the two reduced losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function diceFocalLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: DiceFocalOptions): number {
  const fn = 'segloss.diceFocalLoss';
  const o = optionsObject(fn, options);
  const lambdaDice = finite(fn, 'lambdaDice', o.lambdaDice, 1, 0, WEIGHT_MAX);
  const lambdaFocal = finite(fn, 'lambdaFocal', o.lambdaFocal, 1, 0, WEIGHT_MAX);
  const rule = focalRule(focalAlpha(fn, o.alpha), finite(fn, 'gamma', o.gamma, 2, 0));
  return runBinary(parseBinary(fn, input, target, o, {}), rule, lambdaDice, lambdaFocal);
}

/**
 * The crisp-boundary loss of Deng et al. (ECCV 2018, "Learning to Predict Crisp Boundaries"), fused:
 * `α·(ΣP² + ΣG² + smoothDr)/(2ΣPG + smoothNr) + β·L_hed`, per (sample, class) entry for the Dice term
 * (the inverse of the squared Dice ratio, averaged over entries like {@link diceLoss}), and the HED-balanced
 * cross-entropy ({@link bceLoss} with `balance: 'hed'`, the default here; `'rcf'` and `'none'` are allowed)
 * for L_hed. The paper's term has no smoothing; here smoothNr and smoothDr default to 1, so that an image
 * without edges gives a finite loss ((ΣP² + 1)/1 rather than a division by zero); smoothNr must be ≥ 1e−6.
 * Gradient of the Dice term per element: `α·(2p/(2I + s_nr) − 2g·(SP + SG + s_dr)/(2I + s_nr)²)·σ'(x)`.
 *
 * @param input logits (Float32Array or WasmArray)
 * @param target edge labels in [0, 1]: Float32Array or Uint8Array, as long as input
 * @returns α times the Dice term plus β times the cross-entropy term
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function crispEdgeLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options?: CrispEdgeOptions): number {
  const fn = 'segloss.crispEdgeLoss';
  const o = optionsObject(fn, options);
  for (const name of ['squared', 'jaccard', 'transform'] as const) {
    if (o[name] !== undefined) throw new RangeError(`${fn}: options.${name} is not an option of crispEdgeLoss (its Dice term is fixed: squared, inverted)`);
  }
  const alpha = finite(fn, 'alpha', o.alpha, 1, 0, WEIGHT_MAX);
  const beta = finite(fn, 'beta', o.beta, 1, 0, WEIGHT_MAX);
  // The Dice term divides by 2ΣPG + smoothNr: a floor keeps it finite for an image without edges.
  const smoothNr = finite(fn, 'smoothNr', o.smoothNr, 1, 1e-6);
  const rule = bceRule(fn, withOverrides(o, { balance: o.balance ?? 'hed' }));
  const call = parseBinary(fn, input, target, o, { squared: true, smoothNr, smoothDr: o.smoothDr ?? 1 });
  call.transform = TRANSFORM.inverse;
  return runBinary(call, rule, alpha, beta);
}

/** The two passes of a binary fused loss (see the file comment). */
function runBinary(call: RegionCall, rule: PixelRule, lambdaDice: number, lambdaPix: number): number {
  const rt = runtime();
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C } = call.shape;
  // Every block this call needs is taken before any view is made (taking one may grow memory).
  const raw = ws.get('fusedSums', N * C * BINARY_STATS * 8);
  const stats = ws.get('stats', N * C * 24);
  const coef = call.grad ? ws.get('coef', call.rows * C * 12) : 0;
  const diceCoef = call.grad ? ws.get('fusedCoef', N * C * 12) : 0;
  const pixCoef = ws.get('bceCoef', N * 16);
  const pixStats = ws.get('bceStats', N * C * 8);
  const losses = ws.get('losses', entryCount(call) * 8);
  const scratch = ws.get('scratch', Math.max(k.diceScratchBytes(C), k.bceScratchBytes(C)));

  // Pass 1: the Dice sums and the pixel loss's counts, in one read.
  new Float64Array(heap.buffer(), raw, N * C * BINARY_STATS).fill(0);
  let flags = 0;
  stream(rt, call.shape, call.streams, undefined, (ch) => {
    flags |= k.diceBceSums(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, raw + ch.n0 * C * BINARY_STATS * 8, scratch,
      ch.samples, C, ch.length, ch.stride, call.tgt, call.maskMode, call.squared ? 1 : 0, rule.ignoreBelow, rule.posAt);
  });
  if (flags) throw invalidValues(rt, call, flags);
  const dice = diceFromSums(call, raw, BINARY_STATS, stats, coef, losses);

  // The pixel loss's weights per sample (from its kept elements and positives over all channels), and
  // the reduction's scale: 'mean' divides by all kept elements.
  const buffer = heap.buffer();
  const sums = new Float64Array(buffer, raw, N * C * BINARY_STATS);
  const coefView = new Float32Array(buffer, pixCoef, N * 4);
  const ab: [number, number][] = [];
  let keptTotal = 0;
  for (let n = 0; n < N; n++) {
    let kept = 0, pos = 0;
    for (let c = 0; c < C; c++) { kept += sums[(n * C + c) * BINARY_STATS + 3]!; pos += sums[(n * C + c) * BINARY_STATS + 4]!; }
    keptTotal += kept;
    ab.push(rule.weights(kept, pos));
  }
  const scale = call.reduction === REDUCE.mean ? (keptTotal > 0 ? 1 / keptTotal : 0) : 1;
  ab.forEach(([a, b], n) => coefView.set([a, b, lambdaPix * scale * a, lambdaPix * scale * b], n * 4));
  if (call.grad) {
    // The Dice coefficients per (sample, class), times lambdaDice (one row for all samples with batch).
    const from = new Float32Array(buffer, coef, call.rows * C * 3);
    const to = new Float32Array(buffer, diceCoef, N * C * 3);
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < C * 3; i++) to[n * C * 3 + i] = lambdaDice * from[(call.batch ? 0 : n) * C * 3 + i]!;
    }
  }
  new Float64Array(buffer, pixStats, N * C).fill(0);

  // Pass 2: the pixel loss, and the summed gradient written once.
  stream(rt, call.shape, call.streams, call.grad, (ch) => {
    k.bceForward(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, call.grad ? ch.out : 0, 0, 0,
      pixCoef + ch.n0 * 16, pixStats + ch.n0 * C * 8, scratch, ch.samples, C, ch.length, ch.stride,
      rule.kind, ACT.sigmoid, call.tgt, call.maskMode,
      rule.ignoreBelow, rule.binarizeAt, rule.smooth1, rule.smooth0, rule.gamma, call.grad ? diceCoef + ch.n0 * C * 12 : 0);
  });
  // Row sums added in a fixed order: the same bits whatever the chunking.
  const rowSums = new Float64Array(heap.buffer(), pixStats, N * C);
  let pix = 0;
  for (let i = 0; i < N * C; i++) pix += rowSums[i]!;
  return weighted(lambdaDice, dice) + weighted(lambdaPix, pix * scale);
}

/**
 * Copies (I, SP, SG) out of the fused sums (`width` f64 per entry) into `stats`, reduces them over the
 * batch with `batch`, and runs the region epilogue: returns the Dice part's reduced loss.
 */
function diceFromSums(call: RegionCall, raw: number, width: number, stats: number, coef: number, losses: number): number {
  const rt = runtime();
  const { N, C } = call.shape;
  const buffer = rt.heap.buffer();
  const sums = new Float64Array(buffer, raw, N * C * width);
  const dice = new Float64Array(buffer, stats, N * C * 3);
  for (let e = 0; e < N * C; e++) dice.set(sums.subarray(e * width, e * width + 3), e * 3);
  if (call.batch) rt.kernels.sumRows(stats, N, C * 3);
  return epilogue(rt, call, stats, coef, losses);
}

/**
 * Dice + cross-entropy on softmax logits with class-id targets, fused (MONAI's `DiceCELoss` with
 * `softmax=True`): `lambdaDice · diceLoss(x, t, { activation: 'softmax', target: 'indices', … }) +
 * lambdaCe · CE`, CE = PyTorch's `cross_entropy(x, t, weight: ceWeight, ignore_index: ignoreIndex)`:
 * `Σ w_y·(−log p_y) / Σ w_y` over the kept pixels (`'mean'`; 0 when no pixel is kept, where PyTorch gives
 * NaN) or the weighted sum (`'sum'`). −log p_y is evaluated as (max_k x_k − x_y) + log Σ_k e^(x_k − max),
 * accurate for confident pixels. The Dice options (`weight`, `includeBackground`, `batch`, `squared`,
 * `jaccard`, `transform`, smoothing) apply to the Dice part; `ignoreIndex` and the per-pixel `mask` to both;
 * CE always covers all C classes. As with {@link bceLoss}, element losses are float32: a pixel whose logits
 * differ by more than ~3e38 has an infinite CE (PyTorch's float32 too).
 * Gradient: the Dice part's, plus `lambdaCe·scale·w_y·(p_k − [k = y])`.
 *
 * @param input logits `[N, C, ...spatial]` (Float32Array or WasmArray), C ≥ 2
 * @param target N × spatial class ids (Uint8Array, Uint16Array or Int32Array)
 * @returns the weighted sum of the two reduced losses
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function diceCeLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Uint8Array | Uint16Array | Int32Array>, options?: DiceCeOptions): number {
  const fn = 'segloss.diceCeLoss';
  const o = optionsObject(fn, options);
  oneOf(fn, 'activation', o.activation, ['softmax'] as const, 'softmax');
  oneOf(fn, 'target', o.target, ['indices'] as const, 'indices');
  for (const name of ['softLabel', 'stats'] as const) {
    if (o[name] !== undefined) throw new RangeError(`${fn}: options.${name} is not an option of diceCeLoss`);
  }
  const reduction = oneOf(fn, 'reduction', o.reduction, ['mean', 'sum'] as const, 'mean');
  const lambdaDice = finite(fn, 'lambdaDice', o.lambdaDice, 1, 0, WEIGHT_MAX);
  const lambdaCe = finite(fn, 'lambdaCe', o.lambdaCe, 1, 0, WEIGHT_MAX);
  const call = parseCall(fn, 'dice', input, target, withOverrides(o, { activation: 'softmax', target: 'indices', reduction }));
  const { N, C } = call.shape;
  const ceWeight = weights(fn, o.ceWeight, C, 'ceWeight') ?? new Float64Array(C).fill(1);

  const rt = runtime();
  const { kernels: k, workspace: ws, heap } = rt;
  const raw = ws.get('fusedSums', N * C * CE_STATS * 8);
  const stats = ws.get('stats', N * C * 24);
  const coef = call.grad ? ws.get('coef', call.rows * C * 12) : 0;
  const ceCoef = call.grad ? ws.get('fusedCoef', call.rows * C * 16) : 0;
  const losses = ws.get('losses', entryCount(call) * 8);
  const scratch = ws.get('scratch', k.diceScratchBytes(C));

  // Pass 1: the Dice sums and the per-class cross-entropy sums, in one read.
  new Float64Array(heap.buffer(), raw, N * C * CE_STATS).fill(0);
  let flags = 0;
  stream(rt, call.shape, call.streams, undefined, (ch) => {
    flags |= k.diceCeSums(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, raw + ch.n0 * C * CE_STATS * 8, scratch,
      ch.samples, C, ch.length, ch.stride, call.tgt, call.maskMode, call.ignore, call.hasIgnore ? 1 : 0, call.squared ? 1 : 0);
  });
  if (flags) throw invalidValues(rt, call, flags);
  const dice = diceFromSums(call, raw, CE_STATS, stats, coef, losses);

  // CE: Σ_c w_c·CE_c over Σ_c w_c·K_c, K_c = SG_c = the kept pixels labelled c (Σg = Σg² for one-hot g).
  const buffer = heap.buffer();
  const sums = new Float64Array(buffer, raw, N * C * CE_STATS);
  let ce = 0, weightTotal = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      ce += ceWeight[c]! * sums[(n * C + c) * CE_STATS + 3]!;
      weightTotal += ceWeight[c]! * sums[(n * C + c) * CE_STATS + 2]!;
    }
  }
  const scale = call.reduction === REDUCE.mean ? (weightTotal > 0 ? 1 / weightTotal : 0) : 1;
  if (call.grad) {
    const from = new Float32Array(buffer, coef, call.rows * C * 3);
    const to = new Float32Array(buffer, ceCoef, call.rows * C * 4);
    for (let r = 0; r < call.rows; r++) {
      for (let c = 0; c < C; c++) {
        const e = r * C + c;
        to.set([lambdaDice * from[e * 3]!, lambdaDice * from[e * 3 + 1]!, lambdaDice * from[e * 3 + 2]!, lambdaCe * scale * ceWeight[c]!], e * 4);
      }
    }
    // Pass 2: the summed gradient, written once.
    const coefStride = call.batch ? 0 : C * 16;
    stream(rt, call.shape, call.streams, call.grad, (ch) => {
      k.diceCeGradient(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, ch.out, ceCoef + ch.n0 * coefStride, coefStride, scratch,
        ch.samples, C, ch.length, ch.stride, call.tgt, call.maskMode, call.ignore, call.hasIgnore ? 1 : 0);
    });
  }
  return weighted(lambdaDice, dice) + weighted(lambdaCe, ce * scale);
}

/** λ·part, 0 for λ = 0 even where the part overflowed (float32 element losses beyond ~3e38). */
function weighted(lambda: number, part: number): number {
  return lambda === 0 ? 0 : lambda * part;
}
