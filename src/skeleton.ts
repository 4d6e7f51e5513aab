// clDiceLoss: the topology-preserving clDice of Shit et al. (CVPR 2021) on soft skeletons made by
// iterated min/max pooling, optionally mixed with soft Dice. Kernels: assembly/pool.ts; float64
// reference: src/reference/pool.ts; shared parsing and staging: src/tolerance.ts.
import { optionsObject, finite } from './args.ts';
import { ACT } from './codes.ts';
import { diceLoss, type ArrayArg } from './dice.ts';
import { runtime } from './runtime.ts';
import {
  parsePoolCall, positiveSmooth, countOption, stageInputs, gradientSink, reduce, type PoolLossOptions,
} from './tolerance.ts';

/** Options of {@link clDiceLoss}. */
export interface ClDiceOptions extends PoolLossOptions {
  /**
   * Iterations of the soft skeleton (the reference's `iter_`), an integer ≥ 0. Default 3. Iterations
   * beyond (D − 1) + (H − 1) + (W − 1) change nothing (the eroded plane is constant) and are not run.
   */
  iterations?: number;
  /** Smoothing s > 0 of Tprec and Tsens, and the Dice part's smoothNr = smoothDr. Default 1 (the reference's). */
  smooth?: number;
  /**
   * Weight of clDice in `(1 − alpha)·diceLoss + alpha·clDice`, in [0, 1]. Default 1 (clDice alone, the
   * reference's `soft_cldice`); 0.5 is the reference's `soft_dice_cldice`.
   */
  alpha?: number;
}

