// Zero-copy buffers (alloc / WasmArray): the kernels read them in place, and
// must give the bits of the same data passed as JS-heap arrays (which are
// streamed through the chunked path). Also: views after memory growth, freed
// and stale arguments, alignment and zero-fill, and no memory growth over many
// calls.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, alloc, diceLoss, WasmArray, type WasmArrayType } from '../src/index.ts';
import {
  Rng, Failures, makeCase, spec, randomOptionSet, runCase, referenceMismatch, bitsMismatch, describeCase,
  type DiceCase, type DiceOutput, type OptionSet, type TargetArray,
} from './helpers.ts';

beforeAll(async () => {
  await init();
});

/** A WasmArray holding a copy of `a`. */
function toWasm<T extends TargetArray>(a: T): WasmArray<T> {
  const w = alloc(a.constructor as unknown as { new (b: ArrayBuffer, o: number, l: number): T; BYTES_PER_ELEMENT: number; name: string }, a.length);
  w.view.set(a as never);
  return w;
}

/** The case's arrays copied into Wasm memory, with a NaN-filled gradient. */
function wasmArrays(c: DiceCase) {
  const grad = alloc(Float32Array, c.input.length);
  grad.view.fill(NaN);
  return { input: toWasm(c.input), target: toWasm(c.target), mask: c.mask && toWasm(c.mask), grad };
}

type Arrays = ReturnType<typeof wasmArrays>;

function freeAll(a: Arrays): void {
  a.input.free();
  a.target.free();
  a.mask?.free();
  a.grad.free();
}

/**
 * Runs a case with some arguments in Wasm memory. The gradient is read back
 * through the WasmArray after the call: a call may grow memory, which detaches
 * any view taken before it.
 */
function runWasm(c: DiceCase, a: Arrays, use: { views?: boolean; input?: boolean; target?: boolean; mask?: boolean; grad?: boolean }): DiceOutput {
  a.grad.view.fill(NaN);
  const jsGrad = new Float32Array(c.input.length).fill(NaN);
  const pick = <T extends TargetArray>(w: WasmArray<T> | undefined, js: T | undefined, on: boolean | undefined) =>
    w === undefined || on === false ? js : use.views ? w.view : w;
  const out = runCase(c, {
    input: pick(a.input, c.input, use.input)!,
    target: pick(a.target, c.target, use.target)!,
    mask: pick(a.mask, c.mask, use.mask),
    grad: pick(a.grad, jsGrad, use.grad)!,
  });
  return { loss: out.loss, grad: use.grad === false ? jsGrad.slice() : a.grad.view.slice() };
}

