// Plain float64 references of the pooling losses, clDiceLoss and toleranceDiceLoss: the test oracles of
// assembly/pool.ts. Written independently of the kernels: windows are enumerated element by element (no
// separable passes), and the gradient comes from a small reverse-mode tape over whole arrays, so that
// soft_skel below is a line-for-line transcription of the reference Python (jocpae/clDice,
// cldice_loss/pytorch/soft_skeleton.py). No validation.
//
// Layout: [N, C, H, W] (D = 1) or [N, C, D, H, W]; each (n, c) plane of D·H·W elements is one entry.
// Pools keep in-bounds elements only; of equal extreme values the smallest flat index is selected, and
// the backward routes the gradient to the selected element. relu'(0) = 0.
import { diceLossReference } from './dice.ts';

/** Value and gradient of a reference loss. */
export interface PoolReferenceResult {
  /** Scalar loss, or the per-(sample, class) losses for `reduction: 'none'`. */
  loss: number | Float64Array;
  /** dLoss/dInput (w.r.t. logits with the sigmoid), length input.length; `null` for `reduction: 'none'`. */
  grad: Float64Array | null;
}

/** Options shared by both references. */
export interface PoolReferenceOptions {
  /** `[N, C, H, W]` or `[N, C, D, H, W]`. */
  shape: readonly number[];
  /** `'none'`: input holds P; `'sigmoid'`: P = 1/(1 + e^−x). Default `'none'`. */
  activation?: 'none' | 'sigmoid';
  /** `'mean'` over the N·C entries (default), `'sum'`, or `'none'`. */
  reduction?: 'mean' | 'sum' | 'none';
}

/** Options of {@link clDiceLossReference}. */
export interface ClDiceReferenceOptions extends PoolReferenceOptions {
  /** soft_skel iterations. Default 3. */
  iterations?: number;
  /** s in Tprec = (ΣS_P·G + s)/(ΣS_P + s), Tsens alike, and the Dice part's smoothNr = smoothDr. Default 1. */
  smooth?: number;
  /** (1 − α)·Dice + α·clDice. Default 1. */
  alpha?: number;
}

/** Options of {@link toleranceDiceLossReference}. */
export interface ToleranceDiceReferenceOptions extends PoolReferenceOptions {
  /** Chebyshev radius r of the tolerance window. Default 1. */
  tolerance?: number;
  /** s: each ratio gets s/2, so that tolerance 0 is Dice with smoothNr = smoothDr = s. Default 1e-5. */
  smooth?: number;
}

// ------------------------------------------------------------------ tape ---
/** An array on the tape and the gradient accumulated into it. */
class Var {
  readonly g: Float64Array;
  /** For a pool's output: the flat index each element selected. */
  arg?: Int32Array;
  constructor(readonly v: Float64Array) { this.g = new Float64Array(v.length); }
}

class Tape {
  private readonly backs: (() => void)[] = [];
  constructor(private readonly dims: readonly [number, number, number]) {}

  private push(v: Float64Array, back: (out: Var) => void): Var {
    const out = new Var(v);
    this.backs.push(() => back(out));
    return out;
  }

  /** Runs every recorded backward step, last first. */
  backward(): void { for (let i = this.backs.length - 1; i >= 0; i--) this.backs[i]!(); }

  /** Flat indices of the in-bounds window of element i: the cross (|offset|₁ ≤ 1) or the box (|offset|∞ ≤ r). */
  window(i: number, kind: 'cross' | 'box', r: number): number[] {
    const [D, H, W] = this.dims;
    const d = Math.floor(i / (H * W)), h = Math.floor(i / W) % H, w = i % W;
    const out: number[] = [];
    for (let dd = -r; dd <= r; dd++) {
      for (let dh = -r; dh <= r; dh++) {
        for (let dw = -r; dw <= r; dw++) {
          if (kind === 'cross' && Math.abs(dd) + Math.abs(dh) + Math.abs(dw) > 1) continue;
          const a = d + dd, b = h + dh, c = w + dw;
          if (a >= 0 && a < D && b >= 0 && b < H && c >= 0 && c < W) out.push((a * H + b) * W + c);
        }
      }
    }
    return out;
  }

