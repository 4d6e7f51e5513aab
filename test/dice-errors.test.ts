// Bad input to diceLoss: each case checks the error class (TypeError for a
// value of the wrong type, RangeError for a value of the right type outside
// what is accepted), that the message names the argument as the caller wrote
// it, and that a gradient array passed in was not written.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, alloc, diceLoss, diceLossReference, type DiceOptions } from '../src/index.ts';

beforeAll(async () => {
  await init();
});

const N = 2, C = 3, S = 13; // 13 = one block of 8 + a tail of 5 per row
const n = N * C * S;
const SENTINEL = 7;

/** Deterministic valid data: logits in ±3, soft targets, class ids, masks of ones. */
const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 3);
const soft = Float32Array.from({ length: n }, (_, i) => (i % 5) / 4);
const labels = Uint8Array.from({ length: N * S }, (_, i) => i % C);
const shape = [N, C, S];

type Thrower = (grad: Float32Array) => unknown;
type ErrorClass = TypeErrorConstructor | RangeErrorConstructor | ErrorConstructor;

/** `name` as a whole token: 'input' must not match inside 'options.input' or 'inputs'. */
function namesArgument(message: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.])${escaped}(?![\\w])`).test(message);
}

/**
 * Runs `call` with a gradient pre-filled with the sentinel (or with `grad`, if
 * the case is about the gradient itself) and checks the error and the gradient.
 */
function expectRejected(call: Thrower, errorClass: ErrorClass, name: string, grad = new Float32Array(n).fill(SENTINEL)): Error {
  const before = grad.slice();
  let error: unknown;
  try {
    call(grad);
  } catch (e) {
    error = e;
  }
  expect(error, 'no error was thrown').toBeInstanceOf(Error);
  const e = error as Error;
  expect(e.constructor.name, e.message).toBe(errorClass.name);
  expect(e.message.startsWith('segloss.diceLoss: '), e.message).toBe(true);
  expect(namesArgument(e.message, name), `message should name ${name}: ${e.message}`).toBe(true);
  expect(Array.from(grad), 'grad was written').toEqual(Array.from(before));
  return e;
}

/** A valid sigmoid call with a dense f32 target, with `patch` applied to its options. */
const sigmoid = (patch: Record<string, unknown> = {}, input: unknown = logits, target: unknown = soft): Thrower => (grad) =>
  diceLoss(input as Float32Array, target as Float32Array, { shape, activation: 'sigmoid', grad, ...patch } as DiceOptions);

/** A valid call with class-id targets. */
const indexed = (patch: Record<string, unknown> = {}, target: unknown = labels, input: unknown = logits): Thrower => (grad) =>
  diceLoss(input as Float32Array, target as Uint8Array, { shape, activation: 'softmax', target: 'indices', grad, ...patch } as DiceOptions);

describe('the valid baselines are accepted', () => {
  it('sigmoid + dense target and softmax + indices give finite losses and write grad', () => {
    for (const call of [sigmoid(), indexed()]) {
      const grad = new Float32Array(n).fill(SENTINEL);
      expect(Number.isFinite(call(grad))).toBe(true);
      expect(grad.some((v) => v !== SENTINEL)).toBe(true);
    }
  });
});

describe('wrong array types → TypeError', () => {
  const cases: [string, Thrower, string][] = [
    ['Float64Array input', sigmoid({}, Float64Array.from(logits)), 'input'],
    ['Array input', sigmoid({}, Array.from(logits)), 'input'],
    ['Int8Array input', sigmoid({}, new Int8Array(n)), 'input'],
    ['null input', sigmoid({}, null), 'input'],
    ['Int8Array dense target', sigmoid({}, logits, new Int8Array(n)), 'target'],
    ['Float64Array dense target', sigmoid({}, logits, Float64Array.from(soft)), 'target'],
    ['Uint16Array dense target', sigmoid({}, logits, new Uint16Array(n)), 'target'],
    ['Array dense target', sigmoid({}, logits, Array.from(soft)), 'target'],
    ['Float32Array class indices', indexed({}, new Float32Array(N * S)), 'target'],
    ['Int8Array class indices', indexed({}, new Int8Array(N * S)), 'target'],
    ['Float32Array mask', sigmoid({ mask: new Float32Array(N * S).fill(1) }), 'options.mask'],
    ['Array mask', sigmoid({ mask: new Array(N * S).fill(1) }), 'options.mask'],
    ['options not an object', (grad) => diceLoss(logits, soft, 5 as unknown as DiceOptions) ?? grad, 'options'],
  ];
  for (const [name, call, arg] of cases) it(`${name} names ${arg}`, () => expectRejected(call, TypeError, arg));

  it('Float64Array grad names options.grad and is not written', () => {
    const grad = new Float64Array(n).fill(SENTINEL);
    expectRejected(() => diceLoss(logits, soft, { shape, grad: grad as unknown as Float32Array }), TypeError, 'options.grad');
    expect(grad.every((v) => v === SENTINEL)).toBe(true);
  });

  it('Array grad names options.grad', () => {
    expectRejected(() => diceLoss(logits, soft, { shape, grad: new Array(n).fill(0) as unknown as Float32Array }), TypeError, 'options.grad');
  });

  it('a WasmArray of the wrong element type names the argument', () => {
    const wrong = alloc(Int32Array, n);
    try {
      expectRejected(sigmoid({}, wrong), TypeError, 'input');
    } finally {
      wrong.free();
    }
  });
});

describe('lengths that do not match → RangeError', () => {
  const cases: [string, Thrower, string][] = [
    ['shape product 72 for 78 inputs', sigmoid({ shape: [2, 3, 12] }), 'options.shape'],
    ['shape product 156 for 78 inputs', sigmoid({ shape: [4, 3, 13] }), 'options.shape'],
    ['dense target one element short', sigmoid({}, logits, soft.subarray(1)), 'target'],
    ['dense target one element long', sigmoid({}, logits, new Float32Array(n + 1)), 'target'],
    ['dense target without a shape', (grad) => diceLoss(logits, soft.subarray(1), { grad }), 'target'],
    ['class indices N·C·S long instead of N·S', indexed({}, new Uint8Array(n)), 'target'],
    ['class indices one short', indexed({}, labels.subarray(1)), 'target'],
    ['mask of 25 (N·S is 26)', sigmoid({ mask: new Uint8Array(25).fill(1) }), 'options.mask'],
    ['mask of 77 (N·C·S is 78)', sigmoid({ mask: new Uint8Array(77).fill(1) }), 'options.mask'],
    ['per-element mask with softmax', indexed({ mask: new Uint8Array(n).fill(1) }), 'options.mask'],
  ];
  for (const [name, call, arg] of cases) it(`${name} names ${arg}`, () => expectRejected(call, RangeError, arg));

  it('grad one element short names options.grad and is not written', () => {
    const grad = new Float32Array(n - 1).fill(SENTINEL);
    expectRejected(sigmoid(), RangeError, 'options.grad', grad);
  });
});

describe('bad shapes', () => {
  const ranges: [string, unknown][] = [
    ['a 0 entry', [0, 3, 13]],
    ['a negative entry', [2, -3, -13]],
    ['a 1.5 entry', [2, 3, 6.5, 2]],
    ['a NaN entry', [2, NaN, 13]],
    ['an Infinity entry', [2, 3, Infinity]],
    ['2 entries', [6, 13]],
    ['1 entry', [78]],
    ['no entries', []],
  ];
  for (const [name, value] of ranges) it(`${name} → RangeError naming options.shape`, () => expectRejected(sigmoid({ shape: value }), RangeError, 'options.shape'));

  it('a string entry → TypeError naming options.shape (a value of the wrong type, like a string smoothNr)', () => {
    expectRejected(sigmoid({ shape: [2, '3', 13] }), TypeError, 'options.shape');
  });
  it('a string shape → TypeError naming options.shape', () => {
    expectRejected(sigmoid({ shape: '2,3,13' }), TypeError, 'options.shape');
  });
});

describe('bad options', () => {
  const cases: [string, Record<string, unknown>, ErrorClass, string][] = [
    ["activation 'relu'", { activation: 'relu' }, RangeError, 'options.activation'],
    ["target 'onehot'", { target: 'onehot' }, RangeError, 'options.target'],
    ["reduction 'max'", { reduction: 'max' }, RangeError, 'options.reduction'],
    ['smoothNr -1', { smoothNr: -1 }, RangeError, 'options.smoothNr'],
    ['smoothNr NaN', { smoothNr: NaN }, RangeError, 'options.smoothNr'],
    ['smoothNr Infinity', { smoothNr: Infinity }, RangeError, 'options.smoothNr'],
    ["smoothNr '1'", { smoothNr: '1' }, TypeError, 'options.smoothNr'],
    ['smoothDr -1e-5', { smoothDr: -1e-5 }, RangeError, 'options.smoothDr'],
    ['smoothDr NaN', { smoothDr: NaN }, RangeError, 'options.smoothDr'],
    ['smoothDr Infinity', { smoothDr: Infinity }, RangeError, 'options.smoothDr'],
    ['weight with 2 entries for 3 classes', { weight: [1, 1] }, RangeError, 'options.weight'],
    ['weight with 3 entries for 2 kept classes', { weight: [1, 1, 1], includeBackground: false }, RangeError, 'options.weight'],
    ['negative weight', { weight: [1, -1, 1] }, RangeError, 'options.weight'],
    ['NaN weight', { weight: [1, NaN, 1] }, RangeError, 'options.weight'],
    ['Infinity weight', { weight: [1, 1, Infinity] }, RangeError, 'options.weight'],
    ["includeBackground 'no'", { includeBackground: 'no' }, TypeError, 'options.includeBackground'],
    ['includeBackground false with C = 1', { includeBackground: false, shape: [2, 1, 39] }, RangeError, 'options.includeBackground'],
    ['softmax with C = 1', { activation: 'softmax', shape: [2, 1, 39] }, RangeError, 'options.activation'],
    ['ignoreIndex with a dense target', { ignoreIndex: 0 }, RangeError, 'options.ignoreIndex'],
    ["grad with reduction 'none'", { reduction: 'none' }, RangeError, 'options.grad'],
  ];
  for (const [name, patch, errorClass, arg] of cases) {
    it(`${name} → ${errorClass.name} naming ${arg}`, () => expectRejected(sigmoid(patch), errorClass, arg));
  }

  const indexCases: [string, Record<string, unknown>, ErrorClass, string][] = [
    ['ignoreIndex 1.5', { ignoreIndex: 1.5 }, RangeError, 'options.ignoreIndex'],
    ["ignoreIndex '255'", { ignoreIndex: '255' }, TypeError, 'options.ignoreIndex'],
    ['ignoreIndex 2^31', { ignoreIndex: 2 ** 31 }, RangeError, 'options.ignoreIndex'],
  ];
  for (const [name, patch, errorClass, arg] of indexCases) {
    it(`${name} → ${errorClass.name} naming ${arg}`, () => expectRejected(indexed(patch), errorClass, arg));
  }
});

describe('grad overlapping an input → RangeError naming options.grad', () => {
  it('grad is input itself', () => {
    const input = logits.slice();
    expectRejected(() => diceLoss(input, soft, { shape, grad: input }), RangeError, 'options.grad');
    expect(Array.from(input)).toEqual(Array.from(logits));
  });

  it('grad and input are overlapping ranges of one buffer (either order)', () => {
    for (const [inputAt, gradAt] of [[0, 40], [40, 0], [1, 78]]) {
      const buffer = new Float32Array(200);
      buffer.set(logits, inputAt);
      const grad = buffer.subarray(gradAt, gradAt + n);
      grad.fill(SENTINEL);
      buffer.set(logits, inputAt); // the input wins where they overlap
      const snapshot = buffer.slice();
      const input = buffer.subarray(inputAt, inputAt + n);
      let error: unknown;
      try {
        diceLoss(input, soft, { shape, activation: 'sigmoid', grad });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RangeError);
      expect(namesArgument((error as Error).message, 'options.grad')).toBe(true);
      expect(Array.from(buffer)).toEqual(Array.from(snapshot));
    }
  });

  it('grad overlapping the dense target or the mask (bytes of one buffer)', () => {
    const buffer = new ArrayBuffer(4 * n + 64);
    const target = new Float32Array(buffer, 0, n);
    target.set(soft);
    const grad = new Float32Array(buffer, 4 * 10, n);
    expect(() => diceLoss(logits, target, { shape, grad })).toThrow(RangeError);
    const mask = new Uint8Array(buffer, 4 * n - 8, N * S).fill(1);
    const grad2 = new Float32Array(buffer, 4 * n - 4, 8 * 2);
    expect(() => diceLoss(logits.subarray(0, 16), soft.subarray(0, 16), { shape: [1, 1, 16], mask: mask.subarray(0, 16), grad: grad2 })).toThrow(/options\.grad overlaps/);
  });

  it('grad right next to input (touching, not overlapping) is accepted', () => {
    const buffer = new Float32Array(2 * n);
    buffer.set(logits);
    const grad = buffer.subarray(n);
    expect(Number.isFinite(diceLoss(buffer.subarray(0, n), soft, { shape, activation: 'sigmoid', grad }))).toBe(true);
  });
});

describe('non-finite inputs → RangeError naming input, before grad is written', () => {
  // Index 3 is in the first 8-lane block of row 0; 77 is the last element,
  // in the 5-element tail of the last row; 21 = row 1, s = 8: first tail lane.
  const positions = [3, 21, 77];
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const at of positions) {
      it(`${bad} at input[${at}], sigmoid and 'none'`, () => {
        for (const activation of ['sigmoid', 'none'] as const) {
          const input = activation === 'none' ? soft.slice() : logits.slice();
          input[at] = bad;
          const e = expectRejected(sigmoid({ activation }, input), RangeError, 'input');
          expect(e.message).toContain(`input[${at}]`);
        }
      });
    }
    it(`${bad} at input[21] with softmax`, () => {
      const input = logits.slice();
      input[21] = bad;
      expectRejected(indexed({}, labels, input), RangeError, 'input');
    });
    it(`${bad} inside a masked-out element (per-pixel and per-element masks, softmax and sigmoid) is still rejected`, () => {
      for (const at of [5, 77]) {
        const input = logits.slice();
        input[at] = bad;
        const s = at % S, sample = Math.floor(at / (C * S));
        const pixelMask = new Uint8Array(N * S).fill(1);
        pixelMask[sample * S + s] = 0;
        const elementMask = new Uint8Array(n).fill(1);
        elementMask[at] = 0;
        expectRejected(sigmoid({ mask: pixelMask }, input), RangeError, 'input');
        expectRejected(sigmoid({ mask: elementMask }, input), RangeError, 'input');
        expectRejected(indexed({ mask: pixelMask }, labels, input), RangeError, 'input');
      }
    });
  }

  it('NaN with zero-copy arrays (WasmArray input and grad): grad untouched', () => {
    const input = alloc(Float32Array, n);
    const grad = alloc(Float32Array, n);
    try {
      input.view.set(logits);
      input.view[77] = NaN;
      grad.view.fill(SENTINEL);
      expect(() => diceLoss(input, soft, { shape, activation: 'sigmoid', grad })).toThrow(RangeError);
      expect(grad.view.every((v) => v === SENTINEL)).toBe(true);
    } finally {
      input.free();
      grad.free();
    }
  });

  it('Infinity in the last element of a chunked [2, 2, 300, 301] input: RangeError, grad untouched', () => {
    const size = 2 * 2 * 300 * 301;
    const input = Float32Array.from({ length: size }, (_, i) => Math.sin(i));
    input[size - 1] = Infinity;
    const target = new Float32Array(size).fill(1);
    const grad = new Float32Array(size).fill(SENTINEL);
    expect(() => diceLoss(input, target, { shape: [2, 2, 300, 301], activation: 'sigmoid', grad })).toThrow(/input\[361199\]/);
    expect(grad.every((v) => v === SENTINEL)).toBe(true);
  });
});

describe('finite inputs whose sums overflow float32 → RangeError naming input, grad untouched', () => {
  for (const [name, value, form] of [['3e38', 3e38, {}], ['1e20, squared', 1e20, { squared: true }]] as const) {
    it(name, () => {
      const input = new Float32Array(n).fill(value);
      const grad = new Float32Array(n).fill(SENTINEL);
      expect(() => diceLoss(input, soft, { shape, activation: 'none', grad, ...form })).toThrow(/input's sums overflow float32/);
      expect(grad.every((v) => v === SENTINEL)).toBe(true);
      expectRejected(sigmoid({ activation: 'none', ...form }, input), RangeError, 'input');
    });
  }
});

describe('targets out of range → RangeError naming target', () => {
  for (const bad of [-0.5, 1.5, NaN, Infinity, -1e-7]) {
    for (const at of [3, 77]) {
      it(`dense f32 target ${bad} at [${at}]`, () => {
        const target = soft.slice();
        target[at] = bad;
        expectRejected(sigmoid({}, logits, target), RangeError, 'target');
      });
    }
  }
  it('dense u8 target 2 (main block and tail)', () => {
    for (const at of [3, 77]) {
      const target = new Uint8Array(n).fill(1);
      target[at] = 2;
      expectRejected(sigmoid({}, logits, target), RangeError, 'target');
    }
  });
  it('dense target out of range inside a masked-out element is still rejected', () => {
    const target = soft.slice();
    target[77] = 3;
    const mask = new Uint8Array(n).fill(1);
    mask[77] = 0;
    expectRejected(sigmoid({ mask }, logits, target), RangeError, 'target');
  });

  const indexCases: [string, Uint8Array | Uint16Array | Int32Array, Record<string, unknown>][] = [
    ['u8 index 3 with C = 3', Uint8Array.from(labels), {}],
    ['u8 index 255 without ignoreIndex', Uint8Array.from(labels), {}],
    ['u16 index 3', Uint16Array.from(labels), {}],
    ['u16 index 65535 with ignoreIndex 255', Uint16Array.from(labels), { ignoreIndex: 255 }],
    ['i32 index 3', Int32Array.from(labels), {}],
    ['i32 index -1', Int32Array.from(labels), {}],
    ['i32 index -1 with ignoreIndex -100', Int32Array.from(labels), { ignoreIndex: -100 }],
    ['i32 index 2^31 - 1', Int32Array.from(labels), {}],
  ];
  const badValue: Record<string, number> = {
    'u8 index 3 with C = 3': 3, 'u8 index 255 without ignoreIndex': 255, 'u16 index 3': 3,
    'u16 index 65535 with ignoreIndex 255': 65535, 'i32 index 3': 3, 'i32 index -1': -1,
    'i32 index -1 with ignoreIndex -100': -1, 'i32 index 2^31 - 1': 2 ** 31 - 1,
  };
  for (const [name, base, patch] of indexCases) {
    it(`${name} (main block and tail; sigmoid and softmax)`, () => {
      for (const at of [3, 25]) {
        for (const activation of ['softmax', 'sigmoid'] as const) {
          const target = base.slice();
          target[at] = badValue[name]!;
          expectRejected(indexed({ activation, ...patch }, target), RangeError, 'target');
        }
      }
    });
  }
  it('an index out of range at a pixel the per-pixel mask drops is still rejected (main block and tail)', () => {
    for (const at of [3, 25]) {
      const target = Uint8Array.from(labels);
      target[at] = 7;
      const mask = new Uint8Array(N * S).fill(1);
      mask[at] = 0;
      expectRejected(indexed({ mask }, target), RangeError, 'target');
    }
  });
});

describe('out-of-range labels equal to ignoreIndex are accepted and ignored', () => {
  const cases: [string, Uint8Array | Uint16Array | Int32Array, number][] = [
    ['u8 255', Uint8Array.from(labels), 255],
    ['u16 65535', Uint16Array.from(labels), 65535],
    ['i32 -100', Int32Array.from(labels), -100],
    ['i32 1000', Int32Array.from(labels), 1000],
  ];
  for (const [name, base, ignoreIndex] of cases) {
    it(`${name} with ignoreIndex ${ignoreIndex}: loss and gradient as the reference`, () => {
      const target = base.slice();
      for (const at of [0, 3, 12, 25]) target[at] = ignoreIndex;
      const options = { shape, activation: 'softmax', target: 'indices', ignoreIndex } as const;
      const grad = new Float32Array(n);
      const loss = diceLoss(logits, target, { ...options, grad });
      const ref = diceLossReference(logits, target, options);
      expect(Math.abs(loss - (ref.loss as number))).toBeLessThanOrEqual(1e-6);
      const scale = Math.max(...Array.from(ref.grad!, Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(grad[i]! - ref.grad![i]!)).toBeLessThanOrEqual(1e-5 * scale);
      // The ignored pixels get no gradient in any channel.
      for (let c = 0; c < C; c++) expect(grad[c * S + 3]).toBe(0);
    });
  }
});
