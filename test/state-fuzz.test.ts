/**
 * Fuzzing loadState with fast-check: every malformed input must end in an AdadeltaError (never
 * another exception type, a crash or a hang) and leave the optimizer byte-for-byte unchanged.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { buildFile, splitFile } from './helpers/safetensors.js';

let opt: Adadelta;
let valid: Uint8Array;
let before: Uint8Array;
let cases = 0;

beforeAll(async () => {
  opt = await Adadelta.create([{ params: [new Float32Array([1, -2, 3]), 4] }, { params: [2], lr: 0.5, rho: 0.8 }]);
  for (let t = 0; t < 3; t++) {
    opt.params.forEach((p, i) => p.grad.fill(0.3 * (i + 1) - t));
    opt.step();
  }
  valid = opt.saveState();
  // A different valid state for the target, so an accidental partial load would show.
  const other = await Adadelta.create([{ params: [3, 4] }, { params: [2] }]);
  other.params.forEach((p) => p.grad.fill(1));
  other.step();
  before = other.saveState();
  opt.loadState(before);
  other.dispose();
});

afterAll(() => {
  // The issue asks for at least 10,000 cases in all.
  console.log(`loadState fuzz: ${cases} cases`);
  expect(cases).toBeGreaterThanOrEqual(10_000);
  opt.dispose();
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function expectUnchanged(): void {
  if (!sameBytes(opt.saveState(), before)) throw new Error('a rejected load changed the optimizer state');
}

/** Loading must throw AdadeltaError and change nothing. */
function mustReject(bytes: Uint8Array): void {
  cases++;
  let error: unknown;
  try {
    opt.loadState(bytes);
  } catch (e) {
    error = e;
  }
  if (!(error instanceof AdadeltaError)) {
    throw new Error(`expected AdadeltaError, got ${error === undefined ? 'success' : String(error)} for ${Buffer.from(bytes).toString('hex').slice(0, 400)}`);
  }
  expectUnchanged();
}

/** The valid file's header with `edit` applied, re-serialized around the same data. */
function withHeader(edit: (header: Record<string, any>) => unknown): Uint8Array {
  const { header, data } = splitFile(valid);
  const replaced = edit(header);
  return buildFile(replaced === undefined ? header : (replaced as object | string), data);
}

const tensorNames = () => Object.keys(splitFile(valid).header).filter((k) => k !== '__metadata__');

