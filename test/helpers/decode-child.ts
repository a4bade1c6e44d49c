// Child process of codecs.test.ts: runs the sample photos (their PNGs carry an sRGB profile libpng
// warns about) and broken files through a pool, prints one JSON line of outcomes. The parent checks
// that nothing at all came out on stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { InferencePool } from '../../lib/index.ts';
import { brokenImages } from './broken-images.ts';
import { ROOT } from './child.ts';
import { modelPath, MODELS } from './models.ts';

const SAMPLE_PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

const files = [
  ...SAMPLE_PHOTOS.map((name) => ({ name, bytes: readFileSync(join(ROOT, 'examples', 'images', name)) })),
  ...(await brokenImages()),
];
const pool = await InferencePool.create({
  models: [{ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' }],
});
const outcomes = await Promise.allSettled(files.map((f) => pool.infer(f.bytes, 'mean')));
await pool.close();
const report = outcomes.map((o, i) => ({
  name: files[i]!.name,
  ok: o.status === 'fulfilled',
  code: o.status === 'rejected' ? (o.reason as { code?: string }).code : undefined,
}));
process.stdout.write(`${JSON.stringify(report)}\n`);
