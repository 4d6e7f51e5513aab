// Zero-copy buffers: typed arrays that live in segloss's Wasm memory, so that
// a caller can write logits straight where the kernels read them.
import { runtime } from './runtime.ts';
import type { Heap } from './memory.ts';

/** The typed-array types that {@link alloc} can create. */
export type WasmArrayType = Float32Array | Uint8Array | Uint16Array | Int32Array;
/** Their constructors. */
export type WasmArrayConstructor<T extends WasmArrayType> = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

const CONSTRUCTORS: readonly Function[] = [Float32Array, Uint8Array, Uint16Array, Int32Array];

/**
 * A typed array owned by segloss, in Wasm memory, 16-byte aligned. Pass it (or
 * its `.view`) to any segloss function and nothing is copied. Call `free()`
 * when done; it must not be used afterwards.
 */
export class WasmArray<T extends WasmArrayType = WasmArrayType> {
  /** Number of elements. */
  readonly length: number;
  /** The element type's constructor. */
  readonly type: WasmArrayConstructor<T>;
  readonly #heap: Heap;
  #ptr: number;
  #view: T | null = null;

  /** @internal use {@link alloc}. */
  constructor(heap: Heap, type: WasmArrayConstructor<T>, length: number, ptr: number) {
    this.#heap = heap;
    this.type = type;
    this.length = length;
    this.#ptr = ptr;
  }

  /** Byte address in Wasm memory. Throws once freed. */
  get byteOffset(): number {
    this.#check();
    return this.#ptr;
  }

  /**
   * A live typed array over the buffer's memory. Growing Wasm memory detaches
   * old views, so read `.view` again after any segloss call rather than
   * keeping it; it is re-derived whenever `memory.buffer` changed.
   */
  get view(): T {
    this.#check();
    const buffer = this.#heap.buffer();
    if (!this.#view || this.#view.buffer !== buffer) this.#view = new this.type(buffer, this.#ptr, this.length);
    return this.#view;
  }

  /** Whether {@link free} was called (or the instance was replaced by `init`). */
  get freed(): boolean {
    return this.#ptr < 0 || !this.#heap.alive;
  }

  /** Returns the memory to segloss. Freeing twice is an Error. */
  free(): void {
    this.#check();
    this.#heap.release(this.#ptr);
    this.#ptr = -1;
    this.#view = null;
  }

  #check(): void {
    if (this.#ptr < 0) throw new Error(`segloss: this WasmArray<${this.type.name}> was freed and cannot be used`);
    if (!this.#heap.alive) throw new Error(`segloss: this WasmArray<${this.type.name}> belongs to an instance replaced by a later init()`);
  }
}

/**
 * Allocates a zero-filled typed array of `length` elements in segloss's Wasm
 * memory. When memory cannot grow (a browser tab at its limit, or beyond the
 * 4 GiB of wasm32) it throws a RangeError saying how many bytes were asked for
 * and how many are available; the instance and every earlier WasmArray stay
 * usable.
 */
export function alloc<T extends WasmArrayType>(type: WasmArrayConstructor<T>, length: number): WasmArray<T> {
  if (!CONSTRUCTORS.includes(type)) {
    throw new TypeError('segloss.alloc: type must be Float32Array, Uint8Array, Uint16Array or Int32Array');
  }
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`segloss.alloc: length must be a non-negative integer; got ${String(length)}`);
  }
  const { heap } = runtime();
  const bytes = length * type.BYTES_PER_ELEMENT;
  const ptr = heap.alloc(bytes, 'segloss.alloc');
  new Uint8Array(heap.buffer(), ptr, bytes).fill(0);
  return new WasmArray(heap, type, length, ptr);
}
