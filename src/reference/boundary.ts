// Plain float64 JavaScript references for the boundary benchmark and edge NMS:
// written for obviousness, not speed, and independent of the Wasm kernels
// (assembly/boundary.ts, thin.ts, match.ts) that they check.
//   - thinning: every pixel examined in every subiteration, conditions written
//     out as in Lam, Lee & Suen (1992), p. 879 (no lookup table, no work list);
//   - matching: Kuhn's algorithm with a recursive search and a fresh visited
//     set per search, neighbours found by scanning every annotation pixel;
//   - ODS / OIS / AP: a line-by-line transcription of collect_eval_bdry.m.
// The only conventions shared with the kernels are the documented ones: the
// order in which predicted pixels are offered to the matching (nearest
// annotation pixel first, then raster order), which fixes which predicted
// pixels are matched, and the threshold, interpolation and AP grids.

import type { BoundaryResult } from '../boundary.ts';

/** Options of {@link boundaryFReference} (as `boundaryF`). */
export interface BoundaryReferenceOptions {
  shape: readonly number[];
  maxDist?: number;
  thresholds?: number | ArrayLike<number>;
  thin?: boolean;
}

/** The default thresholds: MATLAB's linspace(1/(K+1), 1 − 1/(K+1), K). */
export function defaultThresholds(K: number): number[] {
  const d1 = 1 / (K + 1), d2 = 1 - 1 / (K + 1);
  if (K === 1) return [d2];
  const t: number[] = [];
  for (let i = 0; i < K; i++) t.push(d1 + (i * (d2 - d1)) / (K - 1));
  t[K - 1] = d2;
  return t;
}

/** bwmorph(bw, 'thin', Inf) on an H × W 0/1 image (row-major); returns a new image. */
export function thinReference(bw: ArrayLike<number>, H: number, W: number): Uint8Array {
  const img = Uint8Array.from(bw, (v) => (v ? 1 : 0));
  const at = (y: number, x: number) => (y < 0 || y >= H || x < 0 || x >= W ? 0 : img[y * W + x]!);
  for (;;) {
    let changed = false;
    for (const sub of [1, 2]) {
      const remove: number[] = [];
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          if (!img[y * W + x]) continue;
          // x[1..8]: E, NE, N, NW, W, SW, S, SE; x[9] = x[1].
          const n = [0, at(y, x + 1), at(y - 1, x + 1), at(y - 1, x), at(y - 1, x - 1),
            at(y, x - 1), at(y + 1, x - 1), at(y + 1, x), at(y + 1, x + 1)];
          n.push(n[1]!);
          let xh = 0;
          for (let i = 1; i <= 4; i++) if (n[2 * i - 1] === 0 && (n[2 * i] === 1 || n[2 * i + 1] === 1)) xh++;
          let n1 = 0, n2 = 0;
          for (let k = 1; k <= 4; k++) {
            if (n[2 * k - 1] || n[2 * k]) n1++;
            if (n[2 * k] || n[2 * k + 1]) n2++;
          }
          const g1 = xh === 1;
          const g2 = Math.min(n1, n2) >= 2 && Math.min(n1, n2) <= 3;
          const g3 = sub === 1
            ? !((n[2] || n[3] || !n[8]) && n[1])
            : !((n[6] || n[7] || !n[4]) && n[5]);
          if (g1 && g2 && g3) remove.push(y * W + x);
        }
      }
      for (const p of remove) img[p] = 0;
      if (remove.length) changed = true;
    }
    if (!changed) return img;
  }
}

/**
 * Maximum one-to-one matching of predicted to annotation pixels at squared
 * distance ≤ radius2, by Kuhn's algorithm: predicted pixels in order of the
 * squared distance to their nearest annotation pixel, then raster order.
 * Returns the number of pairs and which predicted pixels are matched.
 */
