// Fuzzing the boundary: fast-check builds hostile option objects for every public function (wrong
// types, NaN / ±Infinity / −0 / huge / negative / non-integer numbers, shapes whose product overflows,
// arrays of the wrong type or length, objects that inherit their options, JSON `__proto__` keys, a
// polluted Object.prototype, getters that throw, getters that return a valid value first and a hostile
// one after, Proxies) and calls the function on operands that sit in Wasm memory between guard bytes,
// with a gradient pre-filled with a sentinel. Every call must either
//   - return the same bits as the same call with a plain object holding the values the function read
//     (the "effective" options: inherited properties count, a getter's first value counts), finite
//     for a loss; or
//   - throw a TypeError or RangeError (or the Error rows of the contract: freed WasmArray) whose
//     message is a row of README.md's error table, having written nothing (sentinel intact); or
//   - throw the error of an option getter that throws (documented: it propagates unchanged), having
//     written nothing.
// Never a WebAssembly.RuntimeError, another error, a hang (each call is timed), a write outside the
// operands (guard bytes checked after each call) or a change to the inputs.
// Adding a function: one entry in TARGETS (with `args` when it does not take (input, target, options)).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import * as segloss from '../src/index.ts';
import { params, SEED } from './property/config.ts';
import { readTable } from './property/contract.ts';

const { init, alloc } = segloss;
type WasmArray = segloss.WasmArray;

/** Cases per function: SEGLOSS_FUZZ_RUNS (default 1000). */
const RUNS = Number(process.env.SEGLOSS_FUZZ_RUNS ?? 1000);
/** A call slower than this is a hang. */
const HANG_MS = 2000;

// -------------------------------------------------------------- targets ---

type Arrays = Float32Array | Uint8Array | Uint16Array | Int32Array;

/** One public function: a valid call (small data), and whether its result is a loss (finite) and takes grad. */
interface Target {
  name: string;
  input: Float32Array;
  target: Arrays;
  options: Record<string, unknown>;
  grad: boolean;
  /** The result must be finite (losses); scores may be NaN by their `empty` option. */
  finite: boolean;
  /** The arguments of the call, when they are not (input, target, options). */
  args?: (input: unknown, target: unknown, options: unknown) => unknown[];
  /** Takes options.out (the distance transforms): an output like grad. */
  out?: true;
  /**
   * An OPEN bug this target's fuzzing finds (see test/property/regressions.test.ts): the test is marked
   * it.fails until the bug is fixed (it then fails: remove `open`).
   */
  open?: string;
}

/** The option a function writes its output to, if any. */
const outputKey = (tgt: Target): 'grad' | 'out' | undefined => (tgt.grad ? 'grad' : tgt.out ? 'out' : undefined);

const N = 2, C = 3, S = 7, LEN = N * C * S;
const logits = Float32Array.from({ length: LEN }, (_, i) => Math.sin(i * 1.3) * 4);
const probs = Float32Array.from({ length: LEN }, (_, i) => ((i * 5) % 13) / 12);
const soft = Float32Array.from({ length: LEN }, (_, i) => ((i * 7) % 9) / 8);
const labels = Uint8Array.from({ length: N * S }, (_, i) => (i * 2) % C);
/** A 0/1 annotation of 6 × 7 = LEN pixels (boundaryF's ground truth). */
const edges = Uint8Array.from({ length: LEN }, (_, i) => (i % 7 === 3 || i % 11 === 0 ? 1 : 0));
const shape = [N, C, S];
/** The pooling losses take [N, C, H, W]. */
const shape4 = [N, C, S, 1];

