// toleranceDiceLoss: soft Dice in which a prediction within `tolerance` pixels of a true edge counts
// as a hit. Kernels: assembly/pool.ts; float64 reference: src/reference/pool.ts. This file also holds
// the argument parsing and staging shared by the pooling losses (clDiceLoss in src/skeleton.ts).
import { operand, checkNoOverlap, optionsObject, oneOf, finite, parseShape, operandView, type Operand, type Shape } from './args.ts';
import { ACT } from './codes.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { ArrayArg } from './dice.ts';

/** Options shared by the pooling losses ({@link toleranceDiceLoss}, `clDiceLoss`). */
export interface PoolLossOptions {
  /** `[N, C, H, W]` or `[N, C, D, H, W]`, channels first; every (sample, class) plane is one entry. Required. */
  shape: readonly number[];
  /** `'none'` (input holds probabilities in [0, 1], default) or `'sigmoid'` (input holds logits). */
  activation?: 'none' | 'sigmoid';
  /** `'mean'` over the N·C entries (default) or `'sum'` give a number; `'none'` a Float64Array `[N, C]`. */
  reduction?: 'mean' | 'sum' | 'none';
  /** Receives dLoss/dInput of the reduced loss; as long as input, not overlapping any input. */
  grad?: ArrayArg<Float32Array>;
}

/** Options of {@link toleranceDiceLoss}. */
export interface ToleranceDiceOptions extends PoolLossOptions {
  /**
   * Chebyshev radius r, an integer ≥ 0: a prediction counts as a hit when a target pixel lies in the
   * (2r+1)×(2r+1) square (cube in 3-D) around it, diagonal neighbours included. Default 1. 0 is soft Dice;
   * a radius of at least the largest extent minus 1 is the whole plane.
   */
  tolerance?: number;
  /**
   * Smoothing s > 0, split evenly between precision and recall ((TP + s/2)/(Σ + s/2)), so that
   * tolerance 0 gives exactly {@link diceLoss} with smoothNr = smoothDr = s. Default 1e-5.
   */
  smooth?: number;
}

/** A checked call of a pooling loss. */
export interface PoolCall {
  fn: string;
  shape: Shape;
  /** Plane extents: D = 1 for 2-D. */
  D: number; H: number; W: number;
  x: Operand;
  g: Operand;
  grad: Operand | undefined;
  act: number;
  reduction: 'mean' | 'sum' | 'none';
}

