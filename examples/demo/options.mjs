// The demo's runs and settings, shared by the page and the worker (no segloss import, so the page
// can read them without loading the library on the main thread).

/** @typedef {import('../lib/train.mjs').LossName} LossName */

/**
 * The three runs, in display order, with their labels.
 * @type {ReadonlyArray<{ loss: LossName, label: string }>}
 */
export const RUNS = Object.freeze([
  { loss: 'bce', label: 'BCE' },
  { loss: 'balanced-bce', label: 'balanced BCE' },
  { loss: 'dice-bce', label: 'Dice + BCE' },
]);

/**
 * @typedef {object} SessionOptions
 * @property {number} steps optimiser steps per loss
 * @property {number} seed seeds the data, the initial weights and the batch order
 * @property {number} batch crops per step
 * @property {number} size side of the generated images
 * @property {number} crop side of the training crops
 * @property {number} lr Adam step size at the start (cosine decay to lr/10)
 * @property {number} train number of training images
 * @property {number} test number of held-out images the F-score is measured on
 * @property {number} show number of held-out images shown live
 * @property {number} evalEvery steps between two F-score evaluations
 */

/**
 * The page's defaults; each can be overridden by a URL parameter (?steps=…&seed=…).
 * test/browser/demo.mjs checks the page with these.
 * @type {Readonly<SessionOptions>}
 */
export const DEFAULTS = Object.freeze({
  steps: 150, seed: 1, batch: 8, size: 64, crop: 32, lr: 0.01, train: 256, test: 24, show: 2, evalEvery: 25,
});

/**
 * Session options from URL parameters: DEFAULTS, with each known key that is present replaced.
 * @param {URLSearchParams} params
 * @returns {SessionOptions}
 */
export function optionsFromParams(params) {
  /** @type {Record<string, number>} */
  const options = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    const text = params.get(key);
    if (text === null) continue;
    const value = Number(text);
    const integer = key !== 'lr';
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new RangeError(`demo: ?${key} must be a positive ${integer ? 'integer' : 'number'}; got '${text}'`);
    }
    options[key] = value;
  }
  if (options.size < 8) throw new RangeError(`demo: ?size must be at least 8; got ${options.size}`);
  if (options.crop > options.size) throw new RangeError(`demo: ?crop (${options.crop}) must not exceed ?size (${options.size})`);
  return /** @type {SessionOptions} */ (/** @type {unknown} */ (options));
}
