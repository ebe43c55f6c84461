#!/usr/bin/env node
/**
 * Serves the built live demo on 127.0.0.1, on a free port, and prints its URL. It sends
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, which
 * make the page cross-origin isolated, so the optimizers can run on several threads; with
 * --no-isolation it sends neither, and the optimizers fall back to one thread.
 *
 *   node examples/live-demo/serve.mjs [--no-isolation] [--port N] [--dir DIR]
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUILD_DIR } from './build.mjs';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.md': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Serves `dir`; resolves to `{ url, close() }` once listening. */
export async function serveDemo({ dir = BUILD_DIR, isolation = true, port = 0 } = {}) {
  const base = resolve(dir);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    const headers = { 'cache-control': 'no-cache', ...(isolation ? ISOLATION_HEADERS : {}) };
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403, headers).end();
      return;
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path}`);
    }
  });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      'no-isolation': { type: 'boolean', default: false },
      port: { type: 'string', default: '0' },
      dir: { type: 'string' },
    },
  });
  const isolation = !values['no-isolation'];
  const { url } = await serveDemo({ dir: values.dir ?? BUILD_DIR, isolation, port: Number(values.port) });
  process.stdout.write(
    `The live Adadelta demo: ${url}\n` +
      (isolation
        ? '(cross-origin isolated: the optimizers may use several threads)\n'
        : '(no COOP/COEP headers: the optimizers run on one thread)\n') +
      'Ctrl-C stops the server.\n',
  );
}
