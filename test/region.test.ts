// The region losses beyond plain Dice: tverskyLoss (and focal Tversky), generalizedDiceLoss, and
// diceLoss's `transform` and `softLabel`. First the float64 references themselves against central
// finite differences and published formulas; then the Wasm losses against those references over
// every shared option; then the published identities and properties; then bad inputs.
import { describe, it, expect, beforeAll } from 'vitest';
import { init, diceLoss, tverskyLoss, generalizedDiceLoss } from '../src/index.ts';
import {
  diceLossReference, tverskyLossReference, generalizedDiceLossReference, regionGradientScale,
  type DiceOptions as DiceRefOptions, type TverskyReferenceOptions, type GeneralizedDiceReferenceOptions,
  type DiceResult, type RegionLossKind,
} from '../src/reference/dice.ts';
import {
  Rng, Failures, ACTIVATION_MASKS, TARGET_VARIANTS, randomOptionSet, randomShape, spec, makeCase,
  lossTolerance, F32_EPS, type DiceCase, type OptionSet,
} from './helpers.ts';

beforeAll(async () => {
  await init();
});

type Transform = 'none' | 'log' | 'logcosh';
type WeightType = 'square' | 'simple' | 'uniform';
/** The options of any of the three references (the Wasm functions take the same names). */
type RegionOptions = DiceRefOptions & TverskyReferenceOptions & GeneralizedDiceReferenceOptions;

/** The options specific to one loss. */
interface Extra {
  softLabel?: boolean;
  transform?: Transform;
  alpha?: number;
  beta?: number;
  gamma?: number;
  weightType?: WeightType;
}

/** A loss, the data of a helpers.ts case (shape, arrays, shared options), and the loss's own options. */
interface RegionCase {
  kind: RegionLossKind;
  data: DiceCase;
  extra: Extra;
}

const REFERENCE = {
  dice: diceLossReference,
  tversky: tverskyLossReference,
  generalizedDice: generalizedDiceLossReference,
} as const;

function describeCase(c: RegionCase): string {
  return JSON.stringify({ kind: c.kind, ...c.extra, ...c.data.spec });
}

/** The options of a case, as both the references and the Wasm functions take them. */
function optionsOf(c: RegionCase): RegionOptions {
  const s = c.data.spec;
  const o: RegionOptions = {
    shape: s.shape, activation: s.activation, target: s.target === 'f32' || s.target === 'u8' ? 'dense' : 'indices',
    includeBackground: s.includeBackground, smoothNr: s.smoothNr, smoothDr: s.smoothDr, batch: s.batch,
    reduction: s.reduction, ...c.extra,
  };
  if (c.data.ignoreIndex !== undefined) o.ignoreIndex = c.data.ignoreIndex;
  if (c.data.mask !== undefined) o.mask = c.data.mask;
  if (c.kind === 'dice') {
    o.squared = s.squared;
    o.jaccard = s.jaccard;
  }
  if (c.kind !== 'generalizedDice' && c.data.weight !== undefined) o.weight = c.data.weight;
  return o;
}

function referenceOf(c: RegionCase, override: Partial<RegionOptions> = {}): DiceResult {
  return REFERENCE[c.kind](c.data.input, c.data.target, { ...optionsOf(c), ...override });
}

/** The Wasm loss of a case: the loss and, for 'mean' / 'sum', the gradient (into a NaN-filled array). */
function runWasm(c: RegionCase): { loss: number | Float64Array; grad: Float32Array | null } {
  const o = optionsOf(c);
  const grad = o.reduction === 'none' ? null : new Float32Array(c.data.input.length).fill(NaN);
  const options = grad ? { ...o, grad } : o;
  const { input, target } = c.data;
  const loss: number | Float64Array = c.kind === 'dice' ? diceLoss(input, target, options)
    : c.kind === 'tversky' ? tverskyLoss(input, target, options)
      : generalizedDiceLoss(input, target, options);
  return { loss, grad };
}

/** The largest |v|. */
function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Compares the Wasm result with the reference: losses to lossTolerance (1e-6, relative beyond
 * |L| = 1 with the scale Σ|L_e|), each gradient element to 1e-5 × max|reference gradient| plus
 * 64 float32 ulp of the terms it adds before they cancel (regionGradientScale).
 */
