// Conformance vectors: one fixed, seeded list of loss calls whose exact output bits are hashed, so that
// the same module can be run in Node, in a Chromium page, in a Web Worker and after a bundler, and the
// hashes compared. Plain ESM, no TypeScript, one relative import: it must load unchanged everywhere.
//
// The hashes say nothing about correctness (test/*.test.ts compare with the float64 reference); they say
// "same bits". Every case runs with the scalar build and with the SIMD build, whose bits must agree, and
// in several memory placements (JS heap, JS heap at an odd offset, WasmArray, misaligned view of Wasm
// memory, mixed), whose bits must agree too: the driver adds the same numbers in the same order.
//
// To cover a new loss function, add one entry to SUITES: { fn, cases, run }.

// ---------------------------------------------------------------------------------------------------
// Seeded randomness and hashing (integer arithmetic only, so identical in every engine)


import { mulberry32 } from '../../examples/lib/rng.mjs'; // integer arithmetic only: identical in every engine

/**
 * FNV-1a 64-bit over bytes, with the 64-bit state held as two uint32 halves. The prime is
 * 2^40 + 0x1b3, so h·prime = h·0x1b3 + (h << 40): the low half is lo·0x1b3 mod 2^32, and the high half
 * gets hi·0x1b3, the carry out of lo·0x1b3 (exact in a double: < 2^41) and lo << 8.
 */
class Fnv1a64 {
  constructor() { this.hi = 0xcbf29ce4; this.lo = 0x84222325; }
  /** Feeds every byte of a typed array (its in-memory, little-endian bytes). */
  update(view) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    let { hi, lo } = this;
    for (let i = 0; i < bytes.length; i++) {
      lo = (lo ^ bytes[i]) >>> 0;
      const carry = Math.floor((lo * 0x1b3) / 4294967296);
      hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
      lo = Math.imul(lo, 0x1b3) >>> 0;
    }
    this.hi = hi; this.lo = lo;
    return this;
  }
  hex() { return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0'); }
}

/** FNV-1a 64 of a string's UTF-16 code units (used for seeds and for the self-test). */
export function fnv1a64Hex(text) {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return new Fnv1a64().update(units).hex();
}

/** Hash of a call's output bits: loss as Float64 (or the per-entry Float64Array), then the Float32 grad. */
export function hashOutput(loss, grad) {
  const h = new Fnv1a64();
  h.update(typeof loss === 'number' ? Float64Array.of(loss) : loss);
  h.update(Uint32Array.of(grad ? grad.length : 0xffffffff));
  if (grad) h.update(grad);
  return h.hex();
}

const seedOf = (name) => parseInt(fnv1a64Hex(name).slice(8), 16);
const pick = (rng, list) => list[Math.floor(rng() * list.length)];
const product = (dims) => dims.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------
// Memory placements: the same data handed over as JS arrays or as Wasm memory

/** JS heap; JS heap at an odd element offset; WasmArray; misaligned view into Wasm memory; mixed. */
export const MEMORY = ['js', 'js-offset', 'wasm', 'wasm-offset', 'mixed'];

const GUARD = 77; // value of the elements around an offset array: a write out of bounds changes it

/**
 * Hands `arrays` (name → typed array; `out` names outputs, zero-filled) to `call` placed as `mode`
 * says, and returns the call's result with every output copied out. Every Wasm block is allocated
 * before any view is made, because an allocation may grow memory and detach earlier views.
 */
