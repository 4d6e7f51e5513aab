// Morphological thinning of a binary image to 1-pixel-wide lines, as MATLAB's
// bwmorph(bw, 'thin', Inf), which the BSDS500 benchmark applies to every
// thresholded edge map. MATLAB documents the algorithm as Lam, Lee & Suen,
// "Thinning methodologies — a comprehensive survey", IEEE TPAMI 14(9), 1992,
// p. 879 (the two-subiteration parallel algorithm of Guo & Hall, 1989).
//
// Neighbours of a pixel p, counter-clockwise from the east (y grows down):
//   x4 x3 x2        bit k of the neighbourhood code is x_{k+1}:
//   x5 p  x1        x1 = E, x2 = NE, x3 = N, x4 = NW,
//   x6 x7 x8        x5 = W, x6 = SW, x7 = S, x8 = SE.
// A set pixel p is deleted in the first subiteration iff G1 ∧ G2 ∧ G3, in the
// second iff G1 ∧ G2 ∧ G3', every condition evaluated on the image as it was
// at the start of the subiteration (parallel):
//   G1:  X_H(p) = 1, X_H(p) = Σ_{i=1..4} b_i, b_i = [x_{2i−1} = 0 ∧ (x_{2i} = 1 ∨ x_{2i+1} = 1)], x9 = x1
//   G2:  2 ≤ min(n1(p), n2(p)) ≤ 3, n1 = Σ_{k=1..4} x_{2k−1} ∨ x_{2k}, n2 = Σ_{k=1..4} x_{2k} ∨ x_{2k+1}
//   G3:  (x2 ∨ x3 ∨ ¬x8) ∧ x1 = 0
//   G3': (x6 ∨ x7 ∨ ¬x4) ∧ x5 = 0
// Iterations (first then second subiteration) repeat until one deletes
// nothing. Pixels outside the image are 0.
//
// Speed: a pixel can only be deleted when its 3×3 neighbourhood differs from
// the last time it was examined in the same subiteration (the decision is a
// function of the neighbourhood code), and a pixel whose four 4-neighbours
// are all set fails G1. So each subiteration examines only a work list: at
// the start the set pixels with an unset 4-neighbour, later the set
// neighbours of the pixels just deleted. This gives exactly the result of
// examining every pixel, in time proportional to the pixels that change.

// 256-entry deletion tables, indexed by the neighbourhood code.
const DELETE_FIRST: usize = memory.data(256);
const DELETE_SECOND: usize = memory.data(256);
let tablesReady = false;

// @ts-ignore: decorator
@inline function bit(code: i32, k: i32): bool {
  return ((code >> (k & 7)) & 1) != 0;
}

/** Fills the two deletion tables from G1, G2, G3 and G3' (bit k = x_{k+1}). */
function buildTables(): void {
  for (let code = 0; code < 256; code++) {
    // G1: crossing number X_H(p) = 1.
    let xh = 0;
    for (let i = 0; i < 8; i += 2) {
      if (!bit(code, i) && (bit(code, i + 1) || bit(code, i + 2))) xh++;
    }
    // G2: 2 ≤ min(n1, n2) ≤ 3.
    let c1 = 0, c2 = 0; // n1(p), n2(p)
    for (let k = 0; k < 8; k += 2) {
      if (bit(code, k) || bit(code, k + 1)) c1++;
      if (bit(code, k + 1) || bit(code, k + 2)) c2++;
    }
    const m = min(c1, c2);
    const g12 = xh == 1 && m >= 2 && m <= 3;
    // G3: (x2 ∨ x3 ∨ ¬x8) ∧ x1 = 0;  G3': (x6 ∨ x7 ∨ ¬x4) ∧ x5 = 0.
    const g3 = !((bit(code, 1) || bit(code, 2) || !bit(code, 7)) && bit(code, 0));
    const g3p = !((bit(code, 5) || bit(code, 6) || !bit(code, 3)) && bit(code, 4));
    store<u8>(DELETE_FIRST + code, g12 && g3 ? 1 : 0);
    store<u8>(DELETE_SECOND + code, g12 && g3p ? 1 : 0);
  }
  tablesReady = true;
}

