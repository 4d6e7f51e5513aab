// The public functions under property test: one entry per function. Adding a function to every
// property suite is one entry here: its name, an arbitrary of JSON cases ('small' for the 2,000-case
// suite, 'large' for the multi-chunk one) and `problem(case)` (arrays, the call, and the comparison with
// its float64 reference; see cases.ts and cases-spatial.ts). mergeStats and lossFromStats are checked
// by sharding (stats.test.ts). boundaryF and edgeNms are not here: their references
// (boundaryFReference, edgeNmsReference) are compared count for count in test/boundary.test.ts, and the
// fuzz and error-contract suites cover their boundary.
import type fc from 'fast-check';
import {
  regionArb, regionProblem, statsProblem, bceArb, bceProblem, focalArb, focalProblem, fusedArb, fusedProblem,
  crispArb, crispProblem, diceCeArb, diceCeProblem, metricArb, metricProblem, type Problem, type Size, type MetricFn,
} from './cases.ts';
import { mapArb, mapProblem, distanceLossArb, distanceLossProblem, poolArb, poolProblem } from './cases-spatial.ts';

/** One public function as the property suites see it. */
export interface FunctionEntry {
  /** The export's name. */
  readonly name: string;
  /** Cases of the function: JSON objects. */
  arbitrary(size: Size): fc.Arbitrary<unknown>;
  /** The arrays, call and reference check of a case. */
  problem(c: unknown): Problem;
}

function entry<C>(name: string, arbitrary: (size: Size) => fc.Arbitrary<C>, problem: (c: C) => Problem): FunctionEntry {
  return { name, arbitrary, problem: problem as (c: unknown) => Problem };
}

const metric = (fn: MetricFn) => entry(fn, (size) => metricArb(fn, size), metricProblem);

export const FUNCTIONS: readonly FunctionEntry[] = [
  entry('diceLoss', (size) => regionArb('dice', size), regionProblem),
  entry('tverskyLoss', (size) => regionArb('tversky', size), regionProblem),
  entry('generalizedDiceLoss', (size) => regionArb('generalizedDice', size), regionProblem),
  entry('diceStats', (size) => regionArb('dice', size), statsProblem),
  entry('diceBceLoss', fusedArb('diceBceLoss'), fusedProblem),
  entry('diceFocalLoss', fusedArb('diceFocalLoss'), fusedProblem),
  entry('crispEdgeLoss', crispArb, crispProblem),
  entry('diceCeLoss', diceCeArb, diceCeProblem),
  entry('bceLoss', bceArb, bceProblem),
  entry('focalLoss', focalArb, focalProblem),
  metric('confusion'),
  metric('diceScore'),
  metric('iouScore'),
  metric('precision'),
  metric('recall'),
  metric('fbetaScore'),
  entry('distanceTransform', mapArb('distanceTransform'), mapProblem),
  entry('signedDistance', mapArb('signedDistance'), mapProblem),
  entry('boundaryLoss', distanceLossArb('boundaryLoss'), distanceLossProblem),
  entry('hausdorffDTLoss', distanceLossArb('hausdorffDTLoss'), distanceLossProblem),
  entry('clDiceLoss', poolArb('clDiceLoss'), poolProblem),
  entry('toleranceDiceLoss', poolArb('toleranceDiceLoss'), poolProblem),
];

/** The entry of a function by name (regression tests name theirs). */
export function functionNamed(name: string): FunctionEntry {
  const f = FUNCTIONS.find((e) => e.name === name);
  if (!f) throw new Error(`no property entry for ${name}`);
  return f;
}
