// A soak worker thread: its own segloss instance (every thread that imports the module gets its own
// Wasm memory and its own init()). Two jobs:
//   'rounds': rounds of mixed calls (workloads.mjs) until a deadline; posts the hash of each round;
//   'initRace': counts WebAssembly.compile / instantiate calls while `callers` async callers call init()
//               at once; posts the counts.
import { parentPort, workerData } from 'node:worker_threads';
import { makePool, runRound } from './workloads.mjs';

const { job, bundle } = workerData;

if (job === 'initRace') {
  const counts = { compile: 0, instantiate: 0 };
  const compile = WebAssembly.compile, instantiate = WebAssembly.instantiate;
  // Only segloss's own calls count (Node compiles its own Wasm too, e.g. undici's HTTP parser the
  // first time the global `Response` is touched).
  const fromSegloss = () => (new Error().stack ?? '').includes(bundle);
  WebAssembly.compile = (...a) => { if (fromSegloss()) counts.compile++; return compile.apply(WebAssembly, a); };
  WebAssembly.instantiate = (...a) => { if (fromSegloss()) counts.instantiate++; return instantiate.apply(WebAssembly, a); };
  const api = await import(bundle);
  const settled = await Promise.allSettled(Array.from({ length: workerData.callers }, (_, k) => (k % 3 === 0 ? api.init({}) : api.init())));
  // One instance: every caller sees the same memory (an allocation after all inits lands in it).
  const a = api.alloc(Float32Array, 4), b = api.alloc(Float32Array, 4);
  const sameMemory = a.view.buffer === b.view.buffer;
  parentPort.postMessage({ counts, rejected: settled.filter((s) => s.status === 'rejected').length, sameMemory, backend: api.backend() });
} else {
  const api = await import(bundle);
  await api.init({ simd: workerData.simd });
  const pool = makePool(api, workerData.poolSeed);
  const hashes = [];
  const deadline = performance.now() + workerData.seconds * 1000;
  let calls = 0;
  while (performance.now() < deadline) {
    hashes.push(runRound(api, pool, workerData.seed * 100_003 + hashes.length, workerData.callsPerRound));
    calls += workerData.callsPerRound;
  }
  const memory = api.alloc(Uint8Array, 1);
  const bytes = memory.view.buffer.byteLength;
  memory.free();
  parentPort.postMessage({ hashes, calls, backend: api.backend(), memoryBytes: bytes });
}
