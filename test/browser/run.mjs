// The browser suite: the built module (build/segloss.js, made by `npm run build`) in headless Chromium,
// compared bit for bit with the same module in Node. Checks:
//   node:     the conformance vectors in Node (scalar == SIMD, every memory placement agrees, no errors)
//   page:     the vectors in a page (`import * as segloss from '/build/segloss.js'`) == Node's hashes
//   plain:    test/browser/plain.html, a bare module script tag, computes one loss == Node's bits
//   worker:   the vectors in a module Web Worker == Node's hashes
//   bundle:   test/browser/bundle/ bundled by Vite (production, minified): one loss and the vectors == Node's
//   demo:     the live training page of `npm run demo` trains; its losses fall; Dice + BCE beats BCE (test/browser/demo.mjs)
// Prints PASS/FAIL per check and ends with "N passed, M failed"; exits 1 on any failure.
// Chromium: $CHROMIUM_PATH, else /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome.
// None found: a warning, and exit 0 (exit 1 instead when SEGLOSS_REQUIRE_BROWSER=1, as in .ci/run).
// Usage: node test/browser/run.mjs   (after npm run build)
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = join(root, 'build/segloss.js');
const started = performance.now();

let passed = 0;
let failed = 0;
function report(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}
function finish() {
  console.log(`browser suite: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
const seconds = (t0) => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

if (!existsSync(built)) {
  report('build/segloss.js exists', false, 'run `npm run build` first');
  finish();
}

/** Whether every `check:` entry of a vectors run is 'ok' (a skipped SIMD check fails: CI wants both builds). */
function selfChecks(results) {
  const bad = results.filter((r) => r.name.startsWith('check:') && r.hash !== 'ok');
  return bad.map((r) => `${r.name}: ${r.hash.slice(0, 600)}`);
}

/** Differences between two vectors runs, naming each case and both losses. */
function compare(expected, actual) {
  const got = new Map(actual.map((r) => [r.name, r]));
  const problems = [];
  for (const e of expected) {
    const a = got.get(e.name);
    if (!a) problems.push(`missing ${e.name}`);
    else if (a.hash !== e.hash) problems.push(`${e.name}: Node ${e.hash} loss ${e.loss} | browser ${a.hash} loss ${a.loss}`);
    got.delete(e.name);
  }
  for (const name of got.keys()) problems.push(`unexpected ${name}`);
  return problems;
}

function reportVectors(label, expected, actual, t0) {
  const problems = compare(expected, actual);
  const own = selfChecks(actual);
  const cases = expected.filter((r) => !r.name.startsWith('check:')).length;
  report(`${label}: ${cases} vector hashes identical to Node's`, problems.length === 0,
    problems.length ? `${problems.length} differ:\n      ${problems.slice(0, 20).join('\n      ')}` : seconds(t0));
  report(`${label}: self-checks (scalar == SIMD, placements agree, no errors)`, own.length === 0, own.join('\n      '));
}

// ---------------------------------------------------------------------------------------------------
// Node: the expected hashes and bits

const segloss = await import(pathToFileURL(built).href);
const { runCases } = await import(pathToFileURL(join(root, 'test/vectors/cases.mjs')).href);
let t0 = performance.now();
const nodeVectors = await runCases(segloss);
const nodeProblems = selfChecks(nodeVectors);
report(`node ${process.version}: vectors self-checks (scalar == SIMD, placements agree, no errors)`, nodeProblems.length === 0,
  nodeProblems.length ? nodeProblems.join('\n      ') : `${nodeVectors.filter((r) => !r.name.startsWith('check:')).length} runs, ${seconds(t0)}`);

/** The one loss of plain.html and bundle/main.js, computed here: same formula, same default build. */
async function oneLossNode() {
  await segloss.init();
  const S = 777;
  const logits = new Float32Array(2 * S);
  for (let i = 0; i < logits.length; i++) logits[i] = ((i * 37) % 101) / 10 - 5;
  const labels = new Uint8Array(S);
  for (let i = 0; i < S; i++) labels[i] = (i * 7) % 3 === 0 ? 1 : 0;
  const loss = segloss.diceLoss(logits, labels, { shape: [1, 2, S], activation: 'softmax', target: 'indices' });
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(loss);
  return { loss, bits: bits.toString('hex') };
}
const nodeOne = await oneLossNode();

// ---------------------------------------------------------------------------------------------------
// Chromium

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean);
const executablePath = candidates.find((p) => existsSync(p));
if (!executablePath) {
  const required = process.env.SEGLOSS_REQUIRE_BROWSER === '1';
  const bar = '!'.repeat(78);
  console.log([
    bar,
    `!!! WARNING: THE BROWSER SUITE WAS SKIPPED: no Chromium at ${candidates.join(', ')}`,
    '!!! Nothing was checked in a browser, a worker or a bundle.',
    '!!! Install one (Debian: apt-get install chromium) or set CHROMIUM_PATH, then run',
    '!!!   node test/browser/run.mjs',
    bar,
  ].join('\n'));
  if (required) report('Chromium found (SEGLOSS_REQUIRE_BROWSER=1)', false, 'none found');
  finish();
}

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json', '.css': 'text/css', '.map': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
};

