// Region losses from their sums. Pass 1 (assembly/dice.ts) leaves, for every
// row r (a sample, or the whole batch with `batch`) and class c, the sums
//   I = Σ p·g (Σ min(p, g) for soft labels), SP = Σ p (Σ p²), SG = Σ g (Σ g²)
// in f64, [R][C][3]. From them this file computes each entry's loss and two
// coefficients (A, B) of its gradient, dL/dp_i = A·γ_i + B·h_i, where γ_i =
// dI/dp_i (g_i, or the soft-label step) and h_i = dSP/dp_i (1, or 2p_i when
// squared); pass 2 evaluates them per element.
//
// Every form is a ratio T = Nm/D of the sums and a loss f(T); with
// dT/dp_i = aT·γ_i + bT·h_i, the coefficients are A = f'(T)·aT, B = f'(T)·bT.
// D = 0 happens only with smoothDr = 0 and an entry whose kept p and g are
// all 0 (or that keeps nothing): a perfect match, taken as T = 1, loss 0 and
// zero gradient. f64 throughout; Math here is AssemblyScript's own
// implementation compiled into the module, so results are the same bits in
// every runtime.

export const FORM_DICE = 0;        // T = (2I + snr)/(SP + SG + sdr)
export const FORM_JACCARD = 1;     // T = (I + snr)/(SP + SG − I + sdr)
export const FORM_TVERSKY = 2;     // T = (I + snr)/(I + α·FP + β·FN + sdr)
export const FORM_GENERALIZED = 3; // T = (2Σ_c w_c·I_c + snr)/(Σ_c w_c·(SP_c + SG_c) + sdr)

export const TRANSFORM_NONE = 0;    // L = 1 − T
export const TRANSFORM_LOG = 1;     // L = −log(max(T, 1e−7))   (smp's log_loss)
export const TRANSFORM_LOGCOSH = 2; // L = log(cosh(1 − T))
export const TRANSFORM_INVERSE = 3; // L = 1/T (crispEdgeLoss: (ΣP² + ΣG²)/(2ΣPG), smoothed; needs snr > 0)

export const WEIGHT_SQUARE = 0;  // w_c = 1/SG_c²
export const WEIGHT_SIMPLE = 1;  // w_c = 1/SG_c
export const WEIGHT_UNIFORM = 2; // w_c = 1

export const REDUCE_MEAN = 0;
export const REDUCE_SUM = 1;
export const REDUCE_NONE = 2;

const LOG_FLOOR: f64 = 1e-7;
// Coefficients are clamped to ±1e30 before the f32 conversion, so that an
// absurd smoothing (snr ≫ sdr = 0 with near-zero predictions) cannot turn the
// gradient into Infinity.
const COEF_MAX: f64 = 1e30;
// The ratio T is clamped to 1e30: it exceeds 1 only when smoothNr outweighs the
// denominator, and with a subnormal α or β (D ≈ 1e−323) Nm/D would overflow.
// The derivatives are formed as T/D, never Nm/D² (D² underflows to 0 first).
const RATIO_MAX: f64 = 1e30;

/** Adds rows 1..R−1 of stats ([R][K] f64) into row 0, in row order. */
export function sumRows(stats: usize, R: i32, K: i32): void {
  for (let r = 1; r < R; r++) {
    for (let k = 0; k < K; k++) {
      const at = stats + (<usize>k << 3);
      store<f64>(at, load<f64>(at) + load<f64>(at + ((<usize>r * K) << 3)));
    }
  }
}

// The loss f(T) of an entry and its derivative f'(T), for the loss's shape:
// transform for Dice / Jaccard, the focal exponent γ for Tversky
// (L = (1 − T)^γ, clamped at 0 so that a ratio above 1 cannot make it NaN).
let lossDerivative: f64 = 0;
function lossOfRatio(T: f64, transform: i32, gamma: f64): f64 {
  if (transform == TRANSFORM_LOG) {
    if (T < LOG_FLOOR) { lossDerivative = 0; return -Math.log(LOG_FLOOR); }
    lossDerivative = -1 / T;
    return -Math.log(T);
  }
  if (transform == TRANSFORM_INVERSE) {
    const inv = 1 / T;
    lossDerivative = -inv / T;
    return inv;
  }
  if (transform == TRANSFORM_LOGCOSH) {
    // log cosh u = |u| + log1p(e^−2|u|) − log 2: no overflow of cosh for large |u|.
    const u = 1 - T, a = Math.abs(u);
    lossDerivative = -Math.tanh(u);
    return a + Math.log1p(Math.exp(-2 * a)) - Math.LN2;
  }
  if (gamma != 1) {
    const u = 1 - T;
    if (u <= 0) { lossDerivative = 0; return 0; }
    lossDerivative = -gamma * Math.pow(u, gamma - 1);
    return Math.pow(u, gamma);
  }
  lossDerivative = -1;
  return 1 - T;
}

// @ts-ignore: decorator
@inline function clampCoef(v: f64): f64 {
  return v > COEF_MAX ? COEF_MAX : v < -COEF_MAX ? -COEF_MAX : v;
}

// @ts-ignore: decorator
@inline function storeCoef(coef: usize, r: i32, C: i32, c: i32, A: f64, B: f64, squared: bool): void {
  const cf = coef + (<usize>r * C + c) * 12;
  const cA = <f32>clampCoef(A), cB = <f32>clampCoef(B);
  store<f32>(cf, cA);
  store<f32>(cf, squared ? 0 : cB, 4);
  store<f32>(cf, squared ? <f32>2 * cB : 0, 8);
}

