// Soft Dice forward + gradient: segloss against naive JS, fused JS,
// TensorFlow.js (Wasm backend) and the streaming roof (bench/roof.ts).
//
//   npm run bench          full run: 64K, 1M and 16M elements (< 10 min)
//   npm run bench:quick    64K and 1M, fewer rounds, no naive JS at 1M (< 1 min)
//
// Every implementation is first checked against the float64 reference
// (diceLossReference); then all of them are timed interleaved in one process:
// each round is one tinybench Bench holding every implementation (rotated
// order, gc() before each), and the reported time is the median over rounds of
// each round's median call. Results go to stdout and bench/results/latest.json.
// The performance bars of the issue are reported as PASS/FAIL, never asserted.
import os from 'node:os';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { init, backend, alloc, diceLoss, diceLossReference } from '../build/segloss.js';
import { naiveDice, makeFusedDice, loadTf, makeTfDice } from './baselines.mjs';
import { loadRoof } from './roof.mjs';
import { mulberry32 as random } from '../examples/lib/rng.mjs';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc (npm run bench)');
const gc = globalThis.gc;

const QUICK = process.argv.includes('--quick');
const K64 = 65536;
const M1 = 1048576;
const M16 = 16777216;
const SIZES = QUICK ? [K64, M1] : [K64, M1, M16];
// Per size: rounds, and the tinybench time budget of one implementation in one round (ms).
const PLAN = QUICK
  ? { [K64]: { rounds: 5, taskMs: 10 }, [M1]: { rounds: 5, taskMs: 15 } }
  : { [K64]: { rounds: 21, taskMs: 25 }, [M1]: { rounds: 15, taskMs: 50 }, [M16]: { rounds: 7, taskMs: 100 } };
// Naive JS is timed at 16M only if its 1M time extrapolates under this per call.
const NAIVE_MAX_CALL_MS = 500;
const BATCH = 4; // N of every shape

/**
 * The cases. `target`: 'f32' (soft labels in [0, 1)), 'u8' (0/1, 10% ones: sparse
 * edges) or 'index' (class ids, uniform). Inputs: probabilities in [0, 1) for
 * activation 'none', logits in [−4, 4) otherwise. 'dice-u8' (probabilities with
 * u8 targets) is there for the u8 roof bar; the headline u8 case has logits.
 */
const CASES = [
  { id: 'dice-u8-sigmoid', title: 'Dice, sigmoid logits, u8 targets (edge detection)', activation: 'sigmoid', target: 'u8', C: 1 },
  { id: 'dice-u8', title: 'Dice, probabilities, u8 targets', activation: 'none', target: 'u8', C: 1 },
  { id: 'dice-f32', title: 'Dice, probabilities, f32 targets', activation: 'none', target: 'f32', C: 1 },
  { id: 'squared-f32', title: 'Dice squared, probabilities, f32 targets', activation: 'none', target: 'f32', C: 1, squared: true },
  { id: 'jaccard-f32', title: 'Jaccard, probabilities, f32 targets', activation: 'none', target: 'f32', C: 1, jaccard: true },
  { id: 'dice-f32-sigmoid', title: 'Dice, sigmoid logits, f32 targets', activation: 'sigmoid', target: 'f32', C: 1 },
  { id: 'softmax4-index', title: 'Dice, softmax C = 4 logits, u8 class-index targets', activation: 'softmax', target: 'index', C: 4 },
];

// ------------------------------------------------------------------ problems


/** Input, target, options and byte count of one case at one size (elements of the input). */
function makeProblem(kase, size) {
  const { C } = kase;
  const S = size / (BATCH * C);
  const side = Math.sqrt(S);
  const rand = random(size + C);
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] = kase.activation === 'none' ? rand() : 8 * rand() - 4;
  let g;
  if (kase.target === 'f32') g = Float32Array.from({ length: size }, () => rand());
  else if (kase.target === 'u8') g = Uint8Array.from({ length: size }, () => (rand() < 0.1 ? 1 : 0));
  else g = Uint8Array.from({ length: BATCH * S }, () => Math.floor(rand() * C));
  const indices = kase.target === 'index';
  const options = {
    shape: [BATCH, C, side, side],
    activation: kase.activation,
    target: indices ? 'indices' : 'dense',
    squared: kase.squared === true,
    jaccard: kase.jaccard === true,
  };
  const spec = { N: BATCH, C, S, activation: kase.activation, squared: options.squared, jaccard: options.jaccard, indices };
  // Bytes the roof streams per input element: pass 1 reads P and G, pass 2
  // reads P and G and writes the gradient (f32 = 4 bytes; a class id is one
  // byte per C elements).
  const targetBytes = kase.target === 'f32' ? 4 : kase.target === 'u8' ? 1 : 1 / C;
  return { x, g, options, spec, bytesPerElement: 3 * 4 + 2 * targetBytes };
}

