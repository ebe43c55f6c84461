/**
 * How state saved under one variable name finds its variable again after a reload.
 *
 * tfjs-layers names a variable `<layer>/<weight>` and, when that name is already taken in the
 * page (for example because the same model is loaded a second time), appends `_1`, `_2`, ...
 * So state saved for `dense_Dense1/kernel` must be found by `dense_Dense1/kernel_1` after
 * `tf.loadLayersModel` in the same page. An exact name always wins; otherwise the names must
 * agree once that suffix is removed, and the match must be unique.
 */
import { AdadeltaError } from '../index.js';

const UNIQUIFIER = /_\d+$/;

export function baseName(name: string): string {
  return name.replace(UNIQUIFIER, '');
}

/**
 * The saved name whose state belongs to the variable `name`, among `saved` names not yet
 * claimed; undefined when there is none.
 */
export function matchSavedName(name: string, saved: Iterable<string>): string | undefined {
  const candidates: string[] = [];
  for (const s of saved) {
    if (s === name) return s;
    if (baseName(s) === baseName(name)) candidates.push(s);
  }
  if (candidates.length > 1) {
    throw new AdadeltaError(
      `saved optimizer state ${candidates.map((c) => JSON.stringify(c)).join(' and ')} could each belong to variable ${JSON.stringify(name)}; rename the variables or call setWeights with only one of them`,
      'setWeights',
    );
  }
  return candidates[0];
}
