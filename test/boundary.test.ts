// boundaryF (the BSDS500 boundary benchmark) and edgeNms: hand-checkable
// cases whose numbers are derived in the comments, random cases against the
// plain JavaScript reference (src/reference/boundary.ts), SIMD == scalar, and
// the validation errors.
import { describe, it, expect, beforeAll } from 'vitest';
import {
  init, simdSupported, alloc, boundaryF, boundaryFReference, edgeNms, edgeNmsReference,
  type BoundaryResult,
} from '../src/index.ts';
import { Rng } from './helpers.ts';

beforeAll(async () => { await init(); });

const H = 20, W = 20;
const DIAG = Math.hypot(H, W);
/** maxDist giving a match radius of `r` pixels on a 20 × 20 image. */
const radius = (r: number) => r / DIAG;

/** A 20 × 20 map with `value` on row y, columns x0..x1 (plus whatever `base` holds). */
function line(y: number, x0: number, x1: number, value = 1, base?: Float32Array): Float32Array {
  const m = base ?? new Float32Array(H * W);
  for (let x = x0; x <= x1; x++) m[y * W + x] = value;
  return m;
}
function gtLine(y: number, x0: number, x1: number, base?: Uint8Array): Uint8Array {
  const m = base ?? new Uint8Array(H * W);
  for (let x = x0; x <= x1; x++) m[y * W + x] = 1;
  return m;
}
const at = (r: BoundaryResult, k = 0) => r.curve[k]!;

