// npm run soak: the long reliability checks of issue 7, on the built bundle (build/segloss.js).
//
//   node --expose-gc scripts/soak.mjs [--calls 1000000] [--seconds 30] [--workers 8] [--seed 7]
//
// 1. init race: in a fresh worker, 100 async callers call init() at once: one compile, one instantiate.
// 2. leaks: `calls` calls over every public function (scripts/soak/workloads.mjs: mixed sizes from 1 to
//    70,000 elements per row, JS-heap / zero-copy / misaligned arrays, WasmArrays allocated and freed
//    around each zero-copy call). After a warm-up (the first 10%), Wasm memory must not grow at all,
//    and the JS heap after gc() must stay within 4 MiB of its post-warm-up size.
// 3. concurrency: `workers` worker_threads (half SIMD, half scalar), each with its own instance, run
//    rounds of mixed calls for `seconds`; the hash of every round must equal the hash of the same
//    round run again on the main thread.
// Prints the figures for the README, and exits 1 on any failure.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mulberry32 } from '../examples/lib/rng.mjs';
import { makePool, drawCase, runCall, runRound, available } from './soak/workloads.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundlePath = `${root}build/segloss.js`;
if (!existsSync(bundlePath)) {
  console.error('soak: build/segloss.js is missing: run `npm run build` first');
  process.exit(1);
}
if (typeof globalThis.gc !== 'function') {
  console.error('soak: run with --expose-gc (npm run soak does)');
  process.exit(1);
}
const bundle = pathToFileURL(bundlePath).href;

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const CALLS = arg('calls', 1_000_000);
const SECONDS = arg('seconds', 30);
const WORKERS = arg('workers', 8);
const SEED = arg('seed', 7);
const CALLS_PER_ROUND = 100;

const MiB = 2 ** 20;
const failures = [];
const fail = (message) => { failures.push(message); console.log(`  FAIL ${message}`); };
const t0 = performance.now();

const api = await import(bundle);

// ------------------------------------------------------------ 1. init race ---

function runWorker(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./soak/worker.mjs', import.meta.url), { workerData: { bundle, ...data } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`worker exited with ${code}`)); });
  });
}

console.log('soak 1/3: 100 concurrent init() calls in a fresh thread');
const race = await runWorker({ job: 'initRace', callers: 100 });
console.log(`  WebAssembly.compile ${race.counts.compile}×, instantiate ${race.counts.instantiate}×, rejected ${race.rejected}, one memory: ${race.sameMemory} (${race.backend})`);
if (race.counts.compile !== 1 || race.counts.instantiate !== 1 || race.rejected !== 0 || !race.sameMemory) fail('concurrent init() did not instantiate exactly once');

// --------------------------------------------------------------- 2. leaks ---

await api.init();
const pool = makePool(api, SEED);
const names = [...new Set(available(api).map((w) => w.name))];
console.log(`soak 2/3: ${CALLS.toLocaleString('en')} calls over ${names.length} functions (${pool.small.length + pool.medium.length + pool.large.length} cases: ${names.join(', ')})`);

/** Wasm memory size: the buffer behind a WasmArray's view. */
function wasmBytes() {
  const probe = api.alloc(Uint8Array, 1);
  const bytes = probe.view.buffer.byteLength;
  probe.free();
  return bytes;
}
function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const warmup = Math.floor(CALLS / 10);
const checkEvery = Math.max(1, Math.floor(CALLS / 20));
const r = mulberry32(SEED);
const checkpoints = [{ calls: 0, wasm: wasmBytes(), heap: heapAfterGc(), seconds: 0 }];
let hash = 2166136261;
const leakStart = performance.now();
let afterWarmup;
for (let k = 1; k <= CALLS; k++) {
  const c = drawCase(pool, r);
  const u = r();
  hash = runCall(api, c, u < 0.4 ? 'js' : u < 0.8 ? 'wasm' : 'misaligned', hash);
  if (k % checkEvery === 0 || k === warmup) {
    const point = { calls: k, wasm: wasmBytes(), heap: heapAfterGc(), seconds: (performance.now() - leakStart) / 1000 };
    checkpoints.push(point);
    if (k === warmup) afterWarmup = point;
    if (k % checkEvery === 0) {
      console.log(`  ${String(k).padStart(9)} calls  ${point.seconds.toFixed(1).padStart(6)} s  Wasm memory ${(point.wasm / MiB).toFixed(2)} MiB  JS heap ${(point.heap / MiB).toFixed(2)} MiB`);
    }
  }
}
const leakSeconds = (performance.now() - leakStart) / 1000;
const last = checkpoints[checkpoints.length - 1];
const wasmGrowth = Math.max(...checkpoints.filter((p) => p.calls >= warmup).map((p) => p.wasm)) - afterWarmup.wasm;
const heapGrowth = Math.max(...checkpoints.filter((p) => p.calls >= warmup).map((p) => p.heap)) - afterWarmup.heap;
console.log(`  ${(CALLS / leakSeconds).toFixed(0)} calls/s; after warm-up (${warmup.toLocaleString('en')} calls): Wasm memory +${wasmGrowth} bytes, JS heap max +${(heapGrowth / MiB).toFixed(2)} MiB; result hash ${hash.toString(16)}`);
if (wasmGrowth !== 0) fail(`Wasm memory grew by ${wasmGrowth} bytes after the warm-up`);
if (heapGrowth > 4 * MiB) fail(`the JS heap grew by ${(heapGrowth / MiB).toFixed(2)} MiB after the warm-up`);

