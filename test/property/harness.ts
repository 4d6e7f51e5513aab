// One generated case, run every way a caller can pass its arrays, on two segloss instances:
//   1. JS-heap arrays (the chunked, staged path), SIMD build: checked against the float64 reference
//      (value and gradient to the core's bounds, nothing NaN or infinite);
//   2. misaligned subarrays (an odd element offset into a larger buffer whose other bytes hold a
//      pattern): the same bits, and the pattern intact;
//   3. zero copy: WasmArrays from alloc (whole, or as views at an offset inside a larger WasmArray
//      between guard bytes; with `mixed`, the input stays in the JS heap): the same bits, guards intact;
//   4. the scalar build (a second module instance, init({ simd: false })): the same bits.
// The caller's arrays must come back unchanged every time (only grad is written).
import fc from 'fast-check';
import { vi } from 'vitest';
import type { Api, Operands, Problem } from './cases.ts';
import type { TargetArray } from '../helpers.ts';
import type { WasmArray } from '../../src/index.ts';

/** The two instances every case runs on. */
export interface Instances {
  simd: Api;
  scalar: Api;
}

/**
 * The module instance the test file imported (initialised with the default, SIMD where supported)
 * and a second, separate instance of the same modules running the scalar build.
 */
export async function loadInstances(): Promise<Instances> {
  const simd = await import('../../src/index.ts');
  await simd.init();
  vi.resetModules();
  const scalar = (await import('../../src/index.ts')) as Api;
  await scalar.init({ simd: false });
  if (scalar === simd || scalar.backend() !== 'scalar') throw new Error('could not load a second, scalar instance');
  return { simd, scalar };
}

/** How the arrays of a case are passed in steps 2 and 3. */
export interface Layout {
  /** Element offset of the misaligned JS-heap subarrays. */
  jsOffset: number;
  /** Zero copy: each operand its own WasmArray, or a view inside a larger WasmArray. */
  wasm: 'whole' | 'view';
  /** Element offset of those views. */
  wasmOffset: number;
  /** The input stays in the JS heap while the other operands are in Wasm memory. */
  mixed: boolean;
}

export const layoutArb: fc.Arbitrary<Layout> = fc.record({
  jsOffset: fc.integer({ min: 1, max: 7 }),
  wasm: fc.constantFrom('whole', 'view'),
  wasmOffset: fc.integer({ min: 0, max: 7 }),
  mixed: fc.boolean(),
});

/** Byte written around operands; must still be there after the call. */
const GUARD = 0xa5;
/** Guard elements on each side of a view in a larger WasmArray (plus the offset before it). */
const PAD = 8;

type Any = TargetArray;
type Ctor = { new (length: number): Any; new (buffer: ArrayBuffer, offset: number, length: number): Any; BYTES_PER_ELEMENT: number; name: string };

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = bytesOf(a), y = bytesOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The first byte of `a` that is not the guard pattern, −1 if all are. */
function guardBroken(a: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== GUARD) return i;
  return -1;
}