const TARGETS: Target[] = [
  { name: 'diceLoss', input: logits, target: soft, options: { shape, activation: 'sigmoid' }, grad: true, finite: true },
  { name: 'diceLoss', input: logits, target: labels, options: { shape, activation: 'softmax', target: 'indices', ignoreIndex: 1 }, grad: true, finite: true },
  { name: 'tverskyLoss', input: logits, target: soft, options: { shape, activation: 'sigmoid', alpha: 0.3, beta: 0.7, gamma: 0.75 }, grad: true, finite: true },
  { name: 'generalizedDiceLoss', input: logits, target: labels, options: { shape, activation: 'softmax', target: 'indices' }, grad: true, finite: true },
  { name: 'diceStats', input: logits, target: soft, options: { shape, activation: 'sigmoid', batch: true }, grad: false, finite: true },
  { name: 'diceBceLoss', input: logits, target: soft, options: { shape, balance: 'hed' }, grad: true, finite: true },
  { name: 'diceFocalLoss', input: logits, target: soft, options: { shape, gamma: 1.5, alpha: 0.3 }, grad: true, finite: true },
  { name: 'crispEdgeLoss', input: logits, target: soft, options: { shape }, grad: true, finite: true },
  { name: 'diceCeLoss', input: logits, target: labels, options: { shape, ceWeight: [1, 0.5, 2] }, grad: true, finite: true },
  { name: 'bceLoss', input: probs, target: soft, options: { shape, labelSmoothing: 0.1 }, grad: true, finite: true },
  { name: 'focalLoss', input: logits, target: soft, options: { shape, activation: 'sigmoid' }, grad: true, finite: true },
  { name: 'focalLoss', input: logits, target: labels, options: { shape, activation: 'softmax', weight: [1, 2, 0.5] }, grad: true, finite: true },
  { name: 'confusion', input: probs, target: soft, options: { shape }, grad: false, finite: true },
  { name: 'diceScore', input: logits, target: labels, options: { shape, activation: 'softmax', target: 'indices' }, grad: false, finite: false },
  { name: 'fbetaScore', input: probs, target: soft, options: { shape, beta: 2, average: 'samples' }, grad: false, finite: false },
  // distanceTransform(mask, options): the probabilities as a Float32Array mask (> 0.5 is set); Infinity for an empty map.
  { name: 'distanceTransform', input: probs, target: soft, options: { shape, spacing: [1, 2], empty: 10 }, grad: false, finite: false, out: true, args: (x, _t, o) => [x, o] },
  { name: 'signedDistance', input: probs, target: soft, options: { shape }, grad: false, finite: true, out: true, args: (_x, t, o) => [t, o] },
  { name: 'boundaryLoss', input: logits, target: soft, options: { shape, activation: 'sigmoid', spacing: [0.5] }, grad: true, finite: true },
  { name: 'hausdorffDTLoss', input: probs, target: soft, options: { shape, alpha: 1.5 }, grad: true, finite: true },
  // alpha 0.5: the clDice part and the internal diceLoss call (bug 6 of test/property/regressions.test.ts,
  // found here: a polluted Object.prototype reached that call after grad was written; fixed).
  { name: 'clDiceLoss', input: logits, target: soft, options: { shape: shape4, activation: 'sigmoid', iterations: 2, alpha: 0.5 }, grad: true, finite: true },
  { name: 'toleranceDiceLoss', input: probs, target: soft, options: { shape: shape4, tolerance: 2 }, grad: true, finite: true },
  // boundaryF(predictions, groundTruths, options): one 6 × 7 image with one annotation.
  { name: 'boundaryF', input: probs, target: edges, options: { shape: [6, 7], thresholds: 9, maxDist: 0.1 }, grad: false, finite: true, args: (x, t, o) => [[x], [[t]], o] },
  { name: 'edgeNms', input: probs, target: soft, options: { shape: [6, 7], radius: 1, border: 2 }, grad: false, finite: true, args: (x, _t, o) => [x, o] },
];

/** Every option name any function reads, plus names no function reads. */
const KEYS = [
  'shape', 'activation', 'target', 'ignoreIndex', 'mask', 'includeBackground', 'softLabel', 'smoothNr', 'smoothDr', 'batch',
  'reduction', 'grad', 'stats', 'squared', 'jaccard', 'transform', 'weight', 'alpha', 'beta', 'gamma', 'weightType',
  'lambdaDice', 'lambdaBce', 'balance', 'posWeight', 'labelSmoothing', 'rcfLambda', 'rcfEta', 'threshold', 'average',
  'empty', 'loss', 'lambdaFocal', 'lambdaCe', 'ceWeight', 'spacing', 'out', 'distances', 'tolerance', 'smooth', 'iterations',
  'maxDist', 'thresholds', 'thin', 'radius', 'border', 'multiplier', 'extra', 'constructor', 'toString', 'valueOf',
] as const;

// -------------------------------------------------------- hostile values ---

/** Placeholders for values that depend on the call's operands (made at call time). */
type Token = { token: 'input' | 'target' | 'gradShort' | 'gradView' | 'freed' | 'maskPixel' | 'maskElement' | 'statsOk' };
const token = (t: Token['token']): Token => ({ token: t });

const hugeNumbers = [NaN, Infinity, -Infinity, -0, 0, -1, 1, 0.5, 1.5, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e-320];

const shapeArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(shape), fc.constant([N, C, 7, 1]), fc.constant([6, 7]), fc.constant([1, 1, 6, 7]), fc.constant([1, 1, LEN]), fc.constant([LEN, 1, 1]), fc.constant([N, 1, C * S]),
  fc.constant([2 ** 26, 2 ** 26, 4]), fc.constant([2 ** 30, 2 ** 30, 2 ** 30]), fc.constant([2 ** 53, 1, 1]), fc.constant([-2, -3, 7]),
  fc.constant([2, 3, 7.5]), fc.constant([2, 3, '7']), fc.constant([2, 3]), fc.constant([]), fc.constant(Int32Array.of(2, 3, 7)),
  fc.constant(Float64Array.of(2, 3, 7)), fc.constant({ length: 3, 0: 2, 1: 3, 2: 7 }), fc.constant([2, , 7]), // eslint-disable-line no-sparse-arrays
  fc.array(fc.oneof(fc.integer({ min: -3, max: 50 }), fc.constantFrom(...hugeNumbers)), { maxLength: 6 }),
);

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(undefined, null, true, false, '', 'none', 'sigmoid', 'softmax', 'dense', 'indices', 'mean', 'sum', 'none', 'hed', 'rcf', 'log', 'dice', 'tversky', 'macro', 'nan', 10n, Symbol('x'), {}, [], () => 1, new Date(0), /x/) },
  { weight: 3, arbitrary: fc.constantFrom(...hugeNumbers) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer({ min: -300, max: 300 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  { weight: 2, arbitrary: shapeArb },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(token('input'), token('target'), token('gradShort'), token('gradView'), token('freed'), token('maskPixel'), token('maskElement'), token('statsOk')) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(Float32Array, Uint8Array, Uint16Array, Int32Array, Float64Array, Int8Array), fc.oneof(fc.constantFrom(0, 1, N * S, LEN - 1, LEN, LEN + 1, C, C - 1), fc.integer({ min: 0, max: 100 })))
    .map(([T, n]) => new T(n).fill(T === Float32Array || T === Float64Array ? 0.5 : 1)) },
  { weight: 1, arbitrary: fc.array(fc.oneof(fc.double(), fc.constantFrom(...hugeNumbers)), { maxLength: 5 }) },
);

/** How the options object is built. */
type Container = 'plain' | 'inherited' | 'nullProto' | 'jsonProto' | 'getters' | 'proxy' | 'polluted' | 'frozen';

interface FuzzCase {
  /** Mutations of the valid options: [key, value or 'delete']. */
  mutations: [string, unknown][];
  container: Container;
  /** Getters: per key, 'plain' (same value each read), 'throw', or 'flip' (first read valid, later reads this hostile value). */
  getter: { kind: 'plain' | 'throw' | 'flip'; later: unknown };
  /** The options argument replaced by a non-object. */
  notObject: unknown | null;
  jsInput: boolean;
}

const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  mutations: fc.array(fc.tuple(fc.constantFrom<string>(...KEYS), fc.oneof({ weight: 5, arbitrary: valueArb }, { weight: 1, arbitrary: fc.constant('delete') })), { maxLength: 4 }),
  container: fc.constantFrom<Container>('plain', 'inherited', 'nullProto', 'jsonProto', 'getters', 'proxy', 'polluted', 'frozen'),
  getter: fc.record({ kind: fc.constantFrom<'plain' | 'throw' | 'flip'>('plain', 'plain', 'throw', 'flip'), later: valueArb }),
  notObject: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, 0, 'options', true, [], 5n) }),
  jsInput: fc.boolean(),
});

/** The error an option getter throws on purpose: it may propagate unchanged. */
class GetterError extends Error {}

// ---------------------------------------------------------------- guards ---

const GUARD = 0xa5;
const PAD = 16;

/** An operand in Wasm memory between PAD guard elements on each side (an odd offset: misaligned). */
interface Guarded { block: WasmArray; start: number; length: number; ctor: { BYTES_PER_ELEMENT: number; new (b: ArrayBuffer, o: number, n: number): Arrays } }

