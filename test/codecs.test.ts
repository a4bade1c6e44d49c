// The codecs: nothing on stderr, whatever the file (the sample photos' PNGs carry an sRGB profile
// libpng warns about; broken JPEG, PNG, BMP and WebP files), broken files refused with
// INVALID_IMAGE in the codec's words, a failed decode never answered with another request's image,
// and EXIF orientation applied as OpenCV's imdecode applies it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult } from '../lib/index.ts';
import { loadBinding } from '../lib/native.ts';
import { brokenImages } from './helpers/broken-images.ts';
import { lastJson, ROOT, runChild } from './helpers/child.ts';
import { encodePng, makeRgb, solid } from './helpers/images.ts';
import type { Rgb } from './helpers/images.ts';
import { modelPath, MODELS, rejectsWith, tensorDumpModel } from './helpers/models.ts';
import { maxAbsDiff } from './helpers/reference.ts';

const DUMP_SIZE = 16;
const pool = await InferencePool.create({
  models: [
    { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' },
    { id: 'dump', path: tensorDumpModel(DUMP_SIZE), task: 'classification', activation: 'none' },
  ],
});
const { stages } = loadBinding();

/** The mean-colour model's logits for a solid image: 10 × v / 255 per channel. */
const logits = (rgb: Rgb) => rgb.map((v) => (10 * v) / 255);

test('sample photos and broken files decode in a child process that prints nothing on stderr', async () => {
  for (const name of ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg']) {
    const path = join(ROOT, 'examples', 'images', name);
    assert.ok(existsSync(path), `${path} is missing: run \`node scripts/setup.mjs\``);
  }
  const child = await runChild('decode-child.ts', [], 60_000);
  assert.is(child.code, 0, `child exited with ${child.code}: ${child.stderr}`);
  assert.is(child.stderr, '', 'the child wrote on stderr');
  const report = lastJson<{ name: string; ok: boolean; code?: string }[]>(child.stdout)!;
  const expected = await brokenImages();
  assert.is(report.length, 4 + expected.length);
  for (const r of report.slice(0, 4)) assert.ok(r.ok, `${r.name} decodes`);
  report.slice(4).forEach((r, i) => {
    const e = expected[i]!;
    assert.is(r.name, e.name);
    if (e.decodes) assert.ok(r.ok, `${e.name} still decodes`);
    else assert.is(r.code, 'INVALID_IMAGE', `${e.name} is refused`);
  });
});

test("broken files reject with INVALID_IMAGE and the codec's own message", async () => {
  for (const b of await brokenImages()) {
    if (b.decodes) {
      const r = (await pool.infer(b.bytes, 'mean')) as ClassificationResult;
      assert.is(r.scores.length, 3, `${b.name} gives a result`);
    } else {
      const e = await rejectsWith(pool.infer(b.bytes, 'mean'), 'INVALID_IMAGE', b.message);
      assert.match(e.message, /cannot decode (JPEG|PNG|BMP|WebP): /, `${b.name}: ${e.message}`);
    }
  }
});

test('a PNG cut after its header, among 200 requests in flight, is refused and no result is mixed up', async () => {
  const colour: Rgb = [200, 40, 90];
  const good = encodePng(solid(32, 32, colour));
  const cut = encodePng(solid(32, 32, [10, 220, 30])).subarray(0, 40);
  const valid = Array.from({ length: 200 }, () => pool.infer(good, 'mean'));
  const truncated = pool.infer(cut, 'mean');
  await rejectsWith(truncated, 'INVALID_IMAGE', /cannot decode PNG: read beyond end of data/);
  const results = (await Promise.all(valid)) as ClassificationResult[];
  results.forEach((r, i) => {
    assert.ok(maxAbsDiff(r.scores, logits(colour)) < 1e-4, `request ${i} got ${Array.from(r.scores)}`);
  });
});

test('EXIF orientation is applied: sizes as seen, and the picture turned in the input tensor', async () => {
  // 32×16, red on the left and blue on the right, stored with orientation 6 (turn 90° clockwise to
  // view): seen as 16×32, red on top and blue below.
  const stored = makeRgb(32, 16, (x) => (x < 16 ? [255, 0, 0] : [0, 0, 255]));
  const raw = { width: 32, height: 16, channels: 3 as const };
  const jpeg = await sharp(Buffer.from(stored.data), { raw })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();

  const size = stages.decode(jpeg);
  assert.equal([size.width, size.height, size.decodedWidth, size.decodedHeight], [16, 32, 16, 32]);
  const half = stages.decode(jpeg, 8, 8); // a square target: the scale is chosen on the stored size
  assert.equal([half.width, half.height, half.decodedWidth, half.decodedHeight], [16, 32, 8, 16], 'at 1/2 scale too');

  const tensor = (await pool.infer(jpeg, 'dump')) as ClassificationResult;
  const plane = DUMP_SIZE * DUMP_SIZE;
  const meanOf = (channel: number, rows: [number, number]) => {
    let sum = 0;
    for (let y = rows[0]; y < rows[1]; y++) {
      for (let x = 0; x < DUMP_SIZE; x++) sum += tensor.scores[channel * plane + y * DUMP_SIZE + x]!;
    }
    return sum / ((rows[1] - rows[0]) * DUMP_SIZE);
  };
  const top: [number, number] = [0, DUMP_SIZE / 2 - 1];
  const bottom: [number, number] = [DUMP_SIZE / 2 + 1, DUMP_SIZE];
  assert.ok(meanOf(0, top) > 0.9 && meanOf(2, top) < 0.1, 'red on top');
  assert.ok(meanOf(0, bottom) < 0.1 && meanOf(2, bottom) > 0.9, 'blue below');
});

test.after(async () => {
  await pool.close();
});

test.run();