/** A static file server on 127.0.0.1: `mounts` maps a URL prefix to a directory. */
function serve(mounts) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const [prefix, dir] = Object.entries(mounts).filter(([p]) => path.startsWith(p)).sort((a, b) => b[0].length - a[0].length)[0] ?? [];
    let file = prefix !== undefined ? resolve(dir, `.${path.slice(prefix.length - 1)}`) : '';
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !(file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const { chromium } = await import('playwright-core');
const bundleDir = mkdtempSync(join(tmpdir(), 'segloss-bundle-'));
const server = await serve({ '/': root, '/__bundle/': bundleDir });
const origin = `http://127.0.0.1:${server.address().port}`;
let browser;
try {
  t0 = performance.now();
  browser = await chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  console.log(`chromium ${browser.version()} (${executablePath}) launched in ${seconds(t0)}`);

  /** Opens a page, collecting its errors so that a failure says what the page saw. */
  async function open(path) {
    const page = await browser.newPage();
    page.setDefaultTimeout(180_000);
    const log = [];
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`); });
    page.on('requestfailed', (r) => log.push(`request failed: ${r.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) log.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(origin + path);
    return { page, log };
  }

  /** Runs `fn`, turning a throw into a FAIL that carries the page's log. */
  async function check(name, fn) {
    let ctx;
    try {
      await fn((c) => (ctx = c));
    } catch (e) {
      report(name, false, `${e && e.message}${ctx?.log.length ? `\n      ${ctx.log.join('\n      ')}` : ''}`);
    } finally {
      await ctx?.page.close();
    }
  }

  // (a) the vectors in a page
  await check('page: vectors', async (use) => {
    t0 = performance.now();
    const ctx = use(await open('/test/browser/vectors.html'));
    const results = await ctx.page.evaluate(() => window.__vectors);
    reportVectors('page (import * as segloss from \'/build/segloss.js\')', nodeVectors, results, t0);
  });

  // (b) a plain module script tag
  await check('plain script tag: one loss identical to Node', async (use) => {
    const ctx = use(await open('/test/browser/plain.html'));
    await ctx.page.waitForSelector('#loss[data-done]', { state: 'attached' });
    const { bits, error, text } = await ctx.page.$eval('#loss', (el) => ({ bits: el.dataset.bits, error: el.dataset.error, text: el.textContent }));
    if (error) throw new Error(`the page threw: ${error}`);
    report('plain script tag (test/browser/plain.html): one loss identical to Node', bits === nodeOne.bits,
      `browser ${text} [${bits}], Node ${nodeOne.loss} [${nodeOne.bits}]`);
  });

  // (c) a module Web Worker
  await check('worker: vectors', async (use) => {
    t0 = performance.now();
    const ctx = use(await open('/test/browser/worker.html'));
    const results = await ctx.page.evaluate(() => window.__vectors);
    reportVectors('module worker (new Worker(url, { type: \'module\' }))', nodeVectors, results, t0);
  });

  // (d) a Vite bundle, production defaults (minified)
  await check('vite bundle', async (use) => {
    t0 = performance.now();
    const { build } = await import('vite');
    await build({
      root: join(root, 'test/browser/bundle'), base: './', configFile: false, logLevel: 'warn',
      // chunkSizeWarningLimit: the bundle carries both Wasm builds as base64, by design.
      build: { outDir: bundleDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 },
    });
    const files = readdirSync(bundleDir, { recursive: true }).map(String);
    const scripts = files.filter((f) => f.endsWith('.js'));
    const js = scripts.map((f) => readFileSync(join(bundleDir, f), 'utf8')).join('\n');
    const simdB64 = readFileSync(join(root, 'build/segloss.simd.wasm')).toString('base64');
    const scalarB64 = readFileSync(join(root, 'build/segloss.scalar.wasm')).toString('base64');
    report('vite bundle: both Wasm builds inlined as base64, no separate .wasm asset',
      js.includes(simdB64) && js.includes(scalarB64) && !files.some((f) => f.endsWith('.wasm')),
      `files: ${files.join(', ')}; built in ${seconds(t0)}`);
    const ctx = use(await open('/__bundle/index.html'));
    t0 = performance.now();
    const results = await ctx.page.evaluate(() => window.__vectors);
    const { bits, text } = await ctx.page.$eval('#loss', (el) => ({ bits: el.dataset.bits, text: el.textContent }));
    report('vite bundle: one loss identical to Node', bits === nodeOne.bits, `browser ${text} [${bits}], Node ${nodeOne.loss} [${nodeOne.bits}]`);
    reportVectors('vite bundle (minified)', nodeVectors, results, t0);
  });

  // (e) the live training page (examples/demo, served by scripts/demo.mjs); screenshot in out/demo.png
  await check('demo page', async () => {
    const { checkDemo } = await import('./demo.mjs');
    for (const r of await checkDemo(browser)) report(r.name, r.ok, r.detail);
  });
} catch (e) {
  report('browser suite ran to the end', false, String((e && e.stack) || e));
} finally {
  await browser?.close();
  server.close();
  rmSync(bundleDir, { recursive: true, force: true });
}
finish();