function mismatch(c: RegionCase): string | null {
  const where = describeCase(c);
  let out: ReturnType<typeof runWasm>;
  try {
    out = runWasm(c);
  } catch (e) {
    return `threw ${String(e)}: ${where}`;
  }
  const ref = referenceOf(c);
  if (ref.loss instanceof Float64Array) {
    if (!(out.loss instanceof Float64Array) || out.loss.length !== ref.loss.length) return `per-entry losses expected: ${where}`;
    for (let e = 0; e < ref.loss.length; e++) {
      const want = ref.loss[e]!, got = out.loss[e]!;
      if (!(Math.abs(got - want) <= lossTolerance(Math.abs(want)))) return `loss[${e}] = ${got}, reference ${want}: ${where}`;
    }
    return null;
  }
  if (typeof out.loss !== 'number') return `a number expected: ${where}`;
  const error = Math.abs(out.loss - ref.loss);
  if (!(error <= lossTolerance(1))) {
    const entries = referenceOf(c, { reduction: 'none' }).loss as Float64Array;
    const scale = entries.reduce((z, v) => z + Math.abs(v), 0) / (c.data.spec.reduction === 'mean' ? entries.length : 1);
    if (!(error <= lossTolerance(scale))) return `loss = ${out.loss}, reference ${ref.loss}: ${where}`;
  }
  const want = ref.grad!, got = out.grad!;
  const max = maxAbs(want);
  let terms: Float64Array | undefined;
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) <= 1e-5 * max) continue;
    terms ??= regionGradientScale(c.kind, c.data.input, c.data.target, optionsOf(c));
    const tol = 1e-5 * max + 64 * F32_EPS * terms[i]! + 2 ** -140;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) return `grad[${i}] = ${got[i]}, reference ${want[i]} (tolerance ${tol}): ${where}`;
  }
  return null;
}

/** Tversky's α and β: the published pairs and random ones. */
const TVERSKY_PAIRS: readonly (readonly [number, number])[] = [[0.5, 0.5], [1, 1], [0.3, 0.7], [0.7, 0.3], [0, 1], [1, 0], [0.1, 0.9], [1.5, 0.25]];
const GAMMAS = [1, 0.75, 2, 4 / 3] as const;
const TRANSFORMS: readonly Transform[] = ['none', 'log', 'logcosh'];
const WEIGHT_TYPES: readonly WeightType[] = ['square', 'simple', 'uniform'];

/** Random options of a loss; softLabel only with a dense float target (the Wasm requires it). */
function randomExtra(rng: Rng, kind: RegionLossKind, set: OptionSet): Extra {
  const extra: Extra = {};
  if (set.target === 'f32' && rng.chance(0.5)) extra.softLabel = true;
  if (kind === 'dice') extra.transform = rng.pick(TRANSFORMS);
  if (kind === 'tversky') {
    [extra.alpha, extra.beta] = rng.chance(0.75) ? rng.pick(TVERSKY_PAIRS) : [rng.uniform(0, 2), rng.uniform(0, 2)];
    extra.gamma = rng.chance(0.8) ? rng.pick(GAMMAS) : rng.uniform(0.5, 3);
  }
  if (kind === 'generalizedDice') extra.weightType = rng.pick(WEIGHT_TYPES);
  return extra;
}

function randomCase(rng: Rng, kind: RegionLossKind, fixed: Partial<OptionSet>, S: number, extra: Extra = {}): RegionCase {
  const set = randomOptionSet(rng, fixed);
  const data = makeCase(spec(set, randomShape(rng, set, S), rng.seed()));
  return { kind, data, extra: { ...randomExtra(rng, kind, set), ...extra } };
}

const KINDS: readonly RegionLossKind[] = ['dice', 'tversky', 'generalizedDice'];

describe('the float64 references against central finite differences', () => {
  // Small random cases over every option; dLoss/dInput_i against (L(x + h·e_i) − L(x − h·e_i))/2h,
  // h = 1e-6, to 1e-6 × max|gradient| + 1e-9 × (1 + |L|) (the rounding of L over 2h). With
  // activation 'none', exact zeros in the input are moved to 0.05: an entry whose p and g are all 0
  // sits on a point where the loss is not differentiable (D = 0, the 0/0 convention; or D = smoothDr,
  // curved on a scale far below h; or T = 1 exactly, the focal clamp's kink at 1 − T = 0). For focal
  // Tversky (γ ≠ 1) exact ones are moved to 0.95 too: P = G = 1 can also give T = 1 exactly.
  // Soft-label ties P_i = G_i = 1 are kept otherwise: the central difference of min(P, G) there is
  // ½, the step the reference uses.
  const h = 1e-6;
  for (const kind of KINDS) {
    it(`${kind}: 240 random cases`, () => {
      const rng = new Rng({ dice: 301, tversky: 302, generalizedDice: 303 }[kind]);
      const f = new Failures();
      for (let k = 0; k < 240; k++) {
        const c = randomCase(rng, kind, { reduction: rng.pick(['mean', 'sum'] as const) }, rng.int(1, 6));
        const { spec: s } = c.data;
        const focal = kind === 'tversky' && c.extra.gamma !== 1;
        if (s.activation === 'none') c.data.input = c.data.input.map((v) => (v === 0 ? 0.05 : v === 1 && focal ? 0.95 : v));
        const x = Float64Array.from(c.data.input);
        const options = optionsOf(c);
        const reference = (input: Float64Array): DiceResult => REFERENCE[kind](input, c.data.target, options);
        const { loss, grad } = reference(x);
        const tol = 1e-6 * maxAbs(grad!) + 1e-9 * (1 + Math.abs(loss as number));
        let bad: string | null = null;
        for (let i = 0; i < x.length && bad === null; i++) {
          const xp = x.slice(), xm = x.slice();
          xp[i] += h;
          xm[i] -= h;
          const fd = ((reference(xp).loss as number) - (reference(xm).loss as number)) / (2 * h);
          if (!(Math.abs(fd - grad![i]!) <= tol)) bad = `grad[${i}] = ${grad![i]}, finite difference ${fd}: ${describeCase(c)}`;
        }
        f.add(bad);
      }
      expect(f.summary()).toEqual([]);
    });
  }
});

