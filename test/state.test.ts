/**
 * saveState / loadState: the file's format, bit-exact round trips and resumes, a PyTorch
 * checkpoint from the golden vectors, and every rejection, each leaving the optimizer unchanged.
 */
import { describe, expect, it } from 'vitest';
import { Adadelta, AdadeltaError } from '../dist/index.js';
import { continueGolden, f32FromBase64, loadGolden } from './helpers/golden.js';
import { buildFile, f32Bytes, f32Values, splitFile, torchCheckpoint, torchGroup } from './helpers/safetensors.js';

/** A deterministic pseudo-random float in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

const SIZES = [[5, 3], [7]] as const;

/** Two groups with non-default hyperparameters; params from a seeded generator. */
async function makeOptimizer(build: 'simd' | 'plain' = 'simd', seed = 1): Promise<Adadelta> {
  const r = rng(seed);
  return Adadelta.create(
    [
      { params: SIZES[0].map((n) => Float32Array.from({ length: n }, r)), lr: 0.37, rho: 0.81, eps: 3e-7, weightDecay: 0.02 },
      { params: SIZES[1].map((n) => Float32Array.from({ length: n }, r)), lr: 0.9, rho: 0.95, eps: 1e-5, maximize: true },
    ],
    { build },
  );
}

/** Steps `opt` with gradients that depend only on (seed, step index), so two runs can be compared. */
function train(opt: Adadelta, from: number, to: number): void {
  for (let t = from; t < to; t++) {
    const r = rng(1000 + t);
    for (const p of opt.params) for (let j = 0; j < p.grad.length; j++) p.grad[j] = r() * 3;
    opt.step();
  }
}

function paramBytes(opt: Adadelta): Uint8Array[] {
  return opt.params.map((p) => new Uint8Array(p.data.slice().buffer));
}

/** Loading `bytes` fails with an AdadeltaError matching `message`, and nothing changes. */
/** `n` arrays, each inside the last. */
function nested(n: number): string {
  return '['.repeat(n) + ']'.repeat(n);
}

function expectRejected(opt: Adadelta, bytes: unknown, message: RegExp): void {
  const before = opt.saveState();
  const params = paramBytes(opt);
  let error: unknown;
  try {
    opt.loadState(bytes as Uint8Array);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AdadeltaError);
  expect((error as Error).message).toMatch(message);
  expect(opt.saveState()).toEqual(before);
  expect(paramBytes(opt)).toEqual(params);
}

describe('saveState format', () => {
  it('is a safetensors file with torch state_dict names, shapes and param_groups', async () => {
    const opt = await makeOptimizer();
    train(opt, 0, 3);
    const { header, data } = splitFile(opt.saveState());
    const names = Object.keys(header).filter((k) => k !== '__metadata__').sort();
    expect(names).toEqual(
      [0, 1, 2].flatMap((i) => [`state.${i}.acc_delta`, `state.${i}.square_avg`, `state.${i}.step`]).sort(),
    );
    const lengths = [5, 3, 7];
    lengths.forEach((n, i) => {
      for (const key of ['square_avg', 'acc_delta'] as const) {
        const entry = header[`state.${i}.${key}`];
        expect(entry.dtype).toBe('F32');
        expect(entry.shape).toEqual([n]);
        const values = f32Values(data.subarray(entry.data_offsets[0], entry.data_offsets[1]));
        expect(values).toEqual(key === 'square_avg' ? opt.state(i).squareAvg : opt.state(i).accDelta);
      }
      const step = header[`state.${i}.step`];
      expect(step).toMatchObject({ dtype: 'F32', shape: [] });
      expect(f32Values(data.subarray(step.data_offsets[0], step.data_offsets[1]))).toEqual(new Float32Array([3]));
    });
    const groups = JSON.parse(header.__metadata__.param_groups);
    expect(groups).toEqual([
      { lr: 0.37, rho: 0.81, eps: 3e-7, weight_decay: 0.02, foreach: null, maximize: false, capturable: false, differentiable: false, params: [0, 1] },
      { lr: 0.9, rho: 0.95, eps: 1e-5, weight_decay: 0, foreach: null, maximize: true, capturable: false, differentiable: false, params: [2] },
    ]);
    // Python's json.dumps writes floats with a point; so do we, so torch reads floats back.
    expect(header.__metadata__.param_groups).toContain('"weight_decay": 0.0');
    opt.dispose();
  });
});

