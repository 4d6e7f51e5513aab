// Conformance vectors: one fixed, seeded list of calls to each public function in SUITES, whose exact output
// bits are hashed, so that the same module can be run in Node, in a Chromium page, in a Web Worker and
// after a bundler, and the hashes compared. Plain ESM, no TypeScript, one relative import: it must
// load unchanged everywhere.
//
// The hashes say nothing about correctness (test/*.test.ts compare with the float64 reference); they say
// "same bits". Every case runs with the scalar build and with the SIMD build, whose bits must agree, and
// in several memory placements (JS heap, JS heap at an odd offset, WasmArray, misaligned view of Wasm
// memory, mixed), whose bits must agree too: the driver adds the same numbers in the same order.
//
// To cover a new function, add one entry to SUITES, made with `suite` (see there), e.g.
//
//   suite({
//     fn: 'someLoss',
//     defaults: { activation: 'sigmoid', target: 'u8', reduction: 'mean' },  // its case fields and their defaults
//     specs: [{}, { activation: 'none' }, { reduction: 'sum' }, { shape: [1, 1, 1025] }],  // one object per case
//     options: (c) => ({ reduction: c.reduction }),                          // a case → its options
//     call: (s, a, o) => s.someLoss(a.input, a.target, withArrays(o, a)),   // the call on the placed arrays
//   }),
//
// The data (input, target, mask, grad) comes from the layout fields of LAYOUT_DEFAULTS (activation,
// target kind, mask, values, shape, grad); a function of one array (a distance transform of a binary
// image, say) uses `a.target` with target 'u8' and `grad: false`. The result may be a number, a typed
// array or a record of them.

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

/** The UTF-16 code units of a string, as a typed array to hash. */
const utf16 = (text) => Uint16Array.from(text, (_, i) => text.charCodeAt(i));

/** FNV-1a 64 of a string's UTF-16 code units (used for seeds and for the self-test). */
export function fnv1a64Hex(text) {
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return new Fnv1a64().update(units).hex();
}

/** Type tags of the hashed values, so that e.g. a Float32Array and a Uint32Array of the same bytes differ. */
const TAGS = new Map([[Float64Array, 1], [Float32Array, 2], [Uint8Array, 3], [Uint16Array, 4], [Int32Array, 5], [Uint32Array, 6]]);

/**
 * The bits of a float array with every NaN replaced by the one canonical quiet NaN. JavaScript and
 * Wasm leave a NaN's sign and payload open (x86 makes 0/0 a negative NaN, V8's constant folding a
 * positive one, and the choice can change with the JIT tier), so only "is NaN" is part of the result.
 */
function canonicalNaNs(view) {
  if (!(view instanceof Float64Array || view instanceof Float32Array)) return view;
  let hasNaN = false;
  for (let i = 0; i < view.length && !hasNaN; i++) hasNaN = view[i] !== view[i]; // eslint-disable-line no-self-compare
  if (!hasNaN) return view;
  const copy = view.slice();
  const words = new Uint32Array(copy.buffer);
  for (let i = 0; i < copy.length; i++) {
    if (!Number.isNaN(copy[i])) continue;
    if (copy instanceof Float64Array) { words[2 * i] = 0; words[2 * i + 1] = 0x7ff80000; } // little-endian: low word first
    else words[i] = 0x7fc00000;
  }
  return copy;
}

/** Feeds one output value: a number (as Float64), a typed array (tag, length, bits), or a record of them. */
function feed(h, value) {
  if (typeof value === 'number') {
    h.update(canonicalNaNs(Float64Array.of(value)));
  } else if (ArrayBuffer.isView(value)) {
    const tag = TAGS.get(value.constructor);
    if (tag === undefined) throw new TypeError(`test/vectors: cannot hash a ${value.constructor.name}`);
    h.update(Uint32Array.of(tag, value.length));
    h.update(canonicalNaNs(value));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      h.update(utf16(key));
      feed(h, v);
    }
  } else {
    throw new TypeError(`test/vectors: cannot hash ${String(value)}`);
  }
}

/**
 * Hash of a call's output bits: the result (a number, a typed array, or a record of them, such as the
 * counts of `confusion`), then the gradient (or a marker for none).
 */
export function hashOutput(loss, grad) {
  const h = new Fnv1a64();
  feed(h, loss);
  h.update(Uint32Array.of(grad ? grad.length : 0xffffffff));
  if (grad) h.update(canonicalNaNs(grad));
  return h.hex();
}

/** A short printable form of an output, for failure messages. */
function describe(value) {
  if (typeof value === 'number') return String(value);
  if (ArrayBuffer.isView(value)) return `[${Array.from(value).join(', ')}]`;
  return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${describe(v)}`).join(', ')} }`;
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
// Case data: the layout every function shares (input, target, mask, grad)

const TARGETS = ['f32', 'u8', 'idx-u8', 'idx-u16', 'idx-i32'];
const IGNORE = { 'idx-u8': 255, 'idx-u16': 65535, 'idx-i32': -100 };
const FLOAT32_MAX = 3.4028234663852886e38;
// Logits at the edges of exp: underflow, overflow, subnormals, signed zero, the float32 extremes.
const EXTREME_LOGITS = [0, -0, 1e-45, -1e-45, 1.1754943508222875e-38, 15.9, 16.7, 87.33, 88.72, 88.73, 89, 100,
  1e4, 1e30, FLOAT32_MAX, -87.33, -88.72, -103.28, -104, -1e4, -1e30, -FLOAT32_MAX];
// Probabilities at the edges: exact 0 and 1, subnormal, tiny, just below 1, signed zero.
const EXTREME_PROBS = [0, -0, 1, 1e-45, 1.1754943508222875e-38, 5.960464477539063e-8, 0.9999999403953552];

/**
 * The fields of a case that describe its data, with their defaults. Every suite's cases have them.
 * - activation: 'none' (input holds probabilities), 'sigmoid' or 'softmax' (logits)
 * - target: 'f32' (labels in [0, 1], some soft), 'u8' (0/1), or class ids 'idx-u8' | 'idx-u16' | 'idx-i32'
 * - ignore: some class ids are the ignore index (options.ignoreIndex)
 * - mask: 'none', 'pixel' (N × spatial) or 'element' (as long as input); non-zero = kept
 * - values: 'random'; 'extreme' (the values above); 'unbounded' (probabilities outside [0, 1]);
 *   'empty' (sample 0 and channel 0 hold nothing: input and dense target 0); 'sparse' (input random,
 *   dense target mostly 0: about 1 element in 30 set, some soft for f32, as edge maps and thin structures)
 * - shape: [N, C, ...spatial]; grad: pass a gradient array; tag: a name prefix
 */
const LAYOUT_DEFAULTS = {
  activation: 'none', target: 'f32', ignore: false, mask: 'none', values: 'random', shape: [2, 3, 37], grad: true, tag: '',
};

/**
 * The arrays of a case (input, target, mask, grad), and the layout options that describe them
 * (shape, activation, target, ignoreIndex), drawn from `rng`.
 */
function layoutData(c, rng) {
  const [N, C] = c.shape;
  const S = product(c.shape.slice(2));
  const input = new Float32Array(N * C * S);
  // 'empty': sample 0 and channel 0 hold nothing (P = G = 0), the other entries are random.
  const empty = (i) => c.values === 'empty' && (i < C * S || Math.floor(i / S) % C === 0);
  const extremes = c.activation === 'none' ? EXTREME_PROBS : (c.extremeLogits ?? EXTREME_LOGITS);
  for (let i = 0; i < input.length; i++) {
    const r = rng();
    if (empty(i)) input[i] = 0;
    else if (c.values === 'extreme') input[i] = r < 0.5 ? pick(rng, extremes) : c.activation === 'none' ? rng() : (rng() * 2 - 1) * 8;
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
      else if (c.values === 'sparse') target[i] = r < 0.03 ? 1 : r < 0.05 && c.target === 'f32' ? rng() : 0;
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
  return { arrays, options };
}

/** The options of a call with its placed arrays: `options` plus `mask` and `grad` when the case has them. */
const withArrays = (options, a) => ({ ...options, ...(a.mask && { mask: a.mask }), ...(a.grad && { grad: a.grad }) });

// ---------------------------------------------------------------------------------------------------
// Suites

const formatValue = (v) => (Array.isArray(v) ? `(${v.join(',')})` : String(v));

/**
 * The default name of a case: every field that differs from the suite's defaults as key=value, in the
 * defaults' order, then the shape. Distinct specs give distinct names; the data's seed derives from it.
 */
function genericName(c, base) {
  const parts = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(c)])) {
    if (key === 'shape' || key === 'tag' || key === 'name') continue;
    if (formatValue(c[key]) !== formatValue(base[key])) parts.push(c[key] === true ? key : `${key}=${formatValue(c[key])}`);
  }
  return `${c.tag ? `${c.tag}.` : ''}${parts.length ? parts.join('.') : 'default'}.[${c.shape.join(',')}]`;
}

