// Bundled by test/browser/run.mjs with Vite's production defaults (minified), then opened in Chromium:
// the inlined Wasm must survive bundling and give the same bits as the unbundled module in Node.
// The one-loss input formula is the one of plain.html (and oneLossNode in run.mjs).
import { init, diceLoss } from '../../../build/segloss.js';
import * as segloss from '../../../build/segloss.js';
import { runCases } from '../../vectors/cases.mjs';

async function oneLoss() {
  await init();
  const S = 777;
  const logits = new Float32Array(2 * S);
  for (let i = 0; i < logits.length; i++) logits[i] = ((i * 37) % 101) / 10 - 5;
  const labels = new Uint8Array(S);
  for (let i = 0; i < S; i++) labels[i] = (i * 7) % 3 === 0 ? 1 : 0;
  return diceLoss(logits, labels, { shape: [1, 2, S], activation: 'softmax', target: 'indices' });
}

const out = document.getElementById('loss');
window.__vectors = oneLoss().then((loss) => {
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, loss);
  out.dataset.bits = bits.getBigUint64(0).toString(16).padStart(16, '0');
  out.textContent = String(loss);
  return runCases(segloss);
});