function placed(segloss, mode, arrays, outputs, call) {
  const names = Object.keys(arrays);
  const inWasm = (name) => mode === 'wasm' || mode === 'wasm-offset' || (mode === 'mixed' && (name === 'input' || outputs.includes(name)));
  const offset = mode === 'js-offset' || mode === 'wasm-offset' ? 1 : 0;
  const blocks = {};
  try {
    for (const name of names) {
      const a = arrays[name];
      if (inWasm(name)) blocks[name] = segloss.alloc(a.constructor, a.length + 2 * offset);
    }
    const args = {};
    const reads = {};
    for (const name of names) {
      const a = arrays[name];
      if (blocks[name]) {
        const view = blocks[name].view;
        view.fill(GUARD);
        view.set(a, offset);
        args[name] = offset ? view.subarray(offset, offset + a.length) : blocks[name];
        reads[name] = () => blocks[name].view; // re-derived: memory may have grown during the call
      } else {
        const whole = new a.constructor(a.length + 2 * offset).fill(GUARD);
        whole.set(a, offset);
        args[name] = offset ? whole.subarray(offset, offset + a.length) : whole;
        reads[name] = () => whole;
      }
    }
    const result = call(args);
    const out = {};
    for (const name of outputs) {
      const whole = reads[name]();
      if (offset && (whole[0] !== GUARD || whole[whole.length - 1] !== GUARD)) {
        throw new Error(`${name}: an element next to the array was overwritten`);
      }
      out[name] = whole.slice(offset, offset + arrays[name].length);
    }
    return { result, out };
  } finally {
    for (const b of Object.values(blocks)) b.free();
  }
}

// ---------------------------------------------------------------------------------------------------
// diceLoss

const TARGETS = ['f32', 'u8', 'idx-u8', 'idx-u16', 'idx-i32'];
const IGNORE = { 'idx-u8': 255, 'idx-u16': 65535, 'idx-i32': -100 };
const FLOAT32_MAX = 3.4028234663852886e38;
// Logits at the edges of exp: underflow, overflow, subnormals, signed zero, the float32 extremes.
const EXTREME_LOGITS = [0, -0, 1e-45, -1e-45, 1.1754943508222875e-38, 15.9, 16.7, 87.33, 88.72, 88.73, 89, 100,
  1e4, 1e30, FLOAT32_MAX, -87.33, -88.72, -103.28, -104, -1e4, -1e30, -FLOAT32_MAX];
// Probabilities at the edges: exact 0 and 1, subnormal, tiny, just below 1, signed zero.
const EXTREME_PROBS = [0, -0, 1, 1e-45, 1.1754943508222875e-38, 5.960464477539063e-8, 0.9999999403953552];

/** Short, unique, readable description of a dice case (the data's seed is derived from it). */
function diceName(c) {
  const parts = [c.activation, c.target];
  if (c.ignore) parts.push('ignore');
  if (c.mask !== 'none') parts.push(`mask-${c.mask}`);
  if (!c.includeBackground) parts.push('nobg');
  if (c.squared) parts.push('sq');
  if (c.jaccard) parts.push('jac');
  if (c.batch) parts.push('batch');
  if (c.weight) parts.push('w');
  if (c.smooth) parts.push(`smooth(${c.smooth.join(',')})`);
  if (c.values !== 'random') parts.push(c.values);
  parts.push(c.reduction);
  if (!c.grad) parts.push('nograd');
  return `${c.tag ? `${c.tag}.` : ''}${parts.join('.')}.[${c.shape.join(',')}]`;
}

const DICE_DEFAULTS = {
  activation: 'none', target: 'f32', ignore: false, mask: 'none', includeBackground: true, squared: false,
  jaccard: false, batch: false, weight: false, smooth: null, values: 'random', reduction: 'mean', grad: true,
  shape: [2, 3, 37], tag: '',
};

/** Makes the canonical (valid) form of a case spec. */
function dice(spec) {
  const c = { ...DICE_DEFAULTS, ...spec };
  if (c.reduction === 'none') c.grad = false;
  return { ...c, name: diceName(c) };
}

