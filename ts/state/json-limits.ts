/**
 * Bounds on untrusted JSON, checked in one cheap pass before JSON.parse, and a bounded preview
 * of untrusted values for error messages. A header of millions of tiny keys takes JSON.parse
 * minutes and gigabytes, and one nested thousands deep makes JSON.stringify overflow the stack:
 * both are refused here, in time proportional to the text, before they cost anything more.
 */

export interface JsonLimits {
  /** Arrays and objects nested deeper than this are refused. */
  maxDepth: number;
  /** Members of the outermost array or object. */
  maxMembers: number;
  /** Values anywhere (counted by their separating commas). */
  maxValues: number;
}

/** Deeper than any file this package reads needs (a safetensors header nests 3 deep). */
export const MAX_JSON_DEPTH = 16;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * What in `text` is over `limits`, or undefined. It does not validate: text that is not JSON
 * passes here and fails in JSON.parse, which then runs over bounded text.
 */
export function overJsonLimits(text: string, limits: JsonLimits): string | undefined {
  let depth = 0;
  let members = 1;
  let values = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth) return `nests arrays and objects more than ${limits.maxDepth} deep (at character ${i})`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === COMMA) {
      if (depth === 1 && ++members > limits.maxMembers) return `has more than ${limits.maxMembers} entries`;
      if (++values > limits.maxValues) return `has more than ${limits.maxValues} values`;
    }
  }
  return undefined;
}

/** Longest preview of a value in an error message. */
const PREVIEW_CHARS = 60;
/** Containers deeper than this are shown as [...] or {...}. */
const PREVIEW_DEPTH = 4;

/**
 * A JSON-like rendering of an untrusted value, cut at 60 characters: it stops walking as soon as
 * it has that many, so a huge or deeply nested value costs no more than a small one.
 */
export function preview(value: unknown): string {
  let out = '';
  const put = (s: string): boolean => {
    out += s;
    return out.length <= PREVIEW_CHARS;
  };
  const walk = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return put(JSON.stringify(v.length > PREVIEW_CHARS ? v.slice(0, PREVIEW_CHARS) : v));
    if (Array.isArray(v)) {
      if (depth >= PREVIEW_DEPTH) return put('[...]');
      if (!put('[')) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !put(',')) || !walk(v[i], depth + 1)) return false;
      return put(']');
    }
    if (typeof v === 'object' && v !== null) {
      if (depth >= PREVIEW_DEPTH) return put('{...}');
      if (!put('{')) return false;
      let first = true;
      for (const key in v) {
        if (!put(first ? '' : ',') || !walk(key, depth + 1) || !put(':') || !walk((v as Record<string, unknown>)[key], depth + 1)) return false;
        first = false;
      }
      return put('}');
    }
    return put(JSON.stringify(v) ?? String(v));
  };
  walk(value, 0);
  return out.length > PREVIEW_CHARS ? `${out.slice(0, PREVIEW_CHARS - 3)}...` : out;
}
