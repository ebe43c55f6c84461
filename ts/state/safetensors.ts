/**
 * A small safetensors codec: bytes <-> { metadata, F32 tensors }. The file is an 8-byte
 * little-endian header length, a JSON header `{ "__metadata__"?: {str: str}, name: { dtype,
 * shape, data_offsets: [begin, end] } }`, then the tensor bytes. The header is untrusted: every
 * number is checked before it is used, and every rejection is an AdadeltaError saying what and
 * where. It knows nothing of optimizers.
 */
import { AdadeltaError } from '../errors.js';
import { MAX_JSON_DEPTH, overJsonLimits, preview } from './json-limits.js';

/** One F32 tensor. `data.length` is the product of `shape` (1 for shape []). */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  /** `__metadata__`, a string -> string map, or undefined when the file has none. */
  metadata: Record<string, string> | undefined;
  /** The tensors, in the order of their data in the file. */
  tensors: Map<string, F32Tensor>;
}

/** The safetensors reference implementation's limit: any file torch writes is within it. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * What a reader expects of a header, so that whatever cannot fit is refused before the full
 * parse. The codec knows nothing of optimizers: its caller derives these from what it holds.
 */
export interface HeaderLimits {
  /** Bytes of header JSON. Default MAX_HEADER_BYTES. */
  maxHeaderBytes?: number;
  /** Tensors in the header (its entries besides __metadata__). Default unlimited. */
  maxTensors?: number;
  /** JSON values anywhere in the header. Default unlimited. */
  maxValues?: number;
  /** Said after a limit in the error, e.g. "for an optimizer of 3 params". */
  reason?: string;
}

const METADATA_KEY = '__metadata__';

/** The dtypes safetensors defines, and their sizes. Only F32 is read; the rest are named in errors. */
const KNOWN_DTYPES: readonly string[] = [
  'BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2',
  'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'C64', 'F64', 'I64', 'U64',
];

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new AdadeltaError(message, 'safetensors');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${preview(value)}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${preview(value)}`;
  return `${typeof value} ${String(value)}`;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Encodes F32 tensors (in the given order) and string metadata into a safetensors file. */
export function encodeSafetensors(tensors: ReadonlyArray<readonly [string, F32Tensor]>, metadata?: Record<string, string>): Uint8Array {
  // Written entry by entry: the same text as JSON.stringify of the header object, without
  // building an object of hundreds of thousands of keys first (4x faster at 1e5 params).
  const entries: string[] = [];
  if (metadata !== undefined) entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.length * 4;
    entries.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + bytes}]}`);
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  // Pad with spaces so the data starts 8-byte aligned, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  // The data section starts 8-byte aligned and every tensor is whole f32s: one view over it
  // takes every tensor without a view per tensor.
  const section = LITTLE_ENDIAN_HOST ? new Float32Array(out.buffer, 8 + headerLength, offset / 4) : undefined;
  let at = 0;
  for (const [, { data }] of tensors) {
    if (section) section.set(data, at / 4);
    else for (let i = 0; i < data.length; i++) view.setFloat32(8 + headerLength + at + 4 * i, data[i]!, true);
    at += data.length * 4;
  }
  return out;
}

function readF32(bytes: Uint8Array, at: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) {
    // A copy: the source may be unaligned, and the caller must not alias the user's bytes.
    new Uint8Array(out.buffer).set(bytes.subarray(at, at + 4 * count));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * count);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  }
  return out;
}