describe('boundaryF: hand-checkable cases', () => {
  // The annotation of most cases: row 10, columns 2..15 (14 pixels).
  const gt = gtLine(10, 2, 15);

  it('a perfect match scores F = 1; AP over the default thresholds is Σ_k (k/100)·0.01 = 0.505', () => {
    const pred = line(10, 2, 15, 0.95);
    const r = boundaryF([pred], [[gt]], { shape: [H, W] });
    // p = 0.95 is predicted at every default threshold t ≤ 0.94 (R = P = 1) and at none above (R = P = 0).
    expect(r.curve).toHaveLength(99);
    for (const c of r.curve) {
      const on = c.threshold < 0.945; // t ≤ 0.94 (f32 0.95 = 0.9499999881 < t_94 = 0.95)
      expect([c.cntR, c.sumR, c.cntP, c.sumP]).toEqual(on ? [14, 14, 14, 14] : [0, 14, 0, 0]);
    }
    // ODS: F = 1 first at the first threshold (a later point replaces it only if strictly better).
    expect(r.ods).toEqual({ f: 1, precision: 1, recall: 1, threshold: r.curve[0]!.threshold });
    expect(r.ois).toEqual({ f: 1, precision: 1, recall: 1 });
    // Recall takes the values 0 (P = 0) and 1 (P = 1): P interpolated at recall x is x.
    expect(r.ap).toBeCloseTo(0.505, 14);
  });

  it('a line shifted by 1 px matches within a radius ≥ 1 and not below', () => {
    const pred = line(11, 2, 15, 0.9);
    const within = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(1.2) });
    expect([at(within).cntR, at(within).cntP, at(within).sumP]).toEqual([14, 14, 14]);
    expect(within.ods.f).toBe(1);
    const outside = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(0.9) });
    expect([at(outside).cntR, at(outside).sumR, at(outside).cntP, at(outside).sumP]).toEqual([0, 14, 0, 14]);
    expect(outside.ods).toEqual({ f: 0, precision: 0, recall: 0, threshold: 0.5 });
  });

  it('a line shifted by 2 px matches iff dx² + dy² ≤ r² (radius just above / just below 2)', () => {
    const pred = line(12, 2, 15, 0.9);
    const above = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(2.001) });
    expect(at(above).cntR).toBe(14);
    const below = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(1.999) });
    expect(at(below).cntR).toBe(0);
  });

  it('a broken line: 10 of 14 annotated pixels found gives R = 10/14, P = 1, F = 5/6', () => {
    const pred = line(10, 2, 6, 0.9, line(10, 11, 15, 0.9)); // a gap of 4 at columns 7..10
    const r = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(1.5) });
    expect([at(r).cntR, at(r).sumR, at(r).cntP, at(r).sumP]).toEqual([10, 14, 10, 10]);
    expect(r.ods.recall).toBe(10 / 14);
    expect(r.ods.precision).toBe(1);
    expect(r.ods.f).toBeCloseTo(5 / 6, 15); // 2·(5/7)/(1 + 5/7)
  });

  it('a double edge: two lines within tolerance of one annotated line, one to one: P = 1/2 exactly, F = 2/3', () => {
    const pred = line(12, 2, 15, 0.9, line(10, 2, 15, 0.9)); // rows 10 and 12: thinning keeps both
    const r = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.5], maxDist: radius(2.5) });
    expect([at(r).cntR, at(r).sumR, at(r).cntP, at(r).sumP]).toEqual([14, 14, 14, 28]);
    expect(r.ods.precision).toBe(0.5);
    expect(r.ods.recall).toBe(1);
    expect(r.ods.f).toBeCloseTo(2 / 3, 15);
  });

  it('several annotations: recall over each of them, precision over all of them', () => {
    const second = gtLine(12, 2, 15); // another annotator drew the edge 2 px lower
    const opts = { shape: [H, W], thresholds: [0.5], maxDist: radius(1.5) } as const;
    // Only row 10 predicted: annotation 1 fully matched (14), annotation 2 is 2 px away (0).
    const one = boundaryF([line(10, 2, 15, 0.9)], [[gt, second]], opts);
    expect([at(one).cntR, at(one).sumR, at(one).cntP, at(one).sumP]).toEqual([14, 28, 14, 14]);
    expect([one.ods.recall, one.ods.precision]).toEqual([0.5, 1]);
    // Rows 10 and 12 predicted: each annotation matched in full, every predicted pixel matched to one of them.
    const both = boundaryF([line(12, 2, 15, 0.9, line(10, 2, 15, 0.9))], [[gt, second]], opts);
    expect([at(both).cntR, at(both).sumR, at(both).cntP, at(both).sumP]).toEqual([28, 28, 28, 28]);
  });

  it('with adjacent annotations and no thinning, each annotation takes its nearest predicted pixels (as a min-cost assignment would)', () => {
    // Predicted rows 10 and 11; annotations on row 10 and on row 11; r = 1.5, so every predicted pixel
    // is in reach of both. A min-cost assignment pairs equal rows (distance 0): all 28 predicted pixels
    // are matched. A matching that ignored distance could pair both annotations with row 10 (cntP = 14).
    const pred = line(11, 2, 15, 0.9, line(10, 2, 15, 0.9));
    const r = boundaryF([pred], [[gt, gtLine(11, 2, 15)]], { shape: [H, W], thresholds: [0.5], maxDist: radius(1.5), thin: false });
    expect([at(r).cntR, at(r).sumR, at(r).cntP, at(r).sumP]).toEqual([28, 28, 28, 28]);
  });

  it('thinning: a 3-px-thick bar becomes its middle row minus one pixel at each end', () => {
    // Rows 9..11, columns 2..17. Subiteration 1 deletes the top row, (10, 17) and (11, 17) (G3: x1 = 0,
    // or x2 = x3 = 0 with x8 = 1); subiteration 2 deletes the rest of row 11 and (10, 2) (G3': x5 = 0,
    // or x6 = x7 = 0 with x4 = 1). Left: row 10, columns 3..16, a 1-px line that the next iteration
    // keeps (its ends fail G2, its inner pixels G1). Radius 0.5: only exact positions match.
    const pred = line(11, 2, 17, 0.9, line(10, 2, 17, 0.9, line(9, 2, 17, 0.9)));
    const gt16 = gtLine(10, 2, 17);
    const opts = { shape: [H, W], thresholds: [0.5], maxDist: radius(0.5) } as const;
    const thin = boundaryF([pred], [[gt16]], opts);
    expect([at(thin).cntR, at(thin).sumR, at(thin).cntP, at(thin).sumP]).toEqual([14, 16, 14, 14]);
    expect([thin.ods.precision, thin.ods.recall]).toEqual([1, 14 / 16]);
    const thick = boundaryF([pred], [[gt16]], { ...opts, thin: false });
    expect([at(thick).cntR, at(thick).sumR, at(thick).cntP, at(thick).sumP]).toEqual([16, 16, 16, 48]);
    expect(thick.ods.precision).toBe(1 / 3);
  });

  it('an empty prediction, an empty annotation, or both, score 0 everywhere', () => {
    const empty = new Float32Array(H * W);
    const none = new Uint8Array(H * W);
    const zero = { f: 0, precision: 0, recall: 0 };
    for (const [pred, g] of [[empty, gt], [line(10, 2, 15, 0.9), none], [empty, none]] as const) {
      const r = boundaryF([pred], [[g]], { shape: [H, W] });
      expect(r.ods).toEqual({ ...zero, threshold: r.curve[0]!.threshold });
      expect(r.ois).toEqual(zero);
      expect(r.ap).toBe(0); // a single distinct recall (0): BSDS's Area_PR is 0
      for (const c of r.curve) expect([c.precision, c.recall, c.f]).toEqual([0, 0, 0]);
    }
  });

  it('a pixel equal to the threshold is predicted (p ≥ t, as BSDS)', () => {
    const r = boundaryF([line(10, 2, 15, 0.5)], [[gt]], { shape: [H, W], thresholds: [0.25, 0.5, 0.75] });
    expect(r.curve.map((c) => c.sumP)).toEqual([14, 14, 0]);
  });

  it('thresholds: a count K gives MATLAB linspace(1/(K+1), 1 − 1/(K+1), K)', () => {
    const pred = line(10, 2, 15, 0.9);
    expect(boundaryF([pred], [[gt]], { shape: [H, W], thresholds: 3 }).curve.map((c) => c.threshold)).toEqual([0.25, 0.5, 0.75]);
    expect(boundaryF([pred], [[gt]], { shape: [H, W], thresholds: 1 }).curve.map((c) => c.threshold)).toEqual([0.5]);
    const d = boundaryF([pred], [[gt]], { shape: [H, W] }).curve.map((c) => c.threshold);
    expect(d[0]).toBe(0.01);
    expect(d[98]).toBe(0.99);
    for (let k = 0; k < 99; k++) expect(d[k]).toBeCloseTo((k + 1) / 100, 15);
  });

  it('ODS interpolates between thresholds: F = 2/3 at both, 3/4 halfway', () => {
    // t = 0.3: rows 10 and 12 predicted (double edge): R = 1, P = 1/2. t = 0.7: row 10, columns 2..8:
    // R = 1/2, P = 1. On the segment, r = 1 − d/2 and p = (1 + d)/2 (p + r = 3/2), so F = (4/3)·p·r peaks
    // at d = 1/2 with p = r = 3/4; the grid d = j/99 comes within 1/198 of it: F ≥ 3/4 − 1e−4.
    const pred = line(12, 2, 15, 0.5, line(10, 9, 15, 0.5, line(10, 2, 8, 0.9)));
    const r = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.3, 0.7], maxDist: radius(2.5) });
    expect(r.curve.map((c) => [c.recall, c.precision])).toEqual([[1, 0.5], [0.5, 1]]);
    expect(r.ods.f).toBeGreaterThan(0.75 - 1e-4);
    expect(r.ods.f).toBeLessThanOrEqual(0.75);
    expect(r.ods.precision).toBeCloseTo(0.75, 2);
    expect(r.ods.recall).toBeCloseTo(0.75, 2);
    expect(r.ods.threshold).toBeCloseTo(0.5, 2);
    expect(r.ods.f).toBeCloseTo((2 * r.ods.precision * r.ods.recall) / (r.ods.precision + r.ods.recall), 15);
  });

  it('OIS sums each image\'s counts at its own best threshold; AP integrates the dataset curve', () => {
    // Image A (as above): F = 2/3 at both thresholds; ties go to the first: (cntR, sumR, cntP, sumP) = (14, 14, 14, 28).
    const a = line(12, 2, 15, 0.5, line(10, 9, 15, 0.5, line(10, 2, 8, 0.9)));
    // Image B: the line at 0.9 plus one far pixel at 0.5: best at t = 0.7, counts (14, 14, 14, 14).
    const b = line(10, 2, 15, 0.9);
    b[2 * W + 18] = 0.5;
    const r = boundaryF([a, b], [[gt], [gt]], { shape: [H, W], thresholds: [0.3, 0.7], maxDist: radius(2.5) });
    // OIS: R = 28/28, P = 28/42, F = 2·(2/3)/(5/3) = 4/5.
    expect(r.ois.recall).toBe(1);
    expect(r.ois.precision).toBe(28 / 42);
    expect(r.ois.f).toBeCloseTo(0.8, 15);
    // Dataset: t = 0.3: (28, 28, 28, 43), t = 0.7: (21, 28, 21, 21). R = [1, 3/4], P = [28/43, 1].
    expect(r.curve.map((c) => [c.cntR, c.sumR, c.cntP, c.sumP])).toEqual([[28, 28, 28, 43], [21, 28, 21, 21]]);
    // AP: P(x) = 1 − (x − 3/4)·(15/43)/(1/4) on [3/4, 1], 0 elsewhere; Σ_{k=75..100} P(k/100)·0.01
    //   = 0.01·(26 − (15/43)·(1/25)·Σ_{m=0..25} m) = 0.01·(26 − 195/43) = 9.23/43.
    expect(r.ap).toBeCloseTo(9.23 / 43, 14);
  });

  it('AP takes the first (lowest) threshold of a repeated recall, as MATLAB\'s unique and NumPy', () => {
    // t = 0.2: R = 1, P = 1/2 (double edge); t = 0.4: R = 1, P = 1; t = 0.6: R = 1/2, P = 1.
    // Ru = [1/2, 1], Pu = [1, 1/2]: AP = 0.01·Σ_{k=50..100} (1 − (k − 50)/100) = 0.01·(51 − 12.75) = 0.3825
    // (it would be 0.51 with the last occurrence).
    const pred = line(12, 2, 15, 0.3, line(10, 9, 15, 0.5, line(10, 2, 8, 0.9)));
    const r = boundaryF([pred], [[gt]], { shape: [H, W], thresholds: [0.2, 0.4, 0.6], maxDist: radius(2.5) });
    expect(r.curve.map((c) => [c.recall, c.precision])).toEqual([[1, 0.5], [1, 1], [0.5, 1]]);
    expect(r.ap).toBeCloseTo(0.3825, 14);
  });

  it('without thinning, predicted pixels and matches only decrease as the threshold rises (one annotation)', () => {
    const rng = new Rng(77);
    const pred = Float32Array.from({ length: H * W }, () => rng.float());
    const g = Uint8Array.from({ length: H * W }, () => (rng.chance(0.2) ? 1 : 0));
    const r = boundaryF([pred], [[g]], { shape: [H, W], thresholds: 25, maxDist: radius(1.5), thin: false });
    for (let k = 1; k < r.curve.length; k++) {
      const [prev, cur] = [r.curve[k - 1]!, r.curve[k]!];
      expect(cur.sumP).toBeLessThanOrEqual(prev.sumP);
      expect(cur.cntR).toBeLessThanOrEqual(prev.cntR);
      expect(cur.cntP).toBeLessThanOrEqual(prev.cntP);
      expect(cur.recall).toBeLessThanOrEqual(prev.recall);
    }
    expect(r.curve[0]!.sumP).toBeGreaterThan(r.curve[24]!.sumP);
  });
});

