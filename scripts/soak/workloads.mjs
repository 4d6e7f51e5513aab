// The soak test's workloads: one entry per public function (adding a function to the soak is one
// entry in WORKLOADS), each able to make a deterministic case of a given size class from a seeded
// PRNG, and rounds of mixed calls whose results are hashed bit for bit.
import { mulberry32 } from '../../examples/lib/rng.mjs';

/** @typedef {Float32Array | Uint8Array | Uint16Array | Int32Array} Arr */
/**
 * @typedef {object} Case
 * @property {string} name
 * @property {Float32Array} input
 * @property {Arr} target
 * @property {Uint8Array | undefined} mask
 * @property {Record<string, unknown>} options  the options without mask and grad
 * @property {boolean} grad  whether the call writes options.grad
 * @property {(api: any, input: any, target: any, options: Record<string, unknown>) => unknown} call
 */

const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
const pick = (r, a) => a[Math.floor(r() * a.length)];

/** [N, C, ...spatial] for a size class: 'small' (S ≤ 96), 'medium' (S 1k–8k), 'large' (S 40k–70k: several staging chunks). */
function shapeOf(r, size, minC = 1, maxC = 4) {
  const N = int(r, 1, size === 'large' ? 2 : 3);
  const C = int(r, minC, size === 'large' ? Math.min(maxC, 3) : maxC);
  const S = size === 'small' ? int(r, 1, 96) : size === 'medium' ? int(r, 1000, 8000) : int(r, 40_000, 70_000);
  const split = S % 7 === 0 && r() < 0.5 ? [7, S / 7] : [S];
  return { N, C, S, shape: [N, C, ...split] };
}

const logits = (r, n) => Float32Array.from({ length: n }, () => (r() < 0.02 ? pick(r, [-80, 80]) : (2 * r() - 1) * 8));
const probs = (r, n) => Float32Array.from({ length: n }, () => (r() < 0.05 ? pick(r, [0, 1]) : r()));
const dense = (r, n) => (r() < 0.5 ? Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0)) : Float32Array.from({ length: n }, () => (r() < 0.5 ? int(r, 0, 1) : r())));
const ids = (r, n, C) => pick(r, [Uint8Array, Uint16Array, Int32Array]).from({ length: n }, () => int(r, 0, C - 1));
const maskOf = (r, n) => (r() < 0.3 ? Uint8Array.from({ length: n }, () => (r() < 0.8 ? 1 : 0)) : undefined);

/** A region-loss case (dense sigmoid or softmax indices). */
function region(name, extra) {
  return (r, size) => {
    const softmax = r() < 0.5;
    const { N, C, S, shape } = shapeOf(r, size, softmax ? 2 : 1);
    const n = N * C * S;
    const options = softmax ? { shape, activation: 'softmax', target: 'indices' } : { shape, activation: 'sigmoid' };
    return {
      name, input: logits(r, n), target: softmax ? ids(r, N * S, C) : dense(r, n), mask: maskOf(r, N * S),
      options: { ...options, batch: r() < 0.3, ...extra(r) }, grad: name !== 'diceStats',
      call: (api, x, t, o) => api[name](x, t, o),
    };
  };
}

/** A metric case: probabilities against dense labels, or softmax against class ids. */
function metric(name, extra = () => ({})) {
  return (r, size) => {
    const softmax = r() < 0.4;
    const { N, C, S, shape } = shapeOf(r, size, softmax ? 2 : 1);
    const n = N * C * S;
    return {
      name, input: softmax ? logits(r, n) : probs(r, n), target: softmax ? ids(r, N * S, C) : dense(r, n), mask: maskOf(r, N * S),
      options: softmax ? { shape, activation: 'softmax', target: 'indices', ...extra(r) } : { shape, threshold: r(), ...extra(r) },
      grad: false, call: (api, x, t, o) => api[name](x, t, o),
    };
  };
}

/** A binary case on dense targets (bceLoss, focalLoss, the fused sigmoid losses). */
function binary(name, extra, useProbs = false) {
  return (r, size) => {
    const { N, C, S, shape } = shapeOf(r, size);
    const n = N * C * S;
    return {
      name, input: useProbs ? probs(r, n) : logits(r, n), target: dense(r, n), mask: maskOf(r, N * S),
      options: { shape, ...extra(r) }, grad: true, call: (api, x, t, o) => api[name](x, t, o),
    };
  };
}

/**
 * The distance and pooling functions hold whole arrays in Wasm memory (no staging chunks), so their
 * 'large' cases would only raise the memory's high-water mark (a short soak's warm-up may not meet every
 * large case: the later first call of one would look like growth). The 'large' class exists to find
 * chunking bugs; these take 'medium' cases instead.
 */
