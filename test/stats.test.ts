// Mergeable statistics: diceStats of shards (samples of a batch, or spatial tiles of a volume),
// merged with mergeStats, give the whole data's sums; lossFromStats of them gives the whole data's
// loss; and each shard's gradient, computed with `options.stats`, is its slice of the whole
// gradient. Also the worker-threads example (examples/stats-workers.mjs) run as a child process.
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  init, diceLoss, tverskyLoss, generalizedDiceLoss, diceStats, mergeStats, lossFromStats,
  type LossFromStatsOptions,
} from '../src/index.ts';
import {
  diceLossReference, tverskyLossReference, generalizedDiceLossReference, regionGradientScale,
  type DiceOptions as DiceRefOptions, type TverskyReferenceOptions, type GeneralizedDiceReferenceOptions,
  type RegionLossKind,
} from '../src/reference/dice.ts';
import {
  Rng, Failures, ACTIVATION_MASKS, TARGET_VARIANTS, randomOptionSet, spec, makeCase, lossTolerance, F32_EPS,
  type DiceCase, type TargetArray,
} from './helpers.ts';

beforeAll(async () => {
  await init();
});

type RegionOptions = DiceRefOptions & TverskyReferenceOptions & GeneralizedDiceReferenceOptions;
const KINDS: readonly RegionLossKind[] = ['dice', 'tversky', 'generalizedDice'];
const REFERENCE = { dice: diceLossReference, tversky: tverskyLossReference, generalizedDice: generalizedDiceLossReference } as const;

/** A case's arrays and its options: the layout ones (for diceStats) and the loss's own. */
interface StatsCase {
  kind: RegionLossKind;
  data: DiceCase;
  /** Options of the loss call (layout and loss), without grad and stats. */
  options: RegionOptions;
}

/** A random case of a loss over `shape`; `batch` fixed, reduction 'mean' or 'sum', every other option random. */
function randomCase(rng: Rng, kind: RegionLossKind, shape: number[], batch: boolean, family: number): StatsCase {
  const [activation, mask] = ACTIVATION_MASKS[family % ACTIVATION_MASKS.length]!;
  const [target, ignore] = TARGET_VARIANTS[family % TARGET_VARIANTS.length]!;
  const set = randomOptionSet(rng, { activation, mask, target, ignore, batch, reduction: rng.pick(['mean', 'sum'] as const) });
  if (shape[1]! < 2) set.includeBackground = true;
  const data = makeCase(spec(set, shape, rng.seed()));
  const o: RegionOptions = {
    shape, activation: set.activation, target: target === 'f32' || target === 'u8' ? 'dense' : 'indices',
    includeBackground: set.includeBackground, smoothNr: set.smoothNr, smoothDr: set.smoothDr, batch, reduction: set.reduction,
  };
  if (data.ignoreIndex !== undefined) o.ignoreIndex = data.ignoreIndex;
  if (data.mask !== undefined) o.mask = data.mask;
  if (target === 'f32' && rng.chance(0.5)) o.softLabel = true;
  if (kind === 'dice') {
    o.squared = set.squared;
    o.jaccard = set.jaccard;
    o.transform = rng.pick(['none', 'log', 'logcosh'] as const);
  } else if (kind === 'tversky') {
    o.alpha = rng.pick([0.3, 0.5, 0.7, 1]);
    o.beta = rng.pick([0.3, 0.5, 0.7, 1]);
    o.gamma = rng.pick([1, 0.75, 2]);
  } else {
    o.weightType = rng.pick(['square', 'simple', 'uniform'] as const);
  }
  if (kind !== 'generalizedDice' && data.weight !== undefined) o.weight = data.weight;
  return { kind, data, options: o };
}

/** The Wasm loss of `kind`. */
function loss(kind: RegionLossKind, input: Float32Array, target: TargetArray, options: RegionOptions & { stats?: Float64Array; grad?: Float32Array }): number {
  return kind === 'dice' ? diceLoss(input, target, options)
    : kind === 'tversky' ? tverskyLoss(input, target, options)
      : generalizedDiceLoss(input, target, options);
}

