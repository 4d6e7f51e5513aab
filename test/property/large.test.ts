// The same four-way check as functions.test.ts on large cases (9,000–53,000 elements per row): JS-heap
// arrays then stream through several chunks of the staging area (by samples, or by row segments), so
// chunked and zero-copy calls are compared where their paths really differ. RUNS / 400 cases per
// function (5 by default: each case is ~100× a small one).
import { describe, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { FUNCTIONS } from './functions.ts';
import { checkAllWays, layoutArb, loadInstances, type Instances } from './harness.ts';
import { params, banner, RUNS } from './config.ts';

const LARGE_RUNS = Math.max(3, Math.round(RUNS / 400));

let apis: Instances;
beforeAll(async () => {
  apis = await loadInstances();
  console.log(banner('large'));
});

describe(`every public function on multi-chunk inputs, ${LARGE_RUNS} cases each`, () => {
  for (const f of FUNCTIONS) {
    it(`${f.name}: chunked == zero copy == scalar, and the reference`, () => {
      fc.assert(fc.property(f.arbitrary('large'), layoutArb, (c, layout) => {
        const failure = checkAllWays(f.problem(c), layout, apis);
        if (failure !== null) throw new Error(`${f.name}: ${failure}`);
      }), params(`large ${f.name}`, LARGE_RUNS));
    });
  }
});