describe('round trip', () => {
  it('restores state, step and every hyperparameter bit-exactly', async () => {
    const a = await makeOptimizer();
    train(a, 0, 4);
    a.paramGroups[0]!.lr = 0.123456789012345; // a float64 value that float32 would round
    a.paramGroups[1]!.weightDecay = 1e-3;
    const bytes = a.saveState();

    const b = await makeOptimizer('simd', 99); // other params: load must leave them alone
    const paramsBefore = paramBytes(b);
    b.loadState(bytes);
    expect(b.saveState()).toEqual(bytes);
    expect(paramBytes(b)).toEqual(paramsBefore);
    for (let i = 0; i < 3; i++) {
      const sa = a.state(i), sb = b.state(i);
      expect(sb.step).toBe(4);
      expect(new Uint8Array(sb.squareAvg.buffer)).toEqual(new Uint8Array(sa.squareAvg.buffer));
      expect(new Uint8Array(sb.accDelta.buffer)).toEqual(new Uint8Array(sa.accDelta.buffer));
    }
    expect(b.paramGroups.map((g) => g.toJSON())).toEqual(a.paramGroups.map((g) => g.toJSON()));
    expect(b.paramGroups[0]!.lr).toBe(0.123456789012345);
    a.dispose();
    b.dispose();
  });

  it('loads into an optimizer that has already stepped, replacing its state', async () => {
    const a = await makeOptimizer();
    train(a, 0, 2);
    const b = await makeOptimizer();
    train(b, 0, 6);
    b.loadState(a.saveState());
    expect(b.state(2).step).toBe(2);
    expect(b.saveState()).toEqual(a.saveState());
    a.dispose();
    b.dispose();
  });
});

describe.each(['simd', 'plain'] as const)('resume, %s build', (build) => {
  it('save after k steps, load into a fresh optimizer, continue: identical to never stopping', async () => {
    const k = 5, total = 12;
    const straight = await makeOptimizer(build);
    train(straight, 0, total);

    const first = await makeOptimizer(build);
    train(first, 0, k);
    const checkpoint = first.saveState();
    const params = first.params.map((p) => p.data.slice());
    first.dispose();

    // A fresh optimizer over the saved params, with default hyperparameters: the file sets them.
    const resumed = await Adadelta.create([{ params: params.slice(0, 2) }, { params: params.slice(2) }], { build });
    resumed.loadState(checkpoint);
    train(resumed, k, total);

    expect(paramBytes(resumed)).toEqual(paramBytes(straight));
    expect(resumed.saveState()).toEqual(straight.saveState());
    straight.dispose();
    resumed.dispose();
  });
});

describe('a PyTorch checkpoint (golden resume_checkpoint)', () => {
  const c = loadGolden().find((x) => x.name === 'resume_checkpoint')!;
  const ck = c.checkpoint as unknown as {
    after_step: number;
    param_groups: unknown[];
    state: Record<string, { step: number; square_avg: string; acc_delta: string }>;
    params: string[];
  };

  it.each(['simd', 'plain'] as const)('loads and continues within tolerance, %s build', async (build) => {
    const state = Object.fromEntries(
      Object.entries(ck.state).map(([i, s]) => [i, { step: s.step, square_avg: f32FromBase64(s.square_avg), acc_delta: f32FromBase64(s.acc_delta) }]),
    );
    const bytes = torchCheckpoint(ck.param_groups, state);
    // Default hyperparameters at creation: the checkpoint's rho 0.95 and weight_decay 0.001 must be loaded.
    const opt = await Adadelta.create(ck.params.map(f32FromBase64), { build });
    opt.loadState(bytes);
    expect(opt.paramGroups[0]!.toJSON()).toEqual({ lr: 1, rho: 0.95, eps: 1e-6, weightDecay: 0.001, maximize: false, params: [0, 1] });
    expect(opt.state(0).step).toBe(ck.after_step);

    expect(continueGolden(opt, c, ck.after_step)).toBeGreaterThan(0);
    opt.dispose();
  });
});

