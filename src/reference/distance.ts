// Plain float64 references of the distance transforms and of the distance-aware losses: the test
// oracles for the Wasm kernels. Distances by brute force, O(S²) per map: every pixel against every
// site, so they share nothing with the separable algorithm of assembly/distance.ts. Only for small
// maps. No validation. Element (n, c, s) is at index (n·C + c)·S + s, spatial axes row-major.

/** Options of the distance references: `shape` `[N, ...spatial]` (1 to 3 spatial axes). */
export interface DistanceReferenceOptions {
  shape: readonly number[];
  /** Pixel size per spatial axis. Default all 1. */
  spacing?: readonly number[];
  /** Value of every pixel of a map without a set pixel (distance transform only). Default Infinity. */
  empty?: number;
}

/** Options of the loss references (see `boundaryLoss`, `hausdorffDTLoss`). */
export interface DistanceLossReferenceOptions {
  /** `[N, C, ...spatial]` (1 to 3 spatial axes). */
  shape: readonly number[];
  activation?: 'none' | 'sigmoid' | 'softmax';
  includeBackground?: boolean;
  reduction?: 'mean' | 'sum' | 'none';
  spacing?: readonly number[];
  /** Hausdorff only: the exponent α. Default 2. */
  alpha?: number;
  /** Boundary only: precomputed φ_G, laid out like the input. */
  distances?: ArrayLike<number>;
}

/** Result of the loss references. */
export interface DistanceLossReferenceResult {
  /** The reduced loss, or with `reduction: 'none'` the `[N, C_kept]` per-(sample, class) spatial means. */
  loss: number | Float64Array;
  /** dLoss/dInput (w.r.t. p for `'none'`, w.r.t. the logits otherwise); `null` for `reduction: 'none'`. */
  grad: Float64Array | null;
}

/** Coordinates of pixel s of a map with spatial `dims`. */
function coords(s: number, dims: readonly number[]): number[] {
  const c = new Array<number>(dims.length);
  for (let a = dims.length - 1; a >= 0; a--) { c[a] = s % dims[a]!; s = Math.floor(s / dims[a]!); }
  return c;
}

/**
 * For each pixel of one map, the distance to the nearest pixel where `isSite` holds, by brute force:
 * min over sites y of √(Σ_a (h_a·(x_a − y_a))²); +∞ when there is no site.
 */
function bruteDistances(isSite: (s: number) => boolean, dims: readonly number[], h: readonly number[]): Float64Array {
  const S = dims.reduce((a, b) => a * b, 1);
  const points = Array.from({ length: S }, (_, s) => coords(s, dims));
  const sites: number[] = [];
  for (let s = 0; s < S; s++) if (isSite(s)) sites.push(s);
  const out = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    let best = Infinity;
    for (const t of sites) {
      let d2 = 0;
      for (let a = 0; a < dims.length; a++) {
        const d = h[a]! * (points[s]![a]! - points[t]![a]!);
        d2 += d * d;
      }
      if (d2 < best) best = d2;
    }
    out[s] = Math.sqrt(best);
  }
  return out;
}

/** Runs `perMap(offset, S, spatial, h)` for each of the N maps of a `[N, ...spatial]` shape. */
function forMaps(shape: readonly number[], spacing: readonly number[] | undefined,
  perMap: (offset: number, S: number, dims: readonly number[], h: readonly number[]) => void): void {
  const [N, ...dims] = shape;
  const S = dims.reduce((a, b) => a * b, 1);
  const h = spacing ?? dims.map(() => 1);
  for (let n = 0; n < N!; n++) perMap(n * S, S, dims, h);
}

/** Whether a mask value marks a set pixel: nonzero bytes, floats > 0.5 (the same test for 0/1 data). */
const isSet = (v: number): boolean => v > 0.5;

