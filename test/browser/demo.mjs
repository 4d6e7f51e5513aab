// Browser test of the live training page (examples/demo, `npm run demo`): serves the repository with
// the demo's own server (scripts/demo.mjs), opens the page in Chromium, waits until the worker has
// trained the three networks for the page's default number of steps, and checks that
//   - the page ran without errors and recorded a loss for every step of every run,
//   - every loss curve went down: mean of the last k recorded losses < mean of the first k,
//   - Dice + BCE reached a higher held-out F-score than plain BCE at the last step;
// then saves a screenshot to out/demo.png (out/ is not committed).
// Everything the checks read is seeded (examples/lib/rng.mjs): the same numbers on every run.
//
// Used by test/browser/run.mjs; on its own: node test/browser/demo.mjs (after npm run build).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '../../scripts/demo.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** @typedef {{ name: string, ok: boolean, detail: string }} CheckResult */

/**
 * Runs the demo page in `browser` and checks it (see the file comment).
 * @param {import('playwright-core').Browser} browser
 * @param {{ screenshot?: string, timeoutMs?: number }} [options] where to save the screenshot
 *   (default out/demo.png); how long to wait for training to finish (default 240 s)
 * @returns {Promise<CheckResult[]>} one entry per check
 */
export async function checkDemo(browser, { screenshot = join(root, 'out/demo.png'), timeoutMs = 240_000 } = {}) {
  const t0 = performance.now();
  const { server, url } = await startServer({ port: 0 });
  const page = await browser.newPage({ viewport: { width: 1120, height: 1000 } });
  /** @type {string[]} */
  const log = [];
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') log.push(`console.error: ${m.text()}`); });
  page.on('requestfailed', (r) => log.push(`request failed: ${r.url()}`));
  page.on('response', (r) => { if (r.status() >= 400) log.push(`HTTP ${r.status()}: ${r.url()}`); });
  /** @type {CheckResult[]} */
  const results = [];
  const add = (/** @type {string} */ name, /** @type {boolean} */ ok, detail = '') => results.push({ name: `demo: ${name}`, ok, detail });
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.body.dataset.demo === 'done' || document.body.dataset.demo === 'error',
      null, { timeout: timeoutMs, polling: 250 });
    // Two animation frames: the page draws the last messages in the next frame.
    await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(undefined)))));
    const state = await page.evaluate(() => /** @type {any} */ (window).__demo);
    const isolated = await page.evaluate(() => self.crossOriginIsolated);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    add('page trained without errors', !state.error && log.length === 0,
      state.error ? state.error : log.length ? log.join('\n      ') : `${state.options.steps} steps per loss, backend ${state.backend}, `
        + `cross-origin isolated ${isolated}, ${seconds} s in all (training ${(state.wallMs / 1000).toFixed(1)} s)`);
    if (state.error) return results;

    const steps = state.options.steps;
    const k = Math.max(10, Math.floor(steps / 10));
    const mean = (/** @type {number[]} */ v) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const [loss, values] of Object.entries(/** @type {Record<string, number[]>} */ (state.losses))) {
      const first = mean(values.slice(0, k));
      const last = mean(values.slice(-k));
      const complete = values.length === steps && values.every(Number.isFinite);
      add(`${loss} loss went down (mean of the last ${k} steps < mean of the first ${k})`, complete && last < first,
        `${values.length}/${steps} finite losses; first ${first.toFixed(4)}, last ${last.toFixed(4)}, `
        + `${state.msPerCall[loss].toFixed(3)} ms per segloss call`);
    }
    const final = state.evals[state.evals.length - 1];
    const f = (/** @type {string} */ loss) => final.f[loss];
    const describe = (/** @type {string} */ loss) => `${loss} F ${f(loss).f.toFixed(3)} (P ${f(loss).precision.toFixed(3)}, R ${f(loss).recall.toFixed(3)})`;
    add('Dice + BCE reached a higher held-out F-score than plain BCE', final.step === steps && f('dice-bce').f > f('bce').f,
      `at step ${final.step}: ${describe('dice-bce')}, ${describe('bce')}, ${describe('balanced-bce')}; `
      + `every pixel an edge: F ${state.chance.f.toFixed(3)}; ${state.options.test} held-out images`);

    mkdirSync(join(screenshot, '..'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    add('screenshot saved', true, screenshot);
  } catch (e) {
    add('page ran to the end', false, `${e instanceof Error ? e.message : String(e)}${log.length ? `\n      ${log.join('\n      ')}` : ''}`);
  } finally {
    await page.close();
    server.close();
  }
  return results;
}

// Standalone: launch Chromium like test/browser/run.mjs and print the checks.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { existsSync } = await import('node:fs');
  const { chromium } = await import('playwright-core');
  const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
    .filter(Boolean).find((p) => existsSync(/** @type {string} */ (p)));
  if (!executablePath) {
    console.log('no Chromium found (set CHROMIUM_PATH)');
    process.exit(1);
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  let failed = 0;
  try {
    for (const r of await checkDemo(browser)) {
      if (!r.ok) failed++;
      console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}${r.detail ? `  (${r.detail})` : ''}`);
    }
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
