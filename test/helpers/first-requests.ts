// In a fresh process (ONNX Runtime's first-run costs are paid once per process): loads the YOLOv8n-
// shaped detector with the `warmup` option given as JSON in argv[2] and prints the wall-clock
// milliseconds of its first ten requests, one after another, as one JSON line. The JS path, decoding
// and postprocessing are primed on another model first, so what differs is the detector's own runs.
import { InferencePool } from '../../lib/index.ts';
import type { ModelSpec } from '../../lib/index.ts';
import { picture, solid, toRaw } from './images.ts';
import { largeDetectorPath } from './large-model.ts';
import { modelPath, MODELS } from './models.ts';

const warmup = JSON.parse(process.argv[2] ?? 'true') as boolean | number[];
const images = Array.from({ length: 10 }, (_, i) => toRaw(picture(640, 480, i + 1)));
const path = await largeDetectorPath();
const pool = await InferencePool.create({
  models: [{ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' }],
});
await pool.infer(toRaw(solid(32, 32, [10, 20, 30])), 'mean');
// maxBatchSize 2 keeps the warm-up short; a lone request runs as a batch of one either way.
await pool.loadModel({ id: 'det', path, task: 'object-detection', maxBatchSize: 2, warmup } as ModelSpec);
const ms: number[] = [];
for (const image of images) {
  const start = performance.now();
  await pool.infer(image, 'det');
  ms.push(performance.now() - start);
}
await pool.close();
console.log(JSON.stringify({ ms }));
