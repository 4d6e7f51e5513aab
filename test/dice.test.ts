// diceLoss against the float64 reference (src/reference/dice.ts) over every
// option combination and many shapes, plus the properties that need no oracle:
// misaligned arguments, determinism, and the scalar build equal to the SIMD one.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { init, backend, simdSupported, diceLoss, diceLossReference } from '../src/index.ts';
import {
  Rng, Failures, ACTIVATION_MASKS, TARGET_VARIANTS, SMOOTHINGS, flagGrid, randomOptionSet, randomShape,
  splitSpatial, minChannels, spec, makeCase, runCase, referenceMismatch, bitsMismatch, misaligned,
  describeCase, lossTolerance, type OptionSet, type DiceCase, type DiceOutput,
} from './helpers.ts';

beforeAll(async () => {
  await init();
});

/** Runs a case and checks it against the reference, recording any mismatch. */
function check(f: Failures, c: DiceCase): void {
  let out: DiceOutput;
  try {
    out = runCase(c);
  } catch (e) {
    f.add(`threw ${String(e)}: ${describeCase(c)}`);
    return;
  }
  f.add(referenceMismatch(c, out));
}

describe('diceLoss matches the float64 reference for every option combination', () => {
  // For each activation × mask × target × ignoreIndex: all 32 combinations of
  // includeBackground, squared, jaccard, batch, weight, times the 3 reductions,
  // each on a small and a medium random shape; the smoothing pair cycles.
  let seed = 1000;
  for (const [activation, mask] of ACTIVATION_MASKS) {
    for (const [target, ignore] of TARGET_VARIANTS) {
      const name = `activation ${activation}, mask ${mask}, target ${target}, ignoreIndex ${ignore}`;
      const rngSeed = seed++;
      it(`${name}: 96 flag/reduction combinations × 2 shapes`, () => {
        const rng = new Rng(rngSeed);
        const f = new Failures();
        flagGrid().forEach((flags, k) => {
          const [smoothNr, smoothDr] = SMOOTHINGS[k % SMOOTHINGS.length]!;
          const set: OptionSet = { activation, mask, target, ignore, smoothNr, smoothDr, ...flags };
          check(f, makeCase(spec(set, randomShape(rng, set, rng.int(1, 17)), rng.seed())));
          check(f, makeCase(spec(set, randomShape(rng, set, rng.int(18, 300)), rng.seed())));
        });
        expect(f.summary()).toEqual([]);
        expect(f.checked).toBe(192);
      });
    }
  }
});

