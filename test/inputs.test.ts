// Every input the pool takes: encoded PNG, JPEG, BMP and WebP bytes, raw rgb / bgr / rgba / bgra /
// gray pixels; as a Buffer, a plain Uint8Array and a view with a non-zero byteOffset. Checked on the
// mean-colour classifier (expected scores computed from the pixels) and the palette classifier.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult, ImageInput, PixelFormat } from '../lib/index.ts';
import {
  encodeBmp,
  encodeJpeg,
  encodePng,
  encodeWebp,
  makeRgb,
  offsetView,
  prng,
  solid,
  toRaw,
} from './helpers/images.ts';
import type { Rgb, RgbImage } from './helpers/images.ts';
import { modelPath, MODELS } from './helpers/models.ts';
import { maxAbsDiff, preprocess, softmax } from './helpers/reference.ts';

const TOL = 1e-5; // lossless inputs: the same pixels, so the same scores
// JPEG / lossy WebP at quality 95 (and JPEG's reduced-scale decoding) move the mean colour a little:
// measured at most 9.5e-4 over 3 colours × 8 seeds.
const LOSSY_TOL = 5e-3;

const pool = await InferencePool.create({
  models: [
    { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' },
    { id: 'palette', path: modelPath(MODELS.palette), task: 'classification' },
  ],
});

/** A 37x23 picture (odd, non-square: a swapped width and height would show) dominated by one colour. */
function dominated(rgb: Rgb, seed: number, width = 37, height = 23): RgbImage {
  const rand = prng(seed);
  return makeRgb(width, height, (x, y) => {
    if ((x + 2 * y) % 7 === 0) return [(rand() * 256) | 0, (rand() * 256) | 0, (rand() * 256) | 0];
    return rgb.map((v) => Math.max(0, Math.min(255, v + ((rand() * 30) | 0) - 15))) as unknown as Rgb;
  });
}

const TARGETS: [string, Rgb][] = [
  ['red', [220, 40, 50]],
  ['green', [30, 200, 70]],
  ['blue', [40, 60, 230]],
];

function expectedScores(image: RgbImage): Float64Array {
  const t = preprocess(image, { width: 32, height: 32 });
  const plane = 32 * 32;
  return softmax(
    [0, 1, 2].map((c) => {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += t[c * plane + i]!;
      return (10 * sum) / plane;
    }),
  );
}

async function check(
  input: ImageInput,
  image: RgbImage,
  name: string,
  label: string,
  tol = TOL,
): Promise<ClassificationResult> {
  const r = (await pool.infer(input, 'mean')) as ClassificationResult;
  assert.is(r.top, name, `${label}: class`);
  assert.equal(r.image, { width: image.width, height: image.height }, `${label}: image size`);
  const diff = maxAbsDiff(r.scores, expectedScores(image));
  assert.ok(diff <= tol, `${label}: scores off by ${diff.toExponential(2)}`);
  return r;
}

/** The bytes as a Buffer, as a plain Uint8Array (own ArrayBuffer) and as a view at byteOffset 13. */
function containers(bytes: Uint8Array): [string, Uint8Array][] {
  const plain = new Uint8Array(bytes.length);
  plain.set(bytes);
  const view = offsetView(bytes);
  assert.ok(view.byteOffset > 0 && !Buffer.isBuffer(plain) && !Buffer.isBuffer(view));
  return [
    ['Buffer', Buffer.from(bytes)],
    ['Uint8Array', plain],
    ['view', view],
  ];
}

test('PNG', async () => {
  for (const [name, rgb] of TARGETS) {
    const image = dominated(rgb, 1);
    for (const [kind, bytes] of containers(encodePng(image))) await check(bytes, image, name, `PNG in a ${kind}`);
  }
});

test('BMP (24-bit, rows padded to 4 bytes)', async () => {
  for (const [name, rgb] of TARGETS) {
    const image = dominated(rgb, 2);
    for (const [kind, bytes] of containers(encodeBmp(image))) await check(bytes, image, name, `BMP in a ${kind}`);
  }
});

test('WebP, lossless and lossy', async () => {
  for (const [name, rgb] of TARGETS) {
    const image = dominated(rgb, 3);
    for (const [kind, bytes] of containers(await encodeWebp(image, true)))
      await check(bytes, image, name, `lossless WebP in a ${kind}`);
    for (const [kind, bytes] of containers(await encodeWebp(image, false))) {
      await check(bytes, image, name, `lossy WebP in a ${kind}`, LOSSY_TOL);
    }
  }
});

test('JPEG, small and large (decoded at a reduced scale)', async () => {
  for (const [name, rgb] of TARGETS) {
    const image = dominated(rgb, 4);
    for (const [kind, bytes] of containers(await encodeJpeg(image)))
      await check(bytes, image, name, `JPEG in a ${kind}`, LOSSY_TOL);
    // 400x300 is at least 8x the 32x32 input: decoded at 1/8 but reported at its real size.
    const large = solid(400, 300, rgb);
    const r = await check(await encodeJpeg(large), large, name, 'large JPEG', LOSSY_TOL);
    assert.equal(r.image, { width: 400, height: 300 });
  }
  const odd = dominated([200, 30, 40], 9, 333, 129);
  const r = await check(await encodeJpeg(odd), odd, 'red', 'odd-sized large JPEG', LOSSY_TOL);
  assert.equal(r.image, { width: 333, height: 129 });
});

test('raw rgb, bgr, rgba, bgra: the same pixels give the same scores', async () => {
  for (const [name, rgb] of TARGETS) {
    const image = dominated(rgb, 5);
    for (const format of ['rgb', 'bgr', 'rgba', 'bgra'] as PixelFormat[]) {
      const raw = toRaw(image, format);
      for (const [kind, data] of containers(raw.data)) {
        await check({ ...raw, data }, image, name, `raw ${format} in a ${kind}`);
      }
    }
  }
});

test('raw rgba: alpha is ignored, not composited', async () => {
  const image = dominated([30, 200, 70], 6);
  const raw = toRaw(image, 'rgba');
  for (let i = 3; i < raw.data.length; i += 4) raw.data[i] = i % 3 === 0 ? 0 : 128;
  await check(raw, image, 'green', 'rgba with varied alpha');
});

test('raw gray: replicated into three equal channels', async () => {
  const ramp = makeRgb(37, 23, (x, y) => {
    const v = (x * 5 + y * 3) % 256;
    return [v, v, v];
  });
  const raw = toRaw(ramp, 'gray');
  for (const [kind, data] of containers(raw.data)) {
    const r = (await pool.infer({ ...raw, data }, 'mean')) as ClassificationResult;
    assert.equal(r.image, { width: 37, height: 23 }, kind);
    assert.ok(maxAbsDiff(r.scores, expectedScores(ramp)) <= TOL, `gray in a ${kind}`);
    assert.ok(Math.abs(r.scores[0]! - r.scores[1]!) < 1e-7 && Math.abs(r.scores[1]! - r.scores[2]!) < 1e-7);
  }
  const light = (await pool.infer(toRaw(solid(30, 20, [240, 240, 240]), 'gray'), 'palette')) as ClassificationResult;
  assert.is(light.top, 'white');
  const dark = (await pool.infer(toRaw(solid(30, 20, [20, 20, 20]), 'gray'), 'palette')) as ClassificationResult;
  assert.is(dark.top, 'black');
});

test('every format of the same picture agrees on the palette model', async () => {
  const image = dominated([230, 220, 40], 7, 80, 64); // yellow
  const inputs: [string, ImageInput][] = [
    ['png', encodePng(image)],
    ['bmp', encodeBmp(image)],
    ['webp', await encodeWebp(image)],
    ['jpeg', await encodeJpeg(image)],
    ...(['rgb', 'bgr', 'rgba', 'bgra'] as PixelFormat[]).map((f): [string, ImageInput] => [f, toRaw(image, f)]),
  ];
  const results = (await Promise.all(
    inputs.map(([, input]) => pool.infer(input, 'palette')),
  )) as ClassificationResult[];
  const reference = results[0]!;
  results.forEach((r, i) => {
    const [label] = inputs[i]!;
    assert.is(r.top, 'yellow', label);
    assert.equal(r.image, { width: 80, height: 64 }, label);
    // JPEG measured 8e-5 off the PNG's scores.
    assert.ok(maxAbsDiff(r.scores, reference.scores) < (label === 'jpeg' ? 5e-4 : 1e-6), `${label} vs png`);
  });
});

test.after(() => pool.close());

test.run();
