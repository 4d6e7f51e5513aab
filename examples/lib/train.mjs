// Training loop of the example edge detector: the network and its backward pass
// are plain JavaScript (model.mjs); the loss and its gradient w.r.t. the logits
// come from segloss, computed in WebAssembly on buffers that live in segloss's
// memory (no copies). No Node-only APIs: runs in a Web Worker. The import path
// works from Node and from a page served from the repository root.
import * as segloss from '../../build/segloss.js';
import { createModel, createAdam } from './model.mjs';
import { mulberry32 } from './rng.mjs';

/** @typedef {import('./model.mjs').Model} Model */
/** @typedef {import('./data.mjs').Dataset} Dataset */

/**
 * The losses the example can train with, and the segloss function each needs.
 * @type {Readonly<Record<LossName, string>>}
 */
export const LOSS_FUNCTIONS = Object.freeze({
  dice: 'diceLoss',
  bce: 'bceLoss',
  'balanced-bce': 'bceLoss',
  'dice-bce': 'diceBceLoss',
  crisp: 'crispEdgeLoss',
});

/** @typedef {'dice' | 'bce' | 'balanced-bce' | 'dice-bce' | 'crisp'} LossName */

/**
 * A segloss loss call: returns the loss and writes dLoss/dlogits into `grad`.
 * @typedef {(logits: segloss.WasmArray<Float32Array>, target: segloss.WasmArray<Uint8Array>,
 *   shape: number[], grad: segloss.WasmArray<Float32Array>) => number} LossCall
 */

/**
 * Whether this build of segloss exports the function a loss needs.
 * @param {LossName} name
 * @returns {boolean}
 */
export function lossAvailable(name) {
  return typeof exported(LOSS_FUNCTIONS[name]) === 'function';
}

/** @param {string} fn */
function exported(fn) {
  return /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (segloss))[fn];
}

/**
 * The segloss call of a loss, on sigmoid logits of shape [N, 1, H, W].
 * Throws when this build of segloss lacks the function (BCE and Dice + BCE
 * arrive after Dice); the example never substitutes a JavaScript loss.
 * @param {LossName} name
 * @param {{ lambdaDice?: number, lambdaBce?: number }} [weights] Dice + BCE mixing weights (default 1 and 1)
 * @returns {LossCall}
 */
export function lossCall(name, { lambdaDice = 1, lambdaBce = 1 } = {}) {
  const fnName = LOSS_FUNCTIONS[name];
  if (fnName === undefined) throw new RangeError(`lossCall: unknown loss '${name}'; expected one of ${Object.keys(LOSS_FUNCTIONS).join(', ')}`);
  const fn = exported(fnName);
  if (typeof fn !== 'function') {
    throw new Error(`loss '${name}' needs segloss.${fnName}, which this build of segloss (build/segloss.js) does not export `
      + `(it has: ${Object.keys(segloss).join(', ')}). Rebuild segloss once ${fnName} exists (npm run build), or train with loss 'dice'.`);
  }
  switch (name) {
    case 'dice':
      // Soft Dice per image on σ(z).
      return (z, g, shape, grad) => segloss.diceLoss(z, g, { shape, activation: 'sigmoid', grad });
    case 'bce':
    case 'balanced-bce': {
      // Binary cross-entropy on σ(z), mean over pixels; 'hed' weighs each class by the other's share (HED, Xie & Tu 2015).
      const balance = name === 'bce' ? 'none' : 'hed';
      return (z, g, shape, grad) => fn(z, g, { shape, activation: 'sigmoid', balance, grad });
    }
    case 'dice-bce':
      // λ_dice·Dice + λ_bce·BCE, fused in one segloss call.
      return (z, g, shape, grad) => fn(z, g, { shape, activation: 'sigmoid', lambdaDice, lambdaBce, balance: 'none', grad });
    case 'crisp':
      // Deng et al.'s crisp-boundary loss: (Σp² + Σg²)/(2Σpg) per image plus HED-balanced BCE.
      return (z, g, shape, grad) => fn(z, g, { shape, alpha: lambdaDice, beta: lambdaBce, grad });
    default:
      throw new RangeError(`lossCall: unknown loss '${name}'`);
  }
}