describe('the float64 references against published formulas', () => {
  // p = [0.2, 0.7, 1, 0], g = [0, 1, 1, 0.5]: I = Σp·g = 1.7, Σmin(p, g) = 1.7, SP = 1.9, SG = 2.5.
  const p = [0.2, 0.7, 1, 0];
  const g = [0, 1, 1, 0.5];
  const none = { smoothNr: 0, smoothDr: 0 } as const;
  const dice = (2 * 1.7) / (1.9 + 2.5);

  it('dice transforms: 1 − T, −log T, log cosh(1 − T), and the log floor at 1e-7', () => {
    expect(diceLossReference(p, g, none).loss).toBeCloseTo(1 - dice, 14);
    expect(diceLossReference(p, g, { ...none, transform: 'log' }).loss).toBeCloseTo(-Math.log(dice), 14);
    expect(diceLossReference(p, g, { ...none, transform: 'logcosh' }).loss).toBeCloseTo(Math.log(Math.cosh(1 - dice)), 14);
    // Disjoint p and g: T = 0, −log clamps to −log(1e-7) and has no gradient.
    const disjoint = diceLossReference([1, 0], [0, 1], { ...none, transform: 'log' });
    expect(disjoint.loss).toBeCloseTo(-Math.log(1e-7), 12);
    expect(Array.from(disjoint.grad!)).toEqual([0, 0]);
  });

  it('soft label: Σmin(p, g) replaces Σp·g (not with squared); loss 0 at p = g for soft targets', () => {
    const soft = [0.3, 0.6, 0.1, 0.9];
    expect(diceLossReference(soft, soft, { softLabel: true }).loss).toBeCloseTo(0, 15);
    // Without it, p = g soft is not a minimum: 1 − 2Σg²/(2Σg) = 1 − 1.27/1.9.
    expect(diceLossReference(soft, soft, none).loss).toBeCloseTo(1 - 1.27 / 1.9, 14);
    // Σmin(p, g) for p = [0.2, 0.7, 0.4], g = [0.5, 0.3, 0.4] is 0.2 + 0.3 + 0.4 = 0.9.
    const q = [0.2, 0.7, 0.4], t = [0.5, 0.3, 0.4];
    expect(diceLossReference(q, t, { ...none, softLabel: true }).loss).toBeCloseTo(1 - 1.8 / (1.3 + 1.2), 14);
    expect(diceLossReference(q, t, { ...none, softLabel: true, squared: true }).loss)
      .toBeCloseTo(diceLossReference(q, t, { ...none, squared: true }).loss as number, 15);
  });

  it('tversky: (1 − (TP + s)/(TP + α·FP + β·FN + s))^γ with TP = Σpg, FP = Σp(1 − g), FN = Σ(1 − p)g', () => {
    // TP = 1.7, FP = 0.2 + 0 + 0 + 0 = 0.2, FN = 0 + 0.3 + 0 + 0.5 = 0.8.
    for (const [alpha, beta, gamma] of [[0.3, 0.7, 1], [0.7, 0.3, 0.75], [1, 1, 2], [0, 0.5, 4 / 3]] as const) {
      const ti = 1.7 / (1.7 + alpha * 0.2 + beta * 0.8);
      const { loss } = tverskyLossReference(p, g, { ...none, alpha, beta, gamma });
      expect(loss).toBeCloseTo((1 - ti) ** gamma, 14);
    }
    // A ratio above 1 (smoothNr > smoothDr, nothing labelled or predicted): 1 − T < 0 is clamped at 0 for γ ≠ 1.
    const zeros = [0, 0];
    expect(tverskyLossReference(zeros, zeros, { smoothNr: 1, smoothDr: 0.5, gamma: 0.75 }).loss).toBe(0);
    expect(tverskyLossReference(zeros, zeros, { smoothNr: 1, smoothDr: 0.5, gamma: 1 }).loss).toBeCloseTo(-1, 15);
  });

  it('generalized Dice: classes summed before the division, w = 1/SG², 1/SG, 1', () => {
    // Two classes over 3 pixels: class 0 p = [0.9, 0.2, 0.1], g = [1, 0, 0]; class 1 p = [0.1, 0.8, 0.9], g = [0, 1, 1].
    const P = [0.9, 0.2, 0.1, 0.1, 0.8, 0.9];
    const G = [1, 0, 0, 0, 1, 1];
    const I = [0.9, 1.7], SP = [1.2, 1.8], SG = [1, 2];
    for (const weightType of WEIGHT_TYPES) {
      const w = SG.map((v) => (weightType === 'square' ? 1 / (v * v) : weightType === 'simple' ? 1 / v : 1));
      const want = 1 - (2 * (w[0]! * I[0]! + w[1]! * I[1]!)) / (w[0]! * (SP[0]! + SG[0]!) + w[1]! * (SP[1]! + SG[1]!));
      expect(generalizedDiceLossReference(P, G, { shape: [1, 2, 3], weightType, ...none }).loss).toBeCloseTo(want, 14);
    }
  });
});

