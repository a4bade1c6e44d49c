// One warm-up sample in a fresh process (ONNX Runtime's first-run costs are paid once per process):
// creates a pool with one model, `warmup` on or off, then times its first requests as a caller sees
// them. Prints one line `RESULT <json>`.
import { InferencePool } from '../lib/index.ts';
import type { ModelSpec } from '../lib/index.ts';
import { benchImages } from './images.ts';
import { workload } from './workloads.ts';

export interface WarmupJob {
  workload: string;
  warmup: boolean;
}

export interface WarmupSample {
  loadMs: number;
  /** Wall-clock latency of the first ten requests, sent one after another. */
  sequentialMs: number[];
  /** The first request's inference stage alone (ONNX Runtime's run). */
  firstInferenceMs: number;
  medianLaterInferenceMs: number;
  /** Then 16 requests at once: the first batches larger than one. */
  burstMs: number;
}

const job = JSON.parse(process.argv[2]!) as WarmupJob;
const model = workload(job.workload).models[0]!;
const images = await benchImages();
const spec = { ...model.spec, warmup: job.warmup } as ModelSpec;

const loadStart = performance.now();
const pool = await InferencePool.create({ models: [spec] });
const loadMs = performance.now() - loadStart;

const sequentialMs: number[] = [];
const inferenceMs: number[] = [];
for (let i = 0; i < 10; i++) {
  const start = performance.now();
  const result = await pool.infer(images[i % images.length]!.jpeg, spec.id, model.options);
  sequentialMs.push(performance.now() - start);
  inferenceMs.push(result.time.inference);
}
const burstStart = performance.now();
await Promise.all(
  Array.from({ length: 16 }, (_, i) => pool.infer(images[i % images.length]!.jpeg, spec.id, model.options)),
);
const burstMs = performance.now() - burstStart;
await pool.close();

const later = inferenceMs.slice(1).sort((a, b) => a - b);
const sample: WarmupSample = {
  loadMs,
  sequentialMs,
  firstInferenceMs: inferenceMs[0]!,
  medianLaterInferenceMs: later[later.length >> 1]!,
  burstMs,
};
console.log(`RESULT ${JSON.stringify(sample)}`);
