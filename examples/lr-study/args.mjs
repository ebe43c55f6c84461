/**
 * The study's command line. A --quick run writes to results-quick/ unless --out says otherwise:
 * results/ holds the committed full run that docs/learning-rate.md cites, which a quick run
 * must not overwrite (as `npm run bench -- --quick` writes latest-quick.* beside latest.*).
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

/** The committed results of a full run. */
export const FULL_RESULTS_DIR = join(here, 'results');
/** Where a --quick run writes by default (not committed). */
export const QUICK_RESULTS_DIR = join(here, 'results-quick');

/** Parses `argv` (without node and the script): the run's settings and its output directory. */
export function studyArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string', default: '42' },
    },
  });
  return { ...values, out: values.out ?? (values.quick ? QUICK_RESULTS_DIR : FULL_RESULTS_DIR) };
}