const unchunked = (size) => (size === 'large' ? 'medium' : size);

/** A distance loss case: [N, C, ...spatial] with 1 or 2 spatial axes, any activation, hard or soft targets. */
function distanceLoss(name) {
  return (r, size) => {
    const activation = pick(r, ['none', 'sigmoid', 'softmax']);
    const { N, C, S, shape } = shapeOf(r, unchunked(size), activation === 'softmax' ? 2 : 1, 3);
    const n = N * C * S;
    const precomputed = name === 'boundaryLoss' && r() < 0.5;
    const options = { shape, activation, includeBackground: C < 2 || r() < 0.7, spacing: shape.slice(2).map(() => pick(r, [1, 0.5, 2.5])) };
    if (name === 'hausdorffDTLoss') options.alpha = pick(r, [2, 1, 1.5]);
    return {
      name, input: activation === 'none' ? probs(r, n) : logits(r, n), target: dense(r, n), mask: undefined, options, grad: true,
      // With `precomputed`, φ_G comes from signedDistance of the target (a WasmArray in zero-copy calls) and the target is null.
      call: (api, x, t, o) => {
        if (!precomputed) return api[name](x, t, { ...o, mask: undefined });
        const distances = api.signedDistance(t, { shape: [N * C, ...shape.slice(2)], spacing: o.spacing });
        return api[name](x, null, { ...o, mask: undefined, distances });
      },
    };
  };
}

/** A distance transform case: N maps of [7, S/7] or [S] pixels, a u8 or f32 mask, options.out in the gradient's place. */
function distanceMap(name) {
  return (r, size) => {
    const { N, C, S, shape } = shapeOf(r, unchunked(size));
    const spatial = [C, ...shape.slice(2)]; // [N, C, ...] read as N maps of C × spatial
    const n = N * C * S;
    const density = pick(r, [0.01, 0.2, 0.7]);
    const mask = r() < 0.5 ? Uint8Array.from({ length: n }, () => (r() < density ? 1 : 0)) : Float32Array.from({ length: n }, () => (r() < density ? 0.5 + r() : r() * 0.5));
    const options = { shape: [N, ...spatial], spacing: spatial.map(() => pick(r, [1, 0.7, 3])) };
    if (name === 'distanceTransform') options.empty = pick(r, [1e6, 0]);
    return {
      name, input: Float32Array.from(mask), target: mask, mask: undefined, options, grad: true,
      call: (api, _x, t, o) => api[name](t, { shape: o.shape, spacing: o.spacing, empty: o.empty, out: o.grad }),
    };
  };
}

/** A pooling loss case: [N, C, H, W] planes (H·W = S, H = 7 or 1), probabilities or logits. */
function pooling(name, extra) {
  return (r, size) => {
    const { N, C, S } = shapeOf(r, unchunked(size), 1, 2);
    const [H, W] = S % 7 === 0 ? [7, S / 7] : [1, S];
    const n = N * C * S;
    const sigmoid = r() < 0.5;
    return {
      name, input: sigmoid ? logits(r, n) : probs(r, n), target: dense(r, n), mask: undefined,
      options: { shape: [N, C, H, W], activation: sigmoid ? 'sigmoid' : 'none', ...extra(r) }, grad: true,
      call: (api, x, t, o) => api[name](x, t, { ...o, mask: undefined }),
    };
  };
}

/** Image extents for boundaryF / edgeNms: a few pixels (small), or 40–60 per side (medium; also for 'large', see unchunked). */
function imageOf(r, size) {
  const [lo, hi] = size === 'small' ? [1, 12] : [40, 60];
  return [int(r, lo, hi), int(r, lo, hi)];
}

