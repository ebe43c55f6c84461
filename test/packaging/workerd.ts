/**
 * A Cloudflare Worker as `wrangler dev` would run it, without wrangler: the fixture's worker.mjs
 * bundled by esbuild the way wrangler bundles (conditions workerd, worker, browser; `.wasm`
 * imports kept out of the bundle as separate wasm modules, since workerd compiles no wasm from
 * bytes at run time), and served by the workerd binary on 127.0.0.1.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { freePort, startServer, type Started } from './bundlers.js';

const INNER = Symbol('inner resolve');

/** What wrangler's bundler does: conditions, main fields, and wasm imports as modules. */
async function bundleWorker(app: string, out: string): Promise<string[]> {
  const { build } = await import('esbuild');
  const wasmModules: string[] = [];
  await build({
    absWorkingDir: app,
    entryPoints: ['worker.mjs'],
    outfile: join(out, 'worker.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'wasm-modules',
        setup(b) {
          b.onResolve({ filter: /\.wasm(\?module)?$/ }, async (args) => {
            // The b.resolve below comes back through this hook: let esbuild resolve that one.
            if (args.pluginData === INNER) return undefined;
            const resolved = await b.resolve(args.path.replace(/\?module$/, ''), { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: INNER });
            if (resolved.errors.length > 0) return { errors: resolved.errors };
            const name = basename(resolved.path);
            copyFileSync(resolved.path, join(out, name));
            if (!wasmModules.includes(name)) wasmModules.push(name);
            return { path: `./${name}`, external: true };
          });
        },
      },
    ],
  });
  return wasmModules;
}

/** workerd's config: one worker (the bundle and its wasm modules) on one socket. */
function capnpConfig(port: number, wasmModules: string[]): string {
  const modules = [`(name = "worker.js", esModule = embed "worker.js")`, ...wasmModules.map((m) => `(name = "${m}", wasm = embed "${m}")`)];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ ${modules.join(',\n    ')} ],
  compatibilityDate = "2025-09-01",
);
`;
}

export interface RunningWorker extends Started {
  /** Modules of the deployed worker besides worker.js (the .wasm files it imports). */
  wasmModules: string[];
}

/** Bundles the app's worker into <app>/out/workerd/ and serves it with workerd. */
export async function startWorker(app: string, workerd: string): Promise<RunningWorker> {
  const out = join(app, 'out', 'workerd');
  mkdirSync(out, { recursive: true });
  const wasmModules = await bundleWorker(app, out);
  const port = await freePort();
  writeFileSync(join(out, 'config.capnp'), capnpConfig(port, wasmModules));
  const started = await startServer(workerd, ['serve', 'config.capnp'], out, port, async (origin) => (await fetch(origin)).ok);
  return { ...started, wasmModules };
}