/**
 * One entry of SUITES: a public function and its fixed cases.
 * @param {object} def
 * @param {string} def.fn the export's name (a case id is `<fn>/<case name>`)
 * @param {object} def.defaults the function's own case fields and their defaults, and any LAYOUT_DEFAULTS it changes
 * @param {object[]} def.specs the cases, each a partial case (fields that differ from the defaults)
 * @param {(c: object, rng: () => number) => object} [def.options] the function's options of case `c`
 *   (beyond the layout options); `rng` continues the case's data stream
 * @param {(segloss: object, a: object, options: object, c: object) => unknown} def.call the call, given
 *   the placed arrays `a` (input, target, mask?, grad?; pass them with `withArrays`) and the options;
 *   returns the result to hash (a number, a typed array, or a record of them)
 * @param {(c: object) => string} [def.name] case names (default: `genericName`)
 */
function suite({ fn, defaults, specs, options = () => ({}), call, name }) {
  const base = { ...LAYOUT_DEFAULTS, ...defaults };
  const cases = specs.map((spec) => {
    const c = { ...base, ...spec };
    if (c.reduction === 'none') c.grad = false; // no gradient of a per-entry result
    return { ...c, name: name ? name(c) : genericName(c, base) };
  });
  // The data of the last case run: runCases runs each case in every placement in a row, and `placed`
  // only reads the arrays, so they are made once per case and build instead of once per run.
  let last = { c: null, arrays: null, opts: null };
  return {
    fn,
    cases,
    run(segloss, c, mode) {
      if (last.c !== c) {
        const rng = mulberry32(seedOf(`${fn}/${c.name}`));
        const { arrays, options: layout } = layoutData(c, rng);
        last = { c, arrays, opts: { ...layout, ...options(c, rng) } };
      }
      const { arrays, opts } = last;
      const outputs = arrays.grad ? ['grad'] : [];
      const { result, out } = placed(segloss, mode, arrays, outputs, (a) => call(segloss, a, opts, c));
      return { loss: result, grad: arrays.grad ? out.grad : null };
    },
  };
}

/** Odd lengths and SIMD tails, around 4 lanes and around the 1024-element accumulation block. */
const ODD_LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 1023, 1025];

/** `count` weights in [0.25, 3], one of them 0 (a class that counts for nothing). */
const someWeights = (rng, count) => Array.from({ length: count }, (_, k) => (k === 1 ? 0 : 0.25 + 2.75 * rng()));

/** The smoothing options of a case's `smooth: [nr, dr]`. */
const smoothOptions = (c) => (c.smooth ? { smoothNr: c.smooth[0], smoothDr: c.smooth[1] } : {});

/** Copies the fields `keys` of case `c` that are defined into an options object. */
function pass(c, keys) {
  const o = {};
  for (const key of keys) if (c[key] !== undefined) o[key] = c[key];
  return o;
}

/**
 * The options of the region losses (diceLoss, tverskyLoss, generalizedDiceLoss, diceBceLoss, diceStats,
 * lossFromStats) that a case sets: flags, per-class weights (drawn from `rng`), smoothing, reduction.
 */
function regionOptions(c, rng) {
  const o = {};
  if (c.includeBackground === false) o.includeBackground = false;
  for (const key of ['squared', 'jaccard', 'batch', 'softLabel']) if (c[key]) o[key] = true;
  if (c.transform !== undefined && c.transform !== 'none') o.transform = c.transform;
  if (c.weight) o.weight = someWeights(rng, c.shape[1] - (c.includeBackground === false ? 1 : 0));
  Object.assign(o, smoothOptions(c));
  if (c.reduction !== undefined) o.reduction = c.reduction;
  return o;
}

// ---------------------------------------------------------------------------------------------------
// diceLoss

/** Short, unique, readable description of a dice case (the data's seed is derived from it). */
function diceName(c) {
  const parts = [c.activation, c.target];
  if (c.ignore) parts.push('ignore');
  if (c.mask !== 'none') parts.push(`mask-${c.mask}`);
  if (!c.includeBackground) parts.push('nobg');
  if (c.squared) parts.push('sq');
  if (c.jaccard) parts.push('jac');
  if (c.transform !== 'none') parts.push(c.transform);
  if (c.softLabel) parts.push('soft');
  if (c.batch) parts.push('batch');
  if (c.weight) parts.push('w');
  if (c.smooth) parts.push(`smooth(${c.smooth.join(',')})`);
  if (c.values !== 'random') parts.push(c.values);
  parts.push(c.reduction);
  if (!c.grad) parts.push('nograd');
  return `${c.tag ? `${c.tag}.` : ''}${parts.join('.')}.[${c.shape.join(',')}]`;
}

const DICE_DEFAULTS = {
  includeBackground: true, squared: false, jaccard: false, transform: 'none', softLabel: false, batch: false,
  weight: false, smooth: null, reduction: 'mean',
};

/** The fixed list of dice cases: one axis at a time, then edge values, sizes, and a seeded mix. */
function diceSpecs() {
  const cases = [];
  const add = (spec) => cases.push(spec);
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
    add({ activation, transform: 'log' });
    add({ activation, transform: 'logcosh' });
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
  // Soft labels (Σ min(p, g) as the intersection): soft f32 targets, with and without an activation.
  add({ activation: 'none', softLabel: true });
  add({ activation: 'sigmoid', softLabel: true, batch: true, transform: 'log' });
  add({ activation: 'softmax', softLabel: true, jaccard: true });
  // Edge values: extreme logits and probabilities, inputs outside [0, 1], empty entries (0/0 → 0).
  add({ activation: 'sigmoid', values: 'extreme', shape: [1, 2, 67] });
  add({ activation: 'softmax', values: 'extreme', shape: [2, 3, 41], target: 'idx-u8' });
  add({ activation: 'none', values: 'extreme', shape: [1, 2, 33], squared: true });
  add({ activation: 'none', values: 'unbounded', shape: [1, 3, 29] });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], reduction: 'none' });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19] });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], jaccard: true, batch: true });
  add({ activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], transform: 'log' });
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

const diceSuite = suite({
  fn: 'diceLoss', defaults: DICE_DEFAULTS, specs: diceSpecs(), name: diceName,
  options: regionOptions,
  call: (s, a, o) => s.diceLoss(a.input, a.target, withArrays(o, a)),
});

// ---------------------------------------------------------------------------------------------------
// tverskyLoss, generalizedDiceLoss

