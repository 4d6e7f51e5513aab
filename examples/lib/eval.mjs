// The live demo's edge F-score (examples/demo): ODS-like, in the spirit of
// the BSDS benchmark — one threshold for the whole data set (the best one) and
// one-to-one matching, so a thick prediction pays for its extra pixels in
// precision — but looser than segloss.boundaryF, which `npm start` uses: the
// raw probability map is scored (no non-maximum suppression, no thinning),
// with a 1-pixel tolerance, and the matching is greedy rather than an optimal
// assignment: pixels are taken in order of decreasing probability and each is
// matched to a free ground-truth pixel in its 3×3 neighbourhood (the same
// pixel first, then 4-neighbours, then diagonals). Because the order is by
// probability, one pass gives the matching at every threshold at once.
// Why the page keeps it: after the page's 150 steps the strict benchmark
// (edgeNms, then boundaryF at BSDS's 0.0075 × diagonal, 0.68 px here) does not
// yet separate the losses (Dice + BCE above BCE on 4 of seeds 1–11), while
// this score shows what the page is about, how bright and how thin the raw
// edges are (Dice + BCE above BCE on all 11).
// No Node-only APIs: runs in a Web Worker.

/**
 * @typedef {object} FScore
 * @property {number} f best F = 2PR/(P + R) over the thresholds
 * @property {number} threshold the probability threshold that gives it
 * @property {number} precision P at that threshold
 * @property {number} recall R at that threshold
 */

/**
 * Approximate ODS F-score of edge probability maps (see the file comment).
 * Thresholds are t = i/bins for i = 1 … bins − 1; a pixel is predicted when p ≥ t.
 * @param {ArrayLike<number>[]} probs per image, size×size probabilities in [0, 1]
 * @param {Uint8Array[]} edges per image, size×size ground truth (1 = edge)
 * @param {number} size image side
 * @param {{ bins?: number }} [options] number of threshold bins (default 100)
 * @returns {FScore}
 */
export function edgeFScoreApprox(probs, edges, size, { bins = 100 } = {}) {
  if (probs.length !== edges.length) throw new RangeError('edgeFScoreApprox: probs and edges must have the same length');
  const S = size * size;
  // Histograms by threshold bin of predicted pixels and of matched predicted pixels.
  const predicted = new Float64Array(bins);
  const matched = new Float64Array(bins);
  let edgeTotal = 0;
  const order = new Uint32Array(S);
  const taken = new Uint8Array(S);
  // Neighbour offsets, nearest first: same pixel, 4-neighbours, diagonals.
  const near = [[0, 0], [0, -1], [-1, 0], [1, 0], [0, 1], [-1, -1], [1, -1], [-1, 1], [1, 1]];
  for (let im = 0; im < probs.length; im++) {
    const p = probs[im];
    const g = edges[im];
    for (let i = 0; i < S; i++) {
      order[i] = i;
      edgeTotal += g[i];
    }
    order.sort((a, b) => p[b] - p[a] || a - b); // by decreasing probability, ties by position
    taken.fill(0);
    for (const i of order) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i] * bins)));
      predicted[b]++;
      const y = Math.floor(i / size);
      const x = i - y * size;
      for (const [dx, dy] of near) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || xx >= size || yy < 0 || yy >= size) continue;
        const j = yy * size + xx;
        if (g[j] && !taken[j]) {
          taken[j] = 1;
          matched[b]++;
          break;
        }
      }
    }
  }
  // Sweep thresholds from high to low: counts at threshold t = i/bins are the
  // sums over bins ≥ i. P = matched/predicted, R = matched/edge pixels.
  /** @type {FScore} */
  let best = { f: 0, threshold: 0.5, precision: 0, recall: 0 };
  let nPred = 0;
  let nMatched = 0;
  for (let i = bins - 1; i >= 1; i--) {
    nPred += predicted[i];
    nMatched += matched[i];
    if (nPred === 0 || edgeTotal === 0) continue;
    const precision = nMatched / nPred;
    const recall = nMatched / edgeTotal;
    const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f > best.f) best = { f, threshold: i / bins, precision, recall };
  }
  return best;
}
/**
 * The same score for the trivial detector that marks every pixel as an edge
 * (recall 1, precision = share of edge pixels): the "chance" level.
 * @param {Uint8Array[]} edges
 * @param {number} size
 * @returns {FScore}
 */
export function everythingEdgeFScore(edges, size) {
  const ones = edges.map(() => new Float32Array(size * size).fill(1));
  return edgeFScoreApprox(ones, edges, size);
}