describe('loadState accepts what torch may write', () => {
  const fresh = (n: number) => ({ step: 3, square_avg: Array.from({ length: n }, (_, j) => 0.1 * (j + 1)), acc_delta: Array.from({ length: n }, (_, j) => 0.01 * (j + 1)) });

  it('treats a param with no state tensors as fresh (zero state, step 0)', async () => {
    const opt = await makeOptimizer();
    train(opt, 0, 3);
    opt.loadState(torchCheckpoint([torchGroup([0, 1]), torchGroup([2])], { 0: fresh(5), 2: fresh(7) }));
    expect(opt.state(1)).toEqual({ step: 0, squareAvg: new Float32Array(3), accDelta: new Float32Array(3) });
    expect(opt.state(0).step).toBe(3);
    expect(opt.state(2).squareAvg).toEqual(Float32Array.from(fresh(7).square_avg));
    opt.dispose();
  });

  it("starts a param absent from the file at the optimizer's initialAccDelta, as creation does", async () => {
    const make = () => Adadelta.create([{ params: [5, 3] }, { params: [7] }], { initialAccDelta: 0.25 });
    const opt = await make();
    train(opt, 0, 3);
    opt.loadState(torchCheckpoint([torchGroup([0, 1]), torchGroup([2])], { 0: fresh(5), 2: fresh(7) }));
    expect(opt.state(1)).toEqual({ step: 0, squareAvg: new Float32Array(3), accDelta: new Float32Array(3).fill(0.25) });
    // The same as a never-stepped optimizer's param 1, and it steps the same from there.
    const untouched = await make();
    expect(opt.state(1)).toEqual(untouched.state(1));
    for (const o of [opt, untouched]) {
      o.params[1]!.data.fill(0.5);
      o.params[1]!.grad.fill(-2);
      o.step();
    }
    expect(opt.params[1]!.data).toEqual(untouched.params[1]!.data);
    expect(opt.params[1]!.data[0]).not.toBe(0.5);
    opt.dispose();
    untouched.dispose();
  });

  it('maps shaped torch state (a [2, 3] weight) onto a flat param of 6 elements', async () => {
    const opt = await Adadelta.create([6]);
    const { header, data } = splitFile(torchCheckpoint([torchGroup([0])], { 0: fresh(6) }));
    header['state.0.square_avg'].shape = [2, 3];
    header['state.0.acc_delta'].shape = [3, 1, 2];
    opt.loadState(buildFile(header, data));
    expect(opt.state(0).squareAvg).toEqual(Float32Array.from(fresh(6).square_avg));
    expect(opt.state(0).accDelta).toEqual(Float32Array.from(fresh(6).acc_delta));
    opt.dispose();
  });

  it('ignores unknown keys in a param group (initial_lr from LR schedulers)', async () => {
    const opt = await makeOptimizer();
    const groups = [{ ...torchGroup([0, 1], { lr: 0.5 }), initial_lr: 1.0, something_new: [1, 2] }, torchGroup([2])];
    opt.loadState(torchCheckpoint(groups, {}));
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
    opt.dispose();
  });

  it('reads tensors in any header order, with space padding and other metadata', async () => {
    const a = await makeOptimizer();
    train(a, 0, 2);
    const { header, data } = splitFile(a.saveState());
    const reordered: Record<string, unknown> = {};
    for (const k of Object.keys(header).reverse()) reordered[k] = header[k];
    (reordered.__metadata__ as Record<string, string>).format = 'pt';
    const b = await makeOptimizer();
    b.loadState(buildFile(`${JSON.stringify(reordered)}       `, data));
    expect(b.saveState()).toEqual(a.saveState());
    a.dispose();
    b.dispose();
  });
});

