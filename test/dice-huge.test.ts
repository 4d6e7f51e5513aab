// 2^28 elements from JS-heap arrays (issues 3 and 7, "large inputs"): the call
// streams through the fixed staging area (Wasm memory stays small, whatever n),
// and the loss and gradient keep the core's accuracy against the float64
// reference: loss to 1e-5, gradient to 1e-5 of its largest entry.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, diceLoss, diceLossReference } from '../src/index.ts';
import { runtime } from '../src/runtime.ts';

const N = 4, C = 1, H = 8192, W = 8192; // 2^28 elements
const n = N * C * H * W;

describe('diceLoss at 2^28 elements from JS-heap arrays', () => {
  beforeAll(async () => { await init(); });

  it('completes with loss to 1e-5 and gradient to 1e-5 of the largest entry, in bounded Wasm memory', () => {
    // xorshift32 fills: cheap enough for 2^28 elements, deterministic.
    const logits = new Float32Array(n);
    const edges = new Uint8Array(n);
    let s = 0x9e3779b9;
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const u = (s >>> 0) / 4294967296;
      logits[i] = (u - 0.6) * 12;
      edges[i] = (s & 1023) < 51 ? 1 : 0; // about 5% positives
    }
    const options = { shape: [N, C, H, W], activation: 'sigmoid' as const };
    const grad = new Float32Array(n);
    const loss = diceLoss(logits, edges, { ...options, grad });
    // Streaming: the module never holds the arrays (1.25 GiB of input, 1 GiB of gradient).
    expect(runtime().heap.memory.buffer.byteLength).toBeLessThan(64 << 20);

    const ref = diceLossReference(logits, edges, options);
    expect(Math.abs(loss - (ref.loss as number))).toBeLessThan(1e-5);
    let max = 0, err = 0;
    const rg = ref.grad!;
    for (let i = 0; i < n; i++) {
      const r = rg[i]!;
      const a = r < 0 ? -r : r;
      if (a > max) max = a;
      const d = r - grad[i]!;
      if ((d < 0 ? -d : d) > err) err = d < 0 ? -d : d;
    }
    expect(err).toBeLessThanOrEqual(1e-5 * max);
  }, 600_000);
});
