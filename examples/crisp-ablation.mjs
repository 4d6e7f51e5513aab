// Which part of Deng et al.'s crisp-edge loss loses to plain BCE on the example's data (README, "Training an
// edge detector without TensorFlow.js"). Trains the example network as `npm start` does (same data, steps,
// crops, learning rate and held-out score), changing one piece of the loss at a time, and prints ODS per seed:
//   1. per seed: BCE, Dice + BCE, Dice with a squared denominator + BCE, Dice + HED-balanced BCE,
//      the crisp loss with plain BCE, the crisp loss as published;
//   2. on the first seed: the inverse Dice term alone against the squared Dice it inverts (both over the
//      whole batch), with Adam's β₂ = 0.999 and 0.9; then, on every seed, crisp and BCE with β₂ = 0.9.
// About 12 s per training run; 28 runs with the default three seeds (6·3 + 2·2 + 2·3).
// `--network multiscale` trains the HED-like multi-scale network of lib/msmodel.mjs instead (its
// side outputs at ½ and ¼ resolution make BCE's edges thicker, the case the crisp loss is meant
// for; about 20 s per run), with `--pool max` (default) or `avg` between its stages.
//
//   node examples/crisp-ablation.mjs [--seeds 1,2,3] [--steps 500] [--network full|multiscale] [--pool max|avg]
import { parseArgs } from 'node:util';
import * as segloss from '../build/segloss.js';
import { makeDataset } from './lib/data.mjs';
import { createModel } from './lib/model.mjs';
import { createMultiScaleModel } from './lib/msmodel.mjs';
import { predict, train } from './lib/train.mjs';

const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1,2,3' },
    steps: { type: 'string', default: '500' },
    network: { type: 'string', default: 'full' },
    pool: { type: 'string', default: 'max' },
  },
});
const seeds = (args.seeds ?? '').split(',').map(Number);
const steps = Number(args.steps);
if (seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s > 0) || !Number.isInteger(steps) || steps < 1) {
  console.error(`--seeds must be positive integers separated by commas and --steps a positive integer; got '${args.seeds}', '${args.steps}'`);
  process.exit(2);
}
if ((args.network !== 'full' && args.network !== 'multiscale') || (args.pool !== 'max' && args.pool !== 'avg')) {
  console.error(`--network must be full or multiscale and --pool max or avg; got '${args.network}', '${args.pool}'`);
  process.exit(2);
}
const pool = args.pool;
/** @type {(o: { seed: number, channels: number, outputBias: number }) => import('./lib/model.mjs').Model} */
const makeModel = args.network === 'multiscale' ? (o) => createMultiScaleModel({ ...o, pool }) : createModel;
const size = 64;

/** @typedef {import('./lib/train.mjs').LossCall} LossCall */
/** @type {(options: object) => LossCall} sigmoid logits, a gradient into `grad` */
const diceBce = (o) => (z, g, shape, grad) => segloss.diceBceLoss(z, g, { shape, activation: 'sigmoid', balance: 'none', ...o, grad });
/** @type {(options: object) => LossCall} */
const crisp = (o) => (z, g, shape, grad) => segloss.crispEdgeLoss(z, g, { shape, ...o, grad });
/** @type {(options: object) => LossCall} */
const bce = (o) => (z, g, shape, grad) => segloss.bceLoss(z, g, { shape, activation: 'sigmoid', ...o, grad });
/** @type {(options: object) => LossCall} */
const dice = (o) => (z, g, shape, grad) => segloss.diceLoss(z, g, { shape, activation: 'sigmoid', ...o, grad });

/** @type {[string, LossCall][]} */
const pieces = [
  ['BCE', bce({ balance: 'none' })],
  ['Dice + BCE', diceBce({})],
  ['Dice with squared denominator + BCE', diceBce({ squared: true })],
  ['Dice + HED-balanced BCE', diceBce({ balance: 'hed' })],
  ["crisp with plain BCE (balance: 'none')", crisp({ balance: 'none' })],
  ['crisp, as published', crisp({})],
];

