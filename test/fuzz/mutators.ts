// Mutations of a valid image file. Each takes the file and a seeded random source and returns new bytes
// (never the input array) and a short description of what it did, which goes into the case's label so a
// failure can be read and replayed.
import { crc32 } from 'node:zlib';

import { readField, structureOf, writeField } from './structure.ts';
import type { Field, FileFormat } from './structure.ts';

export type Random = () => number;

export interface Mutation {
  bytes: Uint8Array;
  what: string;
}

export const int = (rand: Random, n: number) => Math.floor(rand() * n);
export const pick = <T>(rand: Random, items: readonly T[]): T => items[int(rand, items.length)]!;

/** Flips 1–8 random bits. */
export function flipBits(src: Uint8Array, rand: Random): Mutation {
  const bytes = src.slice();
  const n = 1 + int(rand, 8);
  const at: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = int(rand, bytes.length);
    bytes[i] = bytes[i]! ^ (1 << int(rand, 8));
    at.push(i);
  }
  return { bytes, what: `flip bits at ${at.join(',')}` };
}

/** Overwrites, inserts or deletes a run of up to 64 bytes (0x00, 0xFF, one random value, or noise). */
export function byteRun(src: Uint8Array, rand: Random): Mutation {
  const at = int(rand, src.length);
  const len = 1 + int(rand, 64);
  const fill = pick(rand, ['00', 'ff', 'value', 'noise'] as const);
  const value = fill === '00' ? 0 : fill === 'ff' ? 255 : int(rand, 256);
  const run = Uint8Array.from({ length: len }, () => (fill === 'noise' ? int(rand, 256) : value));
  const how = pick(rand, ['overwrite', 'insert', 'delete'] as const);
  let bytes: Uint8Array;
  if (how === 'overwrite') {
    bytes = src.slice();
    bytes.set(run.subarray(0, Math.max(0, bytes.length - at)), at);
  } else if (how === 'insert') {
    bytes = concat(src.subarray(0, at), run, src.subarray(at));
  } else {
    bytes = concat(src.subarray(0, at), src.subarray(at + len));
  }
  return { bytes, what: `${how} ${len}×${fill === 'value' ? value.toString(16) : fill} at ${at}` };
}

/** Cuts the file at one of its structural boundaries, or one byte either side of it. */
export function truncate(src: Uint8Array, format: FileFormat, rand: Random): Mutation {
  const { boundaries } = structureOf(src, format);
  const base = boundaries.length > 0 ? pick(rand, boundaries) : int(rand, src.length);
  const at = Math.max(0, Math.min(src.length - 1, base + pick(rand, [0, 0, 0, -1, 1])));
  return { bytes: src.slice(0, at), what: `truncate at ${at} of ${src.length}` };
}

/** Values tried on a header field: the edges of its range, its neighbours and typical bad values. */
function extremes(f: Field, original: number): number[] {
  const max = 2 ** (8 * f.bytes) - 1;
  const common = [0, 1, max, max - 1, 2 ** (8 * f.bytes - 1), 2 ** (8 * f.bytes - 1) - 1, original + 1, original - 1];
  switch (f.kind) {
    case 'size':
      return [...common, original * 2, original >> 1, 2, 3, 4, 8];
    case 'count':
      return [...common, 2, 3, 4, 5, 16, 255];
    case 'dim':
      return [...common, 2, 3, 255, 256, 7000, 16384, 30000, 65500, 65535, 1 << 24];
    case 'code':
      return [...common, 2, 3, 4, 5, 6, 7, 8, 16, 0x11, 0x22, 0x44, 0x0f, 0xf0];
  }
}

/** Sets one header field (size, count, dimension, code) to an extreme; for PNG, usually keeps the CRC valid. */
export function setField(src: Uint8Array, format: FileFormat, rand: Random): Mutation | undefined {
  const { fields } = structureOf(src, format);
  if (fields.length === 0) return undefined;
  const f = pick(rand, fields);
  const bytes = src.slice();
  const original = readField(bytes, f);
  const value = pick(rand, extremes(f, original));
  writeField(bytes, f, value);
  // libpng rejects a chunk whose CRC is wrong before it looks at the field; fix it 3 times in 4.
  let crc = '';
  if (f.crc && f.crc.at + 4 <= bytes.length && rand() < 0.75) {
    const sum = crc32(bytes.subarray(f.crc.start, f.crc.end));
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(f.crc.at, sum >>> 0);
    crc = ', CRC fixed';
  }
  return { bytes, what: `${f.name} @${f.offset} ${original} → ${readField(bytes, f)}${crc}` };
}

/** Drops one segment or chunk, or repeats it. */
export function segment(src: Uint8Array, format: FileFormat, rand: Random): Mutation | undefined {
  const { segments } = structureOf(src, format);
  if (segments.length === 0) return undefined;
  const [start, end] = pick(rand, segments);
  const repeat = rand() < 0.3;
  const bytes = repeat
    ? concat(src.subarray(0, end), src.subarray(start, end), src.subarray(end))
    : concat(src.subarray(0, start), src.subarray(end));
  return { bytes, what: `${repeat ? 'repeat' : 'drop'} segment ${start}..${end}` };
}

/** The head of one file and the tail of another of the same format. */
export function splice(a: Uint8Array, b: Uint8Array, rand: Random): Mutation {
  const cut = int(rand, a.length);
  const from = int(rand, b.length);
  return { bytes: concat(a.subarray(0, cut), b.subarray(from)), what: `splice ${cut} + other from ${from}` };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
