// The valid seed files the fuzzer mutates: "scenes" (gradients, rectangles and discs in random colours, so
// every image has its own mean colour and its own detections) of many sizes, each written as baseline,
// 4:4:4, greyscale and progressive JPEG, plain, interlaced-palette and RGBA PNG, lossless, lossy and
// alpha WebP (sharp / pngjs), and 24-bit bottom-up and 32-bit top-down BMP (sharp cannot write BMP).
// Built once per process from fixed seeds, so a case index always names the same file.
import sharp from 'sharp';

import type { RawImage } from '../../lib/index.ts';
import { encodeBmp, encodePng } from '../helpers/images.ts';
import { scene } from '../reference/images.ts';
import type { FileFormat } from './structure.ts';

export interface SeedFile {
  /** e.g. 'jpeg-progressive 37x23 #5' */
  name: string;
  format: FileFormat;
  bytes: Uint8Array;
}

export interface Corpus {
  files: SeedFile[];
  /** The files by format, for splicing two files of one format. */
  byFormat: Record<FileFormat, SeedFile[]>;
  /** The scenes the files were made from, as raw RGB. */
  scenes: RawImage[];
  /** A few large valid files (millions of pixels), used sparingly. */
  large: SeedFile[];
}

// Odd, tiny, non-square and model-sized images.
const SIZES: [number, number][] = [
  [1, 1],
  [2, 3],
  [7, 5],
  [16, 16],
  [37, 23],
  [23, 37],
  [64, 48],
  [96, 96],
  [130, 70],
  [200, 150],
  [33, 257],
  [300, 17],
];

const ENCODINGS: { name: string; format: FileFormat; encode: (img: RawImage) => Promise<Uint8Array> }[] = [
  { name: 'jpeg', format: 'jpeg', encode: (img) => raw(img).jpeg({ quality: 90 }).toBuffer() },
  {
    name: 'jpeg-444',
    format: 'jpeg',
    encode: (img) => raw(img).jpeg({ quality: 75, chromaSubsampling: '4:4:4' }).toBuffer(),
  },
  { name: 'jpeg-gray', format: 'jpeg', encode: (img) => raw(img).grayscale().jpeg({ quality: 85 }).toBuffer() },
  {
    name: 'jpeg-progressive',
    format: 'jpeg',
    encode: (img) => raw(img).jpeg({ quality: 85, progressive: true }).toBuffer(),
  },
  { name: 'png', format: 'png', encode: async (img) => encodePng(img) },
  {
    name: 'png-interlaced-palette',
    format: 'png',
    encode: (img) => raw(img).png({ progressive: true, palette: true, colours: 64, effort: 1, dither: 0 }).toBuffer(),
  },
  { name: 'png-rgba', format: 'png', encode: (img) => raw(img).ensureAlpha(0.5).png().toBuffer() },
  { name: 'webp-lossless', format: 'webp', encode: (img) => raw(img).webp({ lossless: true, effort: 0 }).toBuffer() },
  { name: 'webp-lossy', format: 'webp', encode: (img) => raw(img).webp({ quality: 80, effort: 0 }).toBuffer() },
  {
    name: 'webp-alpha',
    format: 'webp',
    encode: (img) => raw(img).ensureAlpha(0.7).webp({ quality: 80, effort: 0 }).toBuffer(),
  },
  { name: 'bmp-24', format: 'bmp', encode: async (img) => encodeBmp(img) },
  { name: 'bmp-32-topdown', format: 'bmp', encode: async (img) => bmp32TopDown(img) },
];

function raw(img: RawImage) {
  const data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return sharp(data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** A 32-bit BI_RGB BMP with a negative height (rows top to bottom), alpha 255. */
function bmp32TopDown(img: RawImage): Uint8Array {
  const { width, height, data } = img;
  const out = Buffer.alloc(54 + width * height * 4);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(-height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(32, 28);
  out.writeUInt32LE(width * height * 4, 34);
  for (let i = 0; i < width * height; i++) {
    out[54 + 4 * i] = data[3 * i + 2]!;
    out[54 + 4 * i + 1] = data[3 * i + 1]!;
    out[54 + 4 * i + 2] = data[3 * i]!;
    out[54 + 4 * i + 3] = 255;
  }
  return out;
}

function toBytes(b: Uint8Array): Uint8Array {
  // A Buffer may sit in Node's shared pool; the fuzzer wants a plain array of exactly the file.
  return new Uint8Array(b);
}

export async function buildCorpus(): Promise<Corpus> {
  const scenes = SIZES.map(([w, h], i) => scene(w, h, 1000 + i));
  const files: SeedFile[] = [];
  for (const [i, img] of scenes.entries()) {
    for (const e of ENCODINGS) {
      files.push({
        name: `${e.name} ${img.width}x${img.height} #${i}`,
        format: e.format,
        bytes: toBytes(await e.encode(img)),
      });
    }
  }
  const byFormat: Record<FileFormat, SeedFile[]> = { jpeg: [], png: [], bmp: [], webp: [] };
  for (const f of files) byFormat[f.format].push(f);
  // Large enough that full-resolution work (decode, masks) shows, small enough to keep a run short;
  // a scene shrunk and scaled up again, so it is smooth and the PNG stays small.
  const big = await raw(scenes[9]!).resize(3000, 2000, { kernel: 'linear' }).raw().toBuffer();
  const bigImage = { data: big, width: 3000, height: 2000, format: 'rgb' as const };
  const large: SeedFile[] = [
    { name: 'jpeg 3000x2000', format: 'jpeg', bytes: toBytes(await raw(bigImage).jpeg({ quality: 80 }).toBuffer()) },
    {
      name: 'png 3000x2000',
      format: 'png',
      bytes: toBytes(await raw(bigImage).png({ compressionLevel: 1 }).toBuffer()),
    },
  ];
  return { files, byFormat, scenes, large };
}
