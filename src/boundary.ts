// The BSDS500 boundary benchmark (boundaryF: ODS, OIS, AP and the
// precision/recall curve of edge maps against one or more annotations per
// image) and the non-maximum suppression of soft edge maps that usually
// precedes it (edgeNms). Thresholding, thinning, matching and counting run in
// Wasm (assembly/boundary.ts, thin.ts, match.ts), one call per image; the
// per-threshold arithmetic of collect_eval_bdry.m (ratios, the interpolated
// best F, the AP integral) is done here on those counts.
// Reference: src/reference/boundary.ts.
import { operand, optionsObject, flag, finite, integer, type Operand } from './args.ts';
import { runtime, type Runtime } from './runtime.ts';
import type { ArrayArg } from './dice.ts';

export {
  boundaryFReference, edgeNmsReference, type BoundaryReferenceOptions, type EdgeNmsReferenceOptions,
} from './reference/boundary.ts';

/** Options of {@link boundaryF}. */
export interface BoundaryOptions {
  /** `[H, W]`: every prediction and annotation is an H × W map, row-major. Required. */
  shape: readonly number[];
  /**
   * Match tolerance as a fraction of the image diagonal (BSDS `maxDist`), in [0, 1], default 0.0075:
   * a predicted and an annotated pixel may be matched iff dx² + dy² ≤ (maxDist·√(H² + W²))².
   */
  maxDist?: number;
  /**
   * A count K (integer ≥ 1, default 99): MATLAB's linspace(1/(K+1), 1 − 1/(K+1), K), as BSDS; or the
   * thresholds themselves, finite and strictly increasing (at most 100000). A pixel is predicted at
   * threshold t iff p ≥ t (BSDS: `bmap = (pb >= thresh)`).
   */
  thresholds?: number | ArrayLike<number>;
  /** Thin each thresholded map to 1-pixel lines first (MATLAB `bwmorph(bmap, 'thin', Inf)`), default true. */
  thin?: boolean;
}

/** One point of the dataset precision/recall curve, with the summed counts behind it (BSDS names). */
export interface BoundaryCurvePoint {
  threshold: number;
  /** cntP / sumP (0 when sumP = 0). */
  precision: number;
  /** cntR / sumR (0 when sumR = 0). */
  recall: number;
  /** 2PR/(P + R) (0 when P + R = 0). */
  f: number;
  /** Annotation pixels matched, summed over annotations and images. */
  cntR: number;
  /** Annotation pixels, summed over annotations and images. */
  sumR: number;
  /** Predicted pixels matched to at least one annotation of their image, summed over images. */
  cntP: number;
  /** Predicted pixels (after thinning), summed over images. */
  sumP: number;
}

/** The benchmark's summary (collect_eval_bdry.m). */
export interface BoundaryResult {
  /** Optimal dataset scale: the best F of the dataset curve, interpolated linearly between neighbouring thresholds. */
  ods: { f: number; precision: number; recall: number; threshold: number };
  /** Optimal image scale: counts summed at each image's best threshold (the first one on ties), then P, R, F. */
  ois: { f: number; precision: number; recall: number };
  /** Average precision: the mean of P interpolated at recall 0, 0.01, …, 1 (0 outside the curve's recall range) over 100. */
  ap: number;
  /** One point per threshold, ascending. */
  curve: BoundaryCurvePoint[];
}

/** Options of {@link edgeNms}. */
export interface EdgeNmsOptions {
  /** `[H, W]`, or `[N, H, W]` for N maps one after the other. Required. */
  shape: readonly number[];
  /** Suppression radius r (integer ≥ 1), default 1: neighbours at d = ±1, …, ±r along the normal. */
  radius?: number;
  /** Border fade width s (integer ≥ 0), default 5: the outer s pixels are scaled by distance/s; 0 turns it off. */
  border?: number;
  /** Conservative multiplier m (finite, > 0), default 1.01: a pixel survives unless E·m < a neighbour. */
  multiplier?: number;
  /** Radius of the triangle filter that smooths E before the orientation is taken (integer ≥ 0), default 4. */
  smooth?: number;
}

const MAX_THRESHOLDS = 100000;
const BAD_INPUT = 1;
const BAD_TARGET = 2;