// ----------------------------------------------------------- implementations

/**
 * The implementations for one problem: `{ name, run, result?, dispose? }`.
 * `run` is what is timed (forward + gradient); `result` returns { loss, grad }
 * for the accuracy check (the roof has none). Skipped ones carry `skip`.
 */
function implementations(problem, ctx, naiveSkip) {
  const { x, g, options, spec } = problem;
  const n = x.length;

  const roofRun = ctx.roof.prepare(x, g, spec.indices ? Math.log2(spec.C) : 0);

  // Zero copy: the arrays live in segloss's memory. alloc may grow the memory
  // and detach views, so the views are taken after the last alloc.
  const xw = alloc(Float32Array, n);
  const gw = alloc(g.constructor, g.length);
  const gradW = alloc(Float32Array, n);
  xw.view.set(x);
  gw.view.set(g);
  const zeroCopyOptions = { ...options, grad: gradW };
  const zeroCopy = () => diceLoss(xw, gw, zeroCopyOptions);

  const copyGrad = new Float32Array(n);
  const copyOptions = { ...options, grad: copyGrad };
  const copy = () => diceLoss(x, g, copyOptions);

  const fusedGrad = new Float32Array(n);
  const fused = makeFusedDice(spec);
  const tf = makeTfDice(ctx.tf, spec);

  return [
    { name: 'roof', run: roofRun },
    {
      name: 'segloss zero-copy', run: zeroCopy,
      result: () => ({ loss: zeroCopy(), grad: gradW.view }),
      dispose: () => [xw, gw, gradW].forEach((w) => w.free()),
    },
    { name: 'segloss copy', run: copy, result: () => ({ loss: copy(), grad: copyGrad }) },
    { name: 'fused JS', run: () => fused(x, g, fusedGrad), result: () => ({ loss: fused(x, g, fusedGrad), grad: fusedGrad }) },
    { name: 'TF.js wasm', run: () => tf(x, g), result: () => tf(x, g) },
    { name: 'naive JS', run: () => naiveDice(x, g, spec), result: () => naiveDice(x, g, spec), skip: naiveSkip },
  ];
}

/** |loss − ref| and max |grad − ref| / max |ref grad|. */
function errors(result, reference) {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.grad.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(result.grad[i] - reference.grad[i]));
    maxRef = Math.max(maxRef, Math.abs(reference.grad[i]));
  }
  return { lossError: Math.abs(result.loss - reference.loss), gradError: maxDiff / maxRef };
}

// ------------------------------------------------------------------- timing

const median = (values) => quantile(values, 0.5);
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}

/**
 * Interleaved timing: `rounds` recorded rounds (after one discarded warm-up
 * round), each a tinybench Bench running every implementation for `taskMs`
 * (at least one call) in an order rotated by one per round, with gc() before
 * each. Returns, per name, the round medians (ms per call).
 */
function timeInterleaved(impls, rounds, taskMs) {
  const perRound = new Map(impls.map((impl) => [impl.name, []]));
  for (let r = -1; r < rounds; r++) {
    const bench = new Bench({ time: taskMs, iterations: 1, warmup: false, throws: true, setup: () => gc() });
    const shift = ((r % impls.length) + impls.length) % impls.length;
    for (const impl of [...impls.slice(shift), ...impls.slice(0, shift)]) bench.add(impl.name, impl.run);
    bench.runSync();
    if (r < 0) continue;
    for (const task of bench.tasks) perRound.get(task.name).push(task.result.latency.p50);
  }
  return perRound;
}