/**
 * @typedef {object} StepInfo
 * @property {number} step 1-based step number
 * @property {number} steps total steps
 * @property {number} loss this step's loss
 * @property {number} elapsedMs wall time since training started
 * @property {number} seglossMs of which inside segloss loss calls
 */

/**
 * @typedef {object} TrainOptions
 * @property {LossName} loss
 * @property {LossCall} [call] the segloss call to train with, instead of `lossCall(loss)`
 *   (e.g. with options of its own; `loss` then only names the run)
 * @property {Dataset} data training images and edge maps
 * @property {number} [steps] optimiser steps (default 500)
 * @property {number} [batch] images per step (default 8)
 * @property {number} [crop] train on random crop×crop windows of the images (default min(32, size)).
 *   Pass the image size to train on whole images.
 *   The network is fully convolutional, so it then runs on whole images unchanged; crops cost
 *   less per step and give more varied batches.
 * @property {number} [seed] seeds the initial weights and the batch order (default 1)
 * @property {number} [lr] Adam step size at the start; it decays to lr/10 along a cosine (default 0.02)
 * @property {number} [beta2] Adam's second-moment decay (default 0.999)
 * @property {number} [channels] hidden channels of the network (default 8)
 * @property {(options: { seed: number, channels: number, outputBias: number }) => Model} [makeModel]
 *   creates the network (default `createModel` of model.mjs; e.g. `createMultiScaleModel` of msmodel.mjs)
 * @property {number} [edgePrior] initial edge probability of the output, σ(bias) (default 0.05)
 * @property {number} [lambdaDice] Dice weight of 'dice-bce' (default 1)
 * @property {number} [lambdaBce] BCE weight of 'dice-bce' (default 1)
 * @property {(info: StepInfo) => void} [onStep] called after every step
 */

/**
 * @typedef {object} TrainResult
 * @property {Model} model the trained network
 * @property {Float64Array} losses loss per step
 * @property {number} totalMs wall time of all steps
 * @property {number} seglossMs of which inside segloss loss calls
 */

/**
 * Trains a fresh edge detector with one loss. The same seed gives the same
 * initial weights and the same batches whatever the loss, so runs compare.
 * @param {TrainOptions} options
 * @returns {Promise<TrainResult>}
 */
export async function train(options) {
  const { steps = 500, onStep } = options;
  await ensureInit();
  const trainer = createTrainer(options);
  const losses = new Float64Array(steps);
  const start = performance.now();
  try {
    for (let step = 0; step < steps; step++) {
      losses[step] = trainer.step();
      onStep?.({ step: step + 1, steps, loss: losses[step], elapsedMs: performance.now() - start, seglossMs: trainer.seglossMs });
    }
  } finally {
    trainer.free();
  }
  return { model: trainer.model, losses, totalMs: performance.now() - start, seglossMs: trainer.seglossMs };
}

/**
 * @typedef {object} Trainer
 * @property {LossName} loss
 * @property {Model} model
 * @property {() => number} step one optimiser step; returns the loss of its batch
 * @property {number} steps steps taken
 * @property {number} seglossMs time inside segloss loss calls, summed
 * @property {() => void} free releases the Wasm buffers
 */

/**
 * A training run that advances one optimiser step per `step()` call, so that a
 * caller (the demo's worker) can interleave runs; {@link train} is a loop over
 * it. segloss must be initialised. `onStep` is ignored, and `steps` only sets
 * the length of the learning-rate schedule.
 * @param {TrainOptions} options
 * @returns {Trainer}
 */