/** The fixed list of dice cases: one axis at a time, then edge values, sizes, and a seeded mix. */
function diceCases() {
  const cases = [];
  const add = (spec) => cases.push(dice(spec));
  // Every activation × every target kind (with and without ignoreIndex for indices).
  for (const activation of ['none', 'sigmoid', 'softmax']) {
    for (const target of TARGETS) {
      add({ activation, target });
      if (target.startsWith('idx')) add({ activation, target, ignore: true });
    }
  }
  // Each remaining option alone, on sigmoid and on softmax logits.
  for (const activation of ['sigmoid', 'softmax']) {
    add({ activation, mask: 'pixel' });
    add({ activation, includeBackground: false });
    add({ activation, squared: true });
    add({ activation, jaccard: true });
    add({ activation, jaccard: true, squared: true });
    add({ activation, batch: true });
    add({ activation, weight: true });
    add({ activation, smooth: [0.5, 1] });
    for (const reduction of ['sum', 'none']) add({ activation, reduction });
    add({ activation, batch: true, reduction: 'none' });
    add({ activation, grad: false });
  }
  add({ activation: 'none', mask: 'element' });
  add({ activation: 'sigmoid', mask: 'element', target: 'u8' });
  add({ activation: 'softmax', mask: 'pixel', target: 'idx-i32', ignore: true, includeBackground: false, weight: true });
  // Edge values: extreme logits and probabilities, inputs outside [0, 1], empty entries (0/0 → 0).
  add({ activation: 'sigmoid', values: 'extreme', shape: [1, 2, 67] });
  add({ activation: 'softmax', values: 'extreme', shape: [2, 3, 41], target: 'idx-u8' });
  add({ activation: 'none', values: 'extreme', shape: [1, 2, 33], squared: true });
  add({ activation: 'none', values: 'unbounded', shape: [1, 3, 29] });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], reduction: 'none' });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19] });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], jaccard: true, batch: true });
  // Odd lengths and SIMD tails, around 4 lanes and around the 1024-element accumulation block.
  for (let L = 1; L <= 17; L++) add({ activation: L % 3 ? 'sigmoid' : 'none', target: L % 2 ? 'f32' : 'u8', shape: [1, 1, L] });
  for (const L of [31, 33, 63, 65, 1023, 1024, 1025, 2047, 2049]) add({ activation: 'sigmoid', shape: [1, 2, L], target: 'idx-u16' });
  add({ activation: 'softmax', shape: [2, 5, 3, 7, 5], target: 'idx-i32', mask: 'pixel' }); // 3-D spatial
  // Multi-chunk sizes: > 32768 elements per sample (row segments), and many small samples per chunk.
  add({ tag: 'big', activation: 'sigmoid', shape: [1, 1, 100003] });
  add({ tag: 'big', activation: 'softmax', shape: [2, 3, 40001], target: 'idx-u8', ignore: true, mask: 'pixel' });
  add({ tag: 'big', activation: 'none', shape: [2, 4, 8195], target: 'u8', mask: 'element', squared: true });
  add({ tag: 'big', activation: 'sigmoid', shape: [40, 2, 1000], target: 'f32', batch: true, jaccard: true });
  add({ tag: 'big', activation: 'softmax', shape: [3, 2, 70001], target: 'f32', reduction: 'sum', weight: true });
  // A seeded mix of valid combinations, for interactions the axes above do not reach.
  const rng = mulberry32(0x5e9105);
  for (let i = 0; i < 48; i++) {
    const activation = pick(rng, ['none', 'sigmoid', 'softmax']);
    const C = activation === 'softmax' ? 2 + Math.floor(rng() * 4) : 1 + Math.floor(rng() * 5);
    const spatial = rng() < 0.3 ? [1 + Math.floor(rng() * 9), 1 + Math.floor(rng() * 13)] : [pick(rng, [1, 3, 8, 15, 16, 17, 31, 64, 100, 129, 257])];
    const target = pick(rng, TARGETS);
    add({
      tag: `mix${String(i).padStart(2, '0')}`,
      activation, target, shape: [1 + Math.floor(rng() * 3), C, ...spatial],
      ignore: target.startsWith('idx') && rng() < 0.5,
      mask: pick(rng, activation === 'softmax' ? ['none', 'pixel'] : ['none', 'pixel', 'element']),
      includeBackground: C < 2 || rng() < 0.7,
      squared: rng() < 0.3, jaccard: rng() < 0.3, batch: rng() < 0.3, weight: rng() < 0.3,
      smooth: rng() < 0.3 ? [pick(rng, [0, 0.5, 1, 1e-3]), pick(rng, [0, 0.5, 1, 1e-3])] : null,
      reduction: pick(rng, ['mean', 'sum', 'none']),
    });
  }
  return cases;
}

