// The demo page: starts the training worker (worker.mjs), keeps the history it reports, and draws
// it — images on canvases, curves on canvases, plain DOM, no framework. Drawing is batched into
// animation frames; all the computing happens in the worker.
//
// For tests, the state is also on `window.__demo` (see DemoState); `document.body.dataset.demo`
// is 'running', 'done' or 'error'.
import { RUNS, optionsFromParams } from './options.mjs';

/** @typedef {import('../lib/eval.mjs').FScore} FScore */

/**
 * @typedef {object} DemoState
 * @property {import('./options.mjs').SessionOptions | null} options
 * @property {string} backend segloss backend in the worker: 'simd' or 'scalar'
 * @property {number} step steps taken by each run
 * @property {boolean} done
 * @property {string | null} error
 * @property {Record<string, number[]>} losses per loss name, the loss of every step
 * @property {{ step: number, f: Record<string, FScore> }[]} evals held-out F-scores, step 0 first
 * @property {Record<string, number>} msPerCall per loss name, mean ms per segloss call so far
 * @property {FScore | null} chance F of marking every pixel an edge
 * @property {number} wallMs training wall time (set when done)
 */

/** @type {DemoState} */
const state = {
  options: null, backend: '', step: 0, done: false, error: null,
  losses: Object.fromEntries(RUNS.map((r) => [r.loss, []])),
  evals: [], msPerCall: {}, chance: null, wallMs: 0,
};
/** @type {any} */ (window).__demo = state;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const COLORS = Object.fromEntries(RUNS.map((r) => [r.loss, getComputedStyle(document.documentElement).getPropertyValue(`--${r.loss}`).trim()]));
const ZOOM = 3; // image canvases are drawn at 1 px per pixel and scaled by CSS

/** @type {{ images: Float32Array[], edges: Uint8Array[] } | null} */
let shown = null;
/** Per shown image: input, truth and one prediction canvas per run. */
/** @type {HTMLCanvasElement[][]} */
let rows = [];
/** @type {Float32Array[][] | null} latest predictions of the shown images, per run */
let latestProbs = null;
let startedAt = 0;

function fail(/** @type {string} */ message) {
  state.error = message;
  document.body.dataset.demo = 'error';
  const status = $('status');
  status.textContent = message;
  status.className = 'error';
  /** @type {HTMLButtonElement} */ ($('pause')).disabled = true;
}

let options;
try {
  options = optionsFromParams(new URLSearchParams(location.search));
} catch (e) {
  fail(String(e instanceof Error ? e.message : e));
}

if (options) {
  state.options = options;
  document.body.dataset.demo = 'running';
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  worker.onerror = (e) => fail(`the worker failed: ${e.message || 'it could not load (see the console)'}`);
  worker.onmessage = (e) => onMessage(e.data);
  worker.postMessage({ type: 'start', options });
  startedAt = performance.now();
  const pause = /** @type {HTMLButtonElement} */ ($('pause'));
  pause.onclick = () => {
    const resume = pause.textContent === 'Resume';
    worker.postMessage({ type: resume ? 'resume' : 'pause' });
    pause.textContent = resume ? 'Pause' : 'Resume';
  };
}

/** @param {any} msg a worker message (see worker.mjs) */
function onMessage(msg) {
  switch (msg.type) {
    case 'ready':
      state.backend = msg.backend;
      state.chance = msg.chance;
      shown = msg.shown;
      $('share').textContent = (100 * msg.edgeShare).toFixed(1);
      /** @type {HTMLButtonElement} */ ($('pause')).disabled = false;
      buildImageRows();
      break;
    case 'progress':
      RUNS.forEach((r, k) => {
        state.losses[r.loss].push(...msg.losses[k]);
        state.msPerCall[r.loss] = msg.calls > 0 ? msg.seglossMs[k] / msg.calls : 0;
      });
      state.step = msg.step;
      break;
    case 'preview':
      latestProbs = msg.probs;
      break;
    case 'eval':
      state.evals.push({ step: msg.step, f: Object.fromEntries(RUNS.map((r, k) => [r.loss, msg.f[k]])) });
      latestProbs = msg.shown;
      break;
    case 'done':
      state.wallMs = msg.wallMs;
      state.done = true;
      document.body.dataset.demo = 'done';
      /** @type {HTMLButtonElement} */ ($('pause')).disabled = true;
      break;
    case 'error':
      fail(`error in the worker: ${msg.message}`);
      break;
    default:
      break;
  }
  scheduleDraw();
}

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

/** Inserts one row of canvases per shown image before the chart headings. */
function buildImageRows() {
  if (!shown || !state.options) return;
  const size = state.options.size;
  const anchor = $('charts-start');
  rows = shown.images.map(() => Array.from({ length: 2 + RUNS.length }, () => {
    const c = document.createElement('canvas');
    c.width = size;
    c.height = size;
    c.style.width = `${size * ZOOM}px`;
    c.style.height = `${size * ZOOM}px`;
    anchor.before(c);
    return c;
  }));
  rows.forEach((row, i) => {
    if (!shown) return;
    paintGray(row[0], shown.images[i]);
    paintGray(row[1], shown.edges[i]);
  });
}

/**
 * Paints values in [0, 1] as gray levels (white = 1) onto a canvas of the same size.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values
 */