export function matchReference(pred: ArrayLike<number>, gt: ArrayLike<number>, H: number, W: number, radius2: number): { pairs: number; predMatched: Uint8Array } {
  const gtPixels: number[] = [];
  for (let i = 0; i < H * W; i++) if (gt[i]) gtPixels.push(i);
  const candidates: { p: number; near: number; adj: number[] }[] = [];
  for (let p = 0; p < H * W; p++) {
    if (!pred[p]) continue;
    const py = Math.floor(p / W), px = p % W;
    const adj: number[] = [];
    let near = Infinity;
    for (const g of gtPixels) {
      const dy = Math.floor(g / W) - py, dx = (g % W) - px;
      const d2 = dy * dy + dx * dx;
      if (d2 <= radius2) { adj.push(g); near = Math.min(near, d2); }
    }
    if (adj.length) candidates.push({ p, near, adj });
  }
  candidates.sort((a, b) => a.near - b.near || a.p - b.p);
  const adjOf = new Map(candidates.map((c) => [c.p, c.adj]));
  const mateOfGt = new Map<number, number>();
  const augment = (u: number, seen: Set<number>): boolean => {
    for (const g of adjOf.get(u)!) {
      if (seen.has(g)) continue;
      seen.add(g);
      const m = mateOfGt.get(g);
      if (m === undefined || augment(m, seen)) { mateOfGt.set(g, u); return true; }
    }
    return false;
  };
  let pairs = 0;
  for (const c of candidates) if (augment(c.p, new Set())) pairs++;
  const predMatched = new Uint8Array(H * W);
  for (const u of mateOfGt.values()) predMatched[u] = 1;
  return { pairs, predMatched };
}

/** Per-threshold counts [cntR, sumR, cntP, sumP] of one image (evaluation_bdry_image.m). */
export function boundaryCountsReference(pred: ArrayLike<number>, gts: readonly ArrayLike<number>[], H: number, W: number,
  thresholds: readonly number[], maxDist: number, thin: boolean): number[][] {
  const r = maxDist * Math.sqrt(H * H + W * W);
  return thresholds.map((t) => {
    let bmap: Uint8Array = Uint8Array.from({ length: H * W }, (_, i) => (pred[i]! >= t ? 1 : 0));
    if (thin) bmap = thinReference(bmap, H, W);
    const acc = new Uint8Array(H * W);
    let cntR = 0, sumR = 0;
    for (const g of gts) {
      const { pairs, predMatched } = matchReference(bmap, g, H, W, r * r);
      predMatched.forEach((v, i) => { if (v) acc[i] = 1; });
      for (let i = 0; i < H * W; i++) sumR += g[i] ? 1 : 0;
      cntR += pairs;
    }
    let cntP = 0, sumP = 0;
    for (let i = 0; i < H * W; i++) { cntP += acc[i]!; sumP += bmap[i]!; }
    return [cntR, sumR, cntP, sumP];
  });
}

// collect_eval_bdry.m's helpers.
const fmeasure = (r: number, p: number) => (2 * p * r) / (p + r + (p + r === 0 ? 1 : 0));
const ratio = (cnt: number, sum: number) => cnt / (sum + (sum === 0 ? 1 : 0));

