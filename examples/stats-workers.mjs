// Data-parallel batch Dice with segloss and node:worker_threads.
//
//   npm run build                     # once: produces build/segloss.js
//   node examples/stats-workers.mjs   # prints the differences and OK (exit code 0), or MISMATCH (exit code 1)
//
// A batch Dice loss (`batch: true`) is not a sum of per-sample losses: each class's ratio
// (2I + s)/(SP + SG + s) is taken over the sums of the whole batch. A worker that holds only
// some of the samples cannot compute its part of the loss, nor of the gradient, from its own data.
// It can compute its sums, though, and sums add up. So every data-parallel engine (threads,
// processes, GPUs, machines) follows the same three steps:
//
//   1. each worker: stats = diceStats(shard)                  — C × 3 float64 sums, tiny
//   2. all-reduce:  merged = stats₁ + stats₂ + …  (mergeStats) — every worker gets the same sums
//   3. each worker: loss(shard, { batch: true, stats: merged, grad })
//                   — the global loss, and the gradient of the global loss w.r.t. this shard's inputs
//
// Here the main thread plays the all-reduce (a parameter server). The check at the end compares the
// assembled gradient and the loss with one segloss instance computing the whole batch at once.
// Tversky and generalized Dice work the same way: pass `stats` to tverskyLoss / generalizedDiceLoss,
// and `loss: 'tversky'` / `loss: 'generalizedDice'` to lossFromStats.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
// Every thread that imports the module gets its own instance: its own Wasm memory, its own init().
import { init, diceLoss, diceStats, mergeStats, lossFromStats } from '../build/segloss.js';

const WORKERS = 4;
const [N, C, H, W] = [8, 3, 64, 64]; // 8 samples, 3 classes (0 = background), 64 × 64 pixels
const S = H * W;
/** The loss options every participant uses (the shape is each one's own). */
const LOSS = { activation: 'softmax', target: 'indices', includeBackground: false, batch: true };

if (isMainThread) await main();
else await worker();

/** A worker: one shard of the batch, its own segloss instance. */
async function worker() {
  await init();
  const { logits, labels, samples } = workerData;
  const layout = { ...LOSS, shape: [samples, C, H, W] };
  // Step 1: the shard's sums, sent to the all-reduce (the buffer is transferred, not copied).
  const stats = diceStats(logits, labels, layout);
  parentPort.postMessage({ stats }, [stats.buffer]);
  // Step 3: with the merged sums, the global loss and this shard's slice of its gradient.
  parentPort.once('message', ({ merged }) => {
    const grad = new Float32Array(logits.length);
    const loss = diceLoss(logits, labels, { ...layout, stats: merged, grad });
    parentPort.postMessage({ loss, grad }, [grad.buffer]);
  });
}

/** The main thread: makes the batch, deals it out, all-reduces the sums, checks the result. */
async function main() {
  await init();
  const { logits, labels } = makeBatch(12345);
  const perWorker = N / WORKERS;
  const workers = [];
  for (let k = 0; k < WORKERS; k++) {
    // Worker k owns samples [k·perWorker, (k + 1)·perWorker): contiguous in [N, C, H, W] and [N, H, W].
    const shard = {
      logits: logits.slice(k * perWorker * C * S, (k + 1) * perWorker * C * S),
      labels: labels.slice(k * perWorker * S, (k + 1) * perWorker * S),
      samples: perWorker,
    };
    workers.push(new Worker(new URL(import.meta.url), { workerData: shard }));
  }
  const next = (w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

  // Step 2: all-reduce. Sum the workers' stats (always in the same order, so every run gives the same
  // bits) and send the result back to every worker.
  const parts = await Promise.all(workers.map(next));
  const merged = parts.map((m) => m.stats).reduce((a, b) => mergeStats(a, b));
  const globalLoss = lossFromStats(merged, { ...LOSS, shape: [N, C, H, W] });
  const results = workers.map(next);
  for (const w of workers) w.postMessage({ merged });
  const answers = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));

  // The engine would now run each worker's backward pass with its slice. Here: assemble the slices
  // and compare with a single instance computing the whole batch.
  const grad = new Float32Array(logits.length);
  answers.forEach((a, k) => grad.set(a.grad, k * perWorker * C * S));
  const wholeGrad = new Float32Array(logits.length);
  const wholeLoss = diceLoss(logits, labels, { ...LOSS, shape: [N, C, H, W], grad: wholeGrad });

  let maxDiff = 0, maxGrad = 0;
  for (let i = 0; i < grad.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(grad[i] - wholeGrad[i]));
    maxGrad = Math.max(maxGrad, Math.abs(wholeGrad[i]));
  }
  const lossDiff = Math.max(Math.abs(globalLoss - wholeLoss), ...answers.map((a) => Math.abs(a.loss - wholeLoss)));
  console.log(`batch [${N}, ${C}, ${H}, ${W}] over ${WORKERS} workers, batch Dice without background`);
  console.log(`loss: whole batch ${wholeLoss}, from merged stats ${globalLoss}; max |difference| ${lossDiff}`);
  console.log(`gradient: max |whole| ${maxGrad.toExponential(3)}, max |assembled − whole| ${maxDiff.toExponential(3)}`);
  // The merged sums are the same float64 partial sums added in another order: equal to ~1e-16
  // relative, so the loss agrees to 1e-12 and the gradient to a few float32 ulp.
  const ok = lossDiff <= 1e-12 * Math.max(1, Math.abs(wholeLoss)) && maxDiff <= 1e-5 * maxGrad;
  console.log(ok ? 'OK: the sharded gradient and loss equal the single-instance ones' : 'MISMATCH');
  process.exitCode = ok ? 0 : 1;
}

/** A deterministic batch: logits in ±4 and labels of blobs (a seeded PRNG, mulberry32). */
function makeBatch(seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const logits = new Float32Array(N * C * S);
  const labels = new Uint8Array(N * S);
  for (let n = 0; n < N; n++) {
    // Each sample: background with one disc of class 1 and one of class 2, at random places and sizes.
    const discs = [1, 2].map((cls) => ({ cls, x: rand() * W, y: rand() * H, r: 4 + rand() * 12 }));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let label = 0;
        for (const d of discs) if ((x - d.x) ** 2 + (y - d.y) ** 2 < d.r ** 2) label = d.cls;
        labels[n * S + y * W + x] = label;
        // A rough prediction: the true class's logit raised, plus noise.
        for (let c = 0; c < C; c++) logits[(n * C + c) * S + y * W + x] = (c === label ? 2 : 0) + 4 * (rand() - 0.5);
      }
    }
  }
  return { logits, labels };
}