describe('checkpoints of many params', () => {
  it('an optimizer loads its own checkpoint when the header is over the reference reader\'s 100 MB', async () => {
    // 400,000 one-element params: a header of about 103 MB (it was refused as over 100 MB).
    const n = 400_000;
    const opt = await Adadelta.create(new Array(n).fill(1));
    for (const p of [0, n - 1]) opt.params[p]!.grad[0] = p + 1;
    opt.step();
    const bytes = opt.saveState();
    const headerBytes = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    expect(headerBytes).toBeGreaterThan(100_000_000);
    const [first, last] = [opt.state(0), opt.state(n - 1)];
    opt.loadState(bytes);
    expect(opt.state(0)).toEqual(first);
    expect(opt.state(n - 1)).toEqual(last);
    opt.dispose();
  });
});

describe('loadState rejects, changing nothing', () => {
  const groups = () => [torchGroup([0, 1]), torchGroup([2])];
  const st = (n: number, step = 2) => ({ step, square_avg: new Array(n).fill(0.5), acc_delta: new Array(n).fill(0.25) });
  const good = () => ({ 0: st(5), 1: st(3), 2: st(7) });
  /** A file with one F32 tensor described by `entry` over `data`, plus valid param_groups. */
  const oneTensor = (entry: object, data = new Uint8Array(20), name = 'state.0.square_avg') =>
    buildFile({ __metadata__: { param_groups: JSON.stringify(groups()) }, [name]: entry }, data);

  let opt: Adadelta;
  const cases: [string, () => unknown, RegExp][] = [
    // The container.
    ['not a Uint8Array', () => [1, 2, 3], /safetensors: expected the file as a Uint8Array/],
    ['an empty file', () => new Uint8Array(0), /file is 0 bytes, shorter than the 8-byte header length field/],
    ['a 7-byte file', () => new Uint8Array(7), /file is 7 bytes/],
    ['header length past the end', () => buildFile('{}', new Uint8Array(0), 3n), /header length field at offset 0 is 3, past the end of the 10-byte file \(at most 2\)/],
    ['header length 2^53', () => buildFile('{}', new Uint8Array(0), 2n ** 53n), /header length field at offset 0 is 9007199254740992, over the 100000000-byte limit/],
    ['header length 2^64-1', () => buildFile('{}', new Uint8Array(0), 2n ** 64n - 1n), /over the 100000000-byte limit/],
    ['header length over the 100 MB cap', () => buildFile('{}', new Uint8Array(0), 100_000_001n), /is 100000001, over the 100000000-byte limit/],
    ['header length 0', () => buildFile('', new Uint8Array(0)), /header length field at offset 0 is 0; the smallest header/],
    ['header not UTF-8', () => { const f = buildFile('{"a":1}'); f[10] = 0xff; return f; }, /header \(bytes 8\.\.15\) is not valid UTF-8/],
    ['header not JSON', () => buildFile('{"a": }'), /header \(bytes 8\.\.15\) is not valid JSON/],
    ['JSON that is not an object (array)', () => buildFile('[1, 2]'), /header at offset 8 must start with '\{', got "\[1, 2\]"/],
    ['JSON that is not an object (number)', () => buildFile('42'), /must start with '\{'/],
    ['JSON that is not an object (string)', () => buildFile('"{}"'), /must start with '\{'/],
    ['JSON with leading whitespace', () => buildFile(' {}'), /must start with '\{'/],
    ['a header with a byte-order mark', () => buildFile('\uFEFF{}'), /must start with '\{'/],
    // Tensor entries.
    ['a tensor entry that is not an object', () => buildFile({ 'state.0.step': [1, 2] }), /tensor "state.0.step": must be an object \{ dtype, shape, data_offsets \}/],
    ['dtype F16', () => oneTensor({ dtype: 'F16', shape: [10], data_offsets: [0, 20] }), /tensor "state.0.square_avg": dtype F16 is not supported; optimizer state is F32/],
    ['dtype F64', () => oneTensor({ dtype: 'F64', shape: [5], data_offsets: [0, 40] }, new Uint8Array(40)), /dtype F64 is not supported/],
    ['dtype I32', () => oneTensor({ dtype: 'I32', shape: [5], data_offsets: [0, 20] }), /dtype I32 is not supported/],
    ['dtype BF16', () => oneTensor({ dtype: 'BF16', shape: [10], data_offsets: [0, 20] }), /dtype BF16 is not supported/],
    ['an unknown dtype', () => oneTensor({ dtype: 'Q7', shape: [5], data_offsets: [0, 20] }), /tensor "state.0.square_avg": unknown dtype "Q7"/],
    ['dtype not a string', () => oneTensor({ dtype: 32, shape: [5], data_offsets: [0, 20] }), /dtype must be a string, got number 32/],
    ['shape one element too long', () => oneTensor({ dtype: 'F32', shape: [6], data_offsets: [0, 20] }), /tensor "state.0.square_avg": shape \[6\] of F32 needs 24 bytes, but data_offsets \[0, 20\] hold 20/],
    ['shape one element too short', () => oneTensor({ dtype: 'F32', shape: [4], data_offsets: [0, 20] }), /shape \[4\] of F32 needs 16 bytes, but data_offsets \[0, 20\] hold 20/],
    ['a negative dimension', () => oneTensor({ dtype: 'F32', shape: [-5], data_offsets: [0, 20] }), /shape must be a list of non-negative integers, got an array \[-5\]/],
    ['a huge dimension', () => oneTensor({ dtype: 'F32', shape: [1e300, 0], data_offsets: [0, 20] }), /shape must be a list of non-negative integers/],
    ['dimensions whose product overflows', () => oneTensor({ dtype: 'F32', shape: [2 ** 52, 2 ** 52, 2 ** 52, 0], data_offsets: [0, 20] }), /shape \[.*\] of F32 needs/],
    ['a shape that is not a list', () => oneTensor({ dtype: 'F32', shape: '5', data_offsets: [0, 20] }), /shape must be a list/],
    ['data_offsets past the end', () => oneTensor({ dtype: 'F32', shape: [6], data_offsets: [0, 24] }), /data_offsets \[0, 24\] run past the end of the 20-byte data section/],
    ['data_offsets at 2^53', () => oneTensor({ dtype: 'F32', shape: [5], data_offsets: [2 ** 53, 2 ** 53 + 20] }), /data_offsets must be \[begin, end\], two non-negative integers/],
    ['negative data_offsets', () => oneTensor({ dtype: 'F32', shape: [5], data_offsets: [-20, 0] }), /data_offsets must be \[begin, end\]/],
    ['fractional data_offsets', () => oneTensor({ dtype: 'F32', shape: [5], data_offsets: [0.5, 20.5] }), /data_offsets must be \[begin, end\]/],
    ['three data_offsets', () => oneTensor({ dtype: 'F32', shape: [5], data_offsets: [0, 20, 40] }), /data_offsets must be \[begin, end\]/],
    ['data_offsets that end before they begin', () => oneTensor({ dtype: 'F32', shape: [0], data_offsets: [20, 0] }), /data_offsets \[20, 0\] end before they begin/],
    ['overlapping data_offsets', () => buildFile({
      'state.0.step': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      'state.1.step': { dtype: 'F32', shape: [], data_offsets: [2, 6] },
    }, new Uint8Array(8)), /tensor "state.1.step": data_offsets \[2, 6\] overlap tensor "state.0.step" at \[0, 4\]/],
    ['two tensors on the same bytes', () => buildFile({
      'state.0.step': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      'state.1.step': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
    }, new Uint8Array(4)), /data_offsets \[0, 4\] overlap tensor/],
    ['a gap between tensors', () => buildFile({
      'state.0.step': { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      'state.1.step': { dtype: 'F32', shape: [], data_offsets: [8, 12] },
    }, new Uint8Array(12)), /tensor "state.1.step": data_offsets \[8, 12\] leave a gap after data offset 4/],
    ['trailing bytes no tensor covers', () => oneTensor({ dtype: 'F32', shape: [5], data_offsets: [0, 20] }, new Uint8Array(24)), /the tensors cover data offsets \[0, 20\], but the data section \(from file offset \d+\) is 24 bytes/],
    ['a duplicate tensor name', () => buildFile(
      '{"state.0.step":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"state.0.step":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
      new Uint8Array(4),
    ), /header has the key "state.0.step" twice \(at the top level\)/],
    ['a duplicate name spelled with an escape', () => buildFile(
      '{"state.0.step":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"\\u0073tate.0.step":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
      new Uint8Array(4),
    ), /the key "state.0.step" twice/],
    ['a duplicate key inside an entry', () => buildFile('{"state.0.step":{"dtype":"F32","dtype":"F16","shape":[],"data_offsets":[0,4]}}', new Uint8Array(4)), /the key "dtype" twice \(in an object nested 1 deep\)/],
    // __metadata__.
    ['__metadata__ that is an array', () => buildFile({ __metadata__: ['x'] }), /__metadata__ must be an object of strings, got an array/],
    ['__metadata__ with a number value', () => buildFile({ __metadata__: { param_groups: JSON.stringify(groups()), version: 2 } }), /__metadata__\["version"\] must be a string, got number 2/],
    ['__metadata__ with a nested object', () => buildFile({ __metadata__: { param_groups: groups() } }), /__metadata__\["param_groups"\] must be a string, got an array/],
    ['no __metadata__', () => buildFile({}), /checkpoint: the file has no __metadata__.param_groups/],
    ['no param_groups in __metadata__', () => buildFile({ __metadata__: { format: 'pt' } }), /no __metadata__.param_groups/],
    // param_groups.
    ['param_groups that is not JSON', () => buildFile({ __metadata__: { param_groups: '[{"lr": NaN}]' } }), /__metadata__.param_groups is not valid JSON/],
    ['param_groups that is not a list', () => buildFile({ __metadata__: { param_groups: '{"lr": 1}' } }), /param_groups must be a list of param groups, got \{"lr":1\}/],
    ['too few groups', () => torchCheckpoint([torchGroup([0, 1, 2])], {}), /param_groups has 1 groups; this optimizer has 2/],
    ['too many groups', () => torchCheckpoint([...groups(), torchGroup([3])], {}), /param_groups has 3 groups; this optimizer has 2/],
    ['a group that is not an object', () => torchCheckpoint([torchGroup([0, 1]), [2]], {}), /param_groups\[1\] must be an object, got \[2\]/],
    ['a group with params in another order', () => torchCheckpoint([torchGroup([1, 0]), torchGroup([2])], {}), /param_groups\[0\].params is \[1,0\]; this optimizer's group 0 has params \[0, 1\]/],
    ['a group with a param missing', () => torchCheckpoint([torchGroup([0]), torchGroup([2])], {}), /param_groups\[0\].params is \[0\]/],
    ['a group without params', () => torchCheckpoint([{ ...torchGroup([0, 1]), params: undefined }, torchGroup([2])], {}), /param_groups\[0\].params is undefined/],
    ['params given as strings', () => torchCheckpoint([torchGroup([0, 1]), { ...torchGroup([2]), params: ['2'] }], {}), /param_groups\[1\].params is \["2"\]/],
    ['a negative lr', () => torchCheckpoint([torchGroup([0, 1]), torchGroup([2], { lr: -1 })], {}), /checkpoint.param_groups\[1\].lr: must be >= 0, got -1/],
    ['rho above 1', () => torchCheckpoint([torchGroup([0, 1], { rho: 1.5 }), torchGroup([2])], {}), /param_groups\[0\].rho: must be in \[0, 1\], got 1.5/],
    ['a negative eps', () => torchCheckpoint([torchGroup([0, 1], { eps: -1e-6 }), torchGroup([2])], {}), /param_groups\[0\].eps: must be >= 0/],
    ['a negative weight_decay', () => torchCheckpoint([torchGroup([0, 1], { weight_decay: -0.1 }), torchGroup([2])], {}), /param_groups\[0\].weight_decay: must be >= 0/],
    ['lr "NaN" as a string', () => torchCheckpoint([{ ...torchGroup([0, 1]), lr: 'NaN' }, torchGroup([2])], {}), /param_groups\[0\].lr: must be a finite number, got "NaN"/],
    ['an lr that overflows to Infinity', () => buildFile({ __metadata__: { param_groups: JSON.stringify(groups()).replace('"lr":1', '"lr":1e999') } }), /param_groups\[0\].lr: must be a finite number, got Infinity/],
    ['a missing rho', () => torchCheckpoint([{ ...torchGroup([0, 1]), rho: undefined }, torchGroup([2])], {}), /param_groups\[0\].rho: must be a finite number, got undefined/],
    ['maximize that is not a boolean', () => torchCheckpoint([torchGroup([0, 1]), { ...torchGroup([2]), maximize: 'yes' }], {}), /param_groups\[1\].maximize: must be true or false, got "yes"/],
    // State tensors.
    ['only some of a param\'s tensors', () => torchCheckpoint(groups(), { 0: st(5), 2: st(7) }, { 'state.1.square_avg': { shape: [3], bytes: f32Bytes([1, 2, 3]) } }), /param 1 has state.1.square_avg but not state.1.acc_delta, state.1.step; a param has all three state tensors or none/],
    ['a state tensor for a param that does not exist', () => torchCheckpoint(groups(), good(), { 'state.3.step': { shape: [], bytes: f32Bytes([1]) } }), /tensor "state.3.step" is for param 3; this optimizer has params 0..2/],
    ['an unknown state tensor', () => torchCheckpoint(groups(), good(), { 'state.0.exp_avg': { shape: [5], bytes: f32Bytes([1, 2, 3, 4, 5]) } }), /unexpected tensor "state.0.exp_avg"/],
    ['a tensor outside state', () => torchCheckpoint(groups(), good(), { 'weight': { shape: [1], bytes: f32Bytes([1]) } }), /unexpected tensor "weight"/],
    ['a param index with a leading zero', () => torchCheckpoint(groups(), good(), { 'state.01.step': { shape: [], bytes: f32Bytes([1]) } }), /unexpected tensor "state.01.step"/],
    ['square_avg one element too long', () => torchCheckpoint(groups(), { ...good(), 1: { ...st(3), square_avg: [1, 2, 3, 4] } }), /tensor state.1.square_avg has shape \[4\] \(4 elements\); param 1 has 3/],
    ['acc_delta one element too short', () => torchCheckpoint(groups(), { ...good(), 2: { ...st(7), acc_delta: [1, 2, 3, 4, 5, 6] } }), /tensor state.2.acc_delta has shape \[6\] \(6 elements\); param 2 has 7/],
    ['square_avg with the right length in the wrong count of elements', () => {
      const { header, data } = splitFile(torchCheckpoint(groups(), { 0: st(6), 1: st(3), 2: st(7) }));
      header['state.0.square_avg'].shape = [2, 3];
      return buildFile(header, data);
    }, /tensor state.0.square_avg has shape \[2, 3\] \(6 elements\); param 0 has 5/],
    ['step of shape [1]', () => {
      const { header, data } = splitFile(torchCheckpoint(groups(), good()));
      header['state.2.step'].shape = [1];
      return buildFile(header, data);
    }, /tensor state.2.step has shape \[1\]; a step count has shape \[\]/],
    ['a NaN step', () => torchCheckpoint(groups(), { ...good(), 2: st(7, NaN) }), /tensor state.2.step is NaN; a step count is a whole number from 0 to 4294967295/],
    ['an infinite step', () => torchCheckpoint(groups(), { ...good(), 0: st(5, Infinity) }), /tensor state.0.step is Infinity/],
    ['a negative step', () => torchCheckpoint(groups(), { ...good(), 0: st(5, -1) }), /tensor state.0.step is -1/],
    ['a fractional step', () => torchCheckpoint(groups(), { ...good(), 1: st(3, 2.5) }), /tensor state.1.step is 2.5/],
    // The kernel counts steps in a u32: 2^32 wrapped to 0, and the next saveState() dropped the state.
    ['a step past a u32', () => torchCheckpoint(groups(), { ...good(), 1: st(3, 2 ** 32) }), /tensor state.1.step is 4294967296; a step count is a whole number from 0 to 4294967295/],
    // Untrusted nesting: refused by depth before any message stringifies it (it overflowed the stack).
    ['a shape nested 5,000 deep', () => buildFile(
      `{"__metadata__":{"param_groups":${JSON.stringify(JSON.stringify(groups()))}},"state.0.step":{"dtype":"F32","shape":${nested(5000)},"data_offsets":[0,4]}}`,
      new Uint8Array(4),
    ), /header \(bytes 8\.\.\d+\) nests arrays and objects more than 16 deep/],
    ['data_offsets nested 5,000 deep', () => buildFile(
      `{"state.0.step":{"dtype":"F32","shape":[],"data_offsets":[0,${nested(5000)}]}}`,
      new Uint8Array(4),
    ), /nests arrays and objects more than 16 deep/],
    ['param_groups nested 5,000 deep', () => buildFile({ __metadata__: { param_groups: JSON.stringify(groups()).replace('"params":[2]', `"params":${nested(5000)}`) } }),
      /__metadata__.param_groups nests arrays and objects more than 16 deep/],
    ['param_groups params nested 12 deep (under the depth bound, over the preview\'s)', () => buildFile({ __metadata__: { param_groups: JSON.stringify(groups()).replace('"params":[2]', `"params":${nested(12)}`) } }),
      /param_groups\[1\].params is \[\[\[\[\[\.\.\.\]\]\]\]\]/],
    // Headers that cannot fit this optimizer are refused before the full parse.
    ['thousands of tiny keys', () => buildFile(`{${Array.from({ length: 5000 }, (_, i) => `"k${i}":0`).join(',')}}`),
      /header \(bytes 8\.\.\d+\) has more than 74 entries for this optimizer of 3 params/],
    ['a shape of a million dimensions', () => oneTensor({ dtype: 'F32', shape: new Array(1_000_000).fill(1), data_offsets: [0, 20] }),
      /has more than \d+ values for this optimizer of 3 params/],
  ];

  it.each(cases)('%s', async (_name, make, message) => {
    opt ??= await makeOptimizer();
    if (opt.state(0).step === 0) train(opt, 0, 3);
    expectRejected(opt, make(), message);
  });

  it('the good file those cases start from does load', async () => {
    const o = await makeOptimizer();
    o.loadState(torchCheckpoint(groups(), good()));
    expect(o.state(2).step).toBe(2);
    o.dispose();
  });

  it('a problem found late (the last group, the last param) still changes nothing', async () => {
    const o = await makeOptimizer();
    train(o, 0, 3);
    // Group 0 and params 0, 1 are valid and differ from o's; only the last item is bad.
    expectRejected(o, torchCheckpoint([torchGroup([0, 1], { lr: 0.001 }), torchGroup([2], { rho: 2 })], good()), /param_groups\[1\].rho/);
    expectRejected(o, torchCheckpoint([torchGroup([0, 1], { lr: 0.001 }), torchGroup([2])], { ...good(), 2: st(7, -3) }), /state.2.step is -3/);
    o.dispose();
  });

  it('use after dispose throws AdadeltaError', async () => {
    const o = await makeOptimizer();
    const bytes = o.saveState();
    o.dispose();
    expect(() => o.saveState()).toThrow(AdadeltaError);
    expect(() => o.loadState(bytes)).toThrow(/disposed/);
  });
});
