// npm run demo: serves the repository root over HTTP (node:http only) and prints the URL of the live
// training page, examples/demo/index.html. Builds segloss first when build/segloss.js is missing.
//
//   node scripts/demo.mjs [--port 8080] [--host 127.0.0.1]
//
// The page imports '../../build/segloss.js' and the example modules with relative paths: no bundler.
// Responses carry COOP/COEP headers so the page is cross-origin isolated, which gives the worker a
// 5 µs performance.now() instead of 100 µs (the page shows milliseconds per segloss call).
// test/browser/demo.mjs imports `startServer` to test the page through this same server.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
export const DEMO_PATH = '/examples/demo/';

/** @type {Record<string, string>} */
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.md': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * Starts a static file server for the repository root.
 * @param {{ port?: number, host?: string }} [options] port 0 picks a free port
 * @returns {Promise<{ server: import('node:http').Server, url: string }>} `url` is the demo page's
 */
export function startServer({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    /** @param {number} status @param {string} text */
    const fail = (status, text) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET or HEAD only');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'bad URL');
    }
    if (path === '/') {
      res.writeHead(302, { location: DEMO_PATH });
      return res.end();
    }
    // Inside the root only: resolve() removes '..', then the prefix test rejects anything outside.
    let file = resolve(root, `.${path}`);
    if (file !== root.replace(/[\\/]$/, '') && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return fail(403, 'outside the repository');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: `${path}/` });
          return res.end();
        }
        file = join(file, 'index.html');
        info = await stat(file);
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      fail(404, `not found: ${path}`);
    }
  });
  return new Promise((ok, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      ok({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}${DEMO_PATH}` });
    });
  });
}

/** Builds segloss (node scripts/build.mjs) when build/segloss.js is missing. */
function buildIfMissing() {
  if (existsSync(join(root, 'build/segloss.js'))) return;
  console.log('build/segloss.js is missing: building it first (node scripts/build.mjs) ...');
  const { status, error } = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
  if (error || status !== 0) {
    console.error(`the build failed${error ? `: ${error.message}` : ` (exit ${status})`}; the demo needs build/segloss.js`);
    process.exit(1);
  }
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, host: { type: 'string', default: '127.0.0.1' } } });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer in [0, 65535]; got ${values.port}`);
    process.exit(2);
  }
  buildIfMissing();
  try {
    const { url } = await startServer({ port, host: values.host });
    console.log(`segloss demo: ${url}`);
    console.log('(serving the repository root; Ctrl+C to stop)');
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    console.error(err.code === 'EADDRINUSE' ? `port ${port} is in use; try --port ${port + 1}` : String(err));
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