/**
 * The BSDS500 boundary benchmark of soft edge maps: ODS, OIS, AP and the precision/recall curve,
 * as evaluation_bdry_image.m + collect_eval_bdry.m of the BSR package (and Dollár's edgesEvalDir).
 *
 * Per image and threshold t: B = thin([p ≥ t]); for each annotation G_a a one-to-one matching M_a
 * of B's pixels to G_a's within maxDist·diagonal pixels; cntR = Σ_a |M_a|, sumR = Σ_a |G_a|,
 * cntP = |∪_a pixels of B matched in M_a|, sumP = |B|. Counts are summed over images; recall = cntR/sumR
 * (over each annotation), precision = cntP/sumP (a predicted pixel is right if any annotation has it).
 * The matching is a maximum-cardinality matching (augmenting paths, nearest candidates first) rather
 * than BSDS's min-cost assignment: see the README for why the counts agree and where they may not.
 *
 * @param predictions one Float32Array per image, H × W, finite (usually probabilities in [0, 1])
 * @param groundTruths per image, a non-empty list of annotations: Uint8Array H × W of 0/1
 * @throws TypeError / RangeError naming the argument: wrong types or lengths, non-finite predictions,
 *   annotation bytes other than 0/1, bad options
 */
export function boundaryF(predictions: readonly ArrayArg<Float32Array>[], groundTruths: readonly (readonly ArrayArg<Uint8Array>[])[],
  options: BoundaryOptions): BoundaryResult {
  const fn = 'segloss.boundaryF';
  const rt = runtime();
  const o = optionsObject(fn, options);
  const [H, W] = imageShape(fn, o.shape);
  const maxDist = finite(fn, 'maxDist', o.maxDist, 0.0075, 0, 1);
  const thin = flag(fn, 'thin', o.thin, true);
  const thresholds = parseThresholds(fn, o.thresholds);
  const K = thresholds.length;
  if (!Array.isArray(predictions)) throw new TypeError(`${fn}: predictions must be an array of Float32Array (one per image); got ${describe(predictions)}`);
  if (predictions.length === 0) throw new RangeError(`${fn}: predictions must hold at least one image; got an empty array`);
  if (!Array.isArray(groundTruths)) throw new TypeError(`${fn}: groundTruths must be an array (one list of annotations per image); got ${describe(groundTruths)}`);
  if (groundTruths.length !== predictions.length) {
    throw new RangeError(`${fn}: groundTruths must have one entry per prediction (${predictions.length}); got ${groundTruths.length}`);
  }
  const images = predictions.map((p, i) => {
    const pred = operand(fn, `predictions[${i}]`, p, [Float32Array], rt.heap);
    if (pred.length !== H * W) throw new RangeError(`${fn}: predictions[${i}] must have H × W = ${H * W} elements; got ${pred.length}`);
    const list = groundTruths[i];
    if (!Array.isArray(list)) {
      throw new TypeError(`${fn}: groundTruths[${i}] must be an array of Uint8Array annotations; got ${describe(list)}`);
    }
    if (list.length === 0) throw new RangeError(`${fn}: groundTruths[${i}] must hold at least one annotation; got an empty array`);
    const gts = list.map((g, a) => {
      const op = operand(fn, `groundTruths[${i}][${a}]`, g, [Uint8Array], rt.heap);
      if (op.length !== H * W) throw new RangeError(`${fn}: groundTruths[${i}][${a}] must have H × W = ${H * W} elements; got ${op.length}`);
      return op;
    });
    return { pred, gts };
  });

  // Per image: counts [K][cntR, sumR, cntP, sumP]; summed over images, and at each image's best threshold.
  const total = new Float64Array(K * 4);
  const best = new Float64Array(4);
  images.forEach(({ pred, gts }, i) => {
    const c = imageCounts(rt, fn, i, pred, gts, H, W, thresholds, maxDist, thin);
    for (let j = 0; j < K * 4; j++) total[j]! += c[j]!;
    // OIS: the first threshold with the image's largest F (collect_eval_bdry: ff = find(F == max(F)); ff(1)).
    let at = 0, bestF = -1;
    for (let k = 0; k < K; k++) {
      const f = fmeasure(ratio(c[4 * k]!, c[4 * k + 1]!), ratio(c[4 * k + 2]!, c[4 * k + 3]!));
      if (f > bestF) { bestF = f; at = k; }
    }
    for (let j = 0; j < 4; j++) best[j]! += c[4 * at + j]!;
  });
  return summarize(thresholds, total, best);
}