/** A random soft edge map: a few ridges exp(−d²/2w²) with noise, and annotations near their centre lines. */
function randomImage(rng: Rng, h: number, w: number, annotations: number) {
  const pred = new Float32Array(h * w);
  const gts = Array.from({ length: annotations }, () => new Uint8Array(h * w));
  for (let l = rng.int(1, 3); l > 0; l--) {
    const y0 = rng.uniform(0, h), x0 = rng.uniform(0, w), angle = rng.uniform(0, Math.PI), width = rng.uniform(0.5, 3);
    const c = Math.cos(angle), s = Math.sin(angle);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d = -(x - x0) * s + (y - y0) * c;
        pred[y * w + x] = Math.max(pred[y * w + x]!, Math.exp(-(d * d) / (2 * width * width)) * rng.uniform(0.6, 1));
        for (const g of gts) if (Math.abs(d + rng.uniform(-1, 1)) < 0.5) g[y * w + x] = 1;
      }
    }
  }
  if (rng.chance(0.5)) for (let i = 0; i < h * w; i++) if (rng.chance(0.1)) pred[i] = rng.float();
  return { pred, gts };
}

function expectSameAsReference(got: BoundaryResult, ref: BoundaryResult, label: string): void {
  expect(got.curve.map((c) => [c.cntR, c.sumR, c.cntP, c.sumP]), label).toEqual(ref.curve.map((c) => [c.cntR, c.sumR, c.cntP, c.sumP]));
  got.curve.forEach((c, k) => {
    expect(c.threshold, label).toBe(ref.curve[k]!.threshold);
    for (const key of ['precision', 'recall', 'f'] as const) expect(Math.abs(c[key] - ref.curve[k]![key]), label).toBeLessThanOrEqual(1e-12);
  });
  for (const key of ['f', 'precision', 'recall', 'threshold'] as const) expect(Math.abs(got.ods[key] - ref.ods[key]), `${label} ods.${key}`).toBeLessThanOrEqual(1e-12);
  for (const key of ['f', 'precision', 'recall'] as const) expect(Math.abs(got.ois[key] - ref.ois[key]), `${label} ois.${key}`).toBeLessThanOrEqual(1e-12);
  expect(Math.abs(got.ap - ref.ap), `${label} ap`).toBeLessThanOrEqual(1e-12);
}