function paintGray(canvas, values) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const img = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < values.length; i++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, values[i])));
    img.data[4 * i] = g;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function draw() {
  const o = state.options;
  if (!o) return;
  if (latestProbs) {
    const probs = latestProbs;
    rows.forEach((row, i) => RUNS.forEach((_, k) => paintGray(row[2 + k], probs[k][i])));
  }
  const last = state.evals[state.evals.length - 1];
  // F-score curves, with the chance level dashed.
  lineChart(/** @type {HTMLCanvasElement} */ ($('fchart')), {
    xMax: o.steps,
    yMax: Math.max(0.5, Math.ceil(10 * Math.max(...state.evals.flatMap((e) => Object.values(e.f).map((f) => f.f)), 0) + 1) / 10),
    series: RUNS.map((r) => ({ color: COLORS[r.loss], points: state.evals.map((e) => [e.step, e.f[r.loss].f]), width: 2, dots: true })),
    hline: state.chance ? state.chance.f : null,
  });
  if (state.chance) {
    const elapsed = (state.done ? state.wallMs : performance.now() - startedAt) / 1000;
    $('stats-chance').textContent = `every pixel an edge: F ${state.chance.f.toFixed(3)}\n`
      + `${o.test} held-out images · segloss ${state.backend}\n`
      + `loss calls on ${o.batch}×${o.crop}×${o.crop} logits\n`
      + `${elapsed.toFixed(0)} s · ${(state.step / Math.max(elapsed, 1e-3)).toFixed(1)} steps/s per loss`;
  }
  for (const r of RUNS) {
    const losses = state.losses[r.loss];
    const smooth = movingMean(losses, 10);
    const top = Math.max(...smooth, 1e-6) * 1.15;
    lineChart(/** @type {HTMLCanvasElement} */ ($(`loss-${r.loss}`)), {
      xMax: o.steps,
      yMax: top,
      series: [
        { color: `${COLORS[r.loss]}55`, points: losses.map((v, i) => [i + 1, v]), width: 1, dots: false },
        { color: COLORS[r.loss], points: smooth.map((v, i) => [i + 1, v]), width: 2, dots: false },
      ],
      hline: null,
    });
    const f = last?.f[r.loss];
    const recent = smooth.length ? smooth[smooth.length - 1] : NaN;
    $(`stats-${r.loss}`).innerHTML = `loss <b>${fmt(recent)}</b> (start ${fmt(smooth[Math.min(9, smooth.length - 1)])})\n`
      + (f ? `F <b>${f.f.toFixed(3)}</b>  P ${f.precision.toFixed(2)}  R ${f.recall.toFixed(2)}\n` : '\n')
      + `${fmt(state.msPerCall[r.loss], 3)} ms / segloss call`;
  }
  const progress = /** @type {HTMLProgressElement} */ ($('progress'));
  progress.value = state.step / o.steps;
  if (!state.error) {
    $('status').textContent = state.done
      ? `done: ${o.steps} steps per loss in ${(state.wallMs / 1000).toFixed(1)} s (reload for another run, ?seed=2 for other data)`
      : state.backend ? `step ${state.step} / ${o.steps} per loss` : 'generating the images…';
  }
}

/**
 * @param {number | undefined} v
 * @param {number} [digits]
 */
function fmt(v, digits = 3) {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/**
 * Mean of the last `w` values at each position (fewer at the start): a readable loss curve.
 * @param {number[]} values
 * @param {number} w
 */
function movingMean(values, w) {
  const out = new Array(values.length);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    if (i >= w) sum -= values[i - w];
    out[i] = sum / Math.min(i + 1, w);
  }
  return out;
}

/**
 * @typedef {object} Series
 * @property {string} color
 * @property {number[][]} points [x, y] pairs
 * @property {number} width line width
 * @property {boolean} dots mark each point
 */

/**
 * A minimal line chart: x in [0, xMax], y in [0, yMax], axes with end labels.
 * @param {HTMLCanvasElement} canvas
 * @param {{ xMax: number, yMax: number, series: Series[], hline: number | null }} chart
 */
function lineChart(canvas, { xMax, yMax, series, hline }) {
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
  const { width, height } = canvas;
  const left = 34;
  const right = 8;
  const top = 8;
  const bottom = 18;
  const X = (/** @type {number} */ x) => left + ((width - left - right) * x) / xMax;
  const Y = (/** @type {number} */ y) => top + (height - top - bottom) * (1 - Math.min(y, yMax) / yMax);
  ctx.clearRect(0, 0, width, height);
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#9aa0a8';
  ctx.strokeStyle = '#3a3f47';
  ctx.lineWidth = 1;
  for (const frac of [0, 0.5, 1]) {
    const y = Y(frac * yMax);
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(width - right, y);
    ctx.stroke();
    ctx.textAlign = 'right';
    ctx.fillText(Number((frac * yMax).toPrecision(2)).toString(), left - 4, y + 3);
  }
  ctx.textAlign = 'left';
  ctx.fillText('0', left, height - 5);
  ctx.textAlign = 'right';
  ctx.fillText(`${xMax} steps`, width - right, height - 5);
  if (hline !== null) {
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = '#9aa0a8';
    ctx.beginPath();
    ctx.moveTo(left, Y(hline));
    ctx.lineTo(width - right, Y(hline));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const s of series) {
    if (s.points.length === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.width;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(X(x), Y(y)) : ctx.lineTo(X(x), Y(y))));
    ctx.stroke();
    if (s.dots) for (const [x, y] of s.points) ctx.fillRect(X(x) - 2, Y(y) - 2, 4, 4);
  }
}
