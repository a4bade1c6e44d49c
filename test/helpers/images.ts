// Image makers for the tests: raw pixel buffers in every format the pool takes, and PNG / BMP
// encoders in plain JS (pngjs and a few lines for BMP), so that no test image depends on OpenCV.
// JPEG and WebP come from sharp (libvips), which is also independent of the pool's decoder.
import { PNG } from 'pngjs';
import sharp from 'sharp';

import type { PixelFormat, RawImage } from '../../lib/index.ts';

export type Rgb = readonly [number, number, number];

/** An RGB image, 3 bytes a pixel, rows top to bottom. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** mulberry32: a small seeded PRNG, so random images are the same on every run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeRgb(width: number, height: number, pixel: (x: number, y: number) => Rgb): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = (y * width + x) * 3;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
  return { data, width, height };
}

export function solid(width: number, height: number, rgb: Rgb): RgbImage {
  return makeRgb(width, height, () => rgb);
}

/** Uniform noise: the hardest case for a resize to get right, since every pixel differs from its neighbours. */
export function noise(width: number, height: number, seed: number): RgbImage {
  const rand = prng(seed);
  return makeRgb(width, height, () => [(rand() * 256) | 0, (rand() * 256) | 0, (rand() * 256) | 0]);
}

/** A smooth picture (gradients and a disc) with a little noise: closer to a photo than noise is. */
export function picture(width: number, height: number, seed: number): RgbImage {
  const rand = prng(seed);
  const cx = width * (0.3 + 0.4 * rand());
  const cy = height * (0.3 + 0.4 * rand());
  const radius = Math.min(width, height) * (0.2 + 0.2 * rand());
  const disc: Rgb = [(rand() * 256) | 0, (rand() * 256) | 0, (rand() * 256) | 0];
  return makeRgb(width, height, (x, y) => {
    if ((x - cx) ** 2 + (y - cy) ** 2 < radius ** 2) return disc;
    const jitter = (rand() * 24) | 0;
    return [
      Math.min(255, Math.round((255 * x) / Math.max(1, width - 1)) + jitter) & 255,
      Math.round((255 * y) / Math.max(1, height - 1)),
      ((x + y) * 7 + jitter) & 255,
    ];
  });
}

/** The same pixels as a RawImage in `format` (gray: the channel mean, rounded). */
export function toRaw(image: RgbImage, format: PixelFormat = 'rgb'): RawImage {
  const { width, height, data } = image;
  const n = width * height;
  const channels = format === 'gray' ? 1 : format === 'rgba' || format === 'bgra' ? 4 : 3;
  const out = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    const o = i * channels;
    switch (format) {
      case 'rgb':
        out.set([r, g, b], o);
        break;
      case 'bgr':
        out.set([b, g, r], o);
        break;
      case 'rgba':
        out.set([r, g, b, 255], o);
        break;
      case 'bgra':
        out.set([b, g, r, 255], o);
        break;
      case 'gray':
        out[o] = Math.round((r + g + b) / 3);
        break;
    }
  }
  return { data: out, width, height, format };
}

function rgba(image: RgbImage): Buffer {
  const n = image.width * image.height;
  const out = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = image.data[i * 3]!;
    out[i * 4 + 1] = image.data[i * 3 + 1]!;
    out[i * 4 + 2] = image.data[i * 3 + 2]!;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** An 8-bit RGB PNG, written by pngjs. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  rgba(image).copy(png.data);
  return PNG.sync.write(png, { colorType: 2 });
}

/** A 24-bit bottom-up BI_RGB BMP, rows padded to 4 bytes. */
export function encodeBmp(image: RgbImage): Buffer {
  const { width, height, data } = image;
  const stride = (width * 3 + 3) & ~3;
  const size = 54 + stride * height;
  const out = Buffer.alloc(size);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(size, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(0, 30);
  out.writeUInt32LE(stride * height, 34);
  out.writeInt32LE(2835, 38);
  out.writeInt32LE(2835, 42);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[row + x * 3] = data[i + 2]!;
      out[row + x * 3 + 1] = data[i + 1]!;
      out[row + x * 3 + 2] = data[i]!;
    }
  }
  return out;
}

function fromRaw(image: RgbImage) {
  return sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  });
}

export function encodeJpeg(image: RgbImage, quality = 95): Promise<Buffer> {
  return fromRaw(image).jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
}

export function encodeWebp(image: RgbImage, lossless = true): Promise<Buffer> {
  return fromRaw(image)
    .webp(lossless ? { lossless: true } : { quality: 95 })
    .toBuffer();
}

/** The same bytes inside a larger buffer, so the view's byteOffset is not 0. */
export function offsetView(bytes: Uint8Array, offset = 13): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset + 7).fill(0xab);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}