  /** Min or max over each element's window; the gradient goes to the selected element. */
  pool(a: Var, kind: 'cross' | 'box', r: number, mode: 'min' | 'max'): Var {
    const n = a.v.length;
    const v = new Float64Array(n);
    const arg = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -1;
      for (const j of this.window(i, kind, r)) {
        const better = best < 0 || (mode === 'min' ? a.v[j]! < a.v[best]! : a.v[j]! > a.v[best]!)
          || (a.v[j] === a.v[best] && j < best);
        if (better) best = j;
      }
      v[i] = a.v[best]!;
      arg[i] = best;
    }
    const out = this.push(v, (o) => { for (let i = 0; i < n; i++) a.g[arg[i]!]! += o.g[i]!; });
    out.arg = arg;
    return out;
  }

  add(a: Var, b: Var): Var {
    return this.push(a.v.map((x, i) => x + b.v[i]!), (out) => {
      out.g.forEach((g, i) => { a.g[i]! += g; b.g[i]! += g; });
    });
  }
  sub(a: Var, b: Var): Var {
    return this.push(a.v.map((x, i) => x - b.v[i]!), (out) => {
      out.g.forEach((g, i) => { a.g[i]! += g; b.g[i]! -= g; });
    });
  }
  mul(a: Var, b: Var): Var {
    return this.push(a.v.map((x, i) => x * b.v[i]!), (out) => {
      out.g.forEach((g, i) => { a.g[i]! += g * b.v[i]!; b.g[i]! += g * a.v[i]!; });
    });
  }
  relu(a: Var): Var {
    return this.push(a.v.map((x) => Math.max(x, 0)), (out) => {
      out.g.forEach((g, i) => { if (a.v[i]! > 0) a.g[i]! += g; });
    });
  }
}

/**
 * One pool of a plane (`dims` = [D, H, W]): min over the cross or max over the box of Chebyshev radius r,
 * with the flat index each output selected (the smallest of equal extremes). For testing the kernels.
 */
export function poolReference(plane: ArrayLike<number>, dims: readonly [number, number, number], kind: 'cross' | 'box', r: number,
  mode: 'min' | 'max'): { values: Float64Array; arg: Int32Array } {
  const out = new Tape(dims).pool(new Var(Float64Array.from(plane)), kind, r, mode);
  return { values: out.v, arg: out.arg! };
}

// soft_erode: min of the 3×1, 1×3 (and 1×1×3) min-pools = min over the cross.
const softErode = (t: Tape, img: Var): Var => t.pool(img, 'cross', 1, 'min');
// soft_dilate: 3×3 (3×3×3) max-pool.
const softDilate = (t: Tape, img: Var): Var => t.pool(img, 'box', 1, 'max');
const softOpen = (t: Tape, img: Var): Var => softDilate(t, softErode(t, img));

/** soft_skel(img, iter_) of the reference Python, on the tape. */
function softSkel(t: Tape, img: Var, iterations: number): Var {
  let img1 = softOpen(t, img);
  let skel = t.relu(t.sub(img, img1));
  for (let j = 0; j < iterations; j++) {
    img = softErode(t, img);
    img1 = softOpen(t, img);
    const delta = t.relu(t.sub(img, img1));
    skel = t.add(skel, t.relu(t.sub(delta, t.mul(skel, delta))));
  }
  return skel;
}

/**
 * The soft skeleton of one plane (`dims` = [D, H, W]), as the reference soft_skel computes it.
 * Exported for tests and for inspecting what clDice compares.
 */
export function softSkeletonReference(plane: ArrayLike<number>, dims: readonly [number, number, number], iterations = 3): Float64Array {
  const t = new Tape(dims);
  return softSkel(t, new Var(Float64Array.from(plane)), iterations).v;
}

