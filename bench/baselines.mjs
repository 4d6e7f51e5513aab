// The competitors of segloss in the benchmark, all computing the same loss as
// segloss's diceLoss (MONAI semantics, reduction 'mean', smoothNr = smoothDr =
// 1e-5) and its gradient with respect to the input:
//   naive JS  — the literal transcription people write: map/reduce over
//               temporary arrays;
//   fused JS  — one pass for the sums (f64 accumulators), one pass writing the
//               gradient into a preallocated Float32Array;
//   TensorFlow.js, Wasm backend — tf.valueAndGrad of the same formula,
//               including tensor creation from the typed arrays and dataSync()
//               of the gradient (what a caller outside TensorFlow.js pays).
//
// A problem is described by a spec: { N, C, S, activation: 'none' | 'sigmoid'
// | 'softmax', squared, jaccard, indices } over an input laid out [N, C, S];
// dense targets share that layout, index targets (`indices`) are [N, S].
//
// Notation (../../shared/seeds/dice-loss.md): per entry e = (n, c), over its S
// elements, I = Σ p·g, SP = Σ p (Σ p² if squared), SG = Σ g (Σ g² if squared).
//   dice:    L_e = 1 − num/den, num = 2I + snr, den = SP + SG + sdr
//   jaccard: L_e = 1 − num/den, num = I + snr,  den = SP + SG − I + sdr
// Loss = mean over the E = N·C entries. Differentiating the quotient,
//   dL_e/dp = a·dSP/dp − b·g  with dSP/dp = 1 (or 2p if squared),
//   dice: a = num/den², b = 2/den;   jaccard: a = num/den², b = (den + num)/den².
// Through the activations: sigmoid dL/dx = dL/dp · p(1 − p); softmax over the
// channels of a pixel dL/dx_c = p_c (dL/dp_c − Σ_k p_k dL/dp_k).
// Denominators are ≥ sdr > 0 here, so MONAI's "0/0 is a perfect match" rule
// never applies.
import { fileURLToPath } from 'node:url';

const SNR = 1e-5;
const SDR = 1e-5;

/** Loss and gradient coefficients (a, b) of one entry from its sums (see the header). */
function entryTerms(I, SP, SG, jaccard) {
  const num = jaccard ? I + SNR : 2 * I + SNR;
  const den = jaccard ? SP + SG - I + SDR : SP + SG + SDR;
  const a = num / (den * den);
  const b = jaccard ? (den + num) / (den * den) : 2 / den;
  return { loss: 1 - num / den, a, b };
}

// ------------------------------------------------------------------ naive JS

const sum = (values) => values.reduce((acc, v) => acc + v, 0);

/**
 * Naive JS: per entry, the formulas transcribed with typed-array map/reduce and
 * a temporary array for every intermediate. Returns { loss, grad } with a new
 * gradient array per call, as such code does.
 */
export function naiveDice(x, g, spec) {
  return spec.activation === 'softmax' ? naiveSoftmaxDice(x, g, spec) : naiveElementwiseDice(x, g, spec);
}

/** Quotient-rule derivative of 1 − num/den, literally: −(dnum·den − num·dden)/den². */
const quotientGrad = (dnum, dden, num, den) => -(dnum * den - num * dden) / (den * den);

/** The entry's loss and its dL/dp array from p and g arrays (naive form). */
function naiveEntry(p, t, spec) {
  const inter = sum(p.map((v, i) => v * t[i]));
  const sp = spec.squared ? sum(p.map((v) => v * v)) : sum(p);
  const sg = spec.squared ? sum(t.map((v) => v * v)) : sum(t);
  const num = spec.jaccard ? inter + SNR : 2 * inter + SNR;
  const den = spec.jaccard ? sp + sg - inter + SDR : sp + sg + SDR;
  // d num/dp = 2g (dice) or g (jaccard); d den/dp = dSP/dp (− g for jaccard).
  const dLdp = p.map((v, i) => {
    const dsp = spec.squared ? 2 * v : 1;
    return spec.jaccard
      ? quotientGrad(t[i], dsp - t[i], num, den)
      : quotientGrad(2 * t[i], dsp, num, den);
  });
  return { loss: 1 - num / den, dLdp };
}

function naiveElementwiseDice(x, g, spec) {
  const { N, C, S } = spec;
  const E = N * C;
  const grad = new Float32Array(x.length);
  let loss = 0;
  for (let e = 0; e < E; e++) {
    const logits = x.subarray(e * S, (e + 1) * S);
    const t = Float32Array.from(g.subarray(e * S, (e + 1) * S));
    const p = spec.activation === 'sigmoid' ? logits.map((v) => 1 / (1 + Math.exp(-v))) : logits;
    const entry = naiveEntry(p, t, spec);
    loss += entry.loss / E;
    const dLdx = spec.activation === 'sigmoid'
      ? entry.dLdp.map((d, i) => d * p[i] * (1 - p[i]))
      : entry.dLdp;
    grad.set(dLdx.map((d) => d / E), e * S);
  }
  return { loss, grad };
}