const tverskySuite = suite({
  fn: 'tverskyLoss',
  defaults: {
    activation: 'sigmoid', alpha: undefined, beta: undefined, gamma: undefined, includeBackground: true,
    softLabel: false, batch: false, weight: false, smooth: null, reduction: 'mean',
  },
  specs: [
    {}, { activation: 'none' }, { activation: 'none', target: 'u8' },
    { activation: 'softmax', target: 'idx-u8', ignore: true }, { activation: 'softmax', target: 'idx-i32' },
    { alpha: 0.3, beta: 0.7 }, { alpha: 1, beta: 1 }, { alpha: 0, beta: 2.5 }, { alpha: 0.7, beta: 0.3, activation: 'softmax', target: 'idx-u16' },
    { gamma: 0.75 }, { gamma: 2, alpha: 0.3, beta: 0.7 }, { gamma: 0.75, activation: 'softmax', target: 'idx-u8' },
    { batch: true }, { batch: true, reduction: 'none' }, { includeBackground: false, activation: 'softmax', target: 'idx-u8' },
    { weight: true }, { softLabel: true }, { smooth: [0.5, 1] }, { mask: 'pixel' }, { mask: 'element', target: 'u8' },
    { reduction: 'sum' }, { reduction: 'none' }, { grad: false },
    { values: 'extreme', shape: [1, 2, 67], gamma: 0.75 }, { values: 'extreme', activation: 'none', shape: [1, 2, 33] },
    { values: 'empty', activation: 'none', smooth: [0, 0], shape: [3, 2, 19], reduction: 'none' },
    { values: 'empty', activation: 'none', smooth: [0, 0], shape: [3, 2, 19], gamma: 0.75 },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], target: L % 2 ? 'f32' : 'u8' })),
    { tag: 'big', shape: [2, 2, 16411], target: 'u8', gamma: 0.75, mask: 'pixel' },
  ],
  options: (c, rng) => ({ ...regionOptions(c, rng), ...pass(c, ['alpha', 'beta', 'gamma']) }),
  call: (s, a, o) => s.tverskyLoss(a.input, a.target, withArrays(o, a)),
});

const generalizedDiceSuite = suite({
  fn: 'generalizedDiceLoss',
  defaults: {
    activation: 'softmax', target: 'idx-u8', weightType: undefined, includeBackground: true, softLabel: false,
    batch: false, smooth: null, reduction: 'mean',
  },
  specs: [
    ...['square', 'simple', 'uniform'].flatMap((weightType) => [
      { weightType }, { weightType, activation: 'sigmoid', target: 'f32' }, { weightType, activation: 'none', target: 'u8' },
      // Empty classes: the class takes the largest finite weight of its sample (of the batch with `batch`).
      { weightType, activation: 'none', target: 'f32', values: 'empty', shape: [3, 3, 19] },
      { weightType, activation: 'none', target: 'f32', values: 'empty', shape: [3, 3, 19], batch: true },
    ]),
    { ignore: true }, { target: 'idx-i32', ignore: true, mask: 'pixel' }, { target: 'idx-u16' },
    { batch: true }, { batch: true, reduction: 'none' }, { includeBackground: false }, { softLabel: true, target: 'f32' },
    { smooth: [0.5, 1] }, { activation: 'sigmoid', target: 'u8', mask: 'element' },
    { reduction: 'sum' }, { reduction: 'none' }, { grad: false },
    { values: 'extreme', shape: [2, 3, 41] }, { values: 'empty', activation: 'none', target: 'f32', smooth: [0, 0], shape: [3, 2, 19] },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 2, L] })),
    { tag: 'big', shape: [2, 3, 11001], ignore: true, mask: 'pixel' },
  ],
  options: (c, rng) => ({ ...regionOptions(c, rng), ...pass(c, ['weightType']) }),
  call: (s, a, o) => s.generalizedDiceLoss(a.input, a.target, withArrays(o, a)),
});

// ---------------------------------------------------------------------------------------------------
// diceStats; mergeStats + lossFromStats + a loss with `stats` (the data-parallel pattern)

const statsSuite = suite({
  fn: 'diceStats',
  defaults: { activation: 'sigmoid', squared: false, softLabel: false, batch: false, grad: false },
  specs: [
    {}, { activation: 'none' }, { activation: 'none', target: 'u8' }, { activation: 'softmax', target: 'idx-u8' },
    { activation: 'softmax', target: 'idx-i32', ignore: true }, { activation: 'sigmoid', target: 'idx-u16', ignore: true },
    { squared: true }, { softLabel: true }, { batch: true }, { batch: true, squared: true, activation: 'softmax', target: 'idx-u8' },
    { mask: 'pixel' }, { mask: 'element' }, { values: 'extreme', shape: [1, 2, 67] }, { values: 'unbounded', activation: 'none' },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L] })),
    { tag: 'big', shape: [2, 3, 11001], activation: 'softmax', target: 'idx-u8', mask: 'pixel' },
  ],
  options: regionOptions,
  call: (s, a, o) => s.diceStats(a.input, a.target, withArrays(o, a)),
});

/** The loss function that takes `stats` for each `lossFromStats` kind. */
const STATS_LOSSES = { dice: 'diceLoss', tversky: 'tverskyLoss', generalizedDice: 'generalizedDiceLoss' };

const lossFromStatsSuite = suite({
  fn: 'lossFromStats',
  defaults: {
    activation: 'sigmoid', loss: 'dice', batch: true, squared: false, jaccard: false, alpha: undefined, beta: undefined,
    gamma: undefined, weightType: undefined, includeBackground: true, smooth: null, reduction: 'mean',
  },
  specs: [
    {}, { batch: false }, { squared: true }, { jaccard: true }, { reduction: 'none' }, { reduction: 'sum' },
    { activation: 'softmax', target: 'idx-u8', ignore: true, includeBackground: false },
    { loss: 'tversky', alpha: 0.3, beta: 0.7, gamma: 0.75 }, { loss: 'tversky', batch: false, reduction: 'none' },
    { loss: 'generalizedDice', activation: 'softmax', target: 'idx-u8' }, { loss: 'generalizedDice', weightType: 'simple', batch: false },
    { loss: 'generalizedDice', weightType: 'uniform', activation: 'none', values: 'empty', shape: [3, 3, 19] },
    { activation: 'none', values: 'empty', smooth: [0, 0], shape: [3, 2, 19], batch: false, reduction: 'none' },
    { mask: 'pixel', smooth: [1, 1] }, { tag: 'big', shape: [2, 2, 16411] },
  ],
  options: (c, rng) => ({ ...regionOptions(c, rng), ...pass(c, ['alpha', 'beta', 'gamma', 'weightType']) }),
  // Two shards: the case's data, and the same arrays each rotated by a third of its length (another,
  // equally valid shard of the same rows). Each shard's sums, merged; the loss of the merged sums; then
  // the first shard's part of the gradient from the merged sums (options.stats) and the loss it returns.
  call: (s, a, o, c) => {
    // diceStats ignores the loss options (reduction, jaccard, alpha, …); lossFromStats ignores the layout ones.
    const rotated = (arg) => { // a JS copy, whatever the placement
      const v = ArrayBuffer.isView(arg) ? arg : arg.view;
      const k = 1 + Math.floor(v.length / 3);
      const out = new v.constructor(v.length);
      out.set(v.subarray(k));
      out.set(v.subarray(0, k), v.length - k);
      return out;
    };
    const merged = s.mergeStats(
      s.diceStats(a.input, a.target, { ...o, ...(a.mask && { mask: a.mask }) }),
      s.diceStats(rotated(a.input), rotated(a.target), { ...o, ...(a.mask && { mask: rotated(a.mask) }) }),
    );
    const fromStats = s.lossFromStats(merged, { ...o, loss: c.loss });
    const withStats = s[STATS_LOSSES[c.loss]](a.input, a.target, withArrays({ ...o, stats: merged }, a));
    return { merged, fromStats, withStats };
  },
});