/** BSDS500 boundary benchmark (evaluation_bdry_image.m + collect_eval_bdry.m), in plain JavaScript. */
export function boundaryFReference(predictions: readonly ArrayLike<number>[], groundTruths: readonly (readonly ArrayLike<number>[])[],
  options: BoundaryReferenceOptions): BoundaryResult {
  const [H, W] = options.shape as [number, number];
  const maxDist = options.maxDist ?? 0.0075;
  const thin = options.thin ?? true;
  const th = options.thresholds ?? 99;
  const T = typeof th === 'number' ? defaultThresholds(th) : Array.from(th);
  const K = T.length;
  const total = T.map(() => [0, 0, 0, 0]);
  const best = [0, 0, 0, 0];
  predictions.forEach((pred, i) => {
    const counts = boundaryCountsReference(pred, groundTruths[i]!, H, W, T, maxDist, thin);
    counts.forEach((c, k) => c.forEach((v, j) => { total[k]![j]! += v; }));
    // OIS: the first threshold with the image's largest F.
    const F = counts.map(([cR, sR, cP, sP]) => fmeasure(ratio(cR!, sR!), ratio(cP!, sP!)));
    const ff = F.indexOf(Math.max(...F));
    counts[ff]!.forEach((v, j) => { best[j]! += v; });
  });
  const R = total.map(([cR, sR]) => ratio(cR!, sR!));
  const P = total.map(([, , cP, sP]) => ratio(cP!, sP!));
  // maxF: interpolate 100 points between neighbouring thresholds.
  let bestT = T[0]!, bestR = R[0]!, bestP = P[0]!, bestF = fmeasure(R[0]!, P[0]!);
  for (let i = 1; i < K; i++) {
    for (let j = 0; j < 100; j++) {
      const d = j / 99; // linspace(0, 1): j/99, j = 0..99
      const t = T[i]! * d + T[i - 1]! * (1 - d);
      const r = R[i]! * d + R[i - 1]! * (1 - d);
      const p = P[i]! * d + P[i - 1]! * (1 - d);
      const f = fmeasure(r, p);
      if (f > bestF) { bestT = t; bestR = r; bestP = p; bestF = f; }
    }
  }
  const oisR = ratio(best[0]!, best[1]!), oisP = ratio(best[2]!, best[3]!);
  // AP: [Ru, indR] = unique(R) (first occurrence), P interpolated at 0:0.01:1, NaN → 0, sum × 0.01.
  const firstIndex = new Map<number, number>();
  R.forEach((r, k) => { if (!firstIndex.has(r)) firstIndex.set(r, k); });
  const Ru = [...firstIndex.keys()].sort((a, b) => a - b);
  const Pu = Ru.map((r) => P[firstIndex.get(r)!]!);
  let ap = 0;
  if (Ru.length > 1) {
    let sum = 0;
    for (let k = 0; k <= 100; k++) {
      const x = k / 100;
      if (x < Ru[0]! || x > Ru[Ru.length - 1]!) continue;
      let j = 0;
      while (j + 1 < Ru.length && Ru[j + 1]! <= x) j++;
      sum += j === Ru.length - 1 ? Pu[j]! : Pu[j]! + ((x - Ru[j]!) * (Pu[j + 1]! - Pu[j]!)) / (Ru[j + 1]! - Ru[j]!);
    }
    ap = sum * 0.01;
  }
  return {
    ods: { f: bestF, precision: bestP, recall: bestR, threshold: bestT },
    ois: { f: fmeasure(oisR, oisP), precision: oisP, recall: oisR },
    ap,
    curve: T.map((t, k) => ({
      threshold: t, precision: P[k]!, recall: R[k]!, f: fmeasure(R[k]!, P[k]!),
      cntR: total[k]![0]!, sumR: total[k]![1]!, cntP: total[k]![2]!, sumP: total[k]![3]!,
    })),
  };
}

/** Options of {@link edgeNmsReference} (as `edgeNms`). */
export interface EdgeNmsReferenceOptions {
  shape: readonly number[];
  radius?: number;
  border?: number;
  multiplier?: number;
  smooth?: number;
}

