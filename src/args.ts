// Argument checking shared by every binding: each failure is a TypeError or a
// RangeError whose message names the function, the argument and what was
// expected. Nothing here touches Wasm memory except to locate arrays in it.
import { WasmArray, type WasmArrayType } from './wasm-array.ts';
import type { Heap } from './memory.ts';

export type TypedArrayCtor = Float32ArrayConstructor | Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor;

/** An argument array: either in Wasm memory (zero copy) or in the JS heap. */
export type Operand =
  | { readonly wasm: true; readonly ptr: number; readonly length: number; readonly ctor: TypedArrayCtor }
  | { readonly wasm: false; readonly array: WasmArrayType; readonly length: number; readonly ctor: TypedArrayCtor };

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof WasmArray) return `WasmArray<${v.type.name}>`;
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'Array';
  return typeof v;
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  return typeName(v);
}

/** Resolves an array argument, accepting a WasmArray or a view of one without copying. */
export function operand(fn: string, name: string, value: unknown, allowed: readonly TypedArrayCtor[], heap: Heap): Operand {
  const expected = allowed.map((c) => c.name).join(' or ');
  if (value instanceof WasmArray) {
    if (value.freed) throw new Error(`${fn}: ${name} is a WasmArray that was freed`);
    const ctor = allowed.find((c) => c === (value.type as unknown));
    if (!ctor) throw new TypeError(`${fn}: ${name} must be a ${expected} (or a WasmArray of one); got ${typeName(value)}`);
    return { wasm: true, ptr: value.byteOffset, length: value.length, ctor };
  }
  const ctor = ArrayBuffer.isView(value) ? allowed.find((c) => value instanceof c) : undefined;
  if (!ctor) throw new TypeError(`${fn}: ${name} must be a ${expected} (or a WasmArray of one); got ${typeName(value)}`);
  const array = value as WasmArrayType;
  if (heap.retired.has(array.buffer as ArrayBuffer)) {
    throw new Error(`${fn}: ${name} is a stale view of Wasm memory, detached when the memory grew; read WasmArray.view again`);
  }
  if (array.buffer === heap.buffer()) {
    if (!heap.owns(array.byteOffset, array.byteLength)) {
      throw new Error(`${fn}: ${name} is a view of Wasm memory that no live WasmArray owns (was it freed?)`);
    }
    return { wasm: true, ptr: array.byteOffset, length: array.length, ctor };
  }
  return { wasm: false, array, length: array.length, ctor };
}

/** A fresh view of an operand, valid until the next allocation. */
export function operandView(op: Operand, heap: Heap): WasmArrayType {
  return op.wasm ? new op.ctor(heap.buffer(), op.ptr, op.length) : op.array;
}

/** The byte range of an operand, to detect overlaps. */
function range(op: Operand, heap: Heap): [unknown, number, number] {
  if (op.wasm) return [heap.memory, op.ptr, op.ptr + op.length * op.ctor.BYTES_PER_ELEMENT];
  return [op.array.buffer, op.array.byteOffset, op.array.byteOffset + op.array.byteLength];
}

/** Throws if `out` shares any byte with one of `inputs`. */
export function checkNoOverlap(fn: string, outName: string, out: Operand, inputs: [string, Operand | undefined][], heap: Heap): void {
  const [ob, o0, o1] = range(out, heap);
  for (const [name, op] of inputs) {
    if (!op) continue;
    const [b, a0, a1] = range(op, heap);
    if (b === ob && a0 < o1 && o0 < a1 && o1 > o0 && a1 > a0) {
      throw new RangeError(`${fn}: ${outName} overlaps ${name}; it must be a separate array`);
    }
  }
}