// ---------------------------------------------------------------------------------------------------
// bceLoss, focalLoss, diceBceLoss, diceFocalLoss, crispEdgeLoss, diceCeLoss

/** Logits for the pixel losses' extreme cases: up to ±1e30 (bceLoss: finite while |x|·weight stays in float32 range). */
const PIXEL_EXTREME_LOGITS = EXTREME_LOGITS.filter((x) => Math.abs(x) <= 1e30);

const bceSuite = suite({
  fn: 'bceLoss',
  defaults: {
    activation: 'sigmoid', target: 'u8', shape: [2, 1, 37], balance: 'none', posWeight: undefined, labelSmoothing: undefined,
    rcfLambda: undefined, rcfEta: undefined, reduction: 'mean', extremeLogits: PIXEL_EXTREME_LOGITS,
  },
  specs: [
    ...['none', 'sigmoid'].flatMap((activation) => ['f32', 'u8'].flatMap((target) =>
      ['none', 'hed', 'rcf'].map((balance) => ({ activation, target, balance })))),
    { posWeight: 2.5 }, { posWeight: 0, activation: 'none', target: 'f32' }, { posWeight: 3, balance: 'hed' },
    { labelSmoothing: 0.1 }, { labelSmoothing: 0.2, activation: 'none', target: 'f32' }, { labelSmoothing: 0.1, balance: 'hed' },
    { balance: 'rcf', target: 'f32', rcfLambda: 0.7, rcfEta: 0.3 }, { balance: 'rcf', target: 'f32', rcfEta: 0.8, activation: 'none' },
    { balance: 'rcf', target: 'f32', labelSmoothing: 0.1, posWeight: 2 },
    { shape: [2, 3, 37], mask: 'pixel', balance: 'hed' }, { shape: [2, 3, 37], mask: 'element', activation: 'none' },
    { shape: [2, 3, 37], mask: 'element', balance: 'rcf', target: 'f32' },
    { reduction: 'sum' }, { reduction: 'sum', activation: 'none', balance: 'hed' },
    { reduction: 'none' }, { reduction: 'none', activation: 'none', target: 'f32', balance: 'rcf' }, { grad: false },
    { values: 'extreme', shape: [1, 1, 67] }, { values: 'extreme', shape: [1, 1, 67], balance: 'hed', target: 'f32' },
    { values: 'extreme', activation: 'none', shape: [1, 1, 33] }, { values: 'extreme', activation: 'none', shape: [1, 1, 33], target: 'f32', reduction: 'none' },
    { values: 'empty', shape: [3, 2, 19], balance: 'hed' }, { values: 'empty', shape: [3, 2, 19], balance: 'rcf', activation: 'none' },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], activation: L % 3 ? 'sigmoid' : 'none', balance: L % 2 ? 'hed' : 'none' })),
    { tag: 'big', shape: [1, 1, 40009], balance: 'hed' },
    { tag: 'big', shape: [2, 2, 16411], target: 'f32', balance: 'rcf', mask: 'element' },
    { tag: 'big', shape: [40, 1, 1000], activation: 'none', posWeight: 2 },
  ],
  options: (c) => ({ ...pass(c, ['posWeight', 'labelSmoothing', 'rcfLambda', 'rcfEta', 'reduction']), ...(c.balance !== 'none' && { balance: c.balance }) }),
  call: (s, a, o) => s.bceLoss(a.input, a.target, withArrays(o, a)),
});

const focalSuite = suite({
  fn: 'focalLoss',
  defaults: {
    activation: 'sigmoid', target: 'u8', shape: [2, 1, 37], alpha: undefined, gamma: undefined, weight: false, reduction: 'mean',
    extremeLogits: PIXEL_EXTREME_LOGITS,
  },
  specs: [
    // Binary and multi-label forms.
    ...['none', 'sigmoid'].flatMap((activation) => ['f32', 'u8'].map((target) => ({ activation, target }))),
    { alpha: null }, { alpha: 0.75, activation: 'none', target: 'f32' }, { alpha: 0 },
    { gamma: 0 }, { gamma: 0.5, activation: 'none' }, { gamma: 3.5, target: 'f32' }, { gamma: 1, alpha: null, activation: 'none', target: 'f32' },
    { shape: [2, 3, 37], mask: 'pixel' }, { shape: [2, 3, 37], mask: 'element', activation: 'none' },
    { reduction: 'sum' }, { reduction: 'none' }, { reduction: 'none', activation: 'none', target: 'f32' }, { grad: false },
    { values: 'extreme', shape: [1, 1, 67] }, { values: 'extreme', shape: [1, 1, 67], gamma: 0.5, target: 'f32' },
    { values: 'extreme', activation: 'none', shape: [1, 1, 33] }, { values: 'extreme', activation: 'none', shape: [1, 1, 33], gamma: 0 },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], activation: L % 3 ? 'sigmoid' : 'none' })),
    { tag: 'big', shape: [1, 1, 40009], target: 'f32' },
    // The softmax (multi-class) form: class-id targets, per-class weights, ignoreIndex.
    ...['idx-u8', 'idx-u16', 'idx-i32'].flatMap((target) => [
      { activation: 'softmax', target, shape: [2, 3, 37] }, { activation: 'softmax', target, ignore: true, shape: [2, 3, 37] }]),
    { activation: 'softmax', target: 'idx-u8', shape: [2, 4, 29], weight: true }, { activation: 'softmax', target: 'idx-u8', shape: [2, 2, 37], gamma: 0 },
    { activation: 'softmax', target: 'idx-u16', shape: [2, 3, 37], gamma: 1.5, mask: 'pixel' },
    { activation: 'softmax', target: 'idx-u8', shape: [2, 3, 37], reduction: 'sum' },
    { activation: 'softmax', target: 'idx-i32', shape: [2, 3, 37], ignore: true, reduction: 'none' },
    { activation: 'softmax', target: 'idx-u8', shape: [2, 3, 37], grad: false },
    { activation: 'softmax', target: 'idx-u8', shape: [2, 3, 41], values: 'extreme' },
    { activation: 'softmax', target: 'idx-u8', shape: [2, 5, 3, 7, 5], mask: 'pixel', weight: true }, // 3-D spatial
    ...[1, 3, 4, 5, 17, 1025].map((L) => ({ activation: 'softmax', target: 'idx-u16', shape: [1, 3, L] })),
    { tag: 'big', activation: 'softmax', target: 'idx-u8', shape: [2, 3, 11001], ignore: true, mask: 'pixel' },
  ],
  options: (c, rng) => ({
    ...pass(c, ['alpha', 'gamma', 'reduction']),
    ...(c.weight && { weight: someWeights(rng, c.shape[1]) }),
  }),
  call: (s, a, o) => s.focalLoss(a.input, a.target, withArrays(o, a)),
});