/** Whether two results hold the same bits: numbers, typed arrays, or objects of them (confusion counts). */
export function sameResult(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    return ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && a.constructor === b.constructor && sameBytes(a, b);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => sameResult((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v as Float64Array).slice(0, 6).join(', ')}${(v as Float64Array).length > 6 ? ', …' : ''}]`;
  if (v && typeof v === 'object') return JSON.stringify(Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ArrayBuffer.isView(x) ? Array.from(x as Float64Array) : x])));
  return String(v);
}

interface Output { value: unknown; grad: Float32Array | null }

/** Step 1 (and 4): the case's own JS-heap arrays, a NaN-filled gradient. */
function runPlain(p: Problem, api: Api): Output {
  const grad = p.grad ? new Float32Array(p.input.length).fill(NaN) : undefined;
  const value = p.call(api, { input: p.input, target: p.target, mask: p.mask, grad });
  return { value, grad: grad ?? null };
}

/** A copy of `a` at element `offset` of a larger array of the same type whose other bytes are GUARD. */
function misaligned<T extends Any>(a: T, offset: number): { view: T; parent: T } {
  const ctor = a.constructor as Ctor;
  const parent = new ctor(a.length + offset + PAD) as T;
  bytesOf(parent).fill(GUARD);
  const view = parent.subarray(offset, offset + a.length) as T;
  view.set(a as never);
  return { view, parent };
}

/** The guard bytes of a misaligned parent: all but the view's. */
function outsideBroken(parent: Any, view: Any): number {
  const all = bytesOf(parent);
  const start = view.byteOffset - parent.byteOffset, end = start + view.byteLength;
  const before = guardBroken(all.subarray(0, start));
  if (before >= 0) return before;
  const after = guardBroken(all.subarray(end));
  return after < 0 ? -1 : end + after;
}

/** Step 2. */
function runMisaligned(p: Problem, api: Api, offset: number, expected: Output): string | null {
  const x = misaligned(p.input, offset), t = misaligned(p.target, offset);
  const m = p.mask && misaligned(p.mask, offset);
  const g = p.grad ? misaligned(new Float32Array(p.input.length).fill(NaN), offset) : undefined;
  const value = p.call(api, { input: x.view, target: t.view, mask: m?.view, grad: g?.view });
  if (!sameResult(value, expected.value)) return `misaligned subarrays (offset ${offset}) gave ${show(value)}, aligned ${show(expected.value)}`;
  if (g && !sameBytes(g.view, expected.grad!)) return `misaligned subarrays (offset ${offset}) gave another gradient`;
  for (const [name, a, orig] of [['input', x, p.input], ['target', t, p.target], ['mask', m, p.mask], ['grad', g, null]] as const) {
    if (!a) continue;
    const k = outsideBroken(a.parent, a.view);
    if (k >= 0) return `byte ${k} of the buffer around the misaligned ${name} was written`;
    if (orig && !sameBytes(a.view, orig)) return `the misaligned ${name} was modified`;
  }
  return null;
}

/** An operand in Wasm memory: a WasmArray, or a view between guard elements of a larger one. */
interface Placed {
  block: WasmArray;
  guards: WasmArray[];
  /** The operand as passed: the WasmArray itself, or a fresh view (re-derived after every call that may grow memory). */
  arg(): WasmArray | Any;
  /** Its current content. */
  data(): Any;
  /** The first broken guard byte, −1 if none. */
  broken(): number;
}

function place(api: Api, a: Any, layout: Layout): Placed {
  const ctor = a.constructor as Ctor;
  if (layout.wasm === 'whole') {
    const guards = [api.alloc(Uint8Array, 32)];
    const block = api.alloc(ctor as never, a.length) as WasmArray;
    guards.push(api.alloc(Uint8Array, 32));
    for (const g of guards) (g.view as Uint8Array).fill(GUARD);
    (block.view as Any).set(a as never);
    return {
      block, guards, arg: () => block, data: () => block.view as Any,
      broken: () => guards.map((g) => guardBroken(g.view as Uint8Array)).find((k) => k >= 0) ?? -1,
    };
  }
  const start = PAD + layout.wasmOffset;
  const block = api.alloc(ctor as never, start + a.length + PAD) as WasmArray;
  const whole = () => block.view as Any;
  const view = () => whole().subarray(start, start + a.length) as Any;
  bytesOf(whole()).fill(GUARD);
  view().set(a as never);
  return {
    block, guards: [], arg: view, data: view,
    broken: () => {
      const all = bytesOf(whole()), b = ctor.BYTES_PER_ELEMENT;
      const before = guardBroken(all.subarray(0, start * b));
      if (before >= 0) return before;
      const after = guardBroken(all.subarray((start + a.length) * b));
      return after < 0 ? -1 : (start + a.length) * b + after;
    },
  };
}

/** Step 3. */
function runZeroCopy(p: Problem, api: Api, layout: Layout, expected: Output): string | null {
  const placed: Placed[] = [];
  try {
    const put = (a: Any) => { const w = place(api, a, layout); placed.push(w); return w; };
    const x = layout.mixed ? undefined : put(p.input);
    const t = put(p.target);
    const m = p.mask && put(p.mask);
    const g = p.grad ? put(new Float32Array(p.input.length).fill(NaN)) : undefined;
    const operands: Operands = {
      input: (x ? x.arg() : p.input) as Float32Array, target: t.arg() as TargetArray,
      mask: m?.arg() as Uint8Array | undefined, grad: g?.arg() as Float32Array | undefined,
    };
    const value = p.call(api, operands);
    const where = `zero copy (${JSON.stringify(layout)})`;
    if (!sameResult(value, expected.value)) return `${where} gave ${show(value)}, JS-heap arrays ${show(expected.value)}`;
    if (g && !sameBytes(g.data(), expected.grad!)) return `${where} gave another gradient`;
    for (const [name, w, orig] of [['input', x, p.input], ['target', t, p.target], ['mask', m, p.mask], ['grad', g, null]] as const) {
      if (!w) continue;
      const k = w.broken();
      if (k >= 0) return `${where}: guard byte ${k} around ${name} was written`;
      if (orig && !sameBytes(w.data(), orig)) return `${where}: ${name} was modified`;
    }
    return null;
  } finally {
    for (const w of placed) {
      w.block.free();
      for (const g of w.guards) g.free();
    }
  }
}

/**
 * Runs one case all four ways; returns a description of the first failure, or null. A call that
 * throws is a failure too (the generated cases are all valid).
 */
export function checkAllWays(p: Problem, layout: Layout, apis: Instances): string | null {
  const originals = [p.input.slice(), p.target.slice(), p.mask?.slice()] as const;
  const plain = runPlain(p, apis.simd);
  if (!sameBytes(p.input, originals[0]) || !sameBytes(p.target, originals[1]) || (p.mask && !sameBytes(p.mask, originals[2]!))) {
    return 'the call modified its input, target or mask';
  }
  const bad = p.check(plain.value, plain.grad);
  if (bad !== null) return `against the reference: ${bad}`;
  return runMisaligned(p, apis.simd, layout.jsOffset, plain)
    ?? runZeroCopy(p, apis.simd, layout, plain)
    ?? scalarMismatch(p, apis.scalar, plain);
}

/** Step 4. */
function scalarMismatch(p: Problem, scalar: Api, plain: Output): string | null {
  const out = runPlain(p, scalar);
  if (!sameResult(out.value, plain.value)) return `the scalar build gave ${show(out.value)}, SIMD ${show(plain.value)}`;
  if (!plain.grad || sameBytes(out.grad!, plain.grad)) return null;
  const i = out.grad!.findIndex((v, k) => !Object.is(v, plain.grad![k]));
  return `the scalar build gave another gradient: grad[${i}] ${out.grad![i]} vs ${plain.grad[i]}`;
}