/** The options object, or {} when undefined. */
export function optionsObject(fn: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${fn}: options must be an object; got ${typeName(options)}`);
  }
  return options as Record<string, unknown>;
}

/**
 * The caller's options with some replaced: an object whose prototype is `o`, so that every option
 * reads as the caller gave it (own, inherited or getter) unless overridden. A spread `{ ...o }`
 * would drop inherited options.
 */
export function withOverrides(o: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = Object.create(o) as Record<string, unknown>;
  for (const [k, v] of Object.entries(overrides)) Object.defineProperty(out, k, { value: v, enumerable: true });
  return out;
}

export function oneOf<T extends string>(fn: string, name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new RangeError(`${fn}: options.${name} must be ${allowed.map((a) => `'${a}'`).join(', ')}; got ${show(value)}`);
  }
  return value as T;
}

export function flag(fn: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${fn}: options.${name} must be a boolean; got ${show(value)}`);
  return value;
}

/** A finite number, optionally bounded below (inclusive) and above. */
export function finite(fn: string, name: string, value: unknown, fallback: number, min = -Infinity, max = Infinity): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${fn}: options.${name} must be a number; got ${show(value)}`);
  if (!Number.isFinite(value) || value < min || value > max) {
    const f = (v: number) => (Math.abs(v) >= 1e21 ? v.toExponential().replace('e+', 'e') : String(v));
    const bounds = min > -Infinity && max < Infinity ? `in [${f(min)}, ${f(max)}]` : min > -Infinity ? `>= ${f(min)}` : max < Infinity ? `<= ${f(max)}` : '';
    throw new RangeError(`${fn}: options.${name} must be a finite number ${bounds}; got ${show(value)}`.replace(' ;', ';'));
  }
  return value;
}

export function integer(fn: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${fn}: options.${name} must be an integer; got ${show(value)}`);
  if (!Number.isSafeInteger(value)) throw new RangeError(`${fn}: options.${name} must be an integer; got ${show(value)}`);
  return value;
}

/** [N, C, ...spatial] with every entry a positive integer and the product equal to `length`. */
export interface Shape { readonly N: number; readonly C: number; readonly S: number; readonly dims: readonly number[] }

export function parseShape(fn: string, value: unknown, length: number): Shape {
  if (value === undefined) return { N: 1, C: 1, S: length, dims: [1, 1, length] };
  if (!Array.isArray(value) && !ArrayBuffer.isView(value)) {
    throw new TypeError(`${fn}: options.shape must be an array [N, C, ...spatial]; got ${typeName(value)}`);
  }
  const dims = Array.from(value as ArrayLike<unknown>);
  if (dims.length < 3) {
    throw new RangeError(`${fn}: options.shape must have at least 3 entries [N, C, ...spatial]; got ${dims.length}`);
  }
  let product = 1;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (typeof d !== 'number') throw new TypeError(`${fn}: options.shape[${i}] must be a positive integer; got ${show(d)}`);
    if (!Number.isSafeInteger(d) || d <= 0) {
      throw new RangeError(`${fn}: options.shape[${i}] must be a positive integer; got ${show(d)}`);
    }
    product *= d;
    if (product > Number.MAX_SAFE_INTEGER) throw new RangeError(`${fn}: options.shape has too many elements`);
  }
  if (product !== length) {
    throw new RangeError(`${fn}: options.shape [${dims.join(', ')}] has ${product} elements but input has ${length}`);
  }
  const [N, C] = dims as number[];
  return { N: N!, C: C!, S: product / (N! * C!), dims: dims as number[] };
}

/**
 * The largest weight an option may take (class weights, loss weights, posWeight): every weighted
 * term and their sum then stays finite in float64.
 */
export const WEIGHT_MAX = 1e30;

/** Non-negative finite weights (at most WEIGHT_MAX), one per kept class. */
export function weights(fn: string, value: unknown, count: number, name = 'weight'): Float64Array | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new TypeError(`${fn}: options.${name} must be an array of numbers; got ${typeName(value)}`);
  }
  const w = Array.from(value as ArrayLike<unknown>);
  if (w.length !== count) {
    throw new RangeError(`${fn}: options.${name} must have one entry per ${name === 'weight' ? 'kept ' : ''}class (${count}); got ${w.length}`);
  }
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = w[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > WEIGHT_MAX) {
      throw new RangeError(`${fn}: options.${name}[${i}] must be a number in [0, 1e30]; got ${show(v)}`);
    }
    out[i] = v;
  }
  return out;
}
