// Child process for lifecycle.test.ts: this process has a pool of its own with requests in flight, and
// starts workers whose pools are flooded with requests, then terminates them with worker.terminate().
// Must survive (exit code 0) and print one JSON line with what it saw.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import { InferencePool } from '../../lib/index.ts';
import type { ClassificationResult } from '../../lib/index.ts';
import { HELPERS } from './child.ts';
import { solid, toRaw } from './images.ts';
import { modelPath, MODELS } from './models.ts';

const pool = await InferencePool.create({
  models: [{ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' }],
});
const traffic = Array.from({ length: 100 }, (_, i) => pool.infer(toRaw(solid(32, 32, [i, 2 * i, 0])), 'mean'));
const exitCodes: number[] = [];
for (let round = 0; round < 3; round++) {
  const worker = new Worker(join(HELPERS, 'worker-entry.mjs'), { workerData: { mode: 'flood' } });
  const exit = new Promise<number>((resolve) => worker.on('exit', resolve));
  await new Promise((resolve) => worker.once('message', resolve));
  await worker.terminate();
  exitCodes.push(await exit);
}
const results = (await Promise.all(traffic)) as ClassificationResult[];
const ok = results.every(
  (r, i) => Math.abs(r.scores[0]! - (10 * i) / 255) < 1e-4 && Math.abs(r.scores[1]! - (20 * i) / 255) < 1e-4,
);
const after = (await pool.infer(toRaw(solid(32, 32, [255, 0, 0])), 'mean')) as ClassificationResult;
await pool.close();
console.log(JSON.stringify({ exitCodes, trafficOk: ok, afterTop: after.top }));