/** The neighbourhood code of pixel p of a 0/1 byte image with row stride S. */
// @ts-ignore: decorator
@inline function neighbourCode(img: usize, p: usize, S: usize): i32 {
  return <i32>load<u8>(img + p + 1)
    | (<i32>load<u8>(img + p - S + 1) << 1)
    | (<i32>load<u8>(img + p - S) << 2)
    | (<i32>load<u8>(img + p - S - 1) << 3)
    | (<i32>load<u8>(img + p - 1) << 4)
    | (<i32>load<u8>(img + p + S - 1) << 5)
    | (<i32>load<u8>(img + p + S) << 6)
    | (<i32>load<u8>(img + p + S + 1) << 7);
}

// Work lists of the two subiterations (i32 pixel offsets) and their lengths.
// flags bit 1: the pixel is in list1, bit 2: in list2 (no duplicates).
let list1: usize = 0, list2: usize = 0;
let n1 = 0, n2 = 0;

/** Queues pixel q for both subiterations if it is set and not queued yet. */
// @ts-ignore: decorator
@inline function queue(img: usize, flags: usize, q: usize): void {
  if (load<u8>(img + q) == 0) return;
  const f = <i32>load<u8>(flags + q);
  if ((f & 1) == 0) { store<i32>(list1 + (<usize>n1 << 2), <i32>q); n1++; }
  if ((f & 2) == 0) { store<i32>(list2 + (<usize>n2 << 2), <i32>q); n2++; }
  store<u8>(flags + q, <u8>3);
}

/**
 * Thins the 0/1 byte image `img` in place. The image is H rows of W pixels
 * starting at byte `origin`, rows `S` bytes apart, with at least one row and
 * column of zeros all around. `flags` (bytes, same layout) must be all zero
 * and is left all zero; list1, list2 and del are i32 arrays with room for as
 * many entries as set pixels.
 */
export function thinImage(img: usize, origin: usize, H: i32, W: i32, S: usize,
  flags: usize, firstList: usize, secondList: usize, del: usize): void {
  if (!tablesReady) buildTables();
  list1 = firstList; list2 = secondList;
  // Start: every set pixel with an unset 4-neighbour, queued for both subiterations.
  n1 = 0; n2 = 0;
  for (let y = 0; y < H; y++) {
    const row = origin + <usize>y * S;
    for (let x = 0; x < W; x++) {
      const p = row + <usize>x;
      if (load<u8>(img + p) == 0) continue;
      if (load<u8>(img + p + 1) & load<u8>(img + p - 1) & load<u8>(img + p - S) & load<u8>(img + p + S)) continue;
      store<i32>(list1 + (<usize>n1 << 2), <i32>p); n1++;
      store<i32>(list2 + (<usize>n2 << 2), <i32>p); n2++;
      store<u8>(flags + p, <u8>3);
    }
  }
  for (;;) {
    let deleted = 0;
    for (let sub = 1; sub <= 2; sub++) {
      const list = sub == 1 ? list1 : list2;
      const count = sub == 1 ? n1 : n2;
      const table = sub == 1 ? DELETE_FIRST : DELETE_SECOND;
      const clear = <u8>(sub == 1 ? 2 : 1); // the flag bit that stays
      // Decide on the image as it is (parallel), then delete.
      let nd = 0;
      for (let i = 0; i < count; i++) {
        const p = <usize>load<i32>(list + (<usize>i << 2));
        store<u8>(flags + p, load<u8>(flags + p) & clear);
        if (load<u8>(img + p) != 0 && load<u8>(table + neighbourCode(img, p, S)) != 0) {
          store<i32>(del + (<usize>nd << 2), <i32>p); nd++;
        }
      }
      if (sub == 1) n1 = 0; else n2 = 0;
      for (let i = 0; i < nd; i++) {
        const p = <usize>load<i32>(del + (<usize>i << 2));
        store<u8>(img + p, 0);
      }
      // Every set neighbour of a deleted pixel has a new neighbourhood: queue it.
      for (let i = 0; i < nd; i++) {
        const p = <usize>load<i32>(del + (<usize>i << 2));
        queue(img, flags, p + 1);
        queue(img, flags, p - S + 1);
        queue(img, flags, p - S);
        queue(img, flags, p - S - 1);
        queue(img, flags, p - 1);
        queue(img, flags, p + S - 1);
        queue(img, flags, p + S);
        queue(img, flags, p + S + 1);
      }
      deleted += nd;
    }
    if (deleted == 0) break;
  }
}
