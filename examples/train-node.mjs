// `npm start`: trains the example edge detector (examples/lib) once per loss
// from the same seed — plain BCE, HED-balanced BCE, Dice + BCE and the
// crisp-edge loss — with segloss computing each loss and its gradient, then
// scores them on held-out images with segloss's boundary benchmark (edgeNms,
// then boundaryF: ODS, OIS, AP) and writes a contact sheet (input | ground
// truth | one prediction per loss) to out/contact-sheet.png. The only
// Node-specific file of the example.
//
//   node examples/train-node.mjs [--losses bce,balanced-bce,dice-bce,crisp] [--steps 500] [--batch 8]
//     [--size 64] [--crop 32] [--lr 0.02] [--seed 1] [--train 384] [--test 64] [--max-dist 0.0075]
//     [--out out/contact-sheet.png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PNG } from 'pngjs';
import * as segloss from '../build/segloss.js';
import { makeDataset, edgeDensity } from './lib/data.mjs';
import { LOSS_FUNCTIONS, lossAvailable, predict, train } from './lib/train.mjs';

/** @typedef {import('./lib/train.mjs').LossName} LossName */

// A 3×5 pixel font for the labels: five rows of three bits per glyph (bit 2 = left column).
/** @type {Record<string, number[]>} */
const FONT = {
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [3, 4, 4, 4, 3], D: [6, 5, 5, 5, 6], E: [7, 4, 6, 4, 7],
  F: [7, 4, 6, 4, 4], G: [3, 4, 5, 5, 3], H: [5, 5, 7, 5, 5], I: [7, 2, 2, 2, 7], J: [1, 1, 1, 5, 2],
  K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7], M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], O: [2, 5, 5, 5, 2],
  P: [6, 5, 6, 4, 4], Q: [2, 5, 5, 6, 3], R: [6, 5, 6, 5, 5], S: [3, 4, 2, 1, 6], T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5], Y: [5, 5, 2, 2, 2],
  Z: [7, 1, 2, 4, 7], 0: [7, 5, 5, 5, 7], 1: [2, 6, 2, 2, 7], 2: [6, 1, 2, 4, 7], 3: [6, 1, 2, 1, 6],
  4: [5, 5, 7, 1, 1], 5: [7, 4, 6, 1, 6], 6: [3, 4, 7, 5, 7], 7: [7, 1, 2, 2, 2], 8: [7, 5, 7, 5, 7],
  9: [7, 5, 7, 1, 6], '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], '=': [0, 7, 0, 7, 0], '+': [0, 2, 7, 2, 0],
  ' ': [0, 0, 0, 0, 0],
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    losses: { type: 'string', default: 'bce,balanced-bce,dice-bce,crisp' },
    steps: { type: 'string', default: '500' },
    batch: { type: 'string', default: '8' },
    size: { type: 'string', default: '64' },
    crop: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    train: { type: 'string', default: '384' },
    test: { type: 'string', default: '64' },
    'max-dist': { type: 'string', default: '0.0075' },
    out: { type: 'string', default: resolve(root, 'out/contact-sheet.png') },
  },
});

/**
 * @param {string} name
 * @param {string | undefined} text
 * @param {boolean} integer
 */
