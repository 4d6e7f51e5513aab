// One-to-one matching of predicted edge pixels to the pixels of one
// ground-truth annotation within a radius, for the boundary benchmark.
//
// BSDS500's correspondPixels solves a min-cost assignment (Goldberg's CSA)
// whose real edges join pixels at distance ≤ r (cost = distance) and whose
// outlier edges cost 100·r: it maximises the number of matched pairs first
// (as long as no exchange of matches saves more than two outlier costs in
// distance), then minimises the total distance. The benchmark only uses how
// many pixels are matched (recall) and which predicted pixels are (precision,
// pooled over annotations). This file computes a maximum-cardinality matching
// by augmenting paths (Kuhn's algorithm), trying the predicted pixels in a
// fixed priority order: nearest annotation pixel first (squared distance
// level), then raster order. The set of predicted pixels it matches is then
// canonical — the greedy basis of the transversal matroid for that order,
// whatever the search order inside each augmenting-path search — so the
// float64 reference (src/reference/boundary.ts) can reproduce it exactly, and
// nearer predicted pixels win, as they do in the min-cost assignment.
//
// Neighbours: the annotation pixels within the radius of every pixel p, in
// order of increasing distance (ties in raster order), are listed once per
// image and annotation in compressed rows (built by assembly/boundary.ts):
// entries[start[p] .. start[p + 1]) are offset indices k, the pixel being
// p + offsets[k]. The first one gives p's priority level.
//
// Search: iterative depth-first search for an augmenting path from the next
// predicted pixel u: from a predicted pixel, take a free annotation pixel in
// radius if there is one (look-ahead), else try the annotation pixels w in
// radius by increasing distance and continue from w's mate. Pruning: the annotation pixels visited by a search
// that failed are closed (all matched, their mates' neighbours all visited),
// so no later augmenting path can enter them; they stay marked "dead" for the
// rest of this matching. Only a successful search clears its marks (by a new
// stamp). This keeps the cost near-linear on edge maps.
//
// Pixels are indices into the padded image layout of assembly/boundary.ts;
// the padding is at least the radius wide, so `p + offset` never leaves it.

// ----------------------------------------------------------------- layout ---
// Set by the driver before matching (assembly/boundary.ts).
export let offsets: usize = 0;       // i32 [nOffsets]: p + offsets[k] = k-th pixel in radius
export let offsetLevel: usize = 0;   // i32 [nOffsets]: rank of offsets[k]'s squared distance
export let nOffsets = 0;
export let nLevels = 0;
export let levelStart: usize = 0;    // i32 [nLevels + 1]: counting-sort buckets
export let mateOfPred: usize = 0;    // i32 per pixel: matched annotation pixel, −1 if none
export let mateOfGt: usize = 0;      // i32 per pixel: matched predicted pixel, −1 if none
export let visitStamp: usize = 0;    // i32 per pixel: stamp of the search that visited it
export let order: usize = 0;         // i32 [nPred]: list positions in priority order
export let levelOf: usize = 0;       // i32 [nPred]: priority level of each predicted pixel, −1: none in radius
export let stackPred: usize = 0;     // i32: predicted pixels on the search path
export let stackNext: usize = 0;     // i32: next neighbour entry to try at each depth
export let visited: usize = 0;       // i32: annotation pixels visited by the current search

let stamp = 0;

/** Sets the layout pointers (called once per image by the driver). */
export function setMatchLayout(off: usize, offLevel: usize, nOff: i32, nLev: i32, levStart: usize,
  mateP: usize, mateG: usize, visit: usize, ord: usize, lev: usize, stackP: usize, stackN: usize, vis: usize): void {
  offsets = off; offsetLevel = offLevel; nOffsets = nOff; nLevels = nLev; levelStart = levStart;
  mateOfPred = mateP; mateOfGt = mateG; visitStamp = visit; order = ord; levelOf = lev;
  stackPred = stackP; stackNext = stackN; visited = vis;
}

/** Forgets every stamp (the visit array must be zeroed by the caller). */
export function resetStamps(): void { stamp = 0; }

