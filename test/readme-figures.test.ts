/**
 * The README's benchmark tables and their reading are bench/readme-figures.mjs's rendering of
 * the committed bench/results/latest.json, so no figure there can drift from the run it cites.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, figuresSection, latestRun, resultsMarkdown } from '../bench/readme-figures.mjs';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const run = latestRun();

describe("README's benchmark figures", () => {
  it('are exactly what bench/readme-figures.mjs makes of bench/results/latest.json', () => {
    const begin = readme.indexOf(BEGIN);
    const end = readme.indexOf(END);
    expect(begin, 'the begin marker').toBeGreaterThan(0);
    expect(end, 'the end marker, after the begin marker').toBeGreaterThan(begin);
    // On a mismatch: `node bench/readme-figures.mjs` rewrites the section from latest.json.
    expect(readme.slice(begin + BEGIN.length, end)).toBe(`\n${figuresSection(run)}\n`);
  });

  it('render the tables as the run printed them in bench/results/latest.md', () => {
    // latest.md is the run's own output, written beside latest.json: the rendering from the
    // JSON must not drift from it.
    const printed = readFileSync(new URL('../bench/results/latest.md', import.meta.url), 'utf8');
    expect(printed.split('\n').slice(2).join('\n').trim()).toBe(resultsMarkdown(run).trim());
  });

  it('quote no benchmark figure outside the generated section', () => {
    const outside = readme.slice(0, readme.indexOf(BEGIN)) + readme.slice(readme.indexOf(END));
    const [from, to] = [outside.indexOf('## Benchmark'), outside.indexOf('## Development')];
    // Renamed headings would make the slice empty, and the check vacuous.
    expect(from, 'the Benchmark heading').toBeGreaterThan(0);
    expect(to, 'the Development heading, after it').toBeGreaterThan(from);
    const benchmark = outside.slice(from, to);
    // ns per param, speed-ups and percentages belong to the run, not to hand-written prose.
    expect(benchmark).not.toMatch(/\d\.\d+ ?ns|\d+(\.\d+)?x (plain|tf\.js|one thread)|\d+% (at|of)/);
  });
});
