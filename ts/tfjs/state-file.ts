/**
 * Encodes one param's Adadelta state as the safetensors file that the core's `loadState` reads
 * (the layout in API.md: `state.0.{square_avg,acc_delta,step}` plus torch's `param_groups`).
 * The adapter keeps one core optimizer per tf.js variable, so every file holds exactly one param.
 */
import type { CoreHyper } from './options.js';

interface Entry {
  name: string;
  shape: number[];
  values: Float32Array;
}

export function singleParamStateFile(squareAvg: Float32Array, accDelta: Float32Array, step: number, hyper: CoreHyper): Uint8Array {
  const entries: Entry[] = [
    { name: 'state.0.square_avg', shape: [squareAvg.length], values: squareAvg },
    { name: 'state.0.acc_delta', shape: [accDelta.length], values: accDelta },
    { name: 'state.0.step', shape: [], values: Float32Array.of(step) },
  ];
  const paramGroups = [
    {
      lr: hyper.lr,
      rho: hyper.rho,
      eps: hyper.eps,
      weight_decay: hyper.weightDecay,
      foreach: null,
      maximize: false,
      capturable: false,
      differentiable: false,
      params: [0],
    },
  ];
  const header: Record<string, unknown> = { __metadata__: { param_groups: JSON.stringify(paramGroups) } };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: 'F32', shape: e.shape, data_offsets: [offset, offset + e.values.byteLength] };
    offset += e.values.byteLength;
  }
  // safetensors pads the JSON header with spaces to a multiple of 8 bytes.
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withPad = new Uint8Array(padded).fill(0x20);
    withPad.set(json);
    json = withPad;
  }
  const bytes = new Uint8Array(8 + json.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const e of entries) {
    // Little-endian float32, as safetensors requires (and as every wasm host stores it).
    bytes.set(new Uint8Array(e.values.buffer, e.values.byteOffset, e.values.byteLength), at);
    at += e.values.byteLength;
  }
  return bytes;
}
