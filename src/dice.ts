// diceLoss: the soft Dice family (dice, Jaccard, squared denominator) with its
// analytic gradient. Kernels: assembly/dice.ts; float64 reference:
// src/reference/dice.ts.
import {
  operand, checkNoOverlap, optionsObject, oneOf, flag, finite, integer, parseShape, weights,
  type Operand, type Shape,
} from './args.ts';
import { stream, type Stream } from './driver.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { WasmArray } from './wasm-array.ts';

/** An input array, or the segloss-owned {@link WasmArray} that holds it. */
export type ArrayArg<T extends Float32Array | Uint8Array | Uint16Array | Int32Array> = T | WasmArray<T>;

/** Options of {@link diceLoss}. */
export interface DiceOptions {
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
  /** Denominator Σp² + Σg² instead of Σp + Σg. Default false. */
  squared?: boolean;
  /** Jaccard (IoU) form 1 − (I + snr)/(SP + SG − I + sdr) instead of Dice. Default false. */
  jaccard?: boolean;
  /** Added to the numerator. Finite, ≥ 0. Default 1e-5. */
  smoothNr?: number;
  /** Added to the denominator. Finite, ≥ 0. Default 1e-5. */
  smoothDr?: number;
  /** Sum over the batch too: one loss per class ("batch Dice"). Default false. */
  batch?: boolean;
  /** One non-negative weight per kept class, multiplied into its loss (not renormalised). */
  weight?: ArrayLike<number>;
  /** `'mean'` (default) or `'sum'` over the entries gives a number; `'none'` a Float64Array `[N, C_kept]` (`[C_kept]` with batch). */
  reduction?: 'mean' | 'sum' | 'none';
  /** Receives dLoss/dInput (of the reduced loss); as long as input, not overlapping any input. */
  grad?: ArrayArg<Float32Array>;
}

const FN = 'segloss.diceLoss';
const ACT = { none: 0, sigmoid: 1, softmax: 2 } as const;
const REDUCE = { mean: 0, sum: 1, none: 2 } as const;
const MASK_PIXEL = 1;
const MASK_ELEMENT = 2;
const DENSE = [Float32Array, Uint8Array] as const;
const INDICES = [Uint8Array, Uint16Array, Int32Array] as const;

/** Kernel code of a target: dense f32 / u8, or indices u8 / u16 / i32 (assembly/dice.ts). */
function targetKind(op: Operand, indices: boolean): number {
  if (!indices) return op.ctor === Float32Array ? 0 : 1;
  return op.ctor === Uint8Array ? 2 : op.ctor === Uint16Array ? 3 : 4;
}

/**
 * Soft Dice loss of `input` against `target`, per (sample, class), reduced.
 *
 * Per entry, with I = Σp·g, SP = Σp (Σp² when `squared`), SG = Σg (Σg²):
 * dice `1 − (2I + smoothNr)/(SP + SG + smoothDr)`, jaccard
 * `1 − (I + smoothNr)/(SP + SG − I + smoothDr)`. An entry whose denominator is
 * exactly 0 (smoothDr = 0 and nothing predicted, nothing labelled) is a
 * perfect match: loss 0, gradient 0. Semantics follow MONAI's `DiceLoss`.
 *
 * @param input probabilities, or logits with `activation`
 * @param target dense labels in [0, 1] (Float32Array or Uint8Array), or class ids with `target: 'indices'`
 * @returns the reduced loss, or the per-entry losses with `reduction: 'none'`
 * @throws TypeError / RangeError naming the argument, before anything is written to `grad`
 */