await segloss.init();
/** @type {Map<number, { train: import('./lib/data.mjs').Dataset, test: import('./lib/data.mjs').Dataset }>} */
const data = new Map(seeds.map((seed) => [seed, {
  train: makeDataset({ count: 384, size, seed }),
  test: makeDataset({ count: 64, size, seed: seed + 1_000_003 }), // as examples/train-node.mjs
}]));

/**
 * ODS of a network trained with `call`, scored as `npm start` scores: edgeNms, then boundaryF
 * (thinning, 99 thresholds, maxDist 0.0075).
 * @param {LossCall} call
 * @param {number} seed
 * @param {number} [beta2]
 * @returns {Promise<{ ods: number, firstLoss: number, lastLoss: number }>}
 */
async function score(call, seed, beta2 = 0.999) {
  const sets = /** @type {{ train: import('./lib/data.mjs').Dataset, test: import('./lib/data.mjs').Dataset }} */ (data.get(seed));
  const run = await train({ loss: 'bce', call, data: sets.train, steps, seed, beta2, makeModel });
  const probs = predict(run.model, sets.test.images, size).map((p) => segloss.edgeNms(p, { shape: [size, size] }));
  const ods = segloss.boundaryF(probs, sets.test.edges.map((e) => [e]), { shape: [size, size] }).ods.f;
  const tail = run.losses.subarray(Math.max(0, steps - 50));
  return { ods, firstLoss: run.losses[0], lastLoss: tail.reduce((a, b) => a + b, 0) / tail.length };
}

/** @param {number} v */
const f3 = (v) => v.toFixed(3);

const network = args.network === 'multiscale' ? `the multi-scale network (${pool} pooling)` : 'the full-resolution network of npm start';
console.log(`ODS after ${steps} steps on ${network} (edgeNms + boundaryF as in npm start), one piece of the loss changed at a time:`);
console.log(`| loss | ${seeds.map((s) => `seed ${s}`).join(' | ')} |\n|---|${seeds.map(() => '---|').join('')}`);
for (const [name, call] of pieces) {
  const row = [];
  for (const seed of seeds) row.push(f3((await score(call, seed)).ods));
  console.log(`| ${name} | ${row.join(' | ')} |`);
}

// The crisp term's gradient is the squared-Dice gradient times 1/D² (∂(1/D) = −∂D/D²). Over the whole batch
// (one D) that is one scalar per step, which Adam's normalisation would cancel if its second moment forgot
// quickly; β₂ = 0.999 remembers ~1,000 steps.
const seed = seeds[0];
console.log(`\nThe Dice term alone, over the whole batch (batch: true), seed ${seed}:`);
console.log('| term | β₂ = 0.999 | β₂ = 0.9 | loss at step 1 | mean of the last 50 steps |\n|---|---|---|---|---|');
for (const [name, call] of /** @type {[string, LossCall][]} */ ([
  ['squared Dice, 1 − D', dice({ squared: true, batch: true })],
  ['crisp inverse, 1/D', crisp({ batch: true, beta: 0 })],
])) {
  const slow = await score(call, seed);
  const fast = await score(call, seed, 0.9);
  console.log(`| ${name} | ${f3(slow.ods)} | ${f3(fast.ods)} | ${f3(slow.firstLoss)} | ${f3(slow.lastLoss)} |`);
}
console.log('\nThe full losses with β₂ = 0.9:');
console.log(`| loss | ${seeds.map((s) => `seed ${s}`).join(' | ')} |\n|---|${seeds.map(() => '---|').join('')}`);
for (const [name, call] of /** @type {[string, LossCall][]} */ ([['BCE', bce({ balance: 'none' })], ['crisp, as published', crisp({})]])) {
  const row = [];
  for (const s of seeds) row.push(f3((await score(call, s, 0.9)).ods));
  console.log(`| ${name} | ${row.join(' | ')} |`);
}
