// npm test: build, then the type check (tsc, strict), then the Node suite (vitest), then the browser suite (headless Chromium, see
// test/browser/run.mjs). Both suites run even if the first fails; the exit code is non-zero if either did.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Runs a command in the repository root with inherited stdio; returns its exit status and duration. */
function run(label, command, args) {
  console.log(`\n=== ${label}: ${[command, ...args].join(' ')}`);
  const t0 = performance.now();
  const { status, error } = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (error) console.error(error);
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  return { label, ok: status === 0, seconds };
}

const build = run('build', process.execPath, ['scripts/build.mjs']);
if (!build.ok) {
  console.error('\nnpm test: the build failed; no tests were run');
  process.exit(1);
}
const steps = [
  build,
  run('typecheck', npx, ['tsc', '-p', 'tsconfig.json']),
  run('node suite', npx, ['vitest', 'run']),
  run('browser suite', process.execPath, ['test/browser/run.mjs']),
];
console.log(`\n=== npm test: ${steps.map((s) => `${s.label} ${s.ok ? 'ok' : 'FAILED'} (${s.seconds} s)`).join(', ')}`);
process.exit(steps.every((s) => s.ok) ? 0 : 1);
