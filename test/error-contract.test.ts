// The error contract: README.md's table (between <!-- errors:start --> and <!-- errors:end -->) lists
// every error segloss throws, with its class and message. This file
//   1. parses that table, and for every row runs its triggers: the call must throw that class with a
//      message matching the row (‹…› = any text), and leave every array of the caller untouched
//      (a gradient pre-filled with a sentinel, inputs, targets, masks: nothing written when a call throws);
//   2. scans src/ for every `new TypeError/RangeError/Error(...)` and checks that each message has a row
//      (a new error without a row fails here);
//   3. checks the memory-limit behaviour: when Wasm memory cannot grow, alloc and staging throw the
//      RangeError of the table with the right numbers, and the instance and earlier WasmArrays stay usable.
// A row is found by a distinctive part of its message (`row(...)` below), so rewording a message in
// src/ without its row (or the reverse) fails.
import { describe, it, expect, beforeAll, afterEach, vi } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as segloss from '../src/index.ts';
import { runtime } from '../src/runtime.ts';
import { readTable, type Row } from './property/contract.ts';

const {
  init, alloc, diceLoss, tverskyLoss, generalizedDiceLoss, diceStats, mergeStats, lossFromStats, bceLoss, focalLoss,
  confusion, diceScore, fbetaScore,
} = segloss;

const root = new URL('..', import.meta.url).pathname;

// ------------------------------------------------------------ the table ---

const TABLE = readTable();

// ------------------------------------------------------------- triggers ---

/** Fresh arrays for each trigger: what the caller owns, all checked after the call. */
interface Ctx {
  /** Logits in ±3 (also valid probabilities for 'none' after `probs`). */
  x: Float32Array;
  /** Probabilities in (0, 1). */
  probs: Float32Array;
  /** Soft dense targets in [0, 1]. */
  g: Float32Array;
  /** Class ids in [0, 3) for shape [2, 3, 5]. */
  labels: Uint8Array;
  /** A gradient pre-filled with the sentinel 7. */
  grad: Float32Array;
}

const shape = [2, 3, 5];
const n = 30;

function context(): Ctx {
  return {
    x: Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 3),
    probs: Float32Array.from({ length: n }, (_, i) => 0.05 + 0.9 * ((i * 7) % 11) / 10),
    g: Float32Array.from({ length: n }, (_, i) => (i % 5) / 4),
    labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3),
    grad: new Float32Array(n).fill(7),
  };
}

type Call = (c: Ctx) => unknown;
interface Trigger { label: string; call: Call }

const TRIGGERS = new Map<string, { type: string; triggers: Trigger[] }>();

/** Registers triggers for the row of class `type` whose message contains `part`. */
function row(part: string, type: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, ...triggers: [string, Call][]): void {
  const key = `${type.name} ${part}`;
  const entry = TRIGGERS.get(key) ?? { type: type.name, triggers: [] };
  entry.triggers.push(...triggers.map(([label, call]) => ({ label, call })));
  TRIGGERS.set(key, entry);
}

type Fn = (input: unknown, target: unknown, options?: unknown) => unknown;
const fn = (f: unknown): Fn => f as Fn;

/** A public function by name. */
const exported = (name: string): Fn => (segloss as unknown as Record<string, Fn>)[name]!;

type DenseCall = (c: Ctx, patch?: Record<string, unknown>, input?: unknown, target?: unknown) => unknown;
type IndexedCall = (c: Ctx, patch?: Record<string, unknown>, target?: unknown) => unknown;

/** A valid call of `name` on dense targets (options from `base`), with options patched and arguments swapped. */
const dense = (name: string, base: (c: Ctx) => Record<string, unknown>): [string, DenseCall] =>
  [name, (c, patch = {}, input = c.x, target = c.g) => exported(name)(input, target, { ...base(c), ...patch })];
/** A valid call of `name` with softmax and class-index targets. */
const indexed = (name: string, base: (c: Ctx) => Record<string, unknown>): [string, IndexedCall] =>
  [name, (c, patch = {}, target = c.labels) => exported(name)(c.x, target, { ...base(c), ...patch })];

/** Every (input, target, options) function, with a valid call on dense targets. */
const DENSE: [string, DenseCall][] = [
  ...['diceLoss', 'tverskyLoss', 'generalizedDiceLoss', 'bceLoss', 'focalLoss'].map((name) => dense(name, (c) => ({ shape, activation: 'sigmoid', grad: c.grad }))),
  dense('diceBceLoss', (c) => ({ shape, grad: c.grad })),
  ...['diceStats', 'confusion', 'diceScore'].map((name) => dense(name, () => ({ shape, activation: 'sigmoid' }))),
];
/** The functions that take options.grad. */
const WITH_GRAD = DENSE.filter(([name]) => !['diceStats', 'confusion', 'diceScore'].includes(name));
/** The functions with class-index targets and softmax. */
const INDEXED: [string, IndexedCall][] = [
  ...['diceLoss', 'tverskyLoss', 'generalizedDiceLoss'].map((name) => indexed(name, (c) => ({ shape, activation: 'softmax', target: 'indices', grad: c.grad }))),
  ...['diceStats', 'confusion'].map((name) => indexed(name, () => ({ shape, activation: 'softmax', target: 'indices' }))),
  indexed('focalLoss', (c) => ({ shape, activation: 'softmax', grad: c.grad })),
];
const each = (list: typeof DENSE, patch: Record<string, unknown>, input?: (c: Ctx) => unknown, target?: (c: Ctx) => unknown): [string, Call][] =>
  list.map(([name, call]) => [name, (c: Ctx) => call(c, patch, input ? input(c) : undefined, target ? target(c) : undefined)]);

// init and lifetime (run on fresh module instances: see the describe below).
row('segloss is not initialised', Error, ['diceLoss before init', () => { throw new Error('needs a fresh instance'); }]);
row('segloss.init: options must be an object', TypeError, ['init(42)', () => init(42 as never)]);
row('segloss.init: options.simd must be a boolean', TypeError, ["init({ simd: 'yes' })", () => init({ simd: 'yes' as never })]);
row('does not support WebAssembly SIMD', RangeError, ['init({ simd: true }) without SIMD', () => { throw new Error('needs a stubbed validate'); }]);
row('segloss.alloc: type must be', TypeError, ['alloc(Float64Array)', () => alloc(Float64Array as never, 4)], ['alloc(Array)', () => alloc(Array as never, 4)]);
row('segloss.alloc: length must be', RangeError, ['alloc(-1)', () => alloc(Float32Array, -1)], ['alloc(1.5)', () => alloc(Float32Array, 1.5)], ['alloc(NaN)', () => alloc(Float32Array, NaN)]);
row('cannot allocate', RangeError,
  ['alloc of 2^40 elements', () => alloc(Float32Array, 2 ** 40)],
  ['alloc past the limit', () => withLimit(() => alloc(Uint8Array, runtime().heap.available(runtime().heap.limitBytes) + 1))]);
row('was freed and cannot be used', Error, ['.view of a freed WasmArray', () => { const w = alloc(Float32Array, 4); w.free(); return w.view; }],
  ['free() twice', () => { const w = alloc(Float32Array, 4); w.free(); w.free(); }]);
row('belongs to an instance replaced', Error, ['WasmArray after init({ simd: false })', () => { throw new Error('needs a fresh instance'); }]);
row('is a WasmArray that was freed', Error,
  ...DENSE.map(([name, call]): [string, Call] => [`${name}: freed input`, (c) => { const w = alloc(Float32Array, n); w.free(); return call(c, {}, w); }]),
  ['diceLoss: freed options.mask', (c) => { const w = alloc(Uint8Array, 10); w.free(); return diceLoss(c.x, c.g, { shape, grad: c.grad, mask: w }); }]);
