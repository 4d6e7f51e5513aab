// The module's exports: numbers and pointers only. Memory above `heapBase` is
// managed by the bindings (src/memory.ts).
export { diceScratchBytes, diceSums, diceGradient, diceBceSums, diceCeSums, diceCeGradient } from './dice';
export { regionEpilogue, sumRows } from './region';
export { bceScratchBytes, bceCounts, bceForward, focalSoftmaxCounts, focalSoftmaxForward } from './bce';
export { metricScratchBytes, metricCounts, metricLogit } from './metrics';
export {
  poolCheck, poolSigmoid, erodeCross, maxPoolTempBytes, maxPoolBox, skeletonWorkBytes, softSkeleton,
  pairedSums, clDiceGradient, toleranceGradient,
} from './pool';
export { distanceScratchBytes, distanceMap, distanceCheck, distanceProbabilities, distanceLossTerms, distanceLossGradient } from './distance';
export { boundaryScratchBytes, boundaryCounts, edgeNmsScratchBytes, edgeNms } from './boundary';
export const heapBase: usize = __heap_base;
