// What the models alone allow on this machine: the same ONNX Runtime sessions running pre-made
// tensors at their best batch size, with no decoding and no postprocessing.
import { availableParallelism } from 'node:os';

import { loadBinding, resolveOrtLibrary } from '../../lib/native.ts';
import { createSession, inputSize, ort } from './ort-session.ts';
import type { Workload } from '../workloads.ts';

export interface CeilingResult {
  /**
   * Per model id: images per second at the best batch size, that batch size, and batch-1 latency,
   * with the best of three configurations of the same ONNX Runtime: one session on the pool's shared
   * threads, the pool's single-threaded sessions side by side (one per core), and onnxruntime-node's.
   */
  models: Record<
    string,
    {
      imagesPerSecond: number;
      bestBatch: number;
      batch1LatencyMs: number;
      runtime: 'pool sessions' | 'pool sessions, side by side' | 'onnxruntime-node';
    }
  >;
  /** The workload's mix (one request per model in turn): images per second. */
  imagesPerSecond: number;
}

async function timeRuns(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, minSeconds: number) {
  await session.run(feeds); // warm-up
  const times: number[] = [];
  const started = performance.now();
  while (performance.now() - started < minSeconds * 1000 || times.length < 3) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

export async function measureCeiling(
  workload: Workload,
  batches: number[],
  secondsPerBatch: number,
): Promise<CeilingResult> {
  const models: CeilingResult['models'] = {};
  for (const m of workload.models) {
    if (models[m.spec.id]) continue;
    const path = m.spec.path as string;
    const session = await createSession(path);
    const [w, h] = inputSize(session);
    let best: CeilingResult['models'][string] = {
      imagesPerSecond: 0,
      bestBatch: 1,
      batch1LatencyMs: Infinity,
      runtime: 'onnxruntime-node',
    };
    const consider = (b: number, ms: number, runtime: 'pool sessions' | 'onnxruntime-node') => {
      const ips = (b * 1000) / ms;
      if (b === 1) best.batch1LatencyMs = Math.min(best.batch1LatencyMs, ms);
      if (ips > best.imagesPerSecond) best = { ...best, imagesPerSecond: ips, bestBatch: b, runtime };
    };
    for (const b of batches) {
      const data = new Float32Array(b * 3 * h * w);
      for (let i = 0; i < data.length; i++) data[i] = ((i * 2654435761) % 256) / 255;
      const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, [b, 3, h, w]) };
      consider(b, await timeRuns(session, feeds, secondsPerBatch), 'onnxruntime-node');
    }
    await session.release();
    const { stages } = loadBinding();
    for (const sideBySide of [false, true]) {
      for (const b of batches) {
        const r = stages.timeModel(path, b, secondsPerBatch, resolveOrtLibrary(), availableParallelism(), sideBySide);
        // Side by side, a run's time is not the latency of a lone request: only throughput counts.
        if (!sideBySide) consider(b, r.msPerRun, 'pool sessions');
        else if (r.imagesPerSecond > best.imagesPerSecond) {
          best = { ...best, imagesPerSecond: r.imagesPerSecond, bestBatch: b, runtime: 'pool sessions, side by side' };
        }
      }
    }
    models[m.spec.id] = best;
  }
  // One image to each model in turn: the time per image is the mean of the models' times.
  const secondsPerImage =
    workload.models.reduce((sum, m) => sum + 1 / models[m.spec.id]!.imagesPerSecond, 0) / workload.models.length;
  return { models, imagesPerSecond: 1 / secondsPerImage };
}