/** F = 2PR/(P + R), 0 when P + R = 0 (collect_eval_bdry's fmeasure). */
function fmeasure(r: number, p: number): number {
  return (2 * p * r) / (p + r + (p + r === 0 ? 1 : 0));
}

/** cnt/sum, 0 when sum = 0 (collect_eval_bdry: cnt ./ (sum + (sum == 0))). */
function ratio(cnt: number, sum: number): number {
  return cnt / (sum + (sum === 0 ? 1 : 0));
}

/** ODS, OIS, AP and the curve from the summed counts (collect_eval_bdry.m). */
function summarize(T: Float64Array, total: Float64Array, best: Float64Array): BoundaryResult {
  const K = T.length;
  const R = new Float64Array(K), P = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    R[k] = ratio(total[4 * k]!, total[4 * k + 1]!);
    P[k] = ratio(total[4 * k + 2]!, total[4 * k + 3]!);
  }
  // ODS (maxF): start at the first threshold, then 100 points d = j/99 on each segment
  // [t_(i−1), t_i], t, R and P interpolated linearly; a point replaces the best only if strictly better.
  let odsT = T[0]!, odsR = R[0]!, odsP = P[0]!, odsF = fmeasure(R[0]!, P[0]!);
  for (let i = 1; i < K; i++) {
    for (let j = 0; j < 100; j++) {
      const d = j / 99;
      const r = R[i]! * d + R[i - 1]! * (1 - d);
      const p = P[i]! * d + P[i - 1]! * (1 - d);
      const f = fmeasure(r, p);
      if (f > odsF) { odsF = f; odsR = r; odsP = p; odsT = T[i]! * d + T[i - 1]! * (1 - d); }
    }
  }
  const oisR = ratio(best[0]!, best[1]!), oisP = ratio(best[2]!, best[3]!);
  return {
    ods: { f: odsF, precision: odsP, recall: odsR, threshold: odsT },
    ois: { f: fmeasure(oisR, oisP), precision: oisP, recall: oisR },
    ap: averagePrecision(R, P),
    curve: Array.from(T, (t, k) => ({
      threshold: t, precision: P[k]!, recall: R[k]!, f: fmeasure(R[k]!, P[k]!),
      cntR: total[4 * k]!, sumR: total[4 * k + 1]!, cntP: total[4 * k + 2]!, sumP: total[4 * k + 3]!,
    })),
  };
}

/**
 * collect_eval_bdry's Area_PR: [Ru, i] = unique(R) (ascending; the first threshold of a repeated
 * recall, as MATLAB since R2013a and NumPy), P_i = interp1(Ru, P(i), 0:0.01:1) (linear, NaN outside
 * [min Ru, max Ru], counted as 0), AP = Σ P_i · 0.01; 0 if fewer than two distinct recalls.
 */
function averagePrecision(R: Float64Array, P: Float64Array): number {
  const idx = Array.from(R.keys()).sort((a, b) => R[a]! - R[b]! || a - b);
  const Ru: number[] = [], Pu: number[] = [];
  for (const k of idx) {
    if (Ru.length && Ru[Ru.length - 1] === R[k]) continue; // keep the first (lowest-threshold) occurrence
    Ru.push(R[k]!); Pu.push(P[k]!);
  }
  if (Ru.length < 2) return 0;
  let sum = 0, j = 0;
  for (let q = 0; q <= 100; q++) {
    const x = q / 100;
    if (x < Ru[0]! || x > Ru[Ru.length - 1]!) continue;
    while (j + 1 < Ru.length && Ru[j + 1]! <= x) j++;
    // Linear interpolation on [Ru_j, Ru_(j+1)]; exactly Pu_j at a knot.
    sum += j + 1 < Ru.length ? Pu[j]! + ((x - Ru[j]!) * (Pu[j + 1]! - Pu[j]!)) / (Ru[j + 1]! - Ru[j]!) : Pu[j]!;
  }
  return sum * 0.01;
}