describe('Wasm losses against the float64 references, every shared option', () => {
  // Per loss and per activation × mask × target × ignoreIndex: 12 random cases (flags, reduction,
  // smoothing, the loss's own options), 6 on lengths 1..17 and 6 on 18..300.
  for (const kind of KINDS) {
    it(`${kind}: 88 option families × 12 random cases`, () => {
      const rng = new Rng({ dice: 401, tversky: 402, generalizedDice: 403 }[kind]);
      const f = new Failures();
      for (const [activation, mask] of ACTIVATION_MASKS) {
        for (const [target, ignore] of TARGET_VARIANTS) {
          for (let k = 0; k < 12; k++) {
            f.add(mismatch(randomCase(rng, kind, { activation, mask, target, ignore }, k < 6 ? rng.int(1, 17) : rng.int(18, 300))));
          }
        }
      }
      expect(f.summary()).toEqual([]);
      expect(f.checked).toBe(8 * 11 * 12);
    });
  }

  it('larger inputs streamed in chunks ([2, 3, 37, 41], [1, 2, 300, 301], softmax over 12 classes)', () => {
    const rng = new Rng(404);
    const f = new Failures();
    for (const kind of KINDS) {
      for (const fixed of [
        { activation: 'sigmoid', target: 'f32', mask: 'element' },
        { activation: 'softmax', target: 'idx-u16', ignore: 'out-of-range', mask: 'pixel' },
        { activation: 'none', target: 'u8', mask: 'none' },
        { activation: 'softmax', target: 'f32', mask: 'none' },
      ] as const) {
        const set = randomOptionSet(rng, { reduction: rng.pick(['mean', 'sum'] as const), ...fixed });
        for (const shape of [[2, 3, 37, 41], [1, 2, 300, 301], [1, 12, 40, 41]]) {
          const data = makeCase(spec(set, shape, rng.seed()));
          f.add(mismatch({ kind, data, extra: randomExtra(rng, kind, set) }));
        }
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('every transform, every focal γ (0.75, 2, 4/3, 1) and every weightType over all reductions', () => {
    const rng = new Rng(405);
    const f = new Failures();
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      for (const transform of TRANSFORMS) {
        for (let k = 0; k < 8; k++) f.add(mismatch(randomCase(rng, 'dice', { reduction }, rng.int(1, 200), { transform })));
      }
      for (const gamma of GAMMAS) {
        for (let k = 0; k < 8; k++) f.add(mismatch(randomCase(rng, 'tversky', { reduction }, rng.int(1, 200), { gamma })));
      }
      for (const weightType of WEIGHT_TYPES) {
        for (let k = 0; k < 8; k++) f.add(mismatch(randomCase(rng, 'generalizedDice', { reduction }, rng.int(1, 200), { weightType })));
      }
    }
    expect(f.summary()).toEqual([]);
  });
});

describe('published identities and properties', () => {
  const rng = new Rng(500);
  /** Random cases of Dice options with the plain ratio (no transform, no squared form). */
  const plainCases = (count: number): DiceCase[] => Array.from({ length: count }, () => {
    const set = randomOptionSet(rng, { squared: false, jaccard: false, reduction: rng.pick(['mean', 'sum'] as const) });
    return makeCase(spec(set, randomShape(rng, set, rng.int(1, 120)), rng.seed()));
  });
  /** Wasm gradients of two calls agree to 1e-5 × the larger maximum (plus float32 terms via the reference). */
  const gradientsAgree = (a: Float32Array, b: Float32Array, terms: Float64Array): string | null => {
    const max = Math.max(maxAbs(a), maxAbs(b));
    const i = a.findIndex((v, k) => !(Math.abs(v - b[k]!) <= 1e-5 * max + 128 * F32_EPS * terms[k]! + 2 ** -140));
    return i < 0 ? null : `grad[${i}] ${a[i]} vs ${b[i]}`;
  };

  it('Tversky with α = β = 0.5 is Dice (smoothing doubled: (I + s)/(I + ½FP + ½FN + s) = (2I + 2s)/(SP + SG + 2s))', () => {
    const f = new Failures();
    for (const data of plainCases(60)) {
      const c: RegionCase = { kind: 'tversky', data, extra: { alpha: 0.5, beta: 0.5 } };
      const o = optionsOf(c);
      const asDice = { ...o, smoothNr: 2 * o.smoothNr!, smoothDr: 2 * o.smoothDr! };
      const tv = tverskyLossReference(data.input, data.target, o);
      const dc = diceLossReference(data.input, data.target, asDice);
      f.add(Math.abs((tv.loss as number) - (dc.loss as number)) <= 1e-12 * (1 + Math.abs(dc.loss as number)) ? null : `reference ${String(tv.loss)} vs ${String(dc.loss)}: ${describeCase(c)}`);
      const [g1, g2] = [new Float32Array(data.input.length), new Float32Array(data.input.length)];
      const l1 = tverskyLoss(data.input, data.target, { ...o, grad: g1 });
      const l2 = diceLoss(data.input, data.target, { ...asDice, grad: g2 });
      f.add(Math.abs(l1 - l2) <= lossTolerance(Math.abs(l2)) ? null : `wasm ${l1} vs ${l2}: ${describeCase(c)}`);
      const m = gradientsAgree(g1, g2, regionGradientScale('dice', data.input, data.target, asDice));
      f.add(m && `${m}: ${describeCase(c)}`);
    }
    expect(f.summary()).toEqual([]);
  });

  it('Tversky with α = β = 1 is Jaccard (I + α(SP − I) + β(SG − I) = SP + SG − I), same smoothing', () => {
    const f = new Failures();
    for (const data of plainCases(60)) {
      const c: RegionCase = { kind: 'tversky', data, extra: { alpha: 1, beta: 1 } };
      const o = optionsOf(c);
      const asJaccard = { ...o, jaccard: true };
      const tv = tverskyLossReference(data.input, data.target, o);
      const jc = diceLossReference(data.input, data.target, asJaccard);
      f.add(Math.abs((tv.loss as number) - (jc.loss as number)) <= 1e-12 * (1 + Math.abs(jc.loss as number)) ? null : `reference ${String(tv.loss)} vs ${String(jc.loss)}: ${describeCase(c)}`);
      const [g1, g2] = [new Float32Array(data.input.length), new Float32Array(data.input.length)];
      const l1 = tverskyLoss(data.input, data.target, { ...o, grad: g1 });
      const l2 = diceLoss(data.input, data.target, { ...asJaccard, grad: g2 });
      f.add(Math.abs(l1 - l2) <= lossTolerance(Math.abs(l2)) ? null : `wasm ${l1} vs ${l2}: ${describeCase(c)}`);
      const m = gradientsAgree(g1, g2, regionGradientScale('dice', data.input, data.target, asJaccard));
      f.add(m && `${m}: ${describeCase(c)}`);
    }
    expect(f.summary()).toEqual([]);
  });

  it('focal Tversky entries are the Tversky entries to the power γ (0.75, 2), clamped at 0', () => {
    const f = new Failures();
    for (const data of plainCases(40)) {
      for (const gamma of [0.75, 2]) {
        const c: RegionCase = { kind: 'tversky', data, extra: { alpha: 0.3, beta: 0.7, gamma } };
        const o = { ...optionsOf(c), reduction: 'none' as const, weight: undefined };
        const focal = tverskyLoss(data.input, data.target, o) as unknown as Float64Array;
        const plain = tverskyLossReference(data.input, data.target, { ...o, gamma: 1 }).loss as Float64Array;
        plain.forEach((v, e) => {
          const want = Math.max(v, 0) ** gamma;
          f.add(Math.abs(focal[e]! - want) <= lossTolerance(want) ? null : `entry ${e}: ${focal[e]} vs ${want}: ${describeCase(c)}`);
        });
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('soft label: loss 0 at p = g for soft targets (dice, jaccard, generalized Dice, Tversky α = β), > 0 without it', () => {
    const f = new Failures();
    for (let k = 0; k < 40; k++) {
      const shape = [rng.int(1, 3), rng.int(1, 4), rng.int(1, 50)];
      const n = shape.reduce((a, b) => a * b, 1);
      const p = Float32Array.from({ length: n }, () => (rng.chance(0.1) ? rng.pick([0, 1]) : rng.float()));
      const base = { shape, batch: rng.chance(0.5), smoothNr: 1e-5, smoothDr: 1e-5 };
      const grad = new Float32Array(n).fill(NaN);
      const losses = [
        diceLoss(p, p, { ...base, softLabel: true, grad }),
        diceLoss(p, p, { ...base, softLabel: true, jaccard: true }),
        generalizedDiceLoss(p, p, { ...base, softLabel: true, weightType: rng.pick(WEIGHT_TYPES) }),
        tverskyLoss(p, p, { ...base, softLabel: true, alpha: 0.8, beta: 0.8 }),
      ];
      f.add(losses.every((l) => Math.abs(l) <= 1e-6) ? null : `losses ${losses.join(', ')} at p = g, shape ${shape}`);
      // At p = g every element is a tie, where ∂I/∂p = ½: the gradient ½·∂L/∂I + ∂L/∂SP is
      // 0 up to the smoothing, the float32 one 0 to a few ulp of its two terms.
      const ref = diceLossReference(p, p, { ...base, softLabel: true }).grad!;
      const terms = regionGradientScale('dice', p, p, { ...base, softLabel: true });
      const i = Array.from(grad).findIndex((v, k) => !(Math.abs(v - ref[k]!) <= 1e-5 * maxAbs(ref) + 64 * F32_EPS * terms[k]!));
      f.add(i < 0 ? null : `gradient at p = g, shape ${shape}: grad[${i}] = ${grad[i]}, reference ${ref[i]}, terms ${terms[i]}`);
      if (p.some((v) => v > 0 && v < 1)) {
        const plain = diceLoss(p, p, { ...base, smoothNr: 0, smoothDr: 0 });
        f.add(plain > 1e-4 ? null : `plain Dice at soft p = g is ${plain}, expected > 0`);
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('soft label on binary targets equals the plain form (min(p, g) = p·g for g in {0, 1}); with squared it changes nothing', () => {
    const f = new Failures();
    for (let k = 0; k < 60; k++) {
      const set = randomOptionSet(rng, { target: 'u8', reduction: rng.pick(['mean', 'sum'] as const) });
      const data = makeCase(spec(set, randomShape(rng, set, rng.int(1, 150)), rng.seed()));
      const c: RegionCase = { kind: 'dice', data, extra: {} };
      const o = optionsOf(c);
      const asFloat = Float32Array.from(data.target);
      const gSoft = new Float32Array(data.input.length), gPlain = new Float32Array(data.input.length);
      // Binary targets (softLabel needs a Float32Array target): min(p, g) = p·g for p in [0, 1].
      const lSoft = diceLoss(data.input, asFloat, { ...o, squared: false, softLabel: true, grad: gSoft });
      const lPlain = diceLoss(data.input, data.target, { ...o, squared: false, grad: gPlain });
      f.add(Math.abs(lSoft - lPlain) <= lossTolerance(Math.abs(lPlain)) ? null : `binary: ${lSoft} vs ${lPlain}: ${describeCase(c)}`);
      // With squared, soft targets: the L2 form of the soft-label intersection is Σp·g again.
      const soft = Float32Array.from(data.input.map(() => rng.float()));
      const sq = { ...o, squared: true };
      const a = diceLoss(data.input, soft, { ...sq, softLabel: true });
      const b = diceLoss(data.input, soft, sq);
      f.add(Math.abs(a - b) <= lossTolerance(Math.abs(b)) ? null : `squared: softLabel ${a} vs plain ${b}: ${describeCase(c)}`);
    }
    expect(f.summary()).toEqual([]);
  });

  it('log and logcosh transforms on a worked example, loss and gradient (−1/T and −tanh(1 − T) times dT/dp)', () => {
    // p = [0.2, 0.7, 1, 0], g = [0, 1, 1, 0.5], no smoothing: T = 3.4/4.4; dT/dp_i = 2g_i/D − Nm/D².
    const p = new Float32Array([0.2, 0.7, 1, 0]);
    const g = new Float32Array([0, 1, 1, 0.5]);
    const D = 4.4, Nm = 3.4, T = Nm / D;
    const dT = Array.from(g, (gi) => (2 * gi) / D - Nm / (D * D));
    for (const [transform, value, slope] of [
      ['log', -Math.log(T), -1 / T],
      ['logcosh', Math.log(Math.cosh(1 - T)), -Math.tanh(1 - T)],
      ['none', 1 - T, -1],
    ] as const) {
      const grad = new Float32Array(4);
      const loss = diceLoss(p, g, { smoothNr: 0, smoothDr: 0, transform, grad });
      expect(Math.abs(loss - value), transform).toBeLessThanOrEqual(1e-6);
      dT.forEach((d, i) => expect(Math.abs(grad[i]! - slope * d), `${transform} grad[${i}]`).toBeLessThanOrEqual(1e-6));
    }
    // T = 0 (disjoint): −log clamps at −log(1e-7) = 16.118…, zero gradient.
    const grad = new Float32Array(2).fill(NaN);
    expect(diceLoss(new Float32Array([1, 0]), new Float32Array([0, 1]), { smoothNr: 0, smoothDr: 0, transform: 'log', grad }))
      .toBeCloseTo(-Math.log(1e-7), 6);
    expect(Array.from(grad)).toEqual([0, 0]);
  });

  it('0/0 (nothing predicted or labelled, or everything masked; no smoothing) is a perfect match for every loss and transform: loss 0, gradient 0', () => {
    const calls: [string, (p: Float32Array, g: Float32Array, o: RegionOptions) => number | Float64Array][] = [
      ['dice', (p, g, o) => diceLoss(p, g, o)],
      ['dice log', (p, g, o) => diceLoss(p, g, { ...o, transform: 'log' })],
      ['dice logcosh', (p, g, o) => diceLoss(p, g, { ...o, transform: 'logcosh' })],
      ['jaccard log', (p, g, o) => diceLoss(p, g, { ...o, jaccard: true, transform: 'log' })],
      ['tversky', (p, g, o) => tverskyLoss(p, g, { ...o, alpha: 0.3, beta: 0.7 })],
      ['focal tversky', (p, g, o) => tverskyLoss(p, g, { ...o, gamma: 0.75 })],
      ['generalized dice', (p, g, o) => generalizedDiceLoss(p, g, o)],
      ['generalized dice uniform', (p, g, o) => generalizedDiceLoss(p, g, { ...o, weightType: 'uniform' })],
    ];
    for (const [name, call] of calls) {
      for (const masked of [false, true]) {
        const p = new Float32Array(12).fill(masked ? 0.3 : 0);
        const g = new Float32Array(12).fill(masked ? 1 : 0);
        const o: RegionOptions = { shape: [2, 2, 3], smoothNr: 0, smoothDr: 0, ...(masked ? { mask: new Uint8Array(6) } : {}) };
        const grad = new Float32Array(12).fill(NaN);
        expect(call(p, g, { ...o, grad } as RegionOptions), `${name}, masked ${masked}`).toBe(0);
        expect(Array.from(grad), `${name}, masked ${masked}`).toEqual(new Array(12).fill(0));
      }
    }
  });

  it('absurd smoothing (smoothNr = 1, smoothDr = 0, a near-empty prediction): finite gradients with the reference signs', () => {
    // Σp = 1e-20: the exact coefficients (∝ 1/D²) reach 1e40, beyond float32; the kernel clamps them at ±1e30.
    const input = new Float32Array([1e-20, 0, 0.5, 0.25]);
    const target = new Float32Array([0, 0, 1, 1]);
    const o = { shape: [1, 2, 2], smoothNr: 1, smoothDr: 0 } as const;
    for (const kind of KINDS) {
      const extra: Extra = kind === 'tversky' ? { alpha: 0.7, beta: 0.3 } : kind === 'generalizedDice' ? { weightType: 'uniform' } : {};
      const options = { ...o, ...extra };
      const grad = new Float32Array(4);
      const loss = kind === 'dice' ? diceLoss(input, target, { ...options, grad })
        : kind === 'tversky' ? tverskyLoss(input, target, { ...options, grad }) : generalizedDiceLoss(input, target, { ...options, grad });
      const ref = REFERENCE[kind](input, target, options);
      expect(Math.abs(loss - (ref.loss as number)), kind).toBeLessThanOrEqual(lossTolerance(Math.abs(ref.loss as number)));
      expect(Array.from(grad).every(Number.isFinite), kind).toBe(true);
      expect(Array.from(grad).map(Math.sign), kind).toEqual(Array.from(ref.grad!).map(Math.sign));
    }
  });

  it('logcosh of a ratio far from 1 is finite: log cosh(u) = |u| + log1p(e^−2|u|) − log 2 where cosh(u) overflows', () => {
    // smoothNr = 1 over a denominator of 1e-4 (smoothDr = 0): T = 1e4, u = 1 − T = −9999, where
    // cosh(u) overflows float64 (|u| > 710) but log cosh(u) = 9999 − log 2. The gradient is
    // −tanh(1 − T)·dT/dp = 1·(−Nm/D²) = −1e8.
    // (Fails while assembly/region.ts computes Math.log(Math.cosh(1 - T)): the loss is Infinity.)
    const grad = new Float32Array(1);
    const loss = diceLoss(new Float32Array([1e-4]), new Float32Array([0]), { smoothNr: 1, smoothDr: 0, transform: 'logcosh', grad });
    const T = 1 / Math.fround(1e-4);
    expect(Math.abs(loss - (T - 1 - Math.LN2))).toBeLessThanOrEqual(lossTolerance(T));
    expect(Math.abs(grad[0]! + T * T) / (T * T)).toBeLessThanOrEqual(1e-6);
  });

  it('generalized Dice: a class with an empty target takes the largest finite weight of its row (of the batch with batch)', () => {
    // [2 samples, 3 classes, 4 pixels]; class 2 has no target pixel in sample 0, class 1 none in
    // sample 1; with batch every class has one. The loss computed here from plain sums.
    const P = new Float32Array(24), G = new Float32Array(24);
    const labels = [[0, 0, 1, 1], [0, 2, 2, 2]];
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let s = 0; s < 4; s++) {
      const i = (n * 3 + c) * 4 + s;
      G[i] = labels[n]![s] === c ? 1 : 0;
      P[i] = 0.1 + 0.8 * ((i * 7) % 11) / 11;
    }
    const sum = (n: number[], c: number, f: (p: number, g: number) => number): number => {
      let z = 0;
      for (const k of n) for (let s = 0; s < 4; s++) z += f(P[(k * 3 + c) * 4 + s]!, G[(k * 3 + c) * 4 + s]!);
      return z;
    };
    for (const weightType of WEIGHT_TYPES) {
      for (const batch of [false, true]) {
        const rows = batch ? [[0, 1]] : [[0], [1]];
        const want = rows.map((n) => {
          const I = [0, 1, 2].map((c) => sum(n, c, (p, g) => p * g));
          const SP = [0, 1, 2].map((c) => sum(n, c, (p) => p));
          const SG = [0, 1, 2].map((c) => sum(n, c, (_, g) => g));
          const raw = SG.map((v) => (weightType === 'square' ? 1 / (v * v) : weightType === 'simple' ? 1 / v : 1));
          const largest = Math.max(...raw.filter(Number.isFinite));
          const w = raw.map((v) => (Number.isFinite(v) ? v : largest));
          let Nm = 1e-5, Dn = 1e-5;
          for (let c = 0; c < 3; c++) { Nm += 2 * w[c]! * I[c]!; Dn += w[c]! * (SP[c]! + SG[c]!); }
          return 1 - Nm / Dn;
        });
        const options = { shape: [2, 3, 4], weightType, batch, reduction: 'none' } as const;
        const got = generalizedDiceLoss(P, G, options) as unknown as Float64Array;
        const ref = generalizedDiceLossReference(P, G, options).loss as Float64Array;
        want.forEach((v, r) => {
          expect(Math.abs(got[r]! - v), `${weightType} batch ${batch} row ${r}`).toBeLessThanOrEqual(1e-6);
          expect(Math.abs(ref[r]! - v), `reference ${weightType} batch ${batch} row ${r}`).toBeLessThanOrEqual(1e-12);
        });
        // And the gradient, against the reference.
        const c: RegionCase = {
          kind: 'generalizedDice', extra: { weightType },
          data: {
            spec: {
              activation: 'none', target: 'f32', ignore: 'none', mask: 'none', includeBackground: true, squared: false, jaccard: false,
              weight: false, smoothNr: 1e-5, smoothDr: 1e-5, batch, reduction: 'mean', shape: [2, 3, 4], seed: 0,
            },
            input: P, target: G, mask: undefined, ignoreIndex: undefined, weight: undefined,
          },
        };
        expect(mismatch(c)).toBeNull();
      }
    }
    // A row with no labelled class at all: every weight is 0, T = smoothNr/smoothDr.
    const empty = new Float32Array(6);
    const loss = generalizedDiceLoss(new Float32Array(6).fill(0.5), empty, { shape: [1, 2, 3], smoothNr: 1, smoothDr: 2 });
    expect(loss).toBeCloseTo(0.5, 12);
  });
});

describe('bad inputs', () => {
  const input = new Float32Array(8).fill(0.5);
  const target = new Float32Array(8).fill(1);
  const shape = [2, 2, 2];

  /** Calls `call` with a NaN-filled grad; expects `type` naming `name`, and grad untouched. */
  function rejects(call: (grad: Float32Array) => unknown, type: typeof TypeError | typeof RangeError, name: string): void {
    const grad = new Float32Array(8).fill(NaN);
    let error: unknown;
    try {
      call(grad);
    } catch (e) {
      error = e;
    }
    expect(error, name).toBeInstanceOf(type);
    expect((error as Error).message, name).toContain(name);
    expect(grad.every(Number.isNaN), `${name}: grad written`).toBe(true);
  }

  it('alpha, beta: negative, NaN, Infinity, non-number; gamma ≤ 0', () => {
    for (const [key, value, type] of [
      ['alpha', -0.1, RangeError], ['alpha', NaN, RangeError], ['alpha', Infinity, RangeError], ['alpha', '0.5', TypeError],
      ['beta', -1, RangeError], ['beta', NaN, RangeError], ['beta', null, TypeError],
      ['gamma', 0, RangeError], ['gamma', -1, RangeError], ['gamma', NaN, RangeError], ['gamma', -Infinity, RangeError],
    ] as const) {
      rejects((grad) => tverskyLoss(input, target, { shape, grad, [key]: value } as never), type, `segloss.tverskyLoss: options.${key}`);
    }
  });

  it('unknown weightType and transform', () => {
    rejects((grad) => generalizedDiceLoss(input, target, { shape, grad, weightType: 'inverse' } as never), RangeError, 'segloss.generalizedDiceLoss: options.weightType');
    rejects((grad) => diceLoss(input, target, { shape, grad, transform: 'exp' } as never), RangeError, 'segloss.diceLoss: options.transform');
    rejects((grad) => diceLoss(input, target, { shape, grad, transform: 1 } as never), RangeError, 'segloss.diceLoss: options.transform');
  });

  it('softLabel with a non-Float32Array target is a TypeError (dense u8 and indices alike)', () => {
    const u8 = new Uint8Array(8).fill(1);
    rejects((grad) => diceLoss(input, u8, { shape, grad, softLabel: true }), TypeError, 'segloss.diceLoss: options.softLabel');
    rejects((grad) => tverskyLoss(input, new Uint8Array(4), { shape, grad, softLabel: true, target: 'indices' }), TypeError, 'segloss.tverskyLoss: options.softLabel');
    rejects((grad) => generalizedDiceLoss(input, u8, { shape, grad, softLabel: true }), TypeError, 'segloss.generalizedDiceLoss: options.softLabel');
    rejects((grad) => diceLoss(input, target, { shape, grad, softLabel: 1 } as never), TypeError, 'segloss.diceLoss: options.softLabel');
  });

  it('options.stats of the wrong type, length or with non-finite sums', () => {
    const good = new Float64Array(2 * 2 * 3).fill(1);
    const cases: [unknown, typeof TypeError | typeof RangeError][] = [
      [Array.from(good), TypeError],
      [new Float32Array(12), TypeError],
      ['stats', TypeError],
      [new Float64Array(11), RangeError],
      [new Float64Array(6), RangeError], // the batch length, without batch
      [good.map((v, i) => (i === 4 ? NaN : v)), RangeError],
      [good.map((v, i) => (i === 7 ? Infinity : v)), RangeError],
    ];
    for (const [stats, type] of cases) {
      rejects((grad) => diceLoss(input, target, { shape, grad, stats } as never), type, 'segloss.diceLoss: options.stats');
      rejects((grad) => tverskyLoss(input, target, { shape, grad, stats } as never), type, 'segloss.tverskyLoss: options.stats');
      rejects((grad) => generalizedDiceLoss(input, target, { shape, grad, stats } as never), type, 'segloss.generalizedDiceLoss: options.stats');
    }
    // With batch the sums have one row: 12 is then the wrong length.
    rejects((grad) => diceLoss(input, target, { shape, grad, batch: true, stats: good }), RangeError, 'segloss.diceLoss: options.stats');
  });
});
