/**
 * Builds and splits safetensors files for tests, independently of the package's codec, so tests
 * can craft exactly the malformed headers they need.
 */

/** A file from a header (an object, or raw text used as is) and the data section's bytes. */
export function buildFile(header: string | object, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The header (parsed and as text) and data section of a well-formed file. */
export function splitFile(bytes: Uint8Array): { header: Record<string, any>; text: string; data: Uint8Array } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  return { header: JSON.parse(text), text, data: bytes.slice(8 + length) };
}

/** Little-endian float32 bytes of the given values. */
export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i]!, true);
  return out;
}

/** Float32 values of little-endian bytes. */
export function f32Values(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

export interface TorchParamState {
  step: number;
  square_avg: ArrayLike<number>;
  acc_delta: ArrayLike<number>;
}

/**
 * A checkpoint as a torch user would write it with safetensors' save_file: the state tensors
 * (in `order`: 'name' sorts them by name as the reference writer does) and the param_groups JSON.
 */
export function torchCheckpoint(paramGroups: unknown, state: Record<number, TorchParamState>, extraTensors: Record<string, { dtype?: string; shape: number[]; bytes: Uint8Array }> = {}): Uint8Array {
  const tensors: [string, { dtype: string; shape: number[]; bytes: Uint8Array }][] = [];
  for (const [i, s] of Object.entries(state)) {
    tensors.push([`state.${i}.acc_delta`, { dtype: 'F32', shape: [s.acc_delta.length], bytes: f32Bytes(s.acc_delta) }]);
    tensors.push([`state.${i}.square_avg`, { dtype: 'F32', shape: [s.square_avg.length], bytes: f32Bytes(s.square_avg) }]);
    tensors.push([`state.${i}.step`, { dtype: 'F32', shape: [], bytes: f32Bytes([s.step]) }]);
  }
  for (const [name, t] of Object.entries(extraTensors)) tensors.push([name, { dtype: t.dtype ?? 'F32', ...t }]);
  tensors.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: { param_groups: JSON.stringify(paramGroups) } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
    chunks.push(t.bytes);
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    data.set(c, at);
    at += c.length;
  }
  return buildFile(header, data);
}

/** torch's param_groups entry for one group, as state_dict() gives it. */
export function torchGroup(params: number[], h: { lr?: number; rho?: number; eps?: number; weight_decay?: number; maximize?: boolean } = {}): Record<string, unknown> {
  return {
    lr: h.lr ?? 1.0,
    rho: h.rho ?? 0.9,
    eps: h.eps ?? 1e-6,
    weight_decay: h.weight_decay ?? 0,
    foreach: null,
    maximize: h.maximize ?? false,
    capturable: false,
    differentiable: false,
    params,
  };
}
