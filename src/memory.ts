// Wasm linear memory above the module's static data is managed here, in JS:
// a first-fit free list with coalescing, 16-byte aligned blocks. Kernels only
// ever see pointers. Growing the memory detaches every typed-array view of the
// old buffer, so views are never cached across a call that may grow it: a
// WasmArray re-derives its view when `memory.buffer` changed, and the buffers
// that were replaced are remembered so that a stale view is reported, not used.

const ALIGN = 16;
const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // 4 GiB: the wasm32 address space

interface Block { ptr: number; size: number }

/** The allocator of one instance's memory. */
export class Heap {
  readonly memory: WebAssembly.Memory;
  /** Replaced buffers of this memory: views over them are stale. */
  readonly retired = new WeakSet<ArrayBuffer>();
  private top: number;
  private readonly free: Block[] = [];
  private readonly used = new Map<number, number>();
  private lastBuffer: ArrayBuffer;
  private dead = false;
  /**
   * The most memory may grow to, in bytes (whole pages count): 4 GiB, the wasm32 address space. Tests
   * lower it to simulate a browser tab at its memory limit.
   */
  limitBytes = MAX_BYTES;

  constructor(memory: WebAssembly.Memory, base: number) {
    this.memory = memory;
    this.top = align(base);
    this.lastBuffer = memory.buffer;
  }

  /** Current buffer; records the previous one as retired if memory grew. */
  buffer(): ArrayBuffer {
    const b = this.memory.buffer;
    if (b !== this.lastBuffer) {
      this.retired.add(this.lastBuffer);
      this.lastBuffer = b;
    }
    return b;
  }

  get alive(): boolean { return !this.dead; }

  /** Marks the heap dead (its instance was replaced by init). */
  retire(): void { this.dead = true; }

  /**
   * Allocates `bytes` (rounded up to 16), growing memory if needed. When memory cannot grow (past
   * `limitBytes`, or `memory.grow` refused by the runtime) it throws a RangeError naming `who`, the
   * bytes asked for and the most that could be allocated now; nothing changes, so the heap and every
   * block already allocated stay usable.
   */
  alloc(bytes: number, who = 'segloss'): number {
    const size = Math.max(ALIGN, align(bytes));
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < size) continue;
      const ptr = b.ptr;
      if (b.size === size) this.free.splice(i, 1);
      else { b.ptr += size; b.size -= size; }
      this.used.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Memory grows by whole pages: the limit applies to the size after growing.
      const pages = Math.ceil((end - have) / PAGE);
      if (have + pages * PAGE > Math.min(this.limitBytes, MAX_BYTES)) throw this.outOfMemory(who, bytes, Math.min(this.limitBytes, MAX_BYTES));
      try {
        this.memory.grow(pages);
      } catch {
        throw this.outOfMemory(who, bytes, have);
      }
      this.buffer();
    }
    this.top = end;
    this.used.set(ptr, size);
    return ptr;
  }

  /** The largest block {@link alloc} could return if memory could grow up to `ceiling` bytes. */
  available(ceiling: number): number {
    let largest = Math.max(0, Math.floor(ceiling / PAGE) * PAGE - this.top);
    for (const b of this.free) largest = Math.max(largest, b.size);
    return largest;
  }

  /** Bytes in live blocks. */
  get inUse(): number {
    let total = 0;
    for (const size of this.used.values()) total += size;
    return total;
  }

  private outOfMemory(who: string, asked: number, ceiling: number): RangeError {
    const have = this.memory.buffer.byteLength;
    return new RangeError(
      `${who}: cannot allocate ${asked} bytes: ${this.available(ceiling)} bytes are available ` +
      `(Wasm memory is ${have} bytes, ${this.inUse} in use, and cannot grow beyond ${Math.max(have, ceiling)} bytes); ` +
      'free some WasmArrays or use smaller inputs');
  }

  /** Returns a block to the free list, merging it with free neighbours. */
  release(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`segloss: pointer ${ptr} is not an allocated block`);
    this.used.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i]!.ptr < ptr) i++;
    const block: Block = { ptr, size };
    this.free.splice(i, 0, block);
    const next = this.free[i + 1];
    if (next && block.ptr + block.size === next.ptr) { block.size += next.size; this.free.splice(i + 1, 1); }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === block.ptr) { prev.size += block.size; this.free.splice(i, 1); }
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) { this.top = last.ptr; this.free.pop(); }
  }

  /** The live block that contains [ptr, ptr + bytes), if any. */
  owns(ptr: number, bytes: number): boolean {
    for (const [p, size] of this.used) if (ptr >= p && ptr + bytes <= p + size) return true;
    return false;
  }
}

function align(n: number): number { return Math.ceil(n / ALIGN) * ALIGN; }

/** Per-call working memory, kept between calls and grown only when a larger size is needed. */
export class Workspace {
  private readonly slots = new Map<string, { ptr: number; size: number }>();
  constructor(private readonly heap: Heap) {}

  /** A block of at least `bytes` for `name`; its content is undefined. */
  get(name: string, bytes: number): number {
    const s = this.slots.get(name);
    if (s && s.size >= bytes) return s.ptr;
    if (s) { this.heap.release(s.ptr); this.slots.delete(name); }
    const size = Math.max(bytes, 16);
    const ptr = this.heap.alloc(size);
    this.slots.set(name, { ptr, size });
    return ptr;
  }
}