/** Euclidean distance of each pixel to the nearest set pixel (`empty` for maps without one), by brute force. */
export function distanceTransformReference(mask: ArrayLike<number>, options: DistanceReferenceOptions): Float64Array {
  const out = new Float64Array(mask.length);
  forMaps(options.shape, options.spacing, (o, S, dims, h) => {
    const d = bruteDistances((s) => isSet(mask[o + s]!), dims, h);
    const none = d.every((v) => v === Infinity);
    for (let s = 0; s < S; s++) out[o + s] = none ? (options.empty ?? Infinity) : d[s]!;
  });
  return out;
}

/**
 * Kervadec's signed map (one_hot2dist), by brute force: outside (unset) pixels +distance to the nearest set
 * pixel; inside (set) pixels −(distance to the nearest unset pixel − h_min), h_min the smallest spacing;
 * 0 everywhere for a map that is all unset or all set.
 */
export function signedDistanceReference(mask: ArrayLike<number>, options: DistanceReferenceOptions): Float64Array {
  return twoSided(mask, options.shape, options.spacing, true);
}

/** MONAI HausdorffDTLoss.distance_field by brute force: the distance to the other class (0 for maps without a boundary). */
export function hausdorffFieldReference(mask: ArrayLike<number>, options: DistanceReferenceOptions): Float64Array {
  return twoSided(mask, options.shape, options.spacing, false);
}

function twoSided(mask: ArrayLike<number>, shape: readonly number[], spacing: readonly number[] | undefined, signed: boolean): Float64Array {
  const out = new Float64Array(mask.length);
  forMaps(shape, spacing, (o, S, dims, h) => {
    let set = 0;
    for (let s = 0; s < S; s++) if (isSet(mask[o + s]!)) set++;
    if (set === 0 || set === S) return; // stays 0
    const toSet = bruteDistances((s) => isSet(mask[o + s]!), dims, h);
    const toUnset = bruteDistances((s) => !isSet(mask[o + s]!), dims, h);
    const hMin = Math.min(...h);
    for (let s = 0; s < S; s++) {
      if (!isSet(mask[o + s]!)) out[o + s] = toSet[s]!;
      else out[o + s] = signed ? -(toUnset[s]! - hMin) : toUnset[s]!;
    }
  });
  return out;
}

// ---------------------------------------------------------------- losses ---

interface LossLayout { N: number; C: number; S: number; spatial: number[]; cStart: number }

function lossLayout(o: DistanceLossReferenceOptions): LossLayout {
  const [N, C, ...spatial] = o.shape;
  return { N: N!, C: C!, S: spatial.reduce((a, b) => a * b, 1), spatial, cStart: o.includeBackground === false ? 1 : 0 };
}

/** Probabilities in float64: the input, σ(x), or the softmax over the C channels of each pixel. */
function probabilities(input: ArrayLike<number>, act: string, { N, C, S }: LossLayout): Float64Array {
  const p = new Float64Array(input.length);
  if (act === 'none') { for (let i = 0; i < p.length; i++) p[i] = input[i]!; return p; }
  if (act === 'sigmoid') { for (let i = 0; i < p.length; i++) p[i] = 1 / (1 + Math.exp(-input[i]!)); return p; }
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, input[(n * C + c) * S + s]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(input[(n * C + c) * S + s]! - m);
      for (let c = 0; c < C; c++) p[(n * C + c) * S + s] = Math.exp(input[(n * C + c) * S + s]! - m) / sum;
    }
  }
  return p;
}

/**
 * dL/dx from dL/dp through the activation (q = dL/dp). Sigmoid: σ'(x) = σ(x)σ(−x) = t/(1 + t)²,
 * t = e^−|x|, from the logit x (p·(1 − p) would lose the digits of 1 − p for a confident x).
 */
function chain(q: Float64Array, p: Float64Array, x: ArrayLike<number>, act: string, { N, C, S }: LossLayout): Float64Array {
  if (act === 'none') return q;
  const g = new Float64Array(q.length);
  if (act === 'sigmoid') {
    for (let i = 0; i < g.length; i++) {
      const t = Math.exp(-Math.abs(x[i]!));
      g[i] = q[i]! * (t / ((1 + t) * (1 + t)));
    }
    return g;
  }
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += p[(n * C + c) * S + s]! * q[(n * C + c) * S + s]!;
      for (let c = 0; c < C; c++) { const i = (n * C + c) * S + s; g[i] = p[i]! * (q[i]! - dot); }
    }
  }
  return g;
}