/** Runs the counting kernel on one image; returns a copy of the f64 counts [K][4]. */
function imageCounts(rt: Runtime, fn: string, image: number, pred: Operand, gts: Operand[], H: number, W: number,
  thresholds: Float64Array, maxDist: number, thin: boolean): Float64Array {
  const { kernels: k, workspace: ws, heap } = rt;
  const N = H * W, A = gts.length, K = thresholds.length;
  // The inputs go in first: the scratch size depends on the annotations (their neighbour lists).
  // Every later allocation may grow the memory, so views are made fresh after each one.
  const predPtr = ws.get('boundary.pred', N * 4);
  const gtPtr = ws.get('boundary.gt', A * N);
  const thrPtr = ws.get('boundary.thresholds', K * 8);
  const outPtr = ws.get('boundary.out', K * 32);
  const buffer = heap.buffer();
  new Float32Array(buffer, predPtr, N).set(view(rt, pred) as Float32Array);
  gts.forEach((g, a) => new Uint8Array(buffer, gtPtr + a * N, N).set(view(rt, g) as Uint8Array));
  new Float64Array(buffer, thrPtr, K).set(thresholds);
  const scratch = ws.get('boundary.scratch', k.boundaryScratchBytes(gtPtr, A, H, W, maxDist));
  const flags = k.boundaryCounts(predPtr, gtPtr, A, H, W, thrPtr, K, maxDist, thin ? 1 : 0, outPtr, scratch);
  if (flags & BAD_INPUT) {
    const x = view(rt, pred);
    const i = x.findIndex((v) => !Number.isFinite(v));
    throw new RangeError(`${fn}: predictions[${image}][${i}] is ${x[i]}; predictions must be finite`);
  }
  if (flags & BAD_TARGET) {
    for (let a = 0; a < A; a++) {
      const g = view(rt, gts[a]!);
      const i = g.findIndex((v) => v > 1);
      if (i >= 0) throw new RangeError(`${fn}: groundTruths[${image}][${a}][${i}] is ${g[i]}; annotations must hold 0 or 1`);
    }
  }
  return new Float64Array(heap.buffer(), outPtr, K * 4).slice();
}

/** A fresh view of an operand (valid until the next allocation). */
function view(rt: Runtime, op: Operand): Float32Array | Uint8Array {
  return (op.wasm ? new op.ctor(rt.heap.buffer(), op.ptr, op.length) : op.array) as Float32Array | Uint8Array;
}

/** `[H, W]`, both positive integers. */
function imageShape(fn: string, value: unknown): [number, number] {
  if (value === undefined) throw new TypeError(`${fn}: options.shape [H, W] is required`);
  if (!Array.isArray(value)) throw new TypeError(`${fn}: options.shape takes an array [H, W]; got ${describe(value)}`);
  if (value.length !== 2) throw new RangeError(`${fn}: options.shape must be [H, W] (2 entries); got ${value.length}`);
  return dims(fn, value) as [number, number];
}

function dims(fn: string, value: readonly unknown[]): number[] {
  return value.map((d, i) => {
    if (typeof d !== 'number') throw new TypeError(`${fn}: options.shape[${i}] must be a positive integer; got ${describe(d)}`);
    if (!Number.isSafeInteger(d) || d <= 0) throw new RangeError(`${fn}: options.shape[${i}] must be a positive integer; got ${d}`);
    return d;
  });
}

/** The thresholds: K evenly spaced in (0, 1) (MATLAB linspace), or the caller's, validated. */
function parseThresholds(fn: string, value: unknown): Float64Array {
  if (value === undefined || typeof value === 'number') {
    const K = value === undefined ? 99 : integer(fn, 'thresholds', value)!;
    if (K < 1 || K > MAX_THRESHOLDS) throw new RangeError(`${fn}: options.thresholds must be a count in [1, ${MAX_THRESHOLDS}] or an array; got ${K}`);
    // linspace(d1, d2, K) as MATLAB computes it: d1 + (i·(d2 − d1))/(K − 1), the last one d2 itself.
    const d1 = 1 / (K + 1), d2 = 1 - 1 / (K + 1);
    const T = new Float64Array(K);
    for (let i = 0; i < K - 1; i++) T[i] = d1 + (i * (d2 - d1)) / (K - 1);
    T[K - 1] = d2;
    return T;
  }
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new TypeError(`${fn}: options.thresholds must be a number of thresholds or an array of them; got ${describe(value)}`);
  }
  const list = Array.from(value as ArrayLike<unknown>);
  if (list.length < 1 || list.length > MAX_THRESHOLDS) {
    throw new RangeError(`${fn}: options.thresholds must hold 1 to ${MAX_THRESHOLDS} values; got ${list.length}`);
  }
  const T = new Float64Array(list.length);
  list.forEach((t, i) => {
    if (typeof t !== 'number') throw new TypeError(`${fn}: options.thresholds[${i}] must be a number; got ${describe(t)}`);
    if (!Number.isFinite(t)) throw new RangeError(`${fn}: options.thresholds[${i}] must be finite; got ${t}`);
    if (i > 0 && !(t > T[i - 1]!)) throw new RangeError(`${fn}: options.thresholds must be strictly increasing; [${i - 1}] = ${T[i - 1]} and [${i}] = ${t}`);
    T[i] = t;
  });
  return T;
}