// --------------------------------------------------------- 3. concurrency ---

console.log(`soak 3/3: ${WORKERS} worker threads (half SIMD, half scalar), ${SECONDS} s of mixed rounds each`);
const jobs = Array.from({ length: WORKERS }, (_, k) => runWorker({
  job: 'rounds', seed: SEED * 1000 + k, poolSeed: SEED, simd: k % 2 === 0 && api.simdSupported(), seconds: SECONDS, callsPerRound: CALLS_PER_ROUND,
}));
const concStart = performance.now();
const results = await Promise.all(jobs);
const concSeconds = (performance.now() - concStart) / 1000;
let total = 0;
const verifyStart = performance.now();
let mismatches = 0;
for (let k = 0; k < WORKERS; k++) {
  const { hashes, calls, backend, memoryBytes } = results[k];
  total += calls;
  for (let round = 0; round < hashes.length; round++) {
    const single = runRound(api, pool, (SEED * 1000 + k) * 100_003 + round, CALLS_PER_ROUND);
    if (single !== hashes[round]) { mismatches++; if (mismatches <= 5) fail(`worker ${k} (${backend}) round ${round}: hash ${hashes[round].toString(16)}, single thread ${single.toString(16)}`); }
  }
  console.log(`  worker ${k} (${backend}): ${calls.toLocaleString('en')} calls in ${hashes.length} rounds, Wasm memory ${(memoryBytes / MiB).toFixed(2)} MiB`);
}
const verifySeconds = (performance.now() - verifyStart) / 1000;
console.log(`  ${total.toLocaleString('en')} calls in ${concSeconds.toFixed(1)} s on ${WORKERS} threads (${(total / concSeconds).toFixed(0)} calls/s together); ` +
  `every round's hash equal to the single thread's: ${mismatches === 0 ? 'yes' : `NO (${mismatches} rounds differ)`} (re-run in ${verifySeconds.toFixed(1)} s)`);

// ------------------------------------------------------------------ summary ---

const mb = (b) => `${(b / MiB).toFixed(2)} MiB`;
console.log(`\nsoak figures (${process.version}, ${api.backend()} build, ${(performance.now() - t0) / 1000 | 0} s in all):`);
console.log(`- ${CALLS.toLocaleString('en')} calls over ${names.length} functions in ${leakSeconds.toFixed(1)} s (${(CALLS / leakSeconds).toFixed(0)} calls/s)`);
console.log(`- Wasm memory: ${mb(checkpoints[0].wasm)} at start, ${mb(afterWarmup.wasm)} after ${warmup.toLocaleString('en')} calls of warm-up, ${mb(last.wasm)} at the end`);
console.log(`- JS heap after gc(): ${mb(checkpoints[0].heap)} at start, ${mb(afterWarmup.heap)} after warm-up, ${mb(last.heap)} at the end`);
console.log(`- ${WORKERS} threads × ${SECONDS} s: ${total.toLocaleString('en')} calls, every round bit-identical to the single thread (SIMD and scalar)`);
console.log(`- 100 concurrent init(): ${race.counts.compile} compile, ${race.counts.instantiate} instantiate`);
if (failures.length) {
  console.log(`\nsoak: ${failures.length} failure(s)`);
  process.exit(1);
}
console.log('\nsoak: OK');