/** One entry per public function: its name (the export) and a case maker. */
export const WORKLOADS = [
  { name: 'diceLoss', make: region('diceLoss', (r) => ({ squared: r() < 0.3, jaccard: r() < 0.3, transform: pick(r, ['none', 'log', 'logcosh']) })) },
  { name: 'tverskyLoss', make: region('tverskyLoss', (r) => ({ alpha: r(), beta: r(), gamma: pick(r, [1, 0.75, 2]) })) },
  { name: 'generalizedDiceLoss', make: region('generalizedDiceLoss', (r) => ({ weightType: pick(r, ['square', 'simple', 'uniform']) })) },
  { name: 'diceStats', make: region('diceStats', () => ({})) },
  {
    name: 'lossFromStats',
    make: (r, size) => {
      const c = region('diceStats', () => ({}))(r, size);
      return {
        ...c, name: 'lossFromStats', grad: false,
        // Two shards' sums of the same data, merged, then the loss: exercises mergeStats and lossFromStats.
        call: (api, x, t, o) => {
          const a = api.diceStats(x, t, o);
          return api.lossFromStats(api.mergeStats(a, a), { shape: o.shape, batch: o.batch });
        },
      };
    },
  },
  { name: 'diceBceLoss', make: binary('diceBceLoss', (r) => ({ balance: pick(r, ['none', 'hed']), posWeight: pick(r, [1, 2.5]) })) },
  { name: 'bceLoss', make: binary('bceLoss', (r) => ({ activation: 'sigmoid', balance: pick(r, ['none', 'hed', 'rcf']), labelSmoothing: pick(r, [0, 0.1]) })) },
  { name: 'bceLoss', make: binary('bceLoss', (r) => ({ balance: pick(r, ['none', 'hed']) }), true) },
  { name: 'focalLoss', make: binary('focalLoss', (r) => ({ activation: 'sigmoid', gamma: pick(r, [0, 2, 2.5]) })) },
  {
    name: 'focalLoss',
    make: (r, size) => {
      const { N, C, S, shape } = shapeOf(r, size, 2);
      return {
        name: 'focalLoss', input: logits(r, N * C * S), target: ids(r, N * S, C), mask: maskOf(r, N * S),
        options: { shape, activation: 'softmax', gamma: pick(r, [1, 2]) }, grad: true, call: (api, x, t, o) => api.focalLoss(x, t, o),
      };
    },
  },
  { name: 'diceFocalLoss', make: binary('diceFocalLoss', () => ({})) },
  { name: 'crispEdgeLoss', make: binary('crispEdgeLoss', () => ({})) },
  {
    name: 'diceCeLoss',
    make: (r, size) => {
      const { N, C, S, shape } = shapeOf(r, size, 2);
      return {
        name: 'diceCeLoss', input: logits(r, N * C * S), target: ids(r, N * S, C), mask: maskOf(r, N * S),
        options: { shape, ceWeight: r() < 0.5 ? Array.from({ length: C }, () => r() * 2) : undefined, lambdaCe: pick(r, [1, 0.5]) },
        grad: true, call: (api, x, t, o) => api.diceCeLoss(x, t, o),
      };
    },
  },
  { name: 'distanceTransform', make: distanceMap('distanceTransform') },
  { name: 'signedDistance', make: distanceMap('signedDistance') },
  { name: 'boundaryLoss', make: distanceLoss('boundaryLoss') },
  { name: 'hausdorffDTLoss', make: distanceLoss('hausdorffDTLoss') },
  { name: 'clDiceLoss', make: pooling('clDiceLoss', (r) => ({ iterations: int(r, 0, 4), alpha: pick(r, [1, 0.5]) })) },
  { name: 'toleranceDiceLoss', make: pooling('toleranceDiceLoss', (r) => ({ tolerance: int(r, 0, 3) })) },
  {
    name: 'boundaryF',
    make: (r, size) => {
      const [H, W] = imageOf(r, size);
      const images = int(r, 1, 2), annotations = int(r, 1, 2);
      const n = images * H * W;
      // The predictions in `input` and the annotations (0/1 bytes) in `target`, one H × W map after the other.
      const target = Uint8Array.from({ length: n * annotations }, (_, i) => ((i % W) % 5 === 2 || r() < 0.05 ? 1 : 0));
      const options = { shape: [H, W], thresholds: size === 'small' ? int(r, 1, 19) : 9, maxDist: pick(r, [0.0075, 0.02]), thin: r() < 0.7 };
      return {
        name: 'boundaryF', input: probs(r, n), target, mask: undefined, options, grad: false,
        call: (api, x, t, o) => {
          const xv = x.view ?? x, tv = t.view ?? t;
          const preds = Array.from({ length: images }, (_, i) => xv.subarray(i * H * W, (i + 1) * H * W));
          const gts = preds.map((_, i) => Array.from({ length: annotations }, (_, a) => tv.subarray((i * annotations + a) * H * W, (i * annotations + a + 1) * H * W)));
          return api.boundaryF(preds, gts, { shape: o.shape, thresholds: o.thresholds, maxDist: o.maxDist, thin: o.thin });
        },
      };
    },
  },
  {
    name: 'edgeNms',
    make: (r, size) => {
      const [H, W] = imageOf(r, size);
      const maps = int(r, 1, 2);
      return {
        name: 'edgeNms', input: probs(r, maps * H * W), target: new Uint8Array(1), mask: undefined,
        options: { shape: maps === 1 ? [H, W] : [maps, H, W], radius: int(r, 1, 2), border: int(r, 0, 5), smooth: int(r, 0, 4) }, grad: false,
        call: (api, x, _t, o) => api.edgeNms(x, { shape: o.shape, radius: o.radius, border: o.border, smooth: o.smooth }),
      };
    },
  },
  { name: 'confusion', make: metric('confusion') },
  { name: 'diceScore', make: metric('diceScore', (r) => ({ average: pick(r, ['micro', 'macro', 'samples']), empty: 'one' })) },
  { name: 'iouScore', make: metric('iouScore', () => ({ empty: 'zero' })) },
  { name: 'precision', make: metric('precision', () => ({ empty: 'one' })) },
  { name: 'recall', make: metric('recall', () => ({ average: 'micro', empty: 'one' })) },
  { name: 'fbetaScore', make: metric('fbetaScore', (r) => ({ beta: pick(r, [0.5, 2]), empty: 'one' })) },
];