/** The diceStats options of a case: its layout, plus squared (the Dice form's) and softLabel. */
function statsOptions(o: RegionOptions, shape: number[], mask: Uint8Array | undefined): RegionOptions {
  const s: RegionOptions = { shape, activation: o.activation, target: o.target, includeBackground: o.includeBackground, batch: o.batch };
  if (o.ignoreIndex !== undefined) s.ignoreIndex = o.ignoreIndex;
  if (mask !== undefined) s.mask = mask;
  if (o.softLabel) s.softLabel = true;
  if (o.squared) s.squared = true;
  return s;
}

/** The lossFromStats options of a case: the loss's options, without the data's layout. */
function fromStatsOptions(c: StatsCase): LossFromStatsOptions {
  const { mask: _m, ignoreIndex: _i, activation: _a, target: _t, ...rest } = c.options;
  return { ...rest, loss: c.kind } as LossFromStatsOptions;
}

/** One of the shards of a case: its arrays, its shape, and where its elements sit in the whole input. */
interface Shard {
  input: Float32Array;
  target: TargetArray;
  mask: Uint8Array | undefined;
  shape: number[];
  /** Index in the whole input of each shard input element. */
  at: Int32Array;
}

/**
 * Copies, from every sample n in [n0, n1) and each of its `rows` rows of S elements, the elements
 * [s0, s1) of the row: samples of a batch (s0 = 0, s1 = S) or a slab of a volume along its first
 * spatial axis (n0 = 0, n1 = N).
 */
function cut<T extends TargetArray>(a: T, rows: number, S: number, n0: number, n1: number, s0: number, s1: number): T {
  const out = new (a.constructor as new (n: number) => T)((n1 - n0) * rows * (s1 - s0));
  let k = 0;
  for (let n = n0; n < n1; n++) {
    for (let r = 0; r < rows; r++) {
      const base = (n * rows + r) * S;
      out.set(a.subarray(base + s0, base + s1), k);
      k += s1 - s0;
    }
  }
  return out;
}

/** The shard of a case holding samples [n0, n1) and spatial elements [s0, s1) (whole rows of the first spatial axis). */
function shardOf(c: StatsCase, n0: number, n1: number, s0: number, s1: number, shape: number[]): Shard {
  const [N, C] = c.options.shape as [number, number];
  const S = c.data.input.length / (N * C);
  const indices = c.options.target === 'indices';
  const at = cut(Int32Array.from(c.data.input, (_, i) => i), C, S, n0, n1, s0, s1);
  return {
    input: cut(c.data.input, C, S, n0, n1, s0, s1),
    target: cut(c.data.target, indices ? 1 : C, S, n0, n1, s0, s1),
    mask: c.data.mask && cut(c.data.mask, c.data.mask.length === N * S ? 1 : C, S, n0, n1, s0, s1),
    shape,
    at,
  };
}

/** `count` increasing cut points in (0, total), as boundaries [0, ..., total] of non-empty parts. */
function boundaries(rng: Rng, total: number, count: number): number[] {
  const cuts = new Set<number>();
  while (cuts.size < count - 1) cuts.add(rng.int(1, total - 1));
  return [0, ...[...cuts].sort((a, b) => a - b), total];
}

/**
 * Checks a sharded evaluation against the whole one: the merged sums equal diceStats of the whole
 * data; lossFromStats of them equals the whole loss, which matches the float64 reference; each
 * shard's loss with `stats` is that loss; each shard's gradient with `stats` equals its slice of
 * the whole gradient to 1e-5 × max|gradient| (plus float32 ulp of the cancelling terms).
 *
 * `split` says how close the sums can be. 'samples': shards of whole samples compute each sample's
 * float64 partial sums exactly as the whole call does, and only add them in another order: 1e-9
 * relative, for the sums and the loss. 'space': a slab of a sample's rows is accumulated in its own
 * float32 lanes (flushed into float64 every block), so its sums differ from the whole row's in the
 * float32 rounding: 1e-6 relative (the terms are all ≥ 0), and the loss to lossTolerance.
 */