/**
 * Losses and gradient coefficients of every entry. `params` holds f64
 * (smoothNr, smoothDr, alpha, beta, gamma). Entries are (row, kept class)
 * pairs, or rows for the generalized form. Writes the weighted per-entry
 * losses to `losses` (f64) and, if `coef` is not 0, (A, B1, B2) as f32 for
 * every (row, class) to `coef` ([R][C][3]; zero for dropped classes), where the
 * pass-2 gradient is A·γ + B2·p + B1. Returns the reduced loss.
 */
export function regionEpilogue(
  stats: usize, R: i32, C: i32, cStart: i32, form: i32, squared: bool, params: usize,
  transform: i32, weightType: i32, weights: usize, reduction: i32, losses: usize, coef: usize,
): f64 {
  const snr = load<f64>(params), sdr = load<f64>(params, 8);
  const alpha = load<f64>(params, 16), beta = load<f64>(params, 24), gamma = load<f64>(params, 32);
  const kept = C - cStart;
  const entries = form == FORM_GENERALIZED ? R : R * kept;
  if (coef) memory.fill(coef, 0, <usize>R * C * 12);
  let total: f64 = 0;
  for (let r = 0; r < R; r++) {
    const row = stats + <usize>r * C * 24;
    if (form == FORM_GENERALIZED) {
      // w_c from the class's target sum; an empty class (w = ∞) takes the
      // largest finite weight of its row (MONAI's GeneralizedDiceLoss).
      let wMax: f64 = 0;
      for (let c = cStart; c < C; c++) {
        const w = classWeight(load<f64>(row + <usize>c * 24, 16), weightType);
        if (w != Infinity && w > wMax) wMax = w;
      }
      let Nm = snr, D = sdr;
      for (let c = cStart; c < C; c++) {
        const st = row + <usize>c * 24;
        let w = classWeight(load<f64>(st, 16), weightType);
        if (w == Infinity) w = wMax;
        Nm += 2 * w * load<f64>(st);
        D += w * (load<f64>(st, 8) + load<f64>(st, 16));
      }
      const T = D == 0 ? 1 : min<f64>(Nm / D, RATIO_MAX);
      const loss = lossOfRatio(T, transform, 1);
      total += loss;
      if (reduction == REDUCE_NONE) store<f64>(losses + (<usize>r << 3), loss);
      const k = (reduction == REDUCE_MEAN ? 1 / <f64>entries : 1) * lossDerivative;
      if (coef && D != 0 && k != 0) {
        for (let c = cStart; c < C; c++) {
          let w = classWeight(load<f64>(row + <usize>c * 24, 16), weightType);
          if (w == Infinity) w = wMax;
          storeCoef(coef, r, C, c, k * 2 * w / D, -k * T * w / D, squared);
        }
      }
      continue;
    }
    for (let c = cStart; c < C; c++) {
      const st = row + <usize>c * 24;
      const I = load<f64>(st), SP = load<f64>(st, 8), SG = load<f64>(st, 16);
      // Nm, D, T and dT/dp = aT·γ + bT·h of each form.
      let Nm: f64, D: f64;
      if (form == FORM_DICE) {
        Nm = 2 * I + snr; D = SP + SG + sdr;
      } else if (form == FORM_JACCARD) {
        Nm = I + snr; D = SP + SG - I + sdr;           // dD/dp = h − γ
      } else {
        // FP = SP − I, FN = SG − I: D = (1 − α − β)·I + α·SP + β·SG + sdr.
        Nm = I + snr; D = (1 - alpha - beta) * I + alpha * SP + beta * SG + sdr;
      }
      const T = D == 0 ? 1 : min<f64>(Nm / D, RATIO_MAX);
      let aT: f64, bT: f64;
      if (form == FORM_DICE) { aT = 2 / D; bT = -T / D; }
      else if (form == FORM_JACCARD) { aT = (1 + T) / D; bT = -T / D; }
      else { aT = (1 - T * (1 - alpha - beta)) / D; bT = -alpha * T / D; }
      const w: f64 = weights ? load<f64>(weights + (<usize>(c - cStart) << 3)) : 1;
      // With D = 0 the inverse form is (SP + SG + sdr)/(2I + snr) = 0/snr = 0 itself, not 1/T at T = 1.
      const loss = D == 0 && transform == TRANSFORM_INVERSE ? 0 : w * lossOfRatio(T, transform, form == FORM_TVERSKY ? gamma : 1);
      total += loss;
      if (reduction == REDUCE_NONE) store<f64>(losses + ((<usize>r * kept + c - cStart) << 3), loss);
      const k = (reduction == REDUCE_MEAN ? w / <f64>entries : w) * lossDerivative;
      if (coef && D != 0 && k != 0) storeCoef(coef, r, C, c, k * aT, k * bT, squared);
    }
  }
  return reduction == REDUCE_MEAN ? total / <f64>entries : total;
}

// @ts-ignore: decorator
@inline function classWeight(sg: f64, weightType: i32): f64 {
  if (weightType == WEIGHT_UNIFORM) return 1;
  if (sg == 0) return Infinity;
  return weightType == WEIGHT_SQUARE ? 1 / (sg * sg) : 1 / sg;
}
