// bceLoss / focalLoss argument errors: every bad argument throws a TypeError or RangeError naming it,
// before anything is written to `grad` (checked with a sentinel-filled gradient), on the JS heap, on
// multi-chunk inputs (the bad element in the last chunk) and on zero-copy WasmArrays.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, alloc, bceLoss, focalLoss } from '../src/index.ts';

const SENTINEL = 12345;
const sentinel = (n: number): Float32Array => new Float32Array(n).fill(SENTINEL);
const untouched = (g: ArrayLike<number>): boolean => Array.prototype.every.call(g, (v: number) => v === SENTINEL);

type Thrower = (grad: Float32Array) => unknown;

/** Expects `call` to throw `type` with a message matching `message`, leaving `grad` untouched. */
function expectError(call: Thrower, type: typeof TypeError | typeof RangeError, message: RegExp, n = 4): void {
  const grad = sentinel(n);
  let error: unknown;
  try { call(grad); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(untouched(grad)).toBe(true);
}

const p4 = (): Float32Array => new Float32Array([0.1, 0.5, 0.9, 0.3]);
const g4 = (): Float32Array => new Float32Array([0, 1, 1, 0]);

describe('bceLoss errors', () => {
  beforeAll(() => init());

  it('input and target types and lengths', () => {
    expectError((grad) => bceLoss([0.1, 0.2] as unknown as Float32Array, g4(), { grad }), TypeError, /^segloss\.bceLoss: input must be a Float32Array/);
    expectError((grad) => bceLoss(new Float64Array(4) as unknown as Float32Array, g4(), { grad }), TypeError, /input must be a Float32Array.*got Float64Array/);
    expectError((grad) => bceLoss(p4(), new Int32Array(4) as unknown as Uint8Array, { grad }), TypeError, /target must be a Float32Array or Uint8Array/);
    expectError((grad) => bceLoss(p4(), new Float32Array(3), { grad }), RangeError, /target must have 4 elements like input; got 3/);
    expectError(() => bceLoss(p4(), g4(), 'mean' as unknown as object), TypeError, /options must be an object/);
  });

  it('non-finite inputs, probabilities outside [0, 1], targets outside [0, 1]', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const activation of ['none', 'sigmoid'] as const) {
        const x = p4(); x[2] = bad;
        expectError((grad) => bceLoss(x, g4(), { activation, grad }), RangeError, new RegExp(`input\\[2\\] is ${bad}; inputs must be finite`));
      }
    }
    for (const bad of [-0.0078125, 1.5, -3]) { // exact in float32
      const x = p4(); x[1] = bad;
      expectError((grad) => bceLoss(x, g4(), { grad }), RangeError, new RegExp(`input\\[1\\] is ${bad}; probabilities \\(activation 'none'\\) must be in \\[0, 1\\]`));
      // The same values are fine as logits.
      expect(Number.isFinite(bceLoss(x, g4(), { activation: 'sigmoid' }))).toBe(true);
    }
    for (const bad of [NaN, -0.5, 1.0009765625, Infinity]) { // exact in float32
      const g = g4(); g[3] = bad;
      expectError((grad) => bceLoss(p4(), g, { grad }), RangeError, new RegExp(`target\\[3\\] is ${bad}; dense targets must be in \\[0, 1\\]`));
    }
    expectError((grad) => bceLoss(p4(), new Uint8Array([0, 1, 2, 0]), { grad }), RangeError, /target\[2\] is 2; dense targets must be in \[0, 1\]/);
  });

  it('option values', () => {
    const cases: [object, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ activation: 'softmax' }, RangeError, /options\.activation must be 'none', 'sigmoid'; got 'softmax'/],
      [{ balance: 'weighted' }, RangeError, /options\.balance must be 'none', 'hed', 'rcf'; got 'weighted'/],
      [{ posWeight: -1 }, RangeError, /options\.posWeight must be a finite number in \[0, 1e30\]; got -1/],
      [{ posWeight: Infinity }, RangeError, /options\.posWeight/],
      [{ posWeight: '2' }, TypeError, /options\.posWeight must be a number/],
      [{ labelSmoothing: 1 }, RangeError, /options\.labelSmoothing must be a finite number in \[0, 1\); got 1/],
      [{ labelSmoothing: -0.1 }, RangeError, /options\.labelSmoothing/],
      [{ balance: 'rcf', rcfEta: 0 }, RangeError, /options\.rcfEta must be a finite number in \(0, 1\); got 0/],
      [{ balance: 'rcf', rcfEta: 1 }, RangeError, /options\.rcfEta must be a finite number in \(0, 1\); got 1/],
      [{ balance: 'rcf', rcfEta: NaN }, RangeError, /options\.rcfEta/],
      [{ balance: 'rcf', rcfLambda: -0.5 }, RangeError, /options\.rcfLambda must be a finite number in \[0, 1e30\]/],
      [{ balance: 'hed', rcfEta: 0.5 }, RangeError, /options\.rcfEta needs balance: 'rcf'/],
      [{ rcfLambda: 1 }, RangeError, /options\.rcfLambda needs balance: 'rcf'/],
      [{ reduction: 'avg' }, RangeError, /options\.reduction must be 'mean', 'sum', 'none'/],
      [{ shape: [2, 1, 3] }, RangeError, /options\.shape \[2, 1, 3\] has 6 elements but input has 4/],
      [{ mask: new Uint8Array(3) }, RangeError, /options\.mask must have N × spatial = 4 or 4 elements; got 3/],
      [{ mask: new Float32Array(4) }, TypeError, /mask must be a Uint8Array/],
    ];
    for (const [o, type, message] of cases) expectError((grad) => bceLoss(p4(), g4(), { ...o, grad } as never), type, message);
  });

  it('grad: type, length, overlap, reduction none', () => {
    expectError(() => bceLoss(p4(), g4(), { grad: new Float64Array(4) as unknown as Float32Array }), TypeError, /grad must be a Float32Array/);
    expectError(() => bceLoss(p4(), g4(), { grad: new Float32Array(5) }), RangeError, /options\.grad must have 4 elements like input; got 5/);
    expectError((grad) => bceLoss(p4(), g4(), { reduction: 'none', grad } as never), RangeError, /options\.grad needs reduction 'mean' or 'sum'/);
    const buffer = new Float32Array(8).fill(0.5);
    expectError(() => bceLoss(buffer.subarray(0, 4), g4(), { grad: buffer.subarray(2, 6) }), RangeError, /options\.grad overlaps input/);
    const target = new Float32Array(8);
    expectError(() => bceLoss(p4(), target.subarray(0, 4), { grad: target.subarray(3, 7) }), RangeError, /options\.grad overlaps target/);
  });

  it('a bad element in the last chunk of a multi-chunk input leaves grad untouched (JS heap and zero copy)', () => {
    const n = 3 * 40_000;
    const x = new Float32Array(n).fill(0.25);
    const g = new Float32Array(n);
    x[n - 3] = NaN;
    expectError((grad) => bceLoss(x, g, { shape: [1, 3, 40_000], grad }), RangeError, new RegExp(`input\\[${n - 3}\\] is NaN`), n);
    x[n - 3] = 0.25;
    g[n - 1] = 2;
    expectError((grad) => bceLoss(x, g, { shape: [1, 3, 40_000], grad }), RangeError, new RegExp(`target\\[${n - 1}\\] is 2`), n);
    const wx = alloc(Float32Array, n), wg = alloc(Float32Array, n), wgrad = alloc(Float32Array, n);
    wx.view.fill(0.5); wgrad.view.fill(SENTINEL);
    wx.view[n - 2] = 1.25;
    expect(() => bceLoss(wx, wg, { grad: wgrad })).toThrow(new RangeError(`segloss.bceLoss: input[${n - 2}] is 1.25; probabilities (activation 'none') must be in [0, 1]`));
    expect(untouched(wgrad.view)).toBe(true);
    for (const w of [wx, wg, wgrad]) w.free();
  });
});

