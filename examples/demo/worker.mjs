// The demo's module worker: trains the three runs of session.mjs round-robin (one step of each per
// round) and posts what the page draws. The page stays responsive because all of this happens here.
//
// Page → worker: { type: 'start', options } · { type: 'pause' } · { type: 'resume' }
// Worker → page:
//   { type: 'ready', backend, options, edgeShare, chance, shown }                 once, before step 1
//   { type: 'progress', step, losses: number[][], seglossMs: number[], calls }   losses of the steps since the last message
//   { type: 'preview', step, probs: Float32Array[][] }                           live predictions of the shown images
//   { type: 'eval', step, f: FScore[], probs }                                    F-scores every `evalEvery` steps and at the end
//   { type: 'done', step, wallMs } · { type: 'error', message }
// Every number in 'progress' and 'eval' depends only on the options (seeded); timing decides only
// how the losses are grouped into messages and when previews are sent.
import { createSession } from './session.mjs';

/** Minimum time between two progress or preview messages, ms. */
const PROGRESS_EVERY_MS = 100;
const PREVIEW_EVERY_MS = 1000;

let paused = false;
/** @type {(() => void) | null} */
let wake = null;

self.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'start') run(msg.options).catch((err) => post({ type: 'error', message: String((err && err.stack) || err) }));
  else if (msg.type === 'pause') paused = true;
  else if (msg.type === 'resume') {
    paused = false;
    wake?.();
  }
};

/** @param {any} msg */
function post(msg) {
  self.postMessage(msg);
}

/** Lets queued messages (pause) in between rounds. */
const yieldToEvents = () => new Promise((ok) => setTimeout(ok, 0));

/** @param {import('./session.mjs').SessionOptions} options */
async function run(options) {
  const session = await createSession(options);
  const { trainers, testSet } = session;
  post({
    type: 'ready', backend: session.backend, options, edgeShare: session.edgeShare, chance: session.chance,
    shown: session.shown, testCount: testSet.images.length,
  });
  post({ type: 'eval', ...session.evaluate() }); // step 0: the untrained networks
  const start = performance.now();
  /** @type {number[][]} */
  let pending = trainers.map(() => []);
  let lastProgress = 0;
  let lastPreview = 0;
  const flush = () => {
    post({ type: 'progress', step: trainers[0].steps, losses: pending, seglossMs: trainers.map((t) => t.seglossMs), calls: trainers[0].steps });
    pending = trainers.map(() => []);
    lastProgress = performance.now();
  };
  for (let step = 1; step <= options.steps; step++) {
    session.round().forEach((loss, k) => pending[k].push(loss));
    const evalNow = step % options.evalEvery === 0 || step === options.steps;
    const now = performance.now();
    if (evalNow || now - lastProgress >= PROGRESS_EVERY_MS) flush();
    if (evalNow) {
      post({ type: 'eval', ...session.evaluate() });
      lastPreview = performance.now();
    } else if (now - lastPreview >= PREVIEW_EVERY_MS) {
      post({ type: 'preview', step, probs: session.predictShown() });
      lastPreview = performance.now();
    }
    await yieldToEvents();
    while (paused) await new Promise((ok) => (wake = () => ok(undefined)));
  }
  post({ type: 'done', step: options.steps, wallMs: performance.now() - start });
  session.free();
}