/** The input, target and mask arrays of a dice case, from a seed derived from its name. */
function diceData(c) {
  const rng = mulberry32(seedOf(c.name));
  const [N, C] = c.shape;
  const S = product(c.shape.slice(2));
  const input = new Float32Array(N * C * S);
  // 'empty': sample 0 and channel 0 hold nothing (P = G = 0), the other entries are random.
  const empty = (i) => c.values === 'empty' && (i < C * S || Math.floor(i / S) % C === 0);
  for (let i = 0; i < input.length; i++) {
    const r = rng();
    if (empty(i)) input[i] = 0;
    else if (c.values === 'extreme') input[i] = r < 0.5 ? pick(rng, c.activation === 'none' ? EXTREME_PROBS : EXTREME_LOGITS) : c.activation === 'none' ? rng() : (rng() * 2 - 1) * 8;
    else if (c.values === 'unbounded') input[i] = rng() * 5 - 2;
    else if (c.activation === 'none' || c.values === 'empty') input[i] = r < 0.05 ? 0 : r < 0.1 ? 1 : rng();
    else input[i] = (r * 2 - 1) * 8;
  }
  let target;
  if (c.target.startsWith('idx')) {
    const Ctor = { 'idx-u8': Uint8Array, 'idx-u16': Uint16Array, 'idx-i32': Int32Array }[c.target];
    target = new Ctor(N * S);
    for (let i = 0; i < target.length; i++) target[i] = c.ignore && rng() < 0.15 ? IGNORE[c.target] : Math.floor(rng() * C);
  } else {
    target = c.target === 'u8' ? new Uint8Array(input.length) : new Float32Array(input.length);
    for (let i = 0; i < target.length; i++) {
      const r = rng();
      if (empty(i)) target[i] = 0;
      else target[i] = r < 0.4 ? 0 : r < 0.7 || c.target === 'u8' ? 1 : rng();
    }
  }
  const arrays = { input, target };
  if (c.mask !== 'none') {
    const mask = new Uint8Array(c.mask === 'pixel' ? N * S : N * C * S);
    for (let i = 0; i < mask.length; i++) mask[i] = rng() < 0.25 ? 0 : pick(rng, [1, 1, 7, 255]); // non-zero = kept
    arrays.mask = mask;
  }
  if (c.grad) arrays.grad = new Float32Array(input.length);
  const options = { shape: c.shape.slice() };
  if (c.activation !== 'none') options.activation = c.activation;
  if (c.target.startsWith('idx')) options.target = 'indices';
  if (c.ignore) options.ignoreIndex = IGNORE[c.target];
  if (!c.includeBackground) options.includeBackground = false;
  if (c.squared) options.squared = true;
  if (c.jaccard) options.jaccard = true;
  if (c.batch) options.batch = true;
  if (c.weight) {
    const kept = C - (c.includeBackground ? 0 : 1);
    options.weight = Array.from({ length: kept }, (_, k) => (k === 1 ? 0 : 0.25 + 2.75 * rng()));
  }
  if (c.smooth) [options.smoothNr, options.smoothDr] = c.smooth;
  options.reduction = c.reduction;
  return { arrays, options };
}

/** Runs one dice case with its data placed as `mode`; returns the loss and the gradient (or null). */
function runDice(segloss, c, mode) {
  const { arrays, options } = diceData(c);
  const outputs = c.grad ? ['grad'] : [];
  const { result, out } = placed(segloss, mode, arrays, outputs, (a) =>
    segloss.diceLoss(a.input, a.target, { ...options, ...(a.mask && { mask: a.mask }), ...(a.grad && { grad: a.grad }) }));
  return { loss: result, grad: c.grad ? out.grad : null };
}

// ---------------------------------------------------------------------------------------------------
// The table: one entry per loss function

/** Every function under conformance test: its fixed cases and how to run one in a memory placement. */
export const SUITES = [
  { fn: 'diceLoss', cases: diceCases(), run: runDice },
];