function naiveSoftmaxDice(x, g, spec) {
  const { N, C, S } = spec;
  const E = N * C;
  const grad = new Float32Array(x.length);
  const classes = Array.from({ length: C }, (_, c) => c);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const labels = g.subarray(n * S, (n + 1) * S);
    const exps = classes.map((c) => x.subarray((n * C + c) * S, (n * C + c + 1) * S).map(Math.exp));
    const total = exps[0].map((_, s) => sum(exps.map((row) => row[s])));
    const probs = exps.map((row) => row.map((v, s) => v / total[s]));
    const dLdp = classes.map((c) => {
      const onehot = Float32Array.from(labels, (label) => (label === c ? 1 : 0));
      const entry = naiveEntry(probs[c], onehot, spec);
      loss += entry.loss / E;
      return entry.dLdp.map((d) => d / E);
    });
    const dot = probs[0].map((_, s) => sum(classes.map((c) => probs[c][s] * dLdp[c][s])));
    for (const c of classes) {
      grad.set(probs[c].map((p, s) => p * (dLdp[c][s] - dot[s])), (n * C + c) * S);
    }
  }
  return { loss, grad };
}

// ------------------------------------------------------------------ fused JS

/**
 * Fused JS: returns `(x, g, grad) => loss`, which fills the preallocated
 * Float32Array `grad`. Pass 1 accumulates I, SP, SG per entry in f64; pass 2
 * writes the gradient. With an activation, pass 1 stores P in `grad` and
 * pass 2 reads it back, so exp runs once per element. Each variant has its
 * own loops with no per-element option tests (those cost V8 about 2.5×), as a
 * careful hand-written version would: plain, squared, sigmoid, softmax
 * (squared is implemented with activation 'none' only, as the bench uses it).
 */
export function makeFusedDice(spec) {
  const { N, C, S, activation, squared, jaccard } = spec;
  if (squared && activation !== 'none') throw new Error('fused JS baseline: squared is implemented for activation none only');
  const E = N * C;
  const sums = new Float64Array(3 * E); // I, SP, SG of entry e at 3e, 3e + 1, 3e + 2
  const coefA = new Float64Array(E);
  const coefB = new Float64Array(E);

  /** Loss from `sums`; fills coefA/coefB with the 1/E-scaled gradient coefficients. */
  function epilogue() {
    let loss = 0;
    for (let e = 0; e < E; e++) {
      const t = entryTerms(sums[3 * e], sums[3 * e + 1], sums[3 * e + 2], jaccard);
      loss += t.loss;
      coefA[e] = t.a / E;
      coefB[e] = t.b / E;
    }
    return loss / E;
  }

  if (activation === 'softmax') {
    const dLdp = new Float64Array(C); // one pixel's dL/dp_c
    return (x, g, grad) => {
      softmaxSums(x, g, grad, N, C, S, sums);
      const loss = epilogue();
      softmaxGradient(g, grad, N, C, S, coefA, coefB, dLdp);
      return loss;
    };
  }
  const [entrySums, entryGradient] = activation === 'sigmoid'
    ? [sigmoidSums, sigmoidGradient]
    : squared ? [squaredSums, squaredGradient] : [plainSums, plainGradient];
  return (x, g, grad) => {
    for (let e = 0; e < E; e++) entrySums(x, g, grad, e * S, (e + 1) * S, sums, 3 * e);
    const loss = epilogue();
    for (let e = 0; e < E; e++) entryGradient(x, g, grad, e * S, (e + 1) * S, coefA[e], coefB[e]);
    return loss;
  };
}

// Pass 1 of one entry, elements [start, end): I, SP, SG into sums[k..k + 2].

function plainSums(x, g, grad, start, end, sums, k) {
  let I = 0;
  let SP = 0;
  let SG = 0;
  for (let i = start; i < end; i++) {
    const p = x[i];
    const t = g[i];
    I += p * t;
    SP += p;
    SG += t;
  }
  sums[k] = I;
  sums[k + 1] = SP;
  sums[k + 2] = SG;
}

function squaredSums(x, g, grad, start, end, sums, k) {
  let I = 0;
  let SP = 0;
  let SG = 0;
  for (let i = start; i < end; i++) {
    const p = x[i];
    const t = g[i];
    I += p * t;
    SP += p * p;
    SG += t * t;
  }
  sums[k] = I;
  sums[k + 1] = SP;
  sums[k + 2] = SG;
}

/** p = 1/(1 + e^−x), stored in grad for pass 2. */
function sigmoidSums(x, g, grad, start, end, sums, k) {
  let I = 0;
  let SP = 0;
  let SG = 0;
  for (let i = start; i < end; i++) {
    const p = 1 / (1 + Math.exp(-x[i]));
    grad[i] = p;
    const t = g[i];
    I += p * t;
    SP += p;
    SG += t;
  }
  sums[k] = I;
  sums[k + 1] = SP;
  sums[k + 2] = SG;
}

// Pass 2 of one entry: dL/dp = a·dSP/dp − b·g, times dp/dx for sigmoid.