describe('boundaryF against the reference', () => {
  it('random images: counts equal, ODS / OIS / AP to 1e-12', () => {
    const rng = new Rng(2024);
    for (let trial = 0; trial < 80; trial++) {
      const h = rng.int(3, 28), w = rng.int(3, 28), n = rng.int(1, 3);
      const annotations = rng.int(1, 3);
      const images = Array.from({ length: n }, () => randomImage(rng, h, w, annotations));
      const options = {
        shape: [h, w],
        maxDist: rng.pick([0, 0.0075, 0.03, 0.08, 0.2]),
        thin: rng.chance(0.7),
        thresholds: rng.chance(0.5) ? rng.int(1, 15) : [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95],
      };
      const label = `trial ${trial}: ${JSON.stringify(options)} n=${n} a=${annotations}`;
      const got = boundaryF(images.map((i) => i.pred), images.map((i) => i.gts), options);
      const ref = boundaryFReference(images.map((i) => i.pred), images.map((i) => i.gts), options);
      expectSameAsReference(got, ref, label);
    }
  });

  it('uniform noise (thinning of irregular blobs), tall and wide images', () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 30; trial++) {
      const [h, w] = rng.pick([[1, 17], [17, 1], [2, 9], [31, 5], [12, 12]] as const);
      const pred = Float32Array.from({ length: h * w }, () => (rng.chance(0.6) ? rng.float() : 0));
      const g = Uint8Array.from({ length: h * w }, () => (rng.chance(0.3) ? 1 : 0));
      const options = { shape: [h, w], maxDist: rng.pick([0.05, 0.1, 0.3]), thresholds: 9, thin: rng.chance(0.8) };
      expectSameAsReference(boundaryF([pred], [[g]], options), boundaryFReference([pred], [[g]], options), `trial ${trial} ${h}×${w}`);
    }
  });

  it('accepts WasmArrays (zero copy) and gives the same result', () => {
    const rng = new Rng(5);
    const { pred, gts } = randomImage(rng, 16, 16, 2);
    const p = alloc(Float32Array, pred.length);
    const g = gts.map((x) => { const a = alloc(Uint8Array, x.length); a.view.set(x); return a; });
    p.view.set(pred);
    const options = { shape: [16, 16], thresholds: 11, maxDist: 0.05 };
    expect(boundaryF([p], [g], options)).toEqual(boundaryF([pred], [gts], options));
    p.free(); g.forEach((a) => a.free());
  });
});