/**
 * Non-maximum suppression of soft edge maps along the edge normal, as the Structured Edge toolbox
 * (Dollár & Zitnick; edgesDetect.m + edgesNmsMex.cpp) and the HED/RCF evaluation pipelines:
 * the normal O = mod(atan(Oyy·sign(−Oxy)/(Oxx + 1e−5)), π) from second derivatives of the map smoothed
 * by a triangle filter of radius `smooth`; a pixel is zeroed if E·m is smaller than E interpolated
 * bilinearly at distance d = ±1..±r along O; then the outer `border` pixels fade linearly to 0.
 *
 * @param edges H × W edge strengths (or N such maps), finite
 * @returns a new Float32Array: the surviving values (times the border fade), 0 elsewhere
 * @throws TypeError / RangeError naming the argument: non-finite values, wrong length, bad options
 */
export function edgeNms(edges: ArrayArg<Float32Array>, options: EdgeNmsOptions): Float32Array {
  const fn = 'segloss.edgeNms';
  const rt = runtime();
  const o = optionsObject(fn, options);
  const e = operand(fn, 'edges', edges, [Float32Array], rt.heap);
  const shape = o.shape; // read once: a getter's first value is the one used
  if (shape === undefined) throw new TypeError(`${fn}: options.shape [H, W] or [N, H, W] is required`);
  if (!Array.isArray(shape)) throw new TypeError(`${fn}: options.shape takes an array [H, W] or [N, H, W]; got ${describe(shape)}`);
  if (shape.length !== 2 && shape.length !== 3) throw new RangeError(`${fn}: options.shape must be [H, W] or [N, H, W]; got ${shape.length} entries`);
  const d = dims(fn, shape);
  const [maps, H, W] = d.length === 3 ? d as [number, number, number] : [1, d[0]!, d[1]!];
  if (e.length !== maps * H * W) throw new RangeError(`${fn}: edges must have ${d.join(' × ')} = ${maps * H * W} elements; got ${e.length}`);
  const radius = positiveInt(fn, 'radius', o.radius, 1, 1);
  const border = positiveInt(fn, 'border', o.border, 5, 0);
  const smooth = positiveInt(fn, 'smooth', o.smooth, 4, 0);
  const multiplier = finite(fn, 'multiplier', o.multiplier, 1.01, 0);
  if (multiplier === 0) throw new RangeError(`${fn}: options.multiplier must be a finite number > 0; got 0`);

  const { kernels: k, workspace: ws, heap } = rt;
  const N = H * W;
  const scratch = ws.get('nms.scratch', k.edgeNmsScratchBytes(H, W));
  const inPtr = ws.get('nms.in', N * 4);
  const outPtr = ws.get('nms.out', N * 4);
  const result = new Float32Array(maps * N);
  for (let n = 0; n < maps; n++) {
    new Float32Array(heap.buffer(), inPtr, N).set((view(rt, e) as Float32Array).subarray(n * N, (n + 1) * N));
    if (k.edgeNms(inPtr, outPtr, H, W, radius, border, multiplier, smooth, scratch) & BAD_INPUT) {
      const x = view(rt, e);
      const i = x.findIndex((v) => !Number.isFinite(v));
      throw new RangeError(`${fn}: edges[${i}] is ${x[i]}; edge maps must be finite`);
    }
    result.set(new Float32Array(heap.buffer(), outPtr, N), n * N);
  }
  return result;
}

/** An integer option ≥ min. */
function positiveInt(fn: string, name: string, value: unknown, fallback: number, min: number): number {
  const v = integer(fn, name, value);
  if (v === undefined) return fallback;
  if (v < min || v > 1e6) throw new RangeError(`${fn}: options.${name} must be an integer in [${min}, 1000000]; got ${v}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'Array';
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v;
}