describe('focalLoss errors', () => {
  beforeAll(() => init());

  it('binary forms: values and options', () => {
    const x = p4(); x[0] = Infinity;
    expectError((grad) => focalLoss(x, g4(), { grad }), RangeError, /^segloss\.focalLoss: input\[0\] is Infinity; inputs must be finite/);
    const g = g4(); g[1] = -1;
    expectError((grad) => focalLoss(p4(), g, { activation: 'sigmoid', grad }), RangeError, /target\[1\] is -1; dense targets must be in \[0, 1\]/);
    const cases: [object, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ gamma: -0.5 }, RangeError, /options\.gamma must be a finite number >= 0; got -0.5/],
      [{ gamma: NaN }, RangeError, /options\.gamma/],
      [{ alpha: -0.5 }, RangeError, /options\.alpha must be a finite number in \[0, 1\]; got -0.5/],
      [{ alpha: 1.5 }, RangeError, /options\.alpha must be a finite number in \[0, 1\]; got 1.5/],
      [{ alpha: 'none' }, TypeError, /options\.alpha must be a number/],
      [{ weight: [1] }, RangeError, /options\.weight needs activation 'softmax'/],
      [{ ignoreIndex: 0 }, RangeError, /options\.ignoreIndex needs activation 'softmax'/],
      [{ target: 'indices' }, RangeError, /options\.target 'indices' does not fit activation 'none'/],
      [{ activation: 'relu' }, RangeError, /options\.activation must be 'none', 'sigmoid', 'softmax'/],
    ];
    for (const [o, type, message] of cases) expectError((grad) => focalLoss(p4(), g4(), { ...o, grad } as never), type, message);
    // alpha: null and −1 disable the weighting (torchvision's alpha < 0).
    expect(focalLoss(p4(), g4(), { alpha: null })).toBe(focalLoss(p4(), g4(), { alpha: -1 }));
  });

  it('softmax form: channels, indices, options', () => {
    const x = new Float32Array(6).fill(0.5);
    const shape = [1, 3, 2];
    expectError((grad) => focalLoss(x, new Uint8Array([0, 3]), { activation: 'softmax', shape, grad }), RangeError, /target\[1\] is 3; class indices must be in \[0, 3\)/, 6);
    expectError((grad) => focalLoss(x, new Int32Array([-1, 0]), { activation: 'softmax', shape, ignoreIndex: 255, grad }), RangeError, /target\[0\] is -1; class indices must be in \[0, 3\) or equal ignoreIndex 255/, 6);
    const bad = x.slice(); bad[5] = NaN;
    expectError((grad) => focalLoss(bad, new Uint8Array([0, 1]), { activation: 'softmax', shape, grad }), RangeError, /input\[5\] is NaN/, 6);
    const cases: [object, typeof TypeError | typeof RangeError, RegExp][] = [
      [{ shape: [1, 1, 6] }, RangeError, /options\.activation 'softmax' needs C >= 2 channels; shape has C = 1/],
      [{ target: 'dense' }, RangeError, /options\.target 'dense' does not fit activation 'softmax'/],
      [{ alpha: 0.25 }, RangeError, /options\.alpha applies to the binary forms/],
      [{ weight: [1, 1] }, RangeError, /options\.weight must have one entry per kept class \(3\); got 2/],
      [{ weight: [1, -1, 1] }, RangeError, /options\.weight\[1\] must be a number in \[0, 1e30\]/],
      [{ ignoreIndex: 1.5 }, RangeError, /options\.ignoreIndex must be an integer/],
      [{ mask: new Uint8Array(6) }, RangeError, /options\.mask must have N × spatial = 2 elements with softmax/],
      [{ gamma: -1 }, RangeError, /options\.gamma/],
    ];
    for (const [o, type, message] of cases) {
      expectError((grad) => focalLoss(x, new Uint8Array([0, 1]), { activation: 'softmax', shape, ...o, grad } as never), type, message, 6);
    }
    expectError((grad) => focalLoss(x, new Float32Array(2) as unknown as Uint8Array, { activation: 'softmax', shape, grad }), TypeError, /target must be a Uint8Array or Uint16Array or Int32Array/, 6);
    expectError((grad) => focalLoss(x, new Uint8Array(3), { activation: 'softmax', shape, grad }), RangeError, /target must have 2 elements \(N × spatial class ids\); got 3/, 6);
  });
});