/**
 * clDice loss (Shit et al., "clDice – a novel topology-preserving loss function for tubular structure
 * segmentation", CVPR 2021), per (sample, class) plane of a 2-D `[N, C, H, W]` or 3-D
 * `[N, C, D, H, W]` input:
 *
 *   S_P = soft_skel(p), S_G = soft_skel(g)           (K = `iterations` rounds of min/max pooling)
 *   Tprec = (Σ S_P·g + s)/(Σ S_P + s),  Tsens = (Σ S_G·p + s)/(Σ S_G + s)
 *   clDice = 1 − 2·Tprec·Tsens/(Tprec + Tsens)
 *   loss = (1 − α)·Dice + α·clDice,  Dice = {@link diceLoss} with smoothNr = smoothDr = s
 *
 * soft_skel follows the reference code (jocpae/clDice): soft_erode = min over the 3×1 and 1×3
 * (3-D: 3×1×1, 1×3×1, 1×1×3) windows, soft_dilate = 3×3 (3×3×3) max-pool, soft_open = dilate∘erode,
 * S = relu(x − open(x)), then K times: x = erode(x), δ = relu(x − open(x)), S = S + relu(δ − S·δ).
 * Borders keep in-bounds elements only (−∞ padding of max-pool).
 *
 * Gradient: dL/dTprec = −2Tsens²/(Tprec + Tsens)² (symmetrically for Tsens), so
 * dL/dS_P,i = dL/dTprec·(g_i − Tprec)/(ΣS_P + s) flows back through soft_skel (each pool routes its
 * output's gradient to the selected element, ties to the smallest flat index; relu'(0) = 0: a
 * subgradient), plus the direct term dL/dTsens·S_G,i/(ΣS_G + s). S_G is a constant.
 *
 * Deviation from the reference: one entry per (sample, class), reduced by `reduction`, where the
 * reference sums over the batch and drops channel 0; pass only the foreground channels to leave out
 * the background. With s > 0 both ratios lie in (0, 1]: an empty target and an empty skeleton give
 * clDice 0, and everything is finite for valid inputs.
 *
 * Memory: about (6·iterations + 12)·4 bytes per element of one plane, plus staged copies of input and target.
 *
 * @param input probabilities in [0, 1], or logits with `activation: 'sigmoid'` (Float32Array or WasmArray)
 * @param target labels in [0, 1] (Float32Array or Uint8Array), laid out like input
 * @returns the reduced loss, or the per-entry losses `[N, C]` with `reduction: 'none'`
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function clDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ClDiceOptions & { reduction: 'none' }): Float64Array;
export function clDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ClDiceOptions): number;
export function clDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ClDiceOptions): number | Float64Array {
  const fn = 'segloss.clDiceLoss';
  const o = optionsObject(fn, options);
  const call = parsePoolCall(fn, o, input, target);
  // After (D − 1) + (H − 1) + (W − 1) erosions the plane is constant (its min), so every later δ is 0:
  // more iterations change nothing. Clamped there, which also bounds the work memory.
  const K = Math.min(countOption(fn, 'iterations', o.iterations, 3), call.D + call.H + call.W - 3);
  const s = positiveSmooth(fn, o.smooth, 1);
  const alpha = finite(fn, 'alpha', o.alpha, 1, 0, 1);
  const rt = runtime();
  const { kernels: k, workspace: ws } = rt;
  const { N, C, S } = call.shape;
  const B = Math.ceil(S / 4) * 16;
  // Every block is taken before any view is made (taking one may grow memory).
  const P = call.act === ACT.sigmoid ? ws.get('pool.p', B) : 0;
  const sG = ws.get('cl.sg', B), sP = ws.get('cl.sp', B);
  const work = ws.get('cl.work', k.skeletonWorkBytes(S, K));
  const sums = ws.get('pool.sums', 32);
  const stage = call.grad && !call.grad.wasm ? ws.get('pool.out', B) : 0;
  const { X, G } = stageInputs(rt, call);
  // The Dice part's options as null-prototype objects: nothing inherited (e.g. a polluted
  // Object.prototype) can make that call throw after the clDice gradient was written.
  const diceOptions = {
    shape: call.shape.dims, activation: call.act === ACT.sigmoid ? 'sigmoid' : 'none', smoothNr: s, smoothDr: s,
  } as const;
  const own = <T extends object>(o: T): T => Object.assign(Object.create(null) as T, o);
  if (alpha === 0) {
    return call.reduction === 'none'
      ? diceLoss(input, target, own({ ...diceOptions, reduction: 'none' as const }))
      : diceLoss(input, target, own({ ...diceOptions, reduction: call.reduction, ...(o.grad ? { grad: o.grad as ArrayArg<Float32Array> } : {}) }));
  }

  const sink = call.grad ? gradientSink(rt, call.grad, S, stage) : undefined;
  const losses = new Float64Array(N * C);
  // The clDice part of the gradient is scaled by α here; the Dice part is added below.
  const scale = alpha * (call.reduction === 'mean' ? 1 / (N * C) : 1);
  for (let e = 0; e < N * C; e++) {
    const xe = X + e * S * 4, ge = G + e * S * 4;
    const pe = P ? P : xe;
    if (P) k.poolSigmoid(xe, P, S);
    k.softSkeleton(ge, sG, work, call.D, call.H, call.W, K);
    k.softSkeleton(pe, sP, work, call.D, call.H, call.W, K); // last: its intermediates feed the gradient
    k.pairedSums(sP, ge, sG, pe, S, sums);
    const [sumSPG, sumSP, sumSGP, sumSG] = new Float64Array(rt.heap.buffer(), sums, 4);
    const tprec = (sumSPG! + s) / (sumSP! + s);
    const tsens = (sumSGP! + s) / (sumSG! + s);
    const sum = tprec + tsens;
    losses[e] = 1 - (2 * tprec * tsens) / sum;
    if (sink) {
      // dL/dTprec = −2Tsens²/(Tprec + Tsens)², dL/dTsens = −2Tprec²/(Tprec + Tsens)².
      const dTprec = (-2 * tsens * tsens) / (sum * sum), dTsens = (-2 * tprec * tprec) / (sum * sum);
      const cA = (scale * dTprec) / (sumSP! + s);
      k.clDiceGradient(xe, ge, sG, sink.ptr(e), work, call.D, call.H, call.W, K, call.act,
        cA, -cA * tprec, (scale * dTsens) / (sumSG! + s));
      sink.flush(e);
    }
  }
  if (alpha === 1) return reduce(losses, call.reduction);

  // The Dice part: (1 − α)·diceLoss, its gradient added to the clDice part's.
  if (call.reduction === 'none') {
    const dice = diceLoss(input, target, own({ ...diceOptions, reduction: 'none' as const }));
    return losses.map((v, e) => alpha * v + (1 - alpha) * dice[e]!);
  }
  const diceGrad = call.grad ? new Float32Array(call.x.length) : undefined;
  const dice = diceLoss(input, target, own({ ...diceOptions, reduction: call.reduction, ...(diceGrad ? { grad: diceGrad } : {}) }));
  if (call.grad && diceGrad) {
    // A fresh view: diceLoss may have grown the memory.
    const out = call.grad.wasm ? new Float32Array(rt.heap.buffer(), call.grad.ptr, call.grad.length) : call.grad.array as Float32Array;
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + (1 - alpha) * diceGrad[i]!;
  }
  return alpha * (reduce(losses, call.reduction) as number) + (1 - alpha) * dice;
}
