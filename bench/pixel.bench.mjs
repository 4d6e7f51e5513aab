// The edge pixel losses, forward + gradient, at 1M elements (an edge batch,
// 4×1×512×512 sigmoid logits, u8 labels with 10% positives): segloss on
// buffers in its memory (zero copy) and on JS arrays (copy), against the
// float64 references it is tested with (bceLossReference, focalLossReference,
// and diceLossReference + bceLossReference for Dice + BCE).
//
//   npm run bench:pixel     under a minute
//
// Each implementation is first checked against its reference; then, per round,
// one tinybench Bench holds every implementation of every case (gc() before
// each), and the reported time is the median over rounds of each round's
// median call. Results go to stdout and bench/results/pixel-latest.json.
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import {
  init, backend, alloc, bceLoss, focalLoss, diceBceLoss, diceLoss,
  bceLossReference, focalLossReference, diceLossReference,
} from '../build/segloss.js';
import { mulberry32 as random } from '../examples/lib/rng.mjs';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench:pixel)');
const gc = globalThis.gc;
const ROUNDS = 7;
const TASK_MS = 150;
const N = 4, H = 512, W = 512, n = N * H * W;
const shape = [N, 1, H, W];

await init();
const rand = random(2026);
const logits = Float32Array.from({ length: n }, () => (rand() - 0.6) * 8);
const edges = Uint8Array.from({ length: n }, () => (rand() < 0.1 ? 1 : 0));
const x = alloc(Float32Array, n), g = alloc(Uint8Array, n), grad = alloc(Float32Array, n);
x.view.set(logits);
g.view.set(edges);
const heapGrad = new Float32Array(n);

/** The float64 Dice + BCE: the sum of the two references (the fused loss's default weights are 1 and 1). */
function diceBceReference(input, target, options) {
  const d = diceLossReference(input, target, options), b = bceLossReference(input, target, options);
  return { loss: d.loss + b.loss, grad: d.grad.map((v, i) => v + b.grad[i]) };
}

const CASES = [
  { id: 'dice', title: 'diceLoss (for scale)', fn: diceLoss, options: {}, reference: diceLossReference },
  { id: 'bce', title: 'bceLoss', fn: bceLoss, options: {}, reference: bceLossReference },
  { id: 'bce-hed', title: "bceLoss, balance 'hed'", fn: bceLoss, options: { balance: 'hed' }, reference: bceLossReference },
  { id: 'focal', title: 'focalLoss (γ 2, α 0.25)', fn: focalLoss, options: {}, reference: focalLossReference },
  { id: 'dice-bce', title: 'diceBceLoss', fn: diceBceLoss, options: {}, reference: diceBceReference },
];

// Accuracy first: |loss − ref| and max |grad − ref| / max |ref grad|, zero copy (the copy path gives the same bits).
const accuracy = {};
for (const c of CASES) {
  const options = { shape, activation: 'sigmoid', ...c.options };
  const loss = c.fn(x, g, { ...options, grad });
  const ref = c.reference(logits, edges, options);
  const gv = grad.view;
  let worst = 0, scale = 0;
  for (let i = 0; i < n; i++) {
    worst = Math.max(worst, Math.abs(gv[i] - ref.grad[i]));
    scale = Math.max(scale, Math.abs(ref.grad[i]));
  }
  accuracy[c.id] = { lossError: Math.abs(loss - ref.loss), gradError: worst / scale };
}

const tasks = [];
for (const c of CASES) {
  const options = { shape, activation: 'sigmoid', ...c.options };
  tasks.push({ case: c.id, impl: 'segloss zero-copy', run: () => c.fn(x, g, { ...options, grad }) });
  tasks.push({ case: c.id, impl: 'segloss copy', run: () => c.fn(logits, edges, { ...options, grad: heapGrad }) });
  tasks.push({ case: c.id, impl: 'float64 reference', run: () => c.reference(logits, edges, options) });
}
const times = new Map(tasks.map((t) => [t, []]));
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: TASK_MS, iterations: 1, warmup: false, throws: true, setup: () => gc() });
  const order = tasks.map((_, i) => tasks[(i + round) % tasks.length]);
  for (const t of order) bench.add(`${t.case} ${t.impl}`, t.run);
  bench.runSync();
  bench.tasks.forEach((bt, i) => times.get(order[i]).push(bt.result.latency.p50));
}
const median = (v) => v.slice().sort((a, b) => a - b)[v.length >> 1];

const rows = tasks.map((t) => ({ case: t.case, impl: t.impl, nsPerElement: (median(times.get(t)) * 1e6) / n }));
console.log(`segloss pixel-loss benchmark: ${n} elements (${shape.join('×')}), sigmoid logits, u8 labels (10% positives)`);
console.log(`machine ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores; node ${process.version}; segloss ${backend()} build; load average ${os.loadavg()[0].toFixed(2)}`);
console.log('ns per element (median over rounds of each round\'s median call); errors against the float64 reference\n');
console.log(`${'case'.padEnd(25)}${'zero-copy'.padStart(10)}${'copy'.padStart(8)}${'float64'.padStart(9)}${'f64/zc'.padStart(8)}${'loss err'.padStart(10)}${'grad err'.padStart(10)}`);
for (const c of CASES) {
  const ns = (impl) => rows.find((r) => r.case === c.id && r.impl === impl).nsPerElement;
  const zc = ns('segloss zero-copy'), cp = ns('segloss copy'), ref = ns('float64 reference');
  const a = accuracy[c.id];
  console.log(`${c.title.padEnd(25)}${zc.toFixed(2).padStart(10)}${cp.toFixed(2).padStart(8)}${ref.toFixed(1).padStart(9)}`
    + `${(ref / zc).toFixed(1).padStart(7)}×${a.lossError.toExponential(1).padStart(10)}${a.gradError.toExponential(1).padStart(10)}`);
}
const out = fileURLToPath(new URL('./results/pixel-latest.json', import.meta.url));
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(out, `${JSON.stringify({
  date: new Date().toISOString(), node: process.version, backend: backend(), elements: n, shape,
  loadAverage: os.loadavg()[0], rounds: ROUNDS, accuracy, rows,
}, null, 2)}\n`);
console.log(`\nwrote ${out}`);