function guarded(data: Arrays): Guarded {
  const ctor = data.constructor as Guarded['ctor'];
  const block = alloc(ctor as never, data.length + 2 * PAD + 1) as WasmArray;
  const g: Guarded = { block, start: PAD + 1, length: data.length, ctor };
  new Uint8Array(block.view.buffer, block.byteOffset, block.length * ctor.BYTES_PER_ELEMENT).fill(GUARD);
  view(g).set(data as never);
  return g;
}
/** A fresh view of the operand (memory may have grown since). */
const view = (g: Guarded): Arrays => (g.block.view as Arrays).subarray(g.start, g.start + g.length) as Arrays;
function guardsBroken(g: Guarded): boolean {
  const b = g.ctor.BYTES_PER_ELEMENT;
  const all = new Uint8Array(g.block.view.buffer, g.block.byteOffset, g.block.length * b);
  for (let i = 0; i < g.start * b; i++) if (all[i] !== GUARD) return true;
  for (let i = (g.start + g.length) * b; i < all.length; i++) if (all[i] !== GUARD) return true;
  return false;
}
const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = bytes(a), y = bytes(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function sameResult(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) return a.constructor === b.constructor && sameBytes(a, b);
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => sameResult((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

// ------------------------------------------------------------- contract ---

const ROWS = readTable();

// ------------------------------------------------------------------ runs ---

interface World {
  x: Guarded; t: Guarded; grad: Guarded; freed: WasmArray;
  /** Reads of each option key during the call (getters and proxies). */
  reads: Map<string, number>;
  /** The first value each key gave (what the function saw first). */
  seen: Map<string, unknown>;
}

function materialize(v: unknown, w: World): unknown {
  if (v && typeof v === 'object' && 'token' in v) {
    switch ((v as Token).token) {
      case 'input': return view(w.x);
      case 'target': return view(w.t);
      case 'gradShort': return (view(w.grad) as Float32Array).subarray(1);
      case 'gradView': return view(w.grad);
      case 'freed': return w.freed;
      case 'maskPixel': return new Uint8Array(N * S).fill(1);
      case 'maskElement': return Uint8Array.from({ length: LEN }, (_, i) => i % 2);
      case 'statsOk': return new Float64Array(N * C * 3).fill(1);
    }
  }
  return v;
}

/** The option entries of a case: the valid ones, mutated. */
function entriesOf(target: Target, c: FuzzCase, w: World): Map<string, unknown> {
  const entries = new Map<string, unknown>(Object.entries(target.options));
  if (target.grad) entries.set('grad', view(w.grad));
  for (const [key, value] of c.mutations) {
    if (value === 'delete') entries.delete(key);
    else entries.set(key, materialize(value, w));
  }
  return entries;
}

/** Builds the options object of a case; records reads where it can observe them. */
function build(c: FuzzCase, entries: Map<string, unknown>, w: World): { options: unknown; cleanup: () => void } {
  const plain = Object.fromEntries(entries);
  const note = (key: string, value: unknown) => {
    w.reads.set(key, (w.reads.get(key) ?? 0) + 1);
    if (!w.seen.has(key)) w.seen.set(key, value);
  };
  switch (c.container) {
    case 'plain': return { options: plain, cleanup: () => {} };
    case 'frozen': return { options: Object.freeze(plain), cleanup: () => {} };
    case 'inherited': return { options: Object.create(Object.create(plain)), cleanup: () => {} };
    case 'nullProto': return { options: Object.assign(Object.create(null), plain), cleanup: () => {} };
    case 'jsonProto': {
      // An own property named "__proto__" (as JSON.parse makes): not the prototype, not an option.
      const o = Object.assign(JSON.parse('{"__proto__": {"activation": "softmax", "shape": [1]}}'), plain);
      return { options: o, cleanup: () => {} };
    }
    case 'polluted': {
      // Object.prototype itself carries the options: every object, {} included, inherits them.
      const proto = Object.prototype as Record<string, unknown>;
      const saved = new Map<string, PropertyDescriptor | undefined>();
      for (const [key, value] of entries) {
        if (key === 'constructor' || key === 'toString' || key === 'valueOf') continue;
        saved.set(key, Object.getOwnPropertyDescriptor(proto, key));
        Object.defineProperty(proto, key, { value, configurable: true, writable: true, enumerable: false });
      }
      return {
        options: {},
        cleanup: () => {
          for (const [key, d] of saved) { if (d) Object.defineProperty(proto, key, d); else delete proto[key]; }
        },
      };
    }
    case 'getters': {
      const o: Record<string, unknown> = {};
      let thrower: string | undefined;
      for (const [key, value] of entries) {
        const kind = c.getter.kind === 'throw' && thrower === undefined ? (thrower = key, 'throw') : c.getter.kind === 'throw' ? 'plain' : c.getter.kind;
        let count = 0;
        Object.defineProperty(o, key, {
          enumerable: true,
          get: () => {
            count++;
            if (kind === 'throw') throw new GetterError(`getter of ${key}`);
            const v = kind === 'flip' && count > 1 ? materialize(c.getter.later, w) : value;
            note(key, v);
            return v;
          },
        });
      }
      return { options: o, cleanup: () => {} };
    }
    case 'proxy': {
      const handler: ProxyHandler<Record<string, unknown>> = {
        get: (t, key, r) => { const v = Reflect.get(t, key, r); if (typeof key === 'string') note(key, v); return v; },
      };
      return { options: new Proxy(plain, handler), cleanup: () => {} };
    }
  }
}

/** The values a plain-object call should use: what the function read (getters, proxies), else the entries. */
function effective(c: FuzzCase, entries: Map<string, unknown>, w: World): Record<string, unknown> {
  if (c.container === 'getters' || c.container === 'proxy') return Object.fromEntries(w.seen);
  return Object.fromEntries(entries);
}

function call(tgt: Target, input: unknown, target: unknown, options: unknown): unknown {
  const args = tgt.args ? tgt.args(input, target, options) : [input, target, options];
  return (segloss as unknown as Record<string, (...a: unknown[]) => unknown>)[tgt.name]!(...args);
}

/** Whether `a` is a Float32Array over the same bytes as the operand `g` (passed back as an output option). */
const sameArrayAs = (a: unknown, g: Guarded): boolean => a instanceof Float32Array && a.buffer === g.block.view.buffer &&
  a.byteOffset === view(g).byteOffset && a.length === g.length;

/** Runs one fuzz case; returns a failure description or null. */
function runCase(tgt: Target, c: FuzzCase, stats: { threw: number; returned: number; getterErrors: number; doubleReads: Set<string> }): string | null {
  const w: World = { x: guarded(tgt.input), t: guarded(tgt.target), grad: guarded(new Float32Array(LEN).fill(7)), freed: alloc(Float32Array, 4), reads: new Map(), seen: new Map() };
  w.freed.free();
  try {
    const entries = entriesOf(tgt, c, w);
    const { options, cleanup } = build(c, entries, w);
    const opts = c.notObject !== null ? c.notObject : options;
    const input = c.jsInput ? tgt.input.slice() : view(w.x);
    let value: unknown, error: unknown, threw = false;
    const t0 = performance.now();
    try {
      value = call(tgt, input, view(w.t), opts);
    } catch (e) {
      threw = true;
      error = e;
    } finally {
      cleanup();
    }
    const ms = performance.now() - t0;
    const where = `${tgt.name} ${JSON.stringify(tgt.options)} case ${describeCase(c)}`;
    if (ms > HANG_MS) return `took ${ms.toFixed(0)} ms: ${where}`;
    for (const k of w.reads.keys()) if (w.reads.get(k)! > 1) stats.doubleReads.add(`${tgt.name}.${k}`);
    // Nothing outside the operands, and nothing of the inputs, is ever written.
    for (const [label, g] of [['input', w.x], ['target', w.t], ['grad', w.grad]] as const) {
      if (guardsBroken(g)) return `guard bytes around ${label} were written: ${where}`;
    }
    // The operands passed must be unchanged (a flipping getter may hand the spare Wasm input block out as grad),
    // except one that a successful call was given as its output (options.out of the distance transforms, when
    // the operand is not their mask).
    const key = outputKey(tgt);
    const output = threw || key === undefined ? undefined : effective(c, entries, w)[key];
    const handedOut = (g: Guarded) => sameArrayAs(output, g);
    if ((!c.jsInput && !handedOut(w.x) && !sameBytes(view(w.x), tgt.input)) || (!handedOut(w.t) && !sameBytes(view(w.t), tgt.target))) return `an input was modified: ${where}`;
    if (c.jsInput && !sameBytes(input as Float32Array, tgt.input)) return `the JS input was modified: ${where}`;
    if (threw) {
      stats.threw++;
      if (!(view(w.grad) as Float32Array).every((v) => v === 7)) return `grad was written before throwing ${String(error)}: ${where}`;
      if (error instanceof GetterError) { stats.getterErrors++; return null; }
      if (!(error instanceof Error)) return `threw a non-Error ${String(error)}: ${where}`;
      if (error instanceof WebAssembly.RuntimeError) return `a Wasm trap leaked: ${error.message}: ${where}`;
      const type = error.constructor.name;
      if (!['TypeError', 'RangeError', 'Error'].includes(type)) return `threw a ${type}: ${error.message}: ${where}`;
      if (!ROWS.some((r) => r.type === type && r.regex.test(error.message))) return `${type} "${error.message}" is not a row of the error table: ${where}`;
      return null;
    }
    stats.returned++;
    // A getter that returns one value, then another: any result of either is acceptable; only the
    // safety checks above apply (the flips are there to find writes outside the operands).
    if (c.container === 'getters' && c.getter.kind === 'flip' && [...w.reads.values()].some((k) => k > 1)) return null;
    // A result: the same bits as a plain object of the values the function saw.
    const eff = effective(c, entries, w);
    // Whatever Float32Array the function took as grad: its content now, and a fresh one for the plain call.
    // `undefined` options are {}: with a polluted Object.prototype they inherit the options too.
    const usesObject = c.notObject === null || (c.notObject === undefined && c.container === 'polluted');
    // The same for options.out (the distance transforms): what was written, and a fresh array for the plain call.
    const gradUsed = key === undefined ? undefined : eff[key];
    const written = usesObject && gradUsed instanceof Float32Array ? gradUsed.slice() : undefined;
    const freshGrad = written && new Float32Array(written.length).fill(7);
    if (freshGrad) eff[key!] = freshGrad;
    let clean: unknown;
    try {
      clean = call(tgt, tgt.input.slice(), tgt.target.slice(), usesObject ? eff : c.notObject);
    } catch (e) {
      return `returned ${String(value)} but the same call with a plain options object throws ${String(e)}: ${where}`;
    }
    if (!sameResult(value, clean)) return `returned ${show(value)}, but ${show(clean)} with a plain object of the options it read: ${where}`;
    if (written && freshGrad && !sameBytes(written, freshGrad)) return `wrote another ${key} than the plain-object call: ${where}`;
    if (tgt.finite && !isFinite(value)) return `returned a non-finite result ${show(value)}: ${where}`;
    return null;
  } finally {
    w.x.block.free(); w.t.block.free(); w.grad.block.free();
  }
}

function isFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as Float64Array).every(Number.isFinite);
  if (v && typeof v === 'object') return Object.values(v).every((x) => (typeof x === 'number' ? Number.isFinite(x) : typeof x !== 'object' || isFinite(x)));
  return false;
}

function show(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}[${Array.from(v as Float64Array).slice(0, 4).join(', ')}…]`;
  if (v && typeof v === 'object') return JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? Array.from(x as Float64Array) : x));
  return String(v);
}

function describeCase(c: FuzzCase): string {
  return JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? v.toString() : typeof v === 'function' ? 'function' : ArrayBuffer.isView(v) ? `${v.constructor.name}(${(v as Float32Array).length})` : v === undefined ? 'undefined' : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v));
}

// ----------------------------------------------------------------- tests ---

beforeAll(async () => {
  await init();
  // Room for every staging block up front: no call below grows memory, so views stay valid.
  alloc(Uint8Array, 64 << 20).free();
  console.log(`[segloss fuzz] SEGLOSS_PROPERTY_SEED=${SEED} SEGLOSS_FUZZ_RUNS=${RUNS}`);
});

describe('every public function against hostile options', () => {
  for (const tgt of TARGETS) {
    (tgt.open ? it.fails : it)(`${tgt.name} ${JSON.stringify(tgt.options)}: ${RUNS} cases${tgt.open ? ` (OPEN ${tgt.open.split(':')[0]}: marked it.fails)` : ''}`, () => {
      const stats = { threw: 0, returned: 0, getterErrors: 0, doubleReads: new Set<string>() };
      fc.assert(fc.property(caseArb, (c) => {
        const failure = runCase(tgt, c, stats);
        if (failure !== null) throw new Error(failure);
      }), params(`fuzz ${tgt.name} ${JSON.stringify(tgt.options)}`, RUNS));
      console.log(`[segloss fuzz] ${tgt.name}: ${stats.returned} returned, ${stats.threw} threw (${stats.getterErrors} getter errors)` +
        (stats.doubleReads.size ? `; options read more than once: ${[...stats.doubleReads].join(', ')}` : ''));
      expect(stats.returned + stats.threw).toBe(RUNS);
      expect(stats.returned).toBeGreaterThan(0);
    });
  }
});
