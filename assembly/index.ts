// The module's exports: numbers and pointers only. Memory above `heapBase` is
// managed by the bindings (src/memory.ts).
export { diceScratchBytes, diceSums, diceEpilogue, diceGradient } from './dice';
export { bceScratchBytes, bceCounts, bceForward, focalSoftmaxCounts, focalSoftmaxForward } from './bce';
export const heapBase: usize = __heap_base;
