// Benchmark inputs: 1280×720 JPEGs (quality 90) cut from the public-domain sample photos, and the
// same pictures as raw RGB pixels for the raw-input path.
import { readdirSync, readFileSync } from 'node:fs';

import sharp from 'sharp';

import type { RawImage } from '../lib/index.ts';

export interface BenchImage {
  name: string;
  jpeg: Buffer;
  raw: RawImage;
}

const IMAGES = new URL('../examples/images/', import.meta.url).pathname;
export const WIDTH = 1280;
export const HEIGHT = 720;

export async function benchImages(): Promise<BenchImage[]> {
  const files = readdirSync(IMAGES)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort();
  if (files.length === 0) throw new Error(`no sample photos in ${IMAGES}: run \`node scripts/sample-images.mjs\``);
  const out: BenchImage[] = [];
  for (const file of files) {
    const source = sharp(readFileSync(IMAGES + file))
      .resize(WIDTH, HEIGHT, { fit: 'cover' })
      .removeAlpha();
    const jpeg = await source.clone().jpeg({ quality: 90 }).toBuffer();
    const data = await sharp(jpeg).raw().toBuffer();
    out.push({ name: file, jpeg, raw: { data: new Uint8Array(data), width: WIDTH, height: HEIGHT, format: 'rgb' } });
  }
  return out;
}