/** Reads the 8-byte header length and bounds it by the file and `maxHeaderBytes`. */
function readHeaderLength(bytes: Uint8Array, maxHeaderBytes: number, reason: string): number {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length field`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  // high * 2^32 + low is exact below 2^53; above that it is only used to say "too big".
  const length = high * 2 ** 32 + low;
  if (length > maxHeaderBytes) fail(`header length field at offset 0 is ${length}, over the ${maxHeaderBytes}-byte limit${reason}`);
  if (length > bytes.length - 8) {
    fail(`header length field at offset 0 is ${length}, past the end of the ${bytes.length}-byte file (at most ${bytes.length - 8})`);
  }
  if (length < 2) fail(`header length field at offset 0 is ${length}; the smallest header, {}, is 2 bytes`);
  return length;
}

function parseHeaderJson(bytes: Uint8Array, length: number, limits: HeaderLimits, reason: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + length));
  } catch {
    fail(`header (bytes 8..${8 + length}) is not valid UTF-8`);
  }
  // The reference reader requires the header to start with '{' (so no BOM, no leading space);
  // trailing spaces are padding.
  if (text.charCodeAt(0) !== 0x7b) fail(`header at offset 8 must start with '{', got ${preview(text.slice(0, 10))}`);
  const over = overJsonLimits(text, {
    maxDepth: MAX_JSON_DEPTH,
    maxMembers: (limits.maxTensors ?? Infinity) + 1,
    maxValues: limits.maxValues ?? Infinity,
  });
  if (over !== undefined) fail(`header (bytes 8..${8 + length}) ${over}${reason}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`header (bytes 8..${8 + length}) is not valid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(parsed)) fail(`header must be a JSON object, got ${describe(parsed)}`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) fail(`header has the key ${preview(duplicate.key)} twice (${duplicate.where})`);
  return parsed;
}

/**
 * JSON.parse keeps the last of two equal keys silently; a file naming a tensor twice is
 * ambiguous, so this finds any key repeated within one object. `text` is already valid JSON.
 */
const SMALL_OBJECT_KEYS = 16;

function findDuplicateKey(text: string): { key: string; where: string } | undefined {
  // One entry per open container: the keys seen so far for an object, undefined for an array.
  // A list, not a Set: a header has hundreds of thousands of three-key objects, and only the
  // top level is big (it becomes a Set past SMALL_OBJECT_KEYS).
  const stack: (string[] | Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      stack.push([]);
      expectKey = true;
    } else if (c === '[') {
      stack.push(undefined);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== undefined;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        // Most keys have no escape: no need to parse them.
        const raw = text.slice(i + 1, end);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        const keys = stack[stack.length - 1]!;
        if (keys instanceof Set ? keys.has(key) : keys.includes(key)) {
          return { key, where: stack.length === 1 ? 'at the top level' : `in an object nested ${stack.length - 1} deep` };
        }
        if (keys instanceof Set) keys.add(key);
        else if (keys.push(key) > SMALL_OBJECT_KEYS) stack[stack.length - 1] = new Set(keys);
        expectKey = false;
      }
      i = end;
    }
  }
  return undefined;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (!isPlainObject(value)) fail(`${METADATA_KEY} must be an object of strings, got ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(`${METADATA_KEY}[${preview(key)}] must be a string, got ${describe(v)}`);
    out[key] = v;
  }
  return out;
}

/** A non-negative integer that is exactly representable; header numbers past 2^53 are lies. */
function isIndex(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

function checkEntry(name: string, value: unknown, dataLength: number): Entry {
  const where = `tensor ${preview(name)}`;
  if (!isPlainObject(value)) fail(`${where}: must be an object { dtype, shape, data_offsets }, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') fail(`${where}: dtype must be a string, got ${describe(dtype)}`);
  if (dtype !== 'F32') {
    if (KNOWN_DTYPES.includes(dtype)) fail(`${where}: dtype ${dtype} is not supported; optimizer state is F32`);
    fail(`${where}: unknown dtype ${preview(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) fail(`${where}: shape must be a list of non-negative integers, got ${describe(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(`${where}: data_offsets must be [begin, end], two non-negative integers, got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) fail(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${dataLength}-byte data section`);
  // The product cannot overflow usefully: stop as soon as it exceeds the data we have.
  let elements = 1;
  for (const d of shape as number[]) {
    elements *= d;
    if (elements > dataLength) break;
  }
  if (elements * 4 !== end - begin) {
    fail(`${where}: shape [${(shape as number[]).join(', ')}] of F32 needs ${elements * 4} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, shape: shape as number[], begin, end };
}

/**
 * Decodes and fully validates a safetensors file holding F32 tensors. The returned arrays are
 * copies. Throws AdadeltaError on anything malformed, naming the tensor and offset.
 */
export function decodeSafetensors(bytes: Uint8Array, limits: HeaderLimits = {}): SafetensorsContents {
  if (!(bytes instanceof Uint8Array)) fail(`expected the file as a Uint8Array, got ${describe(bytes)}`);
  const reason = limits.reason === undefined ? '' : ` ${limits.reason}`;
  const headerLength = readHeaderLength(bytes, limits.maxHeaderBytes ?? MAX_HEADER_BYTES, reason);
  const header = parseHeaderJson(bytes, headerLength, limits, reason);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  let metadata: Record<string, string> | undefined;
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(checkEntry(name, value, dataLength));
  }

  // The data section is tiled exactly: sorted by offset, each tensor starts where the last
  // ended, from 0 to the end of the file. No gaps, no overlaps, no trailing bytes.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: Entry | undefined;
  for (const e of entries) {
    if (e.begin < expected) {
      fail(`tensor ${preview(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap tensor ${preview(previous!.name)} at [${previous!.begin}, ${previous!.end}]`);
    }
    if (e.begin > expected) {
      fail(`tensor ${preview(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a gap after data offset ${expected}`);
    }
    expected = e.end;
    previous = e;
  }
  if (expected !== dataLength) {
    fail(`the tensors cover data offsets [0, ${expected}], but the data section (from file offset ${dataStart}) is ${dataLength} bytes`);
  }

  const tensors = new Map<string, F32Tensor>();
  for (const e of entries) {
    tensors.set(e.name, { shape: e.shape, data: readF32(bytes, dataStart + e.begin, (e.end - e.begin) / 4) });
  }
  return { metadata, tensors };
}
