#!/usr/bin/env node
/**
 * `node bench/ab.mjs <dist-A> <dist-B> [params]`: two builds of the package side by side in one
 * process, their steps alternating (1 and 2 threads, 1e6 params by default), for checking that
 * a restructuring costs nothing. Prints the median ns/param of each over 25 rounds of 20 steps.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [a, b, size = '1e6'] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/ab.mjs <dist-A> <dist-B> [params]');
  process.exit(2);
}
const n = Number(size);
const load = (dir) => import(pathToFileURL(resolve(dir, 'index.js')).href);
const builds = { A: await load(a), B: await load(b) };
const optimizers = {};
for (const threads of [1, 2]) {
  for (const [name, m] of Object.entries(builds)) {
    const opt = await m.Adadelta.create([n], { threads });
    opt.params[0].grad.fill(0.5);
    optimizers[`${name} ${threads} thread${threads > 1 ? 's' : ''}`] = opt;
  }
}
const times = Object.fromEntries(Object.keys(optimizers).map((k) => [k, []]));
for (let round = 0; round < 25; round++) {
  for (const [k, opt] of Object.entries(optimizers)) {
    const t = performance.now();
    for (let i = 0; i < 20; i++) opt.step();
    times[k].push(((performance.now() - t) / 20 / n) * 1e6);
  }
}
const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
console.log(`A = ${a}, B = ${b}, ${n} params; median ns/param over 25 rounds of 20 steps, alternating`);
for (const [k, xs] of Object.entries(times)) console.log(`${k.padEnd(12)} ${median(xs).toFixed(3)}`);
for (const opt of Object.values(optimizers)) opt.dispose();
