// Small seeded test images for the detection tests: raw RGB buffers the pool takes as is, and the float
// tensor a model sees when such an image is already at its input size (pixels / 255, NCHW).
import type { RawImage } from '../../lib/index.ts';
import { prng as rng } from '../helpers/images.ts';

/** The tests' seeded PRNG (mulberry32): a seed gives the same image on every run. */
export { rng };

/** A flat grey RGB image. */
export function flat(width: number, height: number, grey = 128): RawImage {
  return { data: new Uint8Array(width * height * 3).fill(grey), width, height, format: 'rgb' };
}

/**
 * A "scene": a two-colour gradient background with a handful of filled rectangles and discs of random
 * colours, so a random conv net sees edges and blobs (its outputs vary across the image).
 */
export function scene(width: number, height: number, seed: number): RawImage {
  const rand = rng(seed);
  const byte = () => Math.floor(rand() * 256);
  const c0 = [byte(), byte(), byte()];
  const c1 = [byte(), byte(), byte()];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x + y) / Math.max(1, width + height - 2);
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(c0[c]! * (1 - t) + c1[c]! * t);
    }
  }
  const shapes = 3 + Math.floor(rand() * 5);
  for (let s = 0; s < shapes; s++) {
    const colour = [byte(), byte(), byte()];
    const cx = rand() * width;
    const cy = rand() * height;
    const rx = (0.05 + rand() * 0.25) * width;
    const ry = (0.05 + rand() * 0.25) * height;
    const disc = rand() < 0.5;
    for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(height, Math.ceil(cy + ry)); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(width, Math.ceil(cx + rx)); x++) {
        if (disc && ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 > 1) continue;
        data.set(colour, (y * width + x) * 3);
      }
    }
  }
  // A little noise, so flat areas are not perfectly flat.
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.max(0, data[i]! + Math.floor(rand() * 9) - 4));
  return { data, width, height, format: 'rgb' };
}

/** The model input for an RGB image already at the input size, no mean/std: float32(v / 255), NCHW. */
export function toTensor(image: RawImage): Float32Array {
  const { width, height, data } = image;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = data[i * 3 + c]! / 255;
  }
  return out;
}