function plainGradient(x, g, grad, start, end, a, b) {
  for (let i = start; i < end; i++) grad[i] = a - b * g[i];
}

function squaredGradient(x, g, grad, start, end, a, b) {
  for (let i = start; i < end; i++) grad[i] = 2 * a * x[i] - b * g[i];
}

/** Reads p from grad (pass 1 put it there); dp/dx = p(1 − p). */
function sigmoidGradient(x, g, grad, start, end, a, b) {
  for (let i = start; i < end; i++) {
    const p = grad[i];
    grad[i] = (a - b * g[i]) * p * (1 - p);
  }
}

/** Softmax pass 1: p_c = e^(x_c − max)/Σ_k e^(x_k − max) per pixel, stored in grad; g holds class ids. */
function softmaxSums(x, g, grad, N, C, S, sums) {
  sums.fill(0);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const base = n * C * S + s;
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, x[base + c * S]);
      let total = 0;
      for (let c = 0; c < C; c++) {
        const ex = Math.exp(x[base + c * S] - max);
        grad[base + c * S] = ex;
        total += ex;
      }
      const label = g[n * S + s];
      for (let c = 0; c < C; c++) {
        const p = grad[base + c * S] / total;
        grad[base + c * S] = p;
        const k = 3 * (n * C + c);
        sums[k + 1] += p;
        if (label === c) {
          sums[k] += p;
          sums[k + 2] += 1;
        }
      }
    }
  }
}

/** Softmax pass 2: dL/dx_c = p_c (dL/dp_c − Σ_k p_k dL/dp_k), p read from grad. */
function softmaxGradient(g, grad, N, C, S, coefA, coefB, dLdp) {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const base = n * C * S + s;
      const label = g[n * S + s];
      let dot = 0;
      for (let c = 0; c < C; c++) {
        const d = coefA[n * C + c] - (label === c ? coefB[n * C + c] : 0);
        dLdp[c] = d;
        dot += grad[base + c * S] * d;
      }
      for (let c = 0; c < C; c++) grad[base + c * S] *= dLdp[c] - dot;
    }
  }
}

// ------------------------------------------------------------ TensorFlow.js

/**
 * Loads TensorFlow.js with its Wasm backend. Under Node the backend reads its
 * .wasm files from disk: setWasmPaths gets the package's dist/ folder as a
 * file path with a trailing slash.
 * @returns { tf, initMs (setBackend + ready), simd, threads, version }
 */
export async function loadTf() {
  const tf = await import('@tensorflow/tfjs');
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  setWasmPaths(fileURLToPath(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url)));
  const t0 = performance.now();
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js: the wasm backend failed to initialise');
  await tf.ready();
  const initMs = performance.now() - t0;
  return {
    tf,
    initMs,
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
    version: tf.version.tfjs,
  };
}

/**
 * TensorFlow.js version: returns `(x, g) => ({ loss, grad })`. Every call
 * creates the tensors from the typed arrays, runs tf.valueAndGrad and reads
 * the loss and the gradient back with dataSync(); tf.tidy plus an explicit
 * dispose of the two results leave no tensor behind.
 */
export function makeTfDice(tf, spec) {
  const { N, C, S, squared, jaccard } = spec;
  const softmax = spec.activation === 'softmax';
  // Reduction axis of the sums: spatial. Softmax runs over the last axis only,
  // so its input is transposed to [N, S, C] and the sums run over axis 1.
  const axis = softmax ? 1 : 2;

  const lossOf = (target) => (input) => {
    let p = input;
    if (softmax) p = tf.softmax(tf.transpose(input, [0, 2, 1]));
    else if (spec.activation === 'sigmoid') p = tf.sigmoid(input);
    const I = tf.sum(tf.mul(p, target), axis);
    const SP = tf.sum(squared ? tf.square(p) : p, axis);
    const SG = tf.sum(squared ? tf.square(target) : target, axis);
    const num = jaccard ? tf.add(I, SNR) : tf.add(tf.mul(I, 2), SNR);
    const den = tf.add(jaccard ? tf.sub(tf.add(SP, SG), I) : tf.add(SP, SG), SDR);
    return tf.mean(tf.sub(1, tf.div(num, den)));
  };

  const targetTensor = (g) => {
    if (spec.indices) return tf.oneHot(tf.tensor(g, [N, S], 'int32'), C).toFloat(); // [N, S, C]
    if (g instanceof Uint8Array) return tf.tensor(g, [N, C, S], 'int32').toFloat();
    return tf.tensor(g, [N, C, S], 'float32');
  };

  return (x, g) => {
    const [value, grad] = tf.tidy(() => {
      const input = tf.tensor(x, [N, C, S], 'float32');
      const { value, grad } = tf.valueAndGrad(lossOf(targetTensor(g)))(input);
      return [value, grad];
    });
    const loss = value.dataSync()[0];
    const gradient = grad.dataSync();
    tf.dispose([value, grad]);
    return { loss, grad: gradient };
  };
}