export function diceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options: DiceOptions & { reduction: 'none' }): Float64Array;
export function diceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options?: DiceOptions): number;
export function diceLoss(input: ArrayArg<Float32Array>, target: ArrayArg<Float32Array | Uint8Array | Uint16Array | Int32Array>, options?: DiceOptions): number | Float64Array {
  const rt = runtime();
  const { heap } = rt;
  const o = optionsObject(FN, options);
  const x = operand(FN, 'input', input, [Float32Array], heap);
  const shape = parseShape(FN, o.shape, x.length);
  const { N, C, S } = shape;
  const activation = oneOf(FN, 'activation', o.activation, ['none', 'sigmoid', 'softmax'] as const, 'none');
  const targetMode = oneOf(FN, 'target', o.target, ['dense', 'indices'] as const, 'dense');
  const indices = targetMode === 'indices';
  const g = operand(FN, 'target', target, indices ? INDICES : DENSE, heap);
  const expectTarget = indices ? N * S : x.length;
  if (g.length !== expectTarget) {
    throw new RangeError(`${FN}: target must have ${expectTarget} elements (${indices ? 'N × spatial class ids' : 'as many as input'}); got ${g.length}`);
  }
  const ignoreIndex = integer(FN, 'ignoreIndex', o.ignoreIndex);
  if (ignoreIndex !== undefined && !indices) throw new RangeError(`${FN}: options.ignoreIndex needs target: 'indices'`);
  if (ignoreIndex !== undefined && (ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31)) {
    throw new RangeError(`${FN}: options.ignoreIndex must be a 32-bit integer; got ${ignoreIndex}`);
  }
  if (activation === 'softmax' && C < 2) throw new RangeError(`${FN}: options.activation 'softmax' needs C >= 2 channels; shape has C = ${C}`);
  const includeBackground = flag(FN, 'includeBackground', o.includeBackground, true);
  if (!includeBackground && C < 2) throw new RangeError(`${FN}: options.includeBackground false needs C >= 2 channels; shape has C = ${C}`);
  const m = o.mask === undefined ? undefined : operand(FN, 'options.mask', o.mask, [Uint8Array], heap);
  let maskMode = 0;
  if (m) {
    if (m.length === N * S) maskMode = MASK_PIXEL;
    else if (m.length === x.length && activation !== 'softmax') maskMode = MASK_ELEMENT;
    else {
      throw new RangeError(activation === 'softmax'
        ? `${FN}: options.mask must have N × spatial = ${N * S} elements with softmax (a pixel is kept or ignored with all its channels); got ${m.length}`
        : `${FN}: options.mask must have N × spatial = ${N * S} or ${x.length} elements; got ${m.length}`);
    }
  }
  const squared = flag(FN, 'squared', o.squared, false);
  const jaccard = flag(FN, 'jaccard', o.jaccard, false);
  const smoothNr = finite(FN, 'smoothNr', o.smoothNr, 1e-5, 0);
  const smoothDr = finite(FN, 'smoothDr', o.smoothDr, 1e-5, 0);
  const batch = flag(FN, 'batch', o.batch, false);
  const cStart = includeBackground ? 0 : 1;
  const w = weights(FN, o.weight, C - cStart);
  const reduction = oneOf(FN, 'reduction', o.reduction, ['mean', 'sum', 'none'] as const, 'mean');
  const grad = o.grad === undefined ? undefined : operand(FN, 'options.grad', o.grad, [Float32Array], heap);
  if (grad) {
    if (reduction === 'none') throw new RangeError(`${FN}: options.grad needs reduction 'mean' or 'sum' (the gradient of a reduced loss)`);
    if (grad.length !== x.length) throw new RangeError(`${FN}: options.grad must have ${x.length} elements like input; got ${grad.length}`);
    checkNoOverlap(FN, 'options.grad', grad, [['input', x], ['target', g], ['options.mask', m]], heap);
  }

  const act = ACT[activation];
  const tgt = targetKind(g, indices);
  const streams: (Stream | undefined)[] = [
    { op: x, rows: C },
    { op: g, rows: indices ? 1 : C },
    m && { op: m, rows: maskMode === MASK_ELEMENT ? C : 1 },
  ];
  const entries = (batch ? 1 : N) * (C - cStart);
  return runDice(rt, shape, streams, grad, {
    act, tgt, maskMode, ignore: ignoreIndex ?? 0, hasIgnore: ignoreIndex !== undefined ? 1 : 0,
    squared, jaccard, smoothNr, smoothDr, batch, cStart, weights: w, reduction: REDUCE[reduction], entries,
  });
}

