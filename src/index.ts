// segloss: segmentation and edge-detection losses with analytic gradients,
// computed by WebAssembly SIMD kernels. `await init()` once, then call.
export { init, backend, simdSupported, type InitOptions } from './runtime.ts';
export { alloc, WasmArray, type WasmArrayType, type WasmArrayConstructor } from './wasm-array.ts';
export { diceLoss, type DiceOptions, type ArrayArg } from './dice.ts';
export { diceLossReference, type DiceResult as DiceReferenceResult } from './reference/dice.ts';
export { bceLoss, focalLoss, bceLossReference, focalLossReference, type BceOptions, type FocalOptions } from './bce.ts';