/**
 * Shared reduction: per (n, c ≥ cStart) the spatial mean of ℓ; 'mean' averages them, 'sum' adds them;
 * dL/dp = coef·dℓ/dp with coef = 1/(N·C_kept·S) ('mean') or 1/S ('sum').
 */
function reduce(o: DistanceLossReferenceOptions, input: ArrayLike<number>, p: Float64Array, lay: LossLayout,
  term: (i: number) => number, slope: (i: number) => number): DistanceLossReferenceResult {
  const { N, C, S, cStart } = lay;
  const kept = C - cStart;
  const means = new Float64Array(N * kept);
  for (let n = 0; n < N; n++) {
    for (let c = cStart; c < C; c++) {
      let sum = 0;
      for (let s = 0; s < S; s++) sum += term((n * C + c) * S + s);
      means[n * kept + c - cStart] = sum / S;
    }
  }
  const reduction = o.reduction ?? 'mean';
  if (reduction === 'none') return { loss: means, grad: null };
  const total = means.reduce((a, b) => a + b, 0);
  const coef = reduction === 'mean' ? 1 / (N * kept * S) : 1 / S;
  const q = new Float64Array(input.length);
  for (let n = 0; n < N; n++) {
    for (let c = cStart; c < C; c++) {
      for (let s = 0; s < S; s++) { const i = (n * C + c) * S + s; q[i] = coef * slope(i); }
    }
  }
  return { loss: reduction === 'mean' ? total / (N * kept) : total, grad: chain(q, p, input, o.activation ?? 'none', lay) };
}

/** Per (n, c) maps of a `[N, C, ...spatial]` array, as `[N·C, ...spatial]` maps. */
function mapsShape({ N, C, spatial }: LossLayout): number[] { return [N * C, ...spatial]; }

/**
 * Boundary loss (Kervadec et al.) in float64: ℓ = p·φ_G per element, φ_G = {@link signedDistanceReference}
 * of the target (> 0.5), or `distances` when given; dℓ/dp = φ_G.
 */
export function boundaryLossReference(input: ArrayLike<number>, target: ArrayLike<number> | null,
  options: DistanceLossReferenceOptions): DistanceLossReferenceResult {
  const lay = lossLayout(options);
  const p = probabilities(input, options.activation ?? 'none', lay);
  const phi = options.distances ?? signedDistanceReference(target!, { shape: mapsShape(lay), spacing: options.spacing });
  return reduce(options, input, p, lay, (i) => p[i]! * phi[i]!, (i) => phi[i]!);
}

/**
 * Hausdorff distance-transform loss (Karimi & Salcudean; MONAI HausdorffDTLoss) in float64:
 * ℓ = (p − g)²·(d_G^α + d_P^α), d_G and d_P the {@link hausdorffFieldReference} of g > 0.5 and p > 0.5,
 * constants; dℓ/dp = 2(p − g)·(d_G^α + d_P^α).
 */
export function hausdorffDTLossReference(input: ArrayLike<number>, target: ArrayLike<number>,
  options: DistanceLossReferenceOptions): DistanceLossReferenceResult {
  const lay = lossLayout(options);
  const p = probabilities(input, options.activation ?? 'none', lay);
  const maps = { shape: mapsShape(lay), spacing: options.spacing };
  const dG = hausdorffFieldReference(target, maps);
  const dP = hausdorffFieldReference(p, maps);
  const alpha = options.alpha ?? 2;
  const w = (i: number) => dG[i]! ** alpha + dP[i]! ** alpha;
  return reduce(options, input, p, lay, (i) => (p[i]! - target[i]!) ** 2 * w(i), (i) => 2 * (p[i]! - target[i]!) * w(i));
}