// ---------------------------------------------------------------- layout ---
interface Planes {
  dims: [number, number, number];
  entries: number;
  S: number;
  reduction: 'mean' | 'sum' | 'none';
  sigmoid: boolean;
}

function planesOf(options: PoolReferenceOptions): Planes {
  const s = options.shape;
  const dims: [number, number, number] = s.length === 4 ? [1, s[2]!, s[3]!] : [s[2]!, s[3]!, s[4]!];
  return {
    dims, entries: s[0]! * s[1]!, S: dims[0] * dims[1] * dims[2],
    reduction: options.reduction ?? 'mean', sigmoid: options.activation === 'sigmoid',
  };
}

/** Runs `entry` on each plane (P in f64, G) and assembles the reduced loss and dL/dInput. */
function perPlane(
  input: ArrayLike<number>, target: ArrayLike<number>, L: Planes,
  entry: (p: Float64Array, g: Float64Array, scale: number) => { loss: number; dp: Float64Array | null },
): PoolReferenceResult {
  const losses = new Float64Array(L.entries);
  const wantGrad = L.reduction !== 'none';
  const grad = wantGrad ? new Float64Array(input.length) : null;
  const scale = L.reduction === 'mean' ? 1 / L.entries : 1;
  for (let e = 0; e < L.entries; e++) {
    const x = Float64Array.from({ length: L.S }, (_, i) => input[e * L.S + i]!);
    const p = L.sigmoid ? x.map((v) => 1 / (1 + Math.exp(-v))) : x;
    const g = Float64Array.from({ length: L.S }, (_, i) => target[e * L.S + i]!);
    const r = entry(p, g, wantGrad ? scale : 0);
    losses[e] = r.loss;
    if (grad && r.dp) {
      // Chain rule of the sigmoid: dp/dx = σ(x)σ(−x) = t/(1 + t)², t = e^−|x| (no cancellation in 1 − p).
      for (let i = 0; i < L.S; i++) {
        const t = Math.exp(-Math.abs(x[i]!));
        grad[e * L.S + i] = r.dp[i]! * (L.sigmoid ? t / ((1 + t) * (1 + t)) : 1);
      }
    }
  }
  if (!wantGrad) return { loss: losses, grad: null };
  let total = 0;
  for (const v of losses) total += v;
  return { loss: total * scale, grad };
}

/** F = 2·a·b/(a + b) with its partials ∂F/∂a = 2b²/(a + b)², ∂F/∂b = 2a²/(a + b)². */
function harmonic(a: number, b: number): { F: number; dA: number; dB: number } {
  const sum = a + b;
  return { F: (2 * a * b) / sum, dA: (2 * b * b) / (sum * sum), dB: (2 * a * a) / (sum * sum) };
}

// ----------------------------------------------------------------- clDice ---
/**
 * Float64 clDice (Shit et al. 2021) per (sample, class) plane: S_P = soft_skel(P), S_G = soft_skel(G),
 * Tprec = (ΣS_P·G + s)/(ΣS_P + s), Tsens = (ΣS_G·P + s)/(ΣS_G + s), clDice = 1 − 2·Tprec·Tsens/(Tprec + Tsens);
 * with α < 1, (1 − α)·Dice + α·clDice, the Dice part {@link diceLossReference} with smoothNr = smoothDr = s.
 * The gradient: seeds dL/dS_P = −∂F/∂Tprec·(G − Tprec)/(ΣS_P + s) back through the tape of soft_skel, plus
 * the direct term −∂F/∂Tsens·S_G/(ΣS_G + s); S_G is a constant.
 */
