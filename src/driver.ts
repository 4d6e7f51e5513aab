// The two-pass driver shared by the region losses. Pass 1 accumulates sums,
// pass 2 writes the gradient. When every array already lives in Wasm memory
// the kernels run on it directly (zero copy). Otherwise the arrays are
// streamed through a fixed staging area in cache-sized chunks: the sums are
// additive, so pass 1 adds chunk by chunk and pass 2 writes chunk by chunk,
// and memory stays bounded whatever the input size. Chunk lengths are a
// multiple of the kernels' accumulation block, so both paths add the same
// numbers in the same order and give the same bits.
import type { Operand, Shape } from './args.ts';
import type { Runtime } from './runtime.ts';

/** Elements per row accumulated before a flush into f64 (BLOCK in assembly/dice.ts). */
export const BLOCK = 1024;
/** Elements of each array staged per chunk: 128 KiB of f32, so x, g and out stay in L2. */
const CHUNK_ELEMENTS = 32768;
/**
 * Where in a 4 KiB page each staging block starts (streams in order, then the
 * output). The copies in and out are memmoves, and on the AMD machines this
 * was measured on a memmove of a 128 KiB chunk whose source and destination
 * sit at (nearly) the same offset in a page runs 15× slower (2.3 against
 * 0.15 ns per f32: 4 KiB aliasing). Large JS typed arrays start on a page
 * boundary and their subarrays mostly at multiples of a row, so the blocks
 * sit at 576 mod 1024, at least 448 bytes from any multiple of 1 KiB.
 */
const STAGE_PAGE_OFFSETS = [576, 1600, 2624, 3648];
const PAGE = 4096;

/** A workspace block of `bytes` starting at `pageOffset` within a page. */
function stagingBlock(rt: Runtime, name: string, bytes: number, pageOffset: number): number {
  const ptr = rt.workspace.get(name, bytes + PAGE);
  return ptr + ((pageOffset - ptr) & (PAGE - 1));
}

/** An array argument and how its rows map onto the [N, C, S] layout. */
export interface Stream {
  readonly op: Operand;
  /** Rows per sample: C for per-channel arrays, 1 for per-pixel ones (indices, broadcast mask). */
  readonly rows: number;
}

/** Pointers and extents of one kernel call. */
export interface Chunk {
  /** First sample of the call, and how many samples it covers. */
  readonly n0: number;
  readonly samples: number;
  /** First element of each row covered by the call. */
  readonly s0: number;
  /** Elements per row in this call, and the distance between rows. */
  readonly length: number;
  readonly stride: number;
  /** Pointer of each stream, in `streams` order (0 for a missing one). */
  readonly ptrs: readonly number[];
  /** Pointer of the output rows (0 when there is no output). */
  readonly out: number;
}

/** Whether every array of a call already lives in Wasm memory: then the kernels run on it directly. */
export function isDirect(streams: readonly (Stream | undefined)[], out: Operand | undefined): boolean {
  return streams.every((s) => !s || s.op.wasm) && (!out || out.wasm);
}

/** Chunk geometry of a staged call: whole samples when a sample is small, else row segments. */
function geometry({ N, C, S }: Shape): { samples: number; stride: number } {
  if (C * S <= CHUNK_ELEMENTS) return { samples: Math.min(N, Math.floor(CHUNK_ELEMENTS / (C * S))), stride: S };
  return { samples: 1, stride: Math.min(S, Math.max(BLOCK, Math.floor(CHUNK_ELEMENTS / C / BLOCK) * BLOCK)) };
}

/**
 * Elements of an f32 array with one entry per input element in the layout the
 * kernels see, chunk after chunk (the sum of samples × C × stride over the
 * chunks): the size of what pass 1 keeps for pass 2.
 */
export function chunkedElements(shape: Shape, direct: boolean): number {
  const { N, C, S } = shape;
  const stride = direct ? S : geometry(shape).stride;
  return N * C * Math.ceil(S / stride) * stride;
}

/**
 * Runs `kernel` over the whole layout, staging JS-heap arrays chunk by chunk.
 * `direct` (default: every array in Wasm memory) runs it once on the arrays
 * themselves; two passes that share data laid out chunk by chunk pass the
 * same value.
 */
export function stream(
  rt: Runtime, shape: Shape, streams: readonly (Stream | undefined)[], out: Operand | undefined,
  kernel: (chunk: Chunk) => void, direct = isDirect(streams, out),
): void {
  const { N, C, S } = shape;
  if (direct) {
    kernel({
      n0: 0, samples: N, s0: 0, length: S, stride: S,
      ptrs: streams.map((s) => (s && s.op.wasm ? s.op.ptr : 0)),
      out: out && out.wasm ? out.ptr : 0,
    });
    return;
  }
  const { samples, stride } = geometry(shape);

  // Staging blocks first: allocating may grow memory, which detaches views.
  const staging = streams.map((s, i) => s && stagingBlock(rt, `stage${i}`, samples * s.rows * stride * s.op.ctor.BYTES_PER_ELEMENT, STAGE_PAGE_OFFSETS[i]!));
  const outPtr = out ? stagingBlock(rt, 'stageOut', samples * C * stride * 4, STAGE_PAGE_OFFSETS[3]!) : 0;
  const buffer = rt.heap.buffer();
  const sources = streams.map((s) => s && (s.op.wasm ? new s.op.ctor(buffer, s.op.ptr, s.op.length) : s.op.array));
  const outArray = out && (out.wasm ? new Float32Array(buffer, out.ptr, out.length) : (out.array as Float32Array));

  for (let n0 = 0; n0 < N; n0 += samples) {
    const count = Math.min(samples, N - n0);
    for (let s0 = 0; s0 < S; s0 += stride) {
      const length = Math.min(stride, S - s0);
      streams.forEach((s, i) => {
        if (!s) return;
        const src = sources[i]!;
        const dst = new s.op.ctor(buffer, staging[i]!, count * s.rows * stride);
        if (length === S) dst.set(src.subarray(n0 * s.rows * S, (n0 + count) * s.rows * S));
        else for (let r = 0; r < s.rows; r++) {
          const from = (n0 * s.rows + r) * S + s0;
          dst.set(src.subarray(from, from + length), r * stride);
        }
      });
      kernel({ n0, samples: count, s0, length, stride, ptrs: staging.map((p) => p ?? 0), out: outPtr });
      if (outArray) {
        const staged = new Float32Array(buffer, outPtr, count * C * stride);
        if (length === S) outArray.set(staged, n0 * C * S);
        else for (let r = 0; r < C; r++) outArray.set(staged.subarray(r * stride, r * stride + length), (n0 * C + r) * S + s0);
      }
    }
  }
}