row('is a stale view of Wasm memory', Error, ['diceLoss: a view from before memory grew', (c) => {
  const w = alloc(Float32Array, n);
  const stale = w.view;
  stale.set(c.x);
  const big = alloc(Uint8Array, 2 * runtime().heap.memory.buffer.byteLength); // grows memory: `stale` is detached
  try { return diceLoss(stale, c.g, { shape, grad: c.grad }); } finally { big.free(); w.free(); }
}]);
row('no live WasmArray owns', Error, ['diceLoss: a view of a freed WasmArray', (c) => {
  const w = alloc(Float32Array, n);
  const view = w.view;
  w.free();
  return diceLoss(view, c.g, { shape, grad: c.grad });
}]);
row('(or a WasmArray of one); got', TypeError,
  ...each(DENSE, {}, () => Float64Array.from({ length: n })),
  ...each(DENSE, {}, (c) => Array.from(c.x)),
  ...each(DENSE, {}, undefined, () => new Int8Array(n)),
  ...INDEXED.map(([name, call]): [string, Call] => [`${name}: Float32Array class ids`, (c) => call(c, {}, new Float32Array(10))]),
  ['diceLoss: options.mask a Float32Array', (c) => diceLoss(c.x, c.g, { shape, grad: c.grad, mask: new Float32Array(10) as never })],
  ['diceLoss: options.grad a Float64Array', (c) => diceLoss(c.x, c.g, { shape, grad: new Float64Array(n) as never })],
  ['diceLoss: a freed-looking plain object', (c) => diceLoss({ length: n } as never, c.g, { shape, grad: c.grad })]);
row('‹fn›: options must be an object', TypeError, ...DENSE.flatMap(([name]): [string, Call][] => [
  [`${name}(x, g, 42)`, (c) => exported(name)(c.x, c.g, 42)],
  [`${name}(x, g, [])`, (c) => exported(name)(c.x, c.g, [])],
  [`${name}(x, g, null)`, (c) => exported(name)(c.x, c.g, null)],
]), ['lossFromStats(stats, "dice")', () => lossFromStats(new Float64Array(3), 'dice' as never)]);
row(' must be ‹choices›; got', RangeError, ...each(DENSE, { activation: 'relu' }), ...each(DENSE.filter(([nm]) => nm !== 'bceLoss'), { target: 'onehot' }),
  ['diceLoss reduction', (c) => diceLoss(c.x, c.g, { shape, reduction: 'avg' as never })],
  ['diceLoss transform', (c) => diceLoss(c.x, c.g, { shape, transform: 'exp' as never })],
  ['generalizedDiceLoss weightType', (c) => generalizedDiceLoss(c.x, c.g, { shape, weightType: 'cube' as never })],
  ['bceLoss balance', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', balance: 'focal' as never })],
  ['diceScore average', (c) => diceScore(c.x, c.g, { shape, average: 'weighted' as never })],
  ['diceScore empty', (c) => diceScore(c.x, c.g, { shape, empty: 'none' as never })],
  ['lossFromStats loss', () => lossFromStats(new Float64Array(3), { loss: 'focal' as never })]);
row('options.‹name› must be a boolean', TypeError, ...each(DENSE.filter(([nm]) => !['bceLoss', 'focalLoss'].includes(nm)), { includeBackground: 'no' }),
  ['diceLoss squared', (c) => diceLoss(c.x, c.g, { shape, squared: 1 as never })],
  ['diceLoss batch', (c) => diceLoss(c.x, c.g, { shape, batch: null as never })]);
row('must be a number; got', TypeError, ...each(WITH_GRAD.filter(([nm]) => nm !== 'bceLoss' && nm !== 'focalLoss'), { smoothNr: '1e-5' }),
  ['bceLoss posWeight', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', posWeight: '2' as never })],
  ['focalLoss gamma', (c) => focalLoss(c.x, c.g, { shape, activation: 'sigmoid', gamma: 2n as never })],
  ['tverskyLoss alpha', (c) => tverskyLoss(c.x, c.g, { shape, alpha: [0.5] as never })],
  ['confusion threshold', (c) => confusion(c.x, c.g, { shape, threshold: '0.5' as never })]);
row('must be a finite number‹bounds›; got', RangeError, ...each(WITH_GRAD.filter(([nm]) => nm !== 'bceLoss' && nm !== 'focalLoss'), { smoothDr: -1 }),
  ['diceLoss smoothNr NaN', (c) => diceLoss(c.x, c.g, { shape, smoothNr: NaN })],
  ['tverskyLoss gamma 0', (c) => tverskyLoss(c.x, c.g, { shape, gamma: 0 })],
  ['focalLoss alpha 2', (c) => focalLoss(c.x, c.g, { shape, activation: 'sigmoid', alpha: 2 })],
  ['bceLoss posWeight Infinity', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', posWeight: Infinity })],
  ['confusion threshold 1.5', (c) => confusion(c.x, c.g, { shape, threshold: 1.5 })],
  ['fbetaScore beta -1', (c) => fbetaScore(c.x, c.g, { shape, beta: -1 })],
  ['bceLoss posWeight 1e31', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', posWeight: 1e31 })],
  ['crispEdgeLoss smoothNr 0', (c) => fn(segloss.crispEdgeLoss)(c.x, c.g, { shape, smoothNr: 0 })]);
row('must be an integer; got', TypeError, ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call(c, { ignoreIndex: '255' })]));
row('must be an integer; got', RangeError, ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call(c, { ignoreIndex: 2.5 })]),
  ['diceLoss ignoreIndex 2^53', (c) => diceLoss(c.x, c.labels, { shape, activation: 'softmax', target: 'indices', ignoreIndex: 2 ** 53 })]);
row('must be a 32-bit integer', RangeError, ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call(c, { ignoreIndex: 2 ** 31 })]));
row('options.shape must be an array [N, C', TypeError, ...each(DENSE, { shape: '2,3,5' }), ...each(DENSE, { shape: 30 }));
row('options.shape must have at least 3 entries', RangeError, ...each(DENSE, { shape: [30] }), ...each(DENSE, { shape: [2, 15] }));
row('] must be a positive integer; got', TypeError, ...each(DENSE, { shape: [2, '3', 5] }), ...each(DENSE, { shape: [2, 3, null] }));
row('] must be a positive integer; got', RangeError, ...each(DENSE, { shape: [2, 3, 5, 0] }), ...each(DENSE, { shape: [-2, -3, 5] }),
  ...each(DENSE, { shape: [2, 1.5, 10] }), ...each(DENSE, { shape: [2, 3, NaN] }), ...each(DENSE, { shape: [2 ** 53, 1, 1] }));
row('options.shape has too many elements', RangeError, ...each(DENSE, { shape: [2 ** 30, 2 ** 30, 2 ** 30] }), ...each(DENSE, { shape: [2 ** 26, 2 ** 26, 4] }));
row('target must have ‹n› elements‹what›; got', RangeError, ...each(DENSE.filter(([nm]) => nm !== 'bceLoss'), {}, undefined, (c) => c.g.subarray(1)),
  ...INDEXED.filter(([nm]) => nm !== 'focalLoss').map(([name, call]): [string, Call] => [name, (c) => call(c, {}, c.labels.subarray(1))]),
  ['focalLoss softmax', (c) => focalLoss(c.x, c.labels.subarray(2), { shape, activation: 'softmax', grad: c.grad })]);