describe('loadState fuzz', () => {
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => mustReject(bytes)), { numRuns: 5000 });
  });

  it('random bytes after a plausible header length and "{"', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 320 }), (rest, length) => {
        const bytes = new Uint8Array(9 + rest.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(length), true);
        bytes[8] = 0x7b;
        bytes.set(rest, 9);
        mustReject(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('every truncation of a valid file', () => {
    expect(valid.length).toBeGreaterThan(500);
    for (let n = 0; n < valid.length; n++) mustReject(valid.slice(0, n));
  });

  it('a valid file with bytes appended', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), (extra) => {
        const bytes = new Uint8Array(valid.length + extra.length);
        bytes.set(valid);
        bytes.set(extra, valid.length);
        mustReject(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('bit flips in the header: rejected unless the result is still a valid file', () => {
    const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
    let accepted = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: headerEnd - 1 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const bytes = valid.slice();
        bytes[at]! ^= 1 << bit;
        cases++;
        try {
          opt.loadState(bytes);
        } catch (e) {
          if (!(e instanceof AdadeltaError)) throw e;
          expectUnchanged();
          return;
        }
        // Some flips leave a valid file: a digit of a hyperparameter ('1' -> '3'), or a letter
        // of a key torch adds and we ignore ("foreach"). Every such flip must lie inside the
        // param_groups JSON: names, dtypes, shapes, offsets and the length field have no slack.
        accepted++;
        opt.loadState(before);
        const text = new TextDecoder().decode(valid.subarray(0, headerEnd));
        const groupsAt = text.indexOf('"param_groups":"') + '"param_groups":"'.length;
        const groupsEnd = text.indexOf('"}', groupsAt);
        expect(at, `accepted flip of bit ${bit} at byte ${at}`).toBeGreaterThanOrEqual(groupsAt);
        expect(at).toBeLessThan(groupsEnd);
      }),
      { numRuns: 2500 },
    );
    console.log(`bit flips: ${accepted} of 2500 left a valid file (inside param_groups)`);
    // Nearly every flip breaks the JSON, a name, a number or the length field.
    expect(accepted).toBeLessThan(250);
  });

  it('header length pointing past the end, up to 2^53 and beyond', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(valid.length - 7), max: 2n ** 64n - 1n }), (length) => {
        const bytes = valid.slice();
        new DataView(bytes.buffer).setBigUint64(0, length, true);
        mustReject(bytes);
      }),
      { numRuns: 700 },
    );
    for (const length of [2n ** 53n, 2n ** 53n + 1n, 2n ** 53n - 1n, 2n ** 32n, 2n ** 64n - 1n, 100_000_001n]) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setBigUint64(0, length, true);
      mustReject(bytes);
    }
  });

  it('header length pointing short of the real header', () => {
    const real = Number(new DataView(valid.buffer).getBigUint64(0, true));
    for (let length = 0; length < real; length++) {
      const bytes = valid.slice();
      new DataView(bytes.buffer).setBigUint64(0, BigInt(length), true);
      mustReject(bytes);
    }
  });

  it('wrong dtypes', () => {
    const dtypes = ['F16', 'F64', 'I32', 'BF16', 'I64', 'U8', 'BOOL', 'F8_E4M3', 'f32', 'F32 ', '', 'float32'];
    fc.assert(
      fc.property(fc.constantFrom(...tensorNames()), fc.constantFrom(...dtypes), (name, dtype) => {
        mustReject(withHeader((h) => void (h[name].dtype = dtype)));
      }),
      { numRuns: 500 },
    );
  });

  it('shapes off by one', () => {
    fc.assert(
      fc.property(fc.constantFrom(...tensorNames()), fc.constantFrom(-1, 1), fc.boolean(), (name, delta, addDim) => {
        mustReject(
          withHeader((h) => {
            const shape: number[] = h[name].shape;
            if (shape.length === 0 || addDim) shape.push(shape.length === 0 ? 1 + delta : 1 + Math.abs(delta));
            else shape[0] = shape[0]! + delta;
          }),
        );
      }),
      { numRuns: 800 },
    );
  });

  it('JSON that is not an object', () => {
    const notObject = fc.oneof(fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)), fc.array(fc.jsonValue()));
    fc.assert(
      fc.property(notObject, fc.nat({ max: 7 }), (value, padding) => {
        const text = JSON.stringify(value) + ' '.repeat(padding);
        mustReject(buildFile(text.length < 2 ? `${text}  ` : text, splitFile(valid).data));
      }),
      { numRuns: 1000 },
    );
  });

  it('tensor entries and param_groups that are not objects', () => {
    fc.assert(
      fc.property(fc.constantFrom(...tensorNames(), 'group'), fc.oneof(fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))), (name, value) => {
        mustReject(
          withHeader((h) => {
            if (name !== 'group') h[name] = value;
            else h.__metadata__.param_groups = JSON.stringify([value, JSON.parse(h.__metadata__.param_groups)[1]]);
          }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('huge numbers in offsets, shapes and hyperparameters', () => {
    const huge = fc.constantFrom('9007199254740992', '9007199254740993', '18446744073709551616', '1e300', '1e999', '-1', '-0.5', '1.5', '-1e999');
    fc.assert(
      fc.property(fc.constantFrom(...tensorNames()), fc.constantFrom('offset0', 'offset1', 'shape', 'rho', 'lr', 'eps', 'weight_decay'), huge, (name, where, number) => {
        const { header, data } = splitFile(valid);
        const marker = 1234567.5;
        let text: string;
        if (where === 'offset0' || where === 'offset1') {
          header[name].data_offsets[where === 'offset0' ? 0 : 1] = marker;
          text = JSON.stringify(header);
        } else if (where === 'shape') {
          header[name].shape = [...header[name].shape, marker];
          text = JSON.stringify(header);
        } else {
          // Hyperparameters: only values no creation would accept (rho outside [0, 1], overflow, negative).
          if (where !== 'rho' && !['1e999', '-1', '-0.5', '-1e999'].includes(number)) number = '1e999';
          const groups = JSON.parse(header.__metadata__.param_groups);
          groups[1][where] = marker;
          header.__metadata__.param_groups = JSON.stringify(groups).replace(String(marker), number);
          text = JSON.stringify(header);
          mustReject(buildFile(text, data));
          return;
        }
        mustReject(buildFile(text.replace(String(marker), number), data));
      }),
      { numRuns: 1000 },
    );
  });

  it('NaN and Infinity, as strings and as bare words', () => {
    const bad = fc.constantFrom('"NaN"', 'NaN', '"Infinity"', 'Infinity', '"-Infinity"', '"nan"', 'null', '"1"', 'true', '[]', '{}');
    fc.assert(
      fc.property(fc.constantFrom('lr', 'rho', 'eps', 'weight_decay', 'maximize', 'offset', 'shape'), bad, (where, word) => {
        // true is a valid maximize; the string "true" is not.
        const value: string = where === 'maximize' && word === 'true' ? '"true"' : word;
        mustReject(
          withHeader((h) => {
            const marker = '"@MARKER@"';
            if (where === 'offset') h['state.0.step'].data_offsets[1] = '@MARKER@';
            else if (where === 'shape') h['state.0.square_avg'].shape = ['@MARKER@'];
            else {
              const groups = JSON.parse(h.__metadata__.param_groups);
              groups[0][where] = '@MARKER@';
              h.__metadata__.param_groups = JSON.stringify(groups).replace(marker, value);
              return undefined;
            }
            return JSON.stringify(h).replace(marker, value);
          }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('state steps that are not whole non-negative numbers', () => {
    fc.assert(
      fc.property(fc.float({ noDefaultInfinity: false }).filter((x) => !(Number.isInteger(x) && x >= 0)), fc.nat({ max: 2 }), (step, i) => {
        const bytes = valid.slice();
        const { header } = splitFile(valid);
        const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
        new DataView(bytes.buffer).setFloat32(headerEnd + header[`state.${i}.step`].data_offsets[0], step, true);
        mustReject(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
