/**
 * A static file server on 127.0.0.1 for the browser fixtures: correct MIME types (or a wrong
 * one for .wasm, to exercise the loader's fallback from streaming compilation), optional extra
 * headers, and a log of the paths requested.
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

export interface ServeOptions {
  /** Content-Type sent for .wasm files (default application/wasm). */
  wasmType?: string;
  headers?: Record<string, string>;
  /** Answer 404 for paths that match, as if the file had not been deployed. */
  missing?: RegExp;
}

export interface StaticServer {
  origin: string;
  requested: string[];
  close(): Promise<void>;
}

export async function serve(root: string, options: ServeOptions = {}): Promise<StaticServer> {
  const requested: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requested.push(path);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (options.missing?.test(path) || !(await stat(file)).isFile()) throw new Error('not found');
      const body = await readFile(file);
      const ext = extname(file);
      const type = ext === '.wasm' && options.wasmType !== undefined ? options.wasmType : (MIME[ext] ?? 'application/octet-stream');
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store', ...options.headers }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
