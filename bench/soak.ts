// Memory under sustained load: the pool at 1000 in flight for many requests (the palette classifier
// on 1280×720 JPEGs, so decoding, batching and completion dominate), RSS sampled as it goes.
import { InferencePool } from '../lib/index.ts';
import { benchImages } from './images.ts';

const MODELS = new URL('../models/generated/', import.meta.url).pathname;

export interface SoakResult {
  requests: number;
  concurrency: number;
  seconds: number;
  /** [completed requests, RSS in MB] every tenth of the run. */
  rssMb: [number, number][];
}

export async function runSoak(requests: number, concurrency: number): Promise<SoakResult> {
  const images = await benchImages();
  const pool = await InferencePool.create({
    models: [{ id: 'colors', path: `${MODELS}palette.onnx`, task: 'classification' }],
  });
  const rssMb: [number, number][] = [[0, process.memoryUsage.rss() / 2 ** 20]];
  const every = Math.max(1, Math.floor(requests / 10));
  let next = 0;
  let done = 0;
  const started = performance.now();
  async function caller(): Promise<void> {
    while (next < requests) {
      next++;
      await pool.infer(images[next % images.length]!.jpeg, 'colors');
      if (++done % every === 0) rssMb.push([done, process.memoryUsage.rss() / 2 ** 20]);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests, concurrency, seconds, rssMb };
}
