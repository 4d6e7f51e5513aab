// Sharded statistics match the whole, as a property: a generated region case (any loss, any option)
// split into 2–5 shards, by samples (with batch: the rows merge) or by slabs of the first spatial axis;
// diceStats of the shards merged with mergeStats equal diceStats of the whole; lossFromStats of them
// equals the whole loss; each shard's loss with options.stats is that loss, and its gradient is its
// slice of the whole data's gradient with the same sums, bit for bit. RUNS cases (each calls mergeStats
// and lossFromStats), bounds as in test/stats.test.ts: sums 1e-9 relative when only the order of float64
// row sums changes (samples), 1e-6 when a row is cut (its float32 lanes restart).
import { describe, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { init, diceLoss, tverskyLoss, generalizedDiceLoss, diceStats, mergeStats, lossFromStats } from '../../src/index.ts';
import type { RegionLossKind } from '../../src/reference/dice.ts';
import { lossTolerance, type TargetArray } from '../helpers.ts';
import { regionArb, regionData, regionOptions, type RegionCase } from './cases.ts';
import { params, banner, RUNS } from './config.ts';

beforeAll(async () => {
  await init();
  console.log(banner('stats'));
});

type Options = Record<string, unknown>;
const LOSS = { dice: diceLoss, tversky: tverskyLoss, generalizedDice: generalizedDiceLoss } as const;
const call = (kind: RegionLossKind, x: Float32Array, t: TargetArray, o: Options) =>
  (LOSS[kind] as (x: Float32Array, t: TargetArray, o: Options) => number)(x, t, o);

/** Elements [s0, s1) of every row (`rows` rows of S per sample) of samples [n0, n1). */
function cut<T extends TargetArray>(a: T, rows: number, S: number, n0: number, n1: number, s0: number, s1: number): T {
  const out = new (a.constructor as new (n: number) => T)((n1 - n0) * rows * (s1 - s0));
  let k = 0;
  for (let n = n0; n < n1; n++) {
    for (let r = 0; r < rows; r++) {
      out.set(a.subarray((n * rows + r) * S + s0, (n * rows + r) * S + s1), k);
      k += s1 - s0;
    }
  }
  return out;
}

/** A case, how to split it, and where. */
interface Split { c: RegionCase; by: 'samples' | 'space'; cuts: number[] }

const splitArb: fc.Arbitrary<Split> = fc.constantFrom<RegionLossKind>('dice', 'tversky', 'generalizedDice')
  .chain((kind) => regionArb(kind))
  .filter((c) => c.set.reduction !== 'none')
  .chain((c) => {
    const [N, , first] = c.shape as [number, number, number];
    const bySamples = N >= 2, bySpace = first >= 2;
    if (!bySamples && !bySpace) return fc.constant(null);
    return fc.constantFrom(...(bySamples ? ['samples' as const] : []), ...(bySpace ? ['space' as const] : [])).chain((by) => {
      const total = by === 'samples' ? N : first;
      return fc.uniqueArray(fc.integer({ min: 1, max: total - 1 }), { minLength: 1, maxLength: Math.min(4, total - 1) })
        .map((inner) => ({ c: by === 'samples' ? { ...c, set: { ...c.set, batch: true } } : c, by, cuts: [0, ...inner.sort((a, b) => a - b), total] }));
    });
  })
  .filter((s): s is Split => s !== null);

function shardedMismatch({ c, by, cuts }: Split): string | null {
  const data = regionData(c);
  const o = regionOptions(c, data);
  const shape = c.shape;
  const [N, C] = shape as [number, number];
  const S = data.input.length / (N * C);
  const inner = shape.slice(3).reduce((a, b) => a * b, 1); // elements per index of the first spatial axis
  const indices = o.target === 'indices';
  const layout: Options = { shape, activation: o.activation, target: o.target, includeBackground: o.includeBackground, batch: o.batch };
  if (o.ignoreIndex !== undefined) layout.ignoreIndex = o.ignoreIndex;
  if (o.softLabel) layout.softLabel = true;
  if (o.squared) layout.squared = true;

  const wholeLoss = call(c.kind, data.input, data.target, { ...o, mask: data.mask });
  const whole = diceStats(data.input, data.target, { ...layout, mask: data.mask });
  const shards = cuts.slice(1).map((end, k) => {
    const [n0, n1, s0, s1] = by === 'samples' ? [cuts[k]!, end, 0, S] : [0, N, cuts[k]! * inner, end * inner];
    const shardShape = by === 'samples' ? [n1 - n0, ...shape.slice(1)] : [N, C, end - cuts[k]!, ...shape.slice(3)];
    return {
      shape: shardShape,
      input: cut(data.input, C, S, n0, n1, s0, s1),
      target: cut(data.target, indices ? 1 : C, S, n0, n1, s0, s1),
      mask: data.mask && cut(data.mask, data.mask.length === N * S ? 1 : C, S, n0, n1, s0, s1),
      at: cut(Int32Array.from(data.input, (_, i) => i), C, S, n0, n1, s0, s1),
    };
  });
  const merged = shards.map((s) => diceStats(s.input, s.target, { ...layout, shape: s.shape, mask: s.mask })).reduce((a, b) => mergeStats(a, b));
  const sumsTol = by === 'samples' ? 1e-9 : 1e-6;
  for (let k = 0; k < whole.length; k++) {
    if (!(Math.abs(merged[k]! - whole[k]!) <= sumsTol * Math.abs(whole[k]!))) return `sum ${k}: merged ${merged[k]}, whole ${whole[k]}`;
  }
  const { mask: _m, ignoreIndex: _i, activation: _a, target: _t, ...lossOptions } = o;
  const fromStats = lossFromStats(merged, { ...lossOptions, loss: c.kind } as never) as number;
  const lossErr = Math.abs(fromStats - wholeLoss);
  if (!(by === 'samples' ? lossErr <= 1e-9 * Math.max(1, Math.abs(wholeLoss)) : lossErr <= lossTolerance(Math.max(1, Math.abs(wholeLoss))))) {
    return `lossFromStats ${fromStats}, whole loss ${wholeLoss}`;
  }
  // Each shard's gradient with the merged sums is its slice of the whole gradient with the same sums,
  // bit for bit (pass 2 is element-wise given the sums).
  const globalGrad = new Float32Array(data.input.length);
  call(c.kind, data.input, data.target, { ...o, mask: data.mask, stats: merged, grad: globalGrad });
  for (const s of shards) {
    const grad = new Float32Array(s.input.length).fill(NaN);
    const shardLoss = call(c.kind, s.input, s.target, { ...o, shape: s.shape, mask: s.mask, stats: merged, grad });
    if (!(Math.abs(shardLoss - fromStats) <= 1e-12 * Math.max(1, Math.abs(fromStats)))) return `shard loss ${shardLoss}, lossFromStats ${fromStats}`;
    const bad = grad.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return `shard ${JSON.stringify(s.shape)} grad[${bad}] = ${grad[bad]}`;
    const k = grad.findIndex((v, i) => !Object.is(v, globalGrad[s.at[i]!]));
    if (k >= 0) return `shard ${JSON.stringify(s.shape)} grad[${k}] = ${grad[k]}, whole grad with the merged sums [${s.at[k]}] = ${globalGrad[s.at[k]!]}`;
  }
  return null;
}

describe(`sharded statistics, ${RUNS} cases`, () => {
  it('diceStats of shards + mergeStats = diceStats of the whole; lossFromStats and per-shard gradients = the whole', () => {
    const t0 = performance.now();
    fc.assert(fc.property(splitArb, (split) => {
      const failure = shardedMismatch(split);
      if (failure !== null) throw new Error(`${failure} (split by ${split.by} at ${split.cuts.join(', ')})`);
    }), params('stats'));
    const seconds = (performance.now() - t0) / 1000;
    console.log(`[segloss property] sharded stats: ${RUNS} cases in ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)} cases/s)`);
  });
});