// @ts-ignore: decorator
@inline function geti(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function seti(base: usize, i: i32, v: i32): void { store<i32>(base + (<usize>i << 2), v); }
// @ts-ignore: decorator
@inline function getAt(base: usize, p: i32): i32 { return load<i32>(base + (<usize>p << 2)); }
// @ts-ignore: decorator
@inline function setAt(base: usize, p: i32, v: i32): void { store<i32>(base + (<usize>p << 2), v); }

/**
 * Matches the predicted pixels `predList[0..nPred)` to the pixels of one
 * annotation, whose neighbour lists are `start` (i32 per pixel, + 1) and
 * `entries` (i32 offset indices). Sets matchedAny[i] = 1 for every matched
 * predicted pixel i; returns the number of matched pairs. Leaves
 * mateOfPred/mateOfGt all −1 again.
 */
export function matchAnnotation(start: usize, entries: usize, predList: usize, nPred: i32, matchedAny: usize,
  visitBytes: usize): i32 {
  // Stamps: `dead` marks pixels of failed searches for this whole matching,
  // each search takes a fresh stamp. Before 2^30, restart them (at most
  // nPred + 1 stamps are taken below).
  if (stamp > 0x3fffffff - nPred - 2) { memory.fill(visitStamp, 0, visitBytes); stamp = 0; }
  const dead = ++stamp;

  // Priority: the level of the nearest annotation pixel (the first
  // neighbour), then list (raster) order, by a counting sort.
  const levels = nLevels;
  memory.fill(levelStart, 0, <usize>(levels + 1) << 2);
  for (let i = 0; i < nPred; i++) {
    const p = geti(predList, i);
    const first = getAt(start, p);
    const level = first < getAt(start, p + 1) ? geti(offsetLevel, geti(entries, first)) : -1;
    seti(levelOf, i, level);
    if (level >= 0) seti(levelStart, level + 1, geti(levelStart, level + 1) + 1);
  }
  for (let l = 0; l < levels; l++) seti(levelStart, l + 1, geti(levelStart, l + 1) + geti(levelStart, l));
  let nOrdered = 0;
  for (let i = 0; i < nPred; i++) {
    const level = geti(levelOf, i);
    if (level < 0) continue;
    const at = geti(levelStart, level);
    seti(order, at, i);
    seti(levelStart, level, at + 1);
    nOrdered++;
  }

  let matched = 0;
  for (let j = 0; j < nOrdered; j++) {
    const u = geti(predList, geti(order, j));
    const s = ++stamp;
    let nVisited = 0;
    let depth = 0;
    seti(stackPred, 0, u);
    seti(stackNext, 0, getAt(start, u));
    let free = -1;
    while (depth >= 0) {
      const x = geti(stackPred, depth);
      let k = geti(stackNext, depth);
      const end = getAt(start, x + 1);
      if (k == getAt(start, x)) {
        // Look-ahead on a first visit: a free annotation pixel in radius ends
        // the search at once (free pixels are never visited or dead: both
        // hold matched pixels only).
        for (let q = k; q < end; q++) {
          const w = x + geti(offsets, geti(entries, q));
          if (getAt(mateOfGt, w) < 0) { free = w; break; }
        }
        if (free >= 0) break;
      }
      let next = -1;
      while (k < end) {
        const w = x + geti(offsets, geti(entries, k));
        k++;
        const v = getAt(visitStamp, w);
        if (v == s || v == dead) continue;
        setAt(visitStamp, w, s);
        seti(visited, nVisited, w); nVisited++;
        next = getAt(mateOfGt, w); // matched: the look-ahead found no free one
        break;
      }
      if (next >= 0) {
        seti(stackNext, depth, k);
        depth++;
        seti(stackPred, depth, next);
        seti(stackNext, depth, getAt(start, next));
      } else {
        depth--;
      }
    }
    if (free >= 0) {
      // Augment: each predicted pixel on the path takes the annotation pixel
      // that led to the next one (the last takes the free one).
      let w = free;
      for (let d = depth; d >= 0; d--) {
        const x = geti(stackPred, d);
        const previous = getAt(mateOfPred, x);
        setAt(mateOfPred, x, w);
        setAt(mateOfGt, w, x);
        w = previous;
      }
      matched++;
    } else {
      for (let i = 0; i < nVisited; i++) setAt(visitStamp, geti(visited, i), dead);
    }
  }

  // Record the matched predicted pixels and clear the mates for the next call.
  for (let i = 0; i < nPred; i++) {
    const p = geti(predList, i);
    const w = getAt(mateOfPred, p);
    if (w < 0) continue;
    store<u8>(matchedAny + <usize>i, 1);
    setAt(mateOfGt, w, -1);
    setAt(mateOfPred, p, -1);
  }
  return matched;
}