// --------------------------------------------------------------------- main

const bundleHash = () => createHash('sha256').update(readFileSync(new URL('../build/segloss.js', import.meta.url))).digest('hex').slice(0, 12);
const readVersion = (rel) => JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')).version;

async function main() {
  const t0 = performance.now();
  await init();
  const seglossInitMs = performance.now() - t0;
  const { roof, instantiateMs: roofInitMs } = await loadRoof();
  const tfjs = await loadTf();
  if (!tfjs.simd) console.warn('warning: TensorFlow.js wasm backend runs without SIMD');

  const cpus = os.cpus();
  const header = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    machine: `${cpus[0].model}, ${cpus.length} cores, ${os.platform()} ${os.arch()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    // Other processes skew the numbers: the 1-minute load average at the start (and at the end, in the JSON).
    loadAverage: os.loadavg()[0],
    node: `${process.version} (V8 ${process.versions.v8})`,
    // Which kernels were measured: a hash of the bundle that was imported.
    segloss: `${readVersion('../package.json')} (${backend()} build, build/segloss.js sha256 ${bundleHash()})`,
    tfjs: `@tensorflow/tfjs ${tfjs.version}, tfjs-backend-wasm ${readVersion('../node_modules/@tensorflow/tfjs-backend-wasm/package.json')} (SIMD ${tfjs.simd}, threads ${tfjs.threads})`,
    tinybench: readVersion('../node_modules/tinybench/package.json'),
    initMs: { segloss: seglossInitMs, tfjsWasm: tfjs.initMs, roof: roofInitMs },
  };
  printHeader(header);

  const ctx = { roof, tf: tfjs.tf };
  const rows = [];
  const groups = [];
  for (const size of SIZES) {
    for (const kase of CASES) {
      const group = runGroup(kase, size, ctx, naiveSkipReason(rows, kase, size));
      rows.push(...group.rows);
      groups.push({ case: kase.id, size, bytesPerElement: group.bytesPerElement, ratios: group.ratios });
      printGroup(kase, group);
    }
  }

  printAccuracy(rows);
  const bars = evaluateBars(rows);
  printBars(bars);
  const out = fileURLToPath(new URL('./results/latest.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  const loadAverageAtEnd = os.loadavg()[0];
  console.log(`load average ${loadAverageAtEnd.toFixed(2)} at the end`);
  writeFileSync(out, `${JSON.stringify({ ...header, loadAverageAtEnd, cases: CASES, groups, rows, bars }, null, 1)}\n`);
  console.log(`\nwrote ${out} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
}

/**
 * One case at one size: checks every implementation against the float64
 * reference, then times them interleaved. Returns the rows (one per
 * implementation), the group's ratios and its bytes per element.
 */
function runGroup(kase, size, ctx, naiveSkip) {
  const problem = makeProblem(kase, size);
  const reference = diceLossReference(problem.x, problem.g, problem.options);
  const impls = implementations(problem, ctx, naiveSkip);

  const accuracy = new Map();
  for (const impl of impls) {
    if (impl.skip || !impl.result) continue;
    try {
      accuracy.set(impl.name, errors(impl.result(), reference));
    } catch (err) {
      impl.skip = `failed: ${err.message.split('\n')[0]}`;
    }
  }

  const { rounds, taskMs } = PLAN[size];
  const perRound = timeInterleaved(impls.filter((impl) => !impl.skip), rounds, taskMs);
  impls.forEach((impl) => impl.dispose?.());
  gc();

  const roofMs = median(perRound.get('roof'));
  const rows = impls.map((impl) => {
    const row = { case: kase.id, size, impl: impl.name, ...accuracy.get(impl.name) };
    if (impl.skip) return { ...row, skipped: impl.skip };
    const samples = perRound.get(impl.name);
    const ms = median(samples);
    return {
      ...row,
      ms,
      nsPerElement: (ms * 1e6) / size,
      gbPerS: (problem.bytesPerElement * size) / (ms * 1e6),
      vsRoof: ms / roofMs,
      spreadPct: ((quantile(samples, 0.75) - quantile(samples, 0.25)) / 2 / ms) * 100,
      roundMedianMs: samples,
    };
  });
  return { size, rows, ratios: groupRatios(rows), bytesPerElement: problem.bytesPerElement };
}