function numberArg(name, text, integer) {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}; got ${text}`);
    process.exit(2);
  }
  return v;
}
const steps = numberArg('steps', args.steps, true);
const batch = numberArg('batch', args.batch, true);
const size = numberArg('size', args.size, true);
const crop = Math.min(size, numberArg('crop', args.crop, true));
const lr = numberArg('lr', args.lr, false);
const seed = numberArg('seed', args.seed, true);
const trainCount = numberArg('train', args.train, true);
const testCount = numberArg('test', args.test, true);
const maxDist = numberArg('max-dist', args['max-dist'], false);

/** @type {LossName[]} */
const losses = [];
for (const name of (args.losses ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
  if (!Object.hasOwn(LOSS_FUNCTIONS, name)) {
    console.error(`--losses: unknown loss '${name}'; expected some of ${Object.keys(LOSS_FUNCTIONS).join(', ')}`);
    process.exit(2);
  }
  losses.push(/** @type {LossName} */ (name));
}
const missing = losses.filter((name) => !lossAvailable(name));
if (missing.length > 0) {
  const functions = [...new Set(missing.map((n) => `segloss.${LOSS_FUNCTIONS[n]}`))];
  const available = /** @type {LossName[]} */ (Object.keys(LOSS_FUNCTIONS)).filter(lossAvailable);
  console.error(`This build of segloss (build/segloss.js) lacks ${functions.join(' and ')}, `
    + `needed by the loss${missing.length > 1 ? 'es' : ''} ${missing.join(', ')}.\n`
    + `Rebuild segloss once ${functions.length > 1 ? 'they exist' : 'it exists'} (npm run build), or train with what this build has:\n`
    + `  node examples/train-node.mjs --losses ${available.join(',')}`);
  process.exit(1);
}

await segloss.init();
const wallStart = performance.now();
const cpuStart = process.cpuUsage();
const trainSet = makeDataset({ count: trainCount, size, seed });
const testSet = makeDataset({ count: testCount, size, seed: seed + 1_000_003 }); // disjoint stream: held out
console.log(`segloss ${segloss.backend()} backend · ${trainCount} training / ${testCount} test images of ${size}×${size}, `
  + `${(100 * edgeDensity(trainSet.edges)).toFixed(1)}% edge pixels · ${steps} steps × batch ${batch} of ${crop}×${crop} crops, `
  + `Adam lr ${lr}, seed ${seed}`);

/**
 * The boundary benchmark of held-out predictions: non-maximum suppression (as in the HED / RCF
 * evaluation pipeline), then boundaryF with thinning, 99 thresholds and a matching radius of
 * maxDist × the image diagonal.
 * @param {Float32Array[]} probs
 */
function benchmark(probs) {
  const thinned = probs.map((p) => segloss.edgeNms(p, { shape: [size, size] }));
  return segloss.boundaryF(thinned, testSet.edges.map((e) => [e]), { shape: [size, size], maxDist });
}

/** @type {{ name: LossName, score: ReturnType<typeof benchmark>, totalMs: number, seglossMs: number, finalLoss: number, probs: Float32Array[] }[]} */
const results = [];
for (const name of losses) {
  const bar = progressBar(name, steps);
  const run = await train({ loss: name, data: trainSet, steps, batch, crop, seed, lr, onStep: bar.update });
  bar.done();
  const probs = predict(run.model, testSet.images, size);
  // Mean loss over the last 10% of steps: less noisy than the last batch alone.
  const tail = run.losses.subarray(Math.floor(steps * 0.9));
  const finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
  results.push({ name, score: benchmark(probs), totalMs: run.totalMs, seglossMs: run.seglossMs, finalLoss, probs });
}

const radius = maxDist * Math.hypot(size, size);
console.log(`\nHeld-out boundary benchmark (segloss.edgeNms, then segloss.boundaryF: thinning, 99 thresholds, `
  + `one-to-one matching within ${radius.toFixed(2)} px = ${maxDist} × diagonal). The loss and gradient are `
  + `computed in segloss; the rest of each step (the network, forward and backward) is plain JavaScript:`);
console.table(Object.fromEntries([
  ...results.map((r) => [r.name, {
    ODS: round(r.score.ods.f), P: round(r.score.ods.precision), R: round(r.score.ods.recall),
    OIS: round(r.score.ois.f), AP: round(r.score.ap),
    'final loss': round(r.finalLoss),
    'ms/step': round(r.totalMs / steps, 1),
    'segloss ms/step': round(r.seglossMs / steps, 2),
    'segloss %': round((100 * r.seglossMs) / r.totalMs, 2),
  }]),
]));

const titles = results.map((r) => `${r.name.toUpperCase()} ODS=${r.score.ods.f.toFixed(2)}`);
const sheet = contactSheet(testSet, results.map((r) => r.probs), titles, 6, Math.max(2, Math.round(192 / size)));
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, PNG.sync.write(sheet));
console.log(`Contact sheet: ${relative(process.cwd(), args.out)} (columns: input | ground truth | ${results.map((r) => r.name).join(' | ')})`);
const cpu = process.cpuUsage(cpuStart);
console.log(`Total ${((performance.now() - wallStart) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU`);

/**
 * @param {number} v
 * @param {number} [digits]
 */
function round(v, digits = 3) {
  return Number(v.toFixed(digits));
}

/**
 * A one-line progress bar, redrawn with \r on a terminal; a line per 10% otherwise.
 * @param {string} label
 * @param {number} total
 */
function progressBar(label, total) {
  const tty = process.stdout.isTTY === true;
  let lastDraw = 0;
  let lastDecile = -1;
  let line = '';
  return {
    /** @param {import('./lib/train.mjs').StepInfo} info */
    update(info) {
      const now = performance.now();
      const decile = Math.floor((10 * info.step) / total);
      if (tty ? now - lastDraw < 100 && info.step < total : decile === lastDecile) return;
      lastDraw = now;
      lastDecile = decile;
      const width = 24;
      const filled = Math.round((width * info.step) / total);
      line = `${label.padEnd(13)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(info.step).padStart(String(total).length)}/${total}`
        + `  loss ${info.loss.toFixed(4)}  ${((1000 * info.step) / info.elapsedMs).toFixed(1)} steps/s`
        + `  segloss ${((100 * info.seglossMs) / info.elapsedMs).toFixed(1)}%`;
      if (tty) process.stdout.write(`\r${line}\x1b[K`); // \x1b[K: clear the rest of the line
      else console.log(line);
    },
    done() {
      if (tty) process.stdout.write('\n');
    },
  };
}

/**
 * An RGBA image: one row per test image, columns input | ground truth | each
 * prediction (edge probability, white = 1), every tile scaled `zoom` times,
 * with a label row on top.
 * @param {import('./lib/data.mjs').Dataset} data
 * @param {Float32Array[][]} predictions per loss, per image
 * @param {string[]} titles per loss, the column label
 * @param {number} rows
 * @param {number} zoom
 */
function contactSheet(data, predictions, titles, rows, zoom) {
  const { size } = data;
  const n = Math.min(rows, data.images.length);
  const cols = 2 + predictions.length;
  const tile = size * zoom;
  const gap = 4;
  const header = 16;
  const width = cols * tile + (cols + 1) * gap;
  const height = header + n * tile + (n + 1) * gap;
  const png = new PNG({ width, height });
  png.data.fill(48); // dark grey background
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  ['INPUT', 'TRUTH', ...titles].forEach((t, c) => drawText(png, t, gap + c * (tile + gap) + 2, 5, 2));
  for (let r = 0; r < n; r++) {
    const y0 = header + gap + r * (tile + gap);
    const columns = [data.images[r], data.edges[r], ...predictions.map((p) => p[r])];
    columns.forEach((values, c) => {
      const x0 = gap + c * (tile + gap);
      for (let y = 0; y < tile; y++) {
        for (let x = 0; x < tile; x++) {
          const v = values[Math.floor(y / zoom) * size + Math.floor(x / zoom)];
          const g = Math.round(255 * Math.min(1, Math.max(0, v)));
          const o = ((y0 + y) * width + x0 + x) * 4;
          png.data[o] = g;
          png.data[o + 1] = g;
          png.data[o + 2] = g;
        }
      }
    });
  }
  return png;
}

/**
 * Draws `text` in white at (x, y), each font pixel `scale`×`scale`.
 * @param {PNG} png
 * @param {string} text
 * @param {number} x
 * @param {number} y
 * @param {number} scale
 */
function drawText(png, text, x, y, scale) {
  for (const ch of text) {
    const glyph = FONT[ch] ?? FONT[' '];
    glyph.forEach((bits, gy) => {
      for (let gx = 0; gx < 3; gx++) {
        if (!((bits >> (2 - gx)) & 1)) continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const px = x + gx * scale + sx;
            const py = y + gy * scale + sy;
            if (px >= png.width || py >= png.height) continue;
            png.data.fill(255, (py * png.width + px) * 4, (py * png.width + px) * 4 + 3);
          }
        }
      }
    });
    x += 4 * scale;
  }
}