export function clDiceLossReference(input: ArrayLike<number>, target: ArrayLike<number>, options: ClDiceReferenceOptions): PoolReferenceResult {
  const L = planesOf(options);
  const K = options.iterations ?? 3;
  const s = options.smooth ?? 1;
  const alpha = options.alpha ?? 1;
  const cl = perPlane(input, target, L, (p, g, scale) => {
    const sG = softSkeletonReference(g, L.dims, K);
    const t = new Tape(L.dims);
    const P = new Var(p);
    const sP = softSkel(t, P, K);
    let sumSPG = 0, sumSP = 0, sumSGP = 0, sumSG = 0;
    for (let i = 0; i < L.S; i++) {
      sumSPG += sP.v[i]! * g[i]!; sumSP += sP.v[i]!;
      sumSGP += sG[i]! * p[i]!; sumSG += sG[i]!;
    }
    const tprec = (sumSPG + s) / (sumSP + s);
    const tsens = (sumSGP + s) / (sumSG + s);
    const { F, dA, dB } = harmonic(tprec, tsens);
    if (scale === 0) return { loss: 1 - F, dp: null };
    // L = 1 − F: dL/dTprec = −dA, dL/dTsens = −dB.
    for (let i = 0; i < L.S; i++) {
      sP.g[i] = -alpha * scale * dA * (g[i]! - tprec) / (sumSP + s);
      P.g[i] = -alpha * scale * dB * sG[i]! / (sumSG + s);
    }
    t.backward();
    return { loss: 1 - F, dp: P.g };
  });
  if (alpha === 1) return cl;
  const dice = diceLossReference(input, target, {
    shape: options.shape, activation: options.activation ?? 'none', smoothNr: s, smoothDr: s, reduction: L.reduction,
  });
  if (L.reduction === 'none') {
    const a = cl.loss as Float64Array, b = dice.loss as Float64Array;
    return { loss: a.map((v, i) => alpha * v + (1 - alpha) * b[i]!), grad: null };
  }
  const grad = cl.grad!.map((v, i) => v + (1 - alpha) * dice.grad![i]!);
  return { loss: alpha * (cl.loss as number) + (1 - alpha) * (dice.loss as number), grad };
}

// --------------------------------------------------------- tolerance Dice ---
/**
 * Float64 tolerance Dice per (sample, class) plane, with B_r the box of Chebyshev radius r and h = s/2:
 * TPp = ΣP·maxpool_r(G), TPr = ΣG·maxpool_r(P), Prec = (TPp + h)/(ΣP + h), Rec = (TPr + h)/(ΣG + h),
 * loss = 1 − 2·Prec·Rec/(Prec + Rec). Gradient: the seed of P is −∂F/∂Prec·(maxpool_r(G) − Prec)/(ΣP + h),
 * the seed of maxpool_r(P) is −∂F/∂Rec·G/(ΣG + h), routed back to each window's argmax by the tape.
 */
export function toleranceDiceLossReference(input: ArrayLike<number>, target: ArrayLike<number>, options: ToleranceDiceReferenceOptions): PoolReferenceResult {
  const L = planesOf(options);
  const r = options.tolerance ?? 1;
  const h = (options.smooth ?? 1e-5) / 2;
  return perPlane(input, target, L, (p, g, scale) => {
    const t = new Tape(L.dims);
    const dG = t.pool(new Var(g), 'box', r, 'max').v;
    const P = new Var(p);
    const mP = t.pool(P, 'box', r, 'max');
    let tpp = 0, sumP = 0, tpr = 0, sumG = 0;
    for (let i = 0; i < L.S; i++) {
      tpp += p[i]! * dG[i]!; sumP += p[i]!;
      tpr += g[i]! * mP.v[i]!; sumG += g[i]!;
    }
    const prec = (tpp + h) / (sumP + h);
    const rec = (tpr + h) / (sumG + h);
    const { F, dA, dB } = harmonic(prec, rec);
    if (scale === 0) return { loss: 1 - F, dp: null };
    for (let i = 0; i < L.S; i++) {
      P.g[i] = -scale * dA * (dG[i]! - prec) / (sumP + h);
      mP.g[i] = -scale * dB * g[i]! / (sumG + h);
    }
    t.backward();
    return { loss: 1 - F, dp: P.g };
  });
}