const diceBceSuite = suite({
  fn: 'diceBceLoss',
  defaults: {
    activation: 'sigmoid', target: 'u8', shape: [2, 1, 37], lambdaDice: undefined, lambdaBce: undefined, balance: 'none',
    posWeight: undefined, includeBackground: true, squared: false, jaccard: false, transform: 'none', batch: false, weight: false,
    smooth: null, reduction: 'mean', extremeLogits: PIXEL_EXTREME_LOGITS,
  },
  specs: [
    ...['f32', 'u8'].flatMap((target) => ['none', 'hed'].map((balance) => ({ target, balance }))),
    { lambdaDice: 0.3, lambdaBce: 1.7 }, { lambdaDice: 0 }, { lambdaBce: 0, balance: 'hed' }, { posWeight: 3 }, { posWeight: 2, balance: 'hed', target: 'f32' },
    { squared: true }, { jaccard: true }, { transform: 'log' }, { transform: 'logcosh', balance: 'hed' }, { batch: true }, { smooth: [1, 1] },
    { shape: [2, 3, 37], weight: true }, { shape: [2, 3, 37], includeBackground: false, balance: 'hed' },
    { shape: [2, 3, 37], mask: 'pixel' }, { shape: [2, 3, 37], mask: 'element', balance: 'hed', batch: true },
    { reduction: 'sum' }, { reduction: 'sum', shape: [2, 3, 37], balance: 'hed', jaccard: true }, { grad: false },
    { values: 'extreme', shape: [1, 1, 67] }, { values: 'extreme', shape: [1, 2, 67], balance: 'hed', target: 'f32', squared: true },
    { values: 'empty', shape: [3, 2, 19], smooth: [0, 0] }, { values: 'empty', shape: [3, 2, 19], smooth: [0, 0], balance: 'hed', batch: true },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], balance: L % 2 ? 'hed' : 'none' })),
    { tag: 'big', shape: [1, 1, 40009], balance: 'hed' },
    { tag: 'big', shape: [2, 2, 16411], target: 'f32', mask: 'element', batch: true },
    { tag: 'big', shape: [40, 1, 1000], reduction: 'sum' },
  ],
  options: (c, rng) => ({
    ...regionOptions(c, rng), ...pass(c, ['lambdaDice', 'lambdaBce', 'posWeight']), ...(c.balance !== 'none' && { balance: c.balance }),
  }),
  call: (s, a, o) => s.diceBceLoss(a.input, a.target, withArrays(o, a)),
});

/** The Dice options of the binary fused losses, as `diceBceSuite` has them (no activation, target or softLabel choice). */
const FUSED_DICE_DEFAULTS = {
  activation: 'sigmoid', target: 'u8', shape: [2, 1, 37], includeBackground: true, squared: false, jaccard: false,
  transform: 'none', batch: false, weight: false, smooth: null, reduction: 'mean', extremeLogits: PIXEL_EXTREME_LOGITS,
};

const diceFocalSuite = suite({
  fn: 'diceFocalLoss',
  defaults: { ...FUSED_DICE_DEFAULTS, lambdaDice: undefined, lambdaFocal: undefined, alpha: undefined, gamma: undefined },
  specs: [
    {}, { target: 'f32' },
    { alpha: null }, { alpha: 0.75, target: 'f32' }, { alpha: 0 }, { gamma: 0 }, { gamma: 0.5 }, { gamma: 3.5, alpha: null, target: 'f32' },
    { lambdaDice: 0.3, lambdaFocal: 1.7 }, { lambdaDice: 0 }, { lambdaFocal: 0, jaccard: true },
    { squared: true }, { jaccard: true }, { transform: 'log' }, { transform: 'logcosh', gamma: 1 }, { batch: true }, { smooth: [1, 1] },
    { shape: [2, 3, 37], weight: true }, { shape: [2, 3, 37], includeBackground: false },
    { shape: [2, 3, 37], mask: 'pixel' }, { shape: [2, 3, 37], mask: 'element', batch: true, gamma: 0.5 },
    { reduction: 'sum' }, { reduction: 'sum', shape: [2, 3, 37], squared: true }, { grad: false },
    { values: 'extreme', shape: [1, 1, 67] }, { values: 'extreme', shape: [1, 2, 67], target: 'f32', gamma: 0.5, alpha: null },
    { values: 'empty', shape: [3, 2, 19], smooth: [0, 0] }, { values: 'empty', shape: [3, 2, 19], smooth: [0, 0], batch: true, gamma: 0 },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], target: L % 2 ? 'u8' : 'f32' })),
    { tag: 'big', shape: [1, 1, 40009], target: 'f32' },
    { tag: 'big', shape: [2, 2, 16411], mask: 'element', batch: true },
  ],
  options: (c, rng) => ({ ...regionOptions(c, rng), ...pass(c, ['lambdaDice', 'lambdaFocal', 'alpha', 'gamma']) }),
  call: (s, a, o) => s.diceFocalLoss(a.input, a.target, withArrays(o, a)),
});

const crispEdgeSuite = suite({
  fn: 'crispEdgeLoss',
  defaults: {
    ...FUSED_DICE_DEFAULTS, alpha: undefined, beta: undefined, balance: undefined, posWeight: undefined, labelSmoothing: undefined,
    rcfLambda: undefined, rcfEta: undefined,
  },
  specs: [
    {}, { target: 'f32' }, { values: 'sparse' }, { values: 'sparse', target: 'f32' },
    { balance: 'none' }, { balance: 'rcf', target: 'f32' }, { balance: 'rcf', target: 'f32', rcfLambda: 0.7, rcfEta: 0.3 },
    { alpha: 0.3, beta: 2 }, { alpha: 0 }, { beta: 0 }, { posWeight: 2 }, { labelSmoothing: 0.1 }, { labelSmoothing: 0.2, balance: 'none' },
    { smooth: [1e-6, 0] }, { smooth: [2, 0.5] }, { batch: true }, { batch: true, balance: 'rcf', target: 'f32', values: 'sparse' },
    { shape: [2, 3, 37], weight: true }, { shape: [2, 3, 37], includeBackground: false },
    { shape: [2, 3, 37], mask: 'pixel' }, { shape: [2, 3, 37], mask: 'element', balance: 'none' },
    { reduction: 'sum' }, { reduction: 'sum', balance: 'rcf', target: 'f32' }, { grad: false },
    { values: 'extreme', shape: [1, 1, 67] }, { values: 'extreme', shape: [1, 2, 67], target: 'f32', balance: 'none' },
    // Images without edges: the default smoothing (1, 1) keeps the Dice term finite.
    { values: 'empty', shape: [3, 2, 19] }, { values: 'empty', shape: [3, 2, 19], batch: true, balance: 'none' },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 1, L], target: L % 2 ? 'u8' : 'f32' })),
    { tag: 'big', shape: [1, 1, 40009], values: 'sparse' },
    { tag: 'big', shape: [2, 2, 16411], target: 'f32', mask: 'element', balance: 'rcf' },
  ],
  options: (c, rng) => ({
    ...regionOptions(c, rng), ...pass(c, ['alpha', 'beta', 'balance', 'posWeight', 'labelSmoothing', 'rcfLambda', 'rcfEta']),
  }),
  call: (s, a, o) => s.crispEdgeLoss(a.input, a.target, withArrays(o, a)),
});

