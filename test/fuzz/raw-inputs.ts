// Raw-pixel inputs ({ data, width, height, format }) in every format, valid and not: data one byte short
// or long, empty, half as long; zero, negative, fractional, NaN and 2^31 sizes; unknown formats; data of
// the wrong type. And inputs that are not images at all (null, numbers, strings, other typed arrays, random
// bytes), which must be refused with INVALID_IMAGE or INVALID_ARGUMENT.
import type { PixelFormat, RawImage } from '../../lib/index.ts';
import { toRaw } from '../helpers/images.ts';
import { int, pick } from './mutators.ts';
import type { Random } from './mutators.ts';

const FORMATS: PixelFormat[] = ['rgb', 'bgr', 'rgba', 'bgra', 'gray'];
const CHANNELS: Record<PixelFormat, number> = { rgb: 3, bgr: 3, rgba: 4, bgra: 4, gray: 1 };

export interface GeneratedInput {
  value: unknown;
  what: string;
}

/** Odd sizes: single pixels, single rows and columns, primes, one past a power of two. */
const ODD_SIZES: [number, number][] = [
  [1, 1],
  [1, 2],
  [2, 1],
  [1, 999],
  [999, 1],
  [3, 5],
  [17, 13],
  [129, 65],
  [1025, 3],
  [4, 4097],
];

function noiseRaw(width: number, height: number, format: PixelFormat, rand: Random): RawImage {
  const data = new Uint8Array(width * height * CHANNELS[format]);
  for (let i = 0; i < data.length; i++) data[i] = int(rand, 256);
  return { data, width, height, format };
}

/** A valid raw image: one of the corpus scenes, or noise of an odd size, in any pixel format. */
export function validRaw(scenes: readonly RawImage[], rand: Random): GeneratedInput {
  const format = pick(rand, FORMATS);
  if (rand() < 0.5) {
    const s = int(rand, scenes.length);
    const image = toRaw(scenes[s]!, format);
    return { value: image, what: `raw ${format} scene #${s} ${image.width}x${image.height}` };
  }
  const [w, h] = pick(rand, ODD_SIZES);
  return { value: noiseRaw(w, h, format, rand), what: `raw ${format} noise ${w}x${h}` };
}

/** A raw image with one thing wrong (or, for a longer buffer, one thing unusual but valid). */
export function badRaw(rand: Random): GeneratedInput {
  const format = pick(rand, FORMATS);
  const [w, h] = pick(rand, ODD_SIZES);
  const image = noiseRaw(w, h, format, rand);
  const needed = image.data.length;
  const flaw = pick(rand, ['length', 'size', 'format', 'data'] as const);
  if (flaw === 'length') {
    const length = pick(rand, [needed - 1, needed + 1, needed + 3, 0, 1, needed >> 1, needed - CHANNELS[format]]);
    const data = new Uint8Array(Math.max(0, length));
    data.set(image.data.subarray(0, data.length));
    return { value: { ...image, data }, what: `raw ${format} ${w}x${h} with ${data.length} of ${needed} bytes` };
  }
  if (flaw === 'size') {
    const field = pick(rand, ['width', 'height'] as const);
    const value = pick(rand, [
      0,
      -1,
      -w,
      1.5,
      NaN,
      Infinity,
      2 ** 31,
      2 ** 31 - 1,
      2 ** 32 + w,
      1e9,
      65536,
      '3',
      undefined,
      null,
    ]);
    return { value: { ...image, [field]: value }, what: `raw ${format} ${w}x${h} with ${field}=${String(value)}` };
  }
  if (flaw === 'format') {
    const value = pick(rand, ['rgbx', 'RGB', 'yuv', '', undefined, null, 3, ['rgb']]);
    return { value: { ...image, format: value }, what: `raw ${w}x${h} with format=${String(value)}` };
  }
  const kinds: [string, () => unknown][] = [
    ['array', () => Array.from(image.data)],
    ['ArrayBuffer', () => image.data.buffer],
    ['Int16Array', () => new Int16Array(needed)],
    ['Float32Array', () => new Float32Array(needed)],
    ['Uint8ClampedArray', () => new Uint8ClampedArray(image.data)],
    ['DataView', () => new DataView(image.data.buffer)],
    ['string', () => 'x'.repeat(needed)],
    ['null', () => null],
    ['missing', () => undefined],
  ];
  const [name, make] = pick(rand, kinds);
  return { value: { ...image, data: make() }, what: `raw ${format} ${w}x${h} with data as ${name}` };
}

/** Not an image: wrong types, empty or random bytes, or a typed array of another element type. */
export function junk(rand: Random): GeneratedInput {
  const kinds: [string, () => unknown][] = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['number', () => 42],
    ['string', () => 'not an image'],
    ['object', () => ({})],
    ['array', () => [1, 2, 3]],
    ['boolean', () => true],
    ['ArrayBuffer', () => new ArrayBuffer(64)],
    ['Int32Array', () => new Int32Array(64)],
    ['Float64Array', () => new Float64Array(16)],
    ['empty bytes', () => new Uint8Array(0)],
    ['one byte', () => new Uint8Array([0xff])],
    ['random bytes', () => Uint8Array.from({ length: 1 + int(rand, 4096) }, () => int(rand, 256))],
    // Magic numbers followed by noise: past the format sniffing, into each decoder.
    ['jpeg magic + noise', () => withMagic([0xff, 0xd8, 0xff], rand)],
    ['png magic + noise', () => withMagic([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], rand)],
    ['bmp magic + noise', () => withMagic([0x42, 0x4d], rand)],
    ['riff magic + noise', () => withMagic([...Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1')], rand)],
  ];
  const [name, make] = pick(rand, kinds);
  return { value: make(), what: `junk: ${name}` };
}

function withMagic(magic: number[], rand: Random): Uint8Array {
  const out = new Uint8Array(magic.length + int(rand, 512));
  out.set(magic);
  for (let i = magic.length; i < out.length; i++) out[i] = int(rand, 256);
  return out;
}