describe('every length 1..17 (every tail of the 8-lane blocks)', () => {
  it('total length 1..17, every [N ≤ 3, C ≤ 5, S] factorisation, for 24 random option sets each', () => {
    const rng = new Rng(17);
    const f = new Failures();
    for (let L = 1; L <= 17; L++) {
      for (let N = 1; N <= 3; N++) {
        for (let C = 1; C <= 5; C++) {
          if (L % (N * C) !== 0) continue;
          for (let k = 0; k < 24; k++) {
            const set = randomOptionSet(rng);
            if (C < minChannels(set)) set.activation = 'sigmoid';
            if (C < minChannels(set)) set.includeBackground = true;
            check(f, makeCase(spec(set, [N, C, ...splitSpatial(rng, L / (N * C))], rng.seed())));
          }
        }
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('row length S = 1..17 for every activation × mask × target × ignoreIndex (random N, C, flags)', () => {
    const rng = new Rng(18);
    const f = new Failures();
    for (const [activation, mask] of ACTIVATION_MASKS) {
      for (const [target, ignore] of TARGET_VARIANTS) {
        for (let S = 1; S <= 17; S++) {
          const set = randomOptionSet(rng, { activation, mask, target, ignore });
          check(f, makeCase(spec(set, randomShape(rng, set, S), rng.seed())));
        }
      }
    }
    expect(f.summary()).toEqual([]);
    expect(f.checked).toBe(8 * 11 * 17);
  });

  it('default options and shape [1, 1, L] when options are omitted, L = 1..17 and 1000..1040', () => {
    const rng = new Rng(19);
    const f = new Failures();
    const lengths = [...Array.from({ length: 17 }, (_, i) => i + 1), ...Array.from({ length: 41 }, (_, i) => 1000 + i)];
    for (const L of lengths) {
      const set = randomOptionSet(rng, { activation: 'none', target: rng.pick(['f32', 'u8'] as const), mask: 'none', reduction: 'mean' });
      const c = makeCase(spec(set, [1, 1, L], rng.seed()));
      const loss = diceLoss(c.input, c.target);
      const ref = diceLossReference(c.input, c.target);
      f.add(typeof ref.loss === 'number' && Math.abs(loss - ref.loss) <= lossTolerance(Math.abs(ref.loss)) ? null : `L=${L}: ${loss} vs ${String(ref.loss)}`);
    }
    expect(f.summary()).toEqual([]);
  });
});

describe('larger inputs', () => {
  it('a few thousand elements ([2, 3, 37, 41] and [3, 2, 1517]) for every activation × mask × target × ignoreIndex', () => {
    const rng = new Rng(20);
    const f = new Failures();
    for (const [activation, mask] of ACTIVATION_MASKS) {
      for (const [target, ignore] of TARGET_VARIANTS) {
        const set = randomOptionSet(rng, { activation, mask, target, ignore });
        const shape = rng.chance(0.5) ? [2, 3, 37, 41] : [3, 2, 1517];
        check(f, makeCase(spec(set, shape, rng.seed())));
      }
    }
    expect(f.summary()).toEqual([]);
  });

  it('[2, 2, 300, 301]: 180,600 elements per sample, streamed in several chunks, for each activation, target and mask', () => {
    const rng = new Rng(21);
    const f = new Failures();
    const sets: Partial<OptionSet>[] = [
      { activation: 'none', target: 'f32', mask: 'none', squared: true },
      { activation: 'none', target: 'u8', mask: 'element', jaccard: true },
      { activation: 'sigmoid', target: 'f32', mask: 'pixel', batch: true },
      { activation: 'sigmoid', target: 'idx-u16', ignore: 'out-of-range', mask: 'element' },
      { activation: 'sigmoid', target: 'u8', mask: 'none', reduction: 'sum' },
      { activation: 'softmax', target: 'idx-u8', ignore: 'out-of-range', mask: 'none', includeBackground: false },
      { activation: 'softmax', target: 'idx-i32', ignore: 'in-range', mask: 'pixel', squared: true },
      { activation: 'softmax', target: 'f32', mask: 'none', jaccard: true, reduction: 'none' },
    ];
    for (const fixed of sets) {
      const set = randomOptionSet(rng, { reduction: 'mean', ...fixed });
      check(f, makeCase(spec(set, [2, 2, 300, 301], rng.seed())));
    }
    expect(f.summary()).toEqual([]);
  });

  it('C = 40 softmax ([2, 40, 33, 35]: chunks of 1024 pixels × 40 channels)', () => {
    const rng = new Rng(22);
    const f = new Failures();
    for (const [target, ignore] of [['idx-u8', 'out-of-range'], ['idx-i32', 'in-range'], ['f32', 'none'], ['u8', 'none']] as const) {
      const set = randomOptionSet(rng, { activation: 'softmax', target, ignore, reduction: rng.pick(['mean', 'sum'] as const) });
      check(f, makeCase(spec(set, [2, 40, 33, 35], rng.seed())));
    }
    expect(f.summary()).toEqual([]);
  });
});

/** Random cases over all activations, targets, masks and both tails, small to chunked. */
function mixedCases(seed: number, count: number, withLarge: boolean): DiceCase[] {
  const rng = new Rng(seed);
  const cases: DiceCase[] = [];
  for (let k = 0; k < count; k++) {
    const [activation, mask] = ACTIVATION_MASKS[k % ACTIVATION_MASKS.length]!;
    const [target, ignore] = TARGET_VARIANTS[k % TARGET_VARIANTS.length]!;
    const set = randomOptionSet(rng, { activation, mask, target, ignore });
    const S = k % 3 === 0 ? rng.int(1, 17) : k % 3 === 1 ? rng.int(18, 200) : rng.int(1000, 3000);
    cases.push(makeCase(spec(set, randomShape(rng, set, S), rng.seed())));
  }
  if (withLarge) {
    cases.push(makeCase(spec(randomOptionSet(rng, { activation: 'sigmoid', mask: 'element', target: 'f32', reduction: 'mean' }), [2, 2, 300, 301], rng.seed())));
    cases.push(makeCase(spec(randomOptionSet(rng, { activation: 'softmax', mask: 'pixel', target: 'idx-u16', reduction: 'sum' }), [1, 3, 200, 201], rng.seed())));
  }
  return cases;
}

describe('misaligned arguments', () => {
  it('input, target, mask and grad as subarrays at odd offsets give the bits of the aligned call and write nothing outside grad', () => {
    const f = new Failures();
    mixedCases(30, 60, true).forEach((c, k) => {
      if (c.spec.reduction === 'none') c.spec.reduction = 'mean';
      const aligned = runCase(c);
      const byteOffset = 1 + (k % 3); // 1, 2, 3 elements: every misalignment of a byte array
      const input = misaligned(c.input, 1 + (k % 3), 0.5).view;
      const target = misaligned(c.target, c.target instanceof Uint8Array ? byteOffset : 1 + (k % 2)).view;
      const mask = c.mask && misaligned(c.mask, byteOffset, 1).view;
      const sentinel = 7;
      const grad = misaligned(new Float32Array(c.input.length), 3 - (k % 3), sentinel);
      grad.view.fill(NaN);
      const out = runCase(c, { input, target, mask, grad: grad.view });
      const mismatch = bitsMismatch(aligned, out);
      f.add(mismatch && `${mismatch}: ${describeCase(c)}`);
      const before = grad.parent.subarray(0, grad.view.byteOffset / 4);
      const after = grad.parent.subarray(grad.view.byteOffset / 4 + grad.view.length);
      f.add([...before, ...after].every((v) => v === sentinel) ? null : `wrote outside grad: ${describeCase(c)}`);
    });
    expect(f.summary()).toEqual([]);
  });
});

describe('determinism', () => {
  it('the same call twice gives the same bits (loss and every gradient element); the loss does not depend on asking for grad', () => {
    const f = new Failures();
    for (const c of mixedCases(40, 40, true)) {
      const first = runCase(c);
      const second = runCase(c);
      const m = bitsMismatch(first, second);
      f.add(m && `${m}: ${describeCase(c)}`);
      if (c.spec.reduction !== 'none') {
        const noGrad = runCase(c, { grad: null });
        f.add(Object.is(noGrad.loss, first.loss) ? null : `loss without grad ${String(noGrad.loss)} vs ${String(first.loss)}: ${describeCase(c)}`);
      }
    }
    expect(f.summary()).toEqual([]);
  });
});

describe('scalar and SIMD builds', () => {
  afterAll(async () => {
    // init() switches builds for the whole module: leave the SIMD one in place.
    await init();
  });

  it.skipIf(!simdSupported())('give bit-identical losses and gradients on 52 cases covering every activation, target, mask and tail', async () => {
    const cases = mixedCases(50, 50, true);
    await init({ simd: false });
    expect(backend()).toBe('scalar');
    const scalar = cases.map((c) => runCase(c));
    await init({ simd: true });
    expect(backend()).toBe('simd');
    const simd = cases.map((c) => runCase(c));
    const f = new Failures();
    cases.forEach((c, k) => {
      const m = bitsMismatch(scalar[k]!, simd[k]!);
      f.add(m && `${m}: ${describeCase(c)}`);
      f.add(referenceMismatch(c, simd[k]!)); // and both are right, not merely equal
    });
    expect(f.summary()).toEqual([]);
  });
});

describe('finite outputs on empty classes', () => {
  // Predictions all 0 ('none' activation) and/or targets all 0, every smoothing
  // pair from {0, 1e-5, 1}, dice / jaccard, plain / squared.
  const smooth = [0, 1e-5, 1];
  const kinds = [
    { name: 'empty prediction and empty target', p: 0, g: 0 },
    { name: 'empty prediction, labelled target', p: 0, g: 1 },
    { name: 'prediction, empty target', p: 0.5, g: 0 },
  ];
  for (const kind of kinds) {
    it(`${kind.name}: finite loss and gradient, equal to the reference, for every smoothing`, () => {
      const f = new Failures();
      for (const smoothNr of smooth) for (const smoothDr of smooth) for (const jaccard of [false, true]) for (const squared of [false, true]) {
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          const input = new Float32Array(2 * 2 * 9).fill(kind.p);
          const target = new Float32Array(2 * 2 * 9).fill(kind.g);
          const set: OptionSet = {
            activation: 'none', target: 'f32', ignore: 'none', mask: 'none', includeBackground: true,
            squared, jaccard, batch: false, weight: false, reduction, smoothNr, smoothDr,
          };
          const c: DiceCase = { spec: spec(set, [2, 2, 3, 3], 0), input, target, mask: undefined, ignoreIndex: undefined, weight: undefined };
          const out = runCase(c);
          const values = [...(typeof out.loss === 'number' ? [out.loss] : out.loss), ...(out.grad ?? [])];
          f.add(values.every(Number.isFinite) ? null : `non-finite output: ${describeCase(c)}`);
          f.add(referenceMismatch(c, out));
        }
      }
      expect(f.summary()).toEqual([]);
    });
  }

  it('0/0 (nothing predicted, nothing labelled, smoothNr = smoothDr = 0) counts as a perfect match: loss 0, gradient 0, like the reference', () => {
    for (const mode of ['all zeros', 'everything masked out'] as const) {
      const input = new Float32Array(12).fill(mode === 'all zeros' ? 0 : 0.3);
      const target = new Float32Array(12).fill(mode === 'all zeros' ? 0 : 1);
      const mask = mode === 'all zeros' ? undefined : new Uint8Array(6);
      const options = { shape: [2, 2, 3], smoothNr: 0, smoothDr: 0, ...(mask ? { mask } : {}) };
      const grad = new Float32Array(12).fill(NaN);
      const loss = diceLoss(input, target, { ...options, grad });
      const ref = diceLossReference(input, target, options);
      expect(ref.loss).toBe(0);
      expect(loss).toBe(0);
      expect(Array.from(grad)).toEqual(new Array(12).fill(0));
      // (The cast: src/dice.ts lists the `reduction: 'none'` overload after the general one, so TS picks `number`.)
      const entries = diceLoss(input, target, { ...options, reduction: 'none' }) as unknown as Float64Array;
      expect(entries).toBeInstanceOf(Float64Array);
      expect(Array.from(entries)).toEqual([0, 0, 0, 0]);
    }
  });
});

describe('logits beyond the float32 range of exp', () => {
  // e^-104 < 2^-149, the smallest float32 subnormal: sigmoid(-x) for x ≥ 104, and
  // a softmax probability whose logit is ≥ 104 below the pixel's maximum, round
  // to 0 in float32 however they are computed, so their gradient is ~0 as in the
  // reference, not that of a probability stuck at some floor near 1e-38. Each
  // case puts the extreme element next to ordinary ones (gradient coefficients
  // of order 1). Allowed error: 1e-5 relative plus 2^-130 (1/16 of the smallest
  // normal float32).
  const gaps = [104, 200, 1000];
  const close = (got: number, want: number): boolean => Math.abs(got - want) <= 1e-5 * Math.abs(want) + 2 ** -130;

  it(`sigmoid(-x) for x in ${gaps.join(', ')}: gradient as the reference`, () => {
    for (const gap of gaps) {
      const input = new Float32Array([-gap, 2, -1]);
      const target = new Float32Array([0, 1, 0]);
      const grad = new Float32Array(3);
      diceLoss(input, target, { activation: 'sigmoid', grad });
      const ref = diceLossReference(input, target, { activation: 'sigmoid' }).grad!;
      for (let i = 0; i < 3; i++) expect(close(grad[i]!, ref[i]!), `x = -${gap}: grad[${i}] ${grad[i]} vs ${ref[i]}`).toBe(true);
    }
  });

  it(`softmax over logits (0, -x) for x in ${gaps.join(', ')}: gradient as the reference`, () => {
    for (const gap of gaps) {
      // Two pixels, channels first: pixel 0 has logits (0, -gap), pixel 1 (-1, 1).
      const input = new Float32Array([0, -1, -gap, 1]);
      const target = new Float32Array([1, 0, 0, 1]);
      const options = { activation: 'softmax', shape: [1, 2, 2] } as const;
      const grad = new Float32Array(4);
      diceLoss(input, target, { ...options, grad });
      const ref = diceLossReference(input, target, options).grad!;
      for (let i = 0; i < 4; i++) expect(close(grad[i]!, ref[i]!), `gap ${gap}: grad[${i}] ${grad[i]} vs ${ref[i]}`).toBe(true);
    }
  });
});

describe('softmax gradient of confident pixels', () => {
  // Two channels, background dropped: dL/dx_1 = p_1·(q_1 − p_1·q_1) = p_0·p_1·q_1
  // and dL/dx_0 = −p_0·p_1·q_1, so both have the same size. Computed as
  // p_1·(q_1 − Σ_c p_c·q_c) in float32, the subtraction cancels as p_1 → 1 and
  // loses log10(1/(1 − p_1)) digits; computing 1 − p_1 as Σ_{c≠1} p_c avoids it.
  // Checked with the plain tolerance, 1e-5 × max|reference gradient|.
  it('logits (0, x) for x = 4..12, target class 1: both gradient elements to 1e-5 of the largest', () => {
    const f = new Failures();
    for (const x of [4, 6, 8, 10, 12]) {
      const input = new Float32Array([0, x]);
      const target = new Uint8Array([1]);
      const options = { shape: [1, 2, 1], activation: 'softmax', target: 'indices', includeBackground: false } as const;
      const grad = new Float32Array(2);
      diceLoss(input, target, { ...options, grad });
      const ref = diceLossReference(input, target, options).grad!;
      const tol = 1e-5 * Math.max(Math.abs(ref[0]!), Math.abs(ref[1]!));
      for (let i = 0; i < 2; i++) f.add(Math.abs(grad[i]! - ref[i]!) <= tol ? null : `x = ${x}: grad[${i}] = ${grad[i]}, reference ${ref[i]}`);
    }
    expect(f.summary()).toEqual([]);
  });
});

describe('absurd smoothing', () => {
  it('smoothNr = 1, smoothDr = 0 over a near-empty prediction: finite gradient (coefficients clamped at ±1e30 by design) with the reference sign', () => {
    // D = Σp² = 1e-36: the exact coefficient smoothNr/D² = 1e72 overflows float32.
    const input = new Float32Array([1e-18, 0, 0.5, 0.25]);
    const target = new Float32Array([0, 0, 1, 1]);
    const options = { shape: [1, 2, 2], squared: true, smoothNr: 1, smoothDr: 0 } as const;
    const grad = new Float32Array(4);
    const loss = diceLoss(input, target, { ...options, grad });
    const ref = diceLossReference(input, target, options);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Math.abs(loss - (ref.loss as number)) / Math.abs(ref.loss as number)).toBeLessThan(1e-6);
    expect(Array.from(grad).every(Number.isFinite)).toBe(true);
    expect(Array.from(grad).map(Math.sign)).toEqual(Array.from(ref.grad!).map(Math.sign));
  });
});