function shardedMismatch(c: StatsCase, shards: Shard[], split: 'samples' | 'space'): string | null {
  const where = JSON.stringify({ kind: c.kind, ...c.options, mask: c.data.mask ? c.data.mask.length : 'none', weight: c.data.weight, shards: shards.map((s) => s.shape) });
  const { input, target } = c.data;
  const wholeShape = c.options.shape as number[];
  const wholeGrad = new Float32Array(input.length);
  const wholeLoss = loss(c.kind, input, target, { ...c.options, grad: wholeGrad });
  const ref = REFERENCE[c.kind](input, target, c.options);
  if (!(Math.abs(wholeLoss - (ref.loss as number)) <= lossTolerance(Math.abs(ref.loss as number)))) {
    return `whole loss ${wholeLoss}, reference ${String(ref.loss)}: ${where}`;
  }

  const parts = shards.map((s) => diceStats(s.input, s.target, statsOptions(c.options, s.shape, s.mask)));
  const merged = parts.reduce((a, b) => mergeStats(a, b));
  const whole = diceStats(input, target, statsOptions(c.options, wholeShape, c.data.mask));
  if (merged.length !== whole.length) return `merged stats have ${merged.length} sums, whole ${whole.length}: ${where}`;
  const sumsTolerance = split === 'samples' ? 1e-9 : 1e-6;
  for (let k = 0; k < whole.length; k++) {
    if (!(Math.abs(merged[k]! - whole[k]!) <= sumsTolerance * Math.abs(whole[k]!))) return `sum ${k}: merged ${merged[k]}, whole ${whole[k]}: ${where}`;
  }

  const fromStats = lossFromStats(merged, fromStatsOptions(c)) as number;
  const lossError = Math.abs(fromStats - wholeLoss);
  if (!(split === 'samples' ? lossError <= 1e-9 * Math.max(1, Math.abs(wholeLoss)) : lossError <= lossTolerance(Math.abs(wholeLoss)))) {
    return `lossFromStats ${fromStats}, whole loss ${wholeLoss}: ${where}`;
  }

  const max = wholeGrad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let terms: Float64Array | undefined;
  for (const s of shards) {
    const grad = new Float32Array(s.input.length).fill(NaN);
    const shardLoss = loss(c.kind, s.input, s.target, { ...c.options, shape: s.shape, mask: s.mask, stats: merged, grad });
    if (!(Math.abs(shardLoss - fromStats) <= 1e-12 * Math.max(1, Math.abs(fromStats)))) return `shard loss ${shardLoss}, lossFromStats ${fromStats}: ${where}`;
    for (let i = 0; i < grad.length; i++) {
      const want = wholeGrad[s.at[i]!]!;
      if (Math.abs(grad[i]! - want) <= 1e-5 * max) continue;
      terms ??= regionGradientScale(c.kind, input, target, c.options);
      if (!(Math.abs(grad[i]! - want) <= 1e-5 * max + 64 * F32_EPS * terms[s.at[i]!]! + 2 ** -140)) {
        return `shard ${s.shape} grad[${i}] = ${grad[i]}, whole grad[${s.at[i]}] = ${want}: ${where}`;
      }
    }
  }
  return null;
}

