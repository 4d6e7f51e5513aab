// The demo's training session: the example edge detector (examples/lib) trained
// three times from the same seed — plain BCE, HED class-balanced BCE, Dice + BCE —
// one optimiser step at a time, so that a single Web Worker can interleave the
// three runs (round-robin) and report after every round. Each run is a
// `createTrainer` of examples/lib/train.mjs, the step `train()` loops over (same
// batches, same Adam, same cosine learning rate). segloss computes every loss
// and its gradient, on buffers that live in its Wasm memory.
// Plain ES module, no DOM and no Node-only APIs: runs in a worker and in Node.
import * as segloss from '../../build/segloss.js';
import { makeDataset, edgeDensity } from '../lib/data.mjs';
import { edgeFScoreApprox, everythingEdgeFScore } from '../lib/eval.mjs';
import { createTrainer, predict } from '../lib/train.mjs';
import { RUNS } from './options.mjs';

/** @typedef {import('./options.mjs').SessionOptions} SessionOptions */

/** @typedef {import('../lib/eval.mjs').FScore} FScore */

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
  const trainers = RUNS.map((r) => createTrainer({
    loss: r.loss, data: trainSet, steps: o.steps, batch: o.batch, crop: o.crop, seed: o.seed, lr: o.lr,
  }));
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
