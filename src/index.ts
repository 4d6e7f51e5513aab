// segloss: segmentation and edge-detection losses with analytic gradients,
// computed by WebAssembly SIMD kernels. `await init()` once, then call.
export { init, backend, simdSupported, type InitOptions } from './runtime.ts';
export { alloc, WasmArray, type WasmArrayType, type WasmArrayConstructor } from './wasm-array.ts';
export {
  diceLoss, tverskyLoss, generalizedDiceLoss, diceStats, mergeStats, lossFromStats,
  type DiceOptions, type TverskyOptions, type GeneralizedDiceOptions, type RegionOptions,
  type LossFromStatsOptions, type ArrayArg, type TargetArg,
} from './dice.ts';
export {
  diceBceLoss, diceFocalLoss, crispEdgeLoss, diceCeLoss,
  type DiceBceOptions, type DiceFocalOptions, type CrispEdgeOptions, type DiceCeOptions,
} from './fused.ts';
export {
  diceLossReference, tverskyLossReference, generalizedDiceLossReference,
  type DiceResult as DiceReferenceResult, type TverskyReferenceOptions, type GeneralizedDiceReferenceOptions,
} from './reference/dice.ts';
export { bceLoss, focalLoss, bceLossReference, focalLossReference, type BceOptions, type FocalOptions } from './bce.ts';
export { confusion, diceScore, iouScore, precision, recall, fbetaScore, confusionReference, scoreReference, type ConfusionOptions, type Confusion, type ConfusionCounts, type ScoreOptions, type FbetaOptions, type ScoreFunction, type ScoreAverage, type ScoreEmpty, type MetricTarget, type ConfusionReferenceOptions, type ScoreReferenceOptions, type ScoreName } from './metrics.ts';
export {
  distanceTransform, signedDistance, boundaryLoss, hausdorffDTLoss,
  distanceTransformReference, signedDistanceReference, hausdorffFieldReference, boundaryLossReference, hausdorffDTLossReference,
  type DistanceOptions, type SignedDistanceOptions, type DistanceLossOptions, type BoundaryLossOptions, type HausdorffDTOptions,
  type DistanceReferenceOptions, type DistanceLossReferenceOptions, type DistanceLossReferenceResult,
} from './distance.ts';
export { clDiceLoss, type ClDiceOptions } from './skeleton.ts';
export { toleranceDiceLoss, type ToleranceDiceOptions, type PoolLossOptions } from './tolerance.ts';
export {
  clDiceLossReference, toleranceDiceLossReference, softSkeletonReference,
  type PoolReferenceResult, type ClDiceReferenceOptions, type ToleranceDiceReferenceOptions,
} from './reference/pool.ts';
export {
  boundaryF, edgeNms, boundaryFReference, edgeNmsReference,
  type BoundaryOptions, type BoundaryResult, type BoundaryCurvePoint, type EdgeNmsOptions,
  type BoundaryReferenceOptions, type EdgeNmsReferenceOptions,
} from './boundary.ts';
