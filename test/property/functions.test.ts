// Property tests of every public loss and metric (the table in functions.ts): RUNS generated cases
// per function (2,000 by default; SEGLOSS_PROPERTY_RUNS raises it), each run four ways (harness.ts):
// against the float64 reference, misaligned, zero copy with guard bytes, and on the scalar build.
// A failure prints fast-check's seed, path and shrunk case; keep it in regressions.test.ts.
import { describe, it, beforeAll } from 'vitest';
import fc from 'fast-check';
import { FUNCTIONS } from './functions.ts';
import { checkAllWays, layoutArb, loadInstances, type Instances } from './harness.ts';
import { params, banner, RUNS } from './config.ts';

let apis: Instances;
beforeAll(async () => {
  apis = await loadInstances();
  console.log(banner('functions'));
});

describe(`every public function, ${RUNS} cases each`, () => {
  for (const f of FUNCTIONS) {
    it(`${f.name}: reference, finite, misaligned, zero copy, SIMD == scalar`, () => {
      const t0 = performance.now();
      fc.assert(fc.property(f.arbitrary('small'), layoutArb, (c, layout) => {
        const failure = checkAllWays(f.problem(c), layout, apis);
        if (failure !== null) throw new Error(`${f.name}: ${failure}`);
      }), params(f.name));
      const seconds = (performance.now() - t0) / 1000;
      console.log(`[segloss property] ${f.name}: ${RUNS} cases in ${seconds.toFixed(1)} s (${(RUNS / seconds).toFixed(0)} cases/s)`);
    });
  }
});