const diceCeSuite = suite({
  fn: 'diceCeLoss',
  defaults: {
    activation: 'softmax', target: 'idx-u8', shape: [2, 3, 37], lambdaDice: undefined, lambdaCe: undefined, ceWeight: false,
    includeBackground: true, squared: false, jaccard: false, transform: 'none', batch: false, weight: false, smooth: null, reduction: 'mean',
  },
  specs: [
    ...['idx-u8', 'idx-u16', 'idx-i32'].flatMap((target) => [{ target }, { target, ignore: true }]),
    { lambdaDice: 0.3, lambdaCe: 1.7 }, { lambdaDice: 0 }, { lambdaCe: 0, ignore: true },
    { ceWeight: true }, { ceWeight: true, ignore: true, reduction: 'sum' }, { ceWeight: true, weight: true, includeBackground: false },
    { weight: true }, { includeBackground: false }, { squared: true }, { jaccard: true }, { transform: 'log' }, { transform: 'logcosh' },
    { batch: true }, { batch: true, target: 'idx-i32', ignore: true, mask: 'pixel' }, { smooth: [0.5, 1] },
    { mask: 'pixel' }, { mask: 'pixel', target: 'idx-u16', ignore: true, ceWeight: true },
    { reduction: 'sum' }, { grad: false }, { grad: false, ignore: true, ceWeight: true },
    { shape: [2, 2, 37] }, { shape: [2, 5, 3], smooth: [0, 0] }, // 15 pixels, 5 classes: absent classes
    { values: 'extreme', shape: [2, 3, 41] }, { values: 'extreme', shape: [2, 3, 41], ignore: true, batch: true },
    { shape: [2, 3, 3, 7, 5], mask: 'pixel', ceWeight: true }, // 3-D spatial
    ...[1, 3, 4, 5, 17, 1025].map((L) => ({ target: 'idx-u16', shape: [1, 3, L] })),
    { tag: 'big', shape: [2, 3, 11001], ignore: true, mask: 'pixel' },
  ],
  options: (c, rng) => ({
    ...regionOptions(c, rng), ...pass(c, ['lambdaDice', 'lambdaCe']), ...(c.ceWeight && { ceWeight: someWeights(rng, c.shape[1]) }),
  }),
  call: (s, a, o) => s.diceCeLoss(a.input, a.target, withArrays(o, a)),
});

// ---------------------------------------------------------------------------------------------------
// confusion and the scores

const confusionSuite = suite({
  fn: 'confusion',
  defaults: { activation: 'sigmoid', target: 'u8', threshold: undefined, includeBackground: true, batch: false, grad: false },
  specs: [
    ...['none', 'sigmoid'].flatMap((activation) => TARGETS.map((target) => ({ activation, target }))),
    ...['idx-u8', 'idx-u16', 'idx-i32'].flatMap((target) => [{ activation: 'softmax', target }, { activation: 'softmax', target, ignore: true }]),
    { activation: 'softmax', target: 'f32' }, { activation: 'sigmoid', target: 'idx-u8', ignore: true },
    ...[0, 0.3, 0.9, 1].flatMap((threshold) => [{ threshold }, { threshold, activation: 'none', target: 'f32' }]),
    { threshold: 1e-30 }, { threshold: 0.9999999 }, // logit cut-offs far out in the tails
    { mask: 'pixel' }, { mask: 'element', activation: 'none' }, { mask: 'pixel', activation: 'softmax', target: 'idx-u8' },
    { includeBackground: false }, { includeBackground: false, activation: 'softmax', target: 'idx-u16', ignore: true },
    { batch: true }, { batch: true, activation: 'softmax', target: 'idx-u8', mask: 'pixel' },
    { values: 'extreme', shape: [1, 2, 67] }, { values: 'extreme', activation: 'none', shape: [1, 2, 33], threshold: 0 },
    { values: 'extreme', activation: 'softmax', target: 'idx-u8', shape: [2, 3, 41] },
    { values: 'empty', activation: 'none', target: 'f32', shape: [3, 2, 19] },
    ...ODD_LENGTHS.map((L) => ({ shape: [1, 2, L], activation: L % 3 ? 'sigmoid' : 'softmax', target: L % 2 ? 'u8' : 'idx-u8' })),
    { activation: 'softmax', target: 'idx-i32', shape: [2, 5, 3, 7, 5], mask: 'pixel' }, // 3-D spatial
    { tag: 'big', shape: [2, 2, 16411], mask: 'element', threshold: 0.3 },
    { tag: 'big', activation: 'softmax', target: 'idx-u8', shape: [2, 3, 11001], ignore: true },
  ],
  options: (c) => ({ ...pass(c, ['threshold']), ...(c.includeBackground === false && { includeBackground: false }), ...(c.batch && { batch: true }) }),
  call: (s, a, o) => s.confusion(a.input, a.target, withArrays(o, a)),
});

/** The score functions; fbetaScore also takes `beta`. */
const SCORES = ['diceScore', 'iouScore', 'precision', 'recall', 'fbetaScore'];

/**
 * A score's suite: every `average` × every `empty` on counts from `confusion` of data with empty
 * entries (sample 0 and channel 0 neither predicted nor labelled), then the score called directly on
 * arrays with layout options.
 */