describe('diceStats', () => {
  it('holds (I, SP, SG) per (row, class) as [rows][C][3]: Σp·g (Σmin(p, g) soft), Σp (Σp²), Σg (Σg²), rows summed with batch', () => {
    const rng = new Rng(600);
    for (let k = 0; k < 24; k++) {
      const [N, C, S] = [rng.int(1, 3), rng.int(1, 4), rng.int(1, 300)];
      const p = Float32Array.from({ length: N * C * S }, () => rng.float());
      const g = Float32Array.from({ length: N * C * S }, () => (rng.chance(0.3) ? rng.int(0, 1) : rng.float()));
      const squared = k % 3 === 1, softLabel = k % 3 === 2, batch = k % 2 === 1;
      const got = diceStats(p, g, { shape: [N, C, S], squared, softLabel, batch });
      const want = new Float64Array((batch ? 1 : N) * C * 3);
      const scale = new Float64Array(want.length); // Σ of |terms|, for a float32-accumulation tolerance
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
        const i = (n * C + c) * S + s, at = ((batch ? 0 : n) * C + c) * 3;
        const terms = [softLabel ? Math.min(p[i]!, g[i]!) : p[i]! * g[i]!, squared ? p[i]! ** 2 : p[i]!, squared ? g[i]! ** 2 : g[i]!];
        terms.forEach((t, j) => { want[at + j] += t; scale[at + j] += Math.abs(t); });
      }
      expect(got).toBeInstanceOf(Float64Array);
      expect(got.length).toBe(want.length);
      want.forEach((v, j) => expect(Math.abs(got[j]! - v), `case ${k} sum ${j}`).toBeLessThanOrEqual(1e-6 * scale[j]! + 1e-12));
    }
  });

  it('mergeStats adds element-wise and rejects arrays of other types or lengths', () => {
    expect(Array.from(mergeStats(Float64Array.of(1, 2, 3), Float64Array.of(0.5, -1, 4)))).toEqual([1.5, 1, 7]);
    expect(() => mergeStats([1, 2, 3] as never, new Float64Array(3))).toThrow(TypeError);
    expect(() => mergeStats(new Float64Array(3), new Float32Array(3) as never)).toThrow(TypeError);
    expect(() => mergeStats(new Float64Array(3), new Float64Array(6))).toThrow(RangeError);
    expect(() => mergeStats(new Float64Array(4), new Float64Array(4))).toThrow(RangeError);
  });
});

describe('a batch split along N into 2..8 shards (batch: true)', () => {
  for (const kind of KINDS) {
    it(`${kind}: shard stats merge to the whole batch's; lossFromStats and each shard's gradient match the whole`, () => {
      const rng = new Rng({ dice: 610, tversky: 611, generalizedDice: 612 }[kind]);
      const f = new Failures();
      for (let family = 0; family < 88; family++) {
        const parts = 2 + (family % 7);
        const N = parts + rng.int(0, 3);
        const C = rng.int(ACTIVATION_MASKS[family % 8]![0] === 'softmax' ? 2 : 1, 4);
        const S = rng.pick([1, 7, 64, 150]);
        const c = randomCase(rng, kind, [N, C, S], true, family);
        const cuts = boundaries(rng, N, parts);
        const shards = cuts.slice(1).map((n1, k) => shardOf(c, cuts[k]!, n1, 0, S, [n1 - cuts[k]!, C, S]));
        f.add(shardedMismatch(c, shards, 'samples'));
      }
      expect(f.summary()).toEqual([]);
    });
  }
});

describe('a volume [N, C, D, H, W] split into slabs along D', () => {
  // Each slab is its own [N, C, d, H, W] array (copied): its sums have the rows of the whole volume
  // (N without batch, 1 with it) and add up to the volume's.
  for (const kind of KINDS) {
    it(`${kind}: slab stats merge to the volume's; lossFromStats and each slab's gradient match the whole (batch false and true)`, () => {
      const rng = new Rng({ dice: 620, tversky: 621, generalizedDice: 622 }[kind]);
      const f = new Failures();
      for (let family = 0; family < 88; family++) {
        const [D, H, W] = [rng.int(2, 12), rng.int(1, 9), rng.int(1, 9)];
        const slabs = Math.min(D, 2 + (family % 7));
        const N = rng.int(1, 3);
        const C = rng.int(ACTIVATION_MASKS[family % 8]![0] === 'softmax' ? 2 : 1, 4);
        const c = randomCase(rng, kind, [N, C, D, H, W], family % 2 === 0, family);
        const cuts = boundaries(rng, D, slabs);
        const shards = cuts.slice(1).map((d1, k) => shardOf(c, 0, N, cuts[k]! * H * W, d1 * H * W, [N, C, d1 - cuts[k]!, H, W]));
        f.add(shardedMismatch(c, shards, 'space'));
      }
      expect(f.summary()).toEqual([]);
    });
  }
});

describe('examples/stats-workers.mjs', () => {
  it('runs: 4 workers, all-reduced stats, the assembled gradient and loss equal the single-instance ones (prints OK, exits 0)', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    expect(existsSync(`${root}build/segloss.js`), 'build/segloss.js is missing: run `npm run build` first').toBe(true);
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, ['examples/stats-workers.mjs'], { cwd: root, timeout: 90_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    });
    expect(stderr).toBe('');
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/^OK\b/m);
  });
});