describe('edgeNms', () => {
  /** A vertical ridge: E(y, x) = profile[x − x0] on every row. */
  function ridge(profile: number[], x0: number): Float32Array {
    const e = new Float32Array(H * W);
    for (let y = 0; y < H; y++) profile.forEach((v, i) => { e[y * W + x0 + i] = v; });
    return e;
  }

  it('keeps only the crest of a vertical ridge (border fade off)', () => {
    // E varies along x only, so Oy = Oxy = Oyy = 0 and O = mod(atan(0), π) = 0: neighbours at x ± 1.
    // Crest 1·1.01 ≥ 0.5: kept; 0.5·1.01 < 1 and 0.2·1.01 < 0.5: suppressed.
    const out = edgeNms(ridge([0.2, 0.5, 1, 0.5, 0.2], 8), { shape: [H, W], border: 0 });
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) expect(out[y * W + x], `(${y}, ${x})`).toBe(x === 10 ? 1 : 0);
    }
  });

  it('is conservative: a two-pixel plateau survives whole (1·1.01 ≥ 1)', () => {
    const out = edgeNms(ridge([0.3, 1, 1, 0.3], 8), { shape: [H, W], border: 0 });
    expect(Array.from(out.subarray(5 * W + 7, 5 * W + 13))).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('fades the outer `border` rows and columns: out = E·min(i, s)/s', () => {
    const out = edgeNms(ridge([0.2, 0.5, 1, 0.5, 0.2], 8), { shape: [H, W] }); // border 5
    for (let y = 0; y < H; y++) {
      const i = Math.min(y, H - 1 - y);
      expect(out[y * W + 10], `row ${y}`).toBe(i < 5 ? Math.fround(i / 5) : 1);
    }
  });

  it('matches the reference on random smooth maps and noise, with every option', () => {
    const rng = new Rng(31);
    for (let trial = 0; trial < 40; trial++) {
      const h = rng.int(1, 24), w = rng.int(1, 24);
      const e = rng.chance(0.5)
        ? randomImage(rng, h, w, 1).pred
        : Float32Array.from({ length: h * w }, () => (rng.chance(0.3) ? 0 : rng.float()));
      const options = {
        shape: [h, w], radius: rng.int(1, 3), border: rng.int(0, 6), multiplier: rng.pick([1, 1.01, 1.2]), smooth: rng.int(0, 5),
      };
      const got = edgeNms(e, options), ref = edgeNmsReference(e, options);
      expect(Array.from(got), `trial ${trial} ${JSON.stringify(options)}`).toEqual(Array.from(ref));
    }
  });

  it('shape [N, H, W] runs N maps', () => {
    const rng = new Rng(8);
    const a = randomImage(rng, 10, 12, 1).pred, b = randomImage(rng, 10, 12, 1).pred;
    const both = new Float32Array(240);
    both.set(a); both.set(b, 120);
    const out = edgeNms(both, { shape: [2, 10, 12] });
    expect(Array.from(out.subarray(0, 120))).toEqual(Array.from(edgeNms(a, { shape: [10, 12] })));
    expect(Array.from(out.subarray(120))).toEqual(Array.from(edgeNms(b, { shape: [10, 12] })));
  });
});

