// Synthetic edge-detection data: grayscale images of overlapping filled shapes
// (circles, ellipses, rotated rectangles, triangles, convex polygons) and thick
// lines, with textured interiors, a small blur and Gaussian noise. The ground
// truth is a 1-pixel-wide edge map taken from the region labels, so that edges
// are thin and rare (a few percent of the pixels), as in BSDS-style data.
// Deterministic for a given seed; no Node-only APIs (runs in a Web Worker).
import { mulberry32, normal, randInt, uniform } from './rng.mjs';

/**
 * @typedef {object} Dataset
 * @property {Float32Array[]} images size×size grayscale images in [0, 1], row-major
 * @property {Uint8Array[]} edges size×size ground-truth edge maps, 1 = edge
 * @property {number} size side length in pixels
 */

/**
 * @typedef {object} DatasetOptions
 * @property {number} count number of images
 * @property {number} [size] side length in pixels (default 64)
 * @property {number} [seed] PRNG seed (default 1)
 */

/**
 * Makes `count` synthetic images with their edge maps.
 * @param {DatasetOptions} options
 * @returns {Dataset}
 */
export function makeDataset({ count, size = 64, seed = 1 }) {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`makeDataset: count must be a non-negative integer; got ${count}`);
  if (!Number.isInteger(size) || size < 8) throw new RangeError(`makeDataset: size must be an integer >= 8; got ${size}`);
  const rng = mulberry32(seed);
  /** @type {Float32Array[]} */
  const images = [];
  /** @type {Uint8Array[]} */
  const edges = [];
  for (let i = 0; i < count; i++) {
    const { image, edge } = makeSample(rng, size);
    images.push(image);
    edges.push(edge);
  }
  return { images, edges, size };
}

/**
 * Fraction of edge pixels over a data set.
 * @param {Uint8Array[]} edges
 */
export function edgeDensity(edges) {
  let ones = 0;
  let all = 0;
  for (const e of edges) {
    for (let i = 0; i < e.length; i++) ones += e[i];
    all += e.length;
  }
  return all === 0 ? 0 : ones / all;
}

/** Smallest intensity step between a shape and any region it touches. */
const MIN_CONTRAST = 0.2;

/**
 * One image: a background region, then shapes painted on top, each with a new
 * label (later = higher = in front).
 * @param {() => number} rng
 * @param {number} size
 * @returns {{ image: Float32Array, edge: Uint8Array }}
 */
export function makeSample(rng, size) {
  const n = size * size;
  const labels = new Int32Array(n);
  /** @type {Region[]} */
  const regions = [makeRegion(rng, uniform(rng, 0.1, 0.9), size)];
  const mask = new Uint8Array(n);
  const shapes = randInt(rng, 3, 6);
  const lines = randInt(rng, 0, 2);
  for (let s = 0; s < shapes + lines; s++) {
    const inside = s < shapes ? randomShape(rng, size) : randomLine(rng, size);
    rasterize(inside, size, mask);
    const touched = touchedLabels(mask, labels, size);
    if (touched.size === 0) continue; // fell outside the image
    const label = regions.length;
    regions.push(makeRegion(rng, contrastingIntensity(rng, regions, touched), size));
    for (let i = 0; i < n; i++) if (mask[i]) labels[i] = label;
  }

  // Intensity = region mean + region texture.
  const image = new Float32Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      image[i] = regions[labels[i]].shade(x, y);
    }
  }
  blur121(image, size);
  const gauss = normal(rng);
  const sigma = uniform(rng, 0.02, 0.06);
  for (let i = 0; i < n; i++) image[i] = Math.min(1, Math.max(0, image[i] + sigma * gauss()));

  // Edge pixel: a 4-neighbour has a lower label, i.e. this pixel is the front
  // side of an occluding contour. One side only, so the edge is 1 pixel wide.
  const edge = new Uint8Array(n);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const l = labels[i];
      if ((x > 0 && labels[i - 1] < l) || (x < size - 1 && labels[i + 1] < l)
        || (y > 0 && labels[i - size] < l) || (y < size - 1 && labels[i + size] < l)) edge[i] = 1;
    }
  }
  return { image, edge };
}

