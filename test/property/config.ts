// Settings of the property suites: one fixed seed (printed, so a run can be repeated exactly) and the
// number of generated cases per function.
//
//   SEGLOSS_PROPERTY_RUNS=20000 npx vitest run test/property    more cases (default 2000 per function)
//   SEGLOSS_PROPERTY_SEED=123 npx vitest run test/property      another seed (default 20251128)
//
// fast-check prints the seed, the path and the shrunk counterexample of a failure; the counterexample
// is a plain JSON case that test/property/regressions.test.ts can keep as a permanent test.
import type { Parameters } from 'fast-check';

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer; got ${text}`);
  return v;
}

/** The base seed of every property suite. */
export const SEED = positiveInteger('SEGLOSS_PROPERTY_SEED', 20251128);
/** Cases per public function (the CI runs the default, 2000). */
export const RUNS = positiveInteger('SEGLOSS_PROPERTY_RUNS', 2000);

/** A stable 31-bit hash of a name: each property gets its own seed derived from SEED. */
function hash(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 1) & 0x3fffffff;
}

/** fast-check parameters of the property called `name`: its seed and `runs` cases (default RUNS). */
export function params<T>(name: string, runs = RUNS): Parameters<T> {
  const seed = (SEED + hash(name)) | 0;
  return { seed, numRuns: runs, endOnFailure: false };
}

/** The line each property suite prints once, so that its numbers can be repeated. */
export function banner(suite: string): string {
  return `[segloss property] ${suite}: SEGLOSS_PROPERTY_SEED=${SEED} SEGLOSS_PROPERTY_RUNS=${RUNS}`;
}
