// A pool result as a job's return value. BullMQ stores return values as JSON, which would turn a
// Float32Array into an object of numbered keys (and lose its type); here every typed array becomes
// `{ $typed: 'Float32Array', base64 }` on the way in and the same typed array on the way out, bit
// for bit. Results are small next to the image (boxes, scores, ids; masks only with returnMasks),
// so base64 costs little here; the image itself travels binary (see image-store.ts).
import type { InferenceResult } from '../index.js';

const TYPED = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
} as const;
type TypedName = keyof typeof TYPED;

interface EncodedTyped {
  $typed: TypedName;
  base64: string;
}

function isEncodedTyped(value: unknown): value is EncodedTyped {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EncodedTyped).$typed === 'string' &&
    typeof (value as EncodedTyped).base64 === 'string' &&
    Object.hasOwn(TYPED, (value as EncodedTyped).$typed)
  );
}

function encodeValue(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedName;
    if (!Object.hasOwn(TYPED, name)) throw new TypeError(`cannot encode a ${name}`);
    // The view only: a result's arrays may share a larger buffer.
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { $typed: name, base64: bytes.toString('base64') } satisfies EncodedTyped;
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = encodeValue(v);
    return out;
  }
  return value;
}

function decodeValue(value: unknown): unknown {
  if (isEncodedTyped(value)) {
    const bytes = Buffer.from(value.base64, 'base64');
    const Type = TYPED[value.$typed];
    // A fresh, aligned buffer (Buffer's may sit at any offset of a shared slab).
    const out = new Type(bytes.byteLength / Type.BYTES_PER_ELEMENT);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  if (Array.isArray(value)) return value.map(decodeValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = decodeValue(v);
    return out;
  }
  return value;
}

/** A JSON-safe copy of a result: typed arrays as tagged base64. */
export function encodeResult(result: InferenceResult): unknown {
  return encodeValue(result);
}

/** The result again, typed arrays restored (from the parsed JSON value). */
export function decodeResult(encoded: unknown): InferenceResult {
  return decodeValue(encoded) as InferenceResult;
}