interface DiceCall {
  act: number; tgt: number; maskMode: number; ignore: number; hasIgnore: number;
  squared: boolean; jaccard: boolean; smoothNr: number; smoothDr: number; batch: boolean;
  cStart: number; weights: Float64Array | undefined; reduction: number; entries: number;
}

function runDice(rt: Runtime, shape: Shape, streams: (Stream | undefined)[], grad: Operand | undefined, call: DiceCall): number | Float64Array {
  const { kernels: k, workspace: ws, heap } = rt;
  const { N, C } = shape;
  // Every block this call needs is taken before any view is made.
  const stats = ws.get('stats', N * C * 24);
  const coef = grad ? ws.get('coef', N * C * 12) : 0;
  const losses = ws.get('losses', call.entries * 8);
  const wPtr = call.weights ? ws.get('weights', call.weights.length * 8) : 0;
  const scratch = ws.get('scratch', k.diceScratchBytes(C));
  new Float64Array(heap.buffer(), stats, N * C * 3).fill(0);

  let flags = 0;
  stream(rt, shape, streams, undefined, (ch) => {
    flags |= k.diceSums(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, stats + ch.n0 * C * 24, scratch,
      ch.samples, C, ch.length, ch.stride, call.act, call.tgt, call.maskMode, call.ignore, call.hasIgnore, call.squared ? 1 : 0);
  });
  if (flags) throw invalidValues(rt, streams, call, flags);

  if (call.weights) new Float64Array(heap.buffer(), wPtr, call.weights.length).set(call.weights);
  const loss = k.diceEpilogue(stats, N, C, call.cStart, call.batch ? 1 : 0, call.jaccard ? 1 : 0, call.squared ? 1 : 0,
    call.smoothNr, call.smoothDr, wPtr, call.reduction, losses, coef);
  if (grad) {
    stream(rt, shape, streams, grad, (ch) => {
      k.diceGradient(ch.ptrs[0]!, ch.ptrs[1]!, ch.ptrs[2]!, ch.out, coef + ch.n0 * C * 12, scratch,
        ch.samples, C, ch.length, ch.stride, call.act, call.tgt, call.maskMode, call.ignore, call.hasIgnore);
    });
  }
  return call.reduction === REDUCE.none ? new Float64Array(heap.buffer(), losses, call.entries).slice() : loss;
}

/** Builds the error for a pass-1 validation failure, naming the first bad element. */
function invalidValues(rt: Runtime, streams: (Stream | undefined)[], call: DiceCall, flags: number): RangeError {
  const view = (i: number) => {
    const op = streams[i]!.op;
    return op.wasm ? new op.ctor(rt.heap.buffer(), op.ptr, op.length) : op.array;
  };
  if (flags & 1) {
    const x = view(0);
    const i = x.findIndex((v) => !Number.isFinite(v));
    return new RangeError(`${FN}: input[${i}] is ${x[i]}; inputs must be finite`);
  }
  const g = view(1);
  if (call.tgt >= 2) {
    const C = streams[0]!.rows;
    const i = g.findIndex((v) => (v < 0 || v >= C) && !(call.hasIgnore && v === call.ignore));
    return new RangeError(`${FN}: target[${i}] is ${g[i]}; class indices must be in [0, ${C})${call.hasIgnore ? ` or equal ignoreIndex ${call.ignore}` : ''}`);
  }
  const i = g.findIndex((v) => !(v >= 0 && v <= 1));
  return new RangeError(`${FN}: target[${i}] is ${g[i]}; dense targets must be in [0, 1]`);
}