/**
 * @typedef {object} Region
 * @property {number} mean mean intensity
 * @property {(x: number, y: number) => number} shade intensity at a pixel
 */

/**
 * A region's appearance: flat, a low-frequency sinusoid, or smooth value noise,
 * with an amplitude well below {@link MIN_CONTRAST} so that it is texture, not edges.
 * @param {() => number} rng
 * @param {number} mean
 * @param {number} size
 * @returns {Region}
 */
function makeRegion(rng, mean, size) {
  const kind = rng();
  const amp = uniform(rng, 0.02, 0.07);
  if (kind < 0.4) return { mean, shade: () => mean };
  if (kind < 0.7) {
    // Plane wave: mean + amp·sin(2π (x cos θ + y sin θ)/λ + φ).
    const theta = uniform(rng, 0, Math.PI);
    const k = (2 * Math.PI) / uniform(rng, 10, 24);
    const kx = k * Math.cos(theta);
    const ky = k * Math.sin(theta);
    const phase = uniform(rng, 0, 2 * Math.PI);
    return { mean, shade: (x, y) => mean + amp * Math.sin(kx * x + ky * y + phase) };
  }
  // Value noise: random values on a coarse lattice, bilinearly interpolated.
  const cell = 8;
  const m = Math.ceil(size / cell) + 2;
  const lattice = new Float32Array(m * m);
  for (let i = 0; i < lattice.length; i++) lattice[i] = uniform(rng, -1, 1);
  return {
    mean,
    shade: (x, y) => {
      const fx = x / cell;
      const fy = y / cell;
      const ix = Math.floor(fx);
      const iy = Math.floor(fy);
      const tx = fx - ix;
      const ty = fy - iy;
      const a = lattice[iy * m + ix] * (1 - tx) + lattice[iy * m + ix + 1] * tx;
      const b = lattice[(iy + 1) * m + ix] * (1 - tx) + lattice[(iy + 1) * m + ix + 1] * tx;
      return mean + amp * (a * (1 - ty) + b * ty);
    },
  };
}

/**
 * A mean intensity at least MIN_CONTRAST away from every touched region's mean
 * (or the best of a few tries when no such value exists).
 * @param {() => number} rng
 * @param {Region[]} regions
 * @param {Set<number>} touched
 */
function contrastingIntensity(rng, regions, touched) {
  let best = 0.5;
  let bestGap = -1;
  for (let attempt = 0; attempt < 30; attempt++) {
    const v = uniform(rng, 0.05, 0.95);
    let gap = Infinity;
    for (const l of touched) gap = Math.min(gap, Math.abs(v - regions[l].mean));
    if (gap >= MIN_CONTRAST) return v;
    if (gap > bestGap) {
      bestGap = gap;
      best = v;
    }
  }
  return best;
}

/**
 * Labels under a mask and on its 4-neighbour ring: the regions a new shape borders.
 * @param {Uint8Array} mask
 * @param {Int32Array} labels
 * @param {number} size
 */
function touchedLabels(mask, labels, size) {
  /** @type {Set<number>} */
  const touched = new Set();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (!mask[i]) continue;
      touched.add(labels[i]);
      if (x > 0) touched.add(labels[i - 1]);
      if (x < size - 1) touched.add(labels[i + 1]);
      if (y > 0) touched.add(labels[i - size]);
      if (y < size - 1) touched.add(labels[i + size]);
    }
  }
  return touched;
}

/** @typedef {(px: number, py: number) => boolean} InsideTest */

/**
 * Sets mask[i] = 1 for pixels whose centre is inside the shape.
 * @param {InsideTest} inside
 * @param {number} size
 * @param {Uint8Array} mask
 */
function rasterize(inside, size, mask) {
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) mask[y * size + x] = inside(x + 0.5, y + 0.5) ? 1 : 0;
  }
}

/**
 * A random filled shape, centred anywhere in the image (it may be cut by the border).
 * @param {() => number} rng
 * @param {number} size
 * @returns {InsideTest}
 */