/** The workloads this build exports (a function still being written is left out). */
export function available(api) {
  return WORKLOADS.filter((w) => typeof api[w.name] === 'function');
}

/**
 * A pool of cases, deterministic in `seed`: per workload 6 small ones (S ≤ 96), 2 medium (S 1k–8k) and
 * 1 large (S 40k–70k: several staging chunks), grouped by size.
 */
export function makePool(api, seed) {
  const r = mulberry32(seed);
  const pool = { small: [], medium: [], large: [] };
  for (const w of available(api)) {
    for (const [size, count] of [['small', 6], ['medium', 2], ['large', 1]]) {
      for (let k = 0; k < count; k++) pool[size].push(w.make(mulberry32(Math.floor(r() * 2 ** 31)), size));
    }
  }
  return pool;
}

/** A case of the pool: 90% small, 9.5% medium, 0.5% large (most calls in a training loop are small; the large ones find chunking bugs). */
export function drawCase(pool, r) {
  const u = r();
  const group = u < 0.9 ? pool.small : u < 0.995 ? pool.medium : pool.large;
  return group[Math.floor(r() * group.length)];
}

/** FNV-1a-style hash of a byte range, continuing from `h`: 32-bit words where aligned (4× faster), then bytes. */
export function fnv(h, bytes) {
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    for (; i < words.length; i++) h = Math.imul(h ^ words[i], 16777619);
    i *= 4;
  }
  for (; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619);
  return h >>> 0;
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Folds a result (number, typed array, or object of them) into the hash. */
export function hashValue(h, v) {
  if (typeof v === 'number') { f64[0] = v; return fnv(h, f64Bytes); }
  if (ArrayBuffer.isView(v)) return fnv(h, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  if (v && typeof v === 'object') { for (const k of Object.keys(v).sort()) h = hashValue(fnv(h, new TextEncoder().encode(k)), v[k]); return h; }
  return fnv(h, new TextEncoder().encode(String(v)));
}

/**
 * One call of a pool case, the arrays passed one of three ways: JS-heap arrays (chunked staging),
 * zero copy (WasmArrays allocated for the call and freed after it), or misaligned subarrays. Returns
 * the hash of the result and the gradient.
 */
export function runCall(api, c, mode, h) {
  const n = c.input.length;
  if (mode === 'wasm') {
    const x = api.alloc(Float32Array, n), t = api.alloc(c.target.constructor, c.target.length);
    const m = c.mask && api.alloc(Uint8Array, c.mask.length);
    const g = c.grad ? api.alloc(Float32Array, n) : undefined;
    try {
      x.view.set(c.input); t.view.set(c.target); if (m) m.view.set(c.mask);
      const v = c.call(api, x, t, { ...c.options, mask: m, grad: g });
      h = hashValue(h, v);
      return g ? hashValue(h, g.view) : h;
    } finally {
      x.free(); t.free(); m?.free(); g?.free();
    }
  }
  const shift = (a) => {
    if (mode !== 'misaligned') return a;
    const parent = new a.constructor(a.length + 3);
    parent.set(a, 3);
    return parent.subarray(3);
  };
  const g = c.grad ? shift(new Float32Array(n)) : undefined;
  const v = c.call(api, shift(c.input), shift(c.target), { ...c.options, mask: c.mask && shift(c.mask), grad: g });
  h = hashValue(h, v);
  return g ? hashValue(h, g) : h;
}

/** `calls` calls drawn from `pool` by a PRNG seeded with `seed`: the hash of all their results. */
export function runRound(api, pool, seed, calls) {
  const r = mulberry32(seed);
  let h = 2166136261;
  for (let k = 0; k < calls; k++) {
    const c = drawCase(pool, r);
    const u = r();
    h = runCall(api, c, u < 0.4 ? 'js' : u < 0.8 ? 'wasm' : 'misaligned', h);
  }
  return h;
}