function scoreSuite(fn) {
  const averages = ['micro', 'macro', 'samples', 'none'];
  const empties = ['nan', 'one', 'zero', 'skip'];
  const betas = fn === 'fbetaScore' ? [undefined, 0.5, 2] : [undefined];
  return suite({
    fn,
    defaults: {
      activation: 'none', target: 'u8', shape: [3, 3, 19], values: 'empty', grad: false, from: 'counts',
      average: undefined, empty: undefined, beta: undefined, threshold: undefined, includeBackground: true, batch: false,
    },
    specs: [
      ...betas.flatMap((beta) => averages.flatMap((average) => empties.map((empty) => ({ beta, average, empty })))),
      { from: 'arrays' }, { from: 'arrays', activation: 'sigmoid', values: 'random', average: 'none', beta: betas[betas.length - 1] },
      { from: 'arrays', activation: 'softmax', target: 'idx-u8', ignore: true, values: 'random', average: 'micro', mask: 'pixel' },
      { from: 'arrays', threshold: 0.7, includeBackground: false, batch: true, average: 'none', empty: 'one' },
    ],
    options: (c) => ({
      ...pass(c, ['average', 'empty', 'beta', 'threshold']),
      ...(c.includeBackground === false && { includeBackground: false }), ...(c.batch && { batch: true }),
    }),
    call: (s, a, o, c) => {
      if (c.from === 'arrays') return s[fn](a.input, a.target, withArrays(o, a));
      const { average, empty, beta, ...layout } = o;
      const counts = s.confusion(a.input, a.target, withArrays(layout, a));
      return s[fn](counts, { ...(average && { average }), ...(empty && { empty }), ...(beta && { beta }) });
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// distanceTransform, signedDistance, boundaryLoss, hausdorffDTLoss

// The transforms take one array of `[N, ...spatial]` maps: the case's dense target (its `shape` read as
// `[N, ...spatial]`: layoutData only needs the element count), u8 (set where nonzero) or f32 (set where
// > 0.5). With `out`, the case's grad array (placed like the others) receives the result, and the returned
// array is hashed too. 'empty' values leave map 0 (and the first row of every map) unset.

/** The specs both transforms share: kinds of mask, 1- to 3-D, spacings, empty maps, `out`, sizes. */
const MAP_SPECS = [
  {}, { target: 'f32' }, { values: 'sparse' }, { values: 'sparse', target: 'f32' },
  { values: 'sparse', shape: [3, 50] }, { values: 'sparse', shape: [2, 4, 5, 6] }, { target: 'f32', shape: [2, 4, 5, 6] },
  { values: 'sparse', spacing: [0.5, 2] }, { values: 'sparse', spacing: [1e-3, 1e3] }, { values: 'sparse', shape: [3, 50], spacing: [3] },
  { values: 'sparse', shape: [2, 4, 5, 6], spacing: [2, 1, 0.75] },
  { values: 'empty' }, { values: 'empty', shape: [2, 4, 5, 6], target: 'f32' },
  { out: true, grad: true, values: 'sparse' }, { out: true, grad: true, values: 'empty', shape: [2, 4, 5, 6], spacing: [0.5, 1, 1] },
  { shape: [1, 1] }, { shape: [1, 1, 1, 1], target: 'f32' }, { shape: [1, 1, 17] }, { shape: [1, 17, 1], target: 'f32' },
  { values: 'sparse', shape: [1, 33, 31] }, { values: 'sparse', shape: [1, 1025] },
  { tag: 'big', values: 'sparse', shape: [2, 96, 128] }, { tag: 'big', values: 'sparse', shape: [1, 20, 24, 28], spacing: [2.5, 1, 1] },
];

const MAP_DEFAULTS = { activation: 'none', target: 'u8', shape: [2, 9, 13], grad: false, spacing: undefined, out: false };

/** A transform's call: mask = the case's target, `out` = its grad array with `out`; returns the result (and the copy returned). */
function mapCall(fn) {
  return (s, a, o, c) => {
    const result = s[fn](a.target, { ...o, ...(c.out && { out: a.grad }) });
    return c.out ? { returned: result.slice() } : result;
  };
}

const distanceTransformSuite = suite({
  fn: 'distanceTransform',
  defaults: { ...MAP_DEFAULTS, empty: undefined },
  specs: [
    ...MAP_SPECS,
    { values: 'empty', empty: 0 }, { values: 'empty', empty: 2.5, target: 'f32' }, { values: 'empty', empty: 1e30, shape: [3, 50] },
    { out: true, grad: true, values: 'empty', empty: 7 },
  ],
  options: (c) => pass(c, ['spacing', 'empty']),
  call: mapCall('distanceTransform'),
});

const signedDistanceSuite = suite({
  fn: 'signedDistance',
  defaults: MAP_DEFAULTS,
  specs: MAP_SPECS,
  options: (c) => pass(c, ['spacing']),
  call: mapCall('signedDistance'),
});

/** The specs both distance losses share: activations, targets, reductions, geometry, edge values, sizes. */
const DISTANCE_LOSS_SPECS = [
  {}, { target: 'f32' }, { values: 'sparse' }, { values: 'sparse', target: 'f32' },
  { activation: 'sigmoid' }, { activation: 'sigmoid', values: 'sparse', target: 'f32' },
  { activation: 'softmax' }, { activation: 'softmax', includeBackground: false }, { activation: 'softmax', shape: [2, 3, 9, 11], values: 'sparse' },
  { includeBackground: false }, { includeBackground: false, reduction: 'sum' },
  { reduction: 'sum' }, { reduction: 'none' }, { reduction: 'none', activation: 'sigmoid', values: 'sparse' }, { grad: false },
  { spacing: [0.5, 2] }, { spacing: [1.5, 0.25], activation: 'sigmoid', values: 'sparse' },
  { shape: [2, 2, 40] }, { shape: [2, 2, 40], spacing: [0.5], activation: 'sigmoid' }, // 1-D
  { shape: [1, 2, 4, 5, 6], values: 'sparse' }, { shape: [1, 2, 4, 5, 6], spacing: [2, 1, 0.5], activation: 'softmax' }, // 3-D
  { values: 'empty', shape: [3, 2, 9, 11] }, { values: 'empty', shape: [3, 2, 9, 11], activation: 'sigmoid', reduction: 'sum' },
  { values: 'extreme', shape: [1, 2, 9, 11] }, { values: 'extreme', shape: [1, 2, 9, 11], activation: 'sigmoid' },
  { values: 'extreme', shape: [1, 3, 9, 11], activation: 'softmax' },
  ...[1, 2, 3, 4, 5, 7, 8, 9, 17].map((L) => ({ shape: [1, 1, 1, L], activation: L % 2 ? 'sigmoid' : 'none' })),
  { shape: [1, 1, 1025], values: 'sparse' },
  { tag: 'big', shape: [2, 2, 64, 96], values: 'sparse', activation: 'sigmoid' },
];

const DISTANCE_LOSS_DEFAULTS = { activation: 'none', target: 'u8', shape: [2, 2, 9, 11], includeBackground: true, reduction: 'mean', spacing: undefined };

/** Options of a distance loss case (activation and shape come with the layout options). */
const distanceLossOptions = (c) => ({ ...pass(c, ['reduction', 'spacing', 'alpha']), ...(c.includeBackground === false && { includeBackground: false }) });

const boundaryLossSuite = suite({
  fn: 'boundaryLoss',
  defaults: { ...DISTANCE_LOSS_DEFAULTS, distances: 'none' },
  specs: [
    ...DISTANCE_LOSS_SPECS,
    // Precomputed φ_G: signedDistance of each target map, with target null or passed anyway (checked, not used).
    { distances: 'null-target' }, { distances: 'null-target', activation: 'softmax', values: 'sparse', reduction: 'sum' },
    { distances: 'with-target', activation: 'sigmoid', spacing: [0.5, 2], values: 'sparse' },
    { distances: 'null-target', shape: [1, 2, 4, 5, 6], reduction: 'none' },
  ],
  options: distanceLossOptions,
  call: (s, a, o, c) => {
    if (c.distances === 'none') return s.boundaryLoss(a.input, a.target, withArrays(o, a));
    // φ_G by signedDistance, into a JS array. Its temporary blocks are small: were they ever to grow Wasm
    // memory, the placed views of 'wasm-offset' would be detached and the run would fail loudly (not differ).
    const [N, C, ...spatial] = o.shape;
    const distances = s.signedDistance(a.target, { shape: [N * C, ...spatial], ...(o.spacing && { spacing: o.spacing }) });
    return s.boundaryLoss(a.input, c.distances === 'null-target' ? null : a.target, withArrays({ ...o, distances }, a));
  },
});

const hausdorffSuite = suite({
  fn: 'hausdorffDTLoss',
  defaults: { ...DISTANCE_LOSS_DEFAULTS, alpha: undefined },
  specs: [
    ...DISTANCE_LOSS_SPECS,
    { alpha: 1 }, { alpha: 0.5, values: 'sparse' }, { alpha: 3, activation: 'sigmoid' }, { alpha: 4, reduction: 'sum' },
    { alpha: 1.7, shape: [1, 2, 4, 5, 6], spacing: [2, 1, 0.5], values: 'sparse', activation: 'softmax' },
    { alpha: 0.25, values: 'extreme', shape: [1, 2, 9, 11], activation: 'sigmoid' }, { alpha: 1, values: 'empty', shape: [3, 2, 9, 11] },
  ],
  options: distanceLossOptions,
  call: (s, a, o) => s.hausdorffDTLoss(a.input, a.target, withArrays(o, a)),
});

// ---------------------------------------------------------------------------------------------------
// clDiceLoss, toleranceDiceLoss (per (sample, class) plane of [N, C, H, W] or [N, C, D, H, W])

/** Plane shapes for the pooling losses: single pixels, single rows and columns, odd sizes around 4 lanes. */
const PLANE_SHAPES = [[1, 1, 1, 1], [1, 1, 1, 17], [1, 1, 17, 1], [1, 1, 2, 3], [1, 1, 5, 7], [1, 1, 4, 9], [1, 1, 3, 1025], [1, 1, 1, 1, 5]];

const POOL_DEFAULTS = { activation: 'none', target: 'u8', shape: [2, 1, 9, 11], smooth: undefined, reduction: 'mean' };

const clDiceSuite = suite({
  fn: 'clDiceLoss',
  defaults: { ...POOL_DEFAULTS, iterations: undefined, alpha: undefined },
  specs: [
    {}, { target: 'f32' }, { activation: 'sigmoid' }, { activation: 'sigmoid', target: 'f32' }, { values: 'sparse' },
    { iterations: 0 }, { iterations: 1 }, { iterations: 10, activation: 'sigmoid' }, { iterations: 1000 }, // clamped to D + H + W − 3
    { smooth: 1e-3 }, { smooth: 5, target: 'f32' },
    { alpha: 0 }, { alpha: 0.5 }, { alpha: 0.5, activation: 'sigmoid', target: 'f32' }, { alpha: 0.3, reduction: 'none' },
    { alpha: 0.5, reduction: 'sum' }, { alpha: 0, reduction: 'none' }, { alpha: 0, reduction: 'sum', activation: 'sigmoid' },
    { reduction: 'sum' }, { reduction: 'none' }, { grad: false }, { grad: false, alpha: 0.5 },
    { shape: [2, 3, 9, 11] }, { shape: [1, 2, 4, 6, 7] }, { shape: [1, 2, 4, 6, 7], activation: 'sigmoid', alpha: 0.5, iterations: 2 }, // 3-D
    { values: 'empty', shape: [3, 2, 9, 11] }, { values: 'empty', shape: [3, 2, 9, 11], alpha: 0.5, activation: 'sigmoid' },
    { values: 'extreme' }, { values: 'extreme', activation: 'sigmoid', target: 'f32' },
    ...PLANE_SHAPES.map((shape, i) => ({ shape, activation: i % 2 ? 'sigmoid' : 'none' })),
    { tag: 'big', shape: [1, 1, 64, 96], activation: 'sigmoid', target: 'f32', iterations: 5 },
  ],
  options: (c) => pass(c, ['iterations', 'smooth', 'alpha', 'reduction']),
  call: (s, a, o) => s.clDiceLoss(a.input, a.target, withArrays(o, a)),
});

const toleranceDiceSuite = suite({
  fn: 'toleranceDiceLoss',
  defaults: { ...POOL_DEFAULTS, tolerance: undefined },
  specs: [
    {}, { target: 'f32' }, { activation: 'sigmoid' }, { activation: 'sigmoid', target: 'f32' },
    { values: 'sparse' }, { values: 'sparse', target: 'f32', activation: 'sigmoid' },
    { tolerance: 0 }, { tolerance: 0, activation: 'sigmoid', target: 'f32' }, { tolerance: 2 }, { tolerance: 3, values: 'sparse' },
    { tolerance: 1000 }, // clamped to the largest extent − 1: the whole plane
    { smooth: 1 }, { smooth: 1e-12, values: 'sparse' },
    { reduction: 'sum' }, { reduction: 'none' }, { reduction: 'none', activation: 'sigmoid', tolerance: 2 }, { grad: false },
    { shape: [2, 3, 9, 11] }, { shape: [1, 2, 4, 6, 7] }, { shape: [1, 2, 4, 6, 7], tolerance: 2, activation: 'sigmoid', values: 'sparse' }, // 3-D
    { values: 'empty', shape: [3, 2, 9, 11] }, { values: 'empty', shape: [3, 2, 9, 11], tolerance: 0, smooth: 1 },
    { values: 'extreme' }, { values: 'extreme', activation: 'sigmoid', target: 'f32', tolerance: 2 },
    ...PLANE_SHAPES.map((shape, i) => ({ shape, activation: i % 2 ? 'sigmoid' : 'none', tolerance: i % 3 })),
    { tag: 'big', shape: [1, 1, 96, 128], values: 'sparse', activation: 'sigmoid', tolerance: 2 },
  ],
  options: (c) => pass(c, ['tolerance', 'smooth', 'reduction']),
  call: (s, a, o) => s.toleranceDiceLoss(a.input, a.target, withArrays(o, a)),
});

// ---------------------------------------------------------------------------------------------------
// boundaryF, edgeNms

/** Per-image views of a placed array of `count` maps of `size` elements (views of a WasmArray's memory stay zero-copy). */
function mapViews(arg, count, size) {
  const v = ArrayBuffer.isView(arg) ? arg : arg.view;
  return Array.from({ length: count }, (_, i) => v.subarray(i * size, (i + 1) * size));
}

/** BoundaryResult as one record: the summaries, and the curve's points flattened into a Float64Array. */
function flatBoundary(r) {
  const curve = new Float64Array(r.curve.length * 8);
  r.curve.forEach((p, k) => curve.set([p.threshold, p.precision, p.recall, p.f, p.cntR, p.sumR, p.cntP, p.sumP], k * 8));
  return { ods: r.ods, ois: r.ois, ap: r.ap, curve };
}

// The case's shape [N, A, H, W] is N images with A annotations each: the predictions are the input's
// channel 0 (probabilities), the annotations the u8 target's A channels ('sparse': edge-like maps).
const boundaryFSuite = suite({
  fn: 'boundaryF',
  defaults: { activation: 'none', target: 'u8', values: 'sparse', shape: [2, 2, 15, 17], grad: false, maxDist: undefined, thresholds: undefined, thin: true },
  specs: [
    {}, { thresholds: 5 }, { thresholds: 1 }, { thresholds: [0.1, 0.3, 0.5, 0.9] }, { thresholds: [-1, 0, 0.5, 1, 2] },
    { thin: false }, { thin: false, thresholds: 9 }, { maxDist: 0 }, { maxDist: 0.1, thresholds: 9 },
    { shape: [1, 3, 15, 17], thresholds: 9 }, { shape: [3, 1, 15, 17], thresholds: 9 },
    { values: 'random', thresholds: 9 }, { values: 'empty', shape: [2, 2, 15, 17], thresholds: 9 }, { values: 'extreme', thresholds: 9 },
    { shape: [1, 1, 1, 1], thresholds: 3 }, { shape: [1, 2, 1, 9], thresholds: 3 }, { shape: [1, 1, 23, 7], thresholds: 9 },
  ],
  call: (s, a, o, c) => {
    const [N, A, H, W] = c.shape;
    const maps = mapViews(a.input, N * A, H * W);
    const annotations = mapViews(a.target, N * A, H * W);
    const predictions = maps.filter((_, i) => i % A === 0);
    const groundTruths = predictions.map((_, n) => annotations.slice(n * A, (n + 1) * A));
    return flatBoundary(s.boundaryF(predictions, groundTruths, { shape: [H, W], ...pass(c, ['maxDist', 'thresholds']), ...(!c.thin && { thin: false }) }));
  },
});

// The input as N edge maps of H × W (shape [N, H, W]; [H, W] for the single-map form).
const edgeNmsSuite = suite({
  fn: 'edgeNms',
  defaults: { activation: 'none', target: 'u8', shape: [2, 16, 19], grad: false, radius: undefined, border: undefined, multiplier: undefined, smooth: undefined },
  specs: [
    {}, { shape: [16, 19] }, { radius: 2 }, { radius: 3, border: 0 }, { border: 0 }, { border: 12 },
    { multiplier: 1 }, { multiplier: 0.5 }, { multiplier: 2 }, { smooth: 0 }, { smooth: 1 }, { smooth: 12, radius: 2 },
    { activation: 'sigmoid' }, { values: 'extreme' }, { values: 'empty' }, // logits (negative values), edge values, an all-zero map
    { shape: [1, 1] }, { shape: [1, 17] }, { shape: [17, 1] }, { shape: [3, 5, 7] }, { shape: [1, 2, 33], smooth: 0, border: 0 },
    { tag: 'big', shape: [1, 96, 128] },
  ],
  call: (s, a, o, c) => s.edgeNms(a.input, { shape: c.shape, ...pass(c, ['radius', 'border', 'multiplier', 'smooth']) }),
});

// ---------------------------------------------------------------------------------------------------
// The table: one entry per public function

/** Every function under conformance test: its fixed cases and how to run one in a memory placement. */
export const SUITES = [
  diceSuite,
  tverskySuite,
  generalizedDiceSuite,
  statsSuite,
  lossFromStatsSuite,
  diceBceSuite,
  diceFocalSuite,
  crispEdgeSuite,
  diceCeSuite,
  bceSuite,
  focalSuite,
  confusionSuite,
  ...SCORES.map(scoreSuite),
  distanceTransformSuite,
  signedDistanceSuite,
  boundaryLossSuite,
  hausdorffSuite,
  clDiceSuite,
  toleranceDiceSuite,
  boundaryFSuite,
  edgeNmsSuite,
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
            entry = { name: `${build}/${id}`, hash: hashOutput(loss, grad), loss: describe(loss) };
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
