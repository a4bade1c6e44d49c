// Where a JPEG, PNG, BMP or WebP file's structure lies: the offsets between its parts (marker segments,
// chunks, headers, pixel rows), where truncation is most likely to find a decoder's missing length check,
// and the header fields (sizes, counts, dimensions) that the mutators set to extremes. Parsing is lenient
// and stops at the first thing it cannot follow, so it also works on files mutated once already.

export type FileFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

/** What a field holds, which picks the extremes tried on it. */
export type FieldKind = 'size' | 'count' | 'dim' | 'code';

export interface Field {
  name: string;
  offset: number;
  bytes: 1 | 2 | 3 | 4;
  endian: 'be' | 'le';
  kind: FieldKind;
  /** PNG: the chunk's type-and-data span and the CRC's offset, so a mutation can keep the CRC valid. */
  crc?: { start: number; end: number; at: number };
}

export interface Structure {
  format: FileFormat;
  /** Sorted, distinct offsets in (0, length]: truncating there cuts the file between two parts. */
  boundaries: number[];
  fields: Field[];
  /** [start, end) spans of whole segments or chunks, which a mutator may drop or repeat. */
  segments: [number, number][];
}

export function detectFormat(bytes: Uint8Array): FileFormat | undefined {
  const ascii = (at: number, s: string) => [...s].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (bytes[0] === 0x89 && ascii(1, 'PNG')) return 'png';
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  return undefined;
}

export function readField(bytes: Uint8Array, f: Field): number {
  let v = 0;
  for (let i = 0; i < f.bytes; i++) {
    const b = bytes[f.offset + (f.endian === 'be' ? i : f.bytes - 1 - i)] ?? 0;
    v = v * 256 + b;
  }
  return v;
}

export function writeField(bytes: Uint8Array, f: Field, value: number): void {
  let v = Math.floor(value) % 2 ** (8 * f.bytes);
  if (v < 0) v += 2 ** (8 * f.bytes);
  for (let i = f.bytes - 1; i >= 0; i--) {
    const at = f.offset + (f.endian === 'be' ? i : f.bytes - 1 - i);
    if (at < bytes.length) bytes[at] = v % 256;
    v = Math.floor(v / 256);
  }
}

class Builder {
  readonly boundaries = new Set<number>();
  readonly fields: Field[] = [];
  readonly segments: [number, number][] = [];
  constructor(readonly length: number) {}
  cut(...offsets: number[]): void {
    for (const o of offsets) if (o > 0 && o <= this.length) this.boundaries.add(o);
  }
  field(name: string, offset: number, bytes: Field['bytes'], endian: Field['endian'], kind: FieldKind): Field {
    const f: Field = { name, offset, bytes, endian, kind };
    if (offset + bytes <= this.length) this.fields.push(f);
    return f;
  }
  segment(start: number, end: number): void {
    if (start < end && end <= this.length) this.segments.push([start, end]);
  }
  done(format: FileFormat): Structure {
    const boundaries = [...this.boundaries].sort((a, b) => a - b);
    return { format, boundaries, fields: this.fields, segments: this.segments };
  }
}

const be16 = (d: Uint8Array, i: number) => ((d[i] ?? 0) << 8) | (d[i + 1] ?? 0);
const be32 = (d: Uint8Array, i: number) => be16(d, i) * 65536 + be16(d, i + 2);
const le16 = (d: Uint8Array, i: number) => (d[i] ?? 0) | ((d[i + 1] ?? 0) << 8);
const le32 = (d: Uint8Array, i: number) => le16(d, i) + le16(d, i + 2) * 65536;

function jpeg(d: Uint8Array): Structure {
  const s = new Builder(d.length);
  let i = 2;
  s.cut(1, 2);
  while (i + 1 < d.length) {
    if (d[i] !== 0xff) break;
    const marker = d[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    s.cut(i, i + 1, i + 2);
    if (marker === 0xd9) break; // EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = be16(d, i + 2);
    const body = i + 4;
    const end = i + 2 + len;
    s.field(`marker ${marker.toString(16)} length`, i + 2, 2, 'be', 'size');
    s.cut(i + 3, body, end - 1, end);
    s.segment(i, end);
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      s.field('SOF precision', body, 1, 'be', 'code');
      s.field('SOF height', body + 1, 2, 'be', 'dim');
      s.field('SOF width', body + 3, 2, 'be', 'dim');
      s.field('SOF components', body + 5, 1, 'be', 'count');
      const n = d[body + 5] ?? 0;
      for (let c = 0; c < Math.min(n, 4); c++) {
        s.field(`SOF component ${c} id`, body + 6 + 3 * c, 1, 'be', 'code');
        s.field(`SOF component ${c} sampling`, body + 7 + 3 * c, 1, 'be', 'code');
        s.field(`SOF component ${c} table`, body + 8 + 3 * c, 1, 'be', 'code');
      }
    } else if (marker === 0xc4) {
      s.field('DHT class/id', body, 1, 'be', 'code');
      for (let k = 0; k < 16; k += 5) s.field(`DHT count ${k + 1}`, body + 1 + k, 1, 'be', 'count');
    } else if (marker === 0xdb) {
      s.field('DQT precision/id', body, 1, 'be', 'code');
    } else if (marker === 0xdd) {
      s.field('DRI interval', body, 2, 'be', 'count');
    } else if (marker === 0xda) {
      const n = d[body] ?? 0;
      s.field('SOS components', body, 1, 'be', 'count');
      for (let c = 0; c < Math.min(n, 4); c++) s.field(`SOS component ${c} tables`, body + 2 + 2 * c, 1, 'be', 'code');
      s.field('SOS spectral start', body + 1 + 2 * n, 1, 'be', 'code');
      s.field('SOS spectral end', body + 2 + 2 * n, 1, 'be', 'code');
      s.field('SOS approximation', body + 3 + 2 * n, 1, 'be', 'code');
      // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart marker.
      let j = end;
      while (j + 1 < d.length && !(d[j] === 0xff && d[j + 1] !== 0 && !(d[j + 1]! >= 0xd0 && d[j + 1]! <= 0xd7))) j++;
      s.cut(end + 1, (end + j) >> 1, j - 1);
      s.segment(i, j);
      i = j;
      continue;
    }
    i = end;
  }
  return s.done('jpeg');
}