/** Why naive JS is not timed at this size, or undefined when it is. */
function naiveSkipReason(rows, kase, size) {
  if (QUICK && size >= M1) return 'skipped in --quick';
  if (size <= M1) return undefined;
  const at1M = rows.find((r) => r.case === kase.id && r.size === M1 && r.impl === 'naive JS');
  const estimateMs = at1M?.ms !== undefined ? (at1M.ms * size) / M1 : Infinity;
  if (estimateMs <= NAIVE_MAX_CALL_MS) return undefined;
  return `skipped: ~${(estimateMs / 1000).toFixed(1)} s per call (1M time × 16)`;
}

// ------------------------------------------------------------------ reports

const SIZE_LABEL = { [K64]: '64K', [M1]: '1M', [M16]: '16M' };
const byImpl = (rows, name) => rows.find((r) => r.impl === name)?.ms;

/** Time ratios of one group: how many times slower than segloss zero-copy. */
function groupRatios(rows) {
  const zc = byImpl(rows, 'segloss zero-copy');
  const ratio = (name) => (byImpl(rows, name) === undefined ? undefined : byImpl(rows, name) / zc);
  return {
    zeroCopyVsRoof: zc / byImpl(rows, 'roof'),
    fusedVsZeroCopy: ratio('fused JS'),
    tfVsZeroCopy: ratio('TF.js wasm'),
    copyVsZeroCopy: ratio('segloss copy'),
    naiveVsZeroCopy: ratio('naive JS'),
    fusedVsCopy: byImpl(rows, 'fused JS') / byImpl(rows, 'segloss copy'),
  };
}