/** edgesDetect.m's orientation + edgesNmsMex.cpp, in float64 (see assembly/boundary.ts for the deviations). */
export function edgeNmsReference(edges: ArrayLike<number>, options: EdgeNmsReferenceOptions): Float32Array {
  const [H, W] = options.shape as [number, number];
  const r = options.radius ?? 1, s0 = options.border ?? 5, m = options.multiplier ?? 1.01, sm = options.smooth ?? 4;
  const E = (y: number, x: number) => edges[y * W + x]!;
  const reflect = (i: number, n: number) => { const k = ((i % (2 * n)) + 2 * n) % (2 * n); return k < n ? k : 2 * n - 1 - k; };
  const grid = (f: (y: number, x: number) => number) => Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => f(y, x)));
  // convTri: horizontal, then vertical, weights (sm + 1 − |j|)/(sm + 1)².
  const w = (j: number) => (sm + 1 - Math.abs(j)) / ((sm + 1) * (sm + 1));
  const hor = grid((y, x) => { let s = 0; for (let j = -sm; j <= sm; j++) s += w(j) * E(y, reflect(x + j, W)); return s; });
  const S = grid((y, x) => { let s = 0; for (let j = -sm; j <= sm; j++) s += w(j) * hor[reflect(y + j, H)]![x]!; return s; });
  // MATLAB gradient.
  const dx = (F: number[][]) => grid((y, x) => (W === 1 ? 0 : x === 0 ? F[y]![1]! - F[y]![0]! : x === W - 1 ? F[y]![x]! - F[y]![x - 1]! : (F[y]![x + 1]! - F[y]![x - 1]!) / 2));
  const dy = (F: number[][]) => grid((y, x) => (H === 1 ? 0 : y === 0 ? F[1]![x]! - F[0]![x]! : y === H - 1 ? F[y]![x]! - F[y - 1]![x]! : (F[y + 1]![x]! - F[y - 1]![x]!) / 2));
  const Ox = dx(S), Oy = dy(S);
  const Oxx = dx(Ox), Oxy = dx(Oy), Oyy = dy(Oy);
  const clampX = Math.max(0, W - 1.001), clampY = Math.max(0, H - 1.001);
  const interp = (x: number, y: number) => {
    x = x < 0 ? 0 : x > clampX ? clampX : x;
    y = y < 0 ? 0 : y > clampY ? clampY : y;
    const x0 = Math.trunc(x), y0 = Math.trunc(y), x1 = Math.min(x0 + 1, W - 1), y1 = Math.min(y0 + 1, H - 1);
    const dx0 = x - x0, dy0 = y - y0, dx1 = 1 - dx0, dy1 = 1 - dy0;
    return E(y0, x0) * dx1 * dy1 + E(y0, x1) * dx0 * dy1 + E(y1, x0) * dx1 * dy0 + E(y1, x1) * dx0 * dy0;
  };
  const out = new Float32Array(H * W);
  const mf = Math.fround(m);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const e = E(y, x);
      out[y * W + x] = e;
      if (e === 0) continue;
      // (cos O, sin O) for O = mod(atan(v), π).
      const v = (Oyy[y]![x]! * Math.sign(-Oxy[y]![x]!)) / (Oxx[y]![x]! + 1e-5);
      let c: number, s: number;
      if (Number.isNaN(v)) { c = 1; s = 0; } else if (Math.abs(v) > 1e150) { c = 0; s = 1; } else {
        const h = Math.sqrt(1 + v * v);
        c = (v < 0 ? -1 : 1) / h; s = Math.abs(v) / h;
      }
      const em = Math.fround(e * mf);
      for (let d = -r; d <= r; d++) {
        if (d !== 0 && em < interp(x + d * c, y + d * s)) { out[y * W + x] = 0; break; }
      }
    }
  }
  const s = Math.min(s0, Math.floor(W / 2), Math.floor(H / 2));
  for (let x = 0; x < s; x++) {
    const f = Math.fround(x / s);
    for (let y = 0; y < H; y++) { out[y * W + x] = Math.fround(out[y * W + x]! * f); out[y * W + W - 1 - x] = Math.fround(out[y * W + W - 1 - x]! * f); }
  }
  for (let y = 0; y < s; y++) {
    const f = Math.fround(y / s);
    for (let x = 0; x < W; x++) { out[y * W + x] = Math.fround(out[y * W + x]! * f); out[(H - 1 - y) * W + x] = Math.fround(out[(H - 1 - y) * W + x]! * f); }
  }
  return out;
}