function png(d: Uint8Array): Structure {
  const s = new Builder(d.length);
  s.cut(1, 4, 8);
  let p = 8;
  while (p + 8 <= d.length) {
    const len = be32(d, p);
    const type = String.fromCharCode(...d.subarray(p + 4, p + 8));
    const data = p + 8;
    const end = data + len + 4;
    const crc = { start: p + 4, end: data + len, at: data + len };
    const field = (name: string, at: number, bytes: Field['bytes'], kind: FieldKind) => {
      const f = s.field(`${type} ${name}`, at, bytes, 'be', kind);
      f.crc = crc;
    };
    field('length', p, 4, 'size');
    s.cut(p, p + 4, data, data + (len >> 1), data + len - 1, data + len, end);
    s.segment(p, end);
    if (type === 'IHDR') {
      field('width', data, 4, 'dim');
      field('height', data + 4, 4, 'dim');
      field('bit depth', data + 8, 1, 'code');
      field('colour type', data + 9, 1, 'code');
      field('compression', data + 10, 1, 'code');
      field('filter', data + 11, 1, 'code');
      field('interlace', data + 12, 1, 'code');
    }
    if (type === 'IDAT') field('zlib header', data, 2, 'code');
    if (type === 'IEND' || end > d.length) break;
    p = end;
  }
  return s.done('png');
}

function bmp(d: Uint8Array): Structure {
  const s = new Builder(d.length);
  const dibSize = le32(d, 14);
  const offBits = le32(d, 10);
  s.cut(2, 6, 10, 14, 18, 22, 26, 30, 14 + dibSize, offBits, d.length - 1);
  s.segment(14, 14 + dibSize);
  s.segment(14 + dibSize, offBits);
  s.field('file size', 2, 4, 'le', 'size');
  s.field('pixel offset', 10, 4, 'le', 'size');
  s.field('DIB size', 14, 4, 'le', 'size');
  s.field('width', 18, 4, 'le', 'dim');
  s.field('height', 22, 4, 'le', 'dim');
  s.field('planes', 26, 2, 'le', 'count');
  s.field('bits per pixel', 28, 2, 'le', 'code');
  s.field('compression', 30, 4, 'le', 'code');
  s.field('image size', 34, 4, 'le', 'size');
  s.field('colours used', 46, 4, 'le', 'count');
  // Pixel rows: each row start is a boundary (24-bit rows padded to 4 bytes).
  const width = le32(d, 18);
  const bpp = le16(d, 28);
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (stride > 0) {
    for (let row = offBits; row < d.length && s.boundaries.size < 64; row += stride) s.cut(row, row + 1);
  }
  return s.done('bmp');
}

function webp(d: Uint8Array): Structure {
  const s = new Builder(d.length);
  s.cut(4, 8, 12);
  s.field('RIFF size', 4, 4, 'le', 'size');
  let p = 12;
  while (p + 8 <= d.length) {
    const fourcc = String.fromCharCode(...d.subarray(p, p + 4));
    const len = le32(d, p + 4);
    const data = p + 8;
    const end = data + len + (len & 1);
    s.field(`${fourcc} size`, p + 4, 4, 'le', 'size');
    s.cut(p, p + 4, data, data + 1, data + (len >> 1), data + len - 1, data + len, end);
    s.segment(p, end);
    if (fourcc === 'VP8 ') {
      s.field('VP8 frame tag', data, 3, 'le', 'size');
      s.field('VP8 width', data + 6, 2, 'le', 'dim');
      s.field('VP8 height', data + 8, 2, 'le', 'dim');
    } else if (fourcc === 'VP8L') {
      s.field('VP8L signature', data, 1, 'le', 'code');
      s.field('VP8L width/height bits', data + 1, 4, 'le', 'dim');
    } else if (fourcc === 'VP8X') {
      s.field('VP8X flags', data, 1, 'le', 'code');
      s.field('VP8X canvas width', data + 4, 3, 'le', 'dim');
      s.field('VP8X canvas height', data + 7, 3, 'le', 'dim');
    } else if (fourcc === 'ALPH') {
      s.field('ALPH header', data, 1, 'le', 'code');
    }
    if (end > d.length) break;
    p = end;
  }
  return s.done('webp');
}

export function structureOf(bytes: Uint8Array, format: FileFormat): Structure {
  switch (format) {
    case 'jpeg':
      return jpeg(bytes);
    case 'png':
      return png(bytes);
    case 'bmp':
      return bmp(bytes);
    case 'webp':
      return webp(bytes);
  }
}
