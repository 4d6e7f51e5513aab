import { it } from 'vitest';
import { init, bceLoss, focalLoss } from '../src/index.ts';
import { bceLossReference, focalLossReference } from '../src/reference/bce.ts';
it('smoke', async () => {
  await init();
  const n = 13;
  const x = new Float32Array(n).map((_, i) => (i - 6) * 1.7);
  const p = new Float32Array(n).map((_, i) => (i + 0.5) / n);
  const g = new Float32Array(n).map((_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.3));
  for (const [name, f, r, inp, o] of [
    ['bce logits', bceLoss, bceLossReference, x, { activation: 'sigmoid' }],
    ['bce prob', bceLoss, bceLossReference, p, {}],
    ['bce hed', bceLoss, bceLossReference, x, { activation: 'sigmoid', balance: 'hed', posWeight: 2 }],
    ['bce rcf', bceLoss, bceLossReference, x, { activation: 'sigmoid', balance: 'rcf', labelSmoothing: 0.1 }],
    ['focal logits', focalLoss, focalLossReference, x, { activation: 'sigmoid' }],
    ['focal prob', focalLoss, focalLossReference, p, { gamma: 0.5 }],
  ] as const) {
    const grad = new Float32Array(n);
    const loss = (f as any)(inp, g, { ...o, grad });
    const ref = (r as any)(inp, g, o);
    console.log(name, loss, ref.loss, Math.max(...grad.map((v, i) => Math.abs(v - ref.grad[i]))));
  }
  const C = 3, S = 7;
  const xs = new Float32Array(C * S).map((_, i) => Math.sin(i * 1.3) * 4);
  const t = new Uint8Array(S).map((_, i) => i % C);
  const grad = new Float32Array(C * S);
  const loss = focalLoss(xs, t, { activation: 'softmax', shape: [1, C, S], grad, weight: [1, 2, 0.5] });
  const ref = focalLossReference(xs, t, { activation: 'softmax', shape: [1, C, S], weight: [1, 2, 0.5] });
  console.log('softmax', loss, ref.loss, Math.max(...grad.map((v, i) => Math.abs(v - ref.grad![i]!))));
});
