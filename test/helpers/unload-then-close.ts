// Child process for integrity.test.ts: unloadModel() and then close() while the unloaded model's batch
// runs and another model serves requests. The process must live on after close() and exit 0.
import { InferencePool } from '../../lib/index.ts';
import { encodePng, noise, solid, toRaw } from './images.ts';
import { largeDetectorPath } from './large-model.ts';
import { modelPath, MODELS } from './models.ts';

const pool = await InferencePool.create({
  models: [
    { id: 'det', path: await largeDetectorPath(), task: 'object-detection' },
    { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' },
  ],
});
const image = encodePng(noise(320, 240, 5));
const outcomes: string[] = [];
const track = (p: Promise<unknown>) =>
  p.then(
    () => outcomes.push('ok'),
    (e: { code?: string }) => outcomes.push(e.code ?? 'no code'),
  );
const det = Array.from({ length: 24 }, () => track(pool.infer(image, 'det')));
const mean = Array.from({ length: 200 }, (_, i) => track(pool.infer(toRaw(solid(16, 16, [i % 256, 0, 0])), 'mean')));
// Wait until a detection batch is running, then unload the detector and close the pool at once.
while ((pool.stats().det?.batches ?? 0) === 0) await new Promise((r) => setTimeout(r, 1));
const unloading = pool.unloadModel('det').then(
  () => 'unloaded',
  (e: { code?: string }) => e.code ?? 'no code',
);
await pool.close();
const unload = await unloading;
await Promise.all([...det, ...mean]);
// Give anything left running natively the time to misbehave before the process ends.
await new Promise((r) => setTimeout(r, 300));
console.log(JSON.stringify({ unload, settled: outcomes.length, codes: [...new Set(outcomes)].sort() }));