describe('zero copy equals the chunked JS-heap path, bit for bit', () => {
  // Lengths per row that are not multiples of 8; samples larger than a chunk
  // (32768 elements), and many samples per chunk ([7, 3, 2001]).
  const shapes = [[1, 1, 13], [3, 2, 5, 7], [2, 3, 37, 41], [7, 3, 2001], [2, 2, 300, 301], [1, 40, 181, 7]];
  const rng = new Rng(7);
  const cases: DiceCase[] = [];
  shapes.forEach((shape, k) => {
    for (let j = 0; j < (shape[0]! * shape[1]! * shape.slice(2).reduce((x, y) => x * y, 1) > 50000 ? 3 : 8); j++) {
      const fixed: Partial<OptionSet> = { reduction: j % 2 === 0 ? 'mean' : 'sum' };
      if (shape[1] === 1) { fixed.activation = j % 2 ? 'none' : 'sigmoid'; fixed.includeBackground = true; }
      if (shape[1] === 40) fixed.activation = 'softmax';
      const set = randomOptionSet(rng, fixed);
      cases.push(makeCase(spec(set, shape, 100 * k + j)));
    }
  });

  it(`${cases.length} cases: WasmArrays, their .views and JS-heap arrays give identical bits, and match the reference`, () => {
    const f = new Failures();
    for (const c of cases) {
      const js = runCase(c);
      f.add(referenceMismatch(c, js));
      const a = wasmArrays(c);
      try {
        for (const [name, use] of [
          ['WasmArrays', {}], ['views', { views: true }],
          ['WasmArray input only', { target: false, mask: false, grad: false }],
          ['JS-heap grad only', { grad: false }],
        ] as const) {
          const m = bitsMismatch(js, runWasm(c, a, use));
          f.add(m && `${name}: ${m}: ${describeCase(c)}`);
        }
      } finally {
        freeAll(a);
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('views at odd element offsets inside WasmArrays (unaligned pointers in Wasm memory) give the same bits', () => {
    const f = new Failures();
    cases.slice(0, 16).forEach((c, k) => {
      const js = runCase(c);
      const off = 1 + (k % 3);
      const wrap = <T extends TargetArray>(a: T) => {
        const w = alloc(a.constructor as never, a.length + 4) as WasmArray<T>;
        w.view.set(a as never, off);
        return w;
      };
      const input = wrap(c.input), target = wrap(c.target), mask = c.mask && wrap(c.mask), grad = alloc(Float32Array, c.input.length + 4);
      try {
        const sub = <T extends TargetArray>(w: WasmArray<T>, len: number) => w.view.subarray(off, off + len) as T;
        const out = runCase(c, {
          input: sub(input, c.input.length), target: sub(target, c.target.length),
          mask: mask && sub(mask, c.mask!.length), grad: sub(grad, c.input.length),
        });
        const written = grad.view;
        out.grad = written.slice(off, off + c.input.length);
        const m = bitsMismatch(js, out);
        f.add(m && `offset ${off}: ${m}: ${describeCase(c)}`);
        f.add([...written.subarray(0, off), ...written.subarray(off + c.input.length)].every((v) => v === 0) ? null : `wrote outside grad: ${describeCase(c)}`);
      } finally {
        input.free(); target.free(); mask?.free(); grad.free();
      }
    });
    expect(f.summary()).toEqual([]);
  });
});

describe('memory growth', () => {
  it('detaches old views; .view is re-derived and keeps the data; a stale view is rejected with a clear Error', () => {
    const c = makeCase(spec(randomOptionSet(new Rng(3), { activation: 'sigmoid', target: 'f32', mask: 'pixel', reduction: 'mean' }), [2, 2, 3, 13], 5));
    const a = wasmArrays(c);
    const js = runCase(c);
    const oldInput = a.input.view, oldTarget = a.target.view, oldMask = a.mask!.view, oldGrad = a.grad.view;
    const bytesBefore = oldInput.buffer.byteLength;
    const big = alloc(Uint8Array, bytesBefore + 65536); // more than the whole memory: it must grow
    try {
      expect(oldInput.byteLength).toBe(0);
      expect(oldInput.buffer.byteLength).toBe(0);
      expect(a.input.view.buffer.byteLength).toBeGreaterThan(bytesBefore);
      expect(a.input.view.byteLength).toBe(4 * c.input.length);
      expect(Array.from(a.input.view)).toEqual(Array.from(c.input));
      expect(bitsMismatch(js, runWasm(c, a, {}))).toBeNull();
      expect(bitsMismatch(js, runWasm(c, a, { views: true }))).toBeNull();

      const stale: [string, () => unknown][] = [
        ['input', () => diceLoss(oldInput, a.target, { shape: c.spec.shape, activation: 'sigmoid' })],
        ['target', () => diceLoss(a.input, oldTarget, { shape: c.spec.shape, activation: 'sigmoid' })],
        ['mask', () => diceLoss(a.input, a.target, { shape: c.spec.shape, activation: 'sigmoid', mask: oldMask })],
        ['grad', () => diceLoss(a.input, a.target, { shape: c.spec.shape, activation: 'sigmoid', grad: oldGrad })],
      ];
      for (const [name, call] of stale) {
        const gradBefore = a.grad.view.slice();
        let error: unknown;
        try {
          call();
        } catch (e) {
          error = e;
        }
        expect(error, `stale ${name}`).toBeInstanceOf(Error);
        const message = (error as Error).message;
        expect(message).toMatch(/stale/);
        expect(message).toMatch(/\.view/);
        expect(message).toMatch(new RegExp(`(^|[ .])${name} `));
        expect(sameFloats(a.grad.view, gradBefore), `grad written by the stale ${name} call`).toBe(true);
      }
    } finally {
      big.free();
      freeAll(a);
    }
  });
});

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

describe('freed WasmArrays', () => {
  it('passing a freed WasmArray (or a view of its freed block) as input, target, mask or grad → Error; grad untouched', () => {
    const c = makeCase(spec(randomOptionSet(new Rng(4), { activation: 'none', target: 'u8', mask: 'pixel', reduction: 'sum' }), [1, 2, 21], 6));
    const opts = { shape: c.spec.shape, reduction: 'sum' } as const;
    for (const which of ['input', 'target', 'mask', 'grad'] as const) {
      const a = wasmArrays(c);
      const victim = a[which]!;
      const staleView = victim.view;
      victim.free();
      const jsGrad = new Float32Array(c.input.length).fill(7);
      const args = {
        input: which === 'input' ? victim : a.input, target: which === 'target' ? victim : a.target,
        mask: which === 'mask' ? victim : a.mask, grad: which === 'grad' ? victim : jsGrad,
      } as { input: WasmArray<Float32Array>; target: WasmArray<Uint8Array>; mask: WasmArray<Uint8Array>; grad: WasmArray<Float32Array> | Float32Array };
      expect(() => diceLoss(args.input, args.target, { ...opts, mask: args.mask, grad: args.grad }), which).toThrow(/freed/);
      const viewArgs = { ...args, [which]: staleView } as typeof args;
      expect(() => diceLoss(viewArgs.input, viewArgs.target, { ...opts, mask: viewArgs.mask, grad: viewArgs.grad }), `${which} view`).toThrow(Error);
      expect(jsGrad.every((v) => v === 7)).toBe(true);
      for (const w of Object.values(a)) if (w !== victim && w) w.free();
    }
  });

  it('freeing twice, or reading .view / .byteOffset after free → Error', () => {
    const w = alloc(Float32Array, 10);
    expect(w.freed).toBe(false);
    w.free();
    expect(w.freed).toBe(true);
    expect(() => w.free()).toThrow(/freed/);
    expect(() => w.view).toThrow(/freed/);
    expect(() => w.byteOffset).toThrow(/freed/);
  });
});

describe('alloc', () => {
  const types = [Float32Array, Uint8Array, Uint16Array, Int32Array] as const;
  it('returns 16-byte aligned, zero-filled arrays of every type, also when it reuses freed (dirty) memory', () => {
    const lengths = [0, 1, 3, 7, 13, 100, 1001];
    const first: WasmArray[] = [];
    const offsets = new Set<number>();
    for (const type of types) {
      for (const length of lengths) {
        const w = alloc(type as never, length) as WasmArray;
        expect(w.byteOffset % 16, `${type.name}[${length}]`).toBe(0);
        expect(w.length).toBe(length);
        expect(w.type).toBe(type);
        const v = w.view as WasmArrayType;
        expect(v).toBeInstanceOf(type);
        expect(v.byteOffset).toBe(w.byteOffset);
        expect(v.every((x: number) => x === 0)).toBe(true);
        v.fill(0x55); // dirty it for the reuse check below
        offsets.add(w.byteOffset);
        first.push(w);
      }
    }
    for (const w of first) w.free();
    let reused = 0;
    const second: WasmArray[] = [];
    for (const type of [...types].reverse()) {
      for (const length of lengths) {
        const w = alloc(type as never, length) as WasmArray;
        expect(w.byteOffset % 16).toBe(0);
        if (offsets.has(w.byteOffset)) reused++;
        expect((w.view as WasmArrayType).every((x: number) => x === 0), `reused ${type.name}[${length}] is not zeroed`).toBe(true);
        second.push(w);
      }
    }
    expect(reused).toBeGreaterThan(0); // the check above did look at dirty memory
    for (const w of second) w.free();
  });
});

describe('no memory growth in the hot path', () => {
  it('100,000 sigmoid + grad calls of 1029 elements (zero-copy and JS-heap, alternating) leave memory and the allocator unchanged after the first ones', () => {
    const size = 1024 + 5; // a tail of 5 after the 8-lane blocks
    const rng = new Rng(9);
    const x = Float32Array.from({ length: size }, () => rng.uniform(-5, 5));
    const t = Float32Array.from({ length: size }, () => (rng.chance(0.5) ? 1 : 0));
    const wx = toWasm(x), wt = toWasm(t), wg = alloc(Float32Array, size);
    const jg = new Float32Array(size);
    const probe = alloc(Uint8Array, 16);
    try {
      const first = diceLoss(wx, wt, { activation: 'sigmoid', grad: wg });
      diceLoss(x, t, { activation: 'sigmoid', grad: jg });
      const bytes = probe.view.buffer.byteLength;
      const next = alloc(Uint8Array, 16);
      const nextOffset = next.byteOffset;
      next.free();
      let last = first;
      for (let k = 0; k < 50_000; k++) {
        last = diceLoss(wx, wt, { activation: 'sigmoid', grad: wg });
        diceLoss(x, t, { activation: 'sigmoid', grad: jg });
      }
      expect(probe.view.buffer.byteLength).toBe(bytes);
      const again = alloc(Uint8Array, 16);
      expect(again.byteOffset).toBe(nextOffset); // no block leaked between calls
      again.free();
      expect(Object.is(last, first)).toBe(true);
      expect(sameFloats(wg.view, jg)).toBe(true);
    } finally {
      wx.free(); wt.free(); wg.free(); probe.free();
    }
  });
});