for (const suite of SUITES) {
  const seen = new Set();
  for (const c of suite.cases) {
    if (seen.has(c.name)) throw new Error(`test/vectors: duplicate case name ${suite.fn}/${c.name}`);
    seen.add(c.name);
  }
}

/** Number of (function, case, placement) runs per build. */
export const caseCount = SUITES.reduce((n, s) => n + s.cases.length * MEMORY.length, 0);

// Self-test of the hash: published FNV-1a 64 values of "" and "a" (as bytes), so a broken hash cannot
// make every comparison pass vacuously.
{
  const ascii = (s) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  const empty = new Fnv1a64().update(ascii('')).hex();
  const a = new Fnv1a64().update(ascii('a')).hex();
  if (empty !== 'cbf29ce484222325' || a !== 'af63dc4c8601ec8c') throw new Error(`test/vectors: FNV-1a 64 self-test failed (${empty}, ${a})`);
}

/**
 * Runs every case of every suite in every memory placement, with the scalar build and then (when the
 * runtime supports it) the SIMD build. Returns `{ name, hash, loss }` entries named
 * `<build>/<fn>/<case>@<placement>`, followed by `check:` entries whose hash is `'ok'` or lists what
 * failed: scalar vs SIMD bits, bits across placements, and cases that threw.
 *
 * @param segloss the imported module (`import * as segloss from ...`)
 * @param options `{ filter }`: optional predicate on the case name, to run a subset
 */
export async function runCases(segloss, options = {}) {
  const builds = segloss.simdSupported() ? ['scalar', 'simd'] : ['scalar'];
  const results = [];
  const byBuild = {};
  for (const build of builds) {
    await segloss.init({ simd: build === 'simd' });
    if (segloss.backend() !== build) throw new Error(`init({ simd: ${build === 'simd'} }) gave backend ${segloss.backend()}`);
    const hashes = (byBuild[build] = new Map());
    for (const suite of SUITES) {
      for (const c of suite.cases) {
        for (const mode of MEMORY) {
          const id = `${suite.fn}/${c.name}@${mode}`;
          if (options.filter && !options.filter(id)) continue;
          let entry;
          try {
            const { loss, grad } = suite.run(segloss, c, mode);
            entry = { name: `${build}/${id}`, hash: hashOutput(loss, grad), loss: typeof loss === 'number' ? String(loss) : `[${Array.from(loss).join(', ')}]` };
          } catch (e) {
            entry = { name: `${build}/${id}`, hash: `error: ${e && e.message}`, loss: '' };
          }
          hashes.set(id, entry.hash);
          results.push(entry);
        }
      }
    }
  }
  // Self-checks, reported as entries so that callers compare and print them like the rest.
  const errors = results.filter((r) => r.hash.startsWith('error')).map((r) => `${r.name}: ${r.hash}`);
  results.push({ name: 'check:no-errors', hash: errors.length ? `FAILED ${errors.join('; ')}` : 'ok', loss: '' });
  for (const build of builds) {
    const groups = new Map();
    for (const [id, hash] of byBuild[build]) {
      const base = id.slice(0, id.lastIndexOf('@'));
      if (!groups.has(base)) groups.set(base, new Set());
      groups.get(base).add(hash);
    }
    const differ = [...groups].filter(([, set]) => set.size > 1).map(([base]) => base);
    results.push({ name: `check:${build}:placements-agree`, hash: differ.length ? `FAILED ${differ.join('; ')}` : 'ok', loss: '' });
  }
  if (byBuild.simd) {
    const differ = [...byBuild.scalar].filter(([id, hash]) => byBuild.simd.get(id) !== hash).map(([id]) => id);
    results.push({ name: 'check:scalar==simd', hash: differ.length ? `FAILED ${differ.join('; ')}` : 'ok', loss: '' });
  } else {
    results.push({ name: 'check:scalar==simd', hash: 'skipped: this runtime has no WebAssembly SIMD', loss: '' });
  }
  return results;
}
