// Runs inside a worker_threads Worker for lifecycle.test.ts. workerData.mode:
//   close     — infer, post the results, close the pool, end
//   no-close  — infer, post the results, end without closing
//   flood     — submit many requests, post 'flooding', keep going (the parent terminates the worker)
import { parentPort, workerData } from 'node:worker_threads';

import { InferencePool } from '../../lib/index.ts';
import type { ClassificationResult } from '../../lib/index.ts';
import { noise, solid, toRaw } from './images.ts';
import { modelPath, MODELS } from './models.ts';

const { mode } = workerData as { mode: 'close' | 'no-close' | 'flood' };
const pool = await InferencePool.create({
  models: [
    { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' },
    { id: 'conv', path: modelPath(MODELS.randomConv), task: 'classification' },
  ],
});
if (mode === 'flood') {
  const image = toRaw(noise(300, 200, 2));
  for (let i = 0; i < 500; i++) pool.infer(image, 'conv').catch(() => {});
  parentPort!.postMessage({ flooding: true });
} else {
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [10, 20, 30],
  ];
  const results = (await Promise.all(
    colours.map((c) => pool.infer(toRaw(solid(32, 32, c as [number, number, number])), 'mean')),
  )) as ClassificationResult[];
  parentPort!.postMessage({ scores: results.map((r) => Array.from(r.scores)), tops: results.map((r) => r.top) });
  if (mode === 'close') await pool.close();
}