describe('SIMD and scalar builds agree', () => {
  it.runIf(simdSupported())('boundaryF and edgeNms give identical results', async () => {
    const rng = new Rng(404);
    const cases = Array.from({ length: 12 }, () => {
      const h = rng.int(5, 40), w = rng.int(5, 40);
      return { h, w, images: Array.from({ length: 2 }, () => randomImage(rng, h, w, 2)) };
    });
    const run = () => cases.map(({ h, w, images }) => ({
      b: boundaryF(images.map((i) => i.pred), images.map((i) => i.gts), { shape: [h, w], thresholds: 15, maxDist: 0.05 }),
      n: Array.from(edgeNms(images[0]!.pred, { shape: [h, w] })),
    }));
    await init({ simd: true });
    const simd = run();
    await init({ simd: false });
    const scalar = run();
    await init({ simd: true });
    expect(scalar).toEqual(simd);
  });
});

describe('validation', () => {
  const pred = new Float32Array(H * W);
  const g = new Uint8Array(H * W);
  const ok = { shape: [H, W] };

  it('boundaryF: argument types and lengths', () => {
    expect(() => boundaryF(pred as never, [[g]], ok)).toThrow(TypeError);
    expect(() => boundaryF([], [], ok)).toThrow(/predictions must hold at least one image/);
    expect(() => boundaryF([pred], [[g], [g]], ok)).toThrow(/groundTruths must have one entry per prediction \(1\); got 2/);
    expect(() => boundaryF([pred], [g as never], ok)).toThrow(/groundTruths\[0\] must be an array/);
    expect(() => boundaryF([pred], [[]], ok)).toThrow(/groundTruths\[0\] must hold at least one annotation/);
    expect(() => boundaryF([new Float64Array(H * W) as never], [[g]], ok)).toThrow(/predictions\[0\] must be a Float32Array/);
    expect(() => boundaryF([pred], [[new Float32Array(H * W) as never]], ok)).toThrow(/groundTruths\[0\]\[0\] must be a Uint8Array/);
    expect(() => boundaryF([new Float32Array(5)], [[g]], ok)).toThrow(/predictions\[0\] must have H × W = 400 elements; got 5/);
    expect(() => boundaryF([pred], [[g, new Uint8Array(3)]], ok)).toThrow(/groundTruths\[0\]\[1\] must have H × W = 400 elements; got 3/);
  });

  it('boundaryF: values', () => {
    const nan = new Float32Array(H * W); nan[7] = NaN;
    expect(() => boundaryF([nan], [[g]], ok)).toThrow(/predictions\[0\]\[7\] is NaN/);
    const inf = new Float32Array(H * W); inf[3] = -Infinity;
    expect(() => boundaryF([pred, inf], [[g], [g]], ok)).toThrow(/predictions\[1\]\[3\] is -Infinity/);
    const two = new Uint8Array(H * W); two[11] = 2;
    expect(() => boundaryF([pred], [[g, two]], ok)).toThrow(/groundTruths\[0\]\[1\]\[11\] is 2; annotations must hold 0 or 1/);
    expect(() => boundaryF([nan], [[g]], ok)).toThrow(RangeError);
  });

  it('boundaryF: options', () => {
    expect(() => boundaryF([pred], [[g]], undefined as never)).toThrow(/options.shape \[H, W\] is required/);
    expect(() => boundaryF([pred], [[g]], { shape: [1, H, W] })).toThrow(/options.shape must be \[H, W\]/);
    expect(() => boundaryF([pred], [[g]], { shape: [H, 0] })).toThrow(/options.shape\[1\] must be a positive integer; got 0/);
    expect(() => boundaryF([pred], [[g]], { ...ok, maxDist: -0.1 })).toThrow(/options.maxDist must be a finite number in \[0, 1\]/);
    expect(() => boundaryF([pred], [[g]], { ...ok, maxDist: '1' as never })).toThrow(TypeError);
    expect(() => boundaryF([pred], [[g]], { ...ok, thin: 1 as never })).toThrow(/options.thin must be a boolean/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: 0 })).toThrow(/options.thresholds must be a count in \[1, 100000\]/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: 2.5 })).toThrow(/options.thresholds must be an integer/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: [] })).toThrow(/options.thresholds must hold 1 to 100000 values; got 0/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: [0.5, 0.5] })).toThrow(/strictly increasing/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: [0.1, NaN] })).toThrow(/options.thresholds\[1\] must be finite/);
    expect(() => boundaryF([pred], [[g]], { ...ok, thresholds: 'many' as never })).toThrow(TypeError);
  });

  it('edgeNms: arguments and options', () => {
    expect(() => edgeNms(new Float64Array(4) as never, { shape: [2, 2] })).toThrow(/edges must be a Float32Array/);
    expect(() => edgeNms(pred, undefined as never)).toThrow(/options.shape \[H, W\] or \[N, H, W\] is required/);
    expect(() => edgeNms(pred, { shape: [H, W + 1] })).toThrow(/edges must have 20 × 21 = 420 elements; got 400/);
    expect(() => edgeNms(pred, { shape: [H * W] })).toThrow(/options.shape must be \[H, W\] or \[N, H, W\]/);
    expect(() => edgeNms(pred, { shape: [H, W], radius: 0 })).toThrow(/options.radius must be an integer in \[1, 1000000\]; got 0/);
    expect(() => edgeNms(pred, { shape: [H, W], border: -1 })).toThrow(/options.border/);
    expect(() => edgeNms(pred, { shape: [H, W], smooth: 1.5 })).toThrow(/options.smooth must be an integer/);
    expect(() => edgeNms(pred, { shape: [H, W], multiplier: 0 })).toThrow(/options.multiplier must be a finite number > 0/);
    const nan = new Float32Array(H * W); nan[9] = NaN;
    expect(() => edgeNms(nan, { shape: [H, W] })).toThrow(/edges\[9\] is NaN; edge maps must be finite/);
  });
});