const fixed = (v, d) => (v === undefined ? '' : v.toFixed(d));
const sci = (v) => (v === undefined ? '' : v === 0 ? '0' : v.toExponential(1));
const times = (v) => (v === undefined ? '—' : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}×`);

function printHeader(h) {
  console.log(`segloss Dice forward + gradient benchmark (${h.mode})`);
  console.log(`machine   ${h.machine}; load average ${h.loadAverage.toFixed(2)} at start`);
  console.log(`node      ${h.node}`);
  console.log(`segloss   ${h.segloss}`);
  console.log(`tfjs      ${h.tfjs}`);
  console.log(`tinybench ${h.tinybench}`);
  console.log(`init      segloss init() ${h.initMs.segloss.toFixed(1)} ms (compile + instantiate) · TF.js setBackend('wasm') ${h.initMs.tfjsWasm.toFixed(1)} ms · roof instantiate ${h.initMs.roof.toFixed(1)} ms`);
  console.log('times: median over rounds of each round\'s median call; ±% = half the interquartile range of the round medians');
  console.log('GB/s counts the roof\'s bytes: pass 1 reads P + G, pass 2 reads P + G and writes the gradient');
  console.log('errors against diceLossReference (float64): |loss − ref|, max |grad − ref| / max |ref grad|');
}

function printGroup(kase, group) {
  const cols = ['impl'.padEnd(18), 'ns/el'.padStart(8), 'GB/s'.padStart(7), '×roof'.padStart(7), '±%'.padStart(5), 'loss err'.padStart(9), 'grad err'.padStart(9)];
  console.log(`\n${kase.id} @ ${SIZE_LABEL[group.size]} — ${kase.title}; ${group.bytesPerElement} B/element`);
  console.log(`  ${cols.join(' ')}`);
  for (const r of group.rows) {
    const timing = r.skipped
      ? `  ${r.skipped}`
      : [fixed(r.nsPerElement, r.nsPerElement < 10 ? 3 : 1).padStart(8), fixed(r.gbPerS, 2).padStart(7), fixed(r.vsRoof, 2).padStart(7), fixed(r.spreadPct, 0).padStart(5)].join(' ');
    const accuracy = r.skipped || r.impl === 'roof' ? '' : ` ${sci(r.lossError).padStart(9)} ${sci(r.gradError).padStart(9)}`;
    console.log(`  ${r.impl.padEnd(18)} ${timing}${accuracy}`);
  }
  const q = group.ratios;
  console.log(`  ratios: fused JS / zero-copy ${times(q.fusedVsZeroCopy)} · TF.js / zero-copy ${times(q.tfVsZeroCopy)} · copy / zero-copy ${times(q.copyVsZeroCopy)} · fused JS / copy ${times(q.fusedVsCopy)} · naive / zero-copy ${times(q.naiveVsZeroCopy)}`);
}

/** Worst error over the cases, per implementation and size. */
function printAccuracy(rows) {
  console.log('\naccuracy against float64, worst case over the cases: loss error / relative gradient error');
  const names = [...new Set(rows.filter((r) => r.lossError !== undefined).map((r) => r.impl))];
  console.log(`  ${'impl'.padEnd(18)} ${SIZES.map((size) => SIZE_LABEL[size].padStart(19)).join(' ')}`);
  for (const name of names) {
    const cells = SIZES.map((size) => {
      const checked = rows.filter((r) => r.impl === name && r.size === size && r.lossError !== undefined);
      if (checked.length === 0) return 'not run'.padStart(19);
      const worst = (key) => sci(Math.max(...checked.map((r) => r[key])));
      return `${worst('lossError')} / ${worst('gradError')}`.padStart(19);
    });
    console.log(`  ${name.padEnd(18)} ${cells.join(' ')}`);
  }
}

// -------------------------------------------------------------------- bars

/**
 * The issue's performance bars. Each: a ratio of two implementations' times in
 * one case and size, and a limit; `atMost` bars pass when ratio ≤ limit,
 * the others (speed-ups) when ratio ≥ limit.
 */
function barList() {
  const list = [];
  const add = (bar, kase, size, num, den, limit, atMost) => list.push({ bar, case: kase, size, num, den, limit, atMost });
  for (const kase of ['dice-f32', 'squared-f32', 'jaccard-f32']) {
    for (const size of [M1, M16]) add(1, kase, size, 'segloss zero-copy', 'roof', 1.2, true);
  }
  add(1, 'dice-u8', M1, 'segloss zero-copy', 'roof', 1.5, true);
  add(1, 'dice-u8', M16, 'segloss zero-copy', 'roof', 1.2, true);
  add(2, 'dice-u8-sigmoid', M1, 'segloss zero-copy', 'roof', 5, true);
  add(2, 'dice-f32-sigmoid', M1, 'segloss zero-copy', 'roof', 5, true);
  add(2, 'softmax4-index', M1, 'segloss zero-copy', 'roof', 8, true);
  add(2, 'softmax4-index', M16, 'segloss zero-copy', 'roof', 8, true);
  for (const { id } of CASES) {
    add(3, id, M1, 'fused JS', 'segloss zero-copy', 10, false);
    add(3, id, M1, 'TF.js wasm', 'segloss zero-copy', 40, false);
    add(4, id, M1, 'segloss copy', 'segloss zero-copy', 2, true);
    add(4, id, M1, 'fused JS', 'segloss copy', 4, false);
  }
  return list;
}

function evaluateBars(rows) {
  const time = (kase, size, impl) => rows.find((r) => r.case === kase && r.size === size && r.impl === impl)?.ms;
  return barList().map((b) => {
    const num = time(b.case, b.size, b.num);
    const den = time(b.case, b.size, b.den);
    if (num === undefined || den === undefined) return { ...b, status: 'SKIP' };
    const ratio = num / den;
    return { ...b, ratio, status: (b.atMost ? ratio <= b.limit : ratio >= b.limit) ? 'PASS' : 'FAIL' };
  });
}

function printBars(bars) {
  console.log('\nperformance bars (reported, not asserted)');
  for (const b of bars) {
    const claim = `${b.num} / ${b.den} ${b.atMost ? '≤' : '≥'} ${b.limit}×`;
    const got = b.status === 'SKIP' ? 'not measured in this run' : `${b.ratio.toFixed(2)}×`;
    console.log(`${b.status} bar ${b.bar}: ${b.case} @ ${SIZE_LABEL[b.size]}: ${claim}: ${got}`);
  }
  const count = (s) => bars.filter((b) => b.status === s).length;
  console.log(`${count('PASS')} PASS, ${count('FAIL')} FAIL, ${count('SKIP')} SKIP`);
}

await main();