row('or ‹n› elements; got', RangeError, ...each(DENSE, { mask: new Uint8Array(7) }));
row('elements with softmax', RangeError, ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call(c, { mask: new Uint8Array(n) })]));
row("options.grad needs reduction 'mean' or 'sum'", RangeError, ...each(WITH_GRAD.filter(([nm]) => nm !== 'diceBceLoss'), { reduction: 'none' }));
row('options.grad must have', RangeError, ...WITH_GRAD.map(([name, call]): [string, Call] => [name, (c) => call({ ...c }, { grad: new Float32Array(n - 1) })]));
row('overlaps ‹name›; it must be a separate array', RangeError,
  ...WITH_GRAD.map(([name, call]): [string, Call] => [`${name}: grad is the input`, (c) => call(c, { grad: c.x })]),
  ['diceLoss: grad overlaps a WasmArray input', (c) => {
    const w = alloc(Float32Array, n + 4);
    try { w.view.set(c.x); return diceLoss(w.view.subarray(0, n), c.g, { shape, grad: w.view.subarray(4, n + 4) }); } finally { w.free(); }
  }]);
row('must be an array of numbers; got', TypeError, ['diceLoss weight', (c) => diceLoss(c.x, c.g, { shape, weight: 1 as never })],
  ['tverskyLoss weight', (c) => tverskyLoss(c.x, c.g, { shape, weight: 'a' as never })],
  ['focalLoss weight', (c) => focalLoss(c.x, c.labels, { shape, activation: 'softmax', weight: new DataView(new ArrayBuffer(12)) as never })]);
row('class (‹n›); got', RangeError, ['diceLoss weight', (c) => diceLoss(c.x, c.g, { shape, weight: [1, 1] })],
  ['diceLoss weight without background', (c) => diceLoss(c.x, c.g, { shape, includeBackground: false, weight: [1, 1, 1] })],
  ['focalLoss weight', (c) => focalLoss(c.x, c.labels, { shape, activation: 'softmax', weight: [1] })]);
row('options.‹name›[‹i›] must be a number in [0, 1e30]', RangeError, ['diceLoss weight -1', (c) => diceLoss(c.x, c.g, { shape, weight: [1, -1, 1] })],
  ['diceLoss weight NaN', (c) => diceLoss(c.x, c.g, { shape, weight: [1, NaN, 1] })],
  ['tverskyLoss weight string', (c) => tverskyLoss(c.x, c.g, { shape, weight: [1, '1', 1] as never })],
  ['diceLoss weight 1e31', (c) => diceLoss(c.x, c.g, { shape, weight: [1, 1e31, 1] })]);
row('counts.‹name›[‹i›] must be a finite number >= 0', RangeError, ['diceScore counts.tp[0] -1', () => diceScore({ tp: [-1], fp: [0], fn: [0], tn: [0], samples: 1, classes: 1 })],
  ['diceScore counts.fn[0] NaN', () => diceScore({ tp: [1], fp: [0], fn: [NaN], tn: [0], samples: 1, classes: 1 })]);
row("options.ignoreIndex needs target: 'indices'", RangeError, ...(['diceLoss', 'tverskyLoss', 'diceStats', 'confusion'] as const).map((name): [string, Call] =>
  [name, (c) => fn(segloss[name])(c.x, c.g, { shape, ignoreIndex: 0 })]));
row("'softmax' needs C >= 2 channels", RangeError, ...each(DENSE.filter(([nm]) => !['diceBceLoss', 'bceLoss'].includes(nm)), { shape: [2, 1, 15], activation: 'softmax', target: 'indices' }, undefined, () => new Uint8Array(30)));
row('includeBackground false needs C >= 2', RangeError, ...each(DENSE.filter(([nm]) => !['bceLoss', 'focalLoss'].includes(nm)), { shape: [2, 1, 15], includeBackground: false }));
row('inputs must be finite', RangeError, ...each(DENSE, {}, (c) => { const x = c.x.slice(); x[17] = NaN; return x; }),
  ...each(DENSE, {}, (c) => { const x = c.x.slice(); x[29] = -Infinity; return x; }),
  ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call({ ...c, x: Float32Array.from(c.x, (v, i) => (i === 3 ? Infinity : v)) })]));
row("the input's sums overflow float32", RangeError,
  ['diceLoss 3e38', (c) => diceLoss(new Float32Array(n).fill(3e38), c.g, { shape, grad: c.grad })],
  ['diceLoss squared 1e20', (c) => diceLoss(new Float32Array(n).fill(1e20), c.g, { shape, squared: true, grad: c.grad })],
  ['tverskyLoss 3e38', (c) => tverskyLoss(new Float32Array(n).fill(3e38), c.g, { shape, grad: c.grad })],
  ['diceStats 3e38', (c) => diceStats(new Float32Array(n).fill(3e38), c.g, { shape })]);
row("probabilities (activation 'none') must be in [0, 1]", RangeError,
  ['bceLoss p = 1.5', (c) => bceLoss(Float32Array.from(c.probs, (v, i) => (i === 4 ? 1.5 : v)), c.g, { shape, grad: c.grad })],
  ['focalLoss p = -0.1', (c) => focalLoss(Float32Array.from(c.probs, (v, i) => (i === 9 ? -0.1 : v)), c.g, { shape, grad: c.grad })]);
row('dense targets must be in [0, 1]', RangeError, ...each(DENSE, {}, undefined, (c) => Float32Array.from(c.g, (v, i) => (i === 5 ? 2 : v))),
  ...each(DENSE, {}, undefined, (c) => Float32Array.from(c.g, (v, i) => (i === 0 ? NaN : v))),
  ...each(DENSE, {}, undefined, () => new Uint8Array(n).fill(3)));
row('class indices must be in [0, ', RangeError, ...INDEXED.map(([name, call]): [string, Call] => [name, (c) => call(c, {}, Uint8Array.from(c.labels, (v, i) => (i === 6 ? 3 : v)))]),
  ...INDEXED.map(([name, call]): [string, Call] => [`${name} with ignoreIndex`, (c) => call(c, { ignoreIndex: 255 }, Int32Array.from(c.labels, (v, i) => (i === 2 ? -1 : v)))]));
row('options.softLabel needs a dense Float32Array target', TypeError, ['diceLoss u8 target', (c) => diceLoss(c.x, new Uint8Array(n), { shape, softLabel: true, grad: c.grad })],
  ['diceStats class ids', (c) => diceStats(c.x, c.labels, { shape, activation: 'softmax', target: 'indices', softLabel: true })]);
row('options.stats must be a Float64Array', TypeError, ['diceLoss', (c) => diceLoss(c.x, c.g, { shape, grad: c.grad, stats: new Float32Array(18) as never })],
  ['tverskyLoss', (c) => tverskyLoss(c.x, c.g, { shape, grad: c.grad, stats: Array.from({ length: 18 }, () => 1) as never })]);
row('sums for this shape', RangeError, ['diceLoss', (c) => diceLoss(c.x, c.g, { shape, grad: c.grad, stats: new Float64Array(9) })],
  ['generalizedDiceLoss batch', (c) => generalizedDiceLoss(c.x, c.g, { shape, batch: true, grad: c.grad, stats: new Float64Array(18) })]);
row('options.stats must hold finite sums', RangeError, ['diceLoss', (c) => diceLoss(c.x, c.g, { shape, grad: c.grad, stats: new Float64Array(18).fill(NaN) })]);
row('‹name› must be a Float64Array from diceStats', TypeError, ['a array', () => mergeStats([1, 2, 3] as never, new Float64Array(3))],
  ['b Float32Array', () => mergeStats(new Float64Array(3), new Float32Array(3) as never)]);
