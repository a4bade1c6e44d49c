// Child process for integrity.test.ts: process.exit(code) while encoded images are being decoded and
// batches run, on a small or a large model. It must exit with that code: no crash, nothing on stderr.
import { InferencePool } from '../../lib/index.ts';
import { encodePng, noise } from './images.ts';
import { largeDetectorPath } from './large-model.ts';
import { modelPath, MODELS } from './models.ts';

const size = process.argv[2] ?? 'small';
const code = Number(process.argv[3] ?? 3);
const spec =
  size === 'large'
    ? { id: 'm', path: await largeDetectorPath(), task: 'object-detection' as const }
    : { id: 'm', path: modelPath(MODELS.meanColor), task: 'classification' as const };
const pool = await InferencePool.create({ models: [spec] });
const images = Array.from({ length: 8 }, (_, i) => encodePng(noise(400, 300, i + 1)));
const requests = Array.from({ length: 64 }, (_, i) => pool.infer(images[i % images.length]!, 'm').catch(() => {}));
void requests;
// Let decoding and the first batches start.
setTimeout(() => {
  console.log(JSON.stringify({ exiting: code, stats: pool.stats().m }));
  process.exit(code);
}, 15);