function randomShape(rng, size) {
  const cx = uniform(rng, 0.1, 0.9) * size;
  const cy = uniform(rng, 0.1, 0.9) * size;
  const r = uniform(rng, 0.08, 0.22) * size;
  const angle = uniform(rng, 0, Math.PI);
  const kind = randInt(rng, 0, 4);
  if (kind === 0) return (px, py) => (px - cx) ** 2 + (py - cy) ** 2 <= r * r; // circle
  if (kind === 1) {
    // ellipse: (u/a)² + (v/b)² ≤ 1 in the frame rotated by `angle`
    const a = r;
    const b = r * uniform(rng, 0.4, 0.9);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    return (px, py) => {
      const u = (px - cx) * c + (py - cy) * s;
      const v = -(px - cx) * s + (py - cy) * c;
      return (u / a) ** 2 + (v / b) ** 2 <= 1;
    };
  }
  if (kind === 2) {
    // rotated rectangle
    const hw = r;
    const hh = r * uniform(rng, 0.4, 1);
    return convexPolygon(rectangleCorners(cx, cy, hw, hh, angle));
  }
  // triangle (3 vertices) or convex polygon (5–7): points on a circle at
  // sorted random angles, so the polygon is convex and positively oriented.
  const k = kind === 3 ? 3 : randInt(rng, 5, 7);
  /** @type {number[]} */
  const angles = [];
  for (let i = 0; i < k; i++) angles.push(uniform(rng, 0, 2 * Math.PI));
  angles.sort((p, q) => p - q);
  return convexPolygon(angles.map((t) => [cx + r * Math.cos(t), cy + r * Math.sin(t)]));
}

/**
 * A thick straight line: a long thin rotated rectangle, 2–3 pixels wide.
 * @param {() => number} rng
 * @param {number} size
 * @returns {InsideTest}
 */
function randomLine(rng, size) {
  const cx = uniform(rng, 0.2, 0.8) * size;
  const cy = uniform(rng, 0.2, 0.8) * size;
  const halfLength = uniform(rng, 0.25, 0.6) * size;
  const halfWidth = uniform(rng, 1, 1.5);
  return convexPolygon(rectangleCorners(cx, cy, halfLength, halfWidth, uniform(rng, 0, Math.PI)));
}

/**
 * Corners, positively oriented, of a rectangle of half-sides hw × hh rotated by `angle`.
 * @param {number} cx
 * @param {number} cy
 * @param {number} hw
 * @param {number} hh
 * @param {number} angle
 * @returns {number[][]}
 */
function rectangleCorners(cx, cy, hw, hh, angle) {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return [[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]].map(([u, v]) => [cx + u * c - v * s, cy + u * s + v * c]);
}

/**
 * Inside test of a convex polygon with positive orientation (counter-clockwise
 * in x-right, y-up axes; clockwise on screen, where y points down): a point is
 * inside when the cross product (b − a) × (p − a) ≥ 0 for every edge a→b.
 * @param {number[][]} pts
 * @returns {InsideTest}
 */
function convexPolygon(pts) {
  return (px, py) => {
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[i];
      const [bx, by] = pts[(i + 1) % pts.length];
      if ((bx - ax) * (py - ay) - (by - ay) * (px - ax) < 0) return false;
    }
    return true;
  };
}

/**
 * In-place separable blur with the kernel [1, 2, 1]/4 along x then y (a
 * Gaussian of σ ≈ 0.7 px), borders clamped.
 * @param {Float32Array} img
 * @param {number} size
 */
function blur121(img, size) {
  const tmp = new Float32Array(img.length);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      const l = img[row + Math.max(0, x - 1)];
      const r = img[row + Math.min(size - 1, x + 1)];
      tmp[row + x] = 0.25 * l + 0.5 * img[row + x] + 0.25 * r;
    }
  }
  for (let y = 0; y < size; y++) {
    const up = Math.max(0, y - 1) * size;
    const down = Math.min(size - 1, y + 1) * size;
    for (let x = 0; x < size; x++) img[y * size + x] = 0.25 * tmp[up + x] + 0.5 * tmp[y * size + x] + 0.25 * tmp[down + x];
  }
}