row('a and b must have the same length', RangeError, ['3 and 6', () => mergeStats(new Float64Array(3), new Float64Array(6))]);
row('is not a multiple of 3', RangeError, ['4', () => mergeStats(new Float64Array(4), new Float64Array(4))]);
row('‹fn›: stats must be a Float64Array', TypeError, ['Float32Array', () => lossFromStats(new Float32Array(3) as never)]);
row('target must have ‹n› elements like input', RangeError, ['short target', (c) => bceLoss(c.x, c.g.subarray(2), { shape, activation: 'sigmoid', grad: c.grad })]);
row('options.labelSmoothing must be a finite number in [0, 1)', RangeError, ['bceLoss 1', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', labelSmoothing: 1 })]);
row("needs balance: 'rcf'", RangeError, ['bceLoss rcfEta', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', rcfEta: 0.4 })],
  ['bceLoss rcfLambda with hed', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', balance: 'hed', rcfLambda: 2 })]);
row('options.rcfEta must be a finite number in (0, 1)', RangeError, ['bceLoss rcfEta 1', (c) => bceLoss(c.x, c.g, { shape, activation: 'sigmoid', balance: 'rcf', rcfEta: 1 })]);
row('does not fit activation', RangeError, ['softmax + dense', (c) => focalLoss(c.x, c.g, { shape, activation: 'softmax', target: 'dense' })],
  ['sigmoid + indices', (c) => focalLoss(c.x, c.labels, { shape, activation: 'sigmoid', target: 'indices' })]);
row("options.ignoreIndex needs activation 'softmax'", RangeError, ['binary focal', (c) => focalLoss(c.x, c.g, { shape, activation: 'sigmoid', ignoreIndex: 1 })]);
row('options.alpha applies to the binary forms', RangeError, ['softmax focal', (c) => focalLoss(c.x, c.labels, { shape, activation: 'softmax', alpha: 0.25 })]);
row("options.weight needs activation 'softmax'", RangeError, ['binary focal', (c) => focalLoss(c.x, c.g, { shape, activation: 'sigmoid', weight: [1, 1, 1] })]);
row('is not an option of ‹…›', RangeError, ['diceBceLoss softLabel', (c) => segloss.diceBceLoss(c.x, c.g, { shape, softLabel: true } as never)],
  ['diceBceLoss ignoreIndex', (c) => segloss.diceBceLoss(c.x, c.g, { shape, ignoreIndex: 1 } as never)]);
row('options.threshold does not apply', RangeError, ['confusion', (c) => confusion(c.x, c.labels, { shape, activation: 'softmax', target: 'indices', threshold: 0.5 })]);
row('called with counts, it takes (counts, options)', TypeError, ['diceScore', () => (diceScore as Fn)({ tp: [1], fp: [0], fn: [0], tn: [0], samples: 1, classes: 1 }, {}, {})]);
row('applies to arrays; counts are already thresholded', RangeError, ['diceScore threshold', () => diceScore({ tp: [1], fp: [0], fn: [0], tn: [0], samples: 1, classes: 1 }, { threshold: 0.5 } as never)]);
row('options.beta must be a finite number > 0; got 0', RangeError, ['fbetaScore', (c) => fbetaScore(c.x, c.g, { shape, beta: 0 })]);
row('counts.‹name› must be a positive integer; got ‹type›', TypeError, ['samples string', () => diceScore({ tp: [1], fp: [0], fn: [0], tn: [0], samples: '1', classes: 1 } as never)]);
row('counts.‹name› must be a positive integer; got ‹n›', RangeError, ['classes 0', () => diceScore({ tp: [], fp: [], fn: [], tn: [], samples: 1, classes: 0 })]);
row('must be an array of counts', TypeError, ['tp number', () => diceScore({ tp: 1, fp: [0], fn: [0], tn: [0], samples: 1, classes: 1 } as never)]);
row('entries; got', RangeError, ['tp of 2', () => diceScore({ tp: [1, 1], fp: [0], fn: [0], tn: [0], samples: 1, classes: 1 })]);

// ------------------------------------------ distance transforms, distance and pooling losses, boundaryF ---

type MapCall = (c: Ctx, patch?: Record<string, unknown>, mask?: unknown) => unknown;
/** distanceTransform / signedDistance(mask, options): 2 maps of 3 × 5 (the soft targets as a Float32Array mask), out = the sentinel grad. */
const MAPS: [string, MapCall][] = ['distanceTransform', 'signedDistance'].map((name): [string, MapCall] =>
  [name, (c, patch = {}, mask = c.g) => (segloss as unknown as Record<string, (m: unknown, o: unknown) => unknown>)[name]!(mask, { shape, out: c.grad, ...patch })]);
const mapEach = (patch: Record<string, unknown>, mask?: (c: Ctx) => unknown): [string, Call][] =>
  MAPS.map(([name, call]) => [name, (c: Ctx) => call(c, patch, mask ? mask(c) : undefined)]);
/** The distance losses (1 spatial axis of 5) and the pooling losses ([2, 3, 5, 1]), with the sentinel grad. */
const DISTANCE = ['boundaryLoss', 'hausdorffDTLoss'].map((name) => dense(name, (c) => ({ shape, activation: 'sigmoid', grad: c.grad })));
const POOL = ['clDiceLoss', 'toleranceDiceLoss'].map((name) => dense(name, (c) => ({ shape: [2, 3, 5, 1], activation: 'sigmoid', grad: c.grad })));
const SPATIAL = [...DISTANCE, ...POOL];
type BoundaryFn = (p: unknown, g: unknown, o?: unknown) => unknown;
const B = segloss.boundaryF as unknown as BoundaryFn;
const E = segloss.edgeNms as unknown as (e: unknown, o?: unknown) => unknown;
/** boundaryF on one 6 × 5 image (the probabilities) with one annotation. */
const annotation = () => Uint8Array.from({ length: n }, (_, i) => (i % 5 === 2 ? 1 : 0));
const s65 = { shape: [6, 5] };
const bf = (c: Ctx, patch: Record<string, unknown> = {}) => B([c.probs], [[annotation()]], { ...s65, ...patch });

row('‹fn›: options must be an object', TypeError,
  ...MAPS.map(([name]): [string, Call] => [`${name}(g, 42)`, (c) => (segloss as unknown as Record<string, (m: unknown, o: unknown) => unknown>)[name]!(c.g, 42)]),
  ...SPATIAL.map(([name]): [string, Call] => [`${name}(x, g, null)`, (c) => exported(name)(c.x, c.g, null)]),
  ['boundaryF([p], [[g]], "opts")', (c) => B([c.probs], [[annotation()]], 'opts')], ['edgeNms(p, [])', (c) => E(c.probs, [])]);
row(' must be ‹choices›; got', RangeError, ...each(SPATIAL, { activation: 'relu' }), ...each(POOL, { activation: 'softmax' }), ...each(SPATIAL, { reduction: 'max' }));
row('options.‹name› must be a boolean', TypeError, ...each(DISTANCE, { includeBackground: 'no' }), ['boundaryF thin', (c) => bf(c, { thin: 1 })]);
row('must be a number; got', TypeError, ...mapEach({ spacing: [1, '2'] }), ['distanceTransform empty', (c) => fn(segloss.distanceTransform)(c.g, { shape, empty: '5' })],
  ['hausdorffDTLoss alpha', (c) => fn(segloss.hausdorffDTLoss)(c.x, c.g, { shape, activation: 'sigmoid', alpha: '2', grad: c.grad })],
  ['clDiceLoss smooth', (c) => fn(segloss.clDiceLoss)(c.x, c.g, { shape: [2, 3, 5, 1], activation: 'sigmoid', smooth: '1', grad: c.grad })],
  ['boundaryF maxDist', (c) => bf(c, { maxDist: '0.1' })], ['boundaryF thresholds[1]', (c) => bf(c, { thresholds: [0.1, '0.2'] })],
  ['edgeNms multiplier', (c) => E(c.probs, { ...s65, multiplier: '1' })]);
row('must be a finite number‹bounds›; got', RangeError, ...mapEach({ spacing: [1, 0] }), ...each(DISTANCE, { spacing: [1e31] }),
  ['hausdorffDTLoss alpha 5', (c) => fn(segloss.hausdorffDTLoss)(c.x, c.g, { shape, activation: 'sigmoid', alpha: 5, grad: c.grad })],
  ['clDiceLoss alpha 2', (c) => fn(segloss.clDiceLoss)(c.x, c.g, { shape: [2, 3, 5, 1], activation: 'sigmoid', alpha: 2, grad: c.grad })],
  ['toleranceDiceLoss smooth 0', (c) => fn(segloss.toleranceDiceLoss)(c.x, c.g, { shape: [2, 3, 5, 1], activation: 'sigmoid', smooth: 0, grad: c.grad })],
  ['boundaryF maxDist 2', (c) => bf(c, { maxDist: 2 })], ['edgeNms multiplier 0', (c) => E(c.probs, { ...s65, multiplier: 0 })]);
row('must be an integer; got', TypeError, ['edgeNms smooth true', (c) => E(c.probs, { ...s65, smooth: true })], ['edgeNms radius "2"', (c) => E(c.probs, { ...s65, radius: '2' })]);
row('must be an integer; got', RangeError, ['boundaryF thresholds 2.5', (c) => bf(c, { thresholds: 2.5 })], ['edgeNms border NaN', (c) => E(c.probs, { ...s65, border: NaN })]);
row('] must be a positive integer; got', TypeError, ...mapEach({ shape: [2, '3', 5] }), ...each(SPATIAL, { shape: [2, 3, null, 1] }),
  ['boundaryF shape', (c) => bf(c, { shape: [6, '5'] })], ['edgeNms shape', (c) => E(c.probs, { shape: [6, true] })]);
row('] must be a positive integer; got', RangeError, ...mapEach({ shape: [2, 3, 0, 5] }), ...each(SPATIAL, { shape: [2, 3, 5, -1] }),
  ['boundaryF shape', (c) => bf(c, { shape: [6, 5.5] })], ['edgeNms shape', (c) => E(c.probs, { shape: [0, 6, 5] })]);
row('elements but ‹name› has', RangeError, ...each(DENSE, { shape: [2, 3, 4] }), ...each(DENSE, { shape: [2 ** 20, 2 ** 20, 2 ** 12] }),
  ...mapEach({ shape: [2, 3, 4] }), ...each(SPATIAL, { shape: [2, 3, 4, 1] }));
row('target must have ‹n› elements like input', RangeError, ...each(SPATIAL, {}, undefined, (c) => c.g.subarray(1)));
row("options.grad needs reduction 'mean' or 'sum'", RangeError, ...each(SPATIAL, { reduction: 'none' }));
row('options.grad must have', RangeError, ...SPATIAL.map(([name, call]): [string, Call] => [name, (c) => call({ ...c }, { grad: new Float32Array(n - 1) })]));
row('overlaps ‹name›; it must be a separate array', RangeError, ...SPATIAL.map(([name, call]): [string, Call] => [`${name}: grad is the target`, (c) => call(c, { grad: c.g })]),
  ['distanceTransform: out is the mask', (c) => fn(segloss.distanceTransform)(c.g, { shape, out: c.g })]);
row('(or a WasmArray of one); got', TypeError, ...mapEach({}, () => new Float64Array(n)), ...each(SPATIAL, {}, () => Array.from({ length: n }, () => 0.5)),
  ...each(SPATIAL, {}, undefined, () => new Int32Array(n)), ...mapEach({ out: new Float64Array(n) }),
  ['boundaryF predictions[0] a Float64Array', () => B([new Float64Array(n)], [[annotation()]], s65)], ['edgeNms edges an Array', () => E([1, 2], s65)]);
row('inputs must be finite', RangeError, ...each(DISTANCE, {}, (c) => { const x = c.x.slice(); x[11] = NaN; return x; }));
row("probabilities (activation 'none') must be in [0, 1]", RangeError, ...each(DISTANCE, { activation: 'none' }, (c) => Float32Array.from(c.probs, (v, i) => (i === 7 ? 1.25 : v))));
row('‹fn›: options.shape is required: [N, ...spatial]', TypeError, ...mapEach({ shape: undefined }));
row('‹fn›: options.shape must be an array [N, ...spatial]', TypeError, ...mapEach({ shape: '2,3,5' }), ...mapEach({ shape: 30 }));
row('must have 2 to 4 entries [N, ...spatial]', RangeError, ...mapEach({ shape: [30] }), ...mapEach({ shape: [1, 2, 3, 5, 1] }));
row('options.spacing must be an array of numbers, one per spatial axis', TypeError, ...mapEach({ spacing: 1 }), ...each(DISTANCE, { spacing: 'x' }));
row('options.spacing must have one entry per spatial axis', RangeError, ...mapEach({ spacing: [1] }), ...each(DISTANCE, { spacing: [1, 1] }));
row('options.empty must be a number >= 0', RangeError, ['distanceTransform empty -1', (c) => fn(segloss.distanceTransform)(c.g, { shape, empty: -1 })],
  ['distanceTransform empty NaN', (c) => fn(segloss.distanceTransform)(c.g, { shape, empty: NaN })]);
row('options.out must have', RangeError, ...mapEach({ out: new Float32Array(n + 1) }));
row('a Float32Array mask must be finite', RangeError, ...mapEach({}, (c) => Float32Array.from(c.g, (v, i) => (i === 13 ? Infinity : v))));
row('‹fn›: options.shape is required: [N, C, ...spatial]', TypeError, ...each(DISTANCE, { shape: undefined }));
row('must have 1 to 3 spatial axes [N, C, ...spatial]', RangeError, ...each(DISTANCE, { shape: [1, 1, 2, 3, 5, 1] }));
row('give distances^alpha up to', RangeError, ['hausdorffDTLoss spacing 1e15, alpha 4', (c) => fn(segloss.hausdorffDTLoss)(c.x, c.g, { shape, spacing: [1e15], alpha: 4, activation: 'sigmoid', grad: c.grad })],
  ['hausdorffDTLoss spacing 1e30', (c) => fn(segloss.hausdorffDTLoss)(c.x, c.g, { shape, spacing: [1e30], activation: 'sigmoid', grad: c.grad })]);
row('options.distances must have', RangeError, ['boundaryLoss', (c) => fn(segloss.boundaryLoss)(c.x, null, { shape, activation: 'sigmoid', distances: new Float32Array(n - 1), grad: c.grad })]);
row('distances must be finite', RangeError, ['boundaryLoss NaN distance', (c) => fn(segloss.boundaryLoss)(c.x, null, { shape, activation: 'sigmoid', distances: Float32Array.from({ length: n }, (_, i) => (i === 4 ? NaN : 1)), grad: c.grad })]);
row('; targets must be in [0, 1]', RangeError, ...each(SPATIAL, {}, undefined, (c) => Float32Array.from(c.g, (v, i) => (i === 9 ? 1.5 : v))),
  ...each(SPATIAL, {}, undefined, () => new Uint8Array(n).fill(2)), ...each(DISTANCE, {}, undefined, (c) => Float32Array.from(c.g, (v, i) => (i === 0 ? NaN : v))));
row('options.shape is required: [N, C, H, W]', TypeError, ...each(POOL, { shape: undefined }));
row('options.shape must be [N, C, H, W] or [N, C, D, H, W]', RangeError, ...each(POOL, { shape }), ...each(POOL, { shape: [1, 2, 3, 5, 1, 1] }));
row('options.shape has a plane of', RangeError, ...POOL.map(([name]): [string, Call] => [`${name}: a 2^16 × 2^15 plane`, (c) =>
  // 2^31 elements: a lazily zeroed 8 GiB Float32Array (the pages are never touched: the shape is refused first).
  exported(name)(new Float32Array(2 ** 31), c.g, { shape: [1, 1, 2 ** 16, 2 ** 15], grad: c.grad })]));
row('must be an integer >= 0; got ‹type›', TypeError, ['clDiceLoss iterations "3"', (c) => fn(segloss.clDiceLoss)(c.x, c.g, { shape: [2, 3, 5, 1], iterations: '3' })],
  ['toleranceDiceLoss tolerance null', (c) => fn(segloss.toleranceDiceLoss)(c.probs, c.g, { shape: [2, 3, 5, 1], tolerance: null })]);
row('must be an integer >= 0; got ‹n›', RangeError, ['clDiceLoss iterations -1', (c) => fn(segloss.clDiceLoss)(c.x, c.g, { shape: [2, 3, 5, 1], iterations: -1 })],
  ['toleranceDiceLoss tolerance 1.5', (c) => fn(segloss.toleranceDiceLoss)(c.probs, c.g, { shape: [2, 3, 5, 1], tolerance: 1.5 })],
  ['toleranceDiceLoss tolerance Infinity', (c) => fn(segloss.toleranceDiceLoss)(c.probs, c.g, { shape: [2, 3, 5, 1], tolerance: Infinity })]);
row('logits must be finite', RangeError, ...each(POOL, {}, (c) => Float32Array.from(c.x, (v, i) => (i === 29 ? -Infinity : v))));
row("with activation 'none' inputs must be probabilities in [0, 1]", RangeError, ...each(POOL, { activation: 'none' }, (c) => Float32Array.from(c.probs, (v, i) => (i === 2 ? -0.5 : v))),
  ...each(POOL, { activation: 'none' }, (c) => Float32Array.from(c.probs, (v, i) => (i === 3 ? NaN : v))));
// boundaryF and edgeNms (the suggested triggers of /work/notes/readme-boundary.md, on 6 × 5 images).
row('predictions must be an array of Float32Array', TypeError, ['boundaryF(Float32Array)', (c) => B(c.probs, [[annotation()]], s65)]);
row('predictions must hold at least one image', RangeError, ['boundaryF([])', () => B([], [], s65)]);
row('groundTruths must be an array (one list', TypeError, ['boundaryF(…, Uint8Array)', (c) => B([c.probs], annotation(), s65)]);
row('groundTruths must have one entry per prediction', RangeError, ['2 lists for 1 image', (c) => B([c.probs], [[annotation()], [annotation()]], s65)]);
row('must be an array of Uint8Array annotations', TypeError, ['groundTruths[0] a Uint8Array', (c) => B([c.probs], [annotation()], s65)]);
row('must hold at least one annotation', RangeError, ['groundTruths[0] empty', (c) => B([c.probs], [[]], s65)]);
row('must have H × W =', RangeError, ['prediction of 29', (c) => B([c.probs.subarray(1)], [[annotation()]], s65)],
  ['annotation of 5', (c) => B([c.probs], [[new Uint8Array(5)]], s65)]);
row('predictions must be finite', RangeError, ['NaN prediction', (c) => B([Float32Array.from(c.probs, (v, i) => (i === 3 ? NaN : v))], [[annotation()]], s65)]);
row('annotations must hold 0 or 1', RangeError, ['annotation byte 2', (c) => { const g = annotation(); g[3] = 2; return B([c.probs], [[g]], s65); }]);
row('options.shape [H, W] is required', TypeError, ['boundaryF without shape', (c) => B([c.probs], [[annotation()]], {})]);
row('options.shape takes an array [H, W];', TypeError, ["shape '6x5'", (c) => bf(c, { shape: '6x5' })]);
row('options.shape must be [H, W] (2 entries)', RangeError, ['shape [1, 6, 5]', (c) => bf(c, { shape: [1, 6, 5] })]);
row('must be a number of thresholds or an array', TypeError, ["thresholds 'many'", (c) => bf(c, { thresholds: 'many' })]);
row('must be a count in [1,', RangeError, ['thresholds 0', (c) => bf(c, { thresholds: 0 })], ['thresholds 100001', (c) => bf(c, { thresholds: 100001 })]);
row('options.thresholds must hold 1 to', RangeError, ['thresholds []', (c) => bf(c, { thresholds: [] })]);
row('] must be finite; got', RangeError, ['thresholds [0.1, NaN]', (c) => bf(c, { thresholds: [0.1, NaN] })]);
row('must be strictly increasing', RangeError, ['thresholds [0.5, 0.5]', (c) => bf(c, { thresholds: [0.5, 0.5] })]);
row('options.shape [H, W] or [N, H, W] is required', TypeError, ['edgeNms without shape', (c) => E(c.probs, {})]);
row('options.shape takes an array [H, W] or [N, H, W]', TypeError, ['edgeNms shape 30', (c) => E(c.probs, { shape: 30 })]);
row('options.shape must be [H, W] or [N, H, W]', RangeError, ['edgeNms shape [30]', (c) => E(c.probs, { shape: [30] })]);
row('edges must have', RangeError, ['edgeNms shape [5, 5]', (c) => E(c.probs, { shape: [5, 5] })]);
row('edge maps must be finite', RangeError, ['edgeNms Infinity', (c) => E(Float32Array.from(c.probs, (v, i) => (i === 0 ? Infinity : v)), s65)]);
row(', 1000000]; got', RangeError, ['edgeNms radius 0', (c) => E(c.probs, { ...s65, radius: 0 })], ['edgeNms border -1', (c) => E(c.probs, { ...s65, border: -1 })],
  ['edgeNms smooth 1000001', (c) => E(c.probs, { ...s65, smooth: 1000001 })]);
// The fused losses' own options.
row('is not an option of ‹…›', RangeError, ['crispEdgeLoss squared', (c) => fn(segloss.crispEdgeLoss)(c.x, c.g, { shape, squared: true, grad: c.grad })],
  ['diceFocalLoss stats', (c) => fn(segloss.diceFocalLoss)(c.x, c.g, { shape, stats: new Float64Array(18), grad: c.grad })],
  ['diceCeLoss softLabel', (c) => fn(segloss.diceCeLoss)(c.x, c.labels, { shape, softLabel: true, grad: c.grad })]);
row('options.‹name›[‹i›] must be a number in [0, 1e30]', RangeError, ['diceCeLoss ceWeight 1e31', (c) => fn(segloss.diceCeLoss)(c.x, c.labels, { shape, ceWeight: [1, 1e31, 1], grad: c.grad })]);

/** Runs `f` with the heap's limit at the current memory size (nothing can grow), restoring it after. */
function withLimit<T>(f: () => T): T {
  const heap = runtime().heap;
  const saved = heap.limitBytes;
  heap.limitBytes = heap.memory.buffer.byteLength;
  try { return f(); } finally { heap.limitBytes = saved; }
}

/** The row whose message contains `part`, of class `type`; throws unless exactly one. */
function findRow(type: string, part: string): Row {
  const hits = TABLE.filter((r) => r.type === type && r.message.includes(part));
  if (hits.length !== 1) throw new Error(`${hits.length} rows of ${type} contain "${part}": ${hits.map((r) => r.message).join(' | ')}`);
  return hits[0]!;
}

/** Runs a trigger: it must throw `row.type` with a matching message and leave every array of the context as it was. */
function expectRow(r: Row, t: Trigger): void {
  const c = context();
  const before = context();
  let error: unknown;
  try {
    const out = t.call(c);
    if (out instanceof Promise) throw new Error('asynchronous trigger');
  } catch (e) {
    error = e;
  }
  expect(error, `${t.label}: no error thrown`).toBeInstanceOf(Error);
  const e = error as Error;
  expect(e.constructor.name, `${t.label}: ${e.message}`).toBe(r.type);
  expect(e.message, `${t.label}: the message does not match the row ${r.message}`).toMatch(r.regex);
  for (const key of Object.keys(before) as (keyof Ctx)[]) {
    expect(Array.from(c[key]), `${t.label}: ${key} was written`).toEqual(Array.from(before[key]));
  }
}

// ---------------------------------------------------------------- tests ---

beforeAll(async () => {
  await init();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Rows whose triggers need a fresh module instance: checked in their own describe. */
const LIFETIME = ['segloss is not initialised', 'does not support WebAssembly SIMD', 'belongs to an instance replaced', 'segloss.init:'];

describe('README.md error table', () => {
  it('is in README.md between <!-- errors:start --> and <!-- errors:end -->', () => {
    expect(TABLE.length, 'README.md has no error table between the markers').toBeGreaterThan(40);
  });

  it('every row has triggers, and every trigger has its row', () => {
    const covered = new Set<Row>();
    const orphans: string[] = [];
    for (const [key, { type }] of TRIGGERS) {
      const part = key.slice(type.length + 1);
      try { covered.add(findRow(type, part)); } catch (e) { orphans.push((e as Error).message); }
    }
    expect(orphans).toEqual([]);
    expect(TABLE.filter((r) => !covered.has(r)).map((r) => `${r.type} ${r.message}`)).toEqual([]);
  });

  for (const [key, { type, triggers }] of TRIGGERS) {
    const part = key.slice(type.length + 1);
    if (LIFETIME.some((l) => part.includes(l))) continue;
    it(`${type}: …${part}… (${triggers.length} trigger${triggers.length > 1 ? 's' : ''})`, () => {
      const r = findRow(type, part);
      for (const t of triggers) expectRow(r, t);
    });
  }

  it('init() rejects bad options with the rows of the table', async () => {
    await expect(init(42 as never)).rejects.toThrow(findRow('TypeError', 'segloss.init: options must be an object').regex);
    await expect(init(42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(init({ simd: 'yes' as never })).rejects.toThrow(findRow('TypeError', 'options.simd must be a boolean').regex);
  });
});

describe('rows about the lifetime of an instance (fresh module instances)', () => {
  it('a call before init() resolves throws the Error of the table, and writes nothing', async () => {
    vi.resetModules();
    const fresh = (await import('../src/index.ts')) as typeof segloss;
    const r = findRow('Error', 'segloss is not initialised');
    const c = context();
    for (const call of [() => fresh.diceLoss(c.x, c.g, { grad: c.grad }), () => fresh.alloc(Float32Array, 4), () => fresh.backend(), () => fresh.bceLoss(c.probs, c.g, { grad: c.grad })]) {
      expect(call).toThrow(r.regex);
    }
    expect(Array.from(c.grad)).toEqual(Array.from(context().grad));
  });

  it('init({ simd: true }) where WebAssembly.validate rejects SIMD throws the RangeError of the table', async () => {
    vi.resetModules();
    const fresh = (await import('../src/index.ts')) as typeof segloss;
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    const r = findRow('RangeError', 'does not support WebAssembly SIMD');
    await expect(fresh.init({ simd: true })).rejects.toThrow(r.regex);
    await expect(fresh.init({ simd: true })).rejects.toBeInstanceOf(RangeError);
  });

  it('a WasmArray of an instance replaced by init({ simd }) throws the Error of the table', async () => {
    vi.resetModules();
    const fresh = (await import('../src/index.ts')) as typeof segloss;
    await fresh.init({ simd: true });
    const w = fresh.alloc(Float32Array, 8);
    await fresh.init({ simd: false });
    const r = findRow('Error', 'belongs to an instance replaced');
    expect(() => w.view).toThrow(r.regex);
    expect(() => w.free()).toThrow(r.regex);
    const c = context();
    expect(() => fresh.diceLoss(c.x, c.g, { shape, grad: c.grad, mask: undefined })).not.toThrow();
  });
});

// ------------------------------------------------------ src/ completeness ---

/**
 * Helpers that build a message from their string arguments, such as src/distance.ts's
 * `badValue(rt, fn, 'target', …, 'targets must be in [0, 1]')`: the helper's own template is all
 * placeholders (`‹›: ‹›[‹›] is ‹›; ‹›`), so the scan reads the messages at its call sites instead (the
 * first string argument names the array, the last says what was expected) and skips the template.
 */
const HELPERS = [
  { file: 'src/distance.ts', name: 'badValue', type: 'RangeError', template: '‹›: ‹›[‹›] is ‹›; ‹›', message: (args: string[]) => `‹›: ${args[0]}[‹›] is ‹›; ${args[args.length - 1]}` },
];

/** Every message literal of a `new TypeError/RangeError/Error(...)` in src/ (not the references), with ${…} as ‹›. */
function sourceMessages(): { type: string; message: string; where: string }[] {
  const out: { type: string; message: string; where: string }[] = [];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) { if (name !== 'reference' && name !== 'wasm') walk(path); } else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk(join(root, 'src'));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = file.slice(root.length);
    const helpers = HELPERS.filter((h) => h.file === rel);
    const re = /new (TypeError|RangeError|Error)\(/g;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      const line = text.slice(0, m.index).split('\n').length;
      // Every message starts with its function ('segloss.x: ' or '${fn}: '): other literals in the
      // call are the operands of a condition (activation === 'softmax' ? … : …).
      for (const message of messagesOf(text, m.index + m[0].length).filter((t) => /^(segloss|‹›)[\w.]*:? /.test(t))) {
        if (helpers.some((h) => h.type === m![1] && h.template === message)) continue;
        out.push({ type: m[1]!, message, where: `${rel}:${line}` });
      }
    }
    for (const h of helpers) {
      const call = new RegExp(`(?<!function )\\b${h.name}\\(`, 'g');
      let sites = 0;
      for (let m = call.exec(text); m; m = call.exec(text)) {
        const args = messagesOf(text, m.index + m[0].length);
        if (args.length < 2) throw new Error(`${rel}: a call of ${h.name} without its two string arguments`);
        out.push({ type: h.type, message: h.message(args), where: `${rel}:${text.slice(0, m.index).split('\n').length} (${h.name})` });
        sites++;
      }
      if (sites === 0) throw new Error(`${rel}: no call of the message helper ${h.name}: update HELPERS`);
    }
  }
  return out;
}

/**
 * The messages of the call whose arguments start at `at`: string and template literals at the top
 * level of the argument, those joined by `+` making one message, those separated by `?` / `:`
 * (a conditional) making several; ${…} becomes ‹›.
 */
function messagesOf(text: string, at: number): string[] {
  const messages: string[] = [];
  let current = '';
  let depth = 0;
  let i = at;
  const flush = () => { if (current !== '') messages.push(current); current = ''; };
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '`' || ch === "'" || ch === '"') {
      const [lit, end] = literal(text, i);
      if (depth === 0) current += lit;
      i = end;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && (ch === '?' || ch === ':' || ch === ',')) flush();
    i++;
  }
  flush();
  return messages;
}

/** A string or template literal starting at `at`: its text with ${…} as ‹›, and the index after it. */
function literal(text: string, at: number): [string, number] {
  const quote = text[at]!;
  let out = '';
  let i = at + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === '\\') { out += text[i + 1]; i += 2; continue; }
    if (quote === '`' && text[i] === '$' && text[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        const ch = text[i]!;
        if (ch === '`' || ch === "'" || ch === '"') { i = literal(text, i)[1]; continue; }
        if (ch === '{') depth++;
        else if (ch === '}') depth--;
        i++;
      }
      out += '‹›';
      continue;
    }
    out += text[i];
    i++;
  }
  return [out, i + 1];
}

describe('src/ has no error without a row', () => {
  it('every `new TypeError/RangeError/Error(...)` message in src/ matches a row of its class', () => {
    const messages = sourceMessages();
    expect(messages.length).toBeGreaterThan(60);
    // The internal heap invariant (releasing a pointer that was never allocated) cannot be reached
    // from the public API: free() checks first. It is not part of the contract.
    const internal = /is not an allocated block/;
    const missing = messages
      .filter((m) => !internal.test(m.message))
      .filter((m) => !TABLE.some((r) => r.type === m.type && r.regex.test(m.message.replaceAll('‹›', 'X'))))
      .map((m) => `${m.where} ${m.type}: ${m.message}`);
    expect(missing).toEqual([]);
  });
});

// -------------------------------------------------------- memory limits ---

describe('when Wasm memory cannot grow', () => {
  const oom = () => findRow('RangeError', 'cannot allocate').regex;
  const numbers = (message: string) => {
    const m = /cannot allocate (\d+) bytes: (\d+) bytes are available \(Wasm memory is (\d+) bytes, (\d+) in use, and cannot grow beyond (\d+) bytes\)/.exec(message);
    if (!m) throw new Error(`no figures in: ${message}`);
    const [asked, available, size, inUse, ceiling] = m.slice(1).map(Number) as [number, number, number, number, number];
    return { asked, available, size, inUse, ceiling };
  };

  /** Earlier WasmArrays with known data, and a reference loss computed from them before the limit. */
  function setup() {
    const x = alloc(Float32Array, n), g = alloc(Float32Array, n), grad = alloc(Float32Array, n);
    const c = context();
    x.view.set(c.x);
    g.view.set(c.g);
    const loss = diceLoss(x, g, { shape, activation: 'sigmoid', grad });
    return { x, g, grad, c, loss, gradBits: grad.view.slice() };
  }

  function expectStillUsable(s: ReturnType<typeof setup>): void {
    expect(Array.from(s.x.view)).toEqual(Array.from(s.c.x));
    expect(Array.from(s.g.view)).toEqual(Array.from(s.c.g));
    s.grad.view.fill(0);
    expect(diceLoss(s.x, s.g, { shape, activation: 'sigmoid', grad: s.grad })).toBe(s.loss);
    expect(Array.from(s.grad.view)).toEqual(Array.from(s.gradBits));
    const fresh = alloc(Float32Array, 16);
    expect(fresh.view.every((v) => v === 0)).toBe(true);
    fresh.free();
  }

  it('alloc past limitBytes: a RangeError with the bytes asked for and available; `available` bytes can then be allocated, one more page cannot', () => {
    const s = setup();
    const heap = runtime().heap;
    const saved = heap.limitBytes;
    heap.limitBytes = heap.memory.buffer.byteLength + 3 * 65536;
    try {
      const asked = heap.memory.buffer.byteLength + 4 * 65536; // more than memory holds: it must grow past the limit
      let error: unknown;
      try { alloc(Uint8Array, asked); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(RangeError);
      const message = (error as Error).message;
      expect(message).toMatch(oom());
      expect(message.startsWith('segloss.alloc: ')).toBe(true);
      const f = numbers(message);
      expect(f.asked).toBe(asked);
      expect(f.ceiling).toBe(heap.limitBytes);
      expect(f.available).toBeGreaterThanOrEqual(2 * 65536);
      expect(f.inUse).toBeGreaterThan(3 * n * 4);
      // The figure is exact: that many bytes can be allocated now, and then nothing beyond the limit.
      const all = alloc(Uint8Array, f.available);
      expect(heap.memory.buffer.byteLength).toBeLessThanOrEqual(heap.limitBytes);
      expect(() => alloc(Uint8Array, 65536)).toThrow(RangeError);
      all.free();
      expectStillUsable(s);
    } finally {
      heap.limitBytes = saved;
      s.x.free(); s.g.free(); s.grad.free();
    }
  });

  it('a refused memory.grow (the runtime at its maximum) gives the same RangeError; the instance stays usable', () => {
    const s = setup();
    const memory = runtime().heap.memory;
    const size = memory.buffer.byteLength;
    Object.defineProperty(memory, 'grow', { configurable: true, value: () => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); } });
    try {
      let error: unknown;
      try { alloc(Float32Array, size); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(RangeError);
      const f = numbers((error as Error).message);
      expect(f.asked).toBe(size * 4);
      expect(f.size).toBe(size);
      expect(f.ceiling).toBe(size);
      expect(memory.buffer.byteLength).toBe(size);
      expectStillUsable(s);
    } finally {
      delete (memory as unknown as { grow?: unknown }).grow;
      s.x.free(); s.g.free(); s.grad.free();
    }
  });

  it("a call whose staging memory cannot be had throws the table's RangeError before writing grad; after freeing memory the same call works", () => {
    const s = setup();
    const heap = runtime().heap;
    const saved = heap.limitBytes;
    // Inputs in the JS heap larger than any staging area so far: the call must take new staging blocks.
    const N = 3, C = 4, S = 50_000, len = N * C * S;
    const x = Float32Array.from({ length: len }, (_, i) => Math.sin(i));
    const g = Float32Array.from({ length: len }, (_, i) => (i % 7) / 6);
    const grad = new Float32Array(len).fill(7);
    heap.limitBytes = heap.memory.buffer.byteLength;
    const fillers: segloss.WasmArray[] = []; // every free byte taken
    while (heap.available(heap.limitBytes) >= 16) fillers.push(alloc(Uint8Array, heap.available(heap.limitBytes)));
    try {
      for (const call of [
        () => diceLoss(x, g, { shape: [N, C, S], activation: 'sigmoid', grad }),
        () => bceLoss(x, g, { shape: [N, C, S], activation: 'sigmoid', grad }),
        () => focalLoss(x, g, { shape: [N, C, S], activation: 'sigmoid', reduction: 'none' }),
      ]) {
        expect(call).toThrow(oom());
        expect(grad.every((v) => v === 7)).toBe(true);
      }
      expectStillUsable(s);
      for (const f of fillers.splice(0)) f.free();
      heap.limitBytes = saved;
      const loss = diceLoss(x, g, { shape: [N, C, S], activation: 'sigmoid', grad });
      expect(Number.isFinite(loss)).toBe(true);
      expect(grad.every(Number.isFinite)).toBe(true);
    } finally {
      heap.limitBytes = saved;
      for (const f of fillers) f.free();
      s.x.free(); s.g.free(); s.grad.free();
    }
  });
});
