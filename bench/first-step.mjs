// Time to a first step, as a new process sees it: import the package, create an optimizer of
// 1e5 params, step once. Run with any runtime (node, bun, deno run -A) from a folder where
// `adadelta-wasm` is installed, or pass the module to import as the first argument:
//   node bench/first-step.mjs [specifier]
// Prints one JSON line: milliseconds for the import, the create (kernel decoded and compiled
// there) and the first step, and the build that ran.
const specifier = (globalThis.Deno?.args ?? globalThis.process?.argv.slice(2) ?? [])[0] ?? 'adadelta-wasm';
const t0 = performance.now();
const module = await import(specifier);
const { Adadelta } = module.Adadelta === undefined ? module.default : module; // a CommonJS build through import()
const t1 = performance.now();
const opt = await Adadelta.create([100_000]);
const t2 = performance.now();
opt.params[0].grad.fill(1);
opt.step();
const t3 = performance.now();
const round = (x) => Math.round(x * 100) / 100;
console.log(JSON.stringify({ importMs: round(t1 - t0), createMs: round(t2 - t1), stepMs: round(t3 - t2), totalMs: round(t3 - t0), build: opt.build }));
opt.dispose();