/** Parses the options every pooling loss shares; throws TypeError / RangeError naming the argument. */
export function parsePoolCall(fn: string, o: Record<string, unknown>, input: unknown, target: unknown): PoolCall {
  const { heap } = runtime();
  const x = operand(fn, 'input', input, [Float32Array], heap);
  if (o.shape === undefined) throw new TypeError(`${fn}: options.shape is required: [N, C, H, W] or [N, C, D, H, W]`);
  const shape = parseShape(fn, o.shape, x.length);
  if (shape.dims.length !== 4 && shape.dims.length !== 5) {
    throw new RangeError(`${fn}: options.shape must be [N, C, H, W] or [N, C, D, H, W]; got ${shape.dims.length} entries`);
  }
  const [D, H, W] = shape.dims.length === 4 ? [1, shape.dims[2]!, shape.dims[3]!] : shape.dims.slice(2) as [number, number, number];
  if (shape.S >= 2 ** 31) throw new RangeError(`${fn}: options.shape has a plane of ${shape.S} elements; at most 2^31 − 1`);
  const activation = oneOf(fn, 'activation', o.activation, ['none', 'sigmoid'] as const, 'none');
  const g = operand(fn, 'target', target, [Float32Array, Uint8Array], heap);
  if (g.length !== x.length) throw new RangeError(`${fn}: target must have ${x.length} elements like input; got ${g.length}`);
  const reduction = oneOf(fn, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const grad = o.grad === undefined ? undefined : operand(fn, 'options.grad', o.grad, [Float32Array], heap);
  if (grad) {
    if (reduction === 'none') throw new RangeError(`${fn}: options.grad needs reduction 'mean' or 'sum' (the gradient of a reduced loss)`);
    if (grad.length !== x.length) throw new RangeError(`${fn}: options.grad must have ${x.length} elements like input; got ${grad.length}`);
    checkNoOverlap(fn, 'options.grad', grad, [['input', x], ['target', g]], heap);
  }
  return { fn, shape, D, H, W, x, g, grad, act: ACT[activation], reduction };
}

/** A finite smoothing s > 0 (0 would allow 0/0 on empty planes). */
export function positiveSmooth(fn: string, value: unknown, fallback: number): number {
  const s = finite(fn, 'smooth', value, fallback, 0);
  if (s === 0) throw new RangeError(`${fn}: options.smooth must be a finite number > 0; got 0`);
  return s;
}

/** An integer option ≥ 0. */
export function countOption(fn: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${fn}: options.${name} must be an integer >= 0; got ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${fn}: options.${name} must be an integer >= 0; got ${value}`);
  return value;
}

/**
 * Input and target as f32 arrays in Wasm memory (an f32 WasmArray is used in place, anything else is
 * copied; u8 targets are converted), checked by the kernel. Throws before anything is written.
 * Returns their pointers; take every other workspace block first or re-derive views afterwards.
 */
export function stageInputs(rt: Runtime, call: PoolCall): { X: number; G: number } {
  const n = call.x.length;
  const X = call.x.wasm ? call.x.ptr : rt.workspace.get('pool.x', n * 4);
  const G = call.g.wasm && call.g.ctor === Float32Array ? call.g.ptr : rt.workspace.get('pool.g', n * 4);
  const buffer = rt.heap.buffer();
  if (!call.x.wasm) new Float32Array(buffer, X, n).set(call.x.array as Float32Array);
  if (!(call.g.wasm && call.g.ctor === Float32Array)) new Float32Array(buffer, G, n).set(operandView(call.g, rt.heap));
  const flags = rt.kernels.poolCheck(X, G, n, call.act);
  if (flags & 1) {
    const x = operandView(call.x, rt.heap);
    const sigmoid = call.act === ACT.sigmoid;
    const i = x.findIndex((v) => (sigmoid ? !Number.isFinite(v) : !(v >= 0 && v <= 1)));
    throw new RangeError(sigmoid
      ? `${call.fn}: input[${i}] is ${x[i]}; logits must be finite`
      : `${call.fn}: input[${i}] is ${x[i]}; with activation 'none' inputs must be probabilities in [0, 1]`);
  }
  if (flags & 2) {
    const g = operandView(call.g, rt.heap);
    const i = g.findIndex((v) => !(v >= 0 && v <= 1));
    throw new RangeError(`${call.fn}: target[${i}] is ${g[i]}; targets must be in [0, 1]`);
  }
  return { X, G };
}

/** Where a plane's gradient goes: straight into a Wasm grad, or through `stage` into a JS one. */
export function gradientSink(rt: Runtime, grad: Operand, S: number, stage: number): { ptr(plane: number): number; flush(plane: number): void } {
  if (grad.wasm) return { ptr: (e) => grad.ptr + e * S * 4, flush: () => undefined };
  return {
    ptr: () => stage,
    flush: (e) => (grad.array as Float32Array).set(new Float32Array(rt.heap.buffer(), stage, S), e * S),
  };
}

/** The reduced loss of per-entry losses. */
export function reduce(losses: Float64Array, reduction: 'mean' | 'sum' | 'none'): number | Float64Array {
  if (reduction === 'none') return losses;
  let total = 0;
  for (const v of losses) total += v;
  return reduction === 'mean' ? total / losses.length : total;
}

/**
 * Soft Dice with a distance tolerance: a predicted pixel within `tolerance` pixels (Chebyshev distance:
 * the (2r+1)² square, (2r+1)³ cube in 3-D) of a target pixel counts as a true positive, and a target
 * pixel with a prediction within `tolerance` counts as found. Per (sample, class) plane, with
 * B_r(·) the max over that window (the dilation of a binary map), h = smooth/2:
 *
 *   TPp = Σ p·B_r(g),  Prec = (TPp + h)/(Σp + h)       (precision: predictions near an edge)
 *   TPr = Σ g·B_r(p),  Rec  = (TPr + h)/(Σg + h)       (recall: edges with a prediction near them)
 *   loss = 1 − F,  F = 2·Prec·Rec/(Prec + Rec)
 *
 * With tolerance 0, B_0 is the identity and F = (2Σpg + s)/(Σp + Σg + s): exactly {@link diceLoss} with
 * smoothNr = smoothDr = s. Gradient: dF/dp_i = ∂F/∂Prec·(B_r(g)_i − Prec)/(Σp + h) +
 * ∂F/∂Rec·Σ_{j: argmax B_r(p)_j = i} g_j/(Σg + h), with ∂F/∂Prec = 2Rec²/(Prec + Rec)² (and symmetrically):
 * the max-pool passes each window's gradient to its argmax (ties: the smallest flat index; a
 * subgradient). B_r(g) is a constant. Smoothing > 0 keeps every ratio in (0, 1]: an empty target and an
 * empty prediction give loss 0; everything is finite for valid inputs.
 *
 * @param input probabilities in [0, 1], or logits with `activation: 'sigmoid'` (Float32Array or WasmArray)
 * @param target labels in [0, 1] (Float32Array or Uint8Array), laid out like input
 * @returns the reduced loss, or the per-entry losses `[N, C]` with `reduction: 'none'`
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function toleranceDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ToleranceDiceOptions & { reduction: 'none' }): Float64Array;
export function toleranceDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ToleranceDiceOptions): number;
export function toleranceDiceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array>, options: ToleranceDiceOptions): number | Float64Array {
  const fn = 'segloss.toleranceDiceLoss';
  const o = optionsObject(fn, options);
  const call = parsePoolCall(fn, o, input, target);
  // A radius beyond the largest extent covers the same (whole) axes: clamped, which also keeps it an i32.
  const r = Math.min(countOption(fn, 'tolerance', o.tolerance, 1), Math.max(call.D, call.H, call.W) - 1);
  const h = positiveSmooth(fn, o.smooth, 1e-5) / 2;
  const rt = runtime();
  const { kernels: k, workspace: ws } = rt;
  const { N, C, S } = call.shape;
  const B = Math.ceil(S / 4) * 16;
  // Every block is taken before any view is made (taking one may grow memory).
  const P = call.act === ACT.sigmoid ? ws.get('pool.p', B) : 0;
  const dG = ws.get('tol.dg', B), mP = ws.get('tol.mp', B), arg = ws.get('tol.arg', B);
  const temp = ws.get('pool.temp', k.maxPoolTempBytes(S));
  const sums = ws.get('pool.sums', 32);
  const stage = call.grad && !call.grad.wasm ? ws.get('pool.out', B) : 0;
  const { X, G } = stageInputs(rt, call);
  const sink = call.grad ? gradientSink(rt, call.grad, S, stage) : undefined;
  const losses = new Float64Array(N * C);
  const scale = call.reduction === 'mean' ? 1 / (N * C) : 1;
  for (let e = 0; e < N * C; e++) {
    const xe = X + e * S * 4, ge = G + e * S * 4;
    const pe = P ? P : xe;
    if (P) k.poolSigmoid(xe, P, S);
    k.maxPoolBox(ge, dG, arg, call.D, call.H, call.W, r, temp);
    k.maxPoolBox(pe, mP, arg, call.D, call.H, call.W, r, temp);
    k.pairedSums(pe, dG, ge, mP, S, sums);
    const [tpp, sumP, tpr, sumG] = new Float64Array(rt.heap.buffer(), sums, 4);
    const prec = (tpp! + h) / (sumP! + h);
    const rec = (tpr! + h) / (sumG! + h);
    const sum = prec + rec;
    losses[e] = 1 - (2 * prec * rec) / sum;
    if (sink) {
      // dL/dPrec = −2Rec²/(Prec + Rec)², dL/dRec = −2Prec²/(Prec + Rec)².
      const dPrec = (-2 * rec * rec) / (sum * sum), dRec = (-2 * prec * prec) / (sum * sum);
      const a = (scale * dPrec) / (sumP! + h);
      k.toleranceGradient(xe, dG, ge, arg, sink.ptr(e), S, call.act, a, -a * prec, (scale * dRec) / (sumG! + h));
      sink.flush(e);
    }
  }
  return reduce(losses, call.reduction);
}