export function createTrainer({
  loss, call, data, steps = 500, batch = 8, crop, seed = 1, lr = 0.02, beta2 = 0.999, channels = 8, edgePrior = 0.05,
  lambdaDice = 1, lambdaBce = 1, makeModel = createModel,
}) {
  const lossFn = call ?? lossCall(loss, { lambdaDice, lambdaBce });
  const { images, edges, size } = data;
  const side = crop ?? Math.min(32, size);
  if (!Number.isInteger(side) || side < 1 || side > size) throw new RangeError(`train: crop must be an integer in [1, ${size}]; got ${crop}`);
  const S = side * side;
  // Output bias b = logit(prior) = ln(π/(1 − π)): start from the edge rate instead of p = 0.5.
  const model = makeModel({ seed, channels, outputBias: Math.log(edgePrior / (1 - edgePrior)) });
  const adam = createAdam(model, { lr, beta2 });
  const pick = mulberry32(seed ^ 0x5eed);
  const input = new Float32Array(batch * S);
  const shape = [batch, 1, side, side];
  // Logits, targets and gradient live in segloss's Wasm memory: the model writes
  // the logits there and reads the gradient from there, nothing is copied.
  const logits = segloss.alloc(Float32Array, batch * S);
  const target = segloss.alloc(Uint8Array, batch * S);
  const grad = segloss.alloc(Float32Array, batch * S);
  /** @type {Trainer} */
  const trainer = {
    loss, model, steps: 0, seglossMs: 0,
    step() {
      // `.view` is re-read every step: a segloss call may grow Wasm memory, which detaches old views.
      const targetView = target.view;
      for (let n = 0; n < batch; n++) {
        const k = Math.floor(pick() * images.length);
        const x0 = Math.floor(pick() * (size - side + 1));
        const y0 = Math.floor(pick() * (size - side + 1));
        for (let y = 0; y < side; y++) {
          const from = (y0 + y) * size + x0;
          normalizeInto(images[k].subarray(from, from + side), input, n * S + y * side);
          targetView.set(edges[k].subarray(from, from + side), n * S + y * side);
        }
      }
      model.forward(input, batch, side, side, logits.view);
      const t0 = performance.now();
      const value = lossFn(logits, target, shape, grad);
      trainer.seglossMs += performance.now() - t0;
      model.zeroGrad();
      model.backward(grad.view);
      // Cosine decay from lr to lr/10: α_t = lr·(0.1 + 0.9·½(1 + cos(π t/T))).
      adam.step(lr * (0.1 + 0.45 * (1 + Math.cos((Math.PI * trainer.steps) / steps))));
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
 * Initialises segloss unless the caller already did: calling `init()` again
 * would replace an instance the caller chose with `init({ simd: false })`.
 */
async function ensureInit() {
  try {
    segloss.backend(); // throws when segloss is not initialised
  } catch {
    await segloss.init();
  }
}

/**
 * Edge probabilities σ(z) of the model for each image.
 * @param {Model} model
 * @param {Float32Array[]} images size×size images in [0, 1]
 * @param {number} size
 * @param {number} [batch] images per forward pass (default 8)
 * @returns {Float32Array[]}
 */
export function predict(model, images, size, batch = 8) {
  const S = size * size;
  /** @type {Float32Array[]} */
  const out = [];
  for (let first = 0; first < images.length; first += batch) {
    const n = Math.min(batch, images.length - first);
    const input = new Float32Array(n * S);
    for (let i = 0; i < n; i++) normalizeInto(images[first + i], input, i * S);
    const logits = new Float32Array(n * S);
    model.forward(input, n, size, size, logits);
    for (let i = 0; i < n; i++) {
      const p = logits.slice(i * S, (i + 1) * S);
      for (let j = 0; j < S; j++) p[j] = 1 / (1 + Math.exp(-p[j])); // σ(z)
      out.push(p);
    }
  }
  return out;
}

/**
 * Network input: the image centred and scaled to roughly unit variance, (x − 0.5)·4.
 * @param {Float32Array} image
 * @param {Float32Array} dst
 * @param {number} offset
 */
function normalizeInto(image, dst, offset) {
  for (let i = 0; i < image.length; i++) dst[offset + i] = (image[i] - 0.5) * 4;
}
