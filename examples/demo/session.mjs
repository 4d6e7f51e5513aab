// The demo's training session: the example edge detector (examples/lib) trained
// three times from the same seed — plain BCE, HED class-balanced BCE, Dice + BCE —
// one optimiser step at a time, so that a single Web Worker can interleave the
// three runs (round-robin) and report after every round. The step is the one of
// examples/lib/train.mjs (same batches, same Adam, same cosine learning rate),
// cut into single steps. segloss computes every loss and its gradient, on
// buffers that live in its Wasm memory.
// Plain ES module, no DOM and no Node-only APIs: runs in a worker and in Node.
import * as segloss from '../../build/segloss.js';
import { makeDataset, edgeDensity } from '../lib/data.mjs';
import { createAdam, createModel } from '../lib/model.mjs';
import { edgeFScoreApprox, everythingEdgeFScore } from '../lib/eval.mjs';
import { mulberry32 } from '../lib/rng.mjs';
import { lossCall, predict } from '../lib/train.mjs';
import { RUNS } from './options.mjs';

/** @typedef {import('./options.mjs').SessionOptions} SessionOptions */

/** @typedef {import('../lib/train.mjs').LossName} LossName */
/** @typedef {import('../lib/eval.mjs').FScore} FScore */

/**
 * @typedef {object} Trainer
 * @property {LossName} loss
 * @property {() => number} step one optimiser step; returns the loss of its batch
 * @property {import('../lib/model.mjs').Model} model
 * @property {number} steps steps taken
 * @property {number} seglossMs time inside segloss loss calls, summed
 * @property {() => void} free releases the Wasm buffers
 */

/**
 * A training run of one loss that advances one step per `step()` call: the loop
 * body of examples/lib/train.mjs `train()`.
 * @param {LossName} loss
 * @param {import('../lib/data.mjs').Dataset} data
 * @param {SessionOptions} o
 * @param {import('../lib/train.mjs').LossCall} [call] the segloss call (default: examples/lib/train.mjs `lossCall(loss)`)
 * @returns {Trainer}
 */
export function createTrainer(loss, data, o, call = lossCall(loss)) {
  const { images, edges, size } = data;
  const side = o.crop;
  const S = side * side;
  const edgePrior = 0.05; // initial output σ(b) with b = ln(π/(1 − π)), as in train()
  const model = createModel({ seed: o.seed, outputBias: Math.log(edgePrior / (1 - edgePrior)) });
  const adam = createAdam(model, { lr: o.lr });
  const pick = mulberry32(o.seed ^ 0x5eed); // same batches for every loss
  const input = new Float32Array(o.batch * S);
  const shape = [o.batch, 1, side, side];
  const logits = segloss.alloc(Float32Array, o.batch * S);
  const target = segloss.alloc(Uint8Array, o.batch * S);
  const grad = segloss.alloc(Float32Array, o.batch * S);
  const trainer = {
    loss, model, steps: 0, seglossMs: 0,
    step() {
      // `.view` is re-read every step: a segloss call may grow Wasm memory, which detaches old views.
      const targetView = target.view;
      for (let n = 0; n < o.batch; n++) {
        const k = Math.floor(pick() * images.length);
        const x0 = Math.floor(pick() * (size - side + 1));
        const y0 = Math.floor(pick() * (size - side + 1));
        for (let y = 0; y < side; y++) {
          const from = (y0 + y) * size + x0;
          const to = n * S + y * side;
          // Network input (x − 0.5)·4, as in train().
          for (let x = 0; x < side; x++) input[to + x] = (images[k][from + x] - 0.5) * 4;
          targetView.set(edges[k].subarray(from, from + side), to);
        }
      }
      model.forward(input, o.batch, side, side, logits.view);
      const t0 = performance.now();
      const value = call(logits, target, shape, grad);
      trainer.seglossMs += performance.now() - t0;
      model.zeroGrad();
      model.backward(grad.view);
      // Cosine decay from lr to lr/10: α_t = lr·(0.1 + 0.9·½(1 + cos(π t/T))).
      adam.step(o.lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * trainer.steps) / o.steps))));
      trainer.steps++;
      return value;
    },
    free() {
      logits.free();
      target.free();
      grad.free();
    },
  };
  return trainer;
}

/**
 * @typedef {object} Evaluation
 * @property {number} step steps taken by every run
 * @property {FScore[]} f per run (RUNS order), on the held-out images
 * @property {Float32Array[][]} shown per run, the edge probabilities of the shown images
 */

/**
 * The data and the three runs.
 * @param {SessionOptions} o
 */
export async function createSession(o) {
  try {
    segloss.backend(); // throws when segloss is not initialised
  } catch {
    await segloss.init();
  }
  const trainSet = makeDataset({ count: o.train, size: o.size, seed: o.seed });
  const testSet = makeDataset({ count: o.test, size: o.size, seed: o.seed + 1_000_003 }); // disjoint stream: held out
  const trainers = RUNS.map((r) => createTrainer(r.loss, trainSet, o));
  const shownCount = Math.min(o.show, o.test);
  return {
    options: o,
    backend: segloss.backend(),
    trainers,
    testSet,
    edgeShare: edgeDensity(trainSet.edges),
    /** F-score of marking every pixel an edge: the chance level. */
    chance: everythingEdgeFScore(testSet.edges, o.size),
    /** The held-out images shown live, with their ground truth. */
    shown: { images: testSet.images.slice(0, shownCount), edges: testSet.edges.slice(0, shownCount) },
    /** One step of each run; returns the three losses (RUNS order). */
    round() {
      return trainers.map((t) => t.step());
    },
    /** Edge probabilities of the shown images, per run. */
    predictShown() {
      return trainers.map((t) => predict(t.model, testSet.images.slice(0, shownCount), o.size));
    },
    /**
     * F-score of each run on every held-out image, and the shown predictions.
     * @returns {Evaluation}
     */
    evaluate() {
      const probs = trainers.map((t) => predict(t.model, testSet.images, o.size));
      return {
        step: trainers[0].steps,
        f: probs.map((p) => edgeFScoreApprox(p, testSet.edges, o.size)),
        shown: probs.map((p) => p.slice(0, shownCount)),
      };
    },
    free() {
      for (const t of trainers) t.free();
    },
  };
}
